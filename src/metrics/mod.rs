//! Counts for operators (`--metrics ADDR`): one [`Metrics`] per server, shared in an
//! `Arc` by the accept loop, the sessions and the rooms, and served in the Prometheus
//! text format by [`http`]. Every handle is an atomic that was made at start, so the
//! hot path never takes a lock or allocates to count (deliveries are added per batch).
//! Per server and not process-wide: several servers in one test process keep their own.

pub mod http;

use std::sync::{Arc, OnceLock};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Why someone was not let in, or a line of theirs was not taken (label `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Over `--max-conns-per-ip`.
    PerIpCap,
    /// The room is at `--capacity`.
    RoomFull,
    /// Kicked from the room not long ago, or banned from the server.
    Banned,
    /// A locked room entered without its code, or with a wrong one.
    Locked,
    /// A line from someone muted in the room.
    Muted,
    /// The nickname was taken, invalid, generic or registered to another key.
    NameRefused,
    /// A new room over `--max-rooms`.
    TooManyRooms,
    /// The server is shutting down.
    ShuttingDown,
    /// The cluster cannot be reached (a join, or a line typed during an outage).
    Unreachable,
    /// A line over the message rate.
    RateLimited,
    /// A line over `--max-message-bytes`.
    TooLong,
    /// A private server: the key is not on `--allowlist`.
    NotAllowed,
}

impl Refusal {
    const ALL: [Refusal; 12] = [
        Refusal::PerIpCap,
        Refusal::RoomFull,
        Refusal::Banned,
        Refusal::Locked,
        Refusal::Muted,
        Refusal::NameRefused,
        Refusal::TooManyRooms,
        Refusal::ShuttingDown,
        Refusal::Unreachable,
        Refusal::RateLimited,
        Refusal::TooLong,
        Refusal::NotAllowed,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::PerIpCap => "per_ip_cap",
            Refusal::RoomFull => "room_full",
            Refusal::Banned => "banned",
            Refusal::Locked => "locked",
            Refusal::Muted => "muted",
            Refusal::NameRefused => "name_refused",
            Refusal::TooManyRooms => "too_many_rooms",
            Refusal::ShuttingDown => "shutting_down",
            Refusal::Unreachable => "unreachable",
            Refusal::RateLimited => "rate_limited",
            Refusal::TooLong => "too_long",
            Refusal::NotAllowed => "not_allowed",
        }
    }
}

/// Why a connection was cut (label `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Its outbox was full: it stopped reading.
    SlowReader,
    /// It piled up more input than its session could take.
    InputFlood,
    /// It kept sending over the message rate.
    Flooding,
    /// It had not joined within `--login-grace`.
    LoginGrace,
    /// Over `--max-handshakes`: the oldest connection still logging in.
    HandshakeCap,
}

impl Cut {
    const ALL: [Cut; 5] = [
        Cut::SlowReader,
        Cut::InputFlood,
        Cut::Flooding,
        Cut::LoginGrace,
        Cut::HandshakeCap,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Cut::SlowReader => "slow_reader",
            Cut::InputFlood => "input_flood",
            Cut::Flooding => "flooding",
            Cut::LoginGrace => "login_grace",
            Cut::HandshakeCap => "handshake_cap",
        }
    }
}

type Labels = [(&'static str, &'static str); 1];

/// The server's metrics: handles to count with, and the registry they are read from.
pub struct Metrics {
    registry: Registry,
    /// Participants joined on this server.
    pub participants: Gauge,
    /// Rooms whose actor runs on this server.
    pub rooms: Gauge,
    /// Public chat lines posted (typed or scheduled) in rooms run here.
    pub lines: Counter,
    /// Lines handed to participants connected here.
    pub deliveries: Counter,
    /// Connections still in the SSH handshake or login.
    pub handshakes: Gauge,
    /// Scheduled messages sent.
    pub schedule_firings: Counter,
    /// In a cluster: 1 while the NATS client is connected.
    pub nats_connected: Gauge,
    /// In a cluster: room leases this node holds.
    pub leases_held: Gauge,
    /// In a cluster: rooms this node took over from their snapshot.
    pub takeovers: Counter,
    /// In a cluster: rooms whose events this node follows for its members.
    pub rooms_followed: Gauge,
    refusals: [Counter; Refusal::ALL.len()],
    drops: [Counter; Cut::ALL.len()],
}

impl Metrics {
    /// Fresh metrics, every count at zero; `clustered` adds the cluster's.
    pub fn new(clustered: bool) -> Metrics {
        let mut registry = Registry::with_prefix("ssh_chatroom");
        let participants = Gauge::default();
        let rooms = Gauge::default();
        let lines = Counter::default();
        let deliveries = Counter::default();
        let handshakes = Gauge::default();
        let schedule_firings = Counter::default();
        let refused = Family::<Labels, Counter>::default();
        let dropped = Family::<Labels, Counter>::default();
        let r = &mut registry;
        r.register(
            "participants",
            "Participants joined on this server",
            participants.clone(),
        );
        r.register(
            "rooms",
            "Rooms whose actor runs on this server",
            rooms.clone(),
        );
        r.register(
            "lines",
            "Public chat lines posted (typed or scheduled)",
            lines.clone(),
        );
        r.register(
            "deliveries",
            "Lines handed to participants on this server",
            deliveries.clone(),
        );
        r.register(
            "refusals",
            "Entries or lines refused, by reason",
            refused.clone(),
        );
        r.register("drops", "Connections cut, by reason", dropped.clone());
        r.register(
            "handshakes_in_flight",
            "Connections still in the SSH handshake or login",
            handshakes.clone(),
        );
        r.register(
            "schedule_firings",
            "Scheduled messages sent",
            schedule_firings.clone(),
        );
        let (nats_connected, leases_held, takeovers, rooms_followed) = Default::default();
        if clustered {
            r.register(
                "nats_connected",
                "1 while the NATS client is connected",
                Gauge::clone(&nats_connected),
            );
            r.register(
                "leases_held",
                "Room leases this node holds",
                Gauge::clone(&leases_held),
            );
            r.register(
                "takeovers",
                "Rooms taken over from their snapshot by this node",
                Counter::clone(&takeovers),
            );
            r.register(
                "rooms_followed",
                "Rooms whose events this node follows for its members (a subscription each)",
                Gauge::clone(&rooms_followed),
            );
        }
        // Every label made now: counting never takes the family's lock, and a scrape
        // shows every reason, at zero until it happens.
        let refusals = Refusal::ALL.map(|r| refused.get_or_create_owned(&[("reason", r.as_str())]));
        let drops = Cut::ALL.map(|c| dropped.get_or_create_owned(&[("reason", c.as_str())]));
        Metrics {
            registry,
            participants,
            rooms,
            lines,
            deliveries,
            handshakes,
            schedule_firings,
            nats_connected,
            leases_held,
            takeovers,
            rooms_followed,
            refusals,
            drops,
        }
    }

    /// Metrics that nobody reads, for rooms and admissions made outside a server (unit
    /// tests): shared, so making one costs nothing.
    pub fn detached() -> Arc<Metrics> {
        static DETACHED: OnceLock<Arc<Metrics>> = OnceLock::new();
        DETACHED
            .get_or_init(|| Arc::new(Metrics::new(false)))
            .clone()
    }

    /// Counts one refusal.
    pub fn refused(&self, why: Refusal) {
        self.refusals[why as usize].inc();
    }

    /// Counts `n` refusals.
    pub fn refused_by(&self, why: Refusal, n: u64) {
        if n > 0 {
            self.refusals[why as usize].inc_by(n);
        }
    }

    /// Counts one connection cut.
    pub fn cut(&self, why: Cut) {
        self.drops[why as usize].inc();
    }

    /// Counts `n` connections cut.
    pub fn cut_by(&self, why: Cut, n: u64) {
        if n > 0 {
            self.drops[why as usize].inc_by(n);
        }
    }

    /// The refusals so far for `why`.
    pub fn refusals(&self, why: Refusal) -> u64 {
        self.refusals[why as usize].get()
    }

    /// The cuts so far for `why`.
    pub fn drops(&self, why: Cut) -> u64 {
        self.drops[why as usize].get()
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

/// One more on `gauge` for as long as this lives (a joined participant, a running room,
/// a held lease).
pub struct Held(Gauge);

impl Held {
    /// Adds one to `gauge` until dropped.
    pub fn on(gauge: &Gauge) -> Held {
        gauge.inc();
        Held(gauge.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_shows_and_counts_are_per_instance() {
        let a = Metrics::new(false);
        let b = Metrics::new(true);
        a.refused(Refusal::PerIpCap);
        a.cut_by(Cut::SlowReader, 2);
        let held = Held::on(&a.participants);
        let text = a.encode();
        assert!(
            text.contains("ssh_chatroom_refusals_total{reason=\"per_ip_cap\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("ssh_chatroom_refusals_total{reason=\"too_long\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("ssh_chatroom_drops_total{reason=\"slow_reader\"} 2"),
            "{text}"
        );
        assert!(text.contains("ssh_chatroom_participants 1"), "{text}");
        assert!(!text.contains("nats_connected"), "{text}");
        drop(held);
        assert!(a.encode().contains("ssh_chatroom_participants 0"));
        let other = b.encode();
        assert!(other.contains("ssh_chatroom_refusals_total{reason=\"per_ip_cap\"} 0"));
        assert!(other.contains("ssh_chatroom_nats_connected 0"), "{other}");
        assert!(other.contains("ssh_chatroom_takeovers_total 0"), "{other}");
    }
}
