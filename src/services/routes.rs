//! Which room topics this node listens to (see [`crate::bus`]): a node hears a room while it
//! holds a connection there, and a user's personal room while it holds one of their
//! connections (Socket.IO or `/yjs`).
//!
//! A topic is held by count. The first hold listens (and runs the caller's catch-up, such as
//! presence asking the room's other nodes for their connections); every holder waits until
//! that is done. The last release does not stop listening at once: the topic lingers for
//! `linger` (`HUB_ROOM_LINGER`), so a page reload or a burst of REST reads does not subscribe
//! and unsubscribe again, and only then is it given up (and the caller's replica of it
//! forgotten).

use crate::bus::{Bus, Topic};
use crate::clock::SharedClock;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use hub_protocol::{RoomId, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a topic no one holds is still listened to, by default.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(5);

struct Held {
    count: usize,
    /// When the count fell to zero.
    idle_since: Option<Instant>,
    /// Done once the topic is in force and its catch-up ran.
    ready: Shared<BoxFuture<'static, ()>>,
}

pub struct Routes {
    bus: Arc<dyn Bus>,
    linger: Duration,
    clock: SharedClock,
    held: Mutex<HashMap<Topic, Held>>,
}

impl Routes {
    pub fn new(bus: Arc<dyn Bus>, linger: Duration, clock: SharedClock) -> Arc<Routes> {
        Arc::new(Routes {
            bus,
            linger,
            clock,
            held: Mutex::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Topic, Held>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds `topic`; returns once the node hears it from every node and, if this hold made
    /// the node listen, once `catch_up` (started then) is done.
    pub async fn hold(&self, topic: &Topic, catch_up: impl FnOnce() -> BoxFuture<'static, ()>) {
        let ready = {
            let mut held = self.lock();
            match held.get_mut(topic) {
                Some(h) => {
                    h.count += 1;
                    h.idle_since = None;
                    h.ready.clone()
                }
                None => {
                    metrics::gauge!("hub_bus_room_topics").increment(1.0);
                    let listening = self.bus.listen(topic);
                    let catch_up = catch_up();
                    let ready = async move {
                        listening.await;
                        catch_up.await;
                    }
                    .boxed()
                    .shared();
                    held.insert(
                        topic.clone(),
                        Held {
                            count: 1,
                            idle_since: None,
                            ready: ready.clone(),
                        },
                    );
                    ready
                }
            }
        };
        ready.await
    }

    /// Gives up one hold of `topic`; the topic lingers once none is left.
    pub fn release(&self, topic: &Topic) {
        let now = self.clock.now();
        if let Some(h) = self.lock().get_mut(topic) {
            h.count = h.count.saturating_sub(1);
            if h.count == 0 {
                h.idle_since = Some(now);
            }
        }
    }

    /// Stops listening to topics no one held for `linger`; `forget` is called for each while
    /// no hold can be taken, so what it forgets cannot race a new holder's catch-up.
    pub fn sweep(&self, mut forget: impl FnMut(&Topic)) {
        let now = self.clock.now();
        let mut held = self.lock();
        let done: Vec<Topic> = held
            .iter()
            .filter(|(_, h)| {
                h.idle_since
                    .is_some_and(|at| now.saturating_duration_since(at) >= self.linger)
            })
            .map(|(t, _)| t.clone())
            .collect();
        for topic in done {
            held.remove(&topic);
            self.bus.unlisten(&topic);
            metrics::gauge!("hub_bus_room_topics").decrement(1.0);
            forget(&topic);
        }
    }

    /// Whether this node listens to `topic` now.
    pub fn is_held(&self, topic: &Topic) -> bool {
        self.lock().contains_key(topic)
    }

    /// Holds `user`'s personal room until the returned guard is dropped (one per connection).
    pub async fn hold_user(self: &Arc<Self>, user: &UserId) -> UserRoute {
        let topic = Topic::room(&RoomId::from(format!("user:{user}")));
        self.hold(&topic, || async {}.boxed()).await;
        UserRoute {
            routes: self.clone(),
            topic,
        }
    }
}

/// A connection's hold of its user's personal room, released when dropped.
pub struct UserRoute {
    routes: Arc<Routes>,
    topic: Topic,
}

impl Drop for UserRoute {
    fn drop(&mut self) {
        self.routes.release(&self.topic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::LocalBus;
    use crate::clock::ManualClock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_topic_is_heard_while_held_and_lingers_after() {
        let bus = LocalBus::new();
        let clock = ManualClock::new(0);
        let routes = Routes::new(Arc::new(bus.clone()), Duration::from_secs(5), clock.clone());
        let topic = Topic::room(&"venture:v".into());
        let catch_ups = Arc::new(AtomicUsize::new(0));
        let counting = || {
            let n = catch_ups.clone();
            move || {
                async move {
                    n.fetch_add(1, Ordering::SeqCst);
                }
                .boxed()
            }
        };
        routes.hold(&topic, counting()).await;
        routes.hold(&topic, counting()).await;
        assert_eq!(
            catch_ups.load(Ordering::SeqCst),
            1,
            "one catch-up per listen"
        );
        assert_eq!(bus.topics(), vec![topic.clone()]);
        routes.release(&topic);
        clock.advance(Duration::from_secs(60));
        routes.sweep(|_| panic!("still held once"));
        routes.release(&topic);
        let mut forgotten = Vec::new();
        clock.advance(Duration::from_millis(4_999));
        routes.sweep(|t| forgotten.push(t.clone()));
        assert!(forgotten.is_empty(), "lingers 5 s");
        assert!(routes.is_held(&topic));
        // Held again while lingering: no new catch-up, and the linger is off.
        routes.hold(&topic, counting()).await;
        clock.advance(Duration::from_secs(60));
        routes.sweep(|t| forgotten.push(t.clone()));
        assert!(forgotten.is_empty());
        routes.release(&topic);
        clock.advance(Duration::from_secs(5));
        routes.sweep(|t| forgotten.push(t.clone()));
        assert_eq!(forgotten, vec![topic.clone()]);
        assert!(bus.topics().is_empty() && !routes.is_held(&topic));
        routes.hold(&topic, counting()).await;
        assert_eq!(
            catch_ups.load(Ordering::SeqCst),
            2,
            "listening anew catches up again"
        );
    }

    #[tokio::test]
    async fn a_user_route_is_released_when_dropped() {
        let bus = LocalBus::new();
        let routes = Routes::new(Arc::new(bus.clone()), Duration::ZERO, ManualClock::new(0));
        let user = UserId::from("alice");
        let (a, b) = (routes.hold_user(&user).await, routes.hold_user(&user).await);
        assert_eq!(bus.topics(), vec![Topic::room(&"user:alice".into())]);
        drop(a);
        routes.sweep(|_| {});
        assert_eq!(bus.topics().len(), 1, "one tab is still open");
        drop(b);
        routes.sweep(|_| {});
        assert!(bus.topics().is_empty());
    }
}
