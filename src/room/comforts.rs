//! The room's share of the personal comforts (SPEC §12): `/me`, who sent each line (so
//! each recipient's node can ignore, ring and highlight on its own), and the answer to
//! a whisper to someone away. The rest of §12 is each person's own view, kept by their
//! session.

use super::state::{NameService, RoomState};
use super::ParticipantId;
use crate::chat::command::Comfort;
use crate::chat::line::{ChatLine, Sender};

impl RoomState {
    /// Runs a comfort command that reaches the room (`/me`); returns the outcome for
    /// the server log.
    pub(super) fn comfort(&mut self, id: ParticipantId, comfort: Comfort) -> String {
        let Comfort::Me { action } = comfort else {
            // The session runs the others itself; a line never brings them here.
            return "not a room command".into();
        };
        let Some(me) = self.find(id) else {
            return String::new();
        };
        let nick = me.who.nick.to_string();
        // A mute (SPEC §11) refuses `/me` as it does a chat line.
        if let Some(refusal) = self.muted_line(id) {
            self.stats.muted += 1;
            return self.refuse(id, refusal);
        }
        if let Some(error) = self.too_long(&action) {
            return self.refuse(id, error);
        }
        let line = ChatLine::action(&nick, &action).by(self.sender(id));
        let logged = line.text.clone();
        self.log("MESSAGE", &line.text);
        self.broadcast_public(line);
        logged
    }

    /// Member `id` as the lines they send name them.
    pub(super) fn sender(&self, id: ParticipantId) -> Sender {
        let person = self
            .find(id)
            .map(|m| m.who.person_text())
            .unwrap_or_default();
        Sender { id, person }
    }

    /// After a whisper from `id` to `target` (online as `nick`): if the target is away,
    /// the whisperer is told so.
    pub(super) fn tell_away(
        &mut self,
        id: ParticipantId,
        target: ParticipantId,
        nick: &str,
        names: &dyn NameService,
    ) {
        let Some(reason) = names.away(target) else {
            return;
        };
        let text = match reason.as_str() {
            "" => format!("{nick} is away."),
            reason => format!("{nick} is away: {reason}"),
        };
        self.reply(id, ChatLine::server(text));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::chat::nickname::{Nickname, NicknameError};
    use crate::room::event::{Now, RoomEvent};
    use crate::room::schedule::ScheduleBook;
    use crate::room::state::RoomConfig;
    use crate::room::{Entrant, Identity};

    /// Bob is online and away at lunch; Carol is online.
    struct Names;

    impl NameService for Names {
        fn rename(&self, _: &Nickname, raw: &str) -> Result<Nickname, NicknameError> {
            Nickname::parse(raw)
        }
        fn find(&self, raw: &str) -> Option<(ParticipantId, String)> {
            match raw {
                "Bob" => Some((2, "Bob".into())),
                "Carol" => Some((3, "Carol".into())),
                _ => None,
            }
        }
        fn away(&self, id: ParticipantId) -> Option<String> {
            (id == 2).then(|| "lunch".into())
        }
    }

    fn room() -> RoomState {
        let config = RoomConfig {
            name: "#lobby".into(),
            capacity: 10,
            admin_keys: Default::default(),
            max_message_bytes: 16,
            history: 5,
            max_schedules_per_user: 5,
            tz: chrono_tz::UTC,
            message_rate: 0.0,
            message_burst: 5,
            motd: Vec::new(),
            creator_is_admin: true,
            kick_ban: Duration::ZERO,
            batch_notices_above: 0,
            max_co_admins: 5,
            default_room: "#lobby".into(),
        };
        let now = Now {
            wall: "2026-11-24T15:00:00Z".parse().unwrap(),
            instant: tokio::time::Instant::now(),
        };
        let mut room = RoomState::new(config, ScheduleBook::default(), now);
        for (id, name) in [(1, "Alice"), (2, "Bob"), (3, "Carol")] {
            let who = Identity {
                id,
                nick: Nickname::parse(name).unwrap(),
                key: (id != 3).then(|| format!("SHA256:{name}")),
                addr: Some("203.0.113.7:4000".parse().unwrap()),
                node: String::new(),
            };
            room.join(Entrant {
                who,
                creator: false,
                code: None,
            });
        }
        room.take_events();
        room
    }

    /// Every line handed out, with who sent it.
    fn lines(events: Vec<RoomEvent>) -> Vec<(String, Option<Sender>)> {
        let mut out = Vec::new();
        for event in events {
            match event {
                RoomEvent::ToAll { line, .. } | RoomEvent::Whisper { line, .. } => {
                    out.push((line.text.clone(), line.from.clone()));
                }
                RoomEvent::ToOne { delivery, .. } => {
                    out.extend(
                        delivery
                            .lines()
                            .iter()
                            .map(|l| (l.text.clone(), l.from.clone())),
                    );
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn me_is_a_public_line_that_names_its_sender() {
        let mut room = room();
        assert!(room.input(1, "/me waves", &Names));
        let alice = Sender {
            id: 1,
            person: "SHA256:Alice".into(),
        };
        assert_eq!(
            lines(room.take_events()),
            [("* Alice waves".to_string(), Some(alice))]
        );
        assert!(!room.input(1, "/me waves for far too long", &Names));
        assert_eq!(
            lines(room.take_events())[0].0,
            "[Server]: Message too long (max 16 bytes)."
        );
    }

    #[test]
    fn a_mute_refuses_me_as_it_refuses_chat() {
        let mut room = room();
        room.input(1, "/mute Bob", &Names);
        room.take_events();
        assert!(!room.input(2, "/me waves", &Names));
        let sent = lines(room.take_events());
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert!(
            sent[0].0.starts_with("[Server]: You are muted in #lobby"),
            "{sent:?}"
        );
    }

    #[test]
    fn a_keyless_sender_is_their_address_and_server_lines_name_nobody() {
        let mut room = room();
        room.input(3, "hi", &Names);
        let sent = lines(room.take_events());
        assert_eq!(sent[0].1.as_ref().unwrap().person, "203.0.113.7");
        room.input(3, "/user", &Names);
        let sent = lines(room.take_events());
        assert_eq!(
            sent,
            [(
                "[Server]: Users (3/10): Alice, Bob (away), Carol".to_string(),
                None
            )]
        );
    }

    #[test]
    fn a_scheduled_message_carries_its_author_as_a_person() {
        let mut room = room();
        assert!(room.input(3, "/schedule 15:30 later", &Names));
        room.take_events();
        let due = Now {
            wall: "2026-11-24T15:30:00Z".parse().unwrap(),
            instant: tokio::time::Instant::now(),
        };
        room.at(due).fire_due();
        let sent = lines(room.take_events());
        let carol = Sender {
            id: 3,
            person: "203.0.113.7".into(),
        };
        assert_eq!(
            sent,
            [("[Scheduled by Carol] later".to_string(), Some(carol))]
        );
    }

    #[test]
    fn a_whisper_to_someone_away_tells_the_whisperer() {
        let mut room = room();
        room.input(1, "/whisper Bob hi", &Names);
        let sent: Vec<String> = lines(room.take_events()).into_iter().map(|l| l.0).collect();
        assert_eq!(
            sent,
            [
                "[Whisper from Alice] hi",
                "[Whisper to Bob] hi",
                "[Server]: Bob is away: lunch"
            ]
        );
        room.input(1, "/whisper Carol hi", &Names);
        assert_eq!(lines(room.take_events()).len(), 2);
    }
}
