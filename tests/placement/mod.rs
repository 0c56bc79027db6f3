//! Harness for the placement seam's contract: a side's room directory built as
//! `server.rs` builds it (a lone server's, or a cluster node's on a real `nats-server`),
//! and someone in a room read through their outbox as their session would, each wait
//! bounded.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use ssh_chatroom::chat::room_name::RoomName;
use ssh_chatroom::cluster::{setup, ClusterNames, ClusterRooms};
use ssh_chatroom::config::Config;
use ssh_chatroom::log::LogSink;
use ssh_chatroom::metrics::Metrics;
use ssh_chatroom::names::NameRegistry;
use ssh_chatroom::room::schedule::ScheduleStore;
use ssh_chatroom::room::{
    new_participant_id, Clock, Delivery, EnterError, JoinRequest, ParticipantId, RoomDirectory,
    RoomHandle, RoomMaker, RoomPlacement, RoomsHere,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::common::{self, WAIT};

/// Someone in one room, reading their outbox as their session would.
pub struct Person {
    pub id: ParticipantId,
    pub nick: String,
    outbox: mpsc::Receiver<Delivery>,
    pub handle: RoomHandle,
    /// The room's name as it spells itself.
    pub shown: String,
    /// The lines of the welcome.
    pub welcome: Vec<String>,
    /// Lines read after the welcome and not yet matched.
    unread: Vec<String>,
}

/// Someone entering; `key` their key's fingerprint (a kick bans by it).
fn request(nick: &str, key: &str) -> (JoinRequest, mpsc::Receiver<Delivery>) {
    let (outbox, rx) = mpsc::channel(256);
    let request = JoinRequest {
        id: new_participant_id(),
        nickname: nick.into(),
        key: Some(format!("SHA256:{key}")),
        addr: Some("127.0.0.1:40000".parse().unwrap()),
        outbox,
        kill: CancellationToken::new(),
        transcript: Arc::from(nick),
        creator: false,
        code: None,
    };
    (request, rx)
}

/// `nick` (with a key of their own) enters `room` through `directory`.
pub async fn enter(
    directory: &RoomDirectory,
    room: &str,
    nick: &str,
) -> Result<Person, EnterError> {
    enter_with_key(directory, room, nick, nick).await
}

pub async fn enter_with_key(
    directory: &RoomDirectory,
    room: &str,
    nick: &str,
    key: &str,
) -> Result<Person, EnterError> {
    let (request, mut outbox) = request(nick, key);
    let id = request.id;
    let room = RoomName::parse(room).unwrap();
    let (handle, _, shown) = directory.enter(&room, request).await?;
    let welcome = tokio::time::timeout(WAIT, outbox.recv())
        .await
        .expect("a welcome")
        .expect("the outbox open");
    Ok(Person {
        id,
        nick: nick.into(),
        outbox,
        handle,
        shown: shown.to_string(),
        welcome: texts(&welcome),
        unread: Vec::new(),
    })
}

fn texts(delivery: &Delivery) -> Vec<String> {
    delivery.lines().iter().map(|l| l.text.clone()).collect()
}

impl Person {
    /// Waits (at most `within`) for a line containing `text`; returns the lines read
    /// up to and including it.
    pub async fn expect_within(&mut self, text: &str, within: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + within;
        let mut read = Vec::new();
        loop {
            if let Some(at) = self.unread.iter().position(|l| l.contains(text)) {
                read.extend(self.unread.drain(..=at));
                return read;
            }
            match tokio::time::timeout_at(deadline, self.outbox.recv()).await {
                Ok(Some(delivery)) => self.unread.extend(texts(&delivery)),
                Ok(None) => panic!("{}'s outbox closed waiting for {text:?}", self.nick),
                Err(_) => panic!(
                    "{} waited {within:?} for {text:?}; read {:?}",
                    self.nick,
                    [read, std::mem::take(&mut self.unread)].concat()
                ),
            }
        }
    }

    pub async fn expect(&mut self, text: &str) -> Vec<String> {
        self.expect_within(text, WAIT).await
    }

    /// Types `line`; returns once the room has handled it.
    pub async fn say(&self, line: &str) {
        self.handle.input(self.id, line.to_string()).await;
    }

    pub fn is_admin(&self) -> bool {
        self.welcome
            .iter()
            .any(|l| l == "[Server]: You are the admin of this room.")
    }
}

/// Waits (at most `within`) until `check` holds, asking again every 20 ms.
pub async fn until<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn room(name: &str) -> RoomName {
    RoomName::parse(name).unwrap()
}

/// What every room of a side is made from, as `server.rs` makes it.
fn maker(config: &Config, names: NameRegistry) -> RoomMaker {
    let template = ssh_chatroom::server::room_template(config).unwrap();
    RoomMaker {
        server_admins: Arc::new(std::sync::RwLock::new(template.admin_keys.clone())),
        template,
        log: LogSink::disabled(),
        clock: Clock::System,
        names,
        schedules: ScheduleStore::default(),
        connections: Default::default(),
        metrics: Metrics::detached(),
        bans: Default::default(),
    }
}

/// A lone server's directory over its rooms in this process, at most `max_rooms`.
pub fn lone(dir: &std::path::Path, max_rooms: usize) -> Arc<RoomDirectory> {
    let config = common::test_config(dir);
    let maker = maker(&config, NameRegistry::load(None, 3).unwrap());
    let lobby = config.default_room().unwrap();
    let here = RoomsHere::start(maker.clone(), max_rooms, lobby.clone());
    RoomDirectory::new(maker, lobby, here)
}

/// Node `name`'s directory over the cluster's rooms, reaching NATS at `url`, at most
/// `max_rooms`; its files under `dir/name`, the host key shared by every node.
pub async fn node(
    dir: &std::path::Path,
    url: &str,
    name: &str,
    max_rooms: usize,
) -> Arc<RoomDirectory> {
    let mut config = common::test_config(&dir.join(name));
    config.cluster = vec![url.to_string()];
    config.node_name = Some(name.to_string());
    config.host_key = dir.join("ssh_host_ed25519_key");
    let admitted = setup::admit(&config).await.unwrap();
    let names = ClusterNames::open(&admitted.cluster).await.unwrap();
    let maker = maker(&config, NameRegistry::new(names.clone(), 3));
    let lobby = config.default_room().unwrap();
    let (cluster, claim) = (admitted.cluster, admitted.claim);
    let placed = ClusterRooms::start(
        cluster,
        claim,
        names,
        maker.clone(),
        lobby.clone(),
        max_rooms,
    )
    .await
    .unwrap();
    let placement: Arc<dyn RoomPlacement> = placed;
    RoomDirectory::new(maker, lobby, placement)
}

/// A time two hours from now, `HH:MM` in UTC (the tests' time zone).
pub fn two_hours_on() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%H:%M")
        .to_string()
}
