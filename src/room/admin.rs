//! Who is admin: configured keys, or else the first participant, with the role passed
//! on to the longest-present one when its holder leaves.

use std::collections::HashSet;

use super::state::{Participant, Room};
use crate::chat::line::ChatLine;

impl Room {
    /// With no configured admins, a departing admin's role goes to the longest-present
    /// participant.
    pub(super) fn pass_admin_on(&mut self, gone: &Participant) {
        if !gone.admin || !self.config.admin_keys.is_empty() {
            return;
        }
        if self.participants.iter().any(|p| p.admin) {
            return;
        }
        let Some(heir) = self.participants.first_mut() else {
            return;
        };
        heir.admin = true;
        let name = heir.nick.to_string();
        self.log.event("ADMIN", &name);
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
            if !self.participants.iter().any(|p| p.admin) {
                if let Some(first) = self.participants.first_mut() {
                    first.admin = true;
                    promoted.push(first.nick.to_string());
                }
            }
        } else {
            for p in &mut self.participants {
                let admin = p
                    .key
                    .as_ref()
                    .is_some_and(|k| self.config.admin_keys.contains(k));
                if admin && !p.admin {
                    promoted.push(p.nick.to_string());
                }
                p.admin = admin;
            }
        }
        for name in promoted {
            self.log.event("ADMIN", &name);
            let line = ChatLine::server(format!("{name} is now the admin.")).shared();
            self.broadcast(&line);
        }
        self.reap_stalled();
    }
}
