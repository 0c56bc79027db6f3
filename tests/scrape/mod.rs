//! Scraping `--metrics` as Prometheus would: a real HTTP client (curl) and a
//! Prometheus text-format parser (`prometheus-parse`), with waits under a timeout.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use crate::common::WAIT;

/// One `/metrics` answer, parsed.
pub struct Scrape {
    pub text: String,
    samples: Vec<prometheus_parse::Sample>,
}

impl Scrape {
    /// Parses `text`; every sample line must parse.
    pub fn parse(text: String) -> Scrape {
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let parsed = prometheus_parse::Scrape::parse(lines).expect("the text format parses");
        let sample_lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(
            parsed.samples.len(),
            sample_lines,
            "unparsed lines in:\n{text}"
        );
        assert!(!parsed.samples.is_empty(), "no samples:\n{text}");
        Scrape {
            text,
            samples: parsed.samples,
        }
    }

    /// The value of `name` (with label `reason` when given); NaN when absent.
    pub fn value(&self, name: &str, reason: Option<&str>) -> f64 {
        use prometheus_parse::Value;
        self.samples
            .iter()
            .find(|s| s.metric == name && reason.is_none_or(|r| s.labels.get("reason") == Some(r)))
            .map_or(f64::NAN, |s| match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
                _ => f64::NAN,
            })
    }

    /// Whether any sample is named `name`.
    pub fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|s| s.metric == name)
    }
}

/// `GET http://addr{path}` with curl: the status and the body.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let (status, kind, body) = get_typed(addr, path).await;
    if status == 200 && path == "/metrics" {
        assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    }
    (status, body)
}

async fn get_typed(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let url = format!("http://{addr}{path}");
    let out = tokio::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "-w",
            "\n%{http_code} %{content_type}",
            &url,
        ])
        .output()
        .await
        .expect("curl runs (apt-get install curl)");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, tail) = text.rsplit_once('\n').unwrap();
    let (code, kind) = tail.split_once(' ').unwrap_or((tail, ""));
    (code.parse().unwrap(), kind.to_string(), body.to_string())
}

/// Scrapes `/metrics` once.
pub async fn scrape(addr: SocketAddr) -> Scrape {
    let (status, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200, "{body}");
    Scrape::parse(body)
}

/// Scrapes until `ready` holds (at most [`WAIT`]); returns that scrape.
pub async fn wait_for(addr: SocketAddr, ready: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let scrape = scrape(addr).await;
        if ready(&scrape) {
            return scrape;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not reached within {WAIT:?}:\n{}",
            scrape.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /healthz` until it answers `status` (at most `within`).
pub async fn wait_for_health(addr: SocketAddr, status: u16, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (now, _) = get(addr, "/healthz").await;
        if now == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/healthz still {now}, not {status}, after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
