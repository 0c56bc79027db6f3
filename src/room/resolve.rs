//! The name lookups a typed line needs, done before the room's pure logic sees the line:
//! a `/rename` is claimed and a `/whisper` target found in the name store (which, in a
//! cluster, is a round trip away), and the room's logic reads the answers.

use super::state::{NameService, RoomState};
use super::ParticipantId;
use crate::chat::command::{parse_input, Command, Input};
use crate::chat::nickname::{Nickname, NicknameError};
use crate::chat::text::sanitize;
use crate::names::NameRegistry;

/// The answers for one line.
#[derive(Default)]
pub struct Resolved {
    rename: Option<Result<Nickname, NicknameError>>,
    find: Option<(ParticipantId, String)>,
    /// Who is away (SPEC §12), for a whisper's target or the user list.
    away: Vec<(ParticipantId, String)>,
}

impl Resolved {
    /// Looks up what participant `id`'s line `raw` needs.
    pub async fn for_line(
        state: &RoomState,
        names: &NameRegistry,
        id: ParticipantId,
        raw: &str,
    ) -> Resolved {
        let mut resolved = Resolved::default();
        // Only a command needs a lookup: most lines are chat and skip the parse.
        let Some(me) = state.find(id).filter(|_| raw.contains('/')) else {
            return resolved;
        };
        match parse_input(&sanitize(raw)) {
            Ok(Input::Command(Command::Rename { nickname })) => {
                resolved.rename = Some(names.rename(id, &me.who.nick, &nickname).await);
            }
            Ok(Input::Command(Command::Whisper { to, .. })) => {
                let found = names.find(&to).await;
                resolved.find = found.as_ref().map(|c| (c.id, c.nick.clone()));
                resolved
                    .away
                    .extend(found.and_then(|c| Some((c.id, c.away?))));
            }
            Ok(Input::Command(Command::Users)) => {
                resolved.away = away_in(state, names).await;
            }
            _ => {}
        }
        resolved
    }

    /// Takes back a rename the room did not make (the line was over the rate limit):
    /// the participant keeps the name the room knows them by.
    pub async fn undo_unused(self, state: &RoomState, names: &NameRegistry, id: ParticipantId) {
        let Some(Ok(new)) = self.rename else { return };
        let Some(me) = state.find(id) else { return };
        if me.who.nick.key() != new.key() {
            let _ = names.rename(id, &new, me.who.nick.as_str()).await;
        }
    }
}

/// Who of the room's listed members is away, asked of the name store all at once.
async fn away_in(state: &RoomState, names: &NameRegistry) -> Vec<(ParticipantId, String)> {
    let listed = state.listed();
    let asked = listed.iter().map(|(_, nick)| names.find(nick));
    let claims = futures_util::future::join_all(asked).await;
    listed
        .iter()
        .zip(claims)
        .filter_map(|((id, _), claim)| {
            let claim = claim.filter(|c| c.id == *id)?;
            Some((*id, claim.away?))
        })
        .collect()
}

impl NameService for Resolved {
    fn rename(&self, _old: &Nickname, raw: &str) -> Result<Nickname, NicknameError> {
        self.rename
            .clone()
            .unwrap_or_else(|| Err(NicknameError::Taken(raw.to_string())))
    }

    fn find(&self, _raw: &str) -> Option<(ParticipantId, String)> {
        self.find.clone()
    }

    fn away(&self, id: ParticipantId) -> Option<String> {
        let (_, reason) = self.away.iter().find(|(who, _)| *who == id)?;
        Some(reason.clone())
    }
}
