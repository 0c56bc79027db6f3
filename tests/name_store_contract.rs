//! One contract for the names seam (issue 18 item 6), run against both its sides: the
//! in-process `MemoryNames` of a lone server and the cluster's `ClusterNames` on a real
//! `nats-server`. A behaviour only one side has is a bug this finds: claims (taken,
//! refused, updated, freed only by their holder), twenty claimants racing for one
//! name, and registrations (one owner per name, listed oldest first, removed).

mod common;

use std::sync::Arc;

use ssh_chatroom::cluster::ClusterNames;
use ssh_chatroom::names::{Claim, MemoryNames, NameStore, Registration, Registrations};

fn claim(id: u128, room: &str) -> Claim {
    Claim {
        id,
        nick: "alice".into(),
        room: room.into(),
        key: None,
        node: String::new(),
        addr: None,
        away: None,
    }
}

fn registration(name: &str, key: &str) -> Registration {
    Registration {
        name: name.into(),
        name_key: name.to_lowercase(),
        key: key.into(),
    }
}

/// What every side of the seam must do.
async fn contract(store: Arc<dyn NameStore>) {
    // A claim is taken once; another claimant is refused; the holder may update it.
    assert_eq!(store.online("alice").await, Ok(None));
    assert_eq!(store.take("alice", claim(1, "#lobby")).await, Ok(Ok(true)));
    let held = store.online("alice").await.unwrap().expect("held");
    assert_eq!((held.id, held.room.as_str()), (1, "#lobby"));
    assert_eq!(store.take("alice", claim(2, "#lobby")).await, Ok(Err(())));
    assert_eq!(store.take("alice", claim(1, "#rust")).await, Ok(Ok(false)));
    let moved = store.online("alice").await.unwrap().expect("still held");
    assert_eq!((moved.id, moved.room.as_str()), (1, "#rust"));
    // Only its holder frees it.
    store.free("alice", 2).await;
    assert!(store.online("alice").await.unwrap().is_some());
    store.free("alice", 1).await;
    assert_eq!(store.online("alice").await, Ok(None));
    assert_eq!(store.take("alice", claim(2, "#lobby")).await, Ok(Ok(true)));
    // Found by id under whatever name it holds (`/reply` after a rename).
    let by_id = store.online_with_ids(&[2, 999]).await.unwrap();
    assert_eq!(by_id.iter().map(|c| c.id).collect::<Vec<_>>(), [2]);
    assert_eq!(store.online_with_ids(&[999]).await, Ok(Vec::new()));

    // Twenty claimants at once: exactly one wins.
    let racing: Vec<_> = (100..120u128)
        .map(|id| {
            let store = store.clone();
            tokio::spawn(async move { store.take("bob", claim(id, "#lobby")).await })
        })
        .collect();
    let mut won = 0;
    for race in racing {
        match race.await.unwrap() {
            Ok(Ok(true)) => won += 1,
            Ok(Err(())) => {}
            other => panic!("a claimant got {other:?}"),
        }
    }
    assert_eq!(won, 1);

    // Registrations: one owner per name, listed oldest first, removed.
    assert_eq!(store.registration("carol").await, Ok(None));
    assert_eq!(
        store.register(registration("carol", "SHA256:k")).await,
        Ok(true)
    );
    assert_eq!(
        store.register(registration("Carol", "SHA256:other")).await,
        Ok(false)
    );
    assert_eq!(
        store.register(registration("dave", "SHA256:k")).await,
        Ok(true)
    );
    let owner = store
        .registration("carol")
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(owner.key, "SHA256:k");
    let names: Vec<String> = store
        .registrations_of("SHA256:k")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["carol", "dave"]);
    store.unregister("carol").await.unwrap();
    assert_eq!(store.registration("carol").await, Ok(None));
    let left = store.registrations_of("SHA256:k").await.unwrap();
    assert_eq!(left.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_side_keeps_the_contract() {
    let store = MemoryNames::new(Registrations::load(None).unwrap());
    contract(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nats_side_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let nats = testkit::NatsServer::start(dir.path()).await;
    let connection = common::nats_node(dir.path(), &nats, "n1").await;
    let store = ClusterNames::open(&connection).await.unwrap();
    contract(Arc::new(store)).await;
}
