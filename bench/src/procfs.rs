//! What `/proc` tells about a process and about this machine: CPU time, RSS and the VM's
//! steal time. The server may be several processes (the nodes of a cluster, given as a
//! comma-separated `--server-pid`): [`Pids`] sums their figures.

use std::time::Duration;

/// The server's processes whose CPU time and RSS are reported: none, one, or several
/// (summed). A figure is `None` when any of them cannot be read.
#[derive(Debug, Clone, Default)]
pub struct Pids(Vec<u32>);

impl Pids {
    /// The processes `pids`.
    pub fn new(pids: Vec<u32>) -> Pids {
        Pids(pids)
    }

    /// CPU time used by all of them together.
    pub fn cpu_time(&self) -> Option<Duration> {
        self.sum(cpu_time)
    }

    /// `VmRSS` of all of them together, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        self.sum(rss_kib)
    }

    fn sum<T: std::iter::Sum<T>>(&self, read: impl Fn(u32) -> Option<T>) -> Option<T> {
        if self.0.is_empty() {
            return None;
        }
        self.0.iter().map(|&pid| read(pid)).sum()
    }
}

/// CPU time (user + system) process `pid` has used, from `/proc/PID/stat`.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at its closing ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // utime and stime are in clock ticks of USER_HZ, which is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time used since a reading of `before`, given a reading `now`.
pub fn elapsed_cpu(before: Option<Duration>, now: Option<Duration>) -> Option<Duration> {
    Some(now?.saturating_sub(before?))
}

/// CPU time this virtual machine's host has taken away from it (all CPUs), from the
/// `steal` column of `/proc/stat`: a run during which it grew was disturbed.
pub fn steal_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: u64 = cpu.split_whitespace().nth(7)?.parse().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// `VmRSS` of process `pid` in KiB, from `/proc/PID/status`.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_several_processes_are_summed() {
        let me = std::process::id();
        // Process 1's memory stands still; this process's moves with the other tests.
        let one = Pids::new(vec![1]).rss_kib().expect("init's RSS readable");
        let twice = Pids::new(vec![1, 1])
            .rss_kib()
            .expect("init's RSS readable");
        assert_eq!(twice, one * 2);
        assert!(Pids::new(vec![me]).cpu_time().is_some());
        assert!(Pids::default().cpu_time().is_none());
        assert!(Pids::new(vec![me, u32::MAX]).rss_kib().is_none());
    }
}
