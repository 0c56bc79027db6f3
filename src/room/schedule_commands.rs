//! What the room does with the scheduled-message commands of SPEC §3 (`/schedule`,
//! `/unschedule`) and the schedule ticker's firing.

use chrono::DateTime;
use chrono_tz::Tz;

use super::event::RoomEvent;
use super::schedule::{next_occurrence, ScheduledMessage};
use super::state::RoomState;
use super::ParticipantId;
use crate::chat::command::ClockTime;
use crate::chat::line::ChatLine;

impl RoomState {
    pub(super) fn schedule(&mut self, id: ParticipantId, at: ClockTime, text: &str) -> String {
        if let Some(error) = self.too_long(text) {
            return self.refuse(id, error);
        }
        let Some(me) = self.find(id) else {
            return String::new();
        };
        let (author, key) = (me.who.nick.to_string(), me.who.key.clone());
        let author_person = Some(me.who.person_text());
        let max = self.config.max_schedules_per_user;
        let mine = self.my_schedules(id).len();
        if max > 0 && mine >= max {
            return self.refuse(
                id,
                format!(
                    "You already have {max} scheduled messages. Cancel one with /unschedule N."
                ),
            );
        }
        let tz = self.config.tz;
        let due = next_occurrence(tz, self.now.wall, at);
        self.schedules.add(ScheduledMessage {
            id: rand::random(),
            due,
            author,
            author_key: key,
            text: text.to_string(),
            room: self.config.name.clone(),
            author_person,
            author_session: Some(id),
        });
        self.save_schedules();
        let reply = ChatLine::server(format!(
            "Message scheduled for {at} ({}, {}).",
            due.with_timezone(&tz).format("%Y-%m-%d"),
            tz.name()
        ));
        let logged = reply.text.clone();
        self.reply(id, reply);
        logged
    }

    fn my_schedules(&self, id: ParticipantId) -> Vec<ScheduledMessage> {
        let key = self.find(id).and_then(|p| p.who.key.clone());
        self.schedules
            .items()
            .iter()
            .filter(|m| m.is_by(id, key.as_deref()))
            .cloned()
            .collect()
    }

    pub(super) fn list_schedules(&mut self, id: ParticipantId) -> String {
        let mine = self.my_schedules(id);
        if mine.is_empty() {
            let line = ChatLine::server("You have no scheduled messages.");
            let logged = line.text.clone();
            self.reply(id, line);
            return logged;
        }
        let tz = self.config.tz;
        self.reply(id, ChatLine::server("Your scheduled messages:"));
        for (n, m) in mine.iter().enumerate() {
            let local = m.due.with_timezone(&tz);
            let text = format!(
                "  {}. {} ({}) {}",
                n + 1,
                local.format("%H:%M"),
                local.format("%Y-%m-%d"),
                m.text
            );
            self.reply(id, ChatLine::server(text));
        }
        format!("{} listed", mine.len())
    }

    pub(super) fn unschedule(&mut self, id: ParticipantId, number: usize) -> String {
        let mine = self.my_schedules(id);
        let Some(target) = mine.get(number - 1) else {
            return self.refuse(
                id,
                format!("You have no scheduled message number {number}."),
            );
        };
        let mut removed = false;
        self.schedules.remove_where(|m| {
            let hit = !removed && m == target;
            removed |= hit;
            hit
        });
        self.save_schedules();
        let reply = ChatLine::server(format!("Scheduled message {number} cancelled."));
        let logged = reply.text.clone();
        self.reply(id, reply);
        logged
    }

    pub(super) fn save_schedules(&mut self) {
        self.emit(RoomEvent::SaveSchedules);
    }

    /// When the ticker must wake next.
    pub fn next_deadline(&self) -> Option<DateTime<chrono::Utc>> {
        self.schedules.next_due()
    }

    /// Sends every scheduled message whose time has come.
    pub fn fire_due(&mut self) {
        let due = self.schedules.take_due(self.now.wall);
        if due.is_empty() {
            return;
        }
        self.stats.scheduled += due.len() as u64;
        for m in &due {
            let line = ChatLine::scheduled(&m.author, &m.text).by(m.sender());
            self.log("SCHEDULED", &line.text);
            self.broadcast_public(line);
        }
        self.save_schedules();
    }

    /// The room's time zone.
    pub fn tz(&self) -> Tz {
        self.config.tz
    }
}
