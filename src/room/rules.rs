//! A room's own moderation state (SPEC §11): its co-admins, its mutes, its pinned notice
//! and its code. It names people, never nicknames, lives as long as the room, and
//! travels in the room's snapshot, so a takeover keeps it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::chat::nickname::Nickname;
use crate::participant::Person;

/// A person marked in a room: a co-admin, or muted (`until`: the mute's end, `None`
/// for ever or, for a co-admin, not used).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marked {
    pub person: Person,
    /// Their nickname when marked, or when last seen here: how lists and `/deop` name
    /// someone who has left.
    pub nick: String,
    pub until: Option<DateTime<Utc>>,
}

/// What a room's admins have set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRules {
    pub co_admins: Vec<Marked>,
    pub mutes: Vec<Marked>,
    /// The pinned notice.
    pub notice: Option<String>,
    /// Entering takes this code.
    pub code: Option<String>,
}

impl RoomRules {
    /// Whether `person` is a co-admin.
    pub fn is_co_admin(&self, person: Option<&Person>) -> bool {
        person.is_some_and(|p| self.co_admins.iter().any(|m| m.person == *p))
    }

    /// When `person`'s mute ends (`Some(None)`: never), if they are muted at `now`;
    /// ended mutes are forgotten on the way.
    pub fn muted(
        &mut self,
        person: Option<&Person>,
        now: DateTime<Utc>,
    ) -> Option<Option<DateTime<Utc>>> {
        self.mutes
            .retain(|m| m.until.is_none_or(|until| until > now));
        let person = person?;
        let mute = self.mutes.iter().find(|m| m.person == *person)?;
        Some(mute.until)
    }

    /// Where in `list` is `person`, or else whoever was marked under the nickname `nick`
    /// (ignoring case and look-alikes): how someone who has left is named.
    pub fn find(list: &[Marked], person: Option<&Person>, nick: &str) -> Option<usize> {
        let by_person = person.and_then(|p| list.iter().position(|m| m.person == *p));
        let wanted = Nickname::parse(nick).ok();
        by_person.or_else(|| {
            let wanted = wanted?;
            list.iter()
                .position(|m| Nickname::parse(&m.nick).is_ok_and(|n| n.key() == wanted.key()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mute_ends_on_time_and_one_for_ever_does_not() {
        let now = Utc::now();
        let bob = Person::Key("SHA256:bob".into());
        let carol = Person::Addr("10.0.0.3".parse().unwrap());
        let mut rules = RoomRules::default();
        rules.mutes.push(Marked {
            person: bob.clone(),
            nick: "bob".into(),
            until: Some(now + chrono::Duration::minutes(10)),
        });
        rules.mutes.push(Marked {
            person: carol.clone(),
            nick: "carol".into(),
            until: None,
        });
        assert!(rules.muted(Some(&bob), now).is_some());
        assert_eq!(rules.muted(Some(&carol), now), Some(None));
        let later = now + chrono::Duration::minutes(11);
        assert_eq!(rules.muted(Some(&bob), later), None);
        assert_eq!(rules.mutes.len(), 1, "the ended mute is forgotten");
        assert_eq!(rules.muted(None, later), None);
    }
}
