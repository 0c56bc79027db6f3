//! Whispers across the cluster: sent to the node holding the target's connection (its
//! claim in `chat_online` says which), which acknowledges each once delivered. A
//! whisper is sent again through a NATS blip, delivered once however often it arrives,
//! and one that cannot be delivered is said to its sender: never lost silently.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::membership::Membership;
use super::names::Online;
use super::retry;
use super::wire::{whispers_to, Whisper};
use super::Cluster;
use crate::chat::line::ChatLine;
use crate::participant::ParticipantId;

/// How long a whisper keeps being sent while its target's node does not acknowledge it.
const DELIVER_FOR: Duration = Duration::from_secs(5);
/// How long one try waits for the acknowledgement.
const ONE_TRY: Duration = Duration::from_secs(1);
/// The pause between tries.
const AGAIN_AFTER: Duration = Duration::from_millis(200);
/// How many whispers' ids a node remembers, to deliver one sent twice only once.
const REMEMBERED: usize = 1024;

/// How many whispers of one room may wait for their targets' nodes.
const QUEUED: usize = 256;

/// What whispers across the cluster need: this node's connection, who is online where,
/// and this node's members (to hand a whisper to, or tell one that did not arrive).
pub(super) struct Whispers {
    node: Arc<str>,
    client: async_nats::Client,
    online: Online,
    here: Arc<Membership>,
}

impl Whispers {
    /// Whispers over `cluster`, to the nodes `online` names, from and to `here`.
    pub fn new(cluster: &Cluster, online: Online, here: Arc<Membership>) -> Whispers {
        Whispers {
            node: cluster.node.clone(),
            client: cluster.client.clone(),
            online,
            here,
        }
    }
}

/// A room's whispers on their way, sent one after the other in the room's order.
pub(super) struct Outgoing {
    queue: mpsc::Sender<Queued>,
    whispers: Arc<Whispers>,
}

struct Queued {
    whisper: Whisper,
    nick: String,
    from: ParticipantId,
    give_up: Instant,
}

impl Outgoing {
    /// A room's queue of whispers, sent until it is dropped.
    pub fn start(whispers: &Arc<Whispers>) -> Outgoing {
        let (queue, rx) = mpsc::channel(QUEUED);
        tokio::spawn(send_in_order(whispers.clone(), rx));
        Outgoing {
            queue,
            whispers: whispers.clone(),
        }
    }

    /// Sends `whisper` to `nick`'s node; participant `from` is told if it cannot arrive.
    pub fn send(&self, whisper: Whisper, nick: &str, from: ParticipantId) {
        let queued = Queued {
            whisper,
            nick: nick.to_string(),
            from,
            give_up: Instant::now() + DELIVER_FOR,
        };
        if self.queue.try_send(queued).is_err() {
            self.whispers.here.tell(from, &not_arrived(nick));
        }
    }
}

fn not_arrived(nick: &str) -> String {
    format!(
        "Your whisper to {nick} may not have arrived: the chat servers lost contact for a moment."
    )
}

async fn send_in_order(whispers: Arc<Whispers>, mut queue: mpsc::Receiver<Queued>) {
    while let Some(q) = queue.recv().await {
        if deliver(&whispers, &q.whisper, &q.nick, q.give_up).await {
            continue;
        }
        tracing::warn!(to = %q.nick, "a whisper could not be delivered");
        let line = ChatLine::server(not_arrived(&q.nick)).shared();
        let notice = Whisper::new(q.from, line);
        if let Some(node) = whispers.online.node_of(q.from) {
            let _ = try_once(&whispers, &node, &notice).await;
        }
    }
}

/// Whether `whisper` reached its target's node (or the target has gone meanwhile),
/// trying until `give_up`.
async fn deliver(whispers: &Whispers, whisper: &Whisper, nick: &str, give_up: Instant) -> bool {
    let handed = || async {
        let Some(node) = whispers.online.node_holding(nick, whisper.to) else {
            // Gone meanwhile: as on a lone server, a whisper to nobody is dropped.
            return Ok(());
        };
        match try_once(whispers, &node, whisper).await {
            true => Ok(()),
            false => Err(()),
        }
    };
    retry::until(give_up, retry::every(AGAIN_AFTER), handed)
        .await
        .is_ok()
}

/// One try: delivered here, or acknowledged by `node`.
async fn try_once(whispers: &Whispers, node: &str, whisper: &Whisper) -> bool {
    if node == &*whispers.node {
        whispers.here.whisper_here(whisper.to, &whisper.line);
        return true;
    }
    let Ok(payload) = serde_json::to_vec(whisper) else {
        return false;
    };
    let asked = whispers.client.request(whispers_to(node), payload.into());
    matches!(tokio::time::timeout(ONE_TRY, asked).await, Ok(Ok(_)))
}

/// Delivers the whispers sent to this node's participants, and acknowledges each.
pub(super) async fn serve(whispers: Arc<Whispers>) {
    let subject = whispers_to(&whispers.node);
    let Ok(mut sub) = whispers.client.subscribe(subject).await else {
        tracing::warn!("cannot take whispers");
        return;
    };
    let mut seen = Seen::default();
    while let Some(msg) = sub.next().await {
        let Ok(w) = serde_json::from_slice::<Whisper>(&msg.payload) else {
            continue;
        };
        if seen.first_time(w.id) {
            whispers.here.whisper_here(w.to, &w.line);
        }
        if let Some(reply) = msg.reply {
            let _ = whispers.client.publish(reply, Default::default()).await;
        }
    }
}

/// The ids of the last whispers delivered.
#[derive(Default)]
struct Seen {
    order: VecDeque<u64>,
    ids: HashSet<u64>,
}

impl Seen {
    /// Whether `id` is new (it is remembered from now on).
    fn first_time(&mut self, id: u64) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn a_whisper_sent_again_is_delivered_once_and_old_ids_are_forgotten() {
        let mut seen = Seen::default();
        assert!(seen.first_time(7));
        assert!(!seen.first_time(7));
        for id in 100..100 + super::REMEMBERED as u64 {
            assert!(seen.first_time(id));
        }
        assert!(seen.first_time(7), "forgotten after REMEMBERED others");
        assert!(seen.ids.len() <= super::REMEMBERED);
    }
}
