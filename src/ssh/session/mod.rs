//! One task per participant: it owns the screen (editor or line splitter) and the
//! outbox, is the only writer to its SSH channel, and talks to its current room by
//! handle. Commands that reach beyond the room (`/join`, `/whois`, ...) it runs itself.

mod beyond;
mod channel;
mod comforts;
mod exec;
mod join;
mod personal;
mod presence;
mod server_bans;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use russh::server::Handle;
use russh::ChannelId;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use exec::run_exec;

use self::channel::Channel;
use self::comforts::Reader;
use self::presence::Presence;
use super::{EventReceiver, PtyInfo, SessionDeps, SessionEvent};
use crate::chat::room_name::RoomName;
use crate::chat::text::sanitize;
use crate::metrics::Held;
use crate::room::rate::RateLimiter;
use crate::room::Delivery;
use crate::term::editor::EditorAction;
use crate::term::screen::Screen;
use crate::term::style::term_has_colour;

/// Most deliveries written in one SSH data packet.
const BATCH: usize = 64;
/// Most typed lines waiting to be handed to the room; past it the session stops taking
/// input (which then piles up against the connection's input bound).
const MAX_TYPED_LINES: usize = 64;

/// What the handler hands to a new session task.
pub struct SessionSetup {
    pub deps: Arc<SessionDeps>,
    pub handle: Handle,
    pub channel: ChannelId,
    pub user: String,
    pub key: Option<String>,
    pub addr: Option<SocketAddr>,
    pub pty: Option<PtyInfo>,
    pub events: EventReceiver,
    pub kill: CancellationToken,
    pub joined: CancellationToken,
    /// Set when the connection is refused (e.g. too many from one address).
    pub refusal: Option<String>,
    /// The refusal holds for everything, the exec commands too (not on the allowlist).
    pub denied: bool,
    /// The code given with a locked room's name (`ssh host "rust CODE"`).
    pub code: Option<String>,
}

impl SessionSetup {
    fn channel(&self) -> Channel {
        Channel {
            handle: self.handle.clone(),
            id: self.channel,
            kill: self.kill.clone(),
            watch: self.events.write_watch(),
        }
    }
}

/// Runs an interactive session (a shell request, or an exec request naming a room):
/// join `room` (the default room if `None`), then chat until leaving.
///
/// A plain function, not an `async fn`: an `async fn` wrapper would keep its own copy of
/// `setup` beside the session's for as long as the session lasts (3.5 KB per session).
pub fn run_shell(
    setup: SessionSetup,
    room: Option<RoomName>,
) -> impl std::future::Future<Output = ()> + Send {
    let span = tracing::info_span!("session", peer = ?setup.addr, user = %sanitize(&setup.user));
    shell(setup, room).instrument(span)
}

async fn shell(mut setup: SessionSetup, room: Option<RoomName>) {
    let deps = setup.deps.clone();
    let max_chars = deps.config.max_input_chars;
    let screen = match &setup.pty {
        Some(pty) => Screen::pty(pty.cols, term_has_colour(&pty.term), max_chars),
        None => Screen::plain(max_chars),
    };
    let channel = setup.channel();
    let room = room.unwrap_or_else(|| deps.rooms.default_room().clone());
    let (outbox, deliveries) = mpsc::channel(deps.config.outbox_size.max(64));
    let mut session = Session {
        limiter: RateLimiter::new(
            deps.config.message_rate,
            deps.config.message_burst,
            tokio::time::Instant::now(),
        ),
        deps,
        screen,
        channel,
        deliveries,
        batch: Vec::new(),
        typed: VecDeque::new(),
        in_room: None,
        refused: false,
        leaving: false,
    };
    // The join and the leave run once per session: boxed, their futures (nickname
    // prompt, room directory) do not make every idle session's task bigger.
    let joined = Box::pin(join::join(
        &mut setup,
        &room,
        &mut session.screen,
        &session.channel,
        outbox,
    ));
    let mut me = match joined.await {
        Ok(me) => me,
        Err(status) => {
            session.channel.finish(status, &mut setup.events).await;
            return;
        }
    };
    setup.joined.cancel();
    let _counted = Held::on(&session.deps.metrics.participants);
    tracing::debug!(nickname = %me.who.nick, "joined");
    // A registered key's settings apply from the welcome on (its history is filtered).
    Box::pin(personal::recall(&mut me, &session.deps)).await;
    let open = session.start(&mut me).await;
    if open {
        session.run(&mut me, &mut setup).await;
    }
    Box::pin(me.leave_chat(&session.deps)).await;
    tracing::debug!(nickname = %me.who.nick, "left");
    let end = session.screen.end();
    session.channel.write(end).await;
    // A bot's lines (no pty) that were not all taken: it must not look like success.
    let status = u32::from(!session.screen.is_pty() && session.refused);
    session.channel.finish(status, &mut setup.events).await;
}

/// A joined session's moving parts.
struct Session {
    deps: Arc<SessionDeps>,
    screen: Screen,
    channel: Channel,
    deliveries: mpsc::Receiver<Delivery>,
    /// Reused for every batch of deliveries; empty until the first (an idle session
    /// holds no batch's worth of room).
    batch: Vec<Delivery>,
    /// Lines typed but not yet handed to the room. They go in one at a time between
    /// outbox drains, so a big paste never fills our own outbox with its echoes.
    typed: VecDeque<String>,
    /// Completes once the room has handled the line handed to it (true: taken).
    in_room: Option<oneshot::Receiver<bool>>,
    /// Some typed line was refused (told why): line mode then exits with status 1.
    refused: bool,
    leaving: bool,
    /// For the commands the session runs itself.
    limiter: RateLimiter,
}

impl Session {
    /// Bracketed paste on, so a pasted block arrives as one paste, then the welcome the
    /// room has already queued and the prompt: one write. False if the session is over.
    async fn start(&mut self, me: &mut Presence) -> bool {
        let mut start = self.screen.start().to_string();
        let prompt_row = self.screen.set_prompt(&prompt(me.who.nick.as_str()));
        let mut closing = false;
        match self.deliveries.try_recv() {
            Ok(first) => {
                let (text, close) = self.render_batch(first, me);
                start.push_str(&text);
                closing = close;
            }
            Err(_) => start.push_str(&prompt_row),
        }
        self.channel.write(start).await && !closing
    }

    /// Chats until the user leaves, the room closes the session or the connection ends.
    async fn run(&mut self, me: &mut Presence, setup: &mut SessionSetup) {
        // One wait on the kill token for the whole session, not a new one per wake-up.
        let killed = setup.kill.cancelled();
        tokio::pin!(killed);
        // The current room's handle; a move (`/join`) replaces it.
        let mut room = me.handle.clone();
        let mut open = true;
        while open && !(self.leaving && self.typed.is_empty() && self.in_room.is_none()) {
            let mut moved = false;
            let idle = self.in_room.is_none();
            // The next typed line, if it is a command the session runs itself.
            let mut beyond = match self.typed.front() {
                Some(line) if idle => beyond::beyond_the_room(line, me.comforts.away.is_some()),
                _ => None,
            };
            let next_beyond = beyond.is_some();
            tokio::select! {
                biased;
                () = &mut killed => break,
                delivery = self.deliveries.recv() => {
                    let Some(first) = delivery else { break };
                    let (text, closing) = self.render_batch(first, me);
                    open = self.channel.write(text).await && !closing;
                }
                () = std::future::ready(()), if next_beyond => {
                    let line = self.typed.pop_front().expect("guarded");
                    let command = beyond.take().expect("guarded");
                    // Boxed: a rare path whose future (room directory, registry) would
                    // otherwise make every idle session's task bigger.
                    Box::pin(beyond::run(me, &self.deps, &mut self.limiter, &line, command)).await;
                    // A `/reply` made a whisper, or a chat line ended being away.
                    if let Some(forward) = me.comforts.forward.take() {
                        self.typed.push_front(forward);
                    }
                    moved = true;
                }
                Some(slot) = room.input_slot(), if idle && !next_beyond && !self.typed.is_empty() => {
                    self.in_room = self.typed.pop_front().map(|line| slot.send(me.who.id, line));
                }
                taken = async { self.in_room.as_mut().expect("guarded").await }, if !idle => {
                    self.in_room = None;
                    self.refused |= taken != Ok(true);
                }
                event = setup.events.recv(), if !self.leaving && self.typed.len() < MAX_TYPED_LINES => {
                    let Some(event) = event else { break };
                    open = self.on_event(event, me).await;
                }
            }
            if moved {
                room = me.handle.clone();
            }
        }
        if open && self.leaving {
            self.write_what_is_queued(me).await;
        }
    }

    /// At the end of input: what the room has already answered (the echo of the last
    /// lines, a refusal) is written before the session ends, so a bot sees it.
    async fn write_what_is_queued(&mut self, me: &mut Presence) {
        while let Ok(first) = self.deliveries.try_recv() {
            let (text, closing) = self.render_batch(first, me);
            if !self.channel.write(text).await || closing {
                return;
            }
        }
    }

    /// Applies one event from the client: echo, typed lines, Tab completion.
    async fn on_event(&mut self, event: SessionEvent, me: &Presence) -> bool {
        let (mut text, input) = handle_event(&mut self.screen, event);
        self.typed.extend(input.lines);
        self.leaving = input.leaving;
        if input.complete {
            let names = me.handle.names().await.unwrap_or_default();
            text.push_str(&self.screen.complete(&names));
        }
        self.channel.write(text).await
    }

    /// Renders one delivery and whatever else is already queued, as one write; returns
    /// the text and whether the room closed the session.
    fn render_batch(&mut self, first: Delivery, me: &mut Presence) -> (String, bool) {
        self.batch.push(first);
        while self.batch.len() < BATCH {
            match self.deliveries.try_recv() {
                Ok(d) => self.batch.push(d),
                Err(_) => break,
            }
        }
        let mut closing = false;
        for delivery in &self.batch {
            match delivery {
                Delivery::Line(_) | Delivery::Lines(_) => {}
                Delivery::Renamed(nick) => {
                    self.screen.set_prompt(&prompt(nick.as_str()));
                    me.who.nick.clone_from(&**nick);
                }
                Delivery::Close => closing = true,
            }
        }
        // The welcome's history is shown as it was; live lines ring, stamp, highlight.
        let lines = self.batch.iter().flat_map(|delivery| {
            let live = matches!(delivery, Delivery::Line(_));
            delivery.lines().iter().map(move |line| (&**line, live))
        });
        let reader = Reader {
            id: me.who.id,
            nick: me.who.nick.as_str(),
            escapes: self.screen.has_escapes(),
            // Only asked for when timestamps are on: the zone is looked up each time.
            clock: me.comforts.settings.timestamps.then(|| {
                let now = self.deps.clock.now();
                now.with_timezone(&self.deps.config.time_zone())
            }),
        };
        let mut ring = false;
        let comforts = &mut me.comforts;
        let mut text = self.screen.print_with(lines, |(line, live), _, out| {
            comforts.show(line, live, &reader, out, &mut ring)
        });
        // The bell is a character, not an escape: any pty rings it, even TERM=dumb;
        // without a pty the output stays plain lines for programs.
        if ring && self.screen.is_pty() {
            text.push('\x07');
        }
        self.batch.clear();
        (text, closing)
    }
}

fn prompt(nickname: &str) -> String {
    format!("{nickname}> ")
}

/// What the user's input amounts to, for the room.
#[derive(Default)]
struct Typed {
    lines: Vec<String>,
    leaving: bool,
    /// Tab was pressed: complete from the room's nicknames.
    complete: bool,
}

/// Applies one event from the client; returns the bytes to write (echo) and what was
/// typed.
fn handle_event(screen: &mut Screen, event: SessionEvent) -> (String, Typed) {
    let mut typed = Typed::default();
    match event {
        SessionEvent::Data(bytes) => {
            let mut clear = false;
            for action in screen.feed(&bytes) {
                match action {
                    EditorAction::Submit(line) => typed.lines.push(line),
                    EditorAction::Eof => {
                        typed.leaving = true;
                        break;
                    }
                    // However many Ctrl-Ls came in one packet, the screen is cleared
                    // once: each redraw of a long line would otherwise cost kilobytes.
                    EditorAction::ClearScreen => clear = true,
                    EditorAction::Complete => typed.complete = true,
                }
            }
            let out = match clear {
                true => screen.clear_screen(),
                false => screen.redraw(),
            };
            (out, typed)
        }
        SessionEvent::Resize { cols, .. } => (screen.resize(cols), typed),
        // End of piped input leaves once everything typed is in; a pty never sends EOF
        // while in use.
        SessionEvent::Eof | SessionEvent::Close => {
            typed.leaving = true;
            (String::new(), typed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_of_ctrl_ls_clears_the_screen_once() {
        let mut screen = Screen::pty(80, true, 4096);
        let _ = handle_event(&mut screen, SessionEvent::Data(vec![b'x'; 4000]));
        // Ten thousand redraws of a 4,000-character line would be 40 MB.
        let (out, _) = handle_event(&mut screen, SessionEvent::Data(vec![0x0c; 10_000]));
        assert_eq!(out.matches("\x1b[2J").count(), 1);
        assert!(out.len() < 8192, "{} bytes", out.len());
    }
}
