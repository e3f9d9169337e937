//! Node liveness, next to the bus: a node says hello when it starts (and when it lost bus
//! traffic and needs the others' state again), a heartbeat every `heartbeat`, and goodbye when
//! it stops. A node silent for longer than `dead_after` is dead. Any message from a node counts
//! as a sign of life. What a node's arrival or departure means (dropping its connections,
//! asking it for its state again) is for the services to decide; this only keeps the list.

use super::{Bus, BusMessage, NodeEvent, Topic, publish};
use crate::clock::SharedClock;
use hub_protocol::NodeId;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a node event changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeChange {
    /// A node started, or is heard from for the first time.
    Hello(NodeId),
    /// A node this one had taken for dead (and dropped the connections of) speaks again: it
    /// is asked for its state.
    Back(NodeId),
    /// A node stopped, or fell silent for too long.
    Gone(NodeId),
    /// Another node asks this one to tell its state again.
    Resync(NodeId),
}

pub struct Liveness {
    node: NodeId,
    heartbeat: Duration,
    dead_after: Duration,
    clock: SharedClock,
    seen: Mutex<HashMap<NodeId, Instant>>,
    /// Nodes taken for dead by their silence (not those that said goodbye).
    dead: Mutex<std::collections::HashSet<NodeId>>,
    last_heartbeat: Mutex<Option<Instant>>,
}

impl Liveness {
    pub fn new(
        node: NodeId,
        heartbeat: Duration,
        dead_after: Duration,
        clock: SharedClock,
    ) -> Liveness {
        Liveness {
            node,
            heartbeat,
            dead_after,
            clock,
            seen: Mutex::new(HashMap::new()),
            dead: Mutex::default(),
            last_heartbeat: Mutex::new(None),
        }
    }

    fn seen_map(&self) -> MutexGuard<'_, HashMap<NodeId, Instant>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This node.
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// A message from `node` arrived: it is alive. A node taken for dead that speaks again is
    /// `Back`.
    pub fn seen(&self, node: &NodeId) -> Option<NodeChange> {
        if node == &self.node {
            return None;
        }
        let first = self
            .seen_map()
            .insert(node.clone(), self.clock.now())
            .is_none();
        (first && self.dead_set().remove(node)).then(|| NodeChange::Back(node.clone()))
    }

    fn dead_set(&self) -> MutexGuard<'_, std::collections::HashSet<NodeId>> {
        self.dead.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a node event from the bus (this node's own are ignored).
    pub fn receive(&self, event: &NodeEvent) -> Option<NodeChange> {
        let node = event.node();
        if node == &self.node {
            return None;
        }
        match event {
            NodeEvent::Hello { .. } => {
                self.dead_set().remove(node);
                self.seen_map().insert(node.clone(), self.clock.now());
                Some(NodeChange::Hello(node.clone()))
            }
            NodeEvent::Heartbeat { .. } => self.seen(node),
            NodeEvent::Bye { .. } => {
                self.seen_map().remove(node);
                self.dead_set().remove(node);
                Some(NodeChange::Gone(node.clone()))
            }
            NodeEvent::Resync { of, .. } => {
                let back = self.seen(node);
                if of == &self.node {
                    Some(NodeChange::Resync(node.clone()))
                } else {
                    back
                }
            }
        }
    }

    /// The nodes silent for longer than `dead_after`, now forgotten.
    pub fn expire(&self) -> Vec<NodeId> {
        let now = self.clock.now();
        let mut seen = self.seen_map();
        let mut dead: Vec<NodeId> = seen
            .iter()
            .filter(|(_, at)| now.saturating_duration_since(**at) > self.dead_after)
            .map(|(n, _)| n.clone())
            .collect();
        dead.sort();
        for n in &dead {
            seen.remove(n);
        }
        drop(seen);
        self.dead_set().extend(dead.iter().cloned());
        dead
    }

    /// The other live nodes, sorted.
    pub fn others(&self) -> Vec<NodeId> {
        let mut others: Vec<NodeId> = self.seen_map().keys().cloned().collect();
        others.sort();
        others
    }

    /// Sends a heartbeat if one is due.
    pub async fn beat(&self, bus: &dyn Bus) {
        let now = self.clock.now();
        let due = {
            let mut last = self
                .last_heartbeat
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|at| now.saturating_duration_since(at) >= self.heartbeat);
            if due {
                *last = Some(now);
            }
            due
        };
        if due {
            self.announce(
                bus,
                NodeEvent::Heartbeat {
                    node: self.node.clone(),
                },
            )
            .await;
        }
    }

    /// Asks `of` to tell its state again.
    pub async fn resync(&self, bus: &dyn Bus, of: &NodeId) {
        let node = self.node.clone();
        let of = of.clone();
        self.announce(bus, NodeEvent::Resync { node, of }).await;
    }

    /// Says hello: this node started.
    pub async fn hello(&self, bus: &dyn Bus) {
        let node = self.node.clone();
        self.announce(bus, NodeEvent::Hello { node }).await;
    }

    /// Says goodbye: the other nodes drop this one's connections at once.
    pub async fn bye(&self, bus: &dyn Bus) {
        let node = self.node.clone();
        self.announce(bus, NodeEvent::Bye { node }).await;
    }

    async fn announce(&self, bus: &dyn Bus, event: NodeEvent) {
        publish(bus, &Topic::control(), &BusMessage::Node(event)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn nodes_live_by_their_messages_and_die_of_silence() {
        let clock = ManualClock::new(0);
        let live = Liveness::new(
            NodeId::from("b"),
            Duration::from_secs(2),
            Duration::from_secs(6),
            clock.clone(),
        );
        let a = NodeId::from("a");
        let c = NodeId::from("c");
        assert_eq!(
            live.receive(&NodeEvent::Hello { node: c.clone() }),
            Some(NodeChange::Hello(c.clone()))
        );
        assert_eq!(
            live.receive(&NodeEvent::Heartbeat { node: a.clone() }),
            None,
            "a node first heard by its heartbeat is simply alive"
        );
        assert_eq!(live.others(), vec![a.clone(), c.clone()]);
        assert_eq!(
            live.receive(&NodeEvent::Hello {
                node: NodeId::from("b")
            }),
            None,
            "its own echo is not news"
        );

        clock.advance(Duration::from_secs(4));
        assert_eq!(live.seen(&c), None);
        clock.advance(Duration::from_secs(3));
        // a was last seen 7 s ago (> 6 s): dead; c 3 s ago: alive.
        assert_eq!(live.expire(), vec![a.clone()]);
        assert_eq!(live.others(), vec![c.clone()]);
        assert_eq!(
            live.receive(&NodeEvent::Bye { node: c.clone() }),
            Some(NodeChange::Gone(c.clone()))
        );
        assert!(live.others().is_empty());
        assert!(live.expire().is_empty(), "a death is reported once");
        // A node taken for dead that speaks again is back (it is asked for its state); one
        // that said goodbye and speaks again is merely alive.
        assert_eq!(
            live.receive(&NodeEvent::Heartbeat { node: a.clone() }),
            Some(NodeChange::Back(a.clone()))
        );
        assert_eq!(
            live.receive(&NodeEvent::Heartbeat { node: a.clone() }),
            None
        );
        assert_eq!(
            live.receive(&NodeEvent::Heartbeat { node: c.clone() }),
            None
        );
        // A resync asked of this node, and one asked of another.
        assert_eq!(
            live.receive(&NodeEvent::Resync {
                node: a.clone(),
                of: NodeId::from("b")
            }),
            Some(NodeChange::Resync(a.clone()))
        );
        assert_eq!(
            live.receive(&NodeEvent::Resync {
                node: a.clone(),
                of: c.clone()
            }),
            None
        );
    }
}
