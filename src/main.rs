//! The `ssh-chatroom` binary: settings, tracing, signals — nothing else.

use std::io::Write;

use ssh_chatroom::config::{self, Command, Config};
use ssh_chatroom::room::Clock;
use ssh_chatroom::server;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,russh=warn".into()),
        )
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

async fn serve(config: Config) -> anyhow::Result<()> {
    let tz = config.time_zone();
    let running = server::start(config, Clock::System).await?;
    // Handled before the start is announced: a supervisor may stop it right away.
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    // A closed stdout (a supervisor that stopped reading) must not stop the server.
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "ssh-chatroom listening on {} (time zone {})\nhost key fingerprint: {}",
        running.local_addr,
        tz.name(),
        running.host_key_fingerprint
    );
    let _ = stdout.flush();
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

/// `ssh-chatroom check`: validate, print the effective settings (and, with
/// `--cluster`, the cluster's nodes, rooms and participants), do not start.
async fn check(config: &Config) -> anyhow::Result<()> {
    let report = ssh_chatroom::check::report(config)?;
    print!("{report}");
    if !config.cluster.is_empty() {
        print!("{}", ssh_chatroom::cluster::report::report(config).await?);
    }
    Ok(())
}
