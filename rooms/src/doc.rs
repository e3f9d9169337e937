//! A collaborative document session, sans IO: y-protocols frames in, what to send where out.
//!
//! One [`DocSession`] per loaded document holds the yrs `Awareness` (and so the `Doc`). Each
//! connection is identified by a [`ConnKey`]; [`DocSession::receive`] takes one frame from a
//! connection and returns an [`Outcome`]: the replies for that connection, the frames for the
//! others, and the update to persist. Read-only connections have their document changes refused
//! and counted; their awareness still shows. The awareness states a connection introduced are
//! removed when it leaves ([`DocSession::remove_conn`]): yrs has no timeout sweep of its own.
//!
//! What is relayed is what the document applied, re-encoded by yrs, never the bytes a client
//! sent: an update that yrs reads but Yjs would not is normalised (or refused) here, so every
//! replica applies the same thing. Awareness states must be JSON (stock clients `JSON.parse`
//! them), are bounded in size, and each connection's awareness is rate limited; over the rate,
//! an awareness message is skipped (the client renews its state periodically anyway), except a
//! removal, which always passes.
//!
//! Wire: a frame is `varUint(type)` + payload; sync = 0 (step 1 = 0, step 2 = 1, update = 2),
//! awareness = 1, auth = 2, query awareness = 3. A frame may hold several messages.

use crate::rate::TokenBucket;
use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;
use yrs::encoding::read::Cursor;
use yrs::sync::awareness::AwarenessUpdate;
use yrs::sync::{Awareness, Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, Update};

/// A connection to a document (a `/yjs` socket or a Socket.IO socket that joined it).
pub type ConnKey = u64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    #[error("malformed y-protocols message: {0}")]
    Malformed(String),
    #[error("update of {size} bytes is over the limit of {limit}")]
    UpdateTooLarge { size: usize, limit: usize },
    #[error("the document would grow past {limit} bytes")]
    DocTooLarge { limit: usize },
    #[error("unsupported message type {0}")]
    Unsupported(u8),
    #[error("awareness of {size} bytes is over the limit of {limit}")]
    AwarenessTooLarge { size: usize, limit: usize },
}

/// Limits on what a connection may send.
#[derive(Debug, Clone, Copy)]
pub struct DocLimits {
    /// Largest update in one message.
    pub max_update_bytes: usize,
    /// Largest document, counted as the bytes of the updates it is made of.
    pub max_doc_bytes: usize,
    /// Largest awareness message (the JSON of its states), in bytes.
    pub max_awareness_bytes: usize,
    /// Awareness messages one connection may send per second, sustained...
    pub awareness_per_second: f64,
    /// ...and at once.
    pub awareness_burst: u32,
}

impl DocLimits {
    /// The defaults (the `HUB_DOC_*` flags start from them).
    pub const DEFAULT: DocLimits = DocLimits {
        max_update_bytes: 1024 * 1024,
        max_doc_bytes: 64 * 1024 * 1024,
        max_awareness_bytes: 32 * 1024,
        awareness_per_second: 30.0,
        awareness_burst: 60,
    };
}

impl Default for DocLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What receiving a frame produced.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// Frames for the connection that sent the frame.
    pub reply: Vec<Vec<u8>>,
    /// Frames for every other connection: from [`DocSession::receive`], exactly one update
    /// frame per entry of `updates`.
    pub others: Vec<Vec<u8>>,
    /// Frames for every connection, the sender included (awareness is echoed).
    pub everyone: Vec<Vec<u8>>,
    /// Document updates applied, to persist (v1 encoding), in order.
    pub updates: Vec<Vec<u8>>,
    /// Document changes refused because the connection is read-only.
    pub refused: usize,
    /// Awareness messages skipped because the connection is over its awareness rate.
    pub throttled: usize,
}

impl Outcome {
    /// Adds what a later frame produced after what this one holds.
    fn absorb(&mut self, later: Outcome) {
        self.reply.extend(later.reply);
        self.others.extend(later.others);
        self.everyone.extend(later.everyone);
        self.updates.extend(later.updates);
        self.refused += later.refused;
        self.throttled += later.throttled;
    }
}

pub fn encode(message: &Message) -> Vec<u8> {
    message.encode_v1()
}

/// An awareness frame (`[1, …]`) announcing `state`, taken as is (JSON or not), as the state
/// of awareness client `client` at clock 1.
pub fn awareness_frame(client: u64, state: &str) -> Vec<u8> {
    use yrs::encoding::write::Write;
    let mut body = Vec::new();
    body.write_var(1u32);
    body.write_var(client);
    body.write_var(1u32);
    body.write_string(state);
    let mut frame = vec![1u8];
    frame.write_buf(&body);
    frame
}

/// An update frame (`[0, 2, update]`) for `update`.
pub fn update_frame(update: &[u8]) -> Vec<u8> {
    encode(&Message::Sync(SyncMessage::Update(update.to_vec())))
}

/// What the session keeps per connection.
#[derive(Debug, Default)]
struct ConnState {
    /// Awareness client ids the connection introduced.
    clients: HashSet<u64>,
    /// Whose allowance its awareness spends (see [`DocSession::bind_user`]).
    user: Option<String>,
}

/// Who an awareness allowance belongs to: a user (all their connections share it, and a
/// reconnect does not refill it), or a connection not bound to a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RateKey {
    User(String),
    Conn(ConnKey),
}

/// Allowances kept before the refilled ones are forgotten.
const MAX_RATES: usize = 1024;

pub struct DocSession {
    awareness: Awareness,
    conns: HashMap<ConnKey, ConnState>,
    rates: HashMap<RateKey, TokenBucket>,
    limits: DocLimits,
    /// Bytes of the updates the document is made of (an estimate of its size).
    size: usize,
}

impl DocSession {
    /// A session over `doc`, whose persisted form is `size` bytes.
    pub fn new(doc: Doc, size: usize, limits: DocLimits) -> Self {
        DocSession {
            awareness: Awareness::new(doc),
            conns: HashMap::new(),
            rates: HashMap::new(),
            limits,
            size,
        }
    }

    /// Builds a document from its stored snapshot and the updates after it.
    pub fn load<'a>(
        snapshot: Option<&'a [u8]>,
        updates: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(Doc, usize), DocError> {
        let doc = Doc::new();
        let mut size = 0;
        {
            let mut txn = doc.transact_mut();
            for bytes in snapshot.into_iter().chain(updates) {
                size += bytes.len();
                let update = decode_update(bytes)?;
                guard(|| {
                    txn.apply_update(update)
                        .map_err(|e| DocError::Malformed(e.to_string()))
                })?;
            }
        }
        Ok((doc, size))
    }

    pub fn doc(&self) -> &Doc {
        self.awareness.doc()
    }

    /// The estimated size of the document, in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The whole document as one v1 update.
    pub fn state(&self) -> Vec<u8> {
        self.doc()
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// What the server sends a new connection: its sync step 1, and the awareness states if
    /// there are any.
    pub fn greeting(&self) -> Vec<Vec<u8>> {
        let sv = self.doc().transact().state_vector();
        let mut frames = vec![encode(&Message::Sync(SyncMessage::SyncStep1(sv)))];
        if let Some(aw) = self.awareness_frame() {
            frames.push(aw);
        }
        frames
    }

    fn awareness_frame(&self) -> Option<Vec<u8>> {
        let update = self.awareness.update().ok()?;
        (!update.clients.is_empty()).then(|| encode(&Message::Awareness(update)))
    }

    /// Handles one frame from `conn`, received at `now`.
    pub fn receive(
        &mut self,
        conn: ConnKey,
        can_write: bool,
        frame: &[u8],
        now: Instant,
    ) -> Result<Outcome, DocError> {
        // Read the frame's shape without allocating first: yrs sizes buffers from the counts
        // it reads, so nothing reaches it before every count is checked against the bytes.
        let parts = crate::ywire::scan_frame(frame).map_err(malformed)?;
        let messages: Vec<Message> = guard(|| {
            let mut decoder = DecoderV1::new(Cursor::new(frame));
            MessageReader::new(&mut decoder)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DocError::Malformed(e.to_string()))
        })?;
        if messages.is_empty() || messages.len() != parts.len() {
            return Err(DocError::Malformed("empty frame".into()));
        }
        self.check_all(&messages, can_write)?;
        let mut out = Outcome::default();
        for message in messages {
            match message {
                Message::Sync(SyncMessage::SyncStep1(sv)) => {
                    let update = self.doc().transact().encode_state_as_update_v1(&sv);
                    out.reply
                        .push(encode(&Message::Sync(SyncMessage::SyncStep2(update))));
                }
                Message::Sync(SyncMessage::SyncStep2(update))
                | Message::Sync(SyncMessage::Update(update)) => {
                    if !can_write {
                        // A read-only peer's step 2 is normally the empty update: anything else
                        // is refused unread.
                        if update.as_slice() != crate::ywire::EMPTY_UPDATE {
                            out.refused += 1;
                        }
                        continue;
                    }
                    if let Some(applied) = self.apply(&update)? {
                        out.others.push(update_frame(&applied));
                        out.updates.push(applied);
                    }
                }
                Message::Awareness(update) => {
                    self.check_awareness(&update)?;
                    let removal_only = update.clients.values().all(|e| is_null(&e.json));
                    if !removal_only && !self.allow_awareness(conn, now) {
                        out.throttled += 1;
                        continue;
                    }
                    self.apply_awareness(conn, &update)?;
                    out.everyone.push(encode(&Message::Awareness(update)));
                }
                Message::AwarenessQuery => {
                    if let Some(aw) = self.awareness_frame() {
                        out.reply.push(aw);
                    }
                }
                Message::Auth(_) => {}
                Message::Custom(tag, _) => return Err(DocError::Unsupported(tag)),
            }
        }
        Ok(out)
    }

    /// Handles frames that arrived together from `conn`, in order, as [`receive`] does each.
    /// Their document changes come out as one update (what yrs integrated from all of them,
    /// merged), so they are logged once and relayed as one frame; replies and awareness keep
    /// their order. A refused frame ends the batch: the outcome holds what the frames before it
    /// did, and the error comes with it.
    ///
    /// [`receive`]: DocSession::receive
    pub fn receive_many<'a>(
        &mut self,
        conn: ConnKey,
        can_write: bool,
        frames: impl IntoIterator<Item = &'a [u8]>,
        now: Instant,
    ) -> (Outcome, Option<DocError>) {
        let mut out = Outcome::default();
        let mut refused = None;
        for frame in frames {
            match self.receive(conn, can_write, frame, now) {
                Ok(one) => out.absorb(one),
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        if out.updates.len() > 1 {
            // The parts are yrs's own encodings, so merging them cannot fail; if it did, they
            // would simply go out one by one.
            if let Ok(merged) = guard(|| {
                yrs::merge_updates_v1(&out.updates).map_err(|e| DocError::Malformed(e.to_string()))
            }) {
                out.others = vec![update_frame(&merged)];
                out.updates = vec![merged];
            }
        }
        (out, refused)
    }

    /// Checks every message of a frame before any is applied, so that a refused frame changes
    /// nothing (its updates are not half applied and never logged). A frame of one message
    /// (the usual case) is checked as it is applied.
    fn check_all(&self, messages: &[Message], can_write: bool) -> Result<(), DocError> {
        if messages.len() < 2 {
            return Ok(());
        }
        for message in messages {
            match message {
                Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update))
                    if can_write =>
                {
                    if update.len() > self.limits.max_update_bytes {
                        return Err(DocError::UpdateTooLarge {
                            size: update.len(),
                            limit: self.limits.max_update_bytes,
                        });
                    }
                    decode_update(update)?;
                }
                Message::Awareness(update) => self.check_awareness(update)?,
                Message::Custom(tag, _) => return Err(DocError::Unsupported(*tag)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Applies an update (from a connection, a server-side tool or another node). Returns what
    /// it changed, re-encoded by yrs, or `None` when it changed nothing.
    pub fn apply(&mut self, update: &[u8]) -> Result<Option<Vec<u8>>, DocError> {
        if update.len() > self.limits.max_update_bytes {
            return Err(DocError::UpdateTooLarge {
                size: update.len(),
                limit: self.limits.max_update_bytes,
            });
        }
        let decoded = decode_update(update)?;
        if decoded.is_empty() {
            return Ok(None);
        }
        if self.size + update.len() > self.limits.max_doc_bytes {
            return Err(DocError::DocTooLarge {
                limit: self.limits.max_doc_bytes,
            });
        }
        let doc = self.awareness.doc().clone();
        let applied = guard(|| {
            let mut txn = doc.transact_mut();
            txn.apply_update(decoded)
                .map_err(|e| DocError::Malformed(e.to_string()))?;
            // Only what this transaction integrated (an update whose dependencies are missing
            // waits inside yrs and goes out with the transaction that completes it).
            let changed = !txn.insert_set().is_empty() || !txn.delete_set().is_empty();
            Ok(changed.then(|| txn.encode_update_v1()))
        })?;
        if let Some(applied) = &applied {
            self.size += applied.len();
        }
        Ok(applied)
    }

    /// Applies awareness states received from another node (no connection of ours owns them).
    pub fn apply_remote_awareness(&mut self, frame: &[u8]) -> Result<(), DocError> {
        crate::ywire::scan_frame(frame).map_err(malformed)?;
        let message =
            guard(|| Message::decode_v1(frame).map_err(|e| DocError::Malformed(e.to_string())))?;
        if let Message::Awareness(update) = message {
            self.check_awareness(&update)?;
            guard(|| {
                self.awareness
                    .apply_update(update)
                    .map_err(|e| DocError::Malformed(e.to_string()))
            })?;
        }
        Ok(())
    }

    /// Awareness states are JSON (stock clients parse them) and bounded in size.
    fn check_awareness(&self, update: &AwarenessUpdate) -> Result<(), DocError> {
        let size: usize = update.clients.values().map(|e| e.json.len()).sum();
        if size > self.limits.max_awareness_bytes {
            return Err(DocError::AwarenessTooLarge {
                size,
                limit: self.limits.max_awareness_bytes,
            });
        }
        for entry in update.clients.values() {
            if serde_json::from_str::<serde::de::IgnoredAny>(&entry.json).is_err() {
                return Err(DocError::Malformed("an awareness state is not JSON".into()));
            }
        }
        Ok(())
    }

    /// `conn` belongs to `user`: its awareness spends that user's allowance, shared by all
    /// their connections to this document, so reconnecting does not refill it.
    pub fn bind_user(&mut self, conn: ConnKey, user: &str) {
        self.conns.entry(conn).or_default().user = Some(user.to_owned());
    }

    fn allow_awareness(&mut self, conn: ConnKey, now: Instant) -> bool {
        let (rate, burst) = (
            self.limits.awareness_per_second,
            self.limits.awareness_burst,
        );
        let key = match self.conns.get(&conn).and_then(|c| c.user.clone()) {
            Some(user) => RateKey::User(user),
            None => RateKey::Conn(conn),
        };
        if self.rates.len() >= MAX_RATES {
            self.rates.retain(|_, b| !b.refilled(rate, burst, now));
        }
        self.rates
            .entry(key)
            .or_insert_with(|| TokenBucket::full(burst, now))
            .take(rate, burst, now)
    }

    fn apply_awareness(&mut self, conn: ConnKey, update: &AwarenessUpdate) -> Result<(), DocError> {
        let ids = &mut self.conns.entry(conn).or_default().clients;
        for (id, entry) in &update.clients {
            if is_null(&entry.json) {
                ids.remove(&id.get());
            } else {
                ids.insert(id.get());
            }
        }
        guard(|| {
            self.awareness
                .apply_update(update.clone())
                .map_err(|e| DocError::Malformed(e.to_string()))
        })
    }

    /// `conn` left: its awareness states are removed. Returns the frame announcing the removal
    /// to the remaining connections, if it had any.
    pub fn remove_conn(&mut self, conn: ConnKey) -> Option<Vec<u8>> {
        let ids = self.conns.remove(&conn)?.clients;
        if ids.is_empty() {
            return None;
        }
        let ids: Vec<ClientID> = ids.into_iter().map(ClientID::new).collect();
        for id in &ids {
            self.awareness.remove_state(*id);
        }
        let update = self.awareness.update_with_clients(ids).ok()?;
        Some(encode(&Message::Awareness(update)))
    }

    /// Awareness client ids currently shown.
    pub fn awareness_clients(&self) -> usize {
        self.awareness
            .update()
            .map(|u| u.clients.len())
            .unwrap_or(0)
    }
}

fn is_null(json: &str) -> bool {
    json.trim() == "null"
}

fn malformed(e: crate::ywire::WireError) -> DocError {
    DocError::Malformed(e.to_string())
}

/// Decodes a v1 update once [`crate::ywire::check_update`] has bounded what it may cost.
fn decode_update(bytes: &[u8]) -> Result<Update, DocError> {
    crate::ywire::check_update(bytes).map_err(malformed)?;
    guard(|| Update::decode_v1(bytes).map_err(|e| DocError::Malformed(e.to_string())))
}

/// yrs may panic (debug assertions included) on hostile input: a panic is a malformed message,
/// never a crashed task.
fn guard<T>(f: impl FnOnce() -> Result<T, DocError>) -> Result<T, DocError> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(DocError::Malformed("rejected by the CRDT".into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{GetString, Text};

    fn text_update(client: u64, s: &str) -> Vec<u8> {
        let doc = Doc::with_client_id(client);
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, s);
        txn.encode_update_v1()
    }

    /// A fixed instant: rate limits are tested with explicit times.
    fn t0() -> Instant {
        use std::sync::OnceLock;
        static T0: OnceLock<Instant> = OnceLock::new();
        *T0.get_or_init(Instant::now)
    }

    fn session() -> DocSession {
        DocSession::new(Doc::new(), 0, DocLimits::default())
    }

    fn text_of(s: &DocSession) -> String {
        let text = s.doc().get_or_insert_text("t");
        text.get_string(&s.doc().transact())
    }

    /// The text of a new document made of `update` alone.
    fn text_in(update: &[u8]) -> String {
        let (doc, _) = DocSession::load(None, [update]).unwrap();
        doc.get_or_insert_text("t").get_string(&doc.transact())
    }

    #[test]
    fn step1_is_answered_with_what_the_peer_lacks() {
        let mut s = session();
        s.receive(1, true, &update_frame(&text_update(7, "hello")), t0())
            .unwrap();
        let step1 = encode(&Message::Sync(SyncMessage::SyncStep1(
            StateVector::default(),
        )));
        let out = s.receive(2, true, &step1, t0()).unwrap();
        assert_eq!(out.reply.len(), 1);
        let Message::Sync(SyncMessage::SyncStep2(update)) =
            Message::decode_v1(&out.reply[0]).unwrap()
        else {
            panic!("expected step 2")
        };
        assert_eq!(text_in(&update), "hello");
    }

    #[test]
    fn writers_updates_are_relayed_and_persisted() {
        let mut s = session();
        let update = text_update(7, "hi");
        let out = s.receive(1, true, &update_frame(&update), t0()).unwrap();
        assert_eq!(out.updates, vec![update.clone()]);
        assert_eq!(out.others, vec![update_frame(&update)]);
        assert!(out.reply.is_empty() && out.everyone.is_empty());
        assert_eq!(text_of(&s), "hi");
        // The same update again changes nothing but is harmless.
        let again = s.receive(1, true, &update_frame(&update), t0()).unwrap();
        assert_eq!(text_of(&s), "hi");
        assert_eq!(again.refused, 0);
    }

    #[test]
    fn readers_changes_are_refused_and_counted() {
        let mut s = session();
        let out = s
            .receive(1, false, &update_frame(&text_update(7, "nope")), t0())
            .unwrap();
        assert_eq!(out.refused, 1);
        assert!(out.updates.is_empty() && out.others.is_empty());
        assert_eq!(text_of(&s), "");
        // An empty step 2 (what a reader answers to step 1) is not a refusal.
        let empty = Doc::new()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let out = s
            .receive(
                1,
                false,
                &encode(&Message::Sync(SyncMessage::SyncStep2(empty))),
                t0(),
            )
            .unwrap();
        assert_eq!(out.refused, 0);
    }

    #[test]
    fn awareness_is_echoed_and_removed_with_its_connection() {
        let mut s = session();
        let mut peer = Awareness::new(Doc::with_client_id(42));
        peer.set_local_state_raw(r#"{"user":"alice"}"#);
        let frame = encode(&Message::Awareness(peer.update().unwrap()));
        let out = s.receive(9, false, &frame, t0()).unwrap();
        assert_eq!(
            out.everyone,
            vec![frame],
            "echoed to all, the sender included"
        );
        assert_eq!(s.awareness_clients(), 1);
        assert_eq!(s.greeting().len(), 2, "step 1 and the awareness");
        let removal = s.remove_conn(9).expect("a removal to announce");
        let Message::Awareness(update) = Message::decode_v1(&removal).unwrap() else {
            panic!()
        };
        assert_eq!(update.clients[&ClientID::new(42)].json.as_ref(), "null");
        assert_eq!(s.awareness_clients(), 0);
        assert_eq!(s.remove_conn(9), None);
    }

    #[test]
    fn garbage_and_oversize_are_errors_that_leave_the_document_alone() {
        let mut s = session();
        s.receive(1, true, &update_frame(&text_update(7, "keep")), t0())
            .unwrap();
        for garbage in [
            &[][..],
            &[0, 2, 200, 1, 2][..],
            &[0, 9][..],
            &[1, 5, 1][..],
            &[
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ][..],
        ] {
            assert!(s.receive(1, true, garbage, t0()).is_err(), "{garbage:?}");
        }
        assert!(matches!(
            s.receive(1, true, &[7, 0], t0()),
            Err(DocError::Unsupported(7)) | Err(DocError::Malformed(_))
        ));
        let mut small = DocSession::new(
            Doc::new(),
            0,
            DocLimits {
                max_update_bytes: 8,
                max_doc_bytes: 1024,
                ..DocLimits::default()
            },
        );
        let big = text_update(7, "this is longer than eight bytes");
        assert!(matches!(
            small.receive(1, true, &update_frame(&big), t0()),
            Err(DocError::UpdateTooLarge { .. })
        ));
        let mut tiny = DocSession::new(
            Doc::new(),
            0,
            DocLimits {
                max_update_bytes: 1024,
                max_doc_bytes: 10,
                ..DocLimits::default()
            },
        );
        assert!(matches!(
            tiny.receive(1, true, &update_frame(&big), t0()),
            Err(DocError::DocTooLarge { .. })
        ));
        assert_eq!(text_of(&s), "keep");
    }

    #[test]
    fn a_document_loads_from_snapshot_and_updates() {
        let mut s = session();
        s.receive(1, true, &update_frame(&text_update(7, "abc")), t0())
            .unwrap();
        let snapshot = s.state();
        let later = text_update(8, "xyz");
        let (doc, size) = DocSession::load(Some(&snapshot), [later.as_slice()]).unwrap();
        let text = doc.get_or_insert_text("t").get_string(&doc.transact());
        assert!(text.contains("abc") && text.contains("xyz"), "{text}");
        assert_eq!(size, snapshot.len() + later.len());
    }

    #[test]
    fn awareness_that_is_not_json_is_refused_and_never_stored() {
        let mut s = session();
        let good = awareness_frame(42, r#"{"user":"a"}"#);
        assert_eq!(s.receive(1, true, &good, t0()).unwrap().everyone.len(), 1);
        for bad in ["{not json", "undefined", "", "{\"a\":1} trailing"] {
            let frame = awareness_frame(43, bad);
            assert!(
                matches!(
                    s.receive(1, true, &frame, t0()),
                    Err(DocError::Malformed(_))
                ),
                "{bad:?}"
            );
            assert!(s.apply_remote_awareness(&frame).is_err(), "{bad:?}");
        }
        assert_eq!(s.awareness_clients(), 1, "only the JSON state is kept");
    }

    #[test]
    fn awareness_is_bounded_in_size_and_rate() {
        let limits = DocLimits {
            max_awareness_bytes: 100,
            awareness_per_second: 2.0,
            awareness_burst: 3,
            ..DocLimits::default()
        };
        let mut s = DocSession::new(Doc::new(), 0, limits);
        let big = awareness_frame(42, &format!("\"{}\"", "x".repeat(99)));
        assert_eq!(
            s.receive(1, true, &big, t0()),
            Err(DocError::AwarenessTooLarge {
                size: 101,
                limit: 100
            })
        );
        let small = awareness_frame(42, r#"{"c":1}"#);
        // A burst of 3, then skipped (not relayed) until the rate refills: 2 a second.
        for _ in 0..3 {
            assert_eq!(s.receive(1, true, &small, t0()).unwrap().everyone.len(), 1);
        }
        let over = s.receive(1, true, &small, t0()).unwrap();
        assert_eq!((over.everyone.len(), over.throttled), (0, 1));
        // A connection of no known user has its own allowance.
        assert_eq!(s.receive(2, true, &small, t0()).unwrap().everyone.len(), 1);
        let later = t0() + std::time::Duration::from_millis(500);
        assert_eq!(s.receive(1, true, &small, later).unwrap().everyone.len(), 1);
        assert_eq!(s.receive(1, true, &small, later).unwrap().throttled, 1);
        // Connections of one user share theirs: a reconnect does not refill it.
        s.bind_user(10, "mallory");
        for _ in 0..3 {
            assert_eq!(s.receive(10, true, &small, t0()).unwrap().everyone.len(), 1);
        }
        s.remove_conn(10);
        s.bind_user(11, "mallory");
        assert_eq!(s.receive(11, true, &small, t0()).unwrap().throttled, 1);
        s.bind_user(12, "alice");
        assert_eq!(s.receive(12, true, &small, t0()).unwrap().everyone.len(), 1);
        // A removal always passes, so no state outlives its client.
        let gone = s
            .receive(1, true, &awareness_frame(42, "null"), later)
            .unwrap();
        assert_eq!((gone.everyone.len(), gone.throttled), (1, 0));
    }

    #[test]
    fn what_is_relayed_and_persisted_is_what_yrs_applied_not_the_client_bytes() {
        let mut s = session();
        let update = text_update(7, "hi");
        // Bytes after the update: yrs reads the update and ignores them.
        let mut padded = update.clone();
        padded.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let out = s.receive(1, true, &update_frame(&padded), t0()).unwrap();
        assert_eq!(out.updates, vec![update.clone()], "re-encoded by yrs");
        assert_eq!(out.others, vec![update_frame(&update)]);
        assert_eq!(text_of(&s), "hi");

        // An update that only partly adds something new is relayed as just the new part.
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("t");
        text.insert(&mut doc.transact_mut(), 0, "hi");
        let sv = doc.transact().state_vector();
        text.insert(&mut doc.transact_mut(), 2, " there");
        let whole = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let new_part = doc.transact().encode_state_as_update_v1(&sv);
        let out = s.receive(1, true, &update_frame(&whole), t0()).unwrap();
        assert_eq!(out.updates, vec![new_part]);
        assert_eq!(text_of(&s), "hi there");

        // An update whose dependencies are missing waits inside yrs; it goes out (and is
        // persisted) with the update that completes it.
        let mut fresh = session();
        let out = fresh
            .receive(1, true, &update_frame(&new_part_of(&doc, &sv)), t0())
            .unwrap();
        assert!(out.updates.is_empty() && out.others.is_empty());
        let out = fresh
            .receive(1, true, &update_frame(&update), t0())
            .unwrap();
        assert_eq!(out.updates.len(), 1);
        assert_eq!(text_in(&out.updates[0]), "hi there");
    }

    /// Successive edits of one editor (client 7), typing `parts` one after another at the end.
    fn typing(parts: &[&str]) -> Vec<Vec<u8>> {
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("t");
        parts
            .iter()
            .map(|p| {
                let mut txn = doc.transact_mut();
                let at = text.len(&txn);
                text.insert(&mut txn, at, p);
                txn.encode_update_v1()
            })
            .collect()
    }

    #[test]
    fn frames_received_together_are_logged_and_relayed_as_one_update() {
        let mut s = session();
        let frames: Vec<Vec<u8>> = typing(&["ab", "cd", "ef"])
            .iter()
            .map(|u| update_frame(u))
            .collect();
        let step1 = encode(&Message::Sync(SyncMessage::SyncStep1(
            StateVector::default(),
        )));
        let mut batch: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        batch.insert(1, &step1);
        let (out, refused) = s.receive_many(1, true, batch, t0());
        assert_eq!(refused, None);
        assert_eq!(text_of(&s), "abcdef");
        // One update, one frame for the others, and it carries all three edits.
        assert_eq!(out.updates.len(), 1);
        assert_eq!(out.others, vec![update_frame(&out.updates[0])]);
        assert_eq!(text_in(&out.updates[0]), "abcdef");
        // The step 1 in the middle was answered with what the document had at that point.
        assert_eq!(out.reply.len(), 1);
        let Message::Sync(SyncMessage::SyncStep2(state)) =
            Message::decode_v1(&out.reply[0]).unwrap()
        else {
            panic!("not a step 2: {:?}", out.reply[0]);
        };
        assert_eq!(text_in(&state), "ab");
    }

    #[test]
    fn a_refused_frame_ends_the_batch_and_keeps_what_came_before() {
        let mut s = session();
        let edits = typing(&["ab", "cd", "ef"]);
        let (first, last) = (update_frame(&edits[0]), update_frame(&edits[2]));
        let garbage = [0u8, 2, 200];
        let (out, refused) = s.receive_many(
            1,
            true,
            [first.as_slice(), &garbage, &update_frame(&edits[1]), &last],
            t0(),
        );
        assert!(
            matches!(refused, Some(DocError::Malformed(_))),
            "{refused:?}"
        );
        assert_eq!(out.updates, vec![edits[0].clone()]);
        assert_eq!(out.others, vec![first]);
        assert_eq!(text_of(&s), "ab");
    }

    #[test]
    fn a_single_frame_comes_out_as_receive_gives_it() {
        let (mut one, mut many) = (session(), session());
        let frame = update_frame(&text_update(7, "solo"));
        let alone = one.receive(1, true, &frame, t0()).unwrap();
        let (batched, refused) = many.receive_many(1, true, [frame.as_slice()], t0());
        assert_eq!(refused, None);
        assert_eq!(batched, alone);
    }

    fn new_part_of(doc: &Doc, since: &StateVector) -> Vec<u8> {
        doc.transact().encode_state_as_update_v1(since)
    }
}
