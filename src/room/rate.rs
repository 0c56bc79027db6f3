//! The per-participant message rate limit: a token bucket on the time each line comes
//! with, plus the rule that turns sustained flooding into a disconnect.

use tokio::time::Instant;

/// Refused lines in a row, without one accepted line between them, that count as
/// flooding and get the sender disconnected.
pub const FLOOD_STRIKES: u32 = 20;

/// What the limiter says about one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused; `notify` is true for the first refusal of a streak only, so a flooder
    /// cannot fill its own outbox with notices.
    Refused {
        notify: bool,
    },
    /// Too many refusals in a row: disconnect.
    Flooding,
}

/// A token bucket: `burst` tokens, refilled at `rate` per second. A rate of 0 allows all.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    strikes: u32,
}

impl RateLimiter {
    /// A full bucket at `now`.
    pub fn new(rate: f64, burst: u32, now: Instant) -> RateLimiter {
        let burst = f64::from(burst.max(1));
        RateLimiter {
            rate,
            burst,
            tokens: burst,
            last: now,
            strikes: 0,
        }
    }

    /// Decides on one line sent at `now`.
    pub fn check(&mut self, now: Instant) -> Verdict {
        if self.rate <= 0.0 {
            return Verdict::Allowed;
        }
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            return Verdict::Allowed;
        }
        self.strikes += 1;
        if self.strikes >= FLOOD_STRIKES {
            Verdict::Flooding
        } else {
            Verdict::Refused {
                notify: self.strikes == 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_one_per_second() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(1.0, 5, start);
        for _ in 0..5 {
            assert_eq!(limiter.check(start), Verdict::Allowed);
        }
        assert_eq!(limiter.check(start), Verdict::Refused { notify: true });
        assert_eq!(limiter.check(start), Verdict::Refused { notify: false });
        let later = start + Duration::from_secs(1);
        assert_eq!(limiter.check(later), Verdict::Allowed);
        assert_eq!(limiter.check(later), Verdict::Refused { notify: true });
    }

    #[test]
    fn sustained_flooding_is_detected_and_zero_rate_is_off() {
        let now = Instant::now();
        let mut limiter = RateLimiter::new(1.0, 1, now);
        let verdicts: Vec<Verdict> = (0..=FLOOD_STRIKES).map(|_| limiter.check(now)).collect();
        assert_eq!(verdicts.last(), Some(&Verdict::Flooding));
        let mut off = RateLimiter::new(0.0, 1, now);
        assert!((0..1000).all(|_| off.check(now) == Verdict::Allowed));
    }
}
