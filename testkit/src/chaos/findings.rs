//! Every failure of a soak in words, with its evidence: which check, which line, which
//! users on which nodes, when (seconds into the soak and UTC), where the room logged the
//! line, and what the nodes' logs said about NATS and takeovers around then.

use std::collections::BTreeMap;
use std::time::Duration;

use super::deliveries::Missing;
use super::evidence::text_of;
use super::ledger::Answer;
use super::nodes::Nodes;
use super::report::Report;
use super::roster::LineId;

/// How many examples of each kind of failure are described.
const EXAMPLES: usize = 8;
/// How far around a missing line the nodes' logs are quoted.
const AROUND: Duration = Duration::from_secs(6);

impl Report {
    /// One paragraph per failure (at most [`EXAMPLES`] of each kind), empty if passed.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.answer_failures(&mut out);
        self.delivery_failures(&mut out);
        self.ghost_failures(&mut out);
        self.recovery_failures(&mut out);
        out
    }

    fn names(&self) -> Vec<String> {
        self.snap.users.iter().map(|u| u.name.clone()).collect()
    }

    /// `chaos u07 15 (u07 on n2, typed +12.3 s (..Z))`.
    fn line_words(&self, id: LineId) -> String {
        let names = self.names();
        let Some(line) = self.ledger.lines.get(&id) else {
            return text_of(&names, id);
        };
        format!(
            "`{}` ({} on {}, typed {})",
            text_of(&names, id),
            names[id.0],
            Nodes::name(line.node),
            self.evidence.when(line.sent)
        )
    }

    fn answer_failures(&self, out: &mut Vec<String>) {
        let bad = self
            .ledger
            .lines
            .values()
            .filter(|l| matches!(l.answer, Answer::Late(_) | Answer::Lost));
        for line in bad.take(EXAMPLES) {
            let how = match line.answer {
                Answer::Late(at) => format!(
                    "answered only after {:.2} s",
                    at.saturating_duration_since(line.sent).as_secs_f64()
                ),
                _ => "never echoed nor refused while its session stayed open".into(),
            };
            let logged = self.evidence.logged(&text_of(&self.names(), line.id));
            out.push(format!(
                "check 1: {} {how}; reached {} receivers; room log: {}",
                self.line_words(line.id),
                line.receipts.len(),
                logged_words(&logged)
            ));
        }
    }

    fn delivery_failures(&self, out: &mut Vec<String>) {
        let names = self.names();
        let d = &self.deliveries;
        // By line: who missed it, on which nodes, and what those nodes logged then.
        let mut by_line: BTreeMap<LineId, Vec<&Missing>> = BTreeMap::new();
        for m in &d.missing {
            by_line.entry(m.line).or_default().push(m);
        }
        for (id, missed) in by_line.iter().take(EXAMPLES) {
            let line = &self.ledger.lines[id];
            let carried = line.room_time().unwrap_or(line.sent);
            let mut nodes: Vec<usize> = Vec::new();
            let who: Vec<String> = missed
                .iter()
                .map(|m| {
                    let node = self.snap.sessions[m.user][m.session].node;
                    if !nodes.contains(&node) {
                        nodes.push(node);
                    }
                    format!("{} ({})", names[m.user], Nodes::name(node))
                })
                .collect();
            let mut text = format!(
                "check 2: {} carried out {} never reached {} of the {} members present throughout: {}; room log: {}",
                self.line_words(*id),
                self.evidence.when(carried),
                missed.len(),
                missed.len() + line.receipts.len(),
                who.join(", "),
                logged_words(&self.evidence.logged(&text_of(&names, *id)))
            );
            nodes.sort_unstable();
            for node in nodes {
                for l in self
                    .evidence
                    .cluster_lines(&Nodes::name(node), carried, AROUND)
                {
                    text.push_str(&format!("\n    {l}"));
                }
            }
            out.push(text);
        }
        if by_line.len() > EXAMPLES {
            out.push(format!(
                "check 2: ... {} lines missed by someone, {} missing deliveries in all",
                by_line.len(),
                d.missing.len()
            ));
        }
        for (id, user, copies) in d.duplicates.iter().take(EXAMPLES) {
            out.push(format!(
                "check 2: {} reached {} {copies} times",
                self.line_words(*id),
                names[*user]
            ));
        }
        for (id, user) in d.refused_delivered.iter().take(EXAMPLES) {
            let refusal = self.ledger.lines[id].refusal.clone().unwrap_or_default();
            out.push(format!(
                "check 2: {} was refused ({refusal}) and yet reached {}",
                self.line_words(*id),
                names[*user]
            ));
        }
        for o in d.out_of_order.iter().chain(&d.disagreements).take(EXAMPLES) {
            let against = match o.other {
                None => "its sender's numbering".to_string(),
                Some(b) => format!("{}, who saw them the other way round", names[b]),
            };
            out.push(format!(
                "check 2: {} saw {} after {}, against {against}",
                names[o.user],
                self.line_words(o.earlier),
                self.line_words(o.later)
            ));
        }
    }

    fn ghost_failures(&self, out: &mut Vec<String>) {
        for (k, q) in self.quiet.iter().enumerate() {
            let when = match k {
                0 => "before the first fault".to_string(),
                k if k == self.quiet.len() - 1 => "at the end".to_string(),
                k => format!("before fault {}", k + 1),
            };
            if !q.not_back.is_empty() {
                out.push(format!(
                    "check 3 ({when}): not back in their room within 30 s: {}",
                    q.not_back.join(", ")
                ));
            }
            for f in &q.findings {
                out.push(format!(
                    "check 3 ({when}): {} asked by {} through {} at {}: `{}`; ghosts {:?}, missing {:?}, listed twice {:?}{}",
                    f.room,
                    f.asker,
                    Nodes::name(f.node),
                    self.evidence.when(f.at),
                    f.answer,
                    f.ghosts,
                    f.missing,
                    f.doubled,
                    if f.miscounted { ", count wrong" } else { "" }
                ));
            }
        }
    }

    fn recovery_failures(&self, out: &mut Vec<String>) {
        for (k, f) in self.faults.iter().enumerate() {
            for r in f.rooms.iter().filter(|r| !r.in_time()) {
                let how = match (r.after, r.line) {
                    (Some(after), Some(id)) => format!(
                        "took {:.2} s (first line to reach everyone: {})",
                        after.as_secs_f64(),
                        self.line_words(id)
                    ),
                    _ => "never: no line typed before the next fault reached every present member"
                        .into(),
                };
                out.push(format!(
                    "check 4: fault {} ({} {} at {}): {} {how}; {} lines typed after the fault before it",
                    k + 1,
                    f.fault.kind.describe(),
                    f.fault.target,
                    self.evidence.when(f.fault.at),
                    self.snap.rooms[r.room],
                    r.before_it
                ));
            }
        }
    }
}

fn logged_words(logged: &[String]) -> String {
    match logged {
        [] => "not logged by any node".into(),
        lines => lines.join(" | "),
    }
}
