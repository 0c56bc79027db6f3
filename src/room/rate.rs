//! The per-participant message rate limit: a token bucket on tokio's clock (so tests can
//! pause and advance it), plus the rule that turns sustained flooding into a disconnect.

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
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        let burst = f64::from(burst.max(1));
        RateLimiter {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
            strikes: 0,
        }
    }

    /// Decides on one line sent now.
    pub fn check(&mut self) -> Verdict {
        if self.rate <= 0.0 {
            return Verdict::Allowed;
        }
        let now = Instant::now();
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

    #[tokio::test(start_paused = true)]
    async fn burst_then_one_per_second() {
        let mut limiter = RateLimiter::new(1.0, 5);
        for _ in 0..5 {
            assert_eq!(limiter.check(), Verdict::Allowed);
        }
        assert_eq!(limiter.check(), Verdict::Refused { notify: true });
        assert_eq!(limiter.check(), Verdict::Refused { notify: false });
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(limiter.check(), Verdict::Allowed);
        assert_eq!(limiter.check(), Verdict::Refused { notify: true });
    }

    #[tokio::test(start_paused = true)]
    async fn sustained_flooding_is_detected_and_zero_rate_is_off() {
        let mut limiter = RateLimiter::new(1.0, 1);
        let verdicts: Vec<Verdict> = (0..=FLOOD_STRIKES).map(|_| limiter.check()).collect();
        assert_eq!(verdicts.last(), Some(&Verdict::Flooding));
        let mut off = RateLimiter::new(0.0, 1);
        assert!((0..1000).all(|_| off.check() == Verdict::Allowed));
    }
}
