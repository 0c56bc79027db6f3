//! Unit tests of the name registry: claims, renames, registrations and their file.

use super::*;

fn online(id: ParticipantId, key: Option<&str>) -> Claim {
    Claim {
        id,
        nick: String::new(),
        room: "#lobby".into(),
        key: key.map(str::to_string),
        node: String::new(),
        addr: None,
        away: None,
    }
}

async fn claim(names: &NameRegistry, raw: &str, who: Claim) -> Result<Nickname, NicknameError> {
    names.claim(raw, who).await.map(|(nick, _)| nick)
}

fn registry() -> NameRegistry {
    NameRegistry::load(None, 3).unwrap()
}

#[tokio::test]
async fn a_name_is_one_persons_across_the_server_ignoring_case_and_look_alikes() {
    let names = registry();
    let alice = claim(&names, "Alice", online(1, None)).await.unwrap();
    assert_eq!(
        claim(&names, "alice", online(2, None))
            .await
            .unwrap_err()
            .to_string(),
        "The nickname \"alice\" is already taken."
    );
    // Cyrillic "А" posing as Latin "A"
    assert!(claim(&names, "Аlice", online(2, None)).await.is_err());
    let renamed = names.rename(1, &alice, "Alice2").await.unwrap();
    assert!(
        claim(&names, "Alice", online(2, None)).await.is_ok(),
        "the old name is free"
    );
    assert_eq!(names.find("alice2").await.unwrap().id, 1);
    names.release(renamed.as_str(), 1).await;
    assert!(names.find("Alice2").await.is_none());
}

#[tokio::test]
async fn a_registered_name_is_refused_to_every_other_key_and_to_no_key() {
    let names = registry();
    let alice = claim(&names, "alice", online(1, Some("SHA256:a")))
        .await
        .unwrap();
    assert_eq!(
        names.register(&alice, Some("SHA256:a")).await,
        "The nickname \"alice\" is now registered to your key (SHA256:a)."
    );
    names.release(alice.as_str(), 1).await;
    let refused = "The nickname \"ALICE\" is registered to another key.";
    let other = claim(&names, "ALICE", online(2, Some("SHA256:b"))).await;
    assert_eq!(other.unwrap_err().to_string(), refused);
    let anonymous = claim(&names, "ALICE", online(3, None)).await;
    assert_eq!(anonymous.unwrap_err().to_string(), refused);
    let bob = claim(&names, "bob", online(2, Some("SHA256:b")))
        .await
        .unwrap();
    assert_eq!(
        names
            .rename(2, &bob, "alice")
            .await
            .unwrap_err()
            .to_string(),
        "The nickname \"alice\" is registered to another key."
    );
    assert_eq!(
        names.free_registered_name("SHA256:a").await.as_deref(),
        Ok("alice")
    );
    assert!(claim(&names, "alice", online(4, Some("SHA256:a")))
        .await
        .is_ok());
    assert_eq!(
        names.free_registered_name("SHA256:a").await,
        Err(vec!["alice".to_string()]),
        "in use now"
    );
    assert_eq!(names.free_registered_name("SHA256:x").await, Err(vec![]));
}

#[tokio::test]
async fn registering_needs_a_key_and_stops_at_the_limit() {
    let names = registry();
    let anon = claim(&names, "anon", online(1, None)).await.unwrap();
    assert_eq!(
        names.register(&anon, None).await,
        "/register needs an SSH key (connect with one, e.g. after ssh-keygen -t ed25519)."
    );
    let key = Some("SHA256:k");
    for (id, name) in [(2, "alice"), (3, "al"), (4, "b2")] {
        let nick = claim(&names, name, online(id, key)).await.unwrap();
        assert!(names
            .register(&nick, key)
            .await
            .contains("is now registered"));
    }
    let fourth = claim(&names, "a2", online(5, key)).await.unwrap();
    assert_eq!(
        names.register(&fourth, key).await,
        "Your key already has 3 registered nicknames (alice, al, b2). /unregister one first."
    );
}

#[tokio::test]
async fn unregistering_is_for_the_owner_or_a_server_admin() {
    let names = registry();
    let key = Some("SHA256:k");
    let alice = claim(&names, "alice", online(1, key)).await.unwrap();
    names.register(&alice, key).await;
    assert_eq!(
        names.unregister("alice", Some("SHA256:x"), false).await,
        "The nickname \"alice\" is registered to another key."
    );
    assert_eq!(
        names.unregister("bob", key, false).await,
        "The nickname \"bob\" is not registered."
    );
    assert_eq!(
        names.unregister("ALICE", Some("SHA256:admin"), true).await,
        "The nickname \"alice\" is no longer registered."
    );
}

#[tokio::test]
async fn whois_says_where_and_whose() {
    let names = registry();
    let key = Some("SHA256:k");
    let alice = claim(&names, "alice", online(1, key)).await.unwrap();
    names.moved(&alice, 1, "#rust").await;
    assert_eq!(
        names.whois("Alice").await.unwrap(),
        "alice is in #rust; key SHA256:k; not registered."
    );
    names.register(&alice, key).await;
    assert_eq!(
        names.whois("alice").await.unwrap(),
        "alice is in #rust; key SHA256:k; registered."
    );
    claim(&names, "anon", online(2, None)).await.unwrap();
    assert_eq!(
        names.whois("anon").await.unwrap(),
        "anon is in #lobby; no key; not registered."
    );
    names.release(alice.as_str(), 1).await;
    assert_eq!(
        names.whois("alice").await.unwrap(),
        "alice is not online; registered to key SHA256:k."
    );
    assert_eq!(
        names.whois("nobody").await.unwrap_err(),
        "No user named \"nobody\" is online."
    );
}

#[tokio::test]
async fn registrations_survive_a_restart_and_a_damaged_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.json");
    let names = NameRegistry::load(Some(path.clone()), 3).unwrap();
    let key = Some("SHA256:k");
    let alice = claim(&names, "alice", online(1, key)).await.unwrap();
    names.register(&alice, key).await;
    let again = NameRegistry::load(Some(path.clone()), 3).unwrap();
    assert_eq!(
        again.free_registered_name("SHA256:k").await.as_deref(),
        Ok("alice")
    );
    std::fs::write(&path, "[{\"name\": \"al").unwrap();
    let err = NameRegistry::load(Some(path), 3).err().unwrap().to_string();
    assert!(err.contains("names.json is damaged"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_a_hundred_simultaneous_claims_of_one_name_exactly_one_wins() {
    let names = registry();
    let claims: Vec<_> = (0..100u128)
        .map(|id| {
            let names = names.clone();
            tokio::spawn(async move { claim(&names, "prize", online(id, None)).await.is_ok() })
        })
        .collect();
    let mut winners = 0;
    for c in claims {
        winners += usize::from(c.await.unwrap());
    }
    assert_eq!(winners, 1);
}
