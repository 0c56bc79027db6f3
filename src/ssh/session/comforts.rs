//! One person's own view (SPEC §12), kept by their session on the node holding their
//! connection: whom they ignore, when their bell rings, timestamps, whether they are
//! away, who last whispered to them. The room's lines are the same for everyone; this is
//! where one recipient's rendering differs. A person with no settings costs one look for
//! their name per line, with no allocation.

use std::fmt::Write;

use chrono_tz::Tz;

use crate::chat::comfort::Bell;
use crate::chat::line::{ChatLine, LineKind};
use crate::chat::mention::{is_mentioned, mentions};
use crate::participant::ParticipantId;
use crate::preferences::{Ignored, Settings, MAX_IGNORED};
use crate::term::highlight::paint_marked;
use crate::term::style::paint;

/// One person's view and the state behind `/reply` and `/away`.
#[derive(Debug, Default)]
pub(super) struct Comforts {
    pub settings: Settings,
    /// Away, with the reason (empty: none given).
    pub away: Option<String>,
    /// Who last whispered to them: id and the nickname they whispered under.
    pub last_whisper: Option<(ParticipantId, String)>,
    /// A line to hand to the room next (a `/reply` made a `/whisper`, or the chat line
    /// that ended being away).
    pub forward: Option<String>,
    /// The places the reader is named in the line being written (reused).
    marks: Vec<std::ops::Range<usize>>,
}

/// Who is reading, for [`Comforts::show`].
pub(super) struct Reader<'a> {
    pub id: ParticipantId,
    pub nick: &'a str,
    /// Whether the terminal shows escapes (a pty, not `TERM=dumb`).
    pub escapes: bool,
    /// The time now in the server's zone, when timestamps are on.
    pub clock: Option<chrono::DateTime<Tz>>,
}

impl Comforts {
    /// Writes `line` to `out` as the reader sees it; false if they do not see it at
    /// all (its sender is ignored). `live`: a line as it happens, not the welcome's
    /// history (which never rings). Sets `ring` when the bell is due.
    pub fn show(
        &mut self,
        line: &ChatLine,
        live: bool,
        reader: &Reader<'_>,
        out: &mut String,
        ring: &mut bool,
    ) -> bool {
        let from = line.from.as_ref();
        let own = from.is_some_and(|f| f.id == reader.id);
        if let Some(from) = from.filter(|_| !own && !self.settings.ignored.is_empty()) {
            if let Some(entry) = self
                .settings
                .ignored
                .iter_mut()
                .find(|i| i.person == from.person)
            {
                if let Some(nick) = sender_nick(line) {
                    if entry.nick != nick {
                        entry.nick = nick.to_string();
                    }
                }
                if from.id != 0 {
                    entry.id = Some(from.id);
                }
                return false;
            }
        }
        let whisper_to_me = !own && from.is_some() && line.kind == LineKind::Whisper;
        if live && whisper_to_me {
            let nick = sender_nick(line).unwrap_or_default().to_string();
            self.last_whisper = from.map(|f| (f.id, nick));
        }
        if let Some(now) = reader.clock.filter(|_| live && self.settings.timestamps) {
            let _ = write!(out, "{} ", now.format("%H:%M"));
        }
        // Only a live line someone sent can name the reader (never a `[Server]:` line).
        let start = match from {
            Some(_) if live && !own => line.body_start(),
            _ => line.text.len(),
        };
        let body = &line.text[start..];
        let named = is_mentioned(body, reader.nick);
        if named && reader.escapes {
            self.marks.clear();
            let found = mentions(body, reader.nick).map(|m| m.start + start..m.end + start);
            self.marks.extend(found);
            paint_marked(line, true, &self.marks, out);
        } else {
            paint(line, reader.escapes, out);
        }
        *ring |= match self.settings.bell {
            Bell::Mentions => named || (live && whisper_to_me),
            // Every line someone else sends; `[Server]:` lines never ring.
            Bell::All => live && !own && from.is_some(),
            Bell::Off => false,
        };
        true
    }

    /// Starts ignoring `person`, online as `nick`; returns the reply.
    pub fn ignore(&mut self, person: String, nick: &str, id: ParticipantId) -> String {
        let ignored = &mut self.settings.ignored;
        if let Some(entry) = ignored.iter_mut().find(|i| i.person == person) {
            nick.clone_into(&mut entry.nick);
            entry.id = Some(id);
            return format!("You already ignore {nick}.");
        }
        if ignored.len() >= MAX_IGNORED {
            return format!("You already ignore {MAX_IGNORED} people. /unignore someone first.");
        }
        ignored.push(Ignored {
            person,
            nick: nick.to_string(),
            id: Some(id),
        });
        format!("You no longer see messages from {nick}.")
    }

    /// Whether `person` is ignored.
    pub fn ignores(&self, person: &str) -> bool {
        self.settings.ignored.iter().any(|i| i.person == person)
    }

    /// The entry ignored under the nickname `nick` as last seen (ignoring case).
    pub fn ignored_as(&self, nick: &str) -> Option<&Ignored> {
        let wanted = crate::chat::nickname::Nickname::parse(nick).ok()?;
        self.settings.ignored.iter().find(|i| {
            crate::chat::nickname::Nickname::parse(&i.nick).is_ok_and(|n| n.key() == wanted.key())
        })
    }
}

/// The nickname of whoever sent `line`, read from its text.
fn sender_nick(line: &ChatLine) -> Option<&str> {
    let text = line.text.as_str();
    match line.kind {
        LineKind::Chat { nick_len } => text.get(..nick_len),
        LineKind::Action { nick_len } => text.get(2..2 + nick_len),
        LineKind::Whisper => text.strip_prefix("[Whisper from ")?.split(']').next(),
        LineKind::Scheduled => text.strip_prefix("[Scheduled by ")?.split(']').next(),
        LineKind::Server => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::line::Sender;

    fn reader(escapes: bool) -> Reader<'static> {
        Reader {
            id: 2,
            nick: "Bob",
            escapes,
            clock: Some(
                "2026-11-24T06:30:00Z"
                    .parse::<chrono::DateTime<chrono::Utc>>()
                    .unwrap()
                    .with_timezone(&chrono_tz::Asia::Seoul),
            ),
        }
    }

    fn from(id: ParticipantId, person: &str) -> Sender {
        Sender {
            id,
            person: person.into(),
        }
    }

    /// What the reader sees of `line` and whether it rang.
    fn seen(
        c: &mut Comforts,
        line: &ChatLine,
        live: bool,
        escapes: bool,
    ) -> (Option<String>, bool) {
        let (mut out, mut ring) = (String::new(), false);
        let shown = c.show(line, live, &reader(escapes), &mut out, &mut ring);
        (shown.then_some(out), ring)
    }

    #[test]
    fn a_mention_rings_and_is_highlighted_only_with_escapes() {
        let mut c = Comforts::default();
        let line = ChatLine::chat("Alice", "hi @bob").by(from(1, "SHA256:a"));
        let (plain, rang) = seen(&mut c, &line, true, false);
        assert_eq!((plain.as_deref(), rang), (Some("Alice >> hi @bob"), true));
        let (styled, _) = seen(&mut c, &line, true, true);
        assert!(styled.unwrap().contains("@\x1b[0m\x1b[1;7mbob\x1b[0m"));
        // Not in the welcome's history, not a line of one's own, not a server line.
        assert!(!seen(&mut c, &line, false, true).1);
        let own = ChatLine::chat("Bob", "I am bob").by(from(2, "SHA256:b"));
        assert!(!seen(&mut c, &own, true, true).1);
        let server = ChatLine::server("User \"bob\" has changed their nickname.");
        assert!(!seen(&mut c, &server, true, true).1);
        let other = ChatLine::chat("Alice", "hi all").by(from(1, "SHA256:a"));
        assert!(!seen(&mut c, &other, true, true).1);
    }

    #[test]
    fn a_whisper_rings_and_is_remembered_for_reply() {
        let mut c = Comforts::default();
        let whisper = ChatLine::whisper_from("Alice", "psst").by(from(1, "SHA256:a"));
        assert!(seen(&mut c, &whisper, true, true).1);
        assert_eq!(c.last_whisper, Some((1, "Alice".into())));
    }

    #[test]
    fn the_bell_setting_chooses_what_rings() {
        let mut c = Comforts::default();
        let other = ChatLine::chat("Alice", "hi all").by(from(1, "SHA256:a"));
        let named = ChatLine::chat("Alice", "hi bob").by(from(1, "SHA256:a"));
        c.settings.bell = Bell::All;
        assert!(seen(&mut c, &other, true, false).1);
        assert!(!seen(&mut c, &ChatLine::server("x"), true, false).1);
        c.settings.bell = Bell::Off;
        assert!(!seen(&mut c, &named, true, false).1);
    }

    #[test]
    fn an_ignored_person_is_hidden_under_any_name_and_their_name_kept_current() {
        let mut c = Comforts::default();
        c.settings.ignored.push(Ignored {
            person: "203.0.113.7".into(),
            nick: "troll".into(),
            id: None,
        });
        let renamed = ChatLine::chat("troll2", "bob!").by(from(9, "203.0.113.7"));
        assert_eq!(seen(&mut c, &renamed, true, true), (None, false));
        assert_eq!(c.settings.ignored[0].nick, "troll2");
        assert_eq!(c.settings.ignored[0].id, Some(9));
        let scheduled = ChatLine::scheduled("troll2", "hi").by(from(0, "203.0.113.7"));
        assert_eq!(seen(&mut c, &scheduled, false, true).0, None);
        let whisper = ChatLine::whisper_from("troll2", "psst").by(from(9, "203.0.113.7"));
        assert_eq!(seen(&mut c, &whisper, true, true).0, None);
        assert_eq!(
            c.last_whisper, None,
            "an ignored whisper is no one to reply to"
        );
        assert!(c.ignores("203.0.113.7") && c.ignored_as("TROLL2").is_some());
        let action = ChatLine::action("other", "waves").by(from(3, "SHA256:o"));
        assert_eq!(
            seen(&mut c, &action, true, false).0.as_deref(),
            Some("* other waves")
        );
    }

    #[test]
    fn the_ignore_list_has_a_limit_and_says_so() {
        let mut c = Comforts::default();
        for n in 0..MAX_IGNORED {
            let said = c.ignore(format!("10.0.0.{n}"), &format!("bot{n}"), n as u128);
            assert_eq!(said, format!("You no longer see messages from bot{n}."));
        }
        assert_eq!(
            c.ignore("10.0.0.1".into(), "bot1b", 1),
            "You already ignore bot1b."
        );
        assert_eq!(
            c.ignore("SHA256:new".into(), "one", 7),
            "You already ignore 100 people. /unignore someone first."
        );
        assert_eq!(c.settings.ignored.len(), MAX_IGNORED);
    }

    #[test]
    fn timestamps_are_the_servers_zone_and_not_on_the_history() {
        let mut c = Comforts::default();
        c.settings.timestamps = true;
        let line = ChatLine::chat("Alice", "hi").by(from(1, "SHA256:a"));
        assert_eq!(
            seen(&mut c, &line, true, false).0.as_deref(),
            Some("15:30 Alice >> hi")
        );
        assert_eq!(
            seen(&mut c, &line, false, false).0.as_deref(),
            Some("Alice >> hi")
        );
    }
}
