//! What the personal comforts (SPEC §12) ask of the names: being away (kept in the
//! claim, so a whisper from any room or node learns it), finding someone again by id
//! after a rename (`/reply`), and whether a key has a registered name (its settings are
//! then remembered).

use super::{Claim, NameRegistry};
use crate::chat::nickname::Nickname;
use crate::participant::ParticipantId;

impl NameRegistry {
    /// Participant `id`, online as `nick`, is away for `reason` (empty: none given), or
    /// back (`None`). False if the store could not be told.
    pub async fn set_away(&self, nick: &Nickname, id: ParticipantId, away: Option<String>) -> bool {
        match self.online(nick.key()).await {
            Ok(Some(mut mine)) if mine.id == id => {
                mine.away = away;
                matches!(self.store.take(nick.key(), mine).await, Ok(Ok(_)))
            }
            _ => false,
        }
    }

    /// Participant `id` where they are online now: under `last_seen` if they still use
    /// it, else under whatever name they renamed to.
    pub async fn find_participant(&self, id: ParticipantId, last_seen: &str) -> Option<Claim> {
        let found = self.find_participants(&[(id, last_seen)]).await;
        found.into_iter().next()
    }

    /// [`NameRegistry::find_participant`] for several: each looked up under the name
    /// last seen, and those who renamed found by one scan.
    pub async fn find_participants(&self, wanted: &[(ParticipantId, &str)]) -> Vec<Claim> {
        let mut found = Vec::new();
        let mut renamed = Vec::new();
        for &(id, last_seen) in wanted {
            match self.find(last_seen).await.filter(|c| c.id == id) {
                Some(claim) => found.push(claim),
                None => renamed.push(id),
            }
        }
        if !renamed.is_empty() {
            found.extend(
                self.store
                    .online_with_ids(&renamed)
                    .await
                    .unwrap_or_default(),
            );
        }
        found
    }

    /// The key the name `raw` is registered to, if it is.
    pub async fn owner_of(&self, raw: &str) -> Option<String> {
        let nick = Nickname::parse(raw).ok()?;
        self.registration(nick.key())
            .await
            .ok()
            .flatten()
            .map(|r| r.key)
    }

    /// Whether `key` has a registered name (`None`: the store cannot tell now).
    pub async fn has_registered_name(&self, key: &str) -> Option<bool> {
        let names = self.store.registrations_of(key).await.ok()?;
        Some(!names.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{MemoryNames, Registrations};

    fn claim(id: ParticipantId) -> Claim {
        Claim {
            id,
            nick: String::new(),
            room: "#lobby".into(),
            key: Some("SHA256:k".into()),
            node: String::new(),
            addr: None,
            away: None,
        }
    }

    #[tokio::test]
    async fn away_follows_the_claim_and_a_renamed_participant_is_found_by_id() {
        let names = NameRegistry::new(MemoryNames::new(Registrations::default()), 3);
        let (bob, _) = names.claim("Bob", claim(2)).await.unwrap();
        assert!(names.set_away(&bob, 2, Some("lunch".into())).await);
        assert!(!names.set_away(&bob, 3, None).await, "only Bob sets it");
        let found = names.find("bob").await.unwrap();
        assert_eq!(found.away.as_deref(), Some("lunch"));
        let bobby = names.rename(2, &bob, "Bobby").await.unwrap();
        assert_eq!(bobby.as_str(), "Bobby");
        let again = names.find_participant(2, "Bob").await.unwrap();
        assert_eq!(
            (again.nick.as_str(), again.away.as_deref()),
            ("Bobby", Some("lunch"))
        );
        assert!(names.find_participant(9, "Bob").await.is_none());
        assert_eq!(names.has_registered_name("SHA256:k").await, Some(false));
        names.register(&bobby, Some("SHA256:k")).await;
        assert_eq!(names.has_registered_name("SHA256:k").await, Some(true));
        assert_eq!(names.owner_of("bobby").await.as_deref(), Some("SHA256:k"));
    }
}
