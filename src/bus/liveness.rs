//! Node liveness, next to the bus: a node says hello when it starts (and when it lost bus
//! traffic and needs the others' state again), a heartbeat every `heartbeat`, and goodbye when
//! it stops. A node silent for longer than `dead_after` is dead. Any message from a node counts
//! as a sign of life. What a node's arrival or departure means (presence snapshots, dropping
//! its connections) is for the services to decide; this only keeps the list.

use super::{Bus, BusMessage, NodeEvent, Topic, publish};
use crate::clock::SharedClock;
use hub_protocol::NodeId;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a node event changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeChange {
    /// A node started, asks for everyone's state again, or came back after silence: it gets
    /// this node's state.
    Hello(NodeId),
    /// A node stopped, or fell silent for too long.
    Gone(NodeId),
}

pub struct Liveness {
    node: NodeId,
    heartbeat: Duration,
    dead_after: Duration,
    clock: SharedClock,
    seen: Mutex<HashMap<NodeId, Instant>>,
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

    /// A message from `node` arrived: it is alive. Every node's view of who is alive must
    /// agree for one node to announce each presence change, so any message counts.
    pub fn seen(&self, node: &NodeId) {
        if node != &self.node {
            self.seen_map().insert(node.clone(), self.clock.now());
        }
    }

    /// Applies a node event from the bus (this node's own are ignored).
    pub fn receive(&self, event: &NodeEvent) -> Option<NodeChange> {
        let node = event.node();
        if node == &self.node {
            return None;
        }
        match event {
            NodeEvent::Hello { .. } => {
                self.seen_map().insert(node.clone(), self.clock.now());
                Some(NodeChange::Hello(node.clone()))
            }
            // A heartbeat from a node this one does not know (it was taken for dead, or its
            // hello was lost while the bus was away) counts as a hello: the two resync.
            NodeEvent::Heartbeat { .. } => self
                .seen_map()
                .insert(node.clone(), self.clock.now())
                .is_none()
                .then(|| NodeChange::Hello(node.clone())),
            NodeEvent::Bye { .. } => {
                self.seen_map().remove(node);
                Some(NodeChange::Gone(node.clone()))
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
        dead
    }

    /// Whether this node has the smallest id among the live nodes it knows.
    pub fn is_lowest(&self) -> bool {
        self.seen_map().keys().all(|other| other > &self.node)
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

    /// Says hello: the other nodes answer with their state.
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
        publish(bus, &Topic::events(), &BusMessage::Node(event)).await;
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
        assert!(live.is_lowest(), "alone, it is the lowest");
        let a = NodeId::from("a");
        let c = NodeId::from("c");
        assert_eq!(
            live.receive(&NodeEvent::Hello { node: c.clone() }),
            Some(NodeChange::Hello(c.clone()))
        );
        assert!(live.is_lowest());
        assert_eq!(
            live.receive(&NodeEvent::Heartbeat { node: a.clone() }),
            Some(NodeChange::Hello(a.clone())),
            "a node first heard by its heartbeat is greeted like a hello"
        );
        assert_eq!(
            live.receive(&NodeEvent::Heartbeat { node: a.clone() }),
            None
        );
        assert!(!live.is_lowest(), "a < b");
        assert_eq!(
            live.receive(&NodeEvent::Hello {
                node: NodeId::from("b")
            }),
            None,
            "its own echo is not news"
        );

        clock.advance(Duration::from_secs(4));
        live.seen(&c);
        clock.advance(Duration::from_secs(3));
        // a was last seen 7 s ago (> 6 s): dead; c 3 s ago: alive.
        assert_eq!(live.expire(), vec![a.clone()]);
        assert_eq!(live.others(), vec![c.clone()]);
        assert!(live.is_lowest());
        assert_eq!(
            live.receive(&NodeEvent::Bye { node: c.clone() }),
            Some(NodeChange::Gone(c))
        );
        assert!(live.others().is_empty());
        assert!(live.expire().is_empty(), "a death is reported once");
        // A dead node that comes back with a heartbeat is greeted like a hello.
        assert_eq!(
            live.receive(&NodeEvent::Heartbeat { node: a.clone() }),
            Some(NodeChange::Hello(a))
        );
    }
}
