//! The cluster's side of the name store ([`NameStore`]): claims and registrations in JetStream KV
//! buckets, each claim one compare-and-set (`create`, or `update` at a revision), so of
//! any number of servers asking at once exactly one wins.

use async_nats::jetstream::kv::{self, CreateErrorKind, Operation};
use futures_util::future::BoxFuture;

use super::{key_of, Mirror};
use crate::chat::nickname::Nickname;
use crate::names::{Claim, NameStore, Registration, Unavailable};
use crate::room::ParticipantId;

/// Names in the cluster's buckets; clones share them.
#[derive(Clone)]
pub struct ClusterNames {
    online: kv::Store,
    registered: kv::Store,
    /// A live copy of the registrations, for listing a key's names without a scan.
    registrations: Mirror,
}

fn unavailable(error: impl std::fmt::Display) -> Unavailable {
    tracing::warn!(%error, "the cluster's name store did not answer");
    Unavailable
}

impl ClusterNames {
    /// The names of `cluster`.
    ///
    /// # Errors
    /// The registrations bucket cannot be watched.
    pub async fn open(cluster: &super::Cluster) -> anyhow::Result<ClusterNames> {
        Ok(ClusterNames {
            online: cluster.online.clone(),
            registered: cluster.registered.clone(),
            registrations: Mirror::watch(&cluster.registered, None).await?,
        })
    }

    async fn entry(&self, key: &str) -> Result<Option<(Claim, u64)>, Unavailable> {
        let entry = self.online.entry(key).await.map_err(unavailable)?;
        Ok(entry
            .filter(|e| e.operation == Operation::Put)
            .and_then(|e| Some((serde_json::from_slice(&e.value).ok()?, e.revision))))
    }

    async fn claim_of(&self, name_key: &str) -> Result<Option<Claim>, Unavailable> {
        Ok(self.entry(&key_of(name_key)).await?.map(|(c, _)| c))
    }

    async fn take_now(
        &self,
        name_key: &str,
        claim: Claim,
    ) -> Result<Result<bool, ()>, Unavailable> {
        let key = key_of(name_key);
        let value = serde_json::to_vec(&claim).map_err(unavailable)?;
        // A holder may leave between two steps: try again a few times.
        for _ in 0..5 {
            match self.online.create(&key, value.clone().into()).await {
                Ok(_) => return Ok(Ok(true)),
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {}
                Err(e) => return Err(unavailable(e)),
            }
            let Some((holder, revision)) = self.entry(&key).await? else {
                continue;
            };
            if holder.id != claim.id {
                return Ok(Err(()));
            }
            if self
                .online
                .update(&key, value.clone().into(), revision)
                .await
                .is_ok()
            {
                return Ok(Ok(false));
            }
        }
        Ok(Err(()))
    }

    async fn free_now(&self, name_key: &str, id: ParticipantId) {
        let key = key_of(name_key);
        if let Ok(Some((holder, revision))) = self.entry(&key).await {
            if holder.id == id {
                let _ = self
                    .online
                    .purge_expect_revision(&key, Some(revision))
                    .await;
            }
        }
    }

    async fn online_with_ids_now(&self, ids: &[ParticipantId]) -> Result<Vec<Claim>, Unavailable> {
        let mut found = Vec::new();
        let mut keys = self.online.keys().await.map_err(unavailable)?;
        while let Some(key) = futures_util::StreamExt::next(&mut keys).await {
            let Ok(key) = key else { continue };
            if let Some((claim, _)) = self.entry(&key).await? {
                if ids.contains(&claim.id) {
                    found.push(claim);
                    if found.len() == ids.len() {
                        break;
                    }
                }
            }
        }
        Ok(found)
    }

    /// Frees every name held by participants connected to `node` (it died).
    pub async fn free_node(&self, node: &str, online: &Mirror) {
        for (key, claim) in online.values::<Claim>() {
            if claim.node == node {
                if let Ok(Some((holder, revision))) = self.entry(&key).await {
                    if holder.node == node {
                        let _ = self
                            .online
                            .purge_expect_revision(&key, Some(revision))
                            .await;
                    }
                }
            }
        }
    }

    async fn registration_now(&self, name_key: &str) -> Result<Option<Registration>, Unavailable> {
        let value = self
            .registered
            .get(key_of(name_key))
            .await
            .map_err(unavailable)?;
        Ok(value.and_then(|v| serde_json::from_slice(&v).ok()))
    }

    async fn registrations_now(&self, key: &str) -> Result<Vec<Registration>, Unavailable> {
        let mut mine: Vec<(u64, Registration)> = Vec::new();
        for (name_key, r) in self.registrations.values::<Registration>() {
            if r.key == key {
                // The live copy may lag a moment behind: the bucket has the last word.
                if let Ok(Some(e)) = self.registered.entry(&name_key).await {
                    if e.operation == Operation::Put {
                        mine.push((e.revision, r));
                    }
                }
            }
        }
        mine.sort_by_key(|(revision, _)| *revision);
        Ok(mine.into_iter().map(|(_, r)| r).collect())
    }

    async fn register_now(&self, registration: Registration) -> Result<bool, Unavailable> {
        let key = key_of(&registration.name_key);
        let value = serde_json::to_vec(&registration).map_err(unavailable)?;
        match self.registered.create(&key, value.clone().into()).await {
            Ok(_) => {
                // Listed at once on this node, as a lone server's are.
                self.registrations.put(&key, value.into());
                Ok(true)
            }
            Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn unregister_now(&self, name_key: &str) -> Result<(), Unavailable> {
        let key = key_of(name_key);
        self.registered.purge(&key).await.map_err(unavailable)?;
        self.registrations.remove(&key);
        Ok(())
    }
}

/// Who is online on which node, as this node last saw `chat_online`: which node to send
/// a whisper to, and the names to free when a node is gone. Clones share it.
#[derive(Clone)]
pub(super) struct Online {
    names: ClusterNames,
    /// A live copy of `chat_online`.
    claims: Mirror,
}

impl Online {
    /// The claims of `names`, as the live copy `claims` shows them.
    pub fn new(names: ClusterNames, claims: Mirror) -> Online {
        Online { names, claims }
    }

    /// Frees every name held by participants connected to `node` (it died or stopped).
    pub async fn free_node(&self, node: &str) {
        self.names.free_node(node, &self.claims).await;
    }

    /// The node holding participant `to`, online as `nick`.
    pub fn node_holding(&self, nick: &str, to: ParticipantId) -> Option<String> {
        let key = key_of(Nickname::parse(nick).ok()?.key());
        let claim: Claim = serde_json::from_slice(&self.claims.get(&key)?).ok()?;
        (claim.id == to).then_some(claim.node)
    }

    /// The node holding participant `id`, whatever their name.
    pub fn node_of(&self, id: ParticipantId) -> Option<String> {
        let claims = self.claims.values::<Claim>();
        claims
            .into_iter()
            .find(|(_, c)| c.id == id)
            .map(|(_, c)| c.node)
    }
}

impl NameStore for ClusterNames {
    fn online_with_ids<'a>(
        &'a self,
        ids: &'a [ParticipantId],
    ) -> BoxFuture<'a, Result<Vec<Claim>, Unavailable>> {
        Box::pin(self.online_with_ids_now(ids))
    }

    fn online<'a>(
        &'a self,
        name_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Claim>, Unavailable>> {
        Box::pin(self.claim_of(name_key))
    }

    fn take<'a>(
        &'a self,
        name_key: &'a str,
        claim: Claim,
    ) -> BoxFuture<'a, Result<Result<bool, ()>, Unavailable>> {
        Box::pin(self.take_now(name_key, claim))
    }

    fn free<'a>(&'a self, name_key: &'a str, id: ParticipantId) -> BoxFuture<'a, ()> {
        Box::pin(self.free_now(name_key, id))
    }

    fn registration<'a>(
        &'a self,
        name_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Registration>, Unavailable>> {
        Box::pin(self.registration_now(name_key))
    }

    fn registrations_of<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Registration>, Unavailable>> {
        Box::pin(self.registrations_now(key))
    }

    fn register(&self, registration: Registration) -> BoxFuture<'_, Result<bool, Unavailable>> {
        Box::pin(self.register_now(registration))
    }

    fn unregister<'a>(&'a self, name_key: &'a str) -> BoxFuture<'a, Result<(), Unavailable>> {
        Box::pin(self.unregister_now(name_key))
    }
}
