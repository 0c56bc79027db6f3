//! One contract for the bans seam, run against both its sides: a lone server's
//! `FileBans` (`data/bans.json`) and the cluster's `ClusterBans` on a real `nats-server`.
//! A ban is kept, checked by key and by address, scoped to a room or the server, replaced
//! by a second one on the same people, lifted, and past its end no longer held; what the
//! store keeps is what a fresh list over it holds. On the NATS side a second node's list
//! sees every change.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ssh_chatroom::bans::{Ban, BanList, FileBans};
use ssh_chatroom::cluster::ClusterBans;

fn now() -> DateTime<Utc> {
    "2026-12-01T15:00:00Z".parse().unwrap()
}

fn on(key: &str, ip: &str, room: Option<&str>, minutes: i64) -> Ban {
    Ban {
        name: Some("bob".into()),
        key: Some(key.into()),
        ip: Some(ip.parse().unwrap()),
        room: room.map(str::to_string),
        until: Some(now() + chrono::Duration::minutes(minutes)),
        reason: "spam".into(),
        by: "root".into(),
    }
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

/// What every side must do, through `list` over its store; `watcher` is a list that
/// learns of the changes another way (a second node's), or `list` itself.
async fn contract(list: &BanList, watcher: &BanList) {
    list.add(on("SHA256:bob", "10.0.0.2", None, 60), now())
        .await
        .unwrap();
    list.add(on("SHA256:bob", "10.0.0.2", Some("rust"), 10), now())
        .await
        .unwrap();
    until(watcher, |w| w.len() == 2).await;
    for seen in [list, watcher] {
        assert!(seen.check(None, Some("SHA256:bob"), None, now()).is_some());
        assert!(seen.check(None, None, ip("10.0.0.2"), now()).is_some());
        assert!(seen
            .check(None, Some("SHA256:carol"), ip("10.0.0.3"), now())
            .is_none());
        let kick = seen.check(
            Some("rust"),
            Some("SHA256:bob"),
            None,
            now() + chrono::Duration::minutes(61),
        );
        assert!(kick.is_none(), "both ended by then");
        assert_eq!(
            seen.server_bans(now()).len(),
            1,
            "a kick-ban is no server ban"
        );
    }
    // a second ban on the same people replaces the first
    list.add(on("SHA256:bob", "10.0.0.2", None, 120), now())
        .await
        .unwrap();
    let later = now() + chrono::Duration::minutes(90);
    until(watcher, |w| {
        w.check(None, Some("SHA256:bob"), None, later).is_some()
    })
    .await;
    assert_eq!(list.len(), 2);
    // lifted by the name it was made under
    assert_eq!(list.lift("BOB").await.unwrap().len(), 1);
    until(watcher, |w| {
        w.check(None, Some("SHA256:bob"), None, now()).is_none()
    })
    .await;
    assert!(list.lift("bob").await.unwrap().is_empty());
}

/// Waits until `list` satisfies `ready` (a watch delivers changes a moment later).
async fn until(list: &BanList, ready: impl Fn(&BanList) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !ready(list) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the change never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_in_process_side_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bans.json");
    let (store, kept) = FileBans::load(path.clone()).unwrap();
    let list = BanList::new(store, kept, 100, chrono_tz::UTC);
    contract(&list, &list).await;
    // what the file keeps is what a fresh list over it holds: the kick-ban
    let (_, kept) = FileBans::load(path).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].room.as_deref(), Some("rust"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nats_side_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let nats = testkit::NatsServer::start(dir.path()).await;
    let one = common::nats_node(dir.path(), &nats, "n1").await;
    let two = common::nats_node(dir.path(), &nats, "n2").await;
    let list = BanList::new(ClusterBans::open(&one), Vec::new(), 100, chrono_tz::UTC);
    ClusterBans::open(&one).follow(list.clone()).await.unwrap();
    let watcher = BanList::new(ClusterBans::open(&two), Vec::new(), 100, chrono_tz::UTC);
    ClusterBans::open(&two)
        .follow(watcher.clone())
        .await
        .unwrap();
    contract(&list, &watcher).await;
    // a node started now finds what is kept: the kick-ban
    let three = common::nats_node(dir.path(), &nats, "n3").await;
    let fresh = BanList::new(ClusterBans::open(&three), Vec::new(), 100, chrono_tz::UTC);
    ClusterBans::open(&three)
        .follow(fresh.clone())
        .await
        .unwrap();
    until(&fresh, |f| f.len() == 1).await;
    assert!(fresh
        .check(Some("rust"), Some("SHA256:bob"), None, now())
        .is_some());
}
