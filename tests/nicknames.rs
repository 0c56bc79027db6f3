//! Joining with nicknames: from the username, the `Nickname: ` prompt for generic,
//! invalid or taken names, Korean names, look-alikes, anonymous keyboard-interactive.

mod common;

use common::{user_key, Mode, TestClient, TestServer};

#[tokio::test]
async fn generic_user_is_asked_and_korean_works() {
    let server = TestServer::start().await;
    let mut guest = TestClient::join(server.port(), "chat").await;
    guest.expect("Nickname: ").await;
    guest.send_line("개똥이").await;
    guest.expect("Welcome to #lobby, 개똥이!").await;
    guest.send_line("안녕하세요").await;
    guest.expect("개똥이 >> 안녕하세요").await;
}

#[tokio::test]
async fn taken_and_look_alike_names_are_asked_again_with_the_reason() {
    let server = TestServer::start().await;
    let mut alice = TestClient::joined(server.port(), "alice").await;
    let mut second = TestClient::join(server.port(), "ALICE").await;
    second
        .expect(
            "[Server]: The nickname \"ALICE\" is already taken. Please choose another nickname.",
        )
        .await;
    second.expect("Nickname: ").await;
    // Cyrillic "а" (U+0430) posing as Latin "a": mixed scripts are refused
    second.send_line("\u{430}lice").await;
    second.expect("may not mix alphabets").await;
    second.expect("Nickname: ").await;
    second.send_line("bad name").await;
    second.expect("may contain only letters, digits").await;
    second.send_line("Server").await;
    second.expect("The nickname \"Server\" is reserved.").await;
    second.send_line("alice2").await;
    second.expect("Welcome to #lobby, alice2!").await;
    alice.expect("[Server]: alice2 has joined the chat.").await;
}

#[tokio::test]
async fn all_cyrillic_look_alike_of_a_present_name_is_taken() {
    let server = TestServer::start().await;
    let _ace = TestClient::joined(server.port(), "ace").await;
    // "асе" in Cyrillic letters only: single-script, but it looks exactly like "ace"
    let mut fake = TestClient::join(server.port(), "асе").await;
    fake.expect("is already taken").await;
}

#[tokio::test]
async fn client_without_a_key_gets_in_anonymously() {
    let server = TestServer::start().await;
    let mut anon = TestClient::connect(server.port(), "anon", None, Mode::Pty).await;
    anon.expect("Welcome to #lobby, anon!").await;
}

#[tokio::test]
async fn plain_session_as_a_generic_user_is_refused_not_prompted() {
    // Without a pty there is no prompt: piped text must never become a nickname (what
    // the user is told, on stderr, is tests/bots.rs's to show with the real ssh).
    let server = TestServer::start().await;
    let piped = TestClient::connect(server.port(), "chat", Some(user_key()), Mode::Plain).await;
    piped.send(b"piper\nhello\n").await;
    piped.expect_closed().await;
    assert!(!piped.transcript.contains("Nickname: "));
    assert!(!piped.transcript.contains("Welcome"));
    let mut named =
        TestClient::connect(server.port(), "piper", Some(user_key()), Mode::Plain).await;
    named.expect("Welcome to #lobby, piper!").await;
    named.send(b"hello\nbye\n").await;
    named.expect("piper >> hello\n").await;
    named.expect("piper >> bye\n").await;
    named.eof().await;
    named.expect_closed().await;
}
