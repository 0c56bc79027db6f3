//! ssh-chatroom: a chat room server that people join with a stock `ssh`.
//!
//! - [`server`]: the accept loop, limits and shutdown; builds everything below.
//! - [`connection`]: one accepted connection: PROXY header, address count, SSH session.
//! - [`stream`]: a client's TCP stream, which the server can cut at any moment.
//! - [`proxy`]: the PROXY protocol header from trusted load balancers.
//! - [`ssh`]: the russh handler (callbacks → events) and one session task per
//!   participant (owns its screen, its outbox and its SSH channel).
//! - [`room`]: the room actor that owns participants, commands and the schedule.
//! - [`chat`]: pure rules and formats: nicknames, the command parser, the lines.
//! - [`term`]: pure terminal handling: key decoding, the line editor, colours.
//! - [`log`]: `server.txt` and the per-user transcripts, written off the hot path.
//! - [`metrics`]: counts for operators, served with a health check by `--metrics`.
//! - [`names`]: nicknames and registrations, chat-wide.
//! - [`participant`]: a participant's id; [`delivery`]: how participants connected
//!   here are reached (outboxes, kill switches, transcripts).
//! - [`cluster`]: the NATS sides of the seams, for several servers serving one chat.
#![forbid(unsafe_code)]

pub mod admission;
pub mod allowlist;
pub mod bans;
pub mod chat;
pub mod check;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod delivery;
pub mod keys;
pub mod log;
pub mod metrics;
pub mod names;
pub mod participant;
pub mod persist;
pub mod preferences;
pub mod proxy;
pub mod room;
pub mod server;
pub mod ssh;
pub mod stream;
pub mod term;
