//! The server API: what another backend asks of the hub. It publishes to rooms and users (on
//! every node, optionally kept with a seq per room), reads a room's presence and counts,
//! disconnects a user everywhere and revokes their tokens. It is called with a [`Grant`]: a
//! `system` or `admin` account's token grants every scope, an API key only its own.
//!
//! API keys (`hk_…`) are made by admins, shown once, and kept as a SHA-256 of the secret: a
//! key is 256 random bits, so a fast hash is as strong as a slow one and costs one lookup per
//! request.

use super::access::{Access, AccessError};
use super::notify::{Except, Notify};
use super::presence::Presence;
use crate::auth::{API_KEY_PREFIX, Revocations, is_api_key};
use crate::clock::{SharedClock, rfc3339};
use crate::error::DomainError;
use crate::store::{
    ApiKeyRow, NewApiKey as NewKeyRow, NewAudit, PublicationRow, Store, StoreError, WriteTx,
};
use base64::Engine;
use hub_protocol::realtime::server as events;
use hub_protocol::server::{
    ApiKey, ApiKeyList, Broadcast, CountRooms, CreatedApiKey, Disconnected, NewApiKey,
    PresenceCount, PresenceCounts, Publication, PublicationPage, Publish, Published, RoomCount,
    RoomPresence, Scope, SessionCloseCode,
};
use hub_protocol::{AccountRole, ApiKeyId, ErrorCode, PublicationId, RoomId, UserId};
use hub_rooms::RoomName;
use hub_rooms::fields::FieldError;
use hub_rooms::server as rules;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a caller of the server API may do, and for whom it acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Who acts: the account, or the admin who made the key.
    pub actor: UserId,
    /// The key used, if one was.
    pub key: Option<ApiKeyId>,
    scopes: Vec<Scope>,
}

impl Grant {
    /// What an account's token grants: every scope to `system` and `admin` accounts, none
    /// to anyone else.
    pub fn of_account(user: &UserId, role: AccountRole) -> Grant {
        Grant {
            actor: user.clone(),
            key: None,
            scopes: if role.is_privileged() {
                Scope::ALL.to_vec()
            } else {
                Vec::new()
            },
        }
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// An audit entry of what this grant did, by its actor, naming the key when one was used.
    pub fn audit_entry<'a>(
        &'a self,
        scope: String,
        ref_id: &'a str,
        action: &'a str,
        mut details: serde_json::Value,
    ) -> NewAudit<'a> {
        if let Some(key) = &self.key {
            details["api_key"] = json!(key);
        }
        NewAudit {
            scope,
            ref_id: Some(ref_id),
            actor_id: Some(self.actor.as_str()),
            action,
            details,
        }
    }

    /// `Ok` when the grant holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ServerError> {
        if self.allows(scope) {
            Ok(())
        } else {
            Err(ServerError::Forbidden(scope))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("this needs a system or admin token, or an API key with the `{}` scope", .0.as_str())]
    Forbidden(Scope),
    /// API keys are managed by admin and system accounts, with their own token.
    #[error("API keys are managed by admin and system accounts")]
    NotAdmin,
    #[error("invalid API key")]
    BadKey,
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

domain_error!(ServerError);

impl DomainError for ServerError {
    fn code(&self) -> ErrorCode {
        match self {
            ServerError::Forbidden(_) | ServerError::NotAdmin => ErrorCode::Forbidden,
            ServerError::BadKey => ErrorCode::Unauthorized,
            ServerError::NotFound(_) => ErrorCode::NotFound,
            ServerError::Access(a) => a.code(),
            ServerError::Field(f) => f.code(),
            ServerError::Store(s) => s.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            ServerError::Field(f) => f.public_message(),
            ServerError::Store(s) => s.public_message(),
            ServerError::Access(a) => a.public_message(),
            other => other.to_string(),
        }
    }
}

pub type ServerResult<T> = Result<T, ServerError>;

/// The server API's settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The largest publication, in bytes of JSON (`HUB_PUBLISH_MAX_BYTES`).
    pub publish_max_bytes: usize,
}

impl ServerConfig {
    pub const DEFAULT: ServerConfig = ServerConfig {
        publish_max_bytes: 64 * 1024,
    };
    /// The largest `HUB_PUBLISH_MAX_BYTES` accepted: a publication crosses the bus whole.
    pub const MAX_PUBLISH_BYTES: usize = 1024 * 1024;
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Server API flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// The largest publication through the server API, in bytes of JSON (at most 1 MiB).
    #[arg(long, env = "HUB_PUBLISH_MAX_BYTES", default_value_t = ServerConfig::DEFAULT.publish_max_bytes)]
    pub publish_max_bytes: usize,
}

impl ServerArgs {
    pub fn resolve(&self) -> anyhow::Result<ServerConfig> {
        anyhow::ensure!(
            (1..=ServerConfig::MAX_PUBLISH_BYTES).contains(&self.publish_max_bytes),
            "HUB_PUBLISH_MAX_BYTES must be 1 to {}",
            ServerConfig::MAX_PUBLISH_BYTES
        );
        Ok(ServerConfig {
            publish_max_bytes: self.publish_max_bytes,
        })
    }
}

/// Who reads a room's kept publications.
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    /// The server API.
    Server(&'a Grant),
    /// A user, if a member of the room.
    Member(&'a UserId),
}

/// The most stored publications one page holds.
pub const MAX_PAGE: u32 = 500;
/// A page's size when none is asked.
pub const DEFAULT_PAGE: u32 = 100;
/// How often a key's `last_used_at` is written at most.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Stored publications of one room are committed and sent one at a time, so they arrive in
/// seq order; rooms share this many locks.
const ROOM_LOCKS: usize = 64;

/// The server API.
#[derive(Clone)]
pub struct Server {
    store: Store,
    access: Access,
    notify: Notify,
    presence: Arc<Presence>,
    revocations: Arc<Revocations>,
    config: ServerConfig,
    clock: SharedClock,
    room_locks: Arc<Vec<tokio::sync::Mutex<()>>>,
    /// When each key's use was last written.
    touched: Arc<Mutex<HashMap<ApiKeyId, std::time::Instant>>>,
}

impl Server {
    pub fn new(
        store: Store,
        access: Access,
        notify: Notify,
        presence: Arc<Presence>,
        config: ServerConfig,
        clock: SharedClock,
    ) -> Server {
        Server {
            store,
            access,
            notify,
            presence,
            revocations: Arc::default(),
            config,
            clock,
            room_locks: Arc::new((0..ROOM_LOCKS).map(|_| Default::default()).collect()),
            touched: Arc::default(),
        }
    }

    /// The revocations this node enforces (the `Auth` of its transports holds them too).
    pub fn revocations(&self) -> Arc<Revocations> {
        self.revocations.clone()
    }

    /// Reads every revocation from the store (at start, and after a gap on the bus).
    pub async fn load_revocations(&self) -> ServerResult<()> {
        for row in self.store.revocations().await? {
            self.revocations.set(&row.user_id, row.revoked_before);
        }
        Ok(())
    }

    /// A revocation heard from the bus, in force on this node before its sockets are closed.
    pub fn revoked(&self, user: &UserId, before: i64) {
        self.revocations.set(user, before);
    }

    /// Publishes to a room's sockets on every node; with `store`, kept with the room's next
    /// seq first.
    pub async fn publish_room(
        &self,
        grant: &Grant,
        room: &RoomName,
        p: &Publish,
    ) -> ServerResult<Publication> {
        grant.require(Scope::Publish)?;
        let data = self.checked(&p.event, &p.data)?;
        let room = room.id();
        if p.store != Some(true) {
            let publication = self.fresh(room, &p.event, &p.data);
            self.send(&publication).await;
            return Ok(publication);
        }
        // One room's stored publications leave in seq order.
        let _turn = self.room_lock(&room).lock().await;
        let mut w = self.store.begin_write().await?;
        let row = self
            .store
            .add_publication(&mut w, &room, &p.event, &data)
            .await?;
        w.commit().await?;
        let publication = publication_view(row, p.data.clone());
        self.send(&publication).await;
        Ok(publication)
    }

    /// Publishes to every socket of `user`, on every node.
    pub async fn publish_user(
        &self,
        grant: &Grant,
        user: &UserId,
        p: &Publish,
    ) -> ServerResult<Publication> {
        grant.require(Scope::Publish)?;
        if p.store == Some(true) {
            return Err(FieldError::new("store", "a user's publications are not kept").into());
        }
        self.checked(&p.event, &p.data)?;
        let publication = self.fresh(RoomName::user(user).id(), &p.event, &p.data);
        self.send(&publication).await;
        Ok(publication)
    }

    /// Publishes one event to many rooms (not kept).
    pub async fn broadcast(&self, grant: &Grant, b: &Broadcast) -> ServerResult<Published> {
        grant.require(Scope::Publish)?;
        self.checked(&b.event, &b.data)?;
        let rooms = rules::rooms(b.rooms.iter().map(RoomId::as_str))?;
        let mut publications = Vec::with_capacity(rooms.len());
        for room in rooms {
            let publication = self.fresh(room.id(), &b.event, &b.data);
            self.send(&publication).await;
            publications.push(publication);
        }
        Ok(Published { publications })
    }

    /// A room's kept publications after `after`, oldest first: for its members, and for the
    /// server API with the `publish` or `presence` scope.
    pub async fn publications(
        &self,
        reader: Reader<'_>,
        room: &RoomName,
        after: Option<i64>,
        limit: Option<u32>,
    ) -> ServerResult<PublicationPage> {
        match reader {
            Reader::Server(grant)
                if grant.allows(Scope::Publish) || grant.allows(Scope::Presence) => {}
            Reader::Server(_) => return Err(ServerError::Forbidden(Scope::Publish)),
            Reader::Member(user) => {
                self.access.member(user, room).await?;
            }
        }
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(n @ 1..=MAX_PAGE) => n,
            Some(_) => return Err(FieldError::new("limit", format!("1 to {MAX_PAGE}")).into()),
        };
        let (rows, has_more) = self
            .store
            .publications(&room.id(), after.unwrap_or(0).max(0), limit)
            .await?;
        let publications = rows
            .into_iter()
            .map(|row| {
                let data = serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null);
                publication_view(row, data)
            })
            .collect();
        Ok(PublicationPage {
            publications,
            has_more,
        })
    }

    /// Who is in `room`, as its sockets see it, and the counts.
    pub async fn presence(&self, grant: &Grant, room: &RoomName) -> ServerResult<RoomPresence> {
        grant.require(Scope::Presence)?;
        let id = room.id();
        let ((presence, typing), count) = self
            .presence
            .reading(std::slice::from_ref(&id), |p| {
                (p.snapshot(&id), count_of(p, &id))
            })
            .await;
        Ok(RoomPresence {
            count,
            room: id,
            presence,
            typing,
        })
    }

    /// The counts of many rooms, in the order asked.
    pub async fn counts(&self, grant: &Grant, ask: &CountRooms) -> ServerResult<PresenceCounts> {
        grant.require(Scope::Presence)?;
        let rooms: Vec<RoomId> = rules::rooms(ask.rooms.iter().map(RoomId::as_str))?
            .into_iter()
            .map(|r| r.id())
            .collect();
        let rooms = self
            .presence
            .reading(&rooms, |p| {
                rooms
                    .iter()
                    .map(|room| RoomCount {
                        count: count_of(p, room),
                        room: room.clone(),
                    })
                    .collect()
            })
            .await;
        Ok(PresenceCounts { rooms })
    }

    /// Closes every connection of `user` on every node (Socket.IO and `/yjs`), telling why.
    /// They may connect again at once.
    pub async fn disconnect(
        &self,
        grant: &Grant,
        user: &UserId,
        reason: Option<&str>,
    ) -> ServerResult<Disconnected> {
        grant.require(Scope::Disconnect)?;
        let reason = rules::reason(reason, "disconnected by the server")?;
        let mut w = self.store.begin_write().await?;
        self.audit(
            &mut w,
            grant,
            user,
            "session.disconnected",
            json!({"reason": reason}),
        )
        .await?;
        w.commit().await?;
        self.notify
            .close_sessions(user, SessionCloseCode::Disconnected, &reason, None)
            .await;
        Ok(Disconnected {
            user_id: user.clone(),
            reason,
            revoked_before: None,
        })
    }

    /// Revokes every token of `user` issued before now: their connections close on every
    /// node, and a handshake or a request with such a token is refused from then on.
    pub async fn revoke(
        &self,
        grant: &Grant,
        user: &UserId,
        reason: Option<&str>,
    ) -> ServerResult<Disconnected> {
        grant.require(Scope::Disconnect)?;
        let reason = rules::reason(reason, "tokens revoked")?;
        let now = self.clock.now_ms();
        let mut w = self.store.begin_write().await?;
        let row = self.store.revoke_tokens(&mut w, user, now, &reason).await?;
        self.audit(
            &mut w,
            grant,
            user,
            "tokens.revoked",
            json!({"reason": reason, "revoked_before": row.revoked_before}),
        )
        .await?;
        w.commit().await?;
        // In force here before the notice travels; every node applies it as it hears it.
        self.revocations.set(user, row.revoked_before);
        self.notify
            .close_sessions(
                user,
                SessionCloseCode::Revoked,
                &reason,
                Some(row.revoked_before),
            )
            .await;
        Ok(Disconnected {
            user_id: user.clone(),
            reason,
            revoked_before: Some(rfc3339(row.revoked_before)),
        })
    }

    /// Makes an API key; its secret is in the answer and nowhere else.
    pub async fn create_key(
        &self,
        by: &UserId,
        role: AccountRole,
        new: &NewApiKey,
    ) -> ServerResult<CreatedApiKey> {
        if !role.is_privileged() {
            return Err(ServerError::NotAdmin);
        }
        let name = rules::key_name(&new.name)?;
        let scopes = rules::scopes(&new.scopes)?;
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let secret = format!(
            "{API_KEY_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        let mut w = self.store.begin_write().await?;
        let row = self
            .store
            .add_api_key(
                &mut w,
                &NewKeyRow {
                    name: &name,
                    secret_sha256: &sha256_hex(&secret),
                    prefix: &secret[..API_KEY_PREFIX.len() + 8],
                    scopes: &names.join(","),
                    created_by: by,
                },
            )
            .await?;
        self.audit_key(
            &mut w,
            by,
            &row.id,
            "api_key.created",
            json!({"name": name, "scopes": names}),
        )
        .await?;
        w.commit().await?;
        Ok(CreatedApiKey {
            key: key_view(row),
            secret,
        })
    }

    pub async fn keys(&self, role: AccountRole) -> ServerResult<ApiKeyList> {
        if !role.is_privileged() {
            return Err(ServerError::NotAdmin);
        }
        Ok(ApiKeyList {
            keys: self
                .store
                .api_keys()
                .await?
                .into_iter()
                .map(key_view)
                .collect(),
        })
    }

    /// Revokes a key at once, on every node (each request reads its key).
    pub async fn revoke_key(
        &self,
        by: &UserId,
        role: AccountRole,
        id: &ApiKeyId,
    ) -> ServerResult<ApiKey> {
        if !role.is_privileged() {
            return Err(ServerError::NotAdmin);
        }
        let mut w = self.store.begin_write().await?;
        if self.store.revoke_api_key(&mut w, id).await? {
            self.audit_key(&mut w, by, id, "api_key.revoked", json!({}))
                .await?;
        }
        w.commit().await?;
        self.store
            .api_key(id)
            .await?
            .map(key_view)
            .ok_or(ServerError::NotFound("API key"))
    }

    /// The grant of an API key, if it is live.
    pub async fn key_grant(&self, secret: &str) -> ServerResult<Grant> {
        if !is_api_key(secret) {
            return Err(ServerError::BadKey);
        }
        let row = self
            .store
            .api_key_by_secret(&sha256_hex(secret))
            .await?
            .ok_or(ServerError::BadKey)?;
        self.touch(&row.id).await;
        Ok(Grant {
            actor: row.created_by,
            key: Some(row.id),
            scopes: row.scopes.split(',').filter_map(Scope::parse).collect(),
        })
    }

    /// Writes a key's `last_used_at`, at most once a minute per key and node.
    async fn touch(&self, id: &ApiKeyId) {
        let due = {
            let mut touched = self.touched.lock().unwrap_or_else(|e| e.into_inner());
            let now = std::time::Instant::now();
            match touched.get(id) {
                Some(at) if now.duration_since(*at) < TOUCH_EVERY => false,
                _ => {
                    touched.insert(id.clone(), now);
                    true
                }
            }
        };
        if due && let Err(e) = self.store.touch_api_key(id, self.clock.now_ms()).await {
            tracing::warn!(key = %id, error = %e, "cannot record an API key's use");
        }
    }

    /// The event's name and the data's size checked; the data as JSON text.
    fn checked(&self, event: &str, data: &serde_json::Value) -> ServerResult<String> {
        rules::event_name(event)?;
        let text = serde_json::to_string(data)
            .map_err(|e| FieldError::new("data", format!("does not encode: {e}")))?;
        rules::data_size(text.len(), self.config.publish_max_bytes)?;
        Ok(text)
    }

    fn fresh(&self, room: RoomId, event: &str, data: &serde_json::Value) -> Publication {
        Publication {
            id: PublicationId(crate::store::new_id()),
            room,
            event: event.to_owned(),
            data: data.clone(),
            seq: None,
            published_at: rfc3339(self.clock.now_ms()),
        }
    }

    async fn send(&self, publication: &Publication) {
        metrics::counter!("hub_server_publications_total").increment(1);
        self.notify
            .to_room(
                &publication.room,
                events::ServerEventEvent,
                publication,
                Except::default(),
            )
            .await;
    }

    fn room_lock(&self, room: &RoomId) -> &tokio::sync::Mutex<()> {
        let hash = Sha256::digest(room.as_str().as_bytes());
        &self.room_locks[usize::from(hash[0]) % self.room_locks.len()]
    }

    /// Records what `by` did to key `id` in the system's chain.
    async fn audit_key(
        &self,
        w: &mut WriteTx,
        by: &UserId,
        id: &ApiKeyId,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.store
            .audit(
                w,
                NewAudit {
                    scope: "system".into(),
                    ref_id: Some(id.as_str()),
                    actor_id: Some(by.as_str()),
                    action,
                    details,
                },
            )
            .await?;
        Ok(())
    }

    /// Records what `grant` did to `user`'s sessions in the user's chain.
    async fn audit(
        &self,
        w: &mut WriteTx,
        grant: &Grant,
        user: &UserId,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        let entry = grant.audit_entry(format!("user:{user}"), user.as_str(), action, details);
        self.store.audit(w, entry).await?;
        Ok(())
    }
}

fn sha256_hex(text: &str) -> String {
    crate::store::hex_of(&Sha256::digest(text.as_bytes()))
}

fn publication_view(row: PublicationRow, data: serde_json::Value) -> Publication {
    Publication {
        id: row.id,
        room: row.room,
        event: row.event,
        data,
        seq: Some(row.seq),
        published_at: rfc3339(row.created_at),
    }
}

fn key_view(row: ApiKeyRow) -> ApiKey {
    ApiKey {
        id: row.id,
        name: row.name,
        scopes: row.scopes.split(',').filter_map(Scope::parse).collect(),
        prefix: row.prefix,
        created_by: row.created_by,
        created_at: rfc3339(row.created_at),
        last_used_at: row.last_used_at.map(rfc3339),
        revoked_at: row.revoked_at.map(rfc3339),
    }
}

/// The counts of `room` in the replica.
fn count_of(presence: &Presence, room: &RoomId) -> PresenceCount {
    let (users, connections) = presence.count(room);
    PresenceCount { users, connections }
}
