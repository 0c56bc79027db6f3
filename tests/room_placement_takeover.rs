//! What only the cluster's side of the placement seam has (issue 18 item 6): a holder
//! that stops renewing its lease loses the room, and one node takes it over with the
//! room's state; the old holder, back, answers nothing for it.

mod common;
mod placement;

use ssh_chatroom::chat::room_name::RoomName;
use ssh_chatroom::cluster::{LEASE, RENEW_EVERY, SETTLE};
use ssh_chatroom::room::{EnterError, JoinError};
use testkit::{NatsServer, Partition};

use common::WAIT;
use placement::{enter, enter_with_key, node, room, two_hours_on, until};

/// The node holding `room`'s lease, read from the leases bucket.
async fn holder(js: &async_nats::jetstream::Context, room: &RoomName) -> Option<String> {
    let leases = js.get_key_value("chat_leases").await.ok()?;
    let value = leases
        .get(ssh_chatroom::cluster::key_of(room.key()))
        .await
        .ok()??;
    let lease: serde_json::Value = serde_json::from_slice(&value).ok()?;
    lease["node"].as_str().map(str::to_string)
}

/// The snapshot of `room` a next holder would take over from.
async fn snapshot(
    js: &async_nats::jetstream::Context,
    room: &RoomName,
) -> Option<ssh_chatroom::room::RoomSnapshot> {
    let rooms = js.get_key_value("chat_rooms").await.ok()?;
    let value = rooms
        .get(ssh_chatroom::cluster::key_of(room.key()))
        .await
        .ok()??;
    serde_json::from_slice(&value).ok()
}

/// The last line of `room`'s history kept for a next holder (the stream `chat_history`).
async fn last_kept_line(js: &async_nats::jetstream::Context, room: &RoomName) -> Option<String> {
    let stream = js.get_stream("chat_history").await.ok()?;
    let subject = format!("chat.history.{}", ssh_chatroom::cluster::key_of(room.key()));
    let kept = stream
        .get_last_raw_message_by_subject(&subject)
        .await
        .ok()?;
    let line: ssh_chatroom::chat::line::ChatLine = serde_json::from_slice(&kept.payload).ok()?;
    Some(line.text)
}

/// A holder that stops renewing (its route to NATS cut) loses the room once its lease
/// lapses; of the two nodes with members in it, one takes it over, with its history, its
/// admin, its bans and its pending message; the old holder, back, does not take it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_lease_is_taken_over_by_one_node_with_the_rooms_state() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path()).await;
    let route = Partition::start(nats.url()[7..].parse().unwrap()).await;
    let n1 = node(dir.path(), &route.url(), "n1", 100).await;
    let n2 = node(dir.path(), &nats.url(), "n2", 100).await;
    let n3 = node(dir.path(), &nats.url(), "n3", 100).await;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let den = room("#den");

    // #den runs on n1, made there by alice; bob (n2), carol (n3) and mallory (n2) in it.
    let alice = enter(&n1, "#den", "alice").await.unwrap();
    assert!(alice.is_admin());
    let mut bob = enter(&n2, "#den", "bob").await.unwrap();
    let mut carol = enter(&n3, "#den", "carol").await.unwrap();
    let mut mallory = enter(&n2, "#den", "mallory").await.unwrap();
    assert_eq!(holder(&js, &den).await.as_deref(), Some("n1"));
    alice.say("before").await;
    bob.say(&format!("/schedule {} still here", two_hours_on()))
        .await;
    bob.expect("[Server]: Message scheduled for").await;
    alice.say("/kick mallory").await;
    mallory
        .expect("[Server]: You have been kicked from the chat.")
        .await;
    carol
        .expect("[Server]: mallory has been kicked from the chat.")
        .await;
    // alice leaves: bob, the earliest left, is admin.
    n1.leave(&den, alice.id).await;
    bob.expect("[Server]: bob is now the admin.").await;
    // What a next holder needs is stored (a snapshot is written at most every 250 ms;
    // the history line by line).
    until("the snapshot holds the room's state", WAIT, || async {
        snapshot(&js, &den).await.is_some_and(|s| {
            let bob_admin = s.members.iter().any(|m| m.nick == "bob" && m.admin);
            bob_admin && s.bans.len() == 1 && s.schedules.len() == 1
        })
    })
    .await;
    until("the history holds the room's line", WAIT, || async {
        last_kept_line(&js, &den).await.as_deref() == Some("alice >> before")
    })
    .await;

    // n1 stops renewing; its lease lapses and n2 or n3 takes #den over.
    route.cut();
    let takeover = LEASE + RENEW_EVERY + SETTLE + WAIT;
    until("another node holds #den", takeover, || async {
        holder(&js, &den).await.is_some_and(|n| n != "n1")
    })
    .await;
    let new_holder = holder(&js, &den).await.unwrap();

    // One room: a line reaches the others once.
    bob.say("after").await;
    bob.say("and again").await;
    let read = carol.expect("bob >> and again").await;
    assert_eq!(
        read.iter().filter(|l| *l == "bob >> after").count(),
        1,
        "{read:?}"
    );
    // Its history, members and admin came over.
    let dave = enter(&n3, "#den", "dave").await.unwrap();
    assert!(!dave.is_admin(), "{:?}", dave.welcome);
    assert!(
        dave.welcome.contains(&"alice >> before".to_string()),
        "{:?}",
        dave.welcome
    );
    assert!(
        dave.welcome
            .contains(&"[Server]: Users (3/10): bob, carol, dave".to_string()),
        "{:?}",
        dave.welcome
    );
    bob.say("/kick bob").await;
    bob.expect("[Server]: You cannot kick yourself.").await;
    carol.say("/kick bob").await;
    carol.expect("[Server]: Only an admin can use /kick.").await;
    // Its pending message came over.
    bob.say("/schedule").await;
    bob.expect("still here").await;
    // Its bans came over (recognised by key).
    match enter_with_key(&n2, "#den", "mallory2", "mallory").await {
        Err(EnterError::Join(JoinError::Banned { .. })) => {}
        Err(other) => panic!("refused otherwise: {other:?}"),
        Ok(_) => panic!("mallory came back after the takeover"),
    }

    // n1 back: it finds the lease held by another and does not take the room back.
    route.heal();
    let erin = enter(&n1, "#den", "erin").await.unwrap();
    assert!(
        erin.welcome
            .contains(&"[Server]: Users (4/10): bob, carol, dave, erin".to_string()),
        "{:?}",
        erin.welcome
    );
    bob.expect("[Server]: erin has joined the chat.").await;
    assert_eq!(holder(&js, &den).await, Some(new_holder));
}
