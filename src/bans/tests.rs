//! Unit tests of the ban list: checks by key and address, scopes, ends, lifting, the
//! limit, the lines it says, and the file it keeps.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    "2026-12-01T15:41:30Z".parse().unwrap()
}

fn bob(minutes: i64) -> Ban {
    Ban {
        name: Some("Bob".into()),
        key: Some("SHA256:bob".into()),
        ip: Some("203.0.113.7".parse().unwrap()),
        room: None,
        until: Some(now() + chrono::Duration::minutes(minutes)),
        reason: "spam".into(),
        by: "alice".into(),
    }
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

#[tokio::test]
async fn a_server_ban_holds_for_the_key_and_the_address_until_it_ends() {
    let bans = BanList::default();
    bans.add(bob(60), now()).await.unwrap();
    assert!(bans
        .check(None, Some("SHA256:bob"), ip("10.0.0.1"), now())
        .is_some());
    assert!(bans.check(None, None, ip("203.0.113.7"), now()).is_some());
    assert!(bans
        .check(Some("rust"), Some("SHA256:bob"), None, now())
        .is_some());
    assert!(bans
        .check(None, Some("SHA256:carol"), ip("10.0.0.1"), now())
        .is_none());
    let later = now() + chrono::Duration::minutes(61);
    assert!(bans.check(None, Some("SHA256:bob"), None, later).is_none());
    assert_eq!(bans.server_bans(later), Vec::<Ban>::new());
}

#[tokio::test]
async fn a_kick_ban_holds_in_its_room_only() {
    let bans = BanList::default();
    let kick = Ban {
        name: None,
        ip: None,
        room: Some("rust".into()),
        ..bob(10)
    };
    bans.add(kick, now()).await.unwrap();
    assert!(bans
        .check(Some("rust"), Some("SHA256:bob"), None, now())
        .is_some());
    assert!(bans
        .check(Some("go"), Some("SHA256:bob"), None, now())
        .is_none());
    assert!(bans.check(None, Some("SHA256:bob"), None, now()).is_none());
    assert!(
        bans.server_bans(now()).is_empty(),
        "/bans lists server bans"
    );
}

#[tokio::test]
async fn a_ban_is_lifted_by_name_key_or_address() {
    let bans = BanList::default();
    for target in ["bob", "SHA256:bob", "203.0.113.7"] {
        bans.add(bob(60), now()).await.unwrap();
        let lifted = bans.lift(target).await.unwrap();
        assert_eq!(lifted.len(), 1, "{target}");
        assert!(bans.check(None, Some("SHA256:bob"), None, now()).is_none());
    }
    assert!(bans.lift("carol").await.unwrap().is_empty());
}

#[tokio::test]
async fn the_list_has_a_limit_and_ended_bans_make_room() {
    let bans = BanList::new(FileBans::in_memory(), Vec::new(), 2, chrono_tz::UTC);
    let on = |n: u8, minutes| Ban {
        name: None,
        key: None,
        ip: Some(IpAddr::from([10, 0, 0, n])),
        ..bob(minutes)
    };
    bans.add(on(1, 1), now()).await.unwrap();
    bans.add(on(2, 60), now()).await.unwrap();
    assert_eq!(bans.add(on(3, 60), now()).await, Err(NotBanned::Full(2)));
    assert_eq!(
        NotBanned::Full(2).to_string(),
        "The ban list is full (2 bans). Lift some with /unban first."
    );
    // banning someone banned already replaces their ban
    assert!(bans.add(on(2, 90), now()).await.is_ok());
    let later = now() + chrono::Duration::minutes(2);
    assert!(bans.add(on(3, 60), later).await.is_ok());
    assert_eq!(bans.len(), 2);
}

#[tokio::test]
async fn the_lines_say_until_when_and_why_in_the_servers_zone() {
    let bans = BanList::new(
        FileBans::in_memory(),
        Vec::new(),
        10,
        chrono_tz::Asia::Seoul,
    );
    let ban = bob(24 * 60);
    assert_eq!(
        bans.refusal(&ban),
        "You are banned from this server until 2026-12-03 00:42 Asia/Seoul (spam)."
    );
    let forever = Ban {
        until: None,
        reason: String::new(),
        ..bob(0)
    };
    assert_eq!(bans.refusal(&forever), "You are banned from this server.");
    bans.add(ban, now()).await.unwrap();
    bans.add(
        Ban {
            name: None,
            key: None,
            until: None,
            ..forever
        },
        now(),
    )
    .await
    .unwrap();
    assert_eq!(
        bans.list_line(now()),
        "Bans (2): 203.0.113.7 forever; \
         Bob (SHA256:bob, 203.0.113.7) until 2026-12-03 00:42 Asia/Seoul, spam"
    );
}

#[tokio::test]
async fn bans_are_kept_in_their_file_and_a_damaged_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/bans.json");
    let (store, loaded) = FileBans::load(path.clone()).unwrap();
    assert!(loaded.is_empty());
    let bans = BanList::new(store, loaded, 10, chrono_tz::UTC);
    bans.add(bob(60), now()).await.unwrap();
    let (store, loaded) = FileBans::load(path.clone()).unwrap();
    assert_eq!(loaded, [bob(60)]);
    let again = BanList::new(store, loaded, 10, chrono_tz::UTC);
    assert!(again.check(None, Some("SHA256:bob"), None, now()).is_some());
    again.lift("bob").await.unwrap();
    assert!(FileBans::load(path.clone()).unwrap().1.is_empty());
    std::fs::write(&path, b"[{").unwrap();
    let error = FileBans::load(path.clone()).err().unwrap().to_string();
    assert!(error.contains("bans.json is damaged"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), b"[{", "kept as it was");
}

#[tokio::test]
async fn a_server_ban_is_announced_to_the_rooms_and_a_kick_ban_is_not() {
    let bans = BanList::default();
    let mut added = bans.added();
    let kick = Ban {
        room: Some("rust".into()),
        ..bob(10)
    };
    bans.add(kick, now()).await.unwrap();
    bans.add(bob(10), now()).await.unwrap();
    assert_eq!(added.recv().await.unwrap(), bob(10));
    assert!(added.try_recv().is_err());
}

#[test]
fn an_id_is_stable_short_and_tells_scopes_and_people_apart() {
    let server = bob(60);
    assert_eq!(
        server.id(),
        bob(5).id(),
        "the same people in the same scope"
    );
    assert_eq!(server.id().len(), 16);
    assert!(server.id().bytes().all(|b| b.is_ascii_hexdigit()));
    let kick = Ban {
        room: Some("rust".into()),
        ..bob(60)
    };
    let by_key = Ban {
        ip: None,
        ..bob(60)
    };
    assert_ne!(server.id(), kick.id());
    assert_ne!(server.id(), by_key.id());
    // FNV-1a of "|SHA256:bob|203.0.113.7", pinned: ids already kept must stay valid
    assert_eq!(server.id(), "13ef5f718d9ca246");
}
