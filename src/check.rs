//! `ssh-chatroom check`: validates a configuration without starting the server and
//! reports the effective settings, the host key and the admins.

use std::fmt::Write;

use anyhow::Context;
use russh::keys::PrivateKey;

use crate::config::Config;
use crate::keys::{admin_keys, fingerprint};
use crate::names::NameRegistry;
use crate::room::schedule::ScheduleStore;

/// The report printed by `check`.
///
/// # Errors
/// The first setting that would stop the server from starting: an unreadable host key,
/// admins file, schedule, names or bans file, or a bad default room name.
pub fn report(config: &Config) -> anyhow::Result<String> {
    let mut out = String::from("# effective settings (flag > SSH_CHATROOM_* > file > default)\n");
    out.push_str(&toml::to_string(config).context("rendering the settings")?);
    let tz = config.time_zone();
    writeln!(out, "\n# time zone: {}", tz.name())?;
    let host_key = if config.host_key.exists() {
        let key = PrivateKey::read_openssh_file(&config.host_key)
            .with_context(|| format!("reading host key {}", config.host_key.display()))?;
        fingerprint(key.public_key())
    } else {
        "none yet: generated on first start".to_string()
    };
    writeln!(out, "# host key {}: {host_key}", config.host_key.display())?;
    let admins = admin_keys(config)?;
    if admins.is_empty() {
        writeln!(
            out,
            "# admins: none configured; the first participant is admin"
        )?;
    } else {
        writeln!(out, "# admins: {} key(s)", admins.len())?;
    }
    let default_room = config.default_room()?;
    writeln!(out, "# default room: {default_room}")?;
    let schedules = ScheduleStore::load(Some(config.schedules_file()), &default_room.to_string())?;
    writeln!(
        out,
        "# pending scheduled messages: {} in {} room(s)",
        schedules.count(),
        schedules.rooms().len()
    )?;
    NameRegistry::load(Some(config.names_file()), config.max_names_per_key)?;
    let (_, bans) = crate::bans::FileBans::load(config.bans_file())?;
    writeln!(out, "# bans kept: {}", bans.len())?;
    crate::preferences::FilePreferences::load(Some(config.preferences_file()))?;
    writeln!(out, "# configuration OK")?;
    Ok(out)
}
