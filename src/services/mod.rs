//! The hub's use cases, free of every transport: `http/`, `realtime/` (Socket.IO) and `yws`
//! (raw `/yjs`) call them; they call the store, the bus and the rules, and reach people live
//! only through [`notify`], whose connection side a transport implements.
//!
//! - [`docs`]: the loaded-document engine (its connections behind [`docs::DocSink`]);
//! - [`presence`]: the presence replica and typing;
//! - [`notify`]: room and user deliveries, and membership changes, on every node;
//! - [`chat`]: validate, rate-limit, order, commit, publish;
//! - [`Services`]: the handles, chat limits and per-room send order.

pub mod chat;
pub mod docs;
pub mod notify;
pub mod presence;

use crate::bus::{Bus, BusMessage, TOPIC_EVENTS};
use crate::store::Store;
use docs::{Docs, DocsConfig};
use hub_protocol::UserId;
use hub_rooms::chat::RateLimiter;
use notify::{Notify, Sockets};
use presence::{Presence, PresenceConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;

/// Chat limits.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    pub max_body_chars: usize,
    /// Messages per second a user may send, sustained.
    pub rate_per_second: f64,
    /// Messages a user may send at once.
    pub burst: u32,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            max_body_chars: hub_rooms::chat::DEFAULT_MAX_BODY_CHARS,
            rate_per_second: 10.0,
            burst: 30,
        }
    }
}

pub struct Services {
    bus: Arc<dyn Bus>,
    store: Store,
    pub docs: Arc<Docs>,
    pub notify: Notify,
    pub presence: Arc<Presence>,
    pub chat: ChatConfig,
    limiter: Mutex<RateLimiter>,
    /// One lock per room with a send in flight: a room's messages are committed and published
    /// in seq order by this node.
    room_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Services {
    pub fn new(
        node: String,
        bus: Arc<dyn Bus>,
        chat: ChatConfig,
        presence: PresenceConfig,
        store: Store,
        docs: DocsConfig,
    ) -> Arc<Services> {
        let notify = Notify::new(bus.clone());
        let docs = Docs::new(store.clone(), bus.clone(), node.clone(), docs);
        let presence = Presence::new(node, bus.clone(), notify.clone(), presence);
        Arc::new(Services {
            bus,
            store,
            docs,
            limiter: Mutex::new(RateLimiter::new(chat.rate_per_second, chat.burst)),
            notify,
            presence,
            chat,
            room_locks: Mutex::new(HashMap::new()),
        })
    }

    /// Starts this node's bus subscriber and presence timers in `tasks`. One subscriber reads
    /// everything in publish order: deliveries to `sockets`, presence deltas, documents.
    pub fn start(self: &Arc<Self>, sockets: Arc<dyn Sockets>, tasks: &mut JoinSet<()>) {
        let mut rx = self.bus.subscribe(TOPIC_EVENTS);
        let this = self.clone();
        tasks.spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(payload) => match BusMessage::decode(&payload) {
                        Ok(message) => {
                            metrics::counter!("hub_bus_messages_in_total", "kind" => message.kind())
                                .increment(1);
                            match message {
                                BusMessage::Notify(notice) => {
                                    notify::receive(sockets.as_ref(), &this.docs, notice)
                                }
                                BusMessage::Presence(delta) => this.presence.receive(delta).await,
                                BusMessage::Doc(frame) => this.docs.receive_from_bus(frame),
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "dropping a bus message"),
                    },
                    Err(RecvError::Lagged(n)) => {
                        metrics::counter!("hub_bus_lagged_total").increment(n);
                        tracing::error!(
                            missed = n,
                            "fell behind the bus; clients resync from their seq"
                        );
                        this.presence.resync().await;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        self.presence.start(tasks);
    }

    /// Takes one send from `user`'s allowance.
    pub fn allow_send(&self, user: &UserId) -> bool {
        let now = tokio::time::Instant::now().into_std();
        self.limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .allow(user, now)
    }

    /// Gives back the token of a send that turned out to be a retry.
    pub fn refund_send(&self, user: &UserId) {
        self.limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refund(user);
    }

    /// The lock that orders sends in `room`.
    pub fn room_lock(&self, room: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.room_locks.lock().unwrap_or_else(|e| e.into_inner());
        if locks.len() > 10_000 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(room.to_owned()).or_default().clone()
    }

    /// `user` lost access to `rooms`: their sockets leave them on every node, their presence
    /// goes, and they are told with `room:removed`.
    pub async fn remove_user_from_rooms(&self, user: &UserId, rooms: Vec<String>, reason: &str) {
        for room in &rooms {
            self.presence.kick(room, user).await;
        }
        self.notify.remove_from_rooms(user, rooms, reason).await;
    }
}
