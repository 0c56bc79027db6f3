//! Unit tests of the name registry: claims, renames, registrations and their file.

use tokio::sync::mpsc;

use super::*;

fn online(id: ParticipantId, key: Option<&str>) -> Online {
    let (outbox, _) = mpsc::channel(1);
    Online {
        id,
        nick: String::new(),
        room: "#lobby".into(),
        key: key.map(str::to_string),
        outbox,
        kill: CancellationToken::new(),
        transcript: Arc::from("x"),
    }
}

fn registry() -> NameRegistry {
    NameRegistry::load(None, 3).unwrap()
}

#[test]
fn a_name_is_one_persons_across_the_server_ignoring_case_and_look_alikes() {
    let names = registry();
    let alice = names.claim("Alice", online(1, None)).unwrap();
    assert_eq!(
        names
            .claim("alice", online(2, None))
            .unwrap_err()
            .to_string(),
        "The nickname \"alice\" is already taken."
    );
    // Cyrillic "А" posing as Latin "A"
    assert!(names.claim("Аlice", online(2, None)).is_err());
    let renamed = names.rename(&alice, "Alice2").unwrap();
    assert!(
        names.claim("Alice", online(2, None)).is_ok(),
        "the old name is free"
    );
    assert_eq!(names.find("alice2").unwrap().id, 1);
    names.release(renamed.as_str(), 1);
    assert!(names.find("Alice2").is_none());
}

#[test]
fn a_registered_name_is_refused_to_every_other_key_and_to_no_key() {
    let names = registry();
    let alice = names.claim("alice", online(1, Some("SHA256:a"))).unwrap();
    assert_eq!(
        names.register(&alice, Some("SHA256:a")),
        "The nickname \"alice\" is now registered to your key (SHA256:a)."
    );
    names.release(alice.as_str(), 1);
    let refused = "The nickname \"ALICE\" is registered to another key.";
    let other = names.claim("ALICE", online(2, Some("SHA256:b")));
    assert_eq!(other.unwrap_err().to_string(), refused);
    let anonymous = names.claim("ALICE", online(3, None));
    assert_eq!(anonymous.unwrap_err().to_string(), refused);
    let bob = names.claim("bob", online(2, Some("SHA256:b"))).unwrap();
    assert_eq!(
        names.rename(&bob, "alice").unwrap_err().to_string(),
        "The nickname \"alice\" is registered to another key."
    );
    assert_eq!(
        names.free_registered_name("SHA256:a").as_deref(),
        Some("alice")
    );
    assert!(names.claim("alice", online(4, Some("SHA256:a"))).is_ok());
    assert_eq!(names.free_registered_name("SHA256:a"), None, "in use now");
}

#[test]
fn registering_needs_a_key_and_stops_at_the_limit() {
    let names = registry();
    let anon = names.claim("anon", online(1, None)).unwrap();
    assert_eq!(
        names.register(&anon, None),
        "/register needs an SSH key (connect with one, e.g. after ssh-keygen -t ed25519)."
    );
    let key = Some("SHA256:k");
    for (id, name) in [(2, "alice"), (3, "al"), (4, "b2")] {
        let nick = names.claim(name, online(id, key)).unwrap();
        assert!(names.register(&nick, key).contains("is now registered"));
    }
    let fourth = names.claim("a2", online(5, key)).unwrap();
    assert_eq!(
        names.register(&fourth, key),
        "Your key already has 3 registered nicknames (alice, al, b2). /unregister one first."
    );
}

#[test]
fn unregistering_is_for_the_owner_or_a_server_admin() {
    let names = registry();
    let key = Some("SHA256:k");
    let alice = names.claim("alice", online(1, key)).unwrap();
    names.register(&alice, key);
    assert_eq!(
        names.unregister("alice", Some("SHA256:x"), false),
        "The nickname \"alice\" is registered to another key."
    );
    assert_eq!(
        names.unregister("bob", key, false),
        "The nickname \"bob\" is not registered."
    );
    assert_eq!(
        names.unregister("ALICE", Some("SHA256:admin"), true),
        "The nickname \"alice\" is no longer registered."
    );
}

#[test]
fn whois_says_where_and_whose() {
    let names = registry();
    let key = Some("SHA256:k");
    let alice = names.claim("alice", online(1, key)).unwrap();
    names.moved(&alice, 1, "#rust");
    assert_eq!(
        names.whois("Alice").unwrap(),
        "alice is in #rust; key SHA256:k; not registered."
    );
    names.register(&alice, key);
    assert_eq!(
        names.whois("alice").unwrap(),
        "alice is in #rust; key SHA256:k; registered."
    );
    names.claim("anon", online(2, None)).unwrap();
    assert_eq!(
        names.whois("anon").unwrap(),
        "anon is in #lobby; no key; not registered."
    );
    names.release(alice.as_str(), 1);
    assert_eq!(
        names.whois("alice").unwrap(),
        "alice is not online; registered to key SHA256:k."
    );
    assert_eq!(
        names.whois("nobody").unwrap_err(),
        "No user named \"nobody\" is online."
    );
}

#[test]
fn registrations_survive_a_restart_and_a_damaged_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.json");
    let names = NameRegistry::load(Some(path.clone()), 3).unwrap();
    let key = Some("SHA256:k");
    let alice = names.claim("alice", online(1, key)).unwrap();
    names.register(&alice, key);
    let again = NameRegistry::load(Some(path.clone()), 3).unwrap();
    assert_eq!(
        again.free_registered_name("SHA256:k").as_deref(),
        Some("alice")
    );
    std::fs::write(&path, "[{\"name\": \"al").unwrap();
    let err = NameRegistry::load(Some(path), 3).err().unwrap().to_string();
    assert!(err.contains("names.json is damaged"), "{err}");
}

#[test]
fn of_a_hundred_simultaneous_claims_of_one_name_exactly_one_wins() {
    let names = registry();
    let winners: usize = std::thread::scope(|s| {
        let claims: Vec<_> = (0..100u128)
            .map(|id| {
                let names = names.clone();
                s.spawn(move || names.claim("prize", online(id, None)).is_ok())
            })
            .collect();
        claims
            .into_iter()
            .map(|c| usize::from(c.join().unwrap()))
            .sum()
    });
    assert_eq!(winners, 1);
}
