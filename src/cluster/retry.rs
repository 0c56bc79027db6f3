//! Trying again until a deadline, the one way every retry of the cluster is written
//! ([`until`]): the start's requests to NATS (reaching NATS at all, making or opening
//! the JetStream buckets: on a fresh three-server NATS cluster, nodes started together
//! ask for the same buckets at once, and the first requests time out), and at run time
//! a room asked while it moves, a departure told to a room, a whisper handed to its
//! target's node, a room's snapshot stored.

use std::future::Future;
use std::time::Duration;

use anyhow::anyhow;
use async_nats::jetstream::kv;
use tokio::time::Instant;

use super::setup::START_WITHIN;

/// How long a starting node tries, once NATS answers, to have its JetStream buckets
/// made or opened, all of them together. On the first start of a three-server NATS
/// cluster with `--cluster-replicas 3`, every bucket is a group of three servers that
/// must elect a leader, and nodes started together ask for the same buckets at once:
/// requests time out, and are asked again.
pub const BUCKETS_WITHIN: Duration = Duration::from_secs(30);
/// How long one JetStream request during the start waits for its answer (a bucket of
/// three replicas takes longer to make than a request at run time may).
const SETUP_REQUEST: Duration = Duration::from_secs(5);
/// Pause between tries while NATS does not answer.
const RETRY_EVERY: Duration = Duration::from_millis(250);
/// The longest pause between tries of a JetStream setup request (they back off).
const BACKOFF_UP_TO: Duration = Duration::from_secs(2);
/// Runs `attempt` until it succeeds or `deadline` passes, pausing between tries: NATS
/// that comes and goes during the start gets an answer, never a hang.
///
/// # Errors
/// The last failure, once the deadline has passed: "cannot reach NATS at `urls` within
/// 10 s (`what`: ...)".
pub(super) async fn within<T, E, F, Fut>(
    deadline: Instant,
    urls: &str,
    what: &str,
    attempt: F,
) -> anyhow::Result<T>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let give_up = |why: String| {
        let secs = START_WITHIN.as_secs();
        anyhow!("cannot reach NATS at {urls} within {secs} s ({what}: {why})")
    };
    retrying(deadline, what, |_| RETRY_EVERY, give_up, attempt).await
}

/// Runs the JetStream setup request `attempt` (making, opening or watching a bucket;
/// `urls` named in the error when not empty) until it
/// succeeds or `deadline` passes, backing off between tries (with a little jitter, so
/// that nodes started together do not ask again in step).
///
/// # Errors
/// The last failure, once the deadline has passed.
pub(super) async fn set_up<T, E, F, Fut>(
    deadline: Instant,
    urls: &str,
    what: &str,
    attempt: F,
) -> anyhow::Result<T>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let give_up = |why: String| {
        let secs = BUCKETS_WITHIN.as_secs();
        let at = if urls.is_empty() {
            String::new()
        } else {
            format!(" at {urls}")
        };
        anyhow!("NATS{at} did not set up the cluster's JetStream buckets within {secs} s ({what}: {why})")
    };
    retrying(deadline, what, backoff, give_up, attempt).await
}

/// The pause before try `n + 1` of a setup request: 250 ms doubling up to 2 s, plus up to
/// a quarter of that at random.
fn backoff(n: u32) -> Duration {
    let base = RETRY_EVERY.saturating_mul(1 << n.min(4)).min(BACKOFF_UP_TO);
    base + base.mul_f64(rand::random::<f64>() / 4.0)
}

async fn retrying<T, E, F, Fut>(
    deadline: Instant,
    what: &str,
    pause: impl Fn(u32) -> Duration,
    give_up: impl Fn(String) -> anyhow::Error,
    mut attempt: F,
) -> anyhow::Result<T>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    // Each try waits for its answer at most until the deadline.
    let answered = || {
        let left = deadline.saturating_duration_since(Instant::now());
        let asked = tokio::time::timeout(left, attempt());
        async move {
            let why = match asked.await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) => error.to_string(),
                Err(_) => "no answer".to_string(),
            };
            tracing::debug!(%why, what, "NATS did not answer yet");
            Err(why)
        }
    };
    until(deadline, pause, answered).await.map_err(give_up)
}

/// Runs `attempt` until it succeeds or `deadline` passes, pausing `pause(n)` after try
/// `n` (from 0); a try that would start after the deadline is not made. One try is
/// always made, however late.
///
/// # Errors
/// The last try's failure, once the deadline has passed.
pub(super) async fn until<T, E, F, Fut>(
    deadline: Instant,
    mut pause: impl FnMut(u32) -> Duration,
    mut attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut tries = 0;
    loop {
        let error = match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let pause = pause(tries);
        tries += 1;
        if Instant::now() + pause >= deadline {
            return Err(error);
        }
        tokio::time::sleep(pause).await;
    }
}

/// A try that did not succeed yet, to be made again (for an attempt whose other
/// outcomes, success or refusal, are both final).
pub(super) struct Again;

/// A fixed pause between tries, for [`until`].
pub(super) fn every(pause: Duration) -> impl Fn(u32) -> Duration {
    move |_| pause
}

/// The JetStream context for the start's setup requests: as `js`, with a longer wait
/// for each answer.
pub(super) fn setup_context(client: &async_nats::Client) -> async_nats::jetstream::Context {
    async_nats::jetstream::ContextBuilder::new()
        .timeout(SETUP_REQUEST)
        .build(client.clone())
}

/// Makes the bucket of `config`, or opens it when it is there already: made a moment
/// ago by another node started at the same time, or by an earlier version, or with
/// other replicas. A bucket whose settings differ only in what does not matter here
/// (replicas, limits) is used as it is, with a warning; one whose history or expiry
/// markers differ is refused (the leases would not lapse), saying how to remove it.
/// Timeouts and other failures are tried again until `deadline`.
///
/// # Errors
/// The bucket's settings cannot serve, or NATS did not make or open it in time.
pub(super) async fn open_bucket(
    js: &async_nats::jetstream::Context,
    config: kv::Config,
    urls: &str,
    deadline: Instant,
) -> anyhow::Result<kv::Store> {
    let name = config.bucket.clone();
    let what = format!("opening the JetStream bucket {name}");
    set_up(deadline, urls, &what, || async {
        let made = match js.create_or_update_key_value(config.clone()).await {
            Ok(store) => return Ok(Ok(store)),
            Err(error) => error,
        };
        // Not made or updated: perhaps because it is there with other settings, which
        // NATS will not change (or changed for another node just now).
        let Ok(mut store) = js.get_key_value(&name).await else {
            return Err(made.to_string());
        };
        let Ok(info) = store.stream.info().await.map(|i| i.config.clone()) else {
            return Err(made.to_string());
        };
        let history_ok = config.history.max(1) == info.max_messages_per_subject;
        let markers_ok = config.limit_markers.is_none() || info.allow_message_ttl;
        let same = info.num_replicas == config.num_replicas.max(1)
            && info.max_age == config.max_age
            && info.subject_delete_marker_ttl == config.limit_markers;
        if history_ok && markers_ok && same {
            // Made by another node meanwhile (this one's request timed out).
            tracing::debug!(bucket = %name, why = %made, "opened the bucket another node made");
            return Ok(Ok(store));
        }
        if history_ok && markers_ok {
            tracing::warn!(
                bucket = %name,
                replicas = info.num_replicas,
                why = %made,
                "the bucket {name} is there with other settings than this node would make; using it as it is"
            );
            return Ok(Ok(store));
        }
        Ok(Err(anyhow!(
            "the JetStream bucket {name} is there with settings this version cannot use (history {}, expiry markers {}): remove it with `nats kv del {name}` while no node runs, then start again",
            info.max_messages_per_subject,
            if info.allow_message_ttl { "on" } else { "off" },
        )))
    })
    .await?
}
