//! Check 3 at a quiet point (before each fault, and at the end): once every user is back
//! in its room, `/user` asked in each room through each node names exactly the users
//! connected to that room, each once. A list that still differs when the bound is over
//! is a ghost finding.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::roster::{Roster, Typed};

/// How long every user has to be back in its room.
const BACK_WITHIN: Duration = Duration::from_secs(30);
/// How long the lists have to become exact once everyone is back (the SPEC's 5 s for a
/// dead node's people to leave, twice).
const EXACT_WITHIN: Duration = Duration::from_secs(10);
/// How long one `/user` may take to be answered.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// A `/user` list that was not exact.
#[derive(Clone, Debug)]
pub struct ListFinding {
    pub room: String,
    /// Who asked, and through which node.
    pub asker: String,
    pub node: usize,
    pub at: Instant,
    /// The answer as shown.
    pub answer: String,
    /// Listed but not connected to the room.
    pub ghosts: Vec<String>,
    /// Connected to the room but not listed.
    pub missing: Vec<String>,
    /// Listed more than once.
    pub doubled: Vec<String>,
    /// The count shown differs from the names listed.
    pub miscounted: bool,
}

/// What one quiet point found.
#[derive(Clone, Debug, Default)]
pub struct QuietPoint {
    /// Lists asked for and compared.
    pub lists: usize,
    pub findings: Vec<ListFinding>,
    /// Users not back in their room within [`BACK_WITHIN`].
    pub not_back: Vec<String>,
    /// How long it took until every user was back.
    pub back_after: Duration,
    /// Rooms (through one node each) for which no answer could be judged: nobody left
    /// there to ask, no answer within 5 s, or people kept coming and going.
    pub unjudged: usize,
}

/// Waits for every user to be back, then compares each room's `/user` as seen through
/// each node with who is connected, asking again until it matches or
/// [`EXACT_WITHIN`] is over.
pub async fn check(roster: &Arc<Roster>) -> QuietPoint {
    let mut point = QuietPoint::default();
    let started = Instant::now();
    point.not_back = wait_all_back(roster).await;
    point.back_after = started.elapsed();
    let deadline = Instant::now() + EXACT_WITHIN;
    // Each room through each node that has one of its members: (room, node) pairs.
    let mut pending: Vec<(usize, usize)> = Vec::new();
    for u in 0..roster.users.len() {
        if let Some((_, node, _)) = roster.current(u) {
            let pair = (roster.users[u].room, node);
            if !pending.contains(&pair) {
                pending.push(pair);
            }
        }
    }
    let mut last: Vec<Option<ListFinding>> = vec![None; pending.len()];
    let mut done = vec![false; pending.len()];
    loop {
        for (k, &(room, node)) in pending.iter().enumerate() {
            if done[k] {
                continue;
            }
            match ask(roster, room, node).await {
                Some(None) => done[k] = true,
                Some(Some(finding)) => last[k] = Some(finding),
                None => continue,
            }
            point.lists += 1;
        }
        if done.iter().all(|&d| d) || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for k in (0..pending.len()).filter(|&k| !done[k]) {
        match last[k].take() {
            Some(finding) => point.findings.push(finding),
            None => point.unjudged += 1,
        }
    }
    point
}

/// Waits until every user has an open session in its room; returns who is not back
/// within [`BACK_WITHIN`].
async fn wait_all_back(roster: &Roster) -> Vec<String> {
    let everyone: Vec<usize> = (0..roster.users.len()).collect();
    wait_in(roster, &everyone, BACK_WITHIN).await
}

/// Waits until each user of `who` has an open session in its room; returns who is not
/// in within `within`.
pub async fn wait_in(roster: &Roster, who: &[usize], within: Duration) -> Vec<String> {
    let mut changes = roster.changes();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let out: Vec<String> = who
            .iter()
            .filter(|&&u| roster.current(u).is_none())
            .map(|&u| roster.users[u].name.clone())
            .collect();
        if out.is_empty() {
            return out;
        }
        if tokio::time::timeout_at(deadline, changes.changed())
            .await
            .is_err()
        {
            return out;
        }
    }
}

/// Asks `/user` in `room` through a member on `node` and compares: `Some(None)` exact,
/// `Some(Some(finding))` not, `None` when it cannot be judged (nobody there to ask, no
/// answer, or someone came or went meanwhile).
async fn ask(roster: &Roster, room: usize, node: usize) -> Option<Option<ListFinding>> {
    let asker = (0..roster.users.len()).find(|&u| {
        roster.users[u].room == room && roster.current(u).is_some_and(|(_, n, _)| n == node)
    })?;
    let (s, _, writer) = roster.current(asker)?;
    let generation = roster.generation();
    let asked = Instant::now();
    roster.type_into(asker, s, &writer, Typed::Users).await;
    let deadline = asked + ANSWER_WITHIN;
    let answer = loop {
        if let Some(answer) = roster.users_answers(asker, s, asked).into_iter().next() {
            break answer;
        }
        if Instant::now() >= deadline || roster.is_closed(asker, s) {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    if roster.generation() != generation {
        return None;
    }
    let finding = compare(&answer, &roster.members(room));
    Some(finding.map(|f| ListFinding {
        room: roster.rooms[room].clone(),
        asker: roster.users[asker].name.clone(),
        node,
        at: asked,
        ..f
    }))
}

/// Compares a `[Server]: Users (n/cap): a, b` line with the names expected; `None`
/// when exact.
pub fn compare(answer: &str, expected: &[String]) -> Option<ListFinding> {
    let rest = answer.strip_prefix("[Server]: Users (").unwrap_or(answer);
    let (counts, names) = rest.split_once("): ").unwrap_or((rest, ""));
    let shown: usize = counts
        .split('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    let listed: Vec<&str> = names.split(", ").filter(|n| !n.is_empty()).collect();
    let mut doubled: Vec<String> = Vec::new();
    for (i, name) in listed.iter().enumerate() {
        if listed[..i].contains(name) && !doubled.iter().any(|d| d == name) {
            doubled.push(name.to_string());
        }
    }
    let mut ghosts: Vec<String> = Vec::new();
    for name in &listed {
        if !expected.iter().any(|e| e == name) && !ghosts.iter().any(|g| g == name) {
            ghosts.push(name.to_string());
        }
    }
    let missing: Vec<String> = expected
        .iter()
        .filter(|e| !listed.contains(&e.as_str()))
        .cloned()
        .collect();
    let miscounted = shown != listed.len();
    let exact = ghosts.is_empty() && missing.is_empty() && doubled.is_empty() && !miscounted;
    (!exact).then(|| ListFinding {
        room: String::new(),
        asker: String::new(),
        node: 0,
        at: Instant::now(),
        answer: answer.to_string(),
        ghosts,
        missing,
        doubled,
        miscounted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_exact_list_passes_and_ghosts_missing_and_doubles_are_named() {
        let expected = names(&["u00", "u02"]);
        assert!(compare("[Server]: Users (2/50): u02, u00", &expected).is_none());
        let f = compare("[Server]: Users (3/50): u00, u04, u04", &expected).unwrap();
        assert_eq!(f.ghosts, ["u04"]);
        assert_eq!(f.missing, ["u02"]);
        assert_eq!(f.doubled, ["u04"]);
        assert!(!f.miscounted);
        let f = compare("[Server]: Users (3/50): u00, u02", &expected).unwrap();
        assert!(f.miscounted && f.ghosts.is_empty() && f.missing.is_empty());
    }
}
