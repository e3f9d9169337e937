//! What the two Redis deployments share: the commands to the subscriber task, the state of the
//! link, what the transport tasks start with, and the frame that carries the publishing node.

use crate::bus::{LocalBus, Topic};
use bytes::{BufMut, Bytes, BytesMut};
use hub_protocol::NodeId;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long connecting to Redis (and each command) may take before it counts as failed.
pub(super) const TIMEOUT: Duration = Duration::from_secs(3);
/// `step` (connecting, subscribing), failed or not done within [`TIMEOUT`] as the bus's error.
pub(super) async fn within<T>(
    step: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, crate::bus::BusError> {
    let unavailable = |e: &dyn std::fmt::Display| crate::bus::BusError::Unavailable(e.to_string());
    tokio::time::timeout(TIMEOUT, step)
        .await
        .map_err(|_| unavailable(&"timed out"))?
        .map_err(|e| unavailable(&e))
}

/// What the publisher task sends, in order.
pub(super) enum Out {
    Publish(Topic, Bytes),
    /// Answered once everything queued before it was sent.
    Flush(oneshot::Sender<()>),
}

/// A command to the task that holds the subscriptions.
pub(super) enum Control {
    /// Take the channel; the sender hears when the subscription is in force.
    Subscribe(Topic, Option<oneshot::Sender<()>>),
    Unsubscribe(Topic),
}

/// What the subscriber task knows about its connection.
#[derive(Default)]
pub(super) struct Link {
    up: AtomicBool,
    /// Why the connection is down (for health), when it is.
    error: Mutex<Option<String>>,
}

impl Link {
    pub(super) fn set_up(&self) {
        self.up.store(true, Ordering::Release);
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub(super) fn set_down(&self, why: String) {
        self.up.store(false, Ordering::Release);
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
    }

    pub(super) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    pub(super) fn state(&self) -> Result<(), String> {
        if self.is_up() {
            Ok(())
        } else {
            Err(self
                .error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_else(|| "unreachable".into()))
        }
    }
}

/// What the transport tasks of either deployment start with.
pub(super) struct Tasks {
    pub(super) prefix: Arc<str>,
    pub(super) node: NodeId,
    /// Where what comes from Redis is handed to this node's receivers.
    pub(super) local: LocalBus,
    pub(super) link: Arc<Link>,
    pub(super) out: mpsc::Receiver<Out>,
    pub(super) control: mpsc::UnboundedReceiver<Control>,
}

impl Tasks {
    pub(super) fn channel(prefix: &str, topic: &Topic) -> String {
        format!("{prefix}{topic}")
    }

    /// Hands a message Redis brought on `channel` to this node's receivers, unless it is this
    /// node's own echo or not a channel of this hub.
    pub(super) fn arrived(
        prefix: &str,
        node: &NodeId,
        local: &LocalBus,
        channel: &str,
        data: &[u8],
    ) {
        let Some((from, payload)) = unframe(data) else {
            tracing::warn!("dropping a malformed message from Redis");
            return;
        };
        if from == node.as_str().as_bytes() {
            return;
        }
        let Some(name) = channel.strip_prefix(prefix) else {
            return;
        };
        local.send(&Topic::from_name(name), Bytes::copy_from_slice(payload));
    }
}

/// `node` as a length-prefixed header, then `payload`.
pub(super) fn frame(node: &NodeId, payload: &[u8]) -> Bytes {
    let id = &node.as_str().as_bytes()[..node.as_str().len().min(255)];
    let mut out = BytesMut::with_capacity(1 + id.len() + payload.len());
    out.put_u8(id.len() as u8);
    out.put_slice(id);
    out.put_slice(payload);
    out.freeze()
}

/// The publishing node and the payload of a frame from Redis.
pub(super) fn unframe(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&len, rest) = data.split_first()?;
    let len = len as usize;
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_the_publishing_node() {
        let f = frame(&NodeId::from("node-a"), b"\x00payload");
        assert_eq!(unframe(&f), Some((&b"node-a"[..], &b"\x00payload"[..])));
        assert_eq!(unframe(b""), None);
        assert_eq!(
            unframe(b"\x09short"),
            None,
            "a header longer than the frame"
        );
    }
}
