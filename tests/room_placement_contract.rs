//! One contract for the placement seam (issue 18 item 6), `RoomPlacement` as the room
//! directory above it drives it, run against both its sides: `RoomsHere`, a lone
//! server's rooms in this process, and `ClusterRooms`, two nodes on a real `nats-server`.
//! A behaviour only one side has is a bug this finds: who makes a room (and so is its
//! admin), two claimants making one room at once, the room as every entry point sees
//! it, the bus from a session to the room (`RoomBus` on the NATS side), the room's end,
//! the limit on rooms. What only a cluster has, a holder that stops renewing its lease
//! and a room taken over, is in `room_placement_takeover.rs`: a lone server's one holder
//! lives exactly as long as the process.

mod common;
mod placement;

use std::sync::Arc;
use std::time::Duration;

use ssh_chatroom::cluster::RENEW_EVERY;
use ssh_chatroom::room::{EnterError, RoomDirectory};
use testkit::NatsServer;

use placement::{enter, lone, node, room, two_hours_on, until};

/// How long a side may take to show a change of its rooms everywhere: a cluster's
/// entry points see the rooms through the leases, renewed every [`RENEW_EVERY`], and
/// end an empty room on a renewal; a lone server at once.
const SETTLED: Duration = Duration::from_secs(10);

/// What every side of the seam must do; `a` and `b` are two entry points into one chat
/// (one lone server twice, or two nodes).
async fn contract(a: Arc<RoomDirectory>, b: Arc<RoomDirectory>) {
    // Nobody has entered anything yet: the default room is there all the same.
    for at in [&a, &b] {
        let rooms = at.rooms_line().await.text;
        assert_eq!(rooms, "[Server]: Rooms (1): #lobby (0/10)");
        assert!(at.handle(&room("#nowhere")).await.is_none());
    }

    // Claims: the first to enter a room makes it and is its admin; the room keeps its
    // first spelling; the next entrant, through the other entry point, is not admin.
    let mut alice = enter(&a, "#Den", "alice").await.unwrap();
    assert!(alice.is_admin(), "{:?}", alice.welcome);
    assert_eq!(alice.shown, "#Den");
    let mut bob = enter(&b, "#den", "bob").await.unwrap();
    assert!(!bob.is_admin(), "{:?}", bob.welcome);
    assert_eq!(bob.shown, "#Den");
    assert!(bob
        .welcome
        .contains(&"[Server]: Users (2/10): alice, bob".to_string()));
    alice.expect("[Server]: bob has joined the chat.").await;
    // Every entry point sees the one room, and who is in it.
    for at in [&a, &b] {
        let users = at
            .handle(&room("#DEN"))
            .await
            .expect("the room")
            .users()
            .await;
        assert_eq!(
            users.expect("an answer").text,
            "[Server]: Users (2/10): alice, bob"
        );
        until("the room listed with its two", SETTLED, || async {
            at.rooms_line().await.text.contains("#Den (2/10)")
        })
        .await;
    }
    // Lines reach every member once, in order.
    alice.say("one").await;
    bob.say("two").await;
    for person in [&mut alice, &mut bob] {
        let read = person.expect("bob >> two").await;
        let ones = read.iter().filter(|l| *l == "alice >> one").count();
        assert_eq!(ones, 1, "{read:?}");
    }

    // The bus from a session to the room, wherever it runs: every call answers.
    for person in [&mut alice, &mut bob] {
        assert_eq!(person.handle.occupancy().await, Some((2, 10)));
        let names = person.handle.names().await.expect("an answer");
        assert_eq!(names, ["alice", "bob"]);
        let slot = person
            .handle
            .input_slot()
            .await
            .expect("a place in the queue");
        assert!(slot.send(person.id, "taken".into()).await.unwrap_or(false));
        let slot = person
            .handle
            .input_slot()
            .await
            .expect("a place in the queue");
        let refused = slot.send(person.id, "x".repeat(2000)).await;
        assert!(!refused.unwrap_or(false), "an over-long line is refused");
        person
            .expect("[Server]: Message too long (max 1024 bytes).")
            .await;
    }

    // Two claimants make one room at once, one through each entry point: one makes
    // it, and both are in the same room.
    let (carol, dave) = tokio::join!(enter(&a, "#race", "carol"), enter(&b, "#race", "dave"));
    let (carol, dave) = (carol.unwrap(), dave.unwrap());
    assert_eq!(
        [carol.is_admin(), dave.is_admin()]
            .iter()
            .filter(|a| **a)
            .count(),
        1,
        "one admin: {:?} {:?}",
        carol.welcome,
        dave.welcome
    );
    let users = carol.handle.users().await.expect("an answer").text;
    assert!(users.starts_with("[Server]: Users (2/10): "), "{users}");

    // A room with a message pending outlives its members; one without ends, and is
    // made anew (history gone, a new admin) by the next to enter it.
    bob.say(&format!("/schedule {} later", two_hours_on()))
        .await;
    bob.expect("[Server]: Message scheduled for").await;
    carol.say("before the end").await;
    for (directory, person) in [(&a, &alice), (&b, &bob)] {
        directory.leave(&room("#den"), person.id).await;
    }
    a.leave(&room("#race"), carol.id).await;
    b.leave(&room("#race"), dave.id).await;
    for at in [&a, &b] {
        until("#race ended", SETTLED, || async {
            at.handle(&room("#race")).await.is_none()
        })
        .await;
    }
    // #Den, emptied first, would have ended by now too (a cluster ends an empty room at
    // a renewal of its lease, a lone server at once): its pending message keeps it.
    tokio::time::sleep(RENEW_EVERY * 2).await;
    for at in [&a, &b] {
        assert!(
            at.handle(&room("#den")).await.is_some(),
            "#Den outlived its members"
        );
    }
    let erin = enter(&b, "#race", "erin").await.unwrap();
    assert!(erin.is_admin(), "{:?}", erin.welcome);
    assert!(
        !erin.welcome.iter().any(|l| l.contains("before the end")),
        "{:?}",
        erin.welcome
    );
    let frank = enter(&a, "#den", "frank").await.unwrap();
    assert!(
        frank.welcome.contains(&"alice >> one".to_string()),
        "{:?}",
        frank.welcome
    );
}

/// At most `max_rooms` rooms, the default room counted whether or not anyone entered
/// it yet: with room for two, one more room can be made.
async fn limit(a: Arc<RoomDirectory>, b: Arc<RoomDirectory>) {
    let _alice = enter(&a, "#one", "alice").await.unwrap();
    match enter(&b, "#two", "bob").await {
        Err(EnterError::TooManyRooms(2)) => {}
        Err(other) => panic!("refused otherwise: {other:?}"),
        Ok(_) => panic!("a third room was made with --max-rooms 2"),
    }
    // Existing rooms can still be entered.
    let bob = enter(&b, "#one", "bob").await.unwrap();
    assert_eq!(bob.shown, "#one");
    let _carol = enter(&a, "#lobby", "carol").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_side_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let here = lone(dir.path(), 100);
    contract(here.clone(), here).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nats_side_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let a = node(dir.path(), &nats.url(), "n1", 100).await;
    let b = node(dir.path(), &nats.url(), "n2", 100).await;
    contract(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_side_keeps_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let here = lone(dir.path(), 2);
    limit(here.clone(), here).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nats_side_keeps_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let a = node(dir.path(), &nats.url(), "n1", 2).await;
    let b = node(dir.path(), &nats.url(), "n2", 2).await;
    limit(a, b).await;
}
