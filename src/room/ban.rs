//! The kick ban of SPEC §8: a kicked participant may not come back into the room for
//! `--kick-ban`, recognised by their key, or by their address when they had none.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::state::{Participant, Room};
use super::JoinRequest;

/// Someone who was kicked.
#[derive(Debug, Clone)]
pub struct Ban {
    key: Option<String>,
    ip: Option<IpAddr>,
    until: DateTime<Utc>,
}

impl Room {
    /// Bans `p` from this room for the configured time.
    pub(super) fn ban(&mut self, p: &Participant) {
        let Ok(length) = chrono::Duration::from_std(self.config.kick_ban) else {
            return;
        };
        if length.is_zero() {
            return;
        }
        let (key, ip) = match &p.key {
            Some(key) => (Some(key.clone()), None),
            None => (None, p.addr.map(|a| a.ip())),
        };
        if key.is_none() && ip.is_none() {
            return;
        }
        let until = self.clock().now() + length;
        self.bans.push(Ban { key, ip, until });
    }

    /// When a ban on the asker ends, as `HH:MM` in the room's time zone (rounded up to
    /// the minute, so "after 15:42" is true).
    pub(super) fn banned_until(&mut self, request: &JoinRequest) -> Option<String> {
        let now = self.clock().now();
        self.bans.retain(|b| b.until > now);
        let ip = request.addr.map(|a| a.ip());
        let ban = self.bans.iter().find(|b| match &b.key {
            Some(key) => request.key.as_ref() == Some(key),
            None => b.ip.is_some() && b.ip == ip,
        })?;
        let up = ban.until + chrono::Duration::seconds(59);
        Some(
            up.with_timezone(&self.config.tz)
                .format("%H:%M")
                .to_string(),
        )
    }
}
