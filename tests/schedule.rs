//! `/schedule`: exact replies, errors, listing, cancelling, firing on the minute (with an
//! injected clock), persistence across a restart, and the fate of a departed author's
//! messages.

mod common;

use chrono::{DateTime, Utc};
use common::{TestClient, TestServer};
use ssh_chatroom::log::LogSink;
use ssh_chatroom::names::NameRegistry;
use ssh_chatroom::room::schedule::ScheduleBook;
use ssh_chatroom::room::{
    new_participant_id, Clock, Delivery, JoinRequest, Room, RoomConfig, RoomHandle,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn ticker_fires_on_the_minute_with_a_paused_clock() {
    let clock = Clock::starting_at(utc("2026-11-24T15:29:12.345Z"));
    let config = RoomConfig {
        name: "test".into(),
        capacity: 10,
        admin_keys: Default::default(),
        max_message_bytes: 1024,
        history: 20,
        max_schedules_per_user: 5,
        tz: chrono_tz::UTC,
        message_rate: 0.0,
        message_burst: 5,
        motd: Vec::new(),
        batch_notices_above: 0,
        max_co_admins: 5,
        default_room: "#lobby".into(),
        creator_is_admin: false,
        kick_ban: std::time::Duration::ZERO,
    };
    let room = RoomHandle::spawn(Room::new(
        config,
        ScheduleBook::default(),
        LogSink::disabled(),
        clock.clone(),
        NameRegistry::load(None, 3).unwrap(),
    ));
    let (outbox, mut inbox) = mpsc::channel(64);
    let me = room
        .join(JoinRequest {
            id: new_participant_id(),
            nickname: "Charlie".into(),
            key: None,
            addr: None,
            outbox,
            kill: CancellationToken::new(),
            transcript: "Charlie".into(),
            creator: false,
            code: None,
        })
        .await
        .unwrap();
    room.input(me.id, "/schedule 15:30 Meeting starts soon".into())
        .await;
    room.input(me.id, "/schedule 15:31 Second".into()).await;
    let mut fired = Vec::new();
    while fired.len() < 2 {
        let Some(Delivery::Line(line)) = inbox.recv().await else {
            continue;
        };
        if line.text.starts_with("[Scheduled by") {
            fired.push((line.text.clone(), clock.now()));
        }
    }
    assert_eq!(fired[0].0, "[Scheduled by Charlie] Meeting starts soon");
    assert_eq!(fired[1].0, "[Scheduled by Charlie] Second");
    for ((_, at), minute) in fired
        .iter()
        .zip(["2026-11-24T15:30:00Z", "2026-11-24T15:31:00Z"])
    {
        let late = *at - utc(minute);
        assert!(
            late >= chrono::Duration::zero() && late < chrono::Duration::milliseconds(2),
            "fired {late} after {minute}"
        );
    }
}

async fn joined(server: &TestServer, name: &str) -> TestClient {
    TestClient::joined(server.port(), name).await
}

/// The clock stands still at 15:29 until everyone is in and the message is scheduled,
/// then moves to 15:30: no race with a real second.
#[tokio::test]
async fn scheduled_message_reaches_everyone_at_its_minute() {
    let (clock, hands) = Clock::manual(utc("2026-11-24T15:29:00Z"));
    let server = TestServer::start_with(|_| {}, clock).await;
    let mut alice = joined(&server, "Alice").await;
    let mut charlie = joined(&server, "Charlie").await;
    charlie
        .send_line("/schedule 15:30 Meeting starts soon")
        .await;
    charlie
        .expect("[Server]: Message scheduled for 15:30 (2026-11-24, UTC).")
        .await;
    hands.set(utc("2026-11-24T15:30:00Z"));
    let seen = alice
        .expect("[Scheduled by Charlie] Meeting starts soon")
        .await;
    assert!(
        !seen.contains("Message scheduled"),
        "only the scheduler is told"
    );
    charlie
        .expect("[Scheduled by Charlie] Meeting starts soon")
        .await;
}

#[tokio::test]
async fn past_time_means_tomorrow_and_errors_are_clear() {
    let (clock, _hands) = Clock::manual(utc("2026-11-24T15:29:00Z"));
    let server = TestServer::start_with(|_| {}, clock).await;
    let mut bob = joined(&server, "Bob").await;
    bob.send_line("/schedule 09:00 breakfast").await;
    bob.expect("[Server]: Message scheduled for 09:00 (2026-11-25, UTC).")
        .await;
    for bad in ["24:00", "9:5", "ab:cd"] {
        bob.send_line(&format!("/schedule {bad} text")).await;
        bob.expect(&format!(
            "[Server]: Invalid time \"{bad}\". Use HH:MM on a 24-hour clock (00:00 to 23:59)."
        ))
        .await;
    }
    bob.send_line("/schedule 10:00").await;
    bob.expect("[Server]: Usage: /schedule HH:MM <message>")
        .await;
    for n in 2..=5 {
        bob.send_line(&format!("/schedule 1{n}:00 message {n}"))
            .await;
        bob.expect("Message scheduled").await;
    }
    bob.send_line("/schedule 20:00 one too many").await;
    bob.expect("[Server]: You already have 5 scheduled messages. Cancel one with /unschedule N.")
        .await;
    bob.send_line("/schedule").await;
    bob.expect("[Server]: Your scheduled messages:").await;
    bob.expect("[Server]:   1. 09:00 (2026-11-25) breakfast")
        .await;
    bob.expect("[Server]:   5. 15:00 (2026-11-25) message 5")
        .await;
    bob.send_line("/unschedule 1").await;
    bob.expect("[Server]: Scheduled message 1 cancelled.").await;
    bob.send_line("/unschedule 9").await;
    bob.expect("[Server]: You have no scheduled message number 9.")
        .await;
    bob.send_line("/schedule").await;
    let list = bob
        .expect("[Server]:   4. 15:00 (2026-11-25) message 5")
        .await;
    assert!(!list.contains("breakfast"));
}

#[tokio::test]
async fn pending_messages_survive_a_restart_and_outlive_their_author() {
    let (clock, _hands) = Clock::manual(utc("2026-11-24T15:00:00Z"));
    let server = TestServer::start_with(|_| {}, clock).await;
    let mut charlie = joined(&server, "Charlie").await;
    charlie
        .send_line("/schedule 15:30 Meeting starts soon")
        .await;
    charlie.expect("Message scheduled for 15:30").await;
    let (dir, config) = server.stop().await;
    let saved = std::fs::read_to_string(dir.path().join("data/schedules.json")).unwrap();
    assert!(saved.contains("Meeting starts soon"), "{saved}");

    let (clock, hands) = Clock::manual(utc("2026-11-24T15:29:00Z"));
    let server = TestServer::start_in(dir, config, clock).await;
    let mut alice = joined(&server, "Alice").await;
    hands.set(utc("2026-11-24T15:30:00Z"));
    alice
        .expect("[Scheduled by Charlie] Meeting starts soon")
        .await;
}

#[tokio::test]
async fn kicked_authors_messages_are_dropped_and_others_kept() {
    let (clock, hands) = Clock::manual(utc("2026-11-24T15:29:00Z"));
    let server = TestServer::start_with(|_| {}, clock).await;
    let mut admin = joined(&server, "Boss").await;
    let mut leaver = joined(&server, "Leaver").await;
    let mut rogue = joined(&server, "Rogue").await;
    rogue.send_line("/schedule 15:30 spam from rogue").await;
    rogue.expect("Message scheduled").await;
    leaver.send_line("/schedule 15:30 note from leaver").await;
    leaver.expect("Message scheduled").await;
    leaver.send_line("/quit").await;
    leaver.expect_closed().await;
    admin.send_line("/kick Rogue").await;
    admin.expect("Rogue has been kicked").await;
    // the kick saved the schedule before it was announced: the rogue's message is gone
    let pending = std::fs::read_to_string(server.path("data/schedules.json")).unwrap();
    assert!(
        !pending.contains("rogue") && pending.contains("leaver"),
        "{pending}"
    );
    hands.set(utc("2026-11-24T15:30:00Z"));
    let seen = admin.expect("[Scheduled by Leaver] note from leaver").await;
    assert!(!seen.contains("spam from rogue"));
}
