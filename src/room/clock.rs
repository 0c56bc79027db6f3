//! The room's wall clock, injectable so schedule tests never wait for a real minute.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// Where "now" comes from.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// The system's wall clock.
    System,
    /// `wall` at `instant`, advancing with tokio's clock (which tests may pause and
    /// advance by hand).
    Anchored {
        wall: DateTime<Utc>,
        instant: Instant,
    },
}

impl Clock {
    /// A clock that reads `wall` now and then runs at tokio's pace.
    pub fn starting_at(wall: DateTime<Utc>) -> Clock {
        Clock::Anchored {
            wall,
            instant: Instant::now(),
        }
    }

    /// The current wall-clock time.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Anchored { wall, instant } => {
                let elapsed = instant.elapsed();
                *wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
            }
        }
    }

    /// How long until `at` (zero if it has passed).
    pub fn until(&self, at: DateTime<Utc>) -> std::time::Duration {
        (at - self.now()).to_std().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn anchored_clock_follows_tokio_time() {
        let start: DateTime<Utc> = "2026-11-24T15:29:50Z".parse().unwrap();
        let clock = Clock::starting_at(start);
        tokio::time::advance(std::time::Duration::from_secs(10)).await;
        assert_eq!(
            clock.now(),
            "2026-11-24T15:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(clock.until(start), std::time::Duration::ZERO);
    }
}
