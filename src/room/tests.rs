//! Unit tests of the room's logic, driven synchronously with plain channels: no sockets,
//! no actor, no clock but an anchored one.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::schedule::ScheduleBook;
use std::sync::Arc;

use super::{
    new_participant_id, Clock, Delivery, JoinError, JoinRequest, LocalMember, ParticipantId, Room,
    RoomConfig,
};
use crate::log::LogSink;
use crate::names::NameRegistry;

/// A room's settings for unit tests: `capacity` places, no limits in the way.
pub(super) fn config(capacity: usize) -> RoomConfig {
    RoomConfig {
        name: "test".into(),
        capacity,
        admin_keys: Default::default(),
        max_message_bytes: 1024,
        history: 2,
        max_schedules_per_user: 5,
        tz: chrono_tz::UTC,
        message_rate: 0.0,
        message_burst: 5,
        motd: Vec::new(),
        batch_notices_above: 0,
        max_co_admins: 5,
        default_room: "#lobby".into(),
        creator_is_admin: false,
        kick_ban: std::time::Duration::from_secs(600),
    }
}

fn room(capacity: usize) -> Room {
    let config = config(capacity);
    let clock = Clock::Anchored {
        wall: "2026-11-24T12:00:00Z".parse().unwrap(),
        instant: tokio::time::Instant::now(),
    };
    Room::new(
        config,
        ScheduleBook::default(),
        LogSink::disabled(),
        clock,
        NameRegistry::load(None, 3).unwrap(),
    )
}

#[derive(Debug)]
struct Member {
    id: ParticipantId,
    inbox: mpsc::Receiver<Delivery>,
    kill: CancellationToken,
}

impl Member {
    /// Every line received so far.
    fn lines(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(d) = self.inbox.try_recv() {
            out.extend(d.lines().iter().map(|l| l.text.clone()));
        }
        out
    }
}

fn join_with(room: &mut Room, name: &str, outbox: usize) -> Result<Member, JoinError> {
    let (tx, inbox) = mpsc::channel(outbox);
    let kill = CancellationToken::new();
    let request = JoinRequest {
        id: new_participant_id(),
        nickname: name.into(),
        key: None,
        addr: None,
        outbox: tx,
        kill: kill.clone(),
        transcript: Arc::from(name),
        creator: false,
        code: None,
    };
    let entrant = request.entrant("").map_err(JoinError::Nickname)?;
    let local = LocalMember::new(request.id, request.reach());
    let joined = room.join(entrant, Some(local))?;
    Ok(Member {
        id: joined.id,
        inbox,
        kill,
    })
}

fn join(room: &mut Room, name: &str) -> Member {
    join_with(room, name, 64).unwrap()
}

#[test]
fn full_room_refuses_without_telling_anyone() {
    let mut r = room(2);
    let mut a = join(&mut r, "a");
    let _b = join(&mut r, "b");
    a.lines();
    let refused = join_with(&mut r, "c", 64).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "The chat room is full (2/2). Please try again later."
    );
    assert!(a.lines().is_empty());
}

#[tokio::test]
async fn history_keeps_the_last_public_lines() {
    let mut r = room(10);
    let a = join(&mut r, "a");
    for text in ["one", "two", "three"] {
        r.input(a.id, text).await;
    }
    let mut late = join(&mut r, "late");
    let welcome = late.lines();
    assert_eq!(welcome[..2], ["a >> two", "a >> three"]);
}

#[tokio::test]
async fn a_participant_with_a_full_outbox_is_dropped_and_cut() {
    let mut r = room(10);
    let mut a = join(&mut r, "a");
    let slow = join_with(&mut r, "slow", 8).unwrap();
    for n in 0..20 {
        r.input(a.id, &format!("line {n}")).await;
    }
    assert!(slow.kill.is_cancelled());
    let lines = a.lines();
    assert!(lines.contains(&"[Server]: slow has left the chat.".to_string()));
    assert_eq!(r.occupancy().0, 1);
    let stats = r.take_stats();
    assert_eq!((stats.messages, stats.drops), (20, 1));
    assert_eq!(r.take_stats().messages, 0, "the summary counts reset");
}

#[tokio::test]
async fn control_characters_never_reach_other_participants() {
    let mut r = room(10);
    let a = join(&mut r, "a");
    let mut b = join(&mut r, "b");
    b.lines();
    r.input(a.id, "hi\x1b[2J\x07\u{202E}there").await;
    assert_eq!(b.lines(), ["a >> hi[2Jthere"]);
}

#[test]
fn leaving_admin_hands_over_to_the_longest_present() {
    let mut r = room(10);
    let a = join(&mut r, "a");
    let mut b = join(&mut r, "b");
    let _c = join(&mut r, "c");
    b.lines();
    r.leave(a.id);
    assert_eq!(
        b.lines(),
        [
            "[Server]: a has left the chat.",
            "[Server]: b is now the admin."
        ]
    );
}

#[test]
fn the_user_list_of_a_huge_room_names_the_first_hundred() {
    let mut r = room(500);
    let members: Vec<Member> = (0..150)
        .map(|n| join_with(&mut r, &format!("u{n}"), 256).unwrap())
        .collect();
    let line = r.users_line().text;
    assert!(
        line.starts_with("[Server]: Users (150/500): u0, u1, "),
        "{line}"
    );
    assert!(line.ends_with("u99 and 50 more"), "{line}");
    assert_eq!(members.len(), 150);
}

#[test]
fn a_crowded_room_gathers_join_and_leave_notices_into_summary_lines() {
    let mut r = room(10);
    r.state().config.batch_notices_above = 2;
    let mut a = join(&mut r, "a");
    let mut b = join(&mut r, "b");
    assert_eq!(
        a.lines().last().unwrap(),
        "[Server]: b has joined the chat."
    );
    // The third and later arrivals make the room crowded: nothing is said yet.
    let mut c = join(&mut r, "c");
    let mut d = join(&mut r, "d");
    assert!(a.lines().is_empty());
    let early = r.state().notices_due().expect("notices are waiting");
    r.leave(b.id);
    assert!(b.lines().iter().all(|l| !l.contains("joined")));
    assert_eq!(
        r.state().notices_due(),
        Some(early),
        "the first notice sets the time"
    );
    c.lines();
    d.lines();
    r.flush_notices();
    assert_eq!(
        a.lines(),
        [
            "[Server]: c and d have joined the chat.",
            "[Server]: b has left the chat."
        ]
    );
    // Newcomers are not told about themselves, only about who left.
    assert_eq!(c.lines(), ["[Server]: b has left the chat."]);
    assert_eq!(d.lines(), ["[Server]: b has left the chat."]);
    assert_eq!(r.state().notices_due(), None);
}

#[tokio::test]
async fn waiting_notices_go_out_before_the_next_line_anyone_sees() {
    let mut r = room(10);
    r.state().config.batch_notices_above = 1;
    let mut a = join(&mut r, "a");
    a.lines();
    let c = join(&mut r, "c");
    assert!(a.lines().is_empty());
    r.input(c.id, "hello").await;
    assert_eq!(
        a.lines(),
        ["[Server]: c has joined the chat.", "c >> hello"]
    );
}
