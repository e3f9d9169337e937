//! Work on one user (their events, wallet, endorsements, badges) takes turns in the hub: each
//! use case that changes a user waits for its turn in memory, in arrival order, before it
//! begins its transaction. A burst for one user then holds one database connection at a time
//! instead of one per request, each blocked on the user's rows in the database's lock queue.
//! The wait is bounded: past `HUB_USER_QUEUE` waiting for one user, a request is refused at
//! once with `busy` (retry later) and nothing of it is applied. Across nodes the database stays
//! the arbiter (rows locked in one order).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Requests waiting for one user, at most (`HUB_USER_QUEUE`).
pub const DEFAULT_DEPTH: usize = 4096;

/// Turns by key.
pub struct Turns {
    slots: Mutex<HashMap<String, Slot>>,
    depth: usize,
}

struct Slot {
    lock: Arc<tokio::sync::Mutex<()>>,
    /// Holders and waiters.
    queued: usize,
}

/// The turn of the keys it was taken for; the next in line goes when it is dropped.
pub struct Turn {
    _held: Vec<tokio::sync::OwnedMutexGuard<()>>,
    _queued: Queued,
}

/// Counts a request in its keys' queues until it is dropped (taken turn or given up).
struct Queued {
    turns: Arc<Turns>,
    keys: Vec<String>,
}

impl Drop for Queued {
    fn drop(&mut self) {
        let mut slots = self.turns.lock();
        for key in &self.keys {
            if let Some(slot) = slots.get_mut(key) {
                slot.queued = slot.queued.saturating_sub(1);
                if slot.queued == 0 {
                    slots.remove(key);
                }
            }
        }
    }
}

/// Too many requests wait for one of the keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("busy: {waiting} requests already wait for {key}; retry later")]
pub struct Busy {
    pub key: String,
    pub waiting: usize,
}

impl Turns {
    pub fn new(depth: usize) -> Arc<Turns> {
        Arc::new(Turns {
            slots: Mutex::new(HashMap::new()),
            depth: depth.max(1),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the turn of every key in `keys` (taken in one order, so two requests over
    /// the same keys never wait for each other in a cycle), or refuses at once when one of
    /// them has `depth` requests queued.
    pub async fn take(self: &Arc<Self>, keys: &[&str]) -> Result<Turn, Busy> {
        let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        keys.sort();
        keys.dedup();
        let locks = {
            let mut slots = self.lock();
            for key in &keys {
                let queued = slots.get(key).map_or(0, |s| s.queued);
                if queued >= self.depth {
                    metrics::counter!("hub_user_queue_busy_total").increment(1);
                    return Err(Busy {
                        key: key.clone(),
                        waiting: queued,
                    });
                }
            }
            keys.iter()
                .map(|key| {
                    let slot = slots.entry(key.clone()).or_insert_with(|| Slot {
                        lock: Arc::new(tokio::sync::Mutex::new(())),
                        queued: 0,
                    });
                    slot.queued += 1;
                    slot.lock.clone()
                })
                .collect::<Vec<_>>()
        };
        let queued = Queued {
            turns: self.clone(),
            keys,
        };
        let mut held = Vec::with_capacity(locks.len());
        for lock in locks {
            held.push(lock.lock_owned().await);
        }
        Ok(Turn {
            _held: held,
            _queued: queued,
        })
    }

    /// Requests queued (holding or waiting) for `key`.
    pub fn queued(&self, key: &str) -> usize {
        self.lock().get(key).map_or(0, |s| s.queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_key_takes_turns_in_order_and_others_do_not_wait() {
        let turns = Turns::new(8);
        let first = turns.take(&["ann"]).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for i in 0..3 {
            let (t, order) = (turns.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _t = t.take(&["ann"]).await.unwrap();
                order.lock().unwrap().push(i);
            }));
            // Each is queued before the next arrives.
            while turns.queued("ann") < i + 2 {
                tokio::task::yield_now().await;
            }
        }
        // Another user does not wait for ann's turns.
        let bob = tokio::time::timeout(Duration::from_secs(5), turns.take(&["bob"])).await;
        assert!(bob.is_ok());
        drop(bob);
        assert!(order.lock().unwrap().is_empty(), "nobody passed the holder");
        drop(first);
        for w in waiting {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2], "arrival order");
        assert_eq!(turns.queued("ann"), 0);
        assert!(turns.lock().is_empty(), "nothing kept for idle keys");
    }

    #[tokio::test]
    async fn past_the_depth_a_request_is_refused_at_once() {
        let turns = Turns::new(2);
        let held = turns.take(&["ann"]).await.unwrap();
        let t2 = turns.clone();
        let second = tokio::spawn(async move { t2.take(&["ann"]).await.map(|_| ()) });
        while turns.queued("ann") < 2 {
            tokio::task::yield_now().await;
        }
        let refused = turns.take(&["ann", "bob"]).await.err().unwrap();
        assert_eq!(
            refused,
            Busy {
                key: "ann".into(),
                waiting: 2
            }
        );
        assert_eq!(turns.queued("bob"), 0, "a refusal queues nothing");
        drop(held);
        second.await.unwrap().unwrap();
        assert_eq!(turns.queued("ann"), 0);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_the_queue() {
        let turns = Turns::new(4);
        let held = turns.take(&["ann"]).await.unwrap();
        let gave_up = tokio::time::timeout(Duration::from_millis(10), turns.take(&["ann"])).await;
        assert!(gave_up.is_err());
        assert_eq!(turns.queued("ann"), 1);
        drop(held);
        assert_eq!(turns.queued("ann"), 0);
    }

    #[tokio::test]
    async fn many_keys_are_taken_in_one_order() {
        let turns = Turns::new(8);
        // Two requests over the same keys in opposite orders both finish.
        let (a, b) = (turns.clone(), turns.clone());
        let one = tokio::spawn(async move {
            for _ in 0..100 {
                let _t = a.take(&["ann", "bob"]).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let two = tokio::spawn(async move {
            for _ in 0..100 {
                let _t = b.take(&["bob", "ann"]).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        tokio::time::timeout(Duration::from_secs(10), async {
            one.await.unwrap();
            two.await.unwrap();
        })
        .await
        .expect("no cycle");
    }
}
