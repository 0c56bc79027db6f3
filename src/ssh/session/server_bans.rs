//! The server admins' commands of SPEC §11 that reach the whole server: `/ban`,
//! `/unban`, `/bans`. A ban is on a key, an address, or both with the name they had;
//! the ban list keeps it and every room puts its people out.

use std::net::IpAddr;

use crate::bans::Ban;
use crate::chat::duration::Lasting;
use crate::chat::moderation::Moderation;
use crate::chat::text::sanitize;
use crate::ssh::SessionDeps;

use super::presence::Presence;

/// How long `/ban` lasts when no duration is given.
const BAN_DEFAULT: Lasting = Lasting::For(std::time::Duration::from_secs(24 * 3600));

/// Runs a server-wide moderation command for `me`; returns the reply.
pub(super) async fn run(me: &Presence, deps: &SessionDeps, command: Moderation) -> String {
    let (verb, needs_admin) = match &command {
        Moderation::Ban { .. } => ("ban", true),
        Moderation::Unban { .. } => ("unban", true),
        Moderation::Bans => ("bans", true),
        _ => ("", false),
    };
    if needs_admin && !deps.rooms.is_server_admin(me.who.key.as_deref()) {
        return format!("Only a server admin can use /{verb}.");
    }
    let bans = deps.rooms.bans();
    let now = deps.clock.now();
    match command {
        Moderation::Ban {
            target,
            lasting,
            reason,
        } => match on_whom(me, deps, &target).await {
            Ok(mut ban) => {
                let lasting = lasting.unwrap_or(BAN_DEFAULT);
                ban.until = match lasting {
                    Lasting::For(d) => {
                        Some(now + chrono::Duration::from_std(d).unwrap_or_default())
                    }
                    Lasting::Forever => None,
                };
                ban.reason = sanitize(&reason);
                ban.by = me.who.nick.to_string();
                match bans.add(ban.clone(), now).await {
                    Ok(()) => {
                        let (label, until) = (ban.label(), bans.until(&ban));
                        let why = format!(": {}", ban.reason);
                        let text = format!("{label} {until} by {}{why}", ban.by);
                        deps.log.event("BAN", text);
                        format!("{label} is banned {until}.")
                    }
                    Err(refused) => refused.to_string(),
                }
            }
            Err(refusal) => refusal,
        },
        Moderation::Unban { target } => {
            let shown = shown(&target);
            match bans.lift(&target).await {
                Ok(lifted) if lifted.is_empty() => format!("{shown} is not banned."),
                Ok(lifted) => {
                    for ban in &lifted {
                        let text = format!("{} by {}", ban.label(), me.who.nick);
                        deps.log.event("UNBAN", text);
                    }
                    format!("{shown} is no longer banned.")
                }
                Err(_) => "The ban could not be lifted; try again.".into(),
            }
        }
        Moderation::Bans => bans.list_line(now),
        _ => "not a server command".into(),
    }
}

/// Who `/ban target` is on: a key's fingerprint, an address, or the key and address of
/// whoever is online under that name (or the key it is registered to).
async fn on_whom(me: &Presence, deps: &SessionDeps, target: &str) -> Result<Ban, String> {
    let mut ban = Ban {
        name: None,
        key: None,
        ip: None,
        room: None,
        until: None,
        reason: String::new(),
        by: String::new(),
    };
    if target.starts_with("SHA256:") {
        ban.key = Some(target.to_string());
    } else if let Ok(ip) = target.parse::<IpAddr>() {
        ban.ip = Some(ip);
    } else if let Some(claim) = deps.names.find(target).await {
        ban.name = Some(claim.nick);
        ban.key = claim.key;
        ban.ip = claim.addr;
    } else if let Some(registration) = deps.names.registration_of(target).await {
        ban.name = Some(registration.name);
        ban.key = Some(registration.key);
    } else {
        return Err(format!("No user named \"{}\" is online.", shown(target)));
    }
    let mine = me.who.key.is_some() && ban.key == me.who.key;
    let my_ip = me.who.addr.map(|a| a.ip());
    if mine || (ban.key.is_none() && ban.ip.is_some() && ban.ip == my_ip) {
        return Err("You cannot ban yourself.".into());
    }
    if deps.rooms.is_server_admin(ban.key.as_deref()) {
        return Err("You cannot ban a server admin.".into());
    }
    if ban.key.is_none() && ban.ip.is_none() {
        return Err(format!("{} cannot be told apart from others.", ban.label()));
    }
    Ok(ban)
}

/// A target as typed, made safe to show.
fn shown(raw: &str) -> String {
    sanitize(raw).chars().take(64).collect()
}
