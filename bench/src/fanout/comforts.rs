//! The personal comforts' load (SPEC §12, issue 20): receivers with an ignore list and
//! lines that name someone, so every delivery runs the per-recipient work (the ignore
//! check, the mention search, the highlight and bell for the one named).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{FanoutArgs, User};
use crate::participant::Shared;

/// What follows each message's number: ` b<run>_<k>` for the share of lines that name
/// someone (user `k`, spread over everyone), else nothing.
pub fn suffixes(args: &FanoutArgs, run_id: &str) -> Vec<String> {
    if args.mention_share <= 0.0 {
        return Vec::new();
    }
    let share = args.mention_share.min(1.0);
    (0..args.messages)
        .map(|g| {
            let named = (g as f64 * share).floor() != ((g + 1) as f64 * share).floor();
            let k = g.wrapping_mul(7919) % args.users.max(1);
            if named {
                format!(" b{run_id}_{k}")
            } else {
                String::new()
            }
        })
        .collect()
}

/// Has the --ignorers (the users right after the senders) each `/ignore` --ignore-each
/// users who never send, and waits until the server has confirmed every one.
pub async fn ignore_some(
    args: &FanoutArgs,
    users: &[User],
    run_id: &str,
    shared: &Shared,
) -> anyhow::Result<()> {
    let first = args.senders;
    let ignorers = args.ignorers.min(args.users.saturating_sub(first));
    // The ignored: users who neither send nor ignore.
    let quiet: Vec<usize> = (first + ignorers..args.users).collect();
    if ignorers == 0 || args.ignore_each == 0 {
        return Ok(());
    }
    anyhow::ensure!(
        quiet.len() >= args.ignore_each,
        "--ignorers and --ignore-each need {} users who neither send nor ignore",
        args.ignore_each
    );
    for (n, user) in users[first..first + ignorers].iter().enumerate() {
        let writer = user.writer.as_ref().expect("ignorers do not send");
        let mut lines = String::new();
        for m in 0..args.ignore_each {
            let k = quiet[(n * args.ignore_each + m) % quiet.len()];
            lines.push_str(&format!("/ignore b{run_id}_{k}\r"));
        }
        writer.data_bytes(lines.into_bytes()).await?;
    }
    let wanted = ignorers * args.ignore_each;
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.ignoring.load(Ordering::Acquire) < wanted {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {wanted} /ignore were confirmed within 60 s",
            shared.ignoring.load(Ordering::Acquire)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
