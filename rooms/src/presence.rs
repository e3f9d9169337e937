//! Presence aggregation: connections in, per-user changes out.
//!
//! A user is present in a room while at least one of their connections (tabs, devices, on any
//! node) is in it. The first connection yields [`Change::Joined`]; a status change yields
//! [`Change::Updated`]; when the last connection goes, the user stays for a grace period (so a
//! page reload shows nothing) and [`PresenceRegistry::expire`] yields the leave once it has
//! passed. A connection that comes back during the grace cancels the leave.
//!
//! Time is passed in, never read: the caller owns the clock.

use hub_protocol::UserId;
use hub_protocol::rooms::{PresenceEntry, PresenceStatus};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// A connection: unique across the cluster (`{node}/{socket id}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    pub node: String,
    pub sid: String,
}

impl ConnId {
    pub fn new(node: impl Into<String>, sid: impl Into<String>) -> Self {
        ConnId {
            node: node.into(),
            sid: sid.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Joined(PresenceEntry),
    Updated(PresenceEntry),
    Left(UserId),
}

#[derive(Debug, Clone)]
struct UserState {
    name: String,
    since: String,
    /// Distinct; usually one or two (tabs), so a vector: a set would allocate room for four
    /// and hash two strings per lookup.
    conns: Vec<ConnId>,
    /// Set when the last connection left: the leave is due then. The node is where the last
    /// connection was (it announces the leave).
    leaving: Option<(Instant, String)>,
}

#[derive(Debug, Clone, PartialEq)]
struct Status {
    status: PresenceStatus,
    meta: Value,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            status: PresenceStatus::Online,
            meta: Value::Null,
        }
    }
}

fn entry_of(statuses: &HashMap<UserId, Status>, user: &UserId, state: &UserState) -> PresenceEntry {
    let status = statuses.get(user).cloned().unwrap_or_default();
    PresenceEntry {
        user_id: user.clone(),
        name: state.name.clone(),
        status: status.status,
        meta: status.meta,
        since: state.since.clone(),
    }
}

/// One connection as its node accounts for it in a snapshot of a room.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotConn {
    pub sid: String,
    pub user: UserId,
    pub name: String,
    pub since: String,
}

/// A leave that became due, and the node that announces it.
#[derive(Debug, Clone, PartialEq)]
pub struct DueLeave {
    pub room: String,
    pub user: UserId,
    pub node: String,
}

#[derive(Debug, Default)]
pub struct PresenceRegistry {
    grace: Duration,
    rooms: BTreeMap<String, HashMap<UserId, UserState>>,
    /// The rooms each present user is in (the keys of `rooms` where they are), so that what
    /// concerns one user costs what that user is in, not what the whole node holds: a node
    /// whose 19,000 sockets all drop has 19,000 disconnects to process at once.
    user_rooms: HashMap<UserId, Vec<String>>,
    statuses: HashMap<UserId, Status>,
}

impl PresenceRegistry {
    pub fn new(grace: Duration) -> Self {
        PresenceRegistry {
            grace,
            ..Default::default()
        }
    }

    fn entry(&self, user: &UserId, state: &UserState) -> PresenceEntry {
        entry_of(&self.statuses, user, state)
    }
    /// `conn` of `user` enters `room`. `since` is the RFC 3339 time used if the user joins.
    pub fn add(
        &mut self,
        room: &str,
        conn: ConnId,
        user: &UserId,
        name: &str,
        since: &str,
    ) -> Option<Change> {
        let users = self.rooms.entry(room.to_owned()).or_default();
        match users.get_mut(user) {
            Some(state) => {
                if !state.conns.contains(&conn) {
                    state.conns.push(conn);
                }
                state.leaving = None;
                if state.name != name {
                    state.name = name.to_owned();
                    return Some(Change::Updated(entry_of(&self.statuses, user, state)));
                }
                None
            }
            None => {
                let state = UserState {
                    name: name.to_owned(),
                    since: since.to_owned(),
                    conns: vec![conn],
                    leaving: None,
                };
                let entry = entry_of(&self.statuses, user, &state);
                users.insert(user.clone(), state);
                self.user_rooms
                    .entry(user.clone())
                    .or_default()
                    .push(room.to_owned());
                Some(Change::Joined(entry))
            }
        }
    }

    /// `conn` leaves `room`. The user's leave, if this was their last connection, comes from
    /// [`expire`](Self::expire) after the grace (at once when the grace is zero).
    pub fn remove(&mut self, room: &str, conn: &ConnId, now: Instant) -> Option<Change> {
        let users = self.rooms.get_mut(room)?;
        let user = users
            .iter()
            .find(|(_, s)| s.conns.contains(conn))
            .map(|(u, _)| u.clone())?;
        let state = users.get_mut(&user)?;
        state.conns.retain(|c| c != conn);
        if !state.conns.is_empty() {
            return None;
        }
        if self.grace.is_zero() {
            return self.remove_user(room, &user);
        }
        state.leaving = Some((now + self.grace, conn.node.clone()));
        None
    }

    /// Removes `user` from `room` at once, whatever their connections (membership revoked).
    pub fn remove_user(&mut self, room: &str, user: &UserId) -> Option<Change> {
        let users = self.rooms.get_mut(room)?;
        users.remove(user)?;
        if users.is_empty() {
            self.rooms.remove(room);
        }
        if let Some(theirs) = self.user_rooms.get_mut(user) {
            theirs.retain(|r| r != room);
            if theirs.is_empty() {
                // Present nowhere any more: their status goes with them.
                self.user_rooms.remove(user);
                self.statuses.remove(user);
            }
        }
        Some(Change::Left(user.clone()))
    }

    /// The rooms `conn`, a connection of `user`, is in.
    pub fn rooms_of(&self, user: &UserId, conn: &ConnId) -> Vec<String> {
        let Some(theirs) = self.user_rooms.get(user) else {
            return Vec::new();
        };
        theirs
            .iter()
            .filter(|room| {
                self.rooms
                    .get(room.as_str())
                    .and_then(|users| users.get(user))
                    .is_some_and(|s| s.conns.contains(conn))
            })
            .cloned()
            .collect()
    }

    /// Sets `user`'s status in every room; an `Updated` per room where they are present.
    pub fn set_status(
        &mut self,
        user: &UserId,
        status: PresenceStatus,
        meta: Value,
    ) -> Vec<(String, Change)> {
        let new = Status { status, meta };
        if self.statuses.get(user) == Some(&new) {
            return Vec::new();
        }
        self.statuses.insert(user.clone(), new);
        let mut changes = Vec::new();
        for room in self.user_rooms.get(user).into_iter().flatten() {
            if let Some(state) = self.rooms.get(room).and_then(|users| users.get(user)) {
                changes.push((room.clone(), Change::Updated(self.entry(user, state))));
            }
        }
        // In the order of the rooms' names, as the rooms are kept.
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        changes
    }

    /// Leaves whose grace has passed at `now`; they are removed.
    pub fn expire(&mut self, now: Instant) -> Vec<DueLeave> {
        let mut due = Vec::new();
        for (room, users) in &self.rooms {
            for (user, state) in users {
                if let Some((at, node)) = &state.leaving
                    && *at <= now
                {
                    due.push(DueLeave {
                        room: room.clone(),
                        user: user.clone(),
                        node: node.clone(),
                    });
                }
            }
        }
        for d in &due {
            self.remove_user(&d.room, &d.user);
        }
        due
    }

    /// Drops every connection of `node` (it stopped or died). Users left with no connection
    /// leave at once: the node's silence already took longer than a grace.
    pub fn remove_node(&mut self, node: &str) -> Vec<(String, UserId)> {
        let mut gone = Vec::new();
        for (room, users) in self.rooms.iter_mut() {
            for (user, state) in users.iter_mut() {
                let before = state.conns.len();
                state.conns.retain(|c| c.node != node);
                let lost_last = before > 0 && state.conns.is_empty();
                let leaving_there = state.conns.is_empty()
                    && state.leaving.as_ref().is_some_and(|(_, n)| n == node);
                if lost_last || leaving_there {
                    gone.push((room.clone(), user.clone()));
                }
            }
        }
        for (room, user) in &gone {
            self.remove_user(room, user);
        }
        gone
    }

    /// Replaces what this replica holds of `node`'s connections in `room` with `conns`, the
    /// node's own account of them (a snapshot): connections it no longer has go, new ones
    /// come. A user left with no connection leaves at once (the account corrects a removal that
    /// was lost), unless they are within a grace already. The changes, in the order of the
    /// users' ids.
    pub fn replace_node_in_room(
        &mut self,
        room: &str,
        node: &str,
        conns: Vec<SnapshotConn>,
    ) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut lost: Vec<UserId> = Vec::new();
        if let Some(users) = self.rooms.get_mut(room) {
            for (user, state) in users.iter_mut() {
                let before = state.conns.len();
                state.conns.retain(|c| {
                    c.node != node || conns.iter().any(|n| n.sid == c.sid && &n.user == user)
                });
                if before > 0 && state.conns.is_empty() && state.leaving.is_none() {
                    lost.push(user.clone());
                }
            }
        }
        lost.sort();
        for user in lost {
            let still_here = conns.iter().any(|c| c.user == user);
            if !still_here && let Some(change) = self.remove_user(room, &user) {
                changes.push(change);
            }
        }
        for c in conns {
            let id = ConnId::new(node, c.sid);
            if let Some(change) = self.add(room, id, &c.user, &c.name, &c.since) {
                changes.push(change);
            }
        }
        changes
    }

    /// Forgets `room` (this node no longer follows it), announcing nothing.
    pub fn forget_room(&mut self, room: &str) {
        let users: Vec<UserId> = self
            .rooms
            .get(room)
            .map(|users| users.keys().cloned().collect())
            .unwrap_or_default();
        for user in users {
            self.remove_user(room, &user);
        }
    }

    /// The connections of `user` in `room` that `node` holds.
    pub fn conns_of(&self, room: &str, user: &UserId, node: &str) -> usize {
        self.rooms
            .get(room)
            .and_then(|users| users.get(user))
            .map_or(0, |s| s.conns.iter().filter(|c| c.node == node).count())
    }

    /// The rooms where `node` holds connections of `user` (through the user's index, not a
    /// scan of every room).
    pub fn rooms_of_user_on(&self, user: &UserId, node: &str) -> Vec<String> {
        self.user_rooms
            .get(user)
            .into_iter()
            .flatten()
            .filter(|room| self.conns_of(room, user, node) > 0)
            .cloned()
            .collect()
    }

    /// The connections `node` holds in `room`, as a snapshot of them.
    pub fn snapshot_of(&self, room: &str, node: &str) -> Vec<SnapshotConn> {
        let mut out = Vec::new();
        for (user, state) in self.rooms.get(room).into_iter().flatten() {
            for c in state.conns.iter().filter(|c| c.node == node) {
                out.push(SnapshotConn {
                    sid: c.sid.clone(),
                    user: user.clone(),
                    name: state.name.clone(),
                    since: state.since.clone(),
                });
            }
        }
        out.sort_by(|a, b| a.sid.cmp(&b.sid));
        out
    }

    /// The rooms with anyone in them.
    pub fn rooms(&self) -> Vec<String> {
        self.rooms.keys().cloned().collect()
    }

    /// Everyone present in `room` (including those within their grace), by arrival.
    pub fn present(&self, room: &str) -> Vec<PresenceEntry> {
        let mut entries: Vec<PresenceEntry> = self
            .rooms
            .get(room)
            .map(|users| users.iter().map(|(u, s)| self.entry(u, s)).collect())
            .unwrap_or_default();
        entries.sort_by(|a, b| a.since.cmp(&b.since).then(a.user_id.cmp(&b.user_id)));
        entries
    }

    /// How many users are present in `room` (those within their grace included) and how many
    /// connections they have there.
    pub fn count(&self, room: &str) -> (u64, u64) {
        self.rooms.get(room).map_or((0, 0), |users| {
            let conns: usize = users.values().map(|s| s.conns.len()).sum();
            (users.len() as u64, conns as u64)
        })
    }

    /// The connections `node` holds, per room and user (to answer a newcomer's sync request).
    pub fn conns_of_node(&self, node: &str) -> Vec<(String, UserId, String, String, ConnId)> {
        let mut out = Vec::new();
        for (room, users) in &self.rooms {
            for (user, state) in users {
                for c in state.conns.iter().filter(|c| c.node == node) {
                    out.push((
                        room.clone(),
                        user.clone(),
                        state.name.clone(),
                        state.since.clone(),
                        c.clone(),
                    ));
                }
            }
        }
        out
    }

    /// The status `user` set last, if present anywhere.
    pub fn status_of(&self, user: &UserId) -> Option<(PresenceStatus, Value)> {
        self.statuses.get(user).map(|s| (s.status, s.meta.clone()))
    }

    /// The earliest pending leave, to schedule the next [`expire`](Self::expire).
    pub fn next_due(&self) -> Option<Instant> {
        self.rooms
            .values()
            .flat_map(|users| users.values())
            .filter_map(|s| s.leaving.as_ref().map(|(at, _)| *at))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(5);

    fn alice() -> UserId {
        UserId::from("alice")
    }

    fn conn(n: &str) -> ConnId {
        ConnId::new("n1", n)
    }

    fn joined(c: Option<Change>) -> PresenceEntry {
        match c {
            Some(Change::Joined(e)) => e,
            other => panic!("expected a join, got {other:?}"),
        }
    }

    #[test]
    fn two_tabs_count_once() {
        let mut p = PresenceRegistry::new(GRACE);
        let t0 = Instant::now();
        let e = joined(p.add("venture:v", conn("a"), &alice(), "Alice", "t0"));
        assert_eq!(e.user_id, alice());
        assert_eq!(e.status, PresenceStatus::Online);
        assert_eq!(p.add("venture:v", conn("b"), &alice(), "Alice", "t1"), None);
        assert_eq!(p.present("venture:v").len(), 1);
        assert_eq!(p.remove("venture:v", &conn("a"), t0), None);
        assert!(p.expire(t0 + GRACE * 2).is_empty(), "one tab is still open");
        assert_eq!(p.present("venture:v").len(), 1);
    }

    #[test]
    fn a_count_is_users_once_and_every_connection() {
        let mut p = PresenceRegistry::new(GRACE);
        let t0 = Instant::now();
        assert_eq!(p.count("venture:v"), (0, 0));
        p.add("venture:v", conn("a"), &alice(), "Alice", "t0");
        p.add("venture:v", conn("b"), &alice(), "Alice", "t0");
        p.add(
            "venture:v",
            ConnId::new("n2", "c"),
            &UserId::from("bob"),
            "Bob",
            "t0",
        );
        assert_eq!(p.count("venture:v"), (2, 3));
        p.remove("venture:v", &conn("a"), t0);
        p.remove("venture:v", &conn("b"), t0);
        // Alice is within her grace: still present, with no connection.
        assert_eq!(p.count("venture:v"), (2, 1));
        p.expire(t0 + GRACE);
        assert_eq!(p.count("venture:v"), (1, 1));
    }

    #[test]
    fn last_tab_leaves_after_the_grace() {
        let mut p = PresenceRegistry::new(GRACE);
        let t0 = Instant::now();
        joined(p.add("venture:v", conn("a"), &alice(), "Alice", "t0"));
        assert_eq!(p.remove("venture:v", &conn("a"), t0), None);
        assert_eq!(p.next_due(), Some(t0 + GRACE));
        assert!(p.expire(t0 + GRACE - Duration::from_millis(1)).is_empty());
        let due = p.expire(t0 + GRACE);
        assert_eq!(
            due,
            vec![DueLeave {
                room: "venture:v".into(),
                user: alice(),
                node: "n1".into()
            }]
        );
        assert!(p.present("venture:v").is_empty());
        assert_eq!(p.next_due(), None);
    }

    #[test]
    fn a_reload_within_the_grace_shows_nothing() {
        let mut p = PresenceRegistry::new(GRACE);
        let t0 = Instant::now();
        joined(p.add("venture:v", conn("a"), &alice(), "Alice", "t0"));
        p.remove("venture:v", &conn("a"), t0);
        assert_eq!(p.add("venture:v", conn("b"), &alice(), "Alice", "t1"), None);
        assert!(p.expire(t0 + GRACE * 3).is_empty());
        assert_eq!(
            p.present("venture:v")[0].since,
            "t0",
            "still the original arrival"
        );
    }

    #[test]
    fn zero_grace_leaves_at_once() {
        let mut p = PresenceRegistry::new(Duration::ZERO);
        joined(p.add("r", conn("a"), &alice(), "Alice", "t0"));
        assert_eq!(
            p.remove("r", &conn("a"), Instant::now()),
            Some(Change::Left(alice()))
        );
    }

    #[test]
    fn status_is_per_user_across_rooms_and_never_a_leave() {
        let mut p = PresenceRegistry::new(GRACE);
        joined(p.add("venture:v", conn("a"), &alice(), "Alice", "t0"));
        joined(p.add("team:t", conn("a"), &alice(), "Alice", "t0"));
        let changes = p.set_status(
            &alice(),
            PresenceStatus::Busy,
            serde_json::json!({"doc": 1}),
        );
        assert_eq!(changes.len(), 2);
        for (_, c) in &changes {
            match c {
                Change::Updated(e) => {
                    assert_eq!(e.status, PresenceStatus::Busy);
                    assert_eq!(e.meta, serde_json::json!({"doc": 1}));
                }
                other => panic!("expected an update, got {other:?}"),
            }
        }
        assert!(
            p.set_status(
                &alice(),
                PresenceStatus::Busy,
                serde_json::json!({"doc": 1})
            )
            .is_empty(),
            "no change, no event"
        );
        // A new room shows the current status.
        let e = joined(p.add("team:u", conn("b"), &alice(), "Alice", "t2"));
        assert_eq!(e.status, PresenceStatus::Busy);
    }

    #[test]
    fn a_dead_node_takes_its_connections_with_it() {
        let mut p = PresenceRegistry::new(GRACE);
        let bob = UserId::from("bob");
        joined(p.add("r", ConnId::new("n1", "a"), &alice(), "Alice", "t0"));
        assert_eq!(
            p.add("r", ConnId::new("n2", "b"), &alice(), "Alice", "t0"),
            None
        );
        joined(p.add("r", ConnId::new("n2", "c"), &bob, "Bob", "t0"));
        let gone = p.remove_node("n2");
        assert_eq!(
            gone,
            vec![("r".to_string(), bob.clone())],
            "alice is still on n1"
        );
        assert_eq!(p.present("r").len(), 1);
        assert_eq!(
            p.rooms_of(&alice(), &ConnId::new("n1", "a")),
            vec!["r".to_string()]
        );
    }

    fn snap(sid: &str, user: &str) -> SnapshotConn {
        SnapshotConn {
            sid: sid.into(),
            user: UserId::from(user),
            name: user.to_uppercase(),
            since: "t0".into(),
        }
    }

    #[test]
    fn a_snapshot_replaces_what_its_node_holds_in_the_room() {
        let mut p = PresenceRegistry::new(GRACE);
        let t0 = Instant::now();
        let (r, other) = ("venture:v", "venture:w");
        // n2 had alice (two tabs) and bob here; carol is on n1; alice also on n2 elsewhere.
        p.add(r, ConnId::new("n2", "a1"), &alice(), "ALICE", "t0");
        p.add(r, ConnId::new("n2", "a2"), &alice(), "ALICE", "t0");
        p.add(
            r,
            ConnId::new("n2", "b1"),
            &UserId::from("bob"),
            "BOB",
            "t0",
        );
        p.add(
            r,
            ConnId::new("n1", "c1"),
            &UserId::from("carol"),
            "CAROL",
            "t0",
        );
        p.add(other, ConnId::new("n2", "a3"), &alice(), "ALICE", "t0");
        // dave is within his grace (his last connection, on n2, left).
        p.add(
            r,
            ConnId::new("n2", "d1"),
            &UserId::from("dave"),
            "DAVE",
            "t0",
        );
        p.remove(r, &ConnId::new("n2", "d1"), t0);
        // n2's account: alice's second tab only, and erin new.
        let changes =
            p.replace_node_in_room(r, "n2", vec![snap("a2", "alice"), snap("e1", "erin")]);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[0], Change::Left(UserId::from("bob")));
        assert!(matches!(&changes[1], Change::Joined(e) if e.user_id.as_str() == "erin"));
        assert_eq!(
            p.count(r),
            (4, 3),
            "alice, carol, erin and dave in his grace; a2, c1, e1"
        );
        assert_eq!(p.conns_of(r, &alice(), "n2"), 1);
        assert_eq!(
            p.conns_of(other, &alice(), "n2"),
            1,
            "other rooms are untouched"
        );
        assert_eq!(
            p.rooms_of_user_on(&alice(), "n2"),
            vec![r.to_owned(), other.to_owned()],
            "in the order alice entered them"
        );
        assert!(p.rooms_of_user_on(&alice(), "n1").is_empty());
        assert_eq!(
            p.snapshot_of(r, "n2"),
            vec![snap("a2", "alice"), snap("e1", "erin")]
        );
        assert_eq!(p.snapshot_of(r, "n1").len(), 1);
        // The same account again changes nothing.
        assert!(
            p.replace_node_in_room(r, "n2", p.snapshot_of(r, "n2"))
                .is_empty()
        );
        // An empty account: n2 has nothing here any more; dave's grace runs on.
        let changes = p.replace_node_in_room(r, "n2", vec![]);
        assert_eq!(
            changes,
            vec![Change::Left(alice()), Change::Left(UserId::from("erin"))]
        );
        assert_eq!(p.count(r), (2, 1));
        assert_eq!(
            p.expire(t0 + GRACE).len(),
            1,
            "dave leaves at the end of his grace"
        );
        p.forget_room(r);
        assert_eq!(p.count(r), (0, 0));
        assert_eq!(p.rooms(), vec![other.to_owned()]);
    }

    #[test]
    fn kick_removes_every_connection() {
        let mut p = PresenceRegistry::new(GRACE);
        joined(p.add("r", conn("a"), &alice(), "Alice", "t0"));
        p.add("r", conn("b"), &alice(), "Alice", "t0");
        assert_eq!(p.remove_user("r", &alice()), Some(Change::Left(alice())));
        assert!(p.present("r").is_empty());
        assert_eq!(p.remove_user("r", &alice()), None);
    }

    /// The per-user index agrees with a scan of every room, whatever happens.
    mod index {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Add(usize, usize, usize),
            Remove(usize, usize, usize),
            Kick(usize, usize),
            Expire(u64),
            DropNode(usize),
            Status(usize),
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                4 => (0..3usize, 0..2usize, 0..4usize).prop_map(|(r, n, c)| Op::Add(r, n, c)),
                3 => (0..3usize, 0..2usize, 0..4usize).prop_map(|(r, n, c)| Op::Remove(r, n, c)),
                1 => (0..3usize, 0..3usize).prop_map(|(r, u)| Op::Kick(r, u)),
                1 => (0..8u64).prop_map(Op::Expire),
                1 => (0..2usize).prop_map(Op::DropNode),
                1 => (0..3usize).prop_map(Op::Status),
            ]
        }

        fn scan_rooms_of(p: &PresenceRegistry, conn: &ConnId) -> Vec<String> {
            let mut rooms: Vec<String> = p
                .rooms
                .iter()
                .filter(|(_, users)| users.values().any(|s| s.conns.contains(conn)))
                .map(|(room, _)| room.clone())
                .collect();
            rooms.sort();
            rooms
        }

        proptest! {
            #[test]
            fn rooms_of_and_statuses_match_a_full_scan(ops in proptest::collection::vec(op(), 1..60)) {
                let t0 = Instant::now();
                let mut p = PresenceRegistry::new(Duration::from_secs(2));
                let users: Vec<UserId> = ["ann", "bo", "cy"].iter().map(|u| UserId::from(*u)).collect();
                // A connection belongs to one user: conn c of node n is user c % 3's.
                let conn = |n: usize, c: usize| ConnId::new(format!("n{n}"), format!("s{c}"));
                let owner = |c: usize| users[c % 3].clone();
                for op in ops {
                    let before: Vec<bool> = users
                        .iter()
                        .map(|u| p.rooms.values().any(|users| users.contains_key(u)))
                        .collect();
                    match op {
                        Op::Add(r, n, c) => {
                            p.add(&format!("r{r}"), conn(n, c), &owner(c), "x", "t");
                        }
                        Op::Remove(r, n, c) => {
                            p.remove(&format!("r{r}"), &conn(n, c), t0);
                        }
                        Op::Kick(r, u) => {
                            p.remove_user(&format!("r{r}"), &users[u]);
                        }
                        Op::Expire(s) => {
                            p.expire(t0 + Duration::from_secs(s));
                        }
                        Op::DropNode(n) => {
                            p.remove_node(&format!("n{n}"));
                        }
                        Op::Status(u) => {
                            p.set_status(&users[u], PresenceStatus::Away, Value::Null);
                        }
                    }
                    for n in 0..2 {
                        for c in 0..4 {
                            let mut mine = p.rooms_of(&owner(c), &conn(n, c));
                            mine.sort();
                            prop_assert_eq!(mine, scan_rooms_of(&p, &conn(n, c)));
                        }
                    }
                    for (i, u) in users.iter().enumerate() {
                        let present = p.rooms.values().any(|users| users.contains_key(u));
                        prop_assert_eq!(p.user_rooms.contains_key(u), present);
                        if before[i] && !present {
                            prop_assert!(p.statuses.get(u).is_none(), "a status outlives its user");
                        }
                        let mut indexed = p.user_rooms.get(u).cloned().unwrap_or_default();
                        indexed.sort();
                        let mut scanned: Vec<String> = p
                            .rooms
                            .iter()
                            .filter(|(_, users)| users.contains_key(u))
                            .map(|(r, _)| r.clone())
                            .collect();
                        scanned.sort();
                        prop_assert_eq!(indexed, scanned);
                    }
                }
            }
        }
    }
}
