//! Percentiles over raw samples (nearest rank) and the report's number formats.

use std::time::Duration;

use serde::Serialize;

/// A latency distribution in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Distribution {
    /// Summarises samples given in nanoseconds; `None` when there are none.
    pub fn from_nanos(mut samples: Vec<u64>) -> Option<Distribution> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let rank = |p: f64| {
            let i = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            ms(samples[i - 1])
        };
        let sum: u128 = samples.iter().map(|&s| u128::from(s)).sum();
        Some(Distribution {
            count: samples.len(),
            p50_ms: rank(0.50),
            p90_ms: rank(0.90),
            p99_ms: rank(0.99),
            max_ms: ms(*samples.last().expect("not empty")),
            mean_ms: round3(sum as f64 / samples.len() as f64 / 1e6),
        })
    }

    /// `p50 0.412 / p90 0.700 / p99 1.234 / max 5.000 ms`
    pub fn human(&self) -> String {
        format!(
            "p50 {:.3} / p90 {:.3} / p99 {:.3} / max {:.3} ms (mean {:.3}, n={})",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms, self.mean_ms, self.count
        )
    }
}

fn ms(nanos: u64) -> f64 {
    round3(nanos as f64 / 1e6)
}

/// Rounds to three decimals (microseconds, for figures in ms).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Nanoseconds in `d`, saturating.
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let d = Distribution::from_nanos((1..=100).map(|i| i * 1_000_000).collect()).unwrap();
        assert_eq!(
            (d.p50_ms, d.p90_ms, d.p99_ms, d.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(d.mean_ms, 50.5);
        assert!(Distribution::from_nanos(Vec::new()).is_none());
    }
}
