//! A room's history kept in a JetStream stream, one message per public line, for the
//! node that takes the room over: `chat.history.<room key>`, at most the configured
//! number of lines per room (NATS drops the oldest). A line costs one small message,
//! where a snapshot of the whole history cost a stored snapshot of every line kept.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::retry;
use super::wire::RoomKey;
use super::Cluster;
use crate::chat::line::SharedLine;

/// The stream of the rooms' histories.
const STREAM: &str = "chat_history";
/// How long a takeover waits for a room's history before it carries on without it.
const READ_WITHIN: Duration = Duration::from_secs(2);

/// The stream of the rooms' histories, keeping at least `lines` lines per room: made,
/// or opened and raised to `lines` when it keeps fewer (another node's `--history`).
///
/// # Errors
/// NATS did not make or open it by `deadline`.
pub(super) async fn open(
    js: &jetstream::Context,
    (lines, replicas): (usize, usize),
    urls: &str,
    deadline: Instant,
) -> anyhow::Result<stream::Stream> {
    let wanted = i64::try_from(lines.max(1)).unwrap_or(i64::MAX);
    let config = stream::Config {
        name: STREAM.to_string(),
        subjects: vec!["chat.history.*".to_string()],
        max_messages_per_subject: wanted,
        num_replicas: replicas,
        storage: stream::StorageType::File,
        ..Default::default()
    };
    retry::set_up(
        deadline,
        urls,
        "opening the stream chat_history",
        || async {
            let mut stream = js.get_or_create_stream(config.clone()).await?;
            let info = stream.info().await?;
            if info.config.max_messages_per_subject < wanted {
                let mut raised = info.config.clone();
                raised.max_messages_per_subject = wanted;
                js.update_stream(raised).await?;
            }
            Ok::<_, async_nats::Error>(stream)
        },
    )
    .await
}

/// How many of a room's lines may wait to be kept; more are not kept (see [`keeper`]).
const QUEUED_LINES: usize = 256;

/// Where a room's public lines go to be kept under `subject`, in order, by a task of
/// their own that ends with the sender. Not acknowledged: a line lost to a NATS blip
/// (or to a full queue) is missing from the history only after a takeover. Its own task,
/// so that the line reaches NATS after the batch that carried it rather than with it:
/// published by the room's actor right after the batch, it put 0.1–0.25 ms on the p50
/// of a room spread over three nodes.
pub(super) fn keeper(client: async_nats::Client, subject: String) -> mpsc::Sender<SharedLine> {
    let (tx, mut rx) = mpsc::channel::<SharedLine>(QUEUED_LINES);
    tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            let Ok(payload) = serde_json::to_vec(&line) else {
                continue;
            };
            let _ = client.publish(subject.clone(), payload.into()).await;
        }
    });
    tx
}

/// The last `keep` lines of `room`'s history, oldest first (none if NATS does not
/// give them within [`READ_WITHIN`]).
pub(super) async fn read(cluster: &Cluster, room: &RoomKey, keep: usize) -> Vec<SharedLine> {
    if keep == 0 {
        return Vec::new();
    }
    let mut lines = std::collections::VecDeque::new();
    let read = async {
        let consumer = cluster
            .history
            .create_consumer(consumer::push::OrderedConfig {
                deliver_subject: cluster.client.new_inbox(),
                filter_subject: room.history(),
                ..Default::default()
            })
            .await?;
        if consumer.cached_info().num_pending == 0 {
            return Ok(());
        }
        let mut messages = consumer.messages().await?;
        while let Some(message) = messages.next().await {
            let message = message?;
            if let Ok(line) = serde_json::from_slice::<SharedLine>(&message.payload) {
                if lines.len() == keep {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
            if message.info().map_or(true, |i| i.pending == 0) {
                break;
            }
        }
        Ok::<_, async_nats::Error>(())
    };
    match tokio::time::timeout(READ_WITHIN, read).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, room = %room.name(), "the room's history could not be read")
        }
        Err(_) => tracing::warn!(room = %room.name(), "the room's history was not read in time"),
    }
    lines.into()
}

/// Forgets `room`'s history: the room has ended, or a room of that name starts afresh.
pub(super) async fn forget(cluster: &Cluster, room: &RoomKey) {
    if let Err(error) = cluster.history.purge().filter(room.history()).await {
        tracing::debug!(%error, room = %room.name(), "the room's history was not purged");
    }
}
