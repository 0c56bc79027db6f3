//! The seam between a room's actor and the members it serves: [`RoomLink`]. A lone
//! server's room delivers to its members itself (the in-process side, [`LocalMembers`]:
//! every event carried out at once, a refused delivery reported back at once); a room run
//! for a cluster hands its events to the cluster's link (its members are connected to any
//! node, and its state is kept for a next owner).

use futures_util::future::{ready, BoxFuture};

use super::event::RoomEvent;
use super::members::{LocalMember, LocalMembers, Refused, Sinks};
use super::schedule::{ScheduleBook, ScheduledMessage};
use super::state::RoomState;

/// Where a room's events go, and where its state is kept.
pub trait RoomLink: Send + 'static {
    /// Takes the events the room's state caused, in order, the schedule book at hand to
    /// save. Returns the members whose outbox refused a delivery so far (a side that
    /// carries events later, in [`RoomLink::carry`], reports them there).
    fn take(
        &mut self,
        events: Vec<RoomEvent>,
        sinks: &Sinks<'_>,
        schedules: &ScheduleBook,
    ) -> Vec<Refused>;

    /// Someone entered the room: `local` is their connection when it is on this server
    /// and the room is to deliver to it itself (`None` when their node delivers).
    fn admit(&mut self, local: Option<LocalMember>);

    /// Keeps the room's `state` (with `held`, its scheduled messages waiting for a claim)
    /// for whoever runs the room next, if it changed since last kept (`now`: keep it
    /// anyway, and durably). `None`: nothing to wait for.
    fn keep(
        &mut self,
        state: &RoomState,
        held: &[ScheduledMessage],
        now: bool,
    ) -> Option<BoxFuture<'_, ()>>;

    /// Carries what was taken and not carried yet; the future returns the members whose
    /// outbox refused a delivery. `None`: nothing is waiting.
    fn carry(&mut self) -> Option<BoxFuture<'_, Vec<Refused>>>;

    /// Claims the due scheduled messages `due` for sending, so that each goes out once
    /// however often the room moves between servers. Returns those sent already
    /// elsewhere and those nobody can tell about now (to be tried again later).
    fn claim_due(&self, due: Vec<u64>) -> BoxFuture<'_, (Vec<u64>, Vec<u64>)>;
}

/// The in-process side: the room delivers to its members on this server itself.
impl RoomLink for LocalMembers {
    fn take(
        &mut self,
        events: Vec<RoomEvent>,
        sinks: &Sinks<'_>,
        schedules: &ScheduleBook,
    ) -> Vec<Refused> {
        let (refused, save) = self.dispatch(events, sinks);
        if save {
            if let Err(error) = schedules.save() {
                tracing::warn!(%error, "saving the schedule failed");
            }
        }
        refused
    }

    fn admit(&mut self, local: Option<LocalMember>) {
        if let Some(member) = local {
            self.add(member);
        }
    }

    fn keep(
        &mut self,
        _: &RoomState,
        _: &[ScheduledMessage],
        _: bool,
    ) -> Option<BoxFuture<'_, ()>> {
        // The state lives in this process only; the schedule file is saved as it changes.
        None
    }

    fn carry(&mut self) -> Option<BoxFuture<'_, Vec<Refused>>> {
        None
    }

    fn claim_due(&self, _: Vec<u64>) -> BoxFuture<'_, (Vec<u64>, Vec<u64>)> {
        // This process is the only one that could send them.
        Box::pin(ready((Vec::new(), Vec::new())))
    }
}
