//! Webhooks out: admins (or an API key with the `webhooks` scope) register endpoints; every
//! domain change worth hearing is written to an outbox in its own transaction ([`Outbox`]) and
//! delivered by a worker on every node ([`deliver`]): at least once, in order per endpoint,
//! retried with exponential backoff and jitter, given up (dead) after too many tries or too
//! long, replayable by hand, every try logged. Deliveries are signed as the Standard Webhooks
//! specification says, so receivers verify them with its stock libraries.

pub mod deliver;
pub mod guard;
pub mod outbox;

pub use outbox::Outbox;

use super::notify::Notify;
use super::server::Grant;
use crate::clock::{SharedClock, rfc3339};
use crate::error::DomainError;
use crate::store::{AttemptRow, DeliveryRow, EndpointRow, Store, StoreError, WriteTx};
use base64::Engine;
use hub_protocol::server::Scope;
use hub_protocol::webhooks::{
    Attempt, CreatedWebhook, Delivery, DeliveryList, DeliveryLog, DeliveryState, NewWebhook,
    PatchWebhook, Webhook, WebhookList,
};
use hub_protocol::{DeliveryId, ErrorCode, NodeId, RoomId, WebhookId};
use hub_rooms::fields::{FieldError, text};
use hub_rooms::webhooks as rules;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(
        "webhooks are managed by admin and system accounts, or an API key with the `webhooks` scope"
    )]
    Forbidden,
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

domain_error!(WebhookError);

impl DomainError for WebhookError {
    fn code(&self) -> ErrorCode {
        match self {
            WebhookError::Forbidden => ErrorCode::Forbidden,
            WebhookError::NotFound(_) => ErrorCode::NotFound,
            WebhookError::Conflict(_) => ErrorCode::Conflict,
            WebhookError::Field(f) => f.code(),
            WebhookError::Store(s) => s.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            WebhookError::Field(f) => f.public_message(),
            WebhookError::Store(s) => s.public_message(),
            other => other.to_string(),
        }
    }
}

pub type WebhookResult<T> = Result<T, WebhookError>;

/// The webhook settings.
#[derive(Debug, Clone)]
pub struct WebhooksConfig {
    /// Call private, loopback and link-local targets (`HUB_WEBHOOK_ALLOW_PRIVATE`).
    pub allow_private: bool,
    /// How long one try may take (`HUB_WEBHOOK_TIMEOUT`).
    pub timeout: Duration,
    /// The wait after the first failure, doubled at each (`HUB_WEBHOOK_RETRY_BASE`).
    pub retry_base: Duration,
    /// The longest wait between tries (`HUB_WEBHOOK_RETRY_MAX`).
    pub retry_max: Duration,
    /// Tries before a delivery is given up (`HUB_WEBHOOK_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// Age after which a failing delivery is given up (`HUB_WEBHOOK_MAX_AGE`).
    pub max_age: Duration,
    /// How often a node looks for due deliveries besides being woken (`HUB_WEBHOOK_POLL`).
    pub poll: Duration,
    /// How long a node holds an endpoint while it delivers, renewed before each try
    /// (`HUB_WEBHOOK_LEASE`).
    pub lease: Duration,
}

impl WebhooksConfig {
    pub const DEFAULT: WebhooksConfig = WebhooksConfig {
        allow_private: false,
        timeout: Duration::from_secs(10),
        retry_base: Duration::from_secs(2),
        retry_max: Duration::from_secs(3600),
        max_attempts: 15,
        max_age: Duration::from_secs(3 * 86_400),
        poll: Duration::from_secs(1),
        lease: Duration::from_secs(30),
    };
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Webhook flags.
#[derive(Debug, Clone, clap::Args)]
pub struct WebhooksArgs {
    /// Let webhooks call private, loopback and link-local addresses (refused by default, so
    /// that an endpoint cannot reach the hub's own network).
    #[arg(long, env = "HUB_WEBHOOK_ALLOW_PRIVATE", default_value_t = WebhooksConfig::DEFAULT.allow_private, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,
    /// How long one delivery try may take.
    #[arg(long, env = "HUB_WEBHOOK_TIMEOUT", default_value_t = WebhooksConfig::DEFAULT.timeout.into())]
    pub webhook_timeout: humantime::Duration,
    /// The wait after a delivery's first failure; doubled at each failure.
    #[arg(long, env = "HUB_WEBHOOK_RETRY_BASE", default_value_t = WebhooksConfig::DEFAULT.retry_base.into())]
    pub webhook_retry_base: humantime::Duration,
    /// The longest wait between two tries.
    #[arg(long, env = "HUB_WEBHOOK_RETRY_MAX", default_value_t = WebhooksConfig::DEFAULT.retry_max.into())]
    pub webhook_retry_max: humantime::Duration,
    /// Tries before a delivery is given up (dead; replayable).
    #[arg(long, env = "HUB_WEBHOOK_MAX_ATTEMPTS", default_value_t = WebhooksConfig::DEFAULT.max_attempts)]
    pub webhook_max_attempts: u32,
    /// Age after which a failing delivery is given up.
    #[arg(long, env = "HUB_WEBHOOK_MAX_AGE", default_value_t = WebhooksConfig::DEFAULT.max_age.into())]
    pub webhook_max_age: humantime::Duration,
    /// How often a node looks for due deliveries besides being woken by its own commits.
    #[arg(long, env = "HUB_WEBHOOK_POLL", default_value_t = WebhooksConfig::DEFAULT.poll.into())]
    pub webhook_poll: humantime::Duration,
    /// How long a node holds an endpoint while it delivers (renewed before each try; more
    /// than the timeout). A node that dies holding it delays that endpoint by this much.
    #[arg(long, env = "HUB_WEBHOOK_LEASE", default_value_t = WebhooksConfig::DEFAULT.lease.into())]
    pub webhook_lease: humantime::Duration,
}

impl WebhooksArgs {
    pub fn resolve(&self) -> anyhow::Result<WebhooksConfig> {
        let c = WebhooksConfig {
            allow_private: self.webhook_allow_private,
            timeout: *self.webhook_timeout,
            retry_base: *self.webhook_retry_base,
            retry_max: *self.webhook_retry_max,
            max_attempts: self.webhook_max_attempts,
            max_age: *self.webhook_max_age,
            poll: *self.webhook_poll,
            lease: *self.webhook_lease,
        };
        anyhow::ensure!(
            !c.timeout.is_zero() && c.timeout < c.lease,
            "HUB_WEBHOOK_TIMEOUT must be more than 0 and less than HUB_WEBHOOK_LEASE ({})",
            humantime::format_duration(c.lease)
        );
        anyhow::ensure!(
            !c.retry_base.is_zero() && c.retry_base <= c.retry_max,
            "HUB_WEBHOOK_RETRY_BASE must be more than 0 and at most HUB_WEBHOOK_RETRY_MAX"
        );
        anyhow::ensure!(
            c.max_attempts >= 1,
            "HUB_WEBHOOK_MAX_ATTEMPTS must be at least 1"
        );
        anyhow::ensure!(
            !c.max_age.is_zero(),
            "HUB_WEBHOOK_MAX_AGE must be more than 0"
        );
        anyhow::ensure!(!c.poll.is_zero(), "HUB_WEBHOOK_POLL must be more than 0");
        Ok(c)
    }
}

/// The most deliveries one page lists.
pub const MAX_PAGE: u32 = 200;
/// The longest description of an endpoint.
const MAX_DESCRIPTION_CHARS: usize = 500;

/// Webhook endpoints, their deliveries and the worker that sends them.
#[derive(Clone)]
pub struct Webhooks {
    store: Store,
    notify: Notify,
    outbox: Outbox,
    http: reqwest::Client,
    node: NodeId,
    clock: SharedClock,
    config: Arc<WebhooksConfig>,
}

impl Webhooks {
    pub fn new(
        store: Store,
        notify: Notify,
        outbox: Outbox,
        node: NodeId,
        clock: SharedClock,
        config: WebhooksConfig,
    ) -> Webhooks {
        let mut http = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if !config.allow_private {
            http = http.dns_resolver(Arc::new(guard::PublicOnly));
        }
        let http = http.build().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot build the webhook client; using the default one");
            reqwest::Client::new()
        });
        Webhooks {
            store,
            notify,
            outbox,
            http,
            node,
            clock,
            config: Arc::new(config),
        }
    }

    /// The settings (the worker's poll interval).
    pub fn config(&self) -> &WebhooksConfig {
        &self.config
    }

    /// What wakes this node's worker: a commit that wrote deliveries.
    pub fn waker(&self) -> Arc<tokio::sync::Notify> {
        self.outbox.waker()
    }

    /// Reads the endpoints into the outbox (at start, after a bus gap, on a change anywhere).
    pub async fn reload(&self) -> WebhookResult<()> {
        self.outbox.set(&self.store.webhooks().await?);
        Ok(())
    }

    pub async fn create(&self, grant: &Grant, new: &NewWebhook) -> WebhookResult<CreatedWebhook> {
        allowed(grant)?;
        let url = rules::target(&new.url)?;
        if let Some(why) = guard::refused_target(&url, self.config.allow_private) {
            return Err(FieldError::new("url", format!("refused: {why}")).into());
        }
        let events = rules::events(&new.events)?;
        let rooms = match &new.rooms {
            None => None,
            Some(rooms) if rooms.len() > rules::MAX_ROOMS => {
                return Err(
                    FieldError::new("rooms", format!("at most {}", rules::MAX_ROOMS)).into(),
                );
            }
            Some(rooms) => {
                let names = hub_rooms::server::rooms(rooms.iter().map(RoomId::as_str))?;
                Some(names.iter().map(|r| r.to_string()).collect::<Vec<_>>())
            }
        };
        let secret = match &new.secret {
            Some(s) => {
                rules::secret(s)?;
                s.clone()
            }
            None => {
                let mut bytes = [0u8; 24];
                rand::fill(&mut bytes);
                format!(
                    "whsec_{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                )
            }
        };
        let description = text(
            "description",
            new.description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION_CHARS,
            false,
        )?;
        let row = EndpointRow {
            id: WebhookId(crate::store::new_id()),
            url,
            events: events.join(","),
            rooms: rooms.map(|r| json!(r).to_string()),
            secret: secret.clone(),
            description,
            created_by: grant.actor.clone(),
            created_at: self.clock.now_ms(),
            disabled_at: None,
        };
        let mut w = self.store.begin_write().await?;
        self.store.add_webhook(&mut w, &row).await?;
        self.audit(
            &mut w,
            grant,
            &row.id,
            "webhook.created",
            json!({"url": row.url, "events": events}),
        )
        .await?;
        w.commit().await?;
        self.changed().await;
        Ok(CreatedWebhook {
            webhook: webhook_view(row),
            secret,
        })
    }

    pub async fn list(&self, grant: &Grant) -> WebhookResult<WebhookList> {
        allowed(grant)?;
        Ok(WebhookList {
            webhooks: self
                .store
                .webhooks()
                .await?
                .into_iter()
                .map(webhook_view)
                .collect(),
        })
    }

    pub async fn get(&self, grant: &Grant, id: &WebhookId) -> WebhookResult<Webhook> {
        allowed(grant)?;
        Ok(webhook_view(self.endpoint(id).await?))
    }

    pub async fn patch(
        &self,
        grant: &Grant,
        id: &WebhookId,
        patch: &PatchWebhook,
    ) -> WebhookResult<Webhook> {
        allowed(grant)?;
        let events = patch
            .events
            .as_deref()
            .map(rules::events)
            .transpose()?
            .map(|e| e.join(","));
        let disabled = patch.disabled.map(|d| d.then(|| self.clock.now_ms()));
        let mut w = self.store.begin_write().await?;
        if !self
            .store
            .patch_webhook(&mut w, id, events.as_deref(), disabled)
            .await?
        {
            return Err(WebhookError::NotFound("webhook"));
        }
        self.audit(
            &mut w,
            grant,
            id,
            "webhook.changed",
            json!({"events": events, "disabled": patch.disabled}),
        )
        .await?;
        w.commit().await?;
        self.changed().await;
        Ok(webhook_view(self.endpoint(id).await?))
    }

    /// Deletes an endpoint with its deliveries and their log.
    pub async fn delete(&self, grant: &Grant, id: &WebhookId) -> WebhookResult<()> {
        allowed(grant)?;
        let mut w = self.store.begin_write().await?;
        if !self.store.delete_webhook(&mut w, id).await? {
            return Err(WebhookError::NotFound("webhook"));
        }
        self.audit(&mut w, grant, id, "webhook.deleted", json!({}))
            .await?;
        w.commit().await?;
        self.changed().await;
        Ok(())
    }

    /// An endpoint's deliveries, the newest first, in one state or all.
    pub async fn deliveries(
        &self,
        grant: &Grant,
        id: &WebhookId,
        state: Option<&str>,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> WebhookResult<DeliveryList> {
        allowed(grant)?;
        self.endpoint(id).await?;
        if let Some(s) = state
            && DeliveryState::parse(s).is_none()
        {
            return Err(FieldError::new("state", "pending, delivered or dead").into());
        }
        let limit = match limit {
            None => 50,
            Some(n @ 1..=MAX_PAGE) => n,
            Some(_) => return Err(FieldError::new("limit", format!("1 to {MAX_PAGE}")).into()),
        };
        let rows = self
            .store
            .webhook_deliveries(id, state, before, i64::from(limit))
            .await?;
        Ok(DeliveryList {
            deliveries: rows.into_iter().map(delivery_view).collect(),
        })
    }

    /// A delivery and the log of its tries.
    pub async fn delivery(&self, grant: &Grant, id: &DeliveryId) -> WebhookResult<DeliveryLog> {
        allowed(grant)?;
        let row = self
            .store
            .webhook_delivery(id)
            .await?
            .ok_or(WebhookError::NotFound("delivery"))?;
        let attempts = self.store.webhook_attempts(id).await?;
        Ok(DeliveryLog {
            delivery: delivery_view(row),
            attempts: attempts.into_iter().map(attempt_view).collect(),
        })
    }

    /// Puts a dead delivery back at its place in its endpoint's queue, due now.
    pub async fn replay(&self, grant: &Grant, id: &DeliveryId) -> WebhookResult<Delivery> {
        allowed(grant)?;
        let row = self
            .store
            .webhook_delivery(id)
            .await?
            .ok_or(WebhookError::NotFound("delivery"))?;
        let mut w = self.store.begin_write().await?;
        if !self.store.replay_delivery(&mut w, id).await? {
            return Err(WebhookError::Conflict("only a dead delivery is replayed"));
        }
        self.audit(
            &mut w,
            grant,
            &row.endpoint_id,
            "webhook.replayed",
            json!({"delivery": id}),
        )
        .await?;
        w.wake_after_commit(&self.outbox.waker());
        w.commit().await?;
        let row = self
            .store
            .webhook_delivery(id)
            .await?
            .ok_or(WebhookError::NotFound("delivery"))?;
        Ok(delivery_view(row))
    }

    async fn endpoint(&self, id: &WebhookId) -> WebhookResult<EndpointRow> {
        self.store
            .webhook(id)
            .await?
            .ok_or(WebhookError::NotFound("webhook"))
    }

    /// Every node reads the endpoints again (this one included, through the bus).
    async fn changed(&self) {
        if let Err(e) = self.reload().await {
            tracing::warn!(error = %e, "cannot read the webhook endpoints");
        }
        self.notify.webhooks_changed().await;
    }

    async fn audit(
        &self,
        w: &mut WriteTx,
        grant: &Grant,
        id: &WebhookId,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        let entry = grant.audit_entry("system".into(), id.as_str(), action, details);
        self.store.audit(w, entry).await?;
        Ok(())
    }
}

fn allowed(grant: &Grant) -> WebhookResult<()> {
    if grant.allows(Scope::Webhooks) {
        Ok(())
    } else {
        Err(WebhookError::Forbidden)
    }
}

fn webhook_view(row: EndpointRow) -> Webhook {
    Webhook {
        id: row.id,
        url: row.url,
        events: row.events.split(',').map(str::to_owned).collect(),
        rooms: row
            .rooms
            .as_deref()
            .and_then(|j| serde_json::from_str::<Vec<RoomId>>(j).ok()),
        description: row.description,
        created_by: row.created_by,
        created_at: rfc3339(row.created_at),
        disabled: row.disabled_at.is_some(),
    }
}

fn delivery_view(row: DeliveryRow) -> Delivery {
    let state = DeliveryState::parse(&row.state).unwrap_or(DeliveryState::Pending);
    Delivery {
        id: row.id,
        webhook_id: row.endpoint_id,
        seq: row.seq,
        event_type: row.event_type,
        state,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        created_at: rfc3339(row.created_at),
        next_attempt_at: (state == DeliveryState::Pending).then(|| rfc3339(row.next_attempt_at)),
        delivered_at: row.delivered_at.map(rfc3339),
        last_status: row.last_status.and_then(|s| u16::try_from(s).ok()),
        last_error: row.last_error,
        payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
    }
}

fn attempt_view(row: AttemptRow) -> Attempt {
    Attempt {
        attempt: u32::try_from(row.attempt).unwrap_or(0),
        at: rfc3339(row.at),
        status: row.status.and_then(|s| u16::try_from(s).ok()),
        duration_ms: row.duration_ms,
        error: row.error,
    }
}
