//! The `ssh-chatroom` binary: settings, tracing, signals — nothing else.

use std::io::Write;

use ssh_chatroom::config::{self, Command, Config};
use ssh_chatroom::room::Clock;
use ssh_chatroom::server;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Colours only for a person at a terminal: not in a journal or a file, nor with
    // NO_COLOR set (https://no-color.org).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
    let cli = match config::load(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => match e.downcast::<clap::Error>() {
            Ok(clap_error) => clap_error.exit(),
            Err(e) => {
                eprintln!("ssh-chatroom: {e:#}");
                std::process::exit(2);
            }
        },
    };
    if let Some(Command::Check) = cli.command {
        return check(&cli.config).await;
    }
    // Many participants need many sockets: use all the descriptors we may.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit raised"),
        Err(error) => tracing::warn!(%error, "could not raise the open-file limit"),
    }
    if let Err(error) = serve(cli.config).await {
        // One line an operator can act on (the chain of causes, `: `-separated).
        eprintln!("ssh-chatroom: {error:#}");
        std::process::exit(1);
    }
    Ok(())
}

/// `RUST_LOG`, else `info` with russh's chatter left out. async-nats logs every event
/// at `info` (ten a second during a NATS outage): it is held to warnings unless
/// `RUST_LOG` names it, and the cluster logs its changes of contact itself, once each.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let wanted = std::env::var("RUST_LOG").unwrap_or_default();
    let base = match wanted.trim() {
        "" => "info,russh=warn",
        given => given,
    };
    let quiet = match wanted.contains("async_nats") {
        true => "",
        false => ",async_nats=warn",
    };
    tracing_subscriber::EnvFilter::try_new(format!("{base}{quiet}"))
        .unwrap_or_else(|_| "info,russh=warn,async_nats=warn".into())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let tz = config.time_zone();
    let cluster = shown_urls(&config.cluster);
    let running = server::start(config, Clock::System).await?;
    // Handled before the start is announced: a supervisor may stop it right away.
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    // A closed stdout (a supervisor that stopped reading) must not stop the server.
    let mut stdout = std::io::stdout();
    let mut banner = format!(
        "ssh-chatroom listening on {} (time zone {})\nhost key fingerprint: {}\n",
        running.local_addr,
        tz.name(),
        running.host_key_fingerprint
    );
    if let Some(node) = &running.node {
        banner.push_str(&format!("cluster: node {node} of {cluster}\n"));
    }
    if let Some(addr) = running.metrics_addr {
        banner.push_str(&format!(
            "metrics: http://{addr}/metrics, health: http://{addr}/healthz\n"
        ));
    }
    let _ = stdout.write_all(banner.as_bytes());
    let _ = stdout.flush();
    tracing::info!(listen = %running.local_addr, node = running.node.as_deref(), "started");
    let stop = running.shutdown_token();
    let reloader = running.reloader();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
                _ = hup.recv() => match reloader.reload().await {
                    Ok(admins) => tracing::info!(admins, "reloaded the admins file and reopened the logs"),
                    Err(error) => tracing::warn!(%error, "reload failed; keeping the old settings"),
                },
            }
        }
        tracing::info!("shutting down");
        stop.cancel();
    });
    running.wait().await;
    Ok(())
}

/// The NATS URLs as shown: without any user and password in them.
fn shown_urls(urls: &[String]) -> String {
    let shown: Vec<String> = urls
        .iter()
        .map(|url| match (url.split_once("://"), url.rsplit_once('@')) {
            (Some((scheme, _)), Some((_, host))) => format!("{scheme}://{host}"),
            _ => url.clone(),
        })
        .collect();
    shown.join(",")
}

/// `ssh-chatroom check`: validate, print the effective settings (and, with
/// `--cluster`, the cluster's nodes, rooms and participants), do not start.
async fn check(config: &Config) -> anyhow::Result<()> {
    let report = ssh_chatroom::check::report(config)?;
    print!("{report}");
    if !config.cluster.is_empty() {
        print!("{}", ssh_chatroom::server::cluster_report(config).await?);
    }
    Ok(())
}
