//! Who is admin: configured keys, or else the first participant, with the role passed
//! on to the longest-present one when its holder leaves.

use std::collections::HashSet;

use super::state::{Member, RoomState};
use super::Entrant;
use crate::chat::line::ChatLine;

impl RoomState {
    /// Whether this room has an admin of its own (its creator, or with no server admins
    /// configured its first participant) whose role passes on.
    fn has_own_admin(&self) -> bool {
        self.config.creator_is_admin || self.config.admin_keys.is_empty()
    }

    /// Whether a newcomer is an admin: a server admin's key, the room's creator, or the
    /// first participant of a room with nobody to run it.
    pub(super) fn admin_at_join(&self, request: &Entrant) -> bool {
        let server_admin = request
            .who
            .key
            .as_ref()
            .is_some_and(|k| self.config.admin_keys.contains(k));
        let first = self.has_own_admin() && !self.members.iter().any(|p| p.admin);
        server_admin || (self.config.creator_is_admin && request.creator) || first
    }

    /// With no configured admins, a departing admin's role goes to the longest-present
    /// participant.
    pub(super) fn pass_admin_on(&mut self, gone: &Member) {
        if !gone.admin || !self.has_own_admin() {
            return;
        }
        if self.members.iter().any(|p| p.admin) {
            return;
        }
        let Some(at) = self.heir() else {
            return;
        };
        self.promoted(at);
        let heir = &mut self.members[at];
        heir.admin = true;
        let name = heir.who.nick.to_string();
        self.log("ADMIN", &name);
        let line = ChatLine::server(format!("{name} is now the admin.")).shared();
        self.broadcast(&line);
    }

    /// New admin keys: admins are now exactly their holders (or, with none, whoever was
    /// admin stays, and someone is made admin if nobody is). Newcomers to the role are
    /// announced.
    pub fn set_admin_keys(&mut self, keys: HashSet<String>) {
        self.config.admin_keys = keys;
        let mut promoted = Vec::new();
        if self.config.admin_keys.is_empty() {
            if !self.members.iter().any(|p| p.admin) {
                if let Some(first) = self.members.first_mut() {
                    first.admin = true;
                    promoted.push(first.who.nick.to_string());
                }
            }
        } else {
            for p in &mut self.members {
                let admin = p
                    .who
                    .key
                    .as_ref()
                    .is_some_and(|k| self.config.admin_keys.contains(k));
                if admin && !p.admin {
                    promoted.push(p.who.nick.to_string());
                }
                // A made room keeps the admin its creator handed on.
                p.admin = admin || (self.config.creator_is_admin && p.admin);
            }
        }
        for name in promoted {
            self.log("ADMIN", &name);
            let line = ChatLine::server(format!("{name} is now the admin.")).shared();
            self.broadcast(&line);
        }
    }
}
