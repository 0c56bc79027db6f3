//! Admission of TCP connections: at most N per IP address, and at most M still in the
//! handshake or login. A new connection over the handshake cap evicts the oldest one
//! still logging in, so a flood of idle half-open connections can never lock real users
//! out; a connection over its IP's cap is let through the handshake only to be told why
//! it is refused. A connection through a trusted proxy counts against its client's
//! address, known once its PROXY header is read.

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
    /// The address this connection counts against, once known.
    ip: Option<IpAddr>,
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
        let mut ticket = self.arrive(kill);
        ticket.count_address(ip);
        ticket
    }

    /// Registers a new connection whose address is not known yet (a trusted proxy's,
    /// until its PROXY header names the client): it takes a handshake slot at once, and
    /// counts against its address with [`Ticket::count_address`].
    pub fn arrive(self: &Arc<Self>, kill: CancellationToken) -> Ticket {
        let mut state = self.lock();
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
            ip: None,
            id,
            refusal: None,
        }
    }

    /// Connections still logging in.
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }
}

impl Ticket {
    /// Counts this connection against `ip` (once); sets [`Ticket::refusal`] when that
    /// address is over its limit.
    pub fn count_address(&mut self, ip: IpAddr) {
        if self.ip.is_some() {
            return;
        }
        let max = self.admission.max_per_ip;
        let mut state = self.admission.lock();
        let count = state.per_ip.entry(ip).or_insert(0);
        *count += 1;
        self.refusal = (max > 0 && *count > max).then(|| {
            format!("Too many connections from your address (max {max}). Close one and try again.")
        });
        drop(state);
        if self.refusal.is_some() {
            self.admission.metrics.refused(Refusal::PerIpCap);
        }
        self.ip = Some(ip);
    }

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
        let Some(ip) = self.ip else { return };
        if let Some(count) = state.per_ip.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                state.per_ip.remove(&ip);
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

    /// Behind a trusted proxy the address is known only after the PROXY header: the
    /// connection holds a handshake slot meanwhile, and no address's count.
    #[test]
    fn an_address_counted_late_is_capped_like_any_other() {
        let admission = Admission::new(1, 0, Arc::new(Metrics::new(false)));
        let mut waiting = admission.arrive(CancellationToken::new());
        assert_eq!(admission.pending(), 1);
        let first = admission.admit(ip(1), CancellationToken::new());
        assert!(first.refusal.is_none());
        waiting.count_address(ip(1));
        assert!(waiting.refusal.is_some());
        drop((first, waiting));
        let mut again = admission.arrive(CancellationToken::new());
        again.count_address(ip(1));
        assert!(again.refusal.is_none(), "both slots were freed");
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
