//! One ban: who (a key, an address, or both with the name they had), where (the server,
//! or one room for a kick-ban), until when and why.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::chat::nickname::Nickname;
use crate::participant::Person;

/// A ban, as kept and as sent between nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    /// The nickname it was made under (a ban by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// The room (its look-alike key) a kick-ban keeps them out of; `None`: the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// When it ends; `None`: never.
    pub until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub reason: String,
    /// Who made it.
    #[serde(default)]
    pub by: String,
}

impl Ban {
    /// The id it is kept under: the same for a second ban of the same people in the same
    /// scope, which replaces the first. Sixteen hex digits (a NATS key): the 64-bit FNV-1a
    /// hash of scope, key and address, short because every ban is indexed by it.
    pub fn id(&self) -> String {
        let key = self.key.as_deref().unwrap_or_default();
        let ip = self.ip.map(|ip| ip.to_string()).unwrap_or_default();
        let room = self.room.as_deref().unwrap_or_default();
        let raw = format!("{room}|{key}|{ip}");
        let hash = raw.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}")
    }

    /// The people it is on: the key, the address, or both.
    pub fn people(&self) -> Vec<Person> {
        let key = self.key.clone().map(Person::Key);
        key.into_iter().chain(self.ip.map(Person::Addr)).collect()
    }

    /// Whether it holds at `now`.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|until| until > now)
    }

    /// Whether `/unban target` names it: the key or address it was made on, or the
    /// name it was made under (ignoring case and look-alikes).
    pub fn is_on(&self, target: &str) -> bool {
        let by_key = self.key.as_deref() == Some(target);
        let by_ip = target
            .parse::<IpAddr>()
            .ok()
            .is_some_and(|ip| self.ip == Some(ip));
        let by_name = match (&self.name, Nickname::parse(target)) {
            (Some(name), Ok(wanted)) => {
                Nickname::parse(name).is_ok_and(|n| n.key() == wanted.key())
            }
            _ => false,
        };
        by_key || by_ip || by_name
    }

    /// `Bob (SHA256:..., 203.0.113.7)`, or the key or address alone.
    pub fn label(&self) -> String {
        let people: Vec<String> = self.people().iter().map(ToString::to_string).collect();
        match &self.name {
            Some(name) => format!("{name} ({})", people.join(", ")),
            None => people.join(", "),
        }
    }
}
