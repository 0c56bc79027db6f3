//! One task per participant: it owns the screen (editor or line splitter) and the
//! outbox, is the only writer to its SSH channel, and talks to the room by handle.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::server::Handle;
use russh::ChannelId;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{EventReceiver, PtyInfo, SessionEvent, WriteWatch};
use crate::chat::line::ChatLine;
use crate::chat::text::sanitize;
use crate::room::{Delivery, JoinError, JoinRequest, Joined};
use crate::server::ServerContext;
use crate::term::editor::EditorAction;
use crate::term::screen::Screen;
use crate::term::style::term_has_colour;

/// Most deliveries written in one SSH data packet.
const BATCH: usize = 64;
/// Most typed lines waiting to be handed to the room; past it the session stops taking
/// input (which then piles up against the connection's input bound).
const MAX_TYPED_LINES: usize = 64;
/// How long a closed session waits for the client to hang up before cutting it.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// What the handler hands to a new session task.
pub struct SessionSetup {
    pub ctx: Arc<ServerContext>,
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
}

/// The session's SSH channel, written only by the session task.
struct Channel {
    handle: Handle,
    id: ChannelId,
    kill: CancellationToken,
    /// Tells the input queue when a write is waiting on the client.
    watch: WriteWatch,
}

impl Channel {
    /// Writes `text`; false once the connection is gone or being cut.
    async fn write(&self, text: String) -> bool {
        if text.is_empty() {
            return true;
        }
        let _writing = self.watch.writing();
        // The write nearly always completes at once: try it first, so the kill token is
        // only waited on when russh's queue is full.
        tokio::select! {
            biased;
            result = self.handle.data(self.id, text.into_bytes()) => result.is_ok(),
            () = self.kill.cancelled() => false,
        }
    }

    /// Ends the channel the way OpenSSH expects (exit status, EOF, close), then waits a
    /// little for the client to hang up before cutting the connection.
    async fn finish(&self, status: u32, events: &mut EventReceiver) {
        let close = async {
            let _ = self.handle.exit_status_request(self.id, status).await;
            let _ = self.handle.eof(self.id).await;
            let _ = self.handle.close(self.id).await;
            while events.recv().await.is_some() {}
        };
        tokio::select! {
            _ = tokio::time::timeout(CLOSE_WAIT, close) => {}
            () = self.kill.cancelled() => {}
        }
        self.kill.cancel();
    }
}

/// Runs an interactive session (a shell request): join, then chat until leaving.
pub async fn run_shell(setup: SessionSetup) {
    let span = tracing::info_span!("session", peer = ?setup.addr, user = %sanitize(&setup.user));
    shell(setup).instrument(span).await;
}

async fn shell(mut setup: SessionSetup) {
    let max_chars = setup.ctx.config.max_input_chars;
    let mut screen = match &setup.pty {
        Some(pty) => Screen::pty(pty.cols, term_has_colour(&pty.term), max_chars),
        None => Screen::plain(max_chars),
    };
    let channel = Channel {
        handle: setup.handle.clone(),
        id: setup.channel,
        kill: setup.kill.clone(),
        watch: setup.events.write_watch(),
    };
    let (outbox, mut deliveries) = mpsc::channel(setup.ctx.config.outbox_size.max(64));
    let Some(me) = join(&mut setup, &mut screen, &channel, outbox).await else {
        channel.finish(0, &mut setup.events).await;
        return;
    };
    setup.joined.cancel();
    tracing::debug!(nickname = %me.nickname, "joined");
    let room = setup.ctx.room.clone();
    // Reused for every batch of deliveries.
    let mut batch = Vec::with_capacity(BATCH);
    // Bracketed paste on, so a pasted block arrives as one paste, then the welcome the
    // room has already queued and the prompt: one write.
    let mut start = screen.start().to_string();
    let prompt_row = screen.set_prompt(&prompt(&me.nickname));
    let mut closing = false;
    match deliveries.try_recv() {
        Ok(first) => {
            let (text, close) = render_batch(&mut screen, first, &mut deliveries, &mut batch);
            start.push_str(&text);
            closing = close;
        }
        Err(_) => start.push_str(&prompt_row),
    }
    let mut open = channel.write(start).await && !closing;
    // Lines typed but not yet handed to the room. They go in one at a time between
    // outbox drains, so a big paste never fills our own outbox with its echoes.
    let mut typed: VecDeque<String> = VecDeque::new();
    let mut in_room: Option<oneshot::Receiver<()>> = None;
    let mut leaving = false;
    // One wait on the kill token for the whole session, not a new one per wake-up.
    let killed = setup.kill.cancelled();
    tokio::pin!(killed);
    while open && !(leaving && typed.is_empty() && in_room.is_none()) {
        tokio::select! {
            biased;
            () = &mut killed => break,
            delivery = deliveries.recv() => {
                let Some(first) = delivery else { break };
                let (text, closing) =
                    render_batch(&mut screen, first, &mut deliveries, &mut batch);
                open = channel.write(text).await && !closing;
            }
            Some(slot) = room.input_slot(), if in_room.is_none() && !typed.is_empty() => {
                in_room = typed.pop_front().map(|line| slot.send(me.id, line));
            }
            _ = async { in_room.as_mut().expect("guarded").await }, if in_room.is_some() => {
                in_room = None;
            }
            event = setup.events.recv(), if !leaving && typed.len() < MAX_TYPED_LINES => {
                let Some(event) = event else { break };
                let (mut text, input) = handle_event(&mut screen, event);
                typed.extend(input.lines);
                leaving = input.leaving;
                if input.complete {
                    let names = room.names().await.unwrap_or_default();
                    text.push_str(&screen.complete(&names));
                }
                open = channel.write(text).await;
            }
        }
    }
    room.leave(me.id).await;
    tracing::debug!(nickname = %me.nickname, "left");
    channel.write(screen.end().to_string()).await;
    channel.finish(0, &mut setup.events).await;
}

fn prompt(nickname: &str) -> String {
    format!("{nickname}> ")
}

/// Renders one delivery and whatever else is already queued, as one write; `batch` is
/// scratch space kept between calls.
fn render_batch(
    screen: &mut Screen,
    first: Delivery,
    deliveries: &mut mpsc::Receiver<Delivery>,
    batch: &mut Vec<Delivery>,
) -> (String, bool) {
    batch.push(first);
    while batch.len() < BATCH {
        match deliveries.try_recv() {
            Ok(d) => batch.push(d),
            Err(_) => break,
        }
    }
    let mut closing = false;
    for delivery in batch.iter() {
        match delivery {
            Delivery::Line(_) | Delivery::Lines(_) => {}
            Delivery::Renamed(nick) => {
                screen.set_prompt(&prompt(nick));
            }
            Delivery::Close => closing = true,
        }
    }
    let text = screen.print(
        batch
            .iter()
            .flat_map(|d| match d {
                Delivery::Line(line) => std::slice::from_ref(line),
                Delivery::Lines(lines) => lines.as_slice(),
                _ => &[],
            })
            .map(|line| &**line),
    );
    batch.clear();
    (text, closing)
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
            let mut out = String::new();
            for action in screen.feed(&bytes) {
                match action {
                    EditorAction::Submit(line) => typed.lines.push(line),
                    EditorAction::Eof => {
                        typed.leaving = true;
                        break;
                    }
                    EditorAction::ClearScreen => out.push_str(&screen.clear_screen()),
                    EditorAction::Complete => typed.complete = true,
                }
            }
            out.push_str(&screen.redraw());
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

/// Checks capacity, settles the nickname (asking with `Nickname: ` when needed) and
/// joins. `None` when refused or the user went away.
async fn join(
    setup: &mut SessionSetup,
    screen: &mut Screen,
    channel: &Channel,
    outbox: mpsc::Sender<Delivery>,
) -> Option<Joined> {
    if let Some(refusal) = &setup.refusal {
        channel
            .write(screen.print([&ChatLine::server(refusal)]))
            .await;
        return None;
    }
    let room = setup.ctx.room.clone();
    let (count, capacity) = room.occupancy().await?;
    if count >= capacity {
        let full = JoinError::Full { count, capacity };
        channel
            .write(screen.print([&ChatLine::server(full.to_string())]))
            .await;
        return None;
    }
    let mut candidate =
        (!setup.ctx.config.is_generic_user(&setup.user)).then(|| setup.user.clone());
    loop {
        let nickname = match candidate.take() {
            Some(name) => name,
            None => {
                channel.write(screen.ask("Nickname: ")).await;
                read_line(setup, screen, channel).await?
            }
        };
        let request = JoinRequest {
            nickname,
            key: setup.key.clone(),
            addr: setup.addr,
            outbox: outbox.clone(),
            kill: setup.kill.clone(),
        };
        match room.join(request).await {
            Ok(joined) => return Some(joined),
            Err(JoinError::Nickname(reason)) => {
                let line = ChatLine::server(format!("{reason} Please choose another nickname."));
                channel.write(screen.print([&line])).await;
            }
            Err(refusal) => {
                channel
                    .write(screen.print([&ChatLine::server(refusal.to_string())]))
                    .await;
                return None;
            }
        }
    }
}

/// Reads one line before joining (the nickname answer), echoing in pty mode.
async fn read_line(
    setup: &mut SessionSetup,
    screen: &mut Screen,
    channel: &Channel,
) -> Option<String> {
    loop {
        let event = tokio::select! {
            event = setup.events.recv() => event?,
            () = setup.kill.cancelled() => return None,
        };
        match event {
            SessionEvent::Data(bytes) => {
                let actions = screen.feed(&bytes);
                let mut answer = None;
                for action in actions {
                    match action {
                        EditorAction::Submit(line) if answer.is_none() => answer = Some(line),
                        EditorAction::Eof => return None,
                        _ => {}
                    }
                }
                if !channel.write(screen.redraw()).await {
                    return None;
                }
                if answer.is_some() {
                    return answer;
                }
            }
            SessionEvent::Resize { cols, .. } => {
                channel.write(screen.resize(cols)).await;
            }
            SessionEvent::Eof | SessionEvent::Close => return None,
        }
    }
}

/// Runs an exec request: `users` prints the user list; anything else is refused.
pub async fn run_exec(mut setup: SessionSetup, command: String) {
    setup.joined.cancel();
    let channel = Channel {
        handle: setup.handle.clone(),
        id: setup.channel,
        kill: setup.kill.clone(),
        watch: setup.events.write_watch(),
    };
    let (line, status) = match command.as_str() {
        _ if setup.refusal.is_some() => (
            ChatLine::server(setup.refusal.as_deref().unwrap_or_default()),
            1,
        ),
        "users" | "user" => match setup.ctx.room.users().await {
            Some(line) => (line, 0),
            None => (ChatLine::server("The server is shutting down."), 1),
        },
        other => {
            let shown: String = sanitize(other).chars().take(64).collect();
            let text = format!("Unknown command \"{shown}\". The only command is \"users\".");
            (ChatLine::server(text), 1)
        }
    };
    let newline = if setup.pty.is_some() { "\r\n" } else { "\n" };
    channel.write(format!("{}{newline}", line.text)).await;
    channel.finish(status, &mut setup.events).await;
}
