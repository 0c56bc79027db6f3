//! The directory of a lone server, driven directly: a room whose actor is slow delays
//! only the joins to that room.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::directory::{RoomDirectory, RoomMaker};
use super::schedule::ScheduleStore;
use super::{new_participant_id, Clock, JoinRequest, LocalRoom, RoomsHere};
use crate::chat::room_name::RoomName;
use crate::log::LogSink;
use crate::metrics::Metrics;
use crate::names::NameRegistry;

fn maker() -> RoomMaker {
    let template = super::tests::config(10);
    RoomMaker {
        server_admins: Arc::new(RwLock::new(Default::default())),
        template,
        log: LogSink::disabled(),
        clock: Clock::System,
        names: NameRegistry::load(None, 3).unwrap(),
        schedules: ScheduleStore::default(),
        connections: Default::default(),
        metrics: Metrics::detached(),
        bans: Default::default(),
    }
}

fn request(nick: &str) -> JoinRequest {
    let (outbox, _) = mpsc::channel(16);
    JoinRequest {
        id: new_participant_id(),
        nickname: nick.into(),
        key: None,
        addr: None,
        outbox,
        kill: CancellationToken::new(),
        transcript: Arc::from(nick),
        creator: false,
        code: None,
    }
}

#[tokio::test]
async fn a_room_whose_actor_does_not_answer_delays_no_join_to_another_room() {
    let lobby = RoomName::parse("#lobby").unwrap();
    let here = RoomsHere::start(maker(), 10, lobby.clone());
    // #slow's actor takes the join and never answers.
    let (stuck, _never_read) = mpsc::channel(16);
    let slow = RoomName::parse("#slow").unwrap();
    here.add_room(&slow, LocalRoom(stuck, Default::default()));
    let directory = RoomDirectory::new(maker(), lobby, here);
    let waiting = {
        let (directory, slow) = (directory.clone(), slow.clone());
        tokio::spawn(async move { directory.enter(&slow, request("alice")).await.is_ok() })
    };
    tokio::task::yield_now().await;

    let other = RoomName::parse("#other").unwrap();
    let entered = tokio::time::timeout(
        Duration::from_secs(10),
        directory.enter(&other, request("bob")),
    )
    .await;
    assert!(
        matches!(entered, Ok(Ok(_))),
        "a join elsewhere waits for nobody"
    );
    let rooms = directory.rooms_line().await.text;
    assert!(rooms.contains("#other (1/10)"), "{rooms}");
    assert!(!waiting.is_finished(), "#slow's join is still waiting");
    waiting.abort();
}
