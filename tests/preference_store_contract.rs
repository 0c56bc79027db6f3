//! One contract for the preferences seam (SPEC §12), run against both its sides: the
//! lone server's `FilePreferences` (in memory and on disk) and the cluster's
//! `ClusterPreferences` on a real `nats-server`: nothing kept at first, kept and
//! replaced, kept per key, forgotten (twice without harm).

mod common;

use ssh_chatroom::chat::comfort::Bell;
use ssh_chatroom::cluster::ClusterPreferences;
use ssh_chatroom::preferences::{FilePreferences, Ignored, PreferenceStore, Settings};

async fn contract(store: &dyn PreferenceStore) {
    // A fingerprint has characters no bucket key may have.
    let key = "SHA256:contract+/=";
    assert_eq!(store.load(key).await, Ok(None));
    let settings = Settings {
        bell: Bell::All,
        timestamps: true,
        ignored: vec![Ignored {
            person: "203.0.113.7".into(),
            nick: "troll".into(),
            id: Some(u128::MAX),
        }],
    };
    store.save(key, settings.clone()).await.unwrap();
    assert_eq!(store.load(key).await, Ok(Some(settings.clone())));
    let quieter = Settings {
        bell: Bell::Off,
        ..settings
    };
    store.save(key, quieter.clone()).await.unwrap();
    assert_eq!(store.load(key).await, Ok(Some(quieter)));
    assert_eq!(store.load("SHA256:other").await, Ok(None));
    store.forget(key).await.unwrap();
    assert_eq!(store.load(key).await, Ok(None));
    store.forget(key).await.unwrap();
}

#[tokio::test]
async fn the_in_process_side_keeps_the_contract() {
    contract(&FilePreferences::load(None).unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("preferences.json");
    contract(&FilePreferences::load(Some(path)).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nats_side_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let nats = testkit::NatsServer::start(dir.path()).await;
    let connection = common::nats_node(dir.path(), &nats, "n1").await;
    let store = ClusterPreferences::open(&connection, 1).await.unwrap();
    contract(&store).await;
}
