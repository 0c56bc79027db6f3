//! The `ssh-chatroom` binary: flags, tracing, signals — nothing else.

use clap::Parser;
use ssh_chatroom::config::Config;
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
    let config = Config::parse();
    let tz = config.time_zone();
    let running = server::start(config, Clock::System).await?;
    println!(
        "ssh-chatroom listening on {} (time zone {})",
        running.local_addr,
        tz.name()
    );
    println!("host key fingerprint: {}", running.host_key_fingerprint);
    let stop = running.shutdown_token();
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
        stop.cancel();
    });
    running.wait().await;
    Ok(())
}
