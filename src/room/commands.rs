//! What the room does with one typed line: chat and every slash command of SPEC §3 (the
//! scheduled messages' are in `schedule_commands.rs`). Replies to the typist are
//! `[Server]: ` lines.

use super::event::RoomEvent;
use super::rate::Verdict;
use super::state::{NameService, RoomState};
use super::{Delivery, ParticipantId};
use crate::chat::command::{parse_input, Command, Input};
use crate::chat::line::ChatLine;
use crate::chat::moderation::without_code;
use crate::chat::moderation::Role;
use crate::chat::text::sanitize;

impl RoomState {
    /// Handles one line typed by participant `id`; `names` finds people server-wide.
    /// Returns false if the line was refused (the typist is told why): a bot in line
    /// mode then ends with a failure status.
    pub fn input(&mut self, id: ParticipantId, raw: &str, names: &dyn NameService) -> bool {
        self.refused = false;
        self.handle_line(id, raw, names);
        !self.refused
    }

    fn handle_line(&mut self, id: ParticipantId, raw: &str, names: &dyn NameService) {
        let Some(me) = self.find(id) else {
            self.refused = true;
            return;
        };
        let nick = me.who.nick.to_string();
        let line = sanitize(raw);
        if line.trim().is_empty() {
            return;
        }
        if !self.within_rate(id, &nick) {
            self.refused = true;
            return;
        }
        match parse_input(&line) {
            Ok(Input::Empty) => {}
            Ok(Input::Message(text)) => self.chat(id, &nick, &text),
            Ok(Input::Command(command)) => {
                let outcome = self.command(id, command, names);
                let line = without_code(&line);
                self.log("COMMAND", format!("{nick}: {line} => {outcome}"));
            }
            Err(e) => {
                let logged = self.refuse(id, e.to_string());
                let line = without_code(&line);
                self.log("COMMAND", format!("{nick}: {line} => {logged}"));
            }
        }
    }

    /// Applies the rate limit to one line; false if the line must be dropped.
    fn within_rate(&mut self, id: ParticipantId, nick: &str) -> bool {
        let now = self.now.instant;
        let Some(me) = self.find_mut(id) else {
            return false;
        };
        match me.limiter.check(now) {
            Verdict::Allowed => true,
            Verdict::Refused { notify } => {
                self.stats.rate_limited += 1;
                if notify {
                    self.log("REFUSED", format!("{nick}: sending too fast"));
                    let text = "You are sending messages too fast. Please wait a moment.";
                    self.reply(id, ChatLine::server(text));
                }
                false
            }
            Verdict::Flooding => {
                self.disconnect_flooder(id);
                false
            }
        }
    }

    fn disconnect_flooder(&mut self, id: ParticipantId) {
        let notice = ChatLine::server("You have been disconnected for flooding.");
        let Some(gone) = self.expel(id, notice) else {
            return;
        };
        self.stats.flooders += 1;
        self.log("KICK", format!("{} (flooding)", gone.who.nick));
        let line = ChatLine::server(format!("{} was disconnected for flooding.", gone.who.nick));
        self.broadcast(&line.shared());
        self.pass_admin_on(&gone);
    }

    pub(super) fn reply(&mut self, id: ParticipantId, line: ChatLine) {
        self.send_line(id, &line.shared());
    }

    /// Replies with an error and returns it, for the command log; the line counts as
    /// refused.
    pub(super) fn refuse(&mut self, id: ParticipantId, text: String) -> String {
        self.refused = true;
        let line = ChatLine::server(text);
        let logged = line.text.clone();
        self.reply(id, line);
        logged
    }

    /// The refusal of a text over `--max-message-bytes`, counted.
    pub(super) fn too_long(&mut self, text: &str) -> Option<String> {
        let max = self.config.max_message_bytes;
        let over = max > 0 && text.len() > max;
        self.stats.too_long += u64::from(over);
        over.then(|| format!("Message too long (max {max} bytes)."))
    }

    fn chat(&mut self, id: ParticipantId, nick: &str, text: &str) {
        if let Some(refusal) = self.muted_line(id) {
            self.stats.muted += 1;
            self.log("REFUSED", format!("{nick}: muted"));
            self.refuse(id, refusal);
            return;
        }
        if let Some(error) = self.too_long(text) {
            self.log(
                "REFUSED",
                format!("{nick}: message of {} bytes", text.len()),
            );
            self.refuse(id, error);
            return;
        }
        let line = ChatLine::chat(nick, text).by(self.sender(id));
        self.log("MESSAGE", &line.text);
        self.broadcast_public(line);
    }

    /// Runs a command; returns a short outcome for the server log.
    fn command(&mut self, id: ParticipantId, command: Command, names: &dyn NameService) -> String {
        match command {
            Command::Rename { nickname } => self.rename(id, &nickname, names),
            Command::Whisper { to, text } => self.whisper(id, &to, &text, names),
            Command::Schedule { at, text } => self.schedule(id, at, &text),
            Command::ListSchedules => self.list_schedules(id),
            Command::Unschedule { number } => self.unschedule(id, number),
            Command::Kick { nickname } => self.kick(id, &nickname),
            Command::Comfort(comfort) => self.comfort(id, comfort),
            Command::Users => {
                let line = self.users_line_marking(|id| names.away(id).is_some());
                let logged = line.text.clone();
                self.reply(id, line);
                logged
            }
            Command::Help => self.help(id),
            Command::Moderate(m) => self.moderate(id, m),
            Command::Quit => {
                self.leave_and_close(id);
                "left".into()
            }
            // The session runs these itself; a line never brings them here.
            Command::Join { .. }
            | Command::Leave
            | Command::Rooms
            | Command::Register
            | Command::Unregister { .. }
            | Command::Whois { .. } => "not a room command".into(),
        }
    }

    fn leave_and_close(&mut self, id: ParticipantId) {
        if self.find(id).is_some() {
            self.close(id);
        }
        self.leave(id);
    }

    fn rename(&mut self, id: ParticipantId, wanted: &str, names: &dyn NameService) -> String {
        let Some(me) = self.find(id) else {
            return String::new();
        };
        let nick = match names.rename(&me.who.nick, wanted) {
            Ok(nick) => nick,
            Err(e) => return self.refuse(id, e.to_string()),
        };
        let Some(me) = self.find_mut(id) else {
            return String::new();
        };
        let old = std::mem::replace(&mut me.who.nick, nick.clone()).to_string();
        let new = nick.to_string();
        let notice = ChatLine::server(format!(
            "User \"{old}\" has changed their nickname to \"{new}\"."
        ))
        .shared();
        for other in self.others(id) {
            self.send_line(other, &notice);
        }
        self.reply(
            id,
            ChatLine::server(format!("Your nickname is now \"{new}\".")),
        );
        self.deliver(id, Delivery::Renamed(Box::new(nick)));
        format!("renamed {old} to {new}")
    }

    fn others(&self, id: ParticipantId) -> Vec<ParticipantId> {
        self.members
            .iter()
            .map(|p| p.who.id)
            .filter(|&p| p != id)
            .collect()
    }

    /// Whispers reach their target in whatever room they are (SPEC §8).
    fn whisper(
        &mut self,
        id: ParticipantId,
        to: &str,
        text: &str,
        names: &dyn NameService,
    ) -> String {
        if let Some(error) = self.too_long(text) {
            return self.refuse(id, error);
        }
        let Some((target, nick)) = names.find(to) else {
            return self.refuse(id, format!("No user named \"{to}\" is online."));
        };
        if target == id {
            return self.refuse(id, "You cannot whisper to yourself.".into());
        }
        let from = self
            .find(id)
            .map(|p| p.who.nick.to_string())
            .unwrap_or_default();
        let line = ChatLine::whisper_from(&from, text)
            .by(self.sender(id))
            .shared();
        let here = if self.find(target).is_some() {
            String::new()
        } else {
            " in another room".to_string()
        };
        self.emit(RoomEvent::Whisper {
            to: target,
            from: id,
            nick: nick.clone(),
            line,
        });
        self.reply(id, ChatLine::whisper_to(&nick, text));
        self.tell_away(id, target, &nick, names);
        format!("whisper to {nick}{here}: {text}")
    }

    fn kick(&mut self, id: ParticipantId, name: &str) -> String {
        let role = self.role_of(id);
        if role < Role::CoAdmin {
            return self.refuse(id, "Only an admin can use /kick.".into());
        }
        let Some(target) = self.find_by_name(name) else {
            return self.refuse(id, format!("No user named \"{name}\" is in the room."));
        };
        if target.who.id == id {
            return self.refuse(id, "You cannot kick yourself.".into());
        }
        if !Self::may_act_on(role, self.role(target)) {
            let refusal = format!("You cannot kick {}.", target.who.nick);
            return self.refuse(id, refusal);
        }
        let target_id = target.who.id;
        let target_key = target.who.key.clone();
        let told = ChatLine::server("You have been kicked from the chat.");
        let Some(gone) = self.expel(target_id, told) else {
            return String::new();
        };
        self.ban(&gone);
        let dropped = self
            .schedules
            .remove_where(|m| m.is_by(target_id, target_key.as_deref()));
        if dropped > 0 {
            self.save_schedules();
        }
        let notice = format!("{} has been kicked from the chat.", gone.who.nick);
        let by = self
            .find(id)
            .map(|p| p.who.nick.to_string())
            .unwrap_or_default();
        self.log("KICK", format!("{} by {by}", gone.who.nick));
        self.broadcast(&ChatLine::server(&notice).shared());
        self.pass_admin_on(&gone);
        format!("{notice} ({dropped} scheduled messages dropped)")
    }
}
