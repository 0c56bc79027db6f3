//! Races that must come out right in a cluster (SPEC §10): two nodes claiming one
//! nickname or making one room at the same instant, a hundred simultaneous claims of
//! one name, and a scheduled message due while its room moves to another node.

mod cluster;
mod common;
mod scrape;

use chrono::TimeZone;
use cluster::Cluster;
use common::TestClient;
use ssh_chatroom::cluster::{Cluster as Nats, ClusterNames};
use ssh_chatroom::names::{Claim, NameRegistry};
use ssh_chatroom::room::Clock;

#[tokio::test]
async fn two_nodes_claiming_one_name_or_making_one_room_at_once() {
    let cluster = Cluster::start(2, |_| {}).await;
    let (a, b) = tokio::join!(
        TestClient::join(cluster.port(0), "same"),
        TestClient::join(cluster.port(1), "same"),
    );
    let answers = ["Welcome to", "already taken"];
    let (seen_a, seen_b) = (until_any(&a, &answers).await, until_any(&b, &answers).await);
    let welcomed = [&seen_a, &seen_b]
        .iter()
        .filter(|s| s.contains("Welcome to #lobby, same!"))
        .count();
    assert_eq!(welcomed, 1, "{seen_a}\n{seen_b}");
    let mut carol = TestClient::joined(cluster.port(0), "carol").await;
    let mut dave = TestClient::joined(cluster.port(1), "dave").await;
    carol.send_line("/join race").await;
    dave.send_line("/join race").await;
    carol.expect("[Server]: Welcome to #race, carol!").await;
    dave.expect("[Server]: Welcome to #race, dave!").await;
    carol.send_line("/user").await;
    let either_order = [
        "[Server]: Users (2/10): carol, dave",
        "[Server]: Users (2/10): dave, carol",
    ];
    until_any(&carol, &either_order).await;
}

/// Everything `client` has seen once it contains one of `needles` (waited for).
async fn until_any(client: &TestClient, needles: &[&str]) -> String {
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        let seen = client.transcript.text();
        if needles.iter().any(|n| seen.contains(n)) {
            return seen;
        }
        assert!(tokio::time::Instant::now() < deadline, "no answer: {seen}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_a_hundred_claims_of_one_name_on_three_connections_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let nats = testkit::NatsServer::start(dir.path()).await;
    let mut registries = Vec::new();
    for i in 0..3 {
        let mut config = common::test_config(dir.path());
        config.cluster = vec![nats.url()];
        config.node_name = Some(format!("n{i}"));
        let connection = Nats::connect(&config).await.unwrap();
        let names = ClusterNames::open(&connection).await.unwrap();
        registries.push(NameRegistry::new(names, 3));
    }
    let claims: Vec<_> = (0..100u128)
        .map(|id| {
            let names = registries[id as usize % 3].clone();
            tokio::spawn(async move {
                let who = Claim {
                    id,
                    nick: String::new(),
                    room: "#lobby".into(),
                    key: None,
                    node: format!("n{}", id % 3),
                    addr: None,
                    away: None,
                };
                names.claim("prize", who).await.is_ok()
            })
        })
        .collect();
    let mut winners = 0;
    for claim in claims {
        winners += usize::from(claim.await.unwrap());
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn a_message_due_while_its_room_moves_is_sent_once() {
    let start = chrono::Utc
        .with_ymd_and_hms(2026, 11, 30, 9, 0, 30)
        .unwrap();
    let (clock, hands) = Clock::manual(start);
    let dir = tempfile::tempdir().unwrap();
    let nats = testkit::NatsServer::start(dir.path()).await;
    let n1 = cluster::node_on(&nats, "n1", clock.clone()).await;
    let n2 = cluster::node_on(&nats, "n2", clock.clone()).await;
    // #ops runs on n1, where alice made it; bob, on n2, schedules a message in it
    let mut alice = TestClient::joined(n1.port(), "alice").await;
    alice.send_line("/join ops").await;
    alice.expect("[Server]: Welcome to #ops, alice!").await;
    let mut bob = TestClient::joined(n2.port(), "bob").await;
    bob.send_line("/join ops").await;
    bob.expect("[Server]: Welcome to #ops, bob!").await;
    bob.send_line("/schedule 09:01 once only").await;
    bob.expect("[Server]: Message scheduled for 09:01").await;
    // n1 stops (its rooms are handed on) just as the minute comes
    let (stopped, ()) = tokio::join!(n1.stop(), async {
        hands.set(chrono::Utc.with_ymd_and_hms(2026, 11, 30, 9, 1, 0).unwrap());
    });
    drop(stopped);
    bob.expect("[Scheduled by bob] once only").await;
    // the room now runs on n2; it has sent what was due before taking this line
    bob.send_line("marker").await;
    let seen = bob.expect("bob >> marker").await;
    let text = bob.transcript.text();
    assert_eq!(
        text.matches("[Scheduled by bob] once only").count(),
        1,
        "{seen}\n{text}"
    );
}

/// Many people of one node entering a room run elsewhere at the same instant: the node
/// follows the room once (a mirror made twice at once used to leak a subscription), and
/// not at all once they have all left it.
#[tokio::test]
async fn a_room_entered_by_many_at_once_is_followed_once_and_dropped_after() {
    let cluster = Cluster::start(2, |c| c.metrics = Some("127.0.0.1:0".parse().unwrap())).await;
    let mut alice = TestClient::joined(cluster.port(0), "alice").await;
    alice.send_line("/join #go").await;
    alice.expect("[Server]: Welcome to #go, alice!").await;
    let n2 = &cluster.nodes[1];
    let mut people = Vec::new();
    for i in 0..8 {
        people.push(TestClient::joined(n2.port(), &format!("p{i}")).await);
    }
    futures_util::future::join_all(people.iter().map(|p| p.send_line("/join #go"))).await;
    for (i, p) in people.iter_mut().enumerate() {
        p.expect(&format!("[Server]: Welcome to #go, p{i}!")).await;
    }
    let followed = |s: &scrape::Scrape| s.value("ssh_chatroom_rooms_followed", None);
    // n2 follows #go once (and the lobby no more: everyone here left it).
    let seen = scrape::wait_for(n2.metrics_addr(), |s| followed(s) <= 1.0).await;
    assert_eq!(followed(&seen), 1.0, "{}", seen.text);
    for p in &people {
        p.send_line("/join #lobby").await;
    }
    for (i, p) in people.iter_mut().enumerate() {
        p.expect(&format!("[Server]: Welcome to #lobby, p{i}!"))
            .await;
    }
    alice.send_line("still here").await;
    alice.expect("alice >> still here").await;
    let seen = scrape::wait_for(n2.metrics_addr(), |s| followed(s) <= 1.0).await;
    assert_eq!(followed(&seen), 1.0, "the lobby alone: {}", seen.text);
}
