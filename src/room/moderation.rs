//! What a room does with the moderation commands of SPEC §11 that act inside it: roles
//! (server admin, room admin, co-admin), `/op`, `/deop`, `/mute`, `/unmute`, `/notice`,
//! `/lock`, `/unlock`, and who may act on whom. Server-wide ones (`/ban`) are the
//! session's.

use chrono::{DateTime, Utc};

use super::rules::{Marked, RoomRules};
use super::state::{Member, RoomState};
use super::ParticipantId;
use crate::chat::command::HELP;
use crate::chat::duration::Lasting;
use crate::chat::line::ChatLine;
use crate::chat::moderation::{self, Moderation, NoticeChange, Role};
use crate::participant::Person;

/// How long `/mute` lasts when no duration is given.
pub const MUTE_DEFAULT: Lasting = Lasting::For(std::time::Duration::from_secs(600));

/// Someone a command acts on: their id if present, their person, their nickname.
struct Target {
    id: Option<ParticipantId>,
    person: Option<Person>,
    nick: String,
    role: Role,
}

impl RoomState {
    /// What member `m` may do here.
    pub(super) fn role(&self, m: &Member) -> Role {
        let keys = &self.config.admin_keys;
        if m.who.key.as_ref().is_some_and(|k| keys.contains(k)) {
            Role::ServerAdmin
        } else if m.admin {
            Role::RoomAdmin
        } else if self.rules.is_co_admin(m.who.person().as_ref()) {
            Role::CoAdmin
        } else {
            Role::Member
        }
    }

    /// What participant `id` may do here (nothing if they are not here).
    pub(super) fn role_of(&self, id: ParticipantId) -> Role {
        self.find(id).map_or(Role::Member, |m| self.role(m))
    }

    /// Whether someone with `actor`'s role may act on someone with `target`'s: a
    /// server admin on anyone, others only on those below them.
    pub(super) fn may_act_on(actor: Role, target: Role) -> bool {
        actor == Role::ServerAdmin || actor > target
    }

    /// The member called `name` (ignoring case and look-alikes), as a target.
    fn member_target(&self, name: &str) -> Option<Target> {
        let m = self.find_by_name(name)?;
        Some(Target {
            id: Some(m.who.id),
            person: m.who.person(),
            nick: m.who.nick.to_string(),
            role: self.role(m),
        })
    }

    /// The command's target: a member `id` may act on with `verb`, or the refusal.
    fn acted_on(&self, id: ParticipantId, name: &str, verb: &str) -> Result<Target, String> {
        let Some(target) = self.member_target(name) else {
            return Err(format!("No user named \"{name}\" is in the room."));
        };
        if target.id == Some(id) {
            return Err(format!("You cannot {verb} yourself."));
        }
        if !Self::may_act_on(self.role_of(id), target.role) {
            return Err(format!("You cannot {verb} {}.", target.nick));
        }
        Ok(target)
    }

    /// Runs a moderation command typed by `id`; returns the outcome for the log.
    pub(super) fn moderate(&mut self, id: ParticipantId, command: Moderation) -> String {
        let by = self.nick_of(id);
        let role = self.role_of(id);
        let needs = |least: Role, what: &str| {
            (role < least).then(|| match least {
                Role::RoomAdmin => format!("Only the room's admin can use /{what}."),
                _ => format!("Only an admin or co-admin can use /{what}."),
            })
        };
        let refused = match &command {
            Moderation::Op { .. } => needs(Role::RoomAdmin, "op"),
            Moderation::Deop { .. } => needs(Role::RoomAdmin, "deop"),
            Moderation::Lock { .. } => needs(Role::RoomAdmin, "lock"),
            Moderation::Unlock => needs(Role::RoomAdmin, "unlock"),
            Moderation::Mute { .. } => needs(Role::CoAdmin, "mute"),
            Moderation::Unmute { .. } => needs(Role::CoAdmin, "unmute"),
            Moderation::Notice(NoticeChange::Show) => None,
            Moderation::Notice(_) => needs(Role::CoAdmin, "notice"),
            Moderation::Ban { .. } | Moderation::Unban { .. } | Moderation::Bans => {
                return "not a room command".into();
            }
        };
        if let Some(refusal) = refused {
            return self.refuse(id, refusal);
        }
        let done = match command {
            Moderation::Op { nickname } => self.op(id, &nickname),
            Moderation::Deop { nickname } => self.deop(&nickname),
            Moderation::Mute {
                nickname,
                lasting,
                reason,
            } => self.mute(id, &nickname, lasting.unwrap_or(MUTE_DEFAULT), &reason),
            Moderation::Unmute { nickname } => self.unmute(id, &nickname),
            Moderation::Notice(change) => return self.notice(id, change, &by),
            Moderation::Lock { code } => self.lock(id, code),
            Moderation::Unlock => self.unlock(id),
            Moderation::Ban { .. } | Moderation::Unban { .. } | Moderation::Bans => Ok(None),
        };
        match done {
            Ok(Some((kind, what))) => {
                self.log(kind, format!("{what} by {by}"));
                what
            }
            Ok(None) => "done".into(),
            Err(refusal) => self.refuse(id, refusal),
        }
    }

    fn nick_of(&self, id: ParticipantId) -> String {
        self.find(id)
            .map(|p| p.who.nick.to_string())
            .unwrap_or_default()
    }

    /// Tells the room `text` as a `[Server]:` line.
    fn announce_all(&mut self, text: String) {
        self.broadcast(&ChatLine::server(text).shared());
    }

    fn op(&mut self, id: ParticipantId, name: &str) -> Done {
        let target = self.acted_on(id, name, "op")?;
        if target.role >= Role::RoomAdmin {
            return Err(format!("{} is already an admin.", target.nick));
        }
        if target.role == Role::CoAdmin {
            return Err(format!("{} is already a co-admin.", target.nick));
        }
        let max = self.config.max_co_admins;
        if self.rules.co_admins.len() >= max {
            return Err(format!("{} already has {max} co-admins.", self.config.name));
        }
        let Some(person) = target.person else {
            return Err(format!("{} cannot be told apart from others.", target.nick));
        };
        self.rules.co_admins.push(Marked {
            person,
            nick: target.nick.clone(),
            until: None,
        });
        self.announce_all(format!("{} is now a co-admin.", target.nick));
        Ok(Some(("OP", target.nick)))
    }

    fn deop(&mut self, name: &str) -> Done {
        match self.unmark(|rules| &mut rules.co_admins, name) {
            Some(nick) => {
                self.announce_all(format!("{nick} is no longer a co-admin."));
                Ok(Some(("DEOP", nick)))
            }
            None => Err(format!("{name} is not a co-admin.")),
        }
    }

    /// Takes `name` off one of the room's lists (`list` picks it): the person now called
    /// so, or whoever was marked under that name. Returns their nickname now.
    fn unmark(
        &mut self,
        list: fn(&mut RoomRules) -> &mut Vec<Marked>,
        name: &str,
    ) -> Option<String> {
        let here = self.member_target(name);
        let person = here.as_ref().and_then(|t| t.person.clone());
        let marked = list(&mut self.rules);
        let at = RoomRules::find(marked, person.as_ref(), name)?;
        let gone = marked.remove(at);
        Some(here.map_or(gone.nick, |target| target.nick))
    }

    fn mute(&mut self, id: ParticipantId, name: &str, lasting: Lasting, reason: &str) -> Done {
        let target = self.acted_on(id, name, "mute")?;
        let Some(person) = target.person else {
            return Err(format!("{} cannot be told apart from others.", target.nick));
        };
        let until = match lasting {
            Lasting::For(d) => {
                Some(self.now.wall + chrono::Duration::from_std(d).unwrap_or_default())
            }
            Lasting::Forever => None,
        };
        self.rules.mutes.retain(|m| m.person != person);
        self.rules.mutes.push(Marked {
            person,
            nick: target.nick.clone(),
            until,
        });
        let text = match lasting {
            Lasting::For(_) => format!("{} has been muted for {lasting}.", target.nick),
            Lasting::Forever => format!("{} has been muted.", target.nick),
        };
        self.announce_all(text);
        let why = if reason.is_empty() {
            String::new()
        } else {
            format!(" ({reason})")
        };
        Ok(Some((
            "MUTE",
            format!("{} for {lasting}{why}", target.nick),
        )))
    }

    fn unmute(&mut self, id: ParticipantId, name: &str) -> Done {
        if self.member_target(name).is_some() {
            self.acted_on(id, name, "unmute")?;
        }
        self.rules.muted(None, self.now.wall);
        match self.unmark(|rules| &mut rules.mutes, name) {
            Some(nick) => {
                self.announce_all(format!("{nick} is no longer muted."));
                Ok(Some(("UNMUTE", nick)))
            }
            None => Err(format!("{name} is not muted.")),
        }
    }

    /// The refusal of a chat line from `id` if they are muted here.
    pub(super) fn muted_line(&mut self, id: ParticipantId) -> Option<String> {
        // A chat line's cost stays what it was in a room where nobody is muted.
        if self.rules.mutes.is_empty() {
            return None;
        }
        let person = self.find(id)?.who.person();
        let until = self.rules.muted(person.as_ref(), self.now.wall)?;
        let room = &self.config.name;
        Some(match until {
            Some(until) => format!("You are muted in {room} until {}.", self.local_time(until)),
            None => format!("You are muted in {room}."),
        })
    }

    /// `HH:MM` in the room's time zone (rounded up to the minute, so "until 15:42" is
    /// true), with the date in front when it is not within a day.
    pub(super) fn local_time(&self, at: DateTime<Utc>) -> String {
        let up = (at + chrono::Duration::seconds(59)).with_timezone(&self.config.tz);
        if at - self.now.wall < chrono::Duration::hours(24) {
            up.format("%H:%M").to_string()
        } else {
            up.format("%Y-%m-%d %H:%M").to_string()
        }
    }

    fn notice(&mut self, id: ParticipantId, change: NoticeChange, by: &str) -> String {
        let room = self.config.name.clone();
        let reply = match change {
            NoticeChange::Show => match &self.rules.notice {
                Some(text) => format!("Notice of {room}: {text}"),
                None => format!("No notice in {room}."),
            },
            NoticeChange::Remove if self.rules.notice.is_none() => format!("No notice in {room}."),
            NoticeChange::Remove => {
                self.rules.notice = None;
                self.log("NOTICE", format!("removed by {by}"));
                format!("The notice of {room} was removed.")
            }
            NoticeChange::Set(text) => {
                if let Some(error) = self.too_long(&text) {
                    return self.refuse(id, error);
                }
                self.log("NOTICE", format!("{text} (by {by})"));
                self.broadcast(&ChatLine::notice(&text).shared());
                self.rules.notice = Some(text);
                return "notice pinned".into();
            }
        };
        self.reply(id, ChatLine::server(&reply));
        reply
    }

    fn lock(&mut self, id: ParticipantId, code: String) -> Done {
        let room = self.config.name.clone();
        if room.eq_ignore_ascii_case(&self.config.default_room) {
            return Err(format!("{room} cannot be locked."));
        }
        self.rules.code = Some(code);
        let reply = format!("{room} now needs a code to enter.");
        self.reply(id, ChatLine::server(&reply));
        Ok(Some(("LOCK", "a code set".into())))
    }

    fn unlock(&mut self, id: ParticipantId) -> Done {
        let room = self.config.name.clone();
        if self.rules.code.take().is_none() {
            return Err(format!("{room} needs no code."));
        }
        let reply = format!("{room} is open to everyone again.");
        self.reply(id, ChatLine::server(&reply));
        Ok(Some(("UNLOCK", "the code removed".into())))
    }

    /// Whether the room needs a code to enter.
    pub fn is_locked(&self) -> bool {
        self.rules.code.is_some()
    }

    /// When the room's admin leaves: its longest-present co-admin, else its
    /// longest-present participant.
    pub(super) fn heir(&self) -> Option<usize> {
        let co_admin = self
            .members
            .iter()
            .position(|m| self.rules.is_co_admin(m.who.person().as_ref()));
        co_admin.or((!self.members.is_empty()).then_some(0))
    }

    /// The heir has become the admin: they are no longer counted as a co-admin.
    pub(super) fn promoted(&mut self, heir: usize) {
        let person = self.members[heir].who.person();
        self.rules
            .co_admins
            .retain(|m| Some(&m.person) != person.as_ref());
    }

    /// `/help` for participant `id`: every command they may use.
    pub(super) fn help(&mut self, id: ParticipantId) -> String {
        let role = self.role_of(id);
        self.reply(id, ChatLine::server("Commands:"));
        // Theirs go before `/help` and `/quit`, which end the list.
        let (general, last) = HELP.split_at(HELP.len().saturating_sub(2));
        let theirs = moderation::HELP
            .iter()
            .filter(|(least, _, _)| role >= *least)
            .map(|(_, syntax, what)| (*syntax, *what));
        let entries = general
            .iter()
            .copied()
            .chain(theirs)
            .chain(last.iter().copied());
        let mut shown = 0;
        for (syntax, what) in entries {
            self.reply(id, ChatLine::server(format!("  {syntax:<30} {what}")));
            shown += 1;
        }
        format!("help shown ({shown} commands)")
    }
}

/// A command's outcome: what to log (its kind and text), or the refusal.
type Done = Result<Option<(&'static str, String)>, String>;
