//! Delivering: a node takes the lease of endpoints whose next delivery is due and sends their
//! queues in order, one delivery at a time, each signed as the Standard Webhooks specification
//! says. A failure keeps its place at the head of the queue until its next try (exponential
//! backoff with jitter) or until it is given up (dead), so an endpoint hears its events in
//! order. A node that dies mid-delivery loses the lease when it runs out; the next holder sends
//! the same delivery again with the same `webhook-id` (at least once).

use super::Webhooks;
use crate::store::{DeliveryRow, Leased, Tried};
use base64::Engine;
use hmac::{Hmac, Mac};
use hub_protocol::webhooks::DeliveryState;
use hub_rooms::webhooks::{given_up, retry_delay_ms};
use sha2::Sha256;
use std::time::Instant;

/// Endpoints one round delivers to at once.
const ENDPOINTS_PER_ROUND: i64 = 16;
/// Deliveries of one endpoint read at a time.
const QUEUE_READ: i64 = 64;
/// The longest error text kept for a try.
const MAX_ERROR_CHARS: usize = 300;

/// The `webhook-signature` of `body` sent as message `id` at `timestamp` (Unix seconds) with the
/// secret's key (the bytes after `whsec_`): `v1,` and the base64 of the HMAC-SHA256 of
/// `{id}.{timestamp}.{body}`.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC takes keys of any length; this branch is never taken.
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

/// The key of a `whsec_` secret (as stored, it was checked at registration).
pub fn secret_key(secret: &str) -> Vec<u8> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap_or_default()
}

impl Webhooks {
    /// One round: leases the endpoints whose next delivery is due and sends their queues.
    /// Returns how many deliveries were tried.
    pub async fn deliver_due(&self) -> usize {
        let now = self.clock.now_ms();
        let lease = i64::try_from(self.config.lease.as_millis()).unwrap_or(i64::MAX);
        let leased = match self
            .store
            .lease_webhooks(
                self.node.as_str(),
                now,
                now.saturating_add(lease),
                ENDPOINTS_PER_ROUND,
            )
            .await
        {
            Ok(leased) => leased,
            Err(e) => {
                tracing::warn!(error = %e, "cannot lease webhook endpoints");
                return 0;
            }
        };
        let rounds = leased.into_iter().map(|endpoint| self.deliver_to(endpoint));
        futures_util::future::join_all(rounds)
            .await
            .into_iter()
            .sum()
    }

    /// Sends `endpoint`'s queue in order until it is empty, a delivery is not yet due, or a
    /// try fails; then gives the lease back. Tries are recorded together, at most a queue read
    /// at a time, and at once after a failure: a node that dies before recording sends them
    /// again (the same `webhook-id`s, in order), which at least once allows.
    async fn deliver_to(&self, endpoint: Leased) -> usize {
        let key = secret_key(&endpoint.secret);
        let lease = i64::try_from(self.config.lease.as_millis()).unwrap_or(i64::MAX);
        // Taken in `lease_webhooks` just now; renewed once half of it has gone.
        let mut held_until = self.clock.now_ms().saturating_add(lease);
        let mut tried = 0;
        let mut done: Vec<(DeliveryRow, Tried)> = Vec::new();
        'queue: loop {
            let queue = match self.store.webhook_queue(&endpoint.id, QUEUE_READ).await {
                Ok(q) => q,
                Err(e) => {
                    tracing::warn!(webhook = %endpoint.id, error = %e, "cannot read a webhook queue");
                    break;
                }
            };
            let full = queue.len() as i64 == QUEUE_READ;
            for delivery in queue {
                let now = self.clock.now_ms();
                if delivery.next_attempt_at > now {
                    break 'queue;
                }
                // The lease must outlast this try.
                if held_until.saturating_sub(now) < lease / 2 {
                    if !self.record(&mut done).await {
                        return tried;
                    }
                    match self
                        .store
                        .renew_webhook_lease(
                            &endpoint.id,
                            self.node.as_str(),
                            now.saturating_add(lease),
                        )
                        .await
                    {
                        Ok(true) => held_until = now.saturating_add(lease),
                        Ok(false) => return tried,
                        Err(e) => {
                            tracing::warn!(webhook = %endpoint.id, error = %e, "cannot renew a webhook lease");
                            return tried;
                        }
                    }
                }
                tried += 1;
                let (state, t) = self.try_once(&endpoint, &key, &delivery).await;
                done.push((delivery, t));
                if state == DeliveryState::Pending {
                    // A failure: recorded with its next try; the queue waits behind it.
                    self.record(&mut done).await;
                    break 'queue;
                }
            }
            if !self.record(&mut done).await || !full {
                break;
            }
        }
        self.record(&mut done).await;
        if let Err(e) = self
            .store
            .release_webhook(&endpoint.id, self.node.as_str())
            .await
        {
            tracing::warn!(webhook = %endpoint.id, error = %e, "cannot release a webhook lease");
        }
        tried
    }

    /// Records the tries of `done` and empties it; `false` when they could not be recorded
    /// (they stay pending and are sent again).
    async fn record(&self, done: &mut Vec<(DeliveryRow, Tried)>) -> bool {
        if done.is_empty() {
            return true;
        }
        let result = self.store.record_tries(self.node.as_str(), done).await;
        done.clear();
        match result {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "cannot record webhook tries; they will be sent again");
                false
            }
        }
    }

    /// Sends one delivery: what it came to, and the try to record.
    async fn try_once(
        &self,
        endpoint: &Leased,
        key: &[u8],
        delivery: &DeliveryRow,
    ) -> (DeliveryState, Tried) {
        let at = self.clock.now_ms();
        let timestamp = at / 1000;
        let started = Instant::now();
        let refused = super::guard::refused_target(&endpoint.url, self.config.allow_private);
        let answer = match refused {
            Some(why) => Err(format!("target refused: {why}")),
            None => self
                .http
                .post(&endpoint.url)
                .header("content-type", "application/json")
                .header("user-agent", "hub-webhooks/1")
                .header("webhook-id", delivery.id.as_str())
                .header("webhook-timestamp", timestamp.to_string())
                .header(
                    "webhook-signature",
                    signature(key, delivery.id.as_str(), timestamp, &delivery.payload),
                )
                .body(delivery.payload.clone())
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| error_text(&e)),
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status, error) = match &answer {
            Ok(code) if (200..300).contains(code) => (Some(*code), None),
            Ok(code) => (Some(*code), Some(format!("answered {code}"))),
            Err(e) => (None, Some(e.clone())),
        };
        let delivered = error.is_none();
        let attempts = u32::try_from(delivery.attempts)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let (state, next) = if delivered {
            (DeliveryState::Delivered, at)
        } else if given_up(
            attempts,
            self.config.max_attempts,
            at - delivery.created_at,
            i64::try_from(self.config.max_age.as_millis()).unwrap_or(i64::MAX),
        ) {
            (DeliveryState::Dead, at)
        } else {
            let delay = retry_delay_ms(
                attempts,
                u64::try_from(self.config.retry_base.as_millis()).unwrap_or(u64::MAX),
                u64::try_from(self.config.retry_max.as_millis()).unwrap_or(u64::MAX),
                rand::random::<f64>(),
            );
            (
                DeliveryState::Pending,
                at.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)),
            )
        };
        metrics::counter!("hub_webhook_attempts_total", "outcome" => if delivered { "delivered" } else { "failed" })
            .increment(1);
        if state == DeliveryState::Dead {
            metrics::counter!("hub_webhook_dead_total").increment(1);
            tracing::warn!(delivery = %delivery.id, webhook = %endpoint.id, attempts, "webhook delivery given up");
        }
        if delivered {
            metrics::histogram!("hub_webhook_delivery_seconds")
                .record((self.clock.now_ms() - delivery.created_at).max(0) as f64 / 1000.0);
        }
        (
            state,
            Tried {
                at,
                status,
                duration_ms,
                error,
                state: state.as_str(),
                next_attempt_at: next,
            },
        )
    }
}

/// A request's failure, short, for the delivery log.
fn error_text(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(MAX_ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standards_example() {
        // The example of the Standard Webhooks specification (and of its libraries' tests).
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let sig = signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
