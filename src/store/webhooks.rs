//! Webhook endpoints, the outbox of their deliveries and the log of each try. A delivery is
//! written in the transaction of the change it tells of; a node leases an endpoint (one node
//! at a time, `FOR UPDATE SKIP LOCKED` on Postgres) and delivers its queue in `seq` order.

use super::{Backend, Store, StoreResult, WriteTx, id_of};
use hub_protocol::{DeliveryId, UserId, WebhookId};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

/// An endpoint as stored: its events joined by commas, its rooms a JSON array (or null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRow {
    pub id: WebhookId,
    pub url: String,
    pub events: String,
    pub rooms: Option<String>,
    pub secret: String,
    pub description: String,
    pub created_by: UserId,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for EndpointRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(EndpointRow {
            id: id_of(r, "id")?,
            url: r.try_get("url")?,
            events: r.try_get("events")?,
            rooms: r.try_get("rooms")?,
            secret: r.try_get("secret")?,
            description: r.try_get("description")?,
            created_by: id_of(r, "created_by")?,
            created_at: r.try_get("created_at")?,
            disabled_at: r.try_get("disabled_at")?,
        })
    }
}

const ENDPOINT_COLUMNS: &str =
    "id, url, events, rooms, secret, description, created_by, created_at, disabled_at";

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub seq: i64,
    pub id: DeliveryId,
    pub endpoint_id: WebhookId,
    pub event_type: String,
    /// The JSON body, exactly as sent.
    pub payload: String,
    pub created_at: i64,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for DeliveryRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(DeliveryRow {
            seq: r.try_get("seq")?,
            id: id_of(r, "id")?,
            endpoint_id: id_of(r, "endpoint_id")?,
            event_type: r.try_get("event_type")?,
            payload: r.try_get("payload")?,
            created_at: r.try_get("created_at")?,
            state: r.try_get("state")?,
            attempts: r.try_get("attempts")?,
            next_attempt_at: r.try_get("next_attempt_at")?,
            delivered_at: r.try_get("delivered_at")?,
            last_status: r.try_get("last_status")?,
            last_error: r.try_get("last_error")?,
        })
    }
}

const DELIVERY_COLUMNS: &str = "seq, id, endpoint_id, event_type, payload, created_at, state, \
     CAST(attempts AS BIGINT) AS attempts, next_attempt_at, delivered_at, \
     CAST(last_status AS BIGINT) AS last_status, last_error";

/// One try, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    pub attempt: i64,
    pub at: i64,
    pub status: Option<i64>,
    pub duration_ms: i64,
    pub error: Option<String>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for AttemptRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(AttemptRow {
            attempt: r.try_get("attempt")?,
            at: r.try_get("at")?,
            status: r.try_get("status")?,
            duration_ms: r.try_get("duration_ms")?,
            error: r.try_get("error")?,
        })
    }
}

/// A delivery to write into the outbox.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: DeliveryId,
    pub endpoint_id: WebhookId,
    pub event_type: String,
    pub payload: String,
}

/// What a try came to.
#[derive(Debug, Clone)]
pub struct Tried {
    pub at: i64,
    pub status: Option<u16>,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// The delivery's state after it, and when to try next while pending.
    pub state: &'static str,
    pub next_attempt_at: i64,
}

/// An endpoint a node took the lease of: where to call and with what secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leased {
    pub id: WebhookId,
    pub url: String,
    pub secret: String,
}

impl Store {
    pub async fn add_webhook(&self, w: &mut WriteTx, row: &EndpointRow) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(row.id.as_str())
            .bind(&row.url)
            .bind(&row.events)
            .bind(row.rooms.as_deref())
            .bind(&row.secret)
            .bind(&row.description)
            .bind(row.created_by.as_str())
            .bind(row.created_at)
            .bind(row.disabled_at)
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    /// Every endpoint, oldest first.
    pub async fn webhooks(&self) -> StoreResult<Vec<EndpointRow>> {
        let sql =
            format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?)
    }

    pub async fn webhook(&self, id: &WebhookId) -> StoreResult<Option<EndpointRow>> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?)
    }

    /// Changes an endpoint's events and whether it is disabled (each when given).
    pub async fn patch_webhook(
        &self,
        w: &mut WriteTx,
        id: &WebhookId,
        events: Option<&str>,
        disabled_at: Option<Option<i64>>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints
                SET events = COALESCE($2, events),
                    disabled_at = CASE WHEN $3 = 1 THEN $4 ELSE disabled_at END
              WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(events)
        .bind(i64::from(disabled_at.is_some()))
        .bind(disabled_at.flatten())
        .execute(w.conn().await?)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes an endpoint with its deliveries and their log.
    pub async fn delete_webhook(&self, w: &mut WriteTx, id: &WebhookId) -> StoreResult<bool> {
        for sql in [
            "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)",
            "DELETE FROM webhook_deliveries WHERE endpoint_id = $1",
        ] {
            sqlx::query(sql)
                .bind(id.as_str())
                .execute(w.conn().await?)
                .await?;
        }
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id.as_str())
            .execute(w.conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Writes deliveries into the outbox, in `w` (the transaction of what they tell of).
    pub async fn add_deliveries(&self, w: &mut WriteTx, new: &[NewDelivery]) -> StoreResult<()> {
        let now = self.now_ms();
        for d in new {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, endpoint_id, event_type, payload, created_at, state, attempts, next_attempt_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $5)",
            )
            .bind(d.id.as_str())
            .bind(d.endpoint_id.as_str())
            .bind(&d.event_type)
            .bind(&d.payload)
            .bind(now)
            .execute(w.conn().await?)
            .await?;
        }
        Ok(())
    }

    /// Takes the lease of at most `limit` live endpoints whose next delivery (the first pending
    /// one) is due at `now`, for `node` until `until`. An endpoint leased by another node, or
    /// locked by one taking it now, is skipped.
    pub async fn lease_webhooks(
        &self,
        node: &str,
        now: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<Leased>> {
        let skip_locked = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE webhook_endpoints SET leased_by = $1, lease_until = $3
              WHERE id IN (
                SELECT e.id FROM webhook_endpoints e
                 WHERE e.disabled_at IS NULL AND e.lease_until < $2
                   AND EXISTS (
                     SELECT 1 FROM webhook_deliveries d
                      WHERE d.endpoint_id = e.id AND d.state = 'pending' AND d.next_attempt_at <= $2
                        AND d.seq = (SELECT MIN(h.seq) FROM webhook_deliveries h
                                      WHERE h.endpoint_id = e.id AND h.state = 'pending'))
                 ORDER BY e.lease_until, e.id
                 LIMIT $4{skip_locked})
              RETURNING id, url, secret"
        );
        let mut w = self.begin_write().await?;
        let rows: Vec<(String, String, String)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(node)
            .bind(now)
            .bind(until)
            .bind(limit)
            .fetch_all(w.conn().await?)
            .await?;
        w.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(id, url, secret)| Leased {
                id: WebhookId(id),
                url,
                secret,
            })
            .collect())
    }

    /// Keeps `node`'s lease of `endpoint` until `until`; `false` when the lease is no longer
    /// its own (it expired and another node took it).
    pub async fn renew_webhook_lease(
        &self,
        endpoint: &WebhookId,
        node: &str,
        until: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET lease_until = $3 WHERE id = $1 AND leased_by = $2",
        )
        .bind(endpoint.as_str())
        .bind(node)
        .bind(until)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Gives back `node`'s lease of `endpoint`.
    pub async fn release_webhook(&self, endpoint: &WebhookId, node: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webhook_endpoints SET leased_by = NULL, lease_until = 0 WHERE id = $1 AND leased_by = $2",
        )
        .bind(endpoint.as_str())
        .bind(node)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The first `limit` pending deliveries of `endpoint`, in order.
    pub async fn webhook_queue(
        &self,
        endpoint: &WebhookId,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRow>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
              WHERE endpoint_id = $1 AND state = 'pending' ORDER BY seq LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(endpoint.as_str())
            .bind(limit)
            .fetch_all(self.pool())
            .await?)
    }

    /// Logs tries and moves each delivery to what its try came to, in one transaction, if
    /// `node` still holds the endpoint's lease (a node that lost it logs its tries and leaves
    /// the states to the holder).
    pub async fn record_tries(
        &self,
        node: &str,
        tries: &[(DeliveryRow, Tried)],
    ) -> StoreResult<()> {
        if tries.is_empty() {
            return Ok(());
        }
        let mut w = self.begin_write().await?;
        for chunk in tries.chunks(64) {
            let mut log = String::from(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status, duration_ms, error, node) VALUES ",
            );
            let mut moves = String::from(
                "UPDATE webhook_deliveries AS d
                    SET state = v.column2, attempts = d.attempts + 1, next_attempt_at = v.column3,
                        delivered_at = CASE WHEN v.column2 = 'delivered' THEN v.column4 ELSE d.delivered_at END,
                        last_status = v.column5, last_error = v.column6
                   FROM (VALUES ",
            );
            for i in 0..chunk.len() {
                let p = i * 7;
                if i > 0 {
                    log.push_str(", ");
                    moves.push_str(", ");
                }
                log.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7
                ));
                let q = i * 6 + 1;
                moves.push_str(&format!(
                    "(CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS TEXT))",
                    q + 1, q + 2, q + 3, q + 4, q + 5, q + 6
                ));
            }
            moves.push_str(
                ") AS v
                  WHERE d.id = v.column1 AND d.state = 'pending'
                    AND d.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE leased_by = $1)",
            );
            let mut insert = sqlx::query(AssertSqlSafe(log));
            let mut update = sqlx::query(AssertSqlSafe(moves)).bind(node.to_owned());
            for (delivery, t) in chunk {
                let attempt = delivery.attempts.saturating_add(1);
                insert = insert
                    .bind(delivery.id.as_str().to_owned())
                    .bind(attempt)
                    .bind(t.at)
                    .bind(t.status.map(i64::from))
                    .bind(t.duration_ms)
                    .bind(t.error.clone())
                    .bind(node.to_owned());
                update = update
                    .bind(delivery.id.as_str().to_owned())
                    .bind(t.state.to_owned())
                    .bind(t.next_attempt_at)
                    .bind(t.at)
                    .bind(t.status.map(i64::from))
                    .bind(t.error.clone());
            }
            insert.execute(w.conn().await?).await?;
            update.execute(w.conn().await?).await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// An endpoint's deliveries, the newest first, in one state or all.
    pub async fn webhook_deliveries(
        &self,
        endpoint: &WebhookId,
        state: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRow>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
              WHERE endpoint_id = $1 AND ($2 = '' OR state = $2) AND seq < $3
              ORDER BY seq DESC LIMIT $4"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(endpoint.as_str())
            .bind(state.unwrap_or(""))
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(self.pool())
            .await?)
    }

    pub async fn webhook_delivery(&self, id: &DeliveryId) -> StoreResult<Option<DeliveryRow>> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn webhook_attempts(&self, id: &DeliveryId) -> StoreResult<Vec<AttemptRow>> {
        Ok(sqlx::query_as(
            "SELECT CAST(attempt AS BIGINT) AS attempt, at, CAST(status AS BIGINT) AS status, duration_ms, error
               FROM webhook_attempts WHERE delivery_id = $1 ORDER BY at, attempt",
        )
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?)
    }

    /// Puts a dead delivery back in its endpoint's queue, due at `now`, its tries counted
    /// afresh (the log keeps the old ones). `false` when it is not dead.
    pub async fn replay_delivery(&self, w: &mut WriteTx, id: &DeliveryId) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $2
              WHERE id = $1 AND state = 'dead'",
        )
        .bind(id.as_str())
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
