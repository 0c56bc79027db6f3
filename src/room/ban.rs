//! Who may come in: the room's capacity, and the kick ban of SPEC §8 (a kicked
//! participant may not come back for `--kick-ban`, recognised by their key, or by their
//! address when they had none).

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};

use super::event::RoomEvent;
use super::state::{Member, RoomState};
use super::{Entrant, JoinError, ParticipantId};
use crate::chat::line::ChatLine;
use crate::chat::room_name::RoomName;

/// Someone who was kicked.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Ban {
    key: Option<String>,
    ip: Option<IpAddr>,
    until: DateTime<Utc>,
}

impl RoomState {
    /// Whether someone with `key` from `addr` may come in now; a refusal is logged and
    /// nobody inside notices it.
    ///
    /// # Errors
    /// [`JoinError::Full`] or [`JoinError::Banned`].
    pub fn admit(&mut self, entrant: &Entrant) -> Result<(), JoinError> {
        let (key, addr) = (entrant.who.key.as_deref(), entrant.who.addr);
        let (count, capacity) = self.occupancy();
        let who = addr.map(|a| a.to_string()).unwrap_or_default();
        if count >= capacity {
            self.log("REFUSED", format!("{who} room full ({count}/{capacity})"));
            return Err(JoinError::Full { count, capacity });
        }
        if let Some(until) = self.banned_until(key, addr) {
            self.log("REFUSED", format!("{who} kicked until {until}"));
            let room = self.config.name.clone();
            return Err(JoinError::Banned { room, until });
        }
        self.check_code(entrant)
    }

    /// A locked room lets in those who give its code, its co-admins and the server's
    /// admins (those inside already stay).
    fn check_code(&mut self, entrant: &Entrant) -> Result<(), JoinError> {
        let room = self.config.name.clone();
        let bare = room.trim_start_matches('#').to_string();
        let Some(code) = self.rules.code.as_deref() else {
            if entrant.creator && entrant.code.is_some() {
                let words = [bare.as_str(), entrant.code.as_deref().unwrap_or_default()];
                return Err(JoinError::NoSuchRoom(words.join("-")));
            }
            return Ok(());
        };
        let keys = &self.config.admin_keys;
        let server_admin = entrant.who.key.as_ref().is_some_and(|k| keys.contains(k));
        if server_admin || self.rules.is_co_admin(entrant.who.person().as_ref()) {
            return Ok(());
        }
        let who = entrant.who.addr.map(|a| a.to_string()).unwrap_or_default();
        match entrant.code.as_deref() {
            Some(given) if given == code => Ok(()),
            Some(_) => {
                self.log("REFUSED", format!("{who} wrong code"));
                Err(JoinError::WrongCode { room })
            }
            None => {
                self.log("REFUSED", format!("{who} no code"));
                Err(JoinError::NeedsCode { room, bare })
            }
        }
    }

    /// Bans `p` from this room for the configured time.
    pub(super) fn ban(&mut self, p: &Member) {
        let Ok(length) = chrono::Duration::from_std(self.config.kick_ban) else {
            return;
        };
        if length.is_zero() {
            return;
        }
        let (key, ip) = match &p.who.key {
            Some(key) => (Some(key.clone()), None),
            None => (None, p.who.addr.map(|a| a.ip())),
        };
        if key.is_none() && ip.is_none() {
            return;
        }
        let now = self.now.wall;
        // Expired bans go first, so kicking in a loop cannot grow the list.
        self.bans.retain(|b| b.until > now);
        self.bans.push(Ban {
            key: key.clone(),
            ip,
            until: now + length,
        });
        let room = RoomName::parse(&self.config.name).map(|r| r.key().to_string());
        self.emit(RoomEvent::KickBanned(crate::bans::Ban {
            name: Some(p.who.nick.to_string()),
            key,
            ip,
            room: room.ok(),
            until: Some(now + length),
            reason: "kicked".into(),
            by: String::new(),
        }));
    }

    /// Puts out whoever `ban` is on, telling them `told`: those with its key, or for a
    /// ban without one, those from its address (others who share the address stay, and
    /// are refused only when they come again). The room hears that they were banned.
    pub fn put_out(&mut self, ban: &crate::bans::Ban, told: &str) {
        let hit: Vec<ParticipantId> = self
            .members
            .iter()
            .filter(|m| match &ban.key {
                Some(key) => m.who.key.as_ref() == Some(key),
                None => ban.ip.is_some() && m.who.addr.map(|a| a.ip()) == ban.ip,
            })
            .map(|m| m.who.id)
            .collect();
        for id in hit {
            let Some(gone) = self.expel(id, ChatLine::server(told)) else {
                continue;
            };
            self.log("BANNED", format!("{} ({})", gone.who.nick, ban.label()));
            let line = ChatLine::server(format!("{} has been banned.", gone.who.nick));
            self.broadcast(&line.shared());
            self.pass_admin_on(&gone);
        }
    }

    /// When a ban on `key` or `addr` ends, as `HH:MM` in the room's time zone (rounded up
    /// to the minute, so "after 15:42" is true).
    fn banned_until(&mut self, key: Option<&str>, addr: Option<SocketAddr>) -> Option<String> {
        let now = self.now.wall;
        self.bans.retain(|b| b.until > now);
        let ip = addr.map(|a| a.ip());
        let ban = self.bans.iter().find(|b| match &b.key {
            Some(banned) => key == Some(banned.as_str()),
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
