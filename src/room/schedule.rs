//! Scheduled messages: when `HH:MM` falls next in the room's time zone, the pending list
//! and its file in the data directory (written atomically, so a crash never corrupts it).

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Days, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ParticipantId;
use crate::chat::command::ClockTime;

/// One pending message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledMessage {
    /// Names this message wherever it goes, so a cluster sends it exactly once.
    #[serde(default = "rand::random")]
    pub id: u64,
    pub due: DateTime<Utc>,
    pub author: String,
    /// The author's key fingerprint, when they signed in with a key.
    pub author_key: Option<String>,
    pub text: String,
    /// The room it fires in, as shown (`#rust`); set when saved.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub room: String,
    /// The author as `/ignore` knows them: their key, or their address without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_person: Option<String>,
    /// The author's participant id in this run of the server (not persisted).
    #[serde(skip)]
    pub author_session: Option<ParticipantId>,
}

impl ScheduledMessage {
    /// Who sent it, as its line carries it (id 0: the author's session is not known).
    pub fn sender(&self) -> crate::chat::line::Sender {
        let person = self.author_person.clone();
        crate::chat::line::Sender {
            id: self.author_session.unwrap_or(0),
            person: person
                .or_else(|| self.author_key.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether the participant `id` with key `key` wrote this message.
    pub fn is_by(&self, id: ParticipantId, key: Option<&str>) -> bool {
        self.author_session == Some(id) || (key.is_some() && self.author_key.as_deref() == key)
    }
}

/// The next moment the clock shows `at` strictly after `now`, in `tz`: today if still
/// ahead, else tomorrow. A time skipped by a DST change moves to the first valid instant
/// after it.
pub fn next_occurrence(tz: Tz, now: DateTime<Utc>, at: ClockTime) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    for days in 0..3 {
        let Some(date) = today.checked_add_days(Days::new(days)) else {
            break;
        };
        let Some(naive) = date.and_hms_opt(at.hour, at.minute, 0) else {
            break;
        };
        if let Some(due) = resolve_local(tz, naive) {
            if due > now {
                return due;
            }
        }
    }
    now + chrono::Duration::days(1)
}

fn resolve_local(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    // In a DST gap, step forward minute by minute to the first valid local time.
    (0..=180).find_map(|m| {
        tz.from_local_datetime(&(naive + chrono::Duration::minutes(m)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The pending messages of a room, sorted by due time, mirrored to the server's
/// [`ScheduleStore`] (the default book is kept in memory only).
#[derive(Debug, Default)]
pub struct ScheduleBook {
    items: Vec<ScheduledMessage>,
    store: Option<(ScheduleStore, String)>,
}

impl ScheduleBook {
    /// Every pending message, soonest first.
    pub fn items(&self) -> &[ScheduledMessage] {
        &self.items
    }

    /// The soonest due time.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.items.first().map(|m| m.due)
    }

    /// Adds a message, keeping the order.
    pub fn add(&mut self, message: ScheduledMessage) {
        let at = self.items.partition_point(|m| m.due <= message.due);
        self.items.insert(at, message);
    }

    /// Removes and returns every message due at or before `now`.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<ScheduledMessage> {
        let n = self.items.partition_point(|m| m.due <= now);
        self.items.drain(..n).collect()
    }

    /// Takes out the messages for which `take` is true.
    pub fn take_where(
        &mut self,
        mut take: impl FnMut(&ScheduledMessage) -> bool,
    ) -> Vec<ScheduledMessage> {
        let (taken, kept) = std::mem::take(&mut self.items)
            .into_iter()
            .partition(|m| take(m));
        self.items = kept;
        taken
    }

    /// Removes the messages for which `drop` is true; returns how many went.
    pub fn remove_where(&mut self, mut drop: impl FnMut(&ScheduledMessage) -> bool) -> usize {
        let before = self.items.len();
        self.items.retain(|m| !drop(m));
        before - self.items.len()
    }

    /// Writes the book to its file (a temporary file renamed over the old one).
    ///
    /// # Errors
    /// The data directory cannot be written.
    pub fn save(&self) -> io::Result<()> {
        match &self.store {
            Some((store, room)) => store.put(room, &self.items),
            None => Ok(()),
        }
    }
}

/// Every room's pending messages in one file of the data directory, written atomically:
/// the in-process side of the schedule store seam. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct ScheduleStore {
    inner: Arc<Mutex<StoreInner>>,
}

#[derive(Debug, Default)]
struct StoreInner {
    path: Option<PathBuf>,
    /// By room, as shown.
    rooms: BTreeMap<String, Vec<ScheduledMessage>>,
}

impl ScheduleStore {
    /// Loads `path` (missing = nothing pending); messages saved before rooms existed
    /// belong to `default_room`.
    ///
    /// # Errors
    /// The file exists but is unreadable or damaged.
    pub fn load(path: Option<PathBuf>, default_room: &str) -> anyhow::Result<ScheduleStore> {
        let items: Vec<ScheduledMessage> = match &path {
            Some(p) => crate::persist::read_json(p)?,
            None => Vec::new(),
        };
        let mut rooms: BTreeMap<String, Vec<ScheduledMessage>> = BTreeMap::new();
        for mut m in items {
            if m.room.is_empty() {
                m.room = default_room.to_string();
            }
            rooms.entry(m.room.clone()).or_default().push(m);
        }
        let inner = StoreInner { path, rooms };
        Ok(ScheduleStore {
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StoreInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rooms that have messages pending.
    pub fn rooms(&self) -> Vec<String> {
        self.lock().rooms.keys().cloned().collect()
    }

    /// Every pending message of every room.
    pub fn count(&self) -> usize {
        self.lock().rooms.values().map(Vec::len).sum()
    }

    /// The book of `room`, saved back here.
    pub fn book(&self, room: &str) -> ScheduleBook {
        let mut items = self.lock().rooms.get(room).cloned().unwrap_or_default();
        items.sort_by_key(|m| m.due);
        ScheduleBook {
            items,
            store: Some((self.clone(), room.to_string())),
        }
    }

    /// Replaces `room`'s messages and writes the file.
    fn put(&self, room: &str, items: &[ScheduledMessage]) -> io::Result<()> {
        let mut inner = self.lock();
        let mine: Vec<ScheduledMessage> = items
            .iter()
            .map(|m| ScheduledMessage {
                room: room.to_string(),
                ..m.clone()
            })
            .collect();
        if mine.is_empty() {
            inner.rooms.remove(room);
        } else {
            inner.rooms.insert(room.to_string(), mine);
        }
        let Some(path) = &inner.path else {
            return Ok(());
        };
        let all: Vec<&ScheduledMessage> = inner.rooms.values().flatten().collect();
        crate::persist::write_atomically(path, &serde_json::to_vec_pretty(&all)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn at(hour: u32, minute: u32) -> ClockTime {
        ClockTime { hour, minute }
    }

    #[test]
    fn later_today_or_tomorrow() {
        let now = utc("2026-11-24T10:00:30Z");
        assert_eq!(
            next_occurrence(Tz::UTC, now, at(15, 30)),
            utc("2026-11-24T15:30:00Z")
        );
        assert_eq!(
            next_occurrence(Tz::UTC, now, at(9, 0)),
            utc("2026-11-25T09:00:00Z")
        );
        // the current minute has already started: tomorrow
        assert_eq!(
            next_occurrence(Tz::UTC, now, at(10, 0)),
            utc("2026-11-25T10:00:00Z")
        );
    }

    #[test]
    fn uses_the_room_time_zone() {
        // 23:00 UTC is 08:00 the next day in Seoul
        let now = utc("2026-11-24T23:00:00Z");
        let due = next_occurrence(chrono_tz::Asia::Seoul, now, at(9, 0));
        assert_eq!(due, utc("2026-11-25T00:00:00Z"));
    }

    #[test]
    fn dst_gap_moves_forward() {
        // 2026-03-08 02:30 does not exist in New York; 03:00 EDT = 07:00 UTC
        let now = utc("2026-03-08T05:00:00Z");
        let due = next_occurrence(chrono_tz::America::New_York, now, at(2, 30));
        assert_eq!(due, utc("2026-03-08T07:00:00Z"));
    }

    #[test]
    fn book_orders_takes_due_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schedules.json");
        let load = |path| {
            ScheduleStore::load(Some(path), "#lobby")
                .unwrap()
                .book("#lobby")
        };
        let mut book = load(path.clone());
        let msg = |due: &str, text: &str| ScheduledMessage {
            id: 7,
            due: utc(due),
            author: "Charlie".into(),
            author_key: None,
            text: text.into(),
            room: String::new(),
            author_person: None,
            author_session: Some(1),
        };
        book.add(msg("2026-11-24T15:31:00Z", "second"));
        book.add(msg("2026-11-24T15:30:00Z", "first"));
        book.save().unwrap();
        let loaded = load(path);
        assert_eq!(loaded.items().len(), 2);
        assert_eq!(loaded.items()[0].text, "first");
        assert_eq!(loaded.items()[0].author_session, None);
        let due = book.take_due(utc("2026-11-24T15:30:00Z"));
        assert_eq!(due.len(), 1);
        assert_eq!(book.next_due(), Some(utc("2026-11-24T15:31:00Z")));
    }
}
