//! The room's clock, injectable so schedule and notice tests never wait for a real
//! minute or race a real second.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

/// Where "now" comes from.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system's wall clock.
    System,
    /// `wall` at `instant`, advancing with tokio's clock (which tests may pause and
    /// advance by hand).
    Anchored {
        wall: DateTime<Utc>,
        instant: Instant,
    },
    /// A clock that stands still until a test moves it.
    Manual(ManualClock),
}

/// The hands of a [`Clock::Manual`]; clones share them.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<DateTime<Utc>>>,
    /// What [`Clock::instant`] reads when the clock shows `start`.
    start: (DateTime<Utc>, Instant),
}

impl ManualClock {
    /// Moves the clock forward by `by`; the room notices at once.
    pub fn advance(&self, by: std::time::Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        self.now.send_modify(|now| *now += by);
    }

    /// Moves the clock to `at` (forward).
    pub fn set(&self, at: DateTime<Utc>) {
        self.now.send_modify(|now| *now = at.max(*now));
    }
}

impl Clock {
    /// A clock that reads `wall` now and then runs at tokio's pace.
    pub fn starting_at(wall: DateTime<Utc>) -> Clock {
        Clock::Anchored {
            wall,
            instant: Instant::now(),
        }
    }

    /// A clock that reads `wall` until moved through the returned hands.
    pub fn manual(wall: DateTime<Utc>) -> (Clock, ManualClock) {
        let hands = ManualClock {
            now: Arc::new(watch::Sender::new(wall)),
            start: (wall, Instant::now()),
        };
        (Clock::Manual(hands.clone()), hands)
    }

    /// The current wall-clock time.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Anchored { wall, instant } => {
                let elapsed = instant.elapsed();
                *wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
            }
            Clock::Manual(hands) => *hands.now.borrow(),
        }
    }

    /// The current monotonic time: tokio's, or for a manual clock the start plus how far
    /// it has been moved.
    pub fn instant(&self) -> Instant {
        match self {
            Clock::System | Clock::Anchored { .. } => Instant::now(),
            Clock::Manual(hands) => {
                let (wall, instant) = hands.start;
                instant + (self.now() - wall).to_std().unwrap_or_default()
            }
        }
    }

    /// How long until `at` (zero if it has passed).
    pub fn until(&self, at: DateTime<Utc>) -> std::time::Duration {
        (at - self.now()).to_std().unwrap_or_default()
    }

    /// How long until the monotonic `at` (zero if it has passed).
    pub fn until_instant(&self, at: Instant) -> std::time::Duration {
        at.saturating_duration_since(self.instant())
    }

    /// Waits until this clock's monotonic time reaches `deadline`.
    pub async fn sleep_until(&self, deadline: Instant) {
        let mut moves = self.moves();
        loop {
            let wait = self.until_instant(deadline);
            if wait.is_zero() {
                return;
            }
            match &mut moves {
                Some(moved) => tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = moved.changed() => {}
                },
                None => tokio::time::sleep(wait).await,
            }
        }
    }

    /// For a manual clock, a receiver that wakes whenever the clock is moved.
    pub fn moves(&self) -> Option<watch::Receiver<DateTime<Utc>>> {
        match self {
            Clock::Manual(hands) => Some(hands.now.subscribe()),
            _ => None,
        }
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

    #[tokio::test]
    async fn a_manual_clock_moves_only_when_told_and_says_so() {
        let start: DateTime<Utc> = "2026-11-24T15:29:50Z".parse().unwrap();
        let (clock, hands) = Clock::manual(start);
        let mut moves = clock.moves().unwrap();
        let before = clock.instant();
        assert_eq!(clock.now(), start);
        hands.advance(std::time::Duration::from_secs(10));
        moves.changed().await.unwrap();
        assert_eq!(
            clock.until(start + chrono::Duration::seconds(10)),
            std::time::Duration::ZERO
        );
        assert_eq!(clock.instant() - before, std::time::Duration::from_secs(10));
    }
}
