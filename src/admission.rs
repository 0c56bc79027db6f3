//! Admission of TCP connections: at most N per IP address, and at most M still in the
//! handshake or login. A new connection over the handshake cap evicts the oldest one
//! still logging in, so a flood of idle half-open connections can never lock real users
//! out; a connection over its IP's cap is let through the handshake only to be told why
//! it is refused.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use crate::metrics::{Cut, Metrics, Refusal};

#[derive(Default)]
struct State {
    per_ip: HashMap<IpAddr, usize>,
    /// Connections not yet joined, oldest first, with the token that cuts them.
    pending: VecDeque<(u64, CancellationToken)>,
    next_id: u64,
}

/// Shared admission bookkeeping for one listener.
pub struct Admission {
    max_per_ip: usize,
    max_pending: usize,
    state: Mutex<State>,
    /// Handshakes in flight, refusals and evictions are counted here.
    metrics: Arc<Metrics>,
}

/// One admitted connection; dropping it releases its slots.
pub struct Ticket {
    admission: Arc<Admission>,
    ip: IpAddr,
    id: u64,
    /// `Some(reason)` when this connection is over its IP's limit.
    pub refusal: Option<String>,
}

impl Admission {
    /// Limits of 0 mean no limit.
    pub fn new(max_per_ip: usize, max_pending: usize, metrics: Arc<Metrics>) -> Arc<Admission> {
        Arc::new(Admission {
            max_per_ip,
            max_pending,
            state: Mutex::new(State::default()),
            metrics,
        })
    }

    /// Shows the number of connections still logging in.
    fn count_pending(&self, state: &State) {
        let pending = i64::try_from(state.pending.len()).unwrap_or(i64::MAX);
        self.metrics.handshakes.set(pending);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is one step.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection from `ip`, cut through `kill` if it is later evicted.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, kill: CancellationToken) -> Ticket {
        let mut state = self.lock();
        let count = state.per_ip.entry(ip).or_insert(0);
        *count += 1;
        let refusal = (self.max_per_ip > 0 && *count > self.max_per_ip).then(|| {
            format!(
                "Too many connections from your address (max {}). Close one and try again.",
                self.max_per_ip
            )
        });
        if refusal.is_some() {
            self.metrics.refused(Refusal::PerIpCap);
        }
        if self.max_pending > 0 && state.pending.len() >= self.max_pending {
            if let Some((_, oldest)) = state.pending.pop_front() {
                tracing::info!("handshake cap reached: cutting the oldest pending connection");
                oldest.cancel();
                self.metrics.cut(Cut::HandshakeCap);
            }
        }
        let id = state.next_id;
        state.next_id += 1;
        state.pending.push_back((id, kill));
        self.count_pending(&state);
        Ticket {
            admission: self.clone(),
            ip,
            id,
            refusal,
        }
    }

    /// Connections still logging in.
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }
}

impl Ticket {
    /// The connection has joined (or run its exec command): it no longer holds a
    /// handshake slot.
    pub fn joined(&self) {
        let mut state = self.admission.lock();
        state.pending.retain(|(id, _)| *id != self.id);
        self.admission.count_pending(&state);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.admission.lock();
        state.pending.retain(|(id, _)| *id != self.id);
        self.admission.count_pending(&state);
        if let Some(count) = state.per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                state.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn per_ip_limit_refuses_the_extra_connection_and_frees_on_drop() {
        let admission = Admission::new(2, 0, Metrics::detached());
        let a = admission.admit(ip(1), CancellationToken::new());
        let b = admission.admit(ip(1), CancellationToken::new());
        let c = admission.admit(ip(1), CancellationToken::new());
        let other = admission.admit(ip(2), CancellationToken::new());
        assert!(a.refusal.is_none() && b.refusal.is_none() && other.refusal.is_none());
        assert!(c.refusal.as_deref().unwrap().contains("max 2"));
        drop((a, c));
        assert!(admission
            .admit(ip(1), CancellationToken::new())
            .refusal
            .is_none());
    }

    #[test]
    fn handshake_cap_evicts_the_oldest_pending() {
        let metrics = Arc::new(Metrics::new(false));
        let admission = Admission::new(0, 2, metrics.clone());
        let first = CancellationToken::new();
        let _a = admission.admit(ip(1), first.clone());
        let b = admission.admit(ip(2), CancellationToken::new());
        b.joined();
        let _c = admission.admit(ip(3), CancellationToken::new());
        assert!(!first.is_cancelled(), "joined connections free their slot");
        let _d = admission.admit(ip(4), CancellationToken::new());
        assert!(first.is_cancelled());
        assert_eq!(admission.pending(), 2);
        assert_eq!(metrics.handshakes.get(), 2);
        assert_eq!(metrics.drops(Cut::HandshakeCap), 1);
    }
}
