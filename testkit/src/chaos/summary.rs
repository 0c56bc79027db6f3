//! The human summary of a soak: the lines and their answers, the deliveries, the
//! `/user` lists, each fault with each room's recovery, and the four verdicts.

use super::report::Report;

impl Report {
    /// The human summary (several lines).
    pub fn summary(&self) -> String {
        let a = self.answers();
        let d = &self.deliveries;
        let mut out = vec![format!("chaos: {}", self.setup)];
        out.push(format!(
            "  lines: {} typed, {} echoed, {} refused, {} cut, {} lost ({} answered after 5 s)",
            a.sent,
            a.echoed,
            a.refused,
            a.cut,
            a.lost + a.late,
            a.late
        ));
        for (text, n) in &self.ledger.refusals {
            out.push(format!("    refused {n}x: {text}"));
        }
        out.push(format!(
            "  deliveries: {} arrivals, {} owed to members present throughout, {} missing ({} lines), {} duplicated, {} refused yet delivered, {} out of a sender's order, {} order disagreements",
            d.arrivals,
            d.expected,
            d.missing.len(),
            d.missing_lines(),
            d.duplicates.len(),
            d.refused_delivered.len(),
            d.out_of_order.len(),
            d.disagreements.len()
        ));
        let lists: usize = self.quiet.iter().map(|q| q.lists).sum();
        let not_back: usize = self.quiet.iter().map(|q| q.not_back.len()).sum();
        let unjudged: usize = self.quiet.iter().map(|q| q.unjudged).sum();
        out.push(format!(
            "  /user: {} quiet points, {lists} lists asked, {} not exact, {not_back} users not back within 30 s, {unjudged} rooms unjudged",
            self.quiet.len(),
            self.ghost_lists()
        ));
        for (k, f) in self.faults.iter().enumerate() {
            let rooms: Vec<String> = f
                .rooms
                .iter()
                .map(|r| {
                    let name = &self.snap.rooms[r.room];
                    match r.after {
                        Some(after) => format!("{name} {} ms", after.as_millis()),
                        None => format!("{name} NEVER"),
                    }
                })
                .collect();
            out.push(format!(
                "  fault {} at {}: {} {} ({}); recovery: {}",
                k + 1,
                self.evidence.when(f.fault.at),
                f.fault.kind.describe(),
                f.fault.target,
                f.fault.note,
                rooms.join(", ")
            ));
        }
        let checks = [
            ("1 echoed or refused", self.answered_ok()),
            ("2 exactly once, in order", self.delivered_ok()),
            ("3 no ghosts", self.no_ghosts_ok()),
            ("4 recovery within 5 s", self.recovered_ok()),
        ];
        let verdicts: Vec<String> = checks
            .iter()
            .map(|(name, ok)| format!("{name}: {}", if *ok { "ok" } else { "FAILED" }))
            .collect();
        out.push(format!("  checks: {}", verdicts.join("; ")));
        out.push(format!("  node folders: {}", self.dir.display()));
        out.join("\n")
    }
}
