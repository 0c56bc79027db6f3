//! Rooms (SPEC §8) as people see them: moving with /join and /leave, the /rooms line,
//! capacity and the room limit per room, whispers across rooms, kicks that ban, and
//! schedules that stay in their room.

mod common;

use common::{user_key, Mode, TestClient, TestServer};
use ssh_chatroom::room::Clock;

async fn joined(server: &TestServer, name: &str) -> TestClient {
    TestClient::joined(server.port(), name).await
}

#[tokio::test]
async fn people_move_between_rooms_and_each_room_keeps_to_itself() {
    let server = TestServer::start().await;
    let mut alice = joined(&server, "alice").await;
    let mut bob = joined(&server, "bob").await;
    alice.send_line("/join rust").await;
    bob.expect("[Server]: alice has left the chat.").await;
    alice
        .expect("[Server]: Welcome to #rust, alice! Type /help for the list of commands.")
        .await;
    alice.expect("[Server]: Users (1/10): alice").await;
    alice
        .expect("[Server]: You are the admin of this room.")
        .await;
    // `#` is optional and case does not matter: the same room
    bob.send_line("/join #RUST").await;
    alice.expect("[Server]: bob has joined the chat.").await;
    bob.expect("[Server]: Welcome to #rust, bob!").await;
    bob.send_line("/rooms").await;
    bob.expect("[Server]: Rooms (2): #rust (2/10), #lobby (0/10)")
        .await;
    bob.send_line("/join rust").await;
    bob.expect("[Server]: You are already in #rust.").await;
    // a line in #rust is not heard in #lobby
    let mut carol = joined(&server, "carol").await;
    alice.send_line("only for rust").await;
    bob.expect("alice >> only for rust").await;
    bob.send_line("/leave").await;
    alice.expect("[Server]: bob has left the chat.").await;
    bob.expect("[Server]: Welcome to #lobby, bob!").await;
    carol.expect("[Server]: bob has joined the chat.").await;
    bob.send_line("/leave").await;
    bob.expect("[Server]: You are in #lobby; /quit leaves the chat.")
        .await;
    carol.send_line("/user").await;
    let seen = carol.expect("[Server]: Users (2/10): carol, bob").await;
    assert!(!seen.contains("only for rust"), "{seen}");
    assert!(!carol.transcript.contains("only for rust"));
}

#[tokio::test]
async fn full_rooms_the_room_limit_and_rooms_that_end() {
    let server = TestServer::start_with(
        |c| {
            c.capacity = 2;
            c.max_rooms = 2;
        },
        Clock::System,
    )
    .await;
    let mut a = joined(&server, "a").await;
    let mut b = joined(&server, "b").await;
    a.send_line("/join x").await;
    a.expect("Welcome to #x, a!").await;
    let mut c = joined(&server, "c").await;
    b.send_line("/join x").await;
    b.expect("Welcome to #x, b!").await;
    let mut d = joined(&server, "d").await;
    c.send_line("/join X").await;
    c.expect("[Server]: #x is full (2/2).").await;
    c.send_line("/join y").await;
    c.expect("[Server]: There are too many rooms (2). Please join an existing one.")
        .await;
    c.send_line("/user").await;
    c.expect("[Server]: Users (2/2): c, d").await;
    // #x ends when its last member leaves, and its place is free again
    a.send_line("/quit").await;
    a.expect_closed().await;
    b.send_line("/quit").await;
    b.expect_closed().await;
    d.send_line("/rooms").await;
    d.expect("[Server]: Rooms (1): #lobby (2/2)").await;
    d.send_line("/join y").await;
    d.expect("[Server]: You are the admin of this room.").await;
}

#[tokio::test]
async fn whispers_and_whois_reach_across_rooms() {
    let server = TestServer::start().await;
    let mut alice = joined(&server, "alice").await;
    let mut bob = joined(&server, "bob").await;
    bob.send_line("/join go").await;
    bob.expect("Welcome to #go, bob!").await;
    alice.send_line("/whisper bob psst").await;
    bob.expect("[Whisper from alice] psst").await;
    alice.expect("[Whisper to bob] psst").await;
    alice.send_line("/whois BOB").await;
    alice.expect("[Server]: bob is in #go; key SHA256:").await;
    alice.expect("; not registered.").await;
    alice.send_line("/whois nobody").await;
    alice
        .expect("[Server]: No user named \"nobody\" is online.")
        .await;
    // a nickname is one person's across rooms
    let mut other = TestClient::join(server.port(), "Bob").await;
    other
        .expect("[Server]: The nickname \"Bob\" is already taken. Please choose another nickname.")
        .await;
    other.expect("Nickname: ").await;
}

/// The clock stands still, so the end of the ban is a known minute.
#[tokio::test]
async fn a_kick_bans_from_that_room_by_key() {
    let (clock, hands) = Clock::manual("2026-11-24T15:32:10Z".parse().unwrap());
    let server = TestServer::start_with(|_| {}, clock).await;
    let mut boss = joined(&server, "boss").await;
    boss.send_line("/join rust").await;
    boss.expect("You are the admin of this room.").await;
    let key = user_key();
    let connect = || TestClient::connect(server.port(), "rowdy", Some(key.clone()), Mode::Pty);
    let mut rowdy = connect().await;
    rowdy.expect("Type /help").await;
    rowdy.send_line("/join rust").await;
    boss.expect("rowdy has joined the chat.").await;
    boss.send_line("/kick rowdy").await;
    rowdy
        .expect("[Server]: You have been kicked from the chat.")
        .await;
    rowdy.expect_closed().await;
    boss.expect("[Server]: rowdy has been kicked from the chat.")
        .await;
    // back in the lobby with the same key, but not into #rust until after 15:42
    let mut again = connect().await;
    again.expect("Welcome to #lobby, rowdy!").await;
    again.send_line("/join rust").await;
    again
        .expect("[Server]: You were kicked from #rust; you may come back after 15:43.")
        .await;
    hands.advance(std::time::Duration::from_secs(600));
    again.send_line("/join rust").await;
    again.expect("Welcome to #rust, rowdy!").await;
}

#[tokio::test]
async fn a_kick_from_the_lobby_is_said_at_connect_and_closes() {
    let (clock, _hands) = Clock::manual("2026-11-24T09:00:00Z".parse().unwrap());
    let server = TestServer::start_with(|_| {}, clock).await;
    let boss = joined(&server, "boss").await;
    let key = user_key();
    let connect = || TestClient::connect(server.port(), "victim", Some(key.clone()), Mode::Pty);
    let mut victim = connect().await;
    victim.expect("Type /help").await;
    boss.send_line("/kick victim").await;
    victim.expect_closed().await;
    let mut back = connect().await;
    back.expect("[Server]: You were kicked from #lobby; you may come back after 09:10.")
        .await;
    back.expect_closed().await;
    // another key is another person
    let mut other = TestClient::connect(server.port(), "victim", Some(user_key()), Mode::Pty).await;
    other.expect("Welcome to #lobby, victim!").await;
}

/// Server admins (`--admin-key`) are admins in every room, also in one someone else
/// made; in the lobby with server admins configured, only they are.
#[tokio::test]
async fn a_server_admin_is_admin_in_every_room() {
    let admin_key = user_key();
    let fingerprint = common::key_fingerprint(&admin_key);
    let server = TestServer::start_with(|c| c.admin_keys = vec![fingerprint], Clock::System).await;
    let mut maker = joined(&server, "maker").await;
    maker.send_line("/kick nobody").await;
    maker.expect("[Server]: Only an admin can use /kick.").await;
    maker.send_line("/join den").await;
    maker
        .expect("[Server]: You are the admin of this room.")
        .await;
    let mut rowdy = joined(&server, "rowdy").await;
    rowdy.send_line("/join den").await;
    rowdy.expect("Welcome to #den, rowdy!").await;
    let mut boss = TestClient::connect(server.port(), "boss", Some(admin_key), Mode::Pty).await;
    boss.expect("[Server]: You are the admin of this room.")
        .await;
    boss.send_line("/join den").await;
    boss.expect("[Server]: You are the admin of this room.")
        .await;
    boss.send_line("/kick rowdy").await;
    rowdy
        .expect("[Server]: You have been kicked from the chat.")
        .await;
    maker
        .expect("[Server]: rowdy has been kicked from the chat.")
        .await;
}
