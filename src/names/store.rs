//! The seam under the name rules: where claims and registrations are kept. A lone server
//! keeps them in this process ([`super::MemoryNames`]); a cluster node in the cluster's
//! key-value buckets (the NATS side, in `cluster/names.rs`). [`super::NameRegistry`]
//! applies the same rules over either.

use futures_util::future::BoxFuture;

use super::{Claim, Registration, Unavailable};
use crate::participant::ParticipantId;

/// Claims (who is online under which look-alike key) and registrations (which key owns
/// which name). Each change is atomic: of two claimants racing for one name, one wins.
pub trait NameStore: Send + Sync + 'static {
    /// Who is online as `name_key`.
    fn online<'a>(&'a self, name_key: &'a str)
        -> BoxFuture<'a, Result<Option<Claim>, Unavailable>>;

    /// Takes `name_key` for `claim` unless someone else holds it: `Ok(Ok(fresh))`
    /// (`fresh` false when it was theirs already, and is updated), or `Ok(Err(()))` when
    /// it is someone else's.
    fn take<'a>(
        &'a self,
        name_key: &'a str,
        claim: Claim,
    ) -> BoxFuture<'a, Result<Result<bool, ()>, Unavailable>>;

    /// Frees `name_key` if participant `id` holds it.
    fn free<'a>(&'a self, name_key: &'a str, id: ParticipantId) -> BoxFuture<'a, ()>;

    /// The registration of `name_key`, if any.
    fn registration<'a>(
        &'a self,
        name_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Registration>, Unavailable>>;

    /// The names registered to `key`, oldest first.
    fn registrations_of<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Registration>, Unavailable>>;

    /// Registers, unless the name was taken meanwhile; `Ok(false)` if it was.
    fn register(&self, registration: Registration) -> BoxFuture<'_, Result<bool, Unavailable>>;

    /// Whoever of participants `ids` is online, under any name (one scan: for
    /// `/reply` and the ignore list after a rename, which is rare).
    fn online_with_ids<'a>(
        &'a self,
        ids: &'a [ParticipantId],
    ) -> BoxFuture<'a, Result<Vec<Claim>, Unavailable>>;

    /// Removes the registration of `name_key`.
    fn unregister<'a>(&'a self, name_key: &'a str) -> BoxFuture<'a, Result<(), Unavailable>>;
}
