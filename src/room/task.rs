//! The room actor's task: commands in arrival order, the ticker (scheduled messages,
//! gathered notices, claims to try again) and the minute's summary. The room ends when
//! every handle is gone, or stops without a word when it moved to another node.

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::actor::Room;
use super::RoomCommand;
use crate::metrics::Held;

/// Longest single sleep of the ticker, so a wall-clock step is noticed within the hour.
const MAX_TICK_SLEEP: std::time::Duration = std::time::Duration::from_secs(3600);
/// How often the room logs its one-line summary.
const SUMMARY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// When the room next has something to do by itself: a scheduled message falls due, or
/// gathered join and leave notices are to be sent.
fn next_wake(room: &Room) -> Instant {
    let clock = &room.clock;
    let schedule = room
        .state
        .next_deadline()
        .map_or(MAX_TICK_SLEEP, |due| clock.until(due));
    let notices = room
        .state
        .notices_due()
        .map_or(MAX_TICK_SLEEP, |due| clock.until_instant(due));
    Instant::now() + schedule.min(notices).min(MAX_TICK_SLEEP)
}

/// The actor's loop: commands in order, the ticker, the minute's summary.
pub async fn run(mut room: Room, mut rx: mpsc::Receiver<RoomCommand>) {
    let _running = Held::on(&room.metrics.rooms);
    let start = Instant::now() + SUMMARY_EVERY;
    let mut summary = tokio::time::interval_at(start, SUMMARY_EVERY);
    let mut retry = tokio::time::interval(RETRY_CLAIMS_EVERY);
    let timer = tokio::time::sleep(MAX_TICK_SLEEP);
    tokio::pin!(timer);
    // A test's manual clock wakes the room whenever it is moved.
    let mut clock_moves = room.clock.moves();
    let mut abandoned = false;
    // What fell due before the room ran here (it was moving between nodes) goes first.
    room.tick().await;
    loop {
        room.flush().await;
        // Re-armed only when it must fire sooner (or has fired): re-arming a timer for
        // every command costs. Firing early is harmless, nothing is due yet then.
        let wake = next_wake(&room);
        if wake < timer.deadline() || timer.is_elapsed() {
            timer.as_mut().reset(wake);
        }
        let command = tokio::select! {
            command = rx.recv() => command,
            () = &mut timer => {
                room.tick().await;
                continue;
            }
            Ok(()) = async { clock_moves.as_mut().expect("guarded").changed().await },
                if clock_moves.is_some() =>
            {
                room.tick().await;
                continue;
            }
            _ = retry.tick(), if !room.held.is_empty() => {
                room.retry_held();
                room.tick().await;
                continue;
            }
            _ = summary.tick() => {
                log_summary(&mut room);
                continue;
            }
        };
        // Every handle is gone: the room has ended (it was empty), or the server stopped.
        let Some(command) = command else { break };
        match command {
            RoomCommand::Abandon => {}
            RoomCommand::HandOver { respond_to } => {
                room.keep_now().await;
                let _ = respond_to.send(());
            }
            command => {
                handle(&mut room, command).await;
                continue;
            }
        }
        abandoned = true;
        break;
    }
    if !abandoned {
        room.end();
        room.flush().await;
    }
}

/// How often scheduled messages held for want of a claim are tried again.
const RETRY_CLAIMS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The minute's summary; quiet rooms say nothing (a thousand of them would flood the
/// log).
fn log_summary(room: &mut Room) {
    let stats = room.take_stats();
    if stats.messages == 0 && stats.drops == 0 {
        return;
    }
    tracing::info!(
        room = %room.state.name(),
        participants = room.occupancy().0,
        messages_per_min = stats.messages,
        drops = stats.drops,
        "room summary"
    );
}

async fn handle(room: &mut Room, command: RoomCommand) {
    match command {
        RoomCommand::Occupancy { respond_to } => {
            let _ = respond_to.send(room.occupancy());
        }
        RoomCommand::Join {
            entrant,
            local,
            respond_to,
        } => {
            let joined = room.join(entrant, local);
            // Stored (in a cluster) and carried before the entrant's node hears of it.
            room.flush().await;
            let _ = respond_to.send(joined);
        }
        RoomCommand::Input { id, line, handled } => {
            let taken = room.input(id, &line).await;
            // Carried before the typist may send more, so their next line waits for it.
            room.flush().await;
            if let Some(handled) = handled {
                let _ = handled.send(taken);
            }
        }
        RoomCommand::Leave { id, handled } => {
            room.leave(id);
            // Stored before the leaver's node hears it was taken: a leave lost with the
            // node running the room is asked again of the next one.
            room.flush().await;
            done(handled);
        }
        RoomCommand::Dropped {
            id,
            session_ended,
            handled,
        } => {
            room.apply(|state| state.dropped(id, session_ended));
            room.flush().await;
            done(handled);
        }
        RoomCommand::NodeGone { node } => room.apply(|state| state.node_gone(&node)),
        RoomCommand::MemberNodes { respond_to } => {
            let _ = respond_to.send(room.state.nodes());
        }
        RoomCommand::Users { respond_to } => {
            let _ = respond_to.send(room.users_line());
        }
        RoomCommand::Names { respond_to } => {
            let _ = respond_to.send(room.names());
        }
        RoomCommand::SetAdminKeys { keys } => room.set_admin_keys(keys),
        RoomCommand::Enforce { ban, told } => {
            room.enforce(&ban, &told);
            room.flush().await;
        }
        RoomCommand::Pending { respond_to } => {
            let pending = room.state.schedules().items().len() + room.held.len();
            let _ = respond_to.send(pending);
        }
        RoomCommand::Shutdown { respond_to } => {
            room.shutdown();
            room.flush().await;
            let _ = respond_to.send(());
        }
        RoomCommand::Abandon | RoomCommand::HandOver { .. } => {}
    }
}

/// Says a departure was handled (a sender dropped unanswered means it was not: the room
/// stopped first, and the asker asks the room's next node).
fn done(handled: Option<tokio::sync::oneshot::Sender<()>>) {
    if let Some(handled) = handled {
        let _ = handled.send(());
    }
}
