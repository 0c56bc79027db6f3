//! Harness pieces shared by ssh-chatroom's end-to-end tests and its load generator.
//!
//! - [`accept`]: a russh client handler that trusts any host key.
//! - [`client`]: one that also hands a session's output to an [`Output`].
//! - [`chaos`]: a soak of the cluster under faults (real nodes, NATS and SSH clients)
//!   and its four checks, shared by `tests/cluster_chaos.rs` and `bench chaos`.
//! - [`escapes`]: removing colour codes and other CSI sequences from terminal output.
//! - [`expect`]: a session's [`Transcript`] and waiting for text in it, or in a log file.
//! - [`freeze`]: a TCP stream whose reads can be stopped for good.
//! - [`haproxy`]: a real HAProxy sending the PROXY protocol, for the proxy tests.
//! - [`lines`]: splitting a pty byte stream into the lines a person would see.
//! - [`nats`]: a real `nats-server` with JetStream, or three as one NATS cluster, for the
//!   cluster tests.
//! - [`partition`]: a relay between a node and NATS that can cut or swallow traffic.
//! - [`settings`]: a test server's settings (port 0, files in one folder), as flags.
//! - [`stalled`]: a participant that joins and then never reads again.
//! - [`user_key`]: a fresh key for a test user.

pub mod accept;
pub mod chaos;
pub mod client;
pub mod escapes;
pub mod expect;
pub mod freeze;
pub mod haproxy;
pub mod lines;
pub mod nats;
pub mod partition;
pub mod settings;
pub mod stalled;

pub use accept::AcceptAll;
pub use client::{Client, Output};
pub use escapes::{strip_colours, strip_escapes};
pub use expect::{wait_for_log_line, Transcript, WAIT};
pub use freeze::Freezable;
pub use haproxy::{HaProxy, SendProxy};
pub use lines::LineBuf;
pub use nats::{NatsCluster, NatsServer};
pub use partition::Partition;
pub use settings::server_flags;
pub use stalled::{join_stalled, Stalled};

/// A fresh Ed25519 key, as each test user or benchmark session has its own.
///
/// # Panics
/// The system's random source fails.
pub fn user_key() -> russh::keys::PrivateKey {
    russh::keys::PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519)
        .expect("a random key")
}
