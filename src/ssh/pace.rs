//! The pace at which a connection's input is read: a token bucket in bytes. When a
//! client has used up its bucket, the handler waits before returning to russh, so russh
//! stops reading that socket and re-opening the client's SSH window: the client's own
//! `ssh` blocks, and one client typing as fast as it can costs the server a bounded
//! share of a core, never memory.

use std::time::Duration;

use tokio::time::Instant;

/// Bytes of input a connection may send per second, once its burst is spent. Far
/// above any typist or paste a chat needs (a paste is capped by the line editor anyway):
/// a 1 MB paste is read in about four seconds.
pub const INPUT_BYTES_PER_SECOND: u64 = 256 * 1024;
/// Bytes a connection may send at once before the pace applies.
pub const INPUT_BURST_BYTES: u64 = 64 * 1024;
/// The SSH window the server grants a client: what it may send before it must wait for
/// the server to read. A second of the pace: a chat needs no more, and a paced client
/// then has little in flight.
pub const INPUT_WINDOW_BYTES: u32 = 256 * 1024;
/// What one SSH message from the client costs besides its bytes: handling a message
/// (decrypting it, waking the session, redrawing the input line) costs far more than
/// a byte of it, so a flood of one-byte packets is paced too.
pub const MESSAGE_COST_BYTES: u64 = 256;

/// A token bucket of input bytes.
#[derive(Debug)]
pub struct InputPace {
    per_second: u64,
    burst: u64,
    /// Bytes that may still be taken without waiting, as of `at`; negative is a debt.
    tokens: i64,
    at: Instant,
}

impl InputPace {
    /// A full bucket of `burst` bytes refilled at `per_second`.
    pub fn new(per_second: u64, burst: u64, now: Instant) -> InputPace {
        InputPace {
            per_second: per_second.max(1),
            burst,
            tokens: i64::try_from(burst).unwrap_or(i64::MAX),
            at: now,
        }
    }

    /// The default pace for a connection.
    pub fn for_connection(now: Instant) -> InputPace {
        InputPace::new(INPUT_BYTES_PER_SECOND, INPUT_BURST_BYTES, now)
    }

    /// Takes a message of `bytes` arriving at `now`; returns how long to wait before
    /// reading the next one (zero while the bucket is not empty).
    pub fn take(&mut self, bytes: usize, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.at);
        let refill = elapsed.as_nanos() * u128::from(self.per_second) / 1_000_000_000;
        let burst = i64::try_from(self.burst).unwrap_or(i64::MAX);
        let refilled = i128::from(self.tokens) + i128::try_from(refill).unwrap_or(i128::MAX);
        self.tokens = i64::try_from(refilled.min(i128::from(burst))).unwrap_or(burst);
        self.at = now;
        let cost = bytes as u64 + MESSAGE_COST_BYTES;
        self.tokens = self
            .tokens
            .saturating_sub(i64::try_from(cost).unwrap_or(i64::MAX));
        if self.tokens >= 0 {
            return Duration::ZERO;
        }
        let debt = self.tokens.unsigned_abs();
        Duration::from_nanos(debt.saturating_mul(1_000_000_000) / self.per_second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_is_free_then_input_waits_for_the_pace() {
        let start = Instant::now();
        let mut pace = InputPace::new(1000, 2000, start);
        // 744 + 256 = 1000 bytes each: two fit in the burst.
        assert_eq!(pace.take(744, start), Duration::ZERO);
        assert_eq!(pace.take(744, start), Duration::ZERO);
        assert_eq!(pace.take(744, start), Duration::from_secs(1));
        // Having waited that second, the debt is paid; the next costs another second.
        let later = start + Duration::from_secs(1);
        assert_eq!(pace.take(744, later), Duration::from_secs(1));
    }

    #[test]
    fn an_idle_connection_earns_back_its_burst_but_no_more() {
        let start = Instant::now();
        let mut pace = InputPace::new(1000, 2000, start);
        assert_eq!(pace.take(1744, start), Duration::ZERO);
        let much_later = start + Duration::from_secs(3600);
        assert_eq!(pace.take(1744, much_later), Duration::ZERO);
        assert_eq!(pace.take(744, much_later), Duration::from_secs(1));
    }

    #[test]
    fn empty_messages_are_paced_too() {
        let start = Instant::now();
        let mut pace = InputPace::new(256 * 10, 0, start);
        // Ten empty messages a second, whatever their size.
        assert_eq!(pace.take(0, start), Duration::from_millis(100));
    }

    #[test]
    fn over_any_stretch_input_never_beats_the_pace() {
        // Whatever the message sizes, the bytes taken by time t are at most
        // burst + rate * t, where t counts the waits the pace asked for.
        let start = Instant::now();
        let mut pace = InputPace::for_connection(start);
        let mut now = start;
        let mut taken = 0u64;
        for size in [1usize, 32 * 1024, 7, 0, 16 * 1024, 1, 32 * 1024].repeat(50) {
            now += pace.take(size, now);
            taken += size as u64 + MESSAGE_COST_BYTES;
            let allowed = INPUT_BURST_BYTES
                + INPUT_BYTES_PER_SECOND * (now - start).as_nanos() as u64 / 1_000_000_000;
            // The last message may be in debt until its wait is over.
            assert!(taken <= allowed + 32 * 1024 + MESSAGE_COST_BYTES);
        }
    }
}
