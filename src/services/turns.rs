//! How much work may wait for one user. Every domain write that changes a user (their events,
//! wallet, endorsements, badges) takes a place in that user's line before it is queued for a
//! group commit (see [`super::writes`]), and gives it back once answered. The line is bounded:
//! past `HUB_USER_QUEUE` waiting for one user, a request is refused at once with `busy` (retry
//! later) and nothing of it is applied. The order of the work itself is the order of the
//! group commit's queue: one user's writes always go to the same lane, which applies them one
//! after the other in arrival order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Requests waiting for one user, at most (`HUB_USER_QUEUE`).
pub const DEFAULT_DEPTH: usize = 4096;

/// Places in line, by key.
pub struct Turns {
    queued: Mutex<HashMap<String, usize>>,
    depth: usize,
}

/// Places in the lines of some keys; given back when dropped (answered or given up).
pub struct Turn {
    turns: Arc<Turns>,
    keys: Vec<String>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut queued = self.turns.lock();
        for key in &self.keys {
            if let Some(n) = queued.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    queued.remove(key);
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
            queued: Mutex::new(HashMap::new()),
            depth: depth.max(1),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.queued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place in the line of every key in `keys`, or `Busy` at once (and no place taken)
    /// when one of them already has `depth` requests.
    pub fn enter(self: &Arc<Self>, keys: &[&str]) -> Result<Turn, Busy> {
        let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        keys.sort();
        keys.dedup();
        let mut queued = self.lock();
        for key in &keys {
            let waiting = queued.get(key).copied().unwrap_or(0);
            if waiting >= self.depth {
                metrics::counter!("hub_user_queue_busy_total").increment(1);
                return Err(Busy {
                    key: key.clone(),
                    waiting,
                });
            }
        }
        for key in &keys {
            *queued.entry(key.clone()).or_insert(0) += 1;
        }
        drop(queued);
        Ok(Turn {
            turns: self.clone(),
            keys,
        })
    }

    /// Requests in `key`'s line.
    pub fn queued(&self, key: &str) -> usize {
        self.lock().get(key).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_depth_a_request_is_refused_and_takes_no_place() {
        let turns = Turns::new(2);
        let one = turns.enter(&["ann"]).unwrap();
        let two = turns.enter(&["ann", "bob"]).unwrap();
        assert_eq!((turns.queued("ann"), turns.queued("bob")), (2, 1));
        let refused = turns.enter(&["bob", "ann"]).err().unwrap();
        assert_eq!(
            refused,
            Busy {
                key: "ann".into(),
                waiting: 2
            }
        );
        assert_eq!(turns.queued("bob"), 1, "a refusal takes no place");
        // Another user is not in ann's line.
        let carl = turns.enter(&["carl"]).unwrap();
        drop(one);
        assert_eq!(turns.queued("ann"), 1);
        let three = turns.enter(&["ann"]).unwrap();
        drop((two, three, carl));
        assert_eq!(turns.queued("ann"), 0);
        assert!(turns.lock().is_empty(), "nothing kept for idle keys");
    }

    #[test]
    fn a_key_named_twice_takes_one_place() {
        let turns = Turns::new(1);
        let held = turns.enter(&["ann", "ann"]).unwrap();
        assert_eq!(turns.queued("ann"), 1);
        assert!(turns.enter(&["ann"]).is_err());
        drop(held);
        assert!(turns.enter(&["ann"]).is_ok());
    }
}
