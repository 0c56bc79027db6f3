//! The comfort commands a session runs itself (SPEC §12): `/bell`, `/timestamp`,
//! `/ignore`, `/unignore`, `/away`, `/back` and `/reply`; and keeping a registered key's
//! settings in the [`crate::preferences`] store.

use crate::chat::comfort::Comfort;
use crate::chat::command::{parse_input, Command, Input};
use crate::participant::person_of;
use crate::ssh::SessionDeps;

use super::presence::Presence;

/// Runs `comfort` (typed as `line`) for `me`; returns the reply (after `[Server]: `).
pub(super) async fn run(
    me: &mut Presence,
    deps: &SessionDeps,
    line: &str,
    comfort: Comfort,
) -> Option<String> {
    let reply = match comfort {
        Comfort::Bell { mode: None } => me.comforts.settings.bell.said().to_string(),
        Comfort::Bell { mode: Some(mode) } => {
            me.comforts.settings.bell = mode;
            remember(me, deps).await;
            mode.said().to_string()
        }
        Comfort::Timestamp { on } => {
            if let Some(on) = on {
                me.comforts.settings.timestamps = on;
                remember(me, deps).await;
            }
            let on = me.comforts.settings.timestamps;
            format!("Timestamps {}.", if on { "on" } else { "off" })
        }
        Comfort::Ignore { nickname } => ignore(me, deps, &nickname).await,
        Comfort::ListIgnored => list_ignored(me, deps).await,
        Comfort::Unignore { nickname } => unignore(me, deps, &nickname).await,
        Comfort::Away { reason } => {
            let reason = reason.unwrap_or_default();
            let said = match reason.as_str() {
                "" => "You are away.".to_string(),
                r => format!("You are away: {r}"),
            };
            me.comforts.away = Some(reason);
            tell_names_away(me, deps).await;
            said
        }
        Comfort::Back => back(me, deps, line).await?,
        Comfort::Reply { text } => return reply(me, deps, &text).await,
        // The room runs `/me`.
        Comfort::Me { .. } => return None,
    };
    Some(reply)
}

/// `/back`, or a chat line typed while away (which then goes on to the room).
async fn back(me: &mut Presence, deps: &SessionDeps, line: &str) -> Option<String> {
    let typed_back = matches!(
        parse_input(line),
        Ok(Input::Command(Command::Comfort(Comfort::Back)))
    );
    if !typed_back {
        me.comforts.forward = Some(line.to_string());
    }
    if me.comforts.away.take().is_none() {
        return typed_back.then(|| "You are not away.".to_string());
    }
    tell_names_away(me, deps).await;
    Some("Welcome back.".to_string())
}

/// Whether `line`, typed by someone away, ends it: a chat line or `/me`.
pub(super) fn ends_away(line: &str) -> bool {
    matches!(
        parse_input(line),
        Ok(Input::Message(_) | Input::Command(Command::Comfort(Comfort::Me { .. })))
    )
}

/// Tells the names where whispers look it up whether `me` is away (again after a move,
/// which claims the name afresh).
pub(super) async fn tell_names_away(me: &Presence, deps: &SessionDeps) {
    let away = me.comforts.away.clone();
    deps.names.set_away(&me.who.nick, me.who.id, away).await;
}

async fn reply(me: &mut Presence, deps: &SessionDeps, text: &str) -> Option<String> {
    let Some((id, nick)) = me.comforts.last_whisper.clone() else {
        return Some("Nobody has whispered to you yet.".into());
    };
    let Some(now) = deps.names.find_participant(id, &nick).await else {
        return Some(format!("No user named \"{nick}\" is online."));
    };
    me.comforts.last_whisper = Some((id, now.nick.clone()));
    me.comforts.forward = Some(format!("/whisper {} {text}", now.nick));
    None
}

async fn ignore(me: &mut Presence, deps: &SessionDeps, name: &str) -> String {
    let Some(claim) = deps.names.find(name).await else {
        return format!("No user named \"{}\" is online.", shown(name));
    };
    let same_key = claim.key.is_some() && claim.key == me.who.key;
    if claim.id == me.who.id || same_key {
        return "You cannot ignore yourself.".into();
    }
    let person = person_of(claim.key.as_deref(), claim.addr, claim.id);
    let before = me.comforts.settings.ignored.len();
    let said = me.comforts.ignore(person, &claim.nick, claim.id);
    if me.comforts.settings.ignored.len() > before {
        remember(me, deps).await;
    }
    said
}

/// The ignore list by current nicknames: someone who renamed since is found again by
/// their id (someone offline, or back under a new id, as last seen).
async fn list_ignored(me: &mut Presence, deps: &SessionDeps) -> String {
    if me.comforts.settings.ignored.is_empty() {
        return "You are not ignoring anyone.".into();
    }
    let ignored = &mut me.comforts.settings.ignored;
    let wanted: Vec<_> = ignored
        .iter()
        .filter_map(|i| Some((i.id?, i.nick.as_str())))
        .collect();
    let online = deps.names.find_participants(&wanted).await;
    for entry in ignored.iter_mut() {
        if let Some(now) = online.iter().find(|c| Some(c.id) == entry.id) {
            entry.nick.clone_from(&now.nick);
        }
    }
    let ignored = &me.comforts.settings.ignored;
    let names: Vec<&str> = ignored.iter().map(|i| i.nick.as_str()).collect();
    format!("Ignoring ({}): {}", names.len(), names.join(", "))
}

async fn unignore(me: &mut Presence, deps: &SessionDeps, name: &str) -> String {
    // The person online under that name now, else whoever was last seen under it.
    let online = deps.names.find(name).await;
    let person = online
        .map(|c| person_of(c.key.as_deref(), c.addr, c.id))
        .filter(|p| me.comforts.ignores(p))
        .or_else(|| me.comforts.ignored_as(name).map(|i| i.person.clone()));
    let Some(person) = person else {
        return format!("You are not ignoring \"{}\".", shown(name));
    };
    let ignored = &mut me.comforts.settings.ignored;
    let Some(at) = ignored.iter().position(|i| i.person == person) else {
        return format!("You are not ignoring \"{}\".", shown(name));
    };
    let gone = ignored.remove(at);
    remember(me, deps).await;
    format!("You see messages from {} again.", gone.nick)
}

/// A name as typed, made safe to show.
fn shown(raw: &str) -> String {
    crate::chat::text::sanitize(raw).chars().take(32).collect()
}

/// Keeps `me`'s settings if their key has a registered name (SPEC §12).
pub(super) async fn remember(me: &Presence, deps: &SessionDeps) {
    let Some(key) = me.who.key.as_deref() else {
        return;
    };
    if deps.names.has_registered_name(key).await == Some(true) {
        let settings = me.comforts.settings.clone();
        if deps.preferences.save(key, settings).await.is_err() {
            tracing::warn!("the settings of a registered key could not be kept");
        }
    }
}

/// After `/register`: if the name is now registered to `me`'s key, their settings are
/// kept from now on. (Asked of the registration itself: a cluster's list of a key's
/// names may lag a moment behind.)
pub(super) async fn keep_once_registered(me: &Presence, deps: &SessionDeps) {
    let Some(key) = me.who.key.as_deref() else {
        return;
    };
    if deps.names.owner_of(me.who.nick.as_str()).await.as_deref() == Some(key) {
        let settings = me.comforts.settings.clone();
        if deps.preferences.save(key, settings).await.is_err() {
            tracing::warn!("the settings of a registered key could not be kept");
        }
    }
}

/// At join: the settings kept for `me`'s key, if it has a registered name.
pub(super) async fn recall(me: &mut Presence, deps: &SessionDeps) {
    let Some(key) = me.who.key.as_deref() else {
        return;
    };
    if deps.names.has_registered_name(key).await != Some(true) {
        return;
    }
    if let Ok(Some(settings)) = deps.preferences.load(key).await {
        me.comforts.settings = settings;
    }
}

/// After `/unregister` of a name registered to `owner`: once the key has no name left,
/// what it kept is forgotten.
pub(super) async fn forget_unless_registered(deps: &SessionDeps, owner: &str) {
    if deps.names.has_registered_name(owner).await == Some(false) {
        let _ = deps.preferences.forget(owner).await;
    }
}
