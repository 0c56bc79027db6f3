//! Names owned by keys (SPEC §9), seen by the people involved: registering, a second key
//! refused at join and on /rename, the owner landing under their name as `chat@`, the
//! limit per key, unregistering, and registrations surviving a restart.

mod common;

use common::{key_fingerprint, user_key, Mode, TestClient, TestServer};
use ssh_chatroom::room::Clock;

#[tokio::test]
async fn a_registered_name_is_kept_for_its_key_across_a_restart() {
    let server = TestServer::start().await;
    let key = user_key();
    let fingerprint = key_fingerprint(&key);
    let mut alice = TestClient::connect(server.port(), "alice", Some(key.clone()), Mode::Pty).await;
    alice.expect("Type /help").await;
    alice.send_line("/register").await;
    alice
        .expect(&format!(
            "[Server]: The nickname \"alice\" is now registered to your key ({fingerprint})."
        ))
        .await;
    alice.send_line("/quit").await;
    alice.expect_closed().await;
    let (dir, config) = server.stop().await;
    let server = TestServer::start_in(dir, config, Clock::System).await;

    // another key asking for it, in any case or look-alike, gets the prompt
    let mut thief = TestClient::join(server.port(), "ALICE").await;
    thief
        .expect("[Server]: The nickname \"ALICE\" is registered to another key. Please choose another nickname.")
        .await;
    thief.expect("Nickname: ").await;
    thief.send_line("mallory").await;
    thief.expect("Welcome to #lobby, mallory!").await;
    thief.send_line("/rename alice").await;
    thief
        .expect("[Server]: The nickname \"alice\" is registered to another key.")
        .await;
    // so does a client without any key
    let mut anon = TestClient::connect(server.port(), "alice", None, Mode::Pty).await;
    anon.expect("is registered to another key. Please choose another nickname.")
        .await;
    // the owner, as the generic user, lands under their name without the prompt
    let mut owner = TestClient::connect(server.port(), "chat", Some(key), Mode::Pty).await;
    let welcome = owner.expect("Welcome to #lobby, alice!").await;
    assert!(!welcome.contains("Nickname: "), "{welcome}");
    owner.send_line("/whois alice").await;
    owner
        .expect(&format!(
            "[Server]: alice is in #lobby; key {fingerprint}; registered."
        ))
        .await;
    owner.send_line("/unregister").await;
    owner
        .expect("[Server]: The nickname \"alice\" is no longer registered.")
        .await;
}

#[tokio::test]
async fn registering_needs_a_key_and_a_key_holds_only_so_many_names() {
    let server = TestServer::start_with(|c| c.max_names_per_key = 2, Clock::System).await;
    let mut anon = TestClient::connect(server.port(), "anon", None, Mode::Pty).await;
    anon.expect("Type /help").await;
    anon.send_line("/register").await;
    anon.expect("[Server]: /register needs an SSH key (connect with one, e.g. after ssh-keygen -t ed25519).")
        .await;
    let mut me = TestClient::connect(server.port(), "first", Some(user_key()), Mode::Pty).await;
    me.expect("Type /help").await;
    me.send_line("/register").await;
    me.expect("[Server]: The nickname \"first\" is now registered to your key")
        .await;
    me.send_line("/rename second").await;
    me.send_line("/register").await;
    me.expect("[Server]: The nickname \"second\" is now registered to your key")
        .await;
    me.send_line("/rename third").await;
    me.send_line("/register").await;
    me.expect("[Server]: Your key already has 2 registered nicknames (first, second). /unregister one first.")
        .await;
    // someone else's registration can't be freed by a stranger
    anon.send_line("/unregister first").await;
    anon.expect("[Server]: The nickname \"first\" is registered to another key.")
        .await;
}
