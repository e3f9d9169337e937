//! A collaborative document session, sans IO: y-protocols frames in, what to send where out.
//!
//! One [`DocSession`] per loaded document holds the yrs `Awareness` (and so the `Doc`). Each
//! connection is identified by a [`ConnKey`]; [`DocSession::receive`] takes one frame from a
//! connection and returns an [`Outcome`]: the replies for that connection, the frames for the
//! others, and the update to persist. Read-only connections have their document changes refused
//! and counted; their awareness still shows. The awareness states a connection introduced are
//! removed when it leaves ([`DocSession::remove_conn`]): yrs has no timeout sweep of its own.
//!
//! Wire: a frame is `varUint(type)` + payload; sync = 0 (step 1 = 0, step 2 = 1, update = 2),
//! awareness = 1, auth = 2, query awareness = 3. A frame may hold several messages.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
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
}

/// Limits on what a connection may send.
#[derive(Debug, Clone, Copy)]
pub struct DocLimits {
    /// Largest update in one message.
    pub max_update_bytes: usize,
    /// Largest document, counted as the bytes of the updates it is made of.
    pub max_doc_bytes: usize,
}

impl Default for DocLimits {
    fn default() -> Self {
        DocLimits {
            max_update_bytes: 1024 * 1024,
            max_doc_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What receiving a frame produced.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// Frames for the connection that sent the frame.
    pub reply: Vec<Vec<u8>>,
    /// Frames for every other connection.
    pub others: Vec<Vec<u8>>,
    /// Frames for every connection, the sender included (awareness is echoed).
    pub everyone: Vec<Vec<u8>>,
    /// Document updates applied, to persist (v1 encoding), in order.
    pub updates: Vec<Vec<u8>>,
    /// Document changes refused because the connection is read-only.
    pub refused: usize,
}

pub fn encode(message: &Message) -> Vec<u8> {
    message.encode_v1()
}

/// An update frame (`[0, 2, update]`) for `update`.
pub fn update_frame(update: &[u8]) -> Vec<u8> {
    encode(&Message::Sync(SyncMessage::Update(update.to_vec())))
}

pub struct DocSession {
    awareness: Awareness,
    /// Awareness client ids each connection introduced.
    clients: HashMap<ConnKey, HashSet<u64>>,
    limits: DocLimits,
    /// Bytes of the updates the document is made of (an estimate of its size).
    size: usize,
}

impl DocSession {
    /// A session over `doc`, whose persisted form is `size` bytes.
    pub fn new(doc: Doc, size: usize, limits: DocLimits) -> Self {
        DocSession {
            awareness: Awareness::new(doc),
            clients: HashMap::new(),
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

    /// Handles one frame from `conn`.
    pub fn receive(
        &mut self,
        conn: ConnKey,
        can_write: bool,
        frame: &[u8],
    ) -> Result<Outcome, DocError> {
        let messages: Vec<Message> = guard(|| {
            let mut decoder = DecoderV1::new(Cursor::new(frame));
            MessageReader::new(&mut decoder)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DocError::Malformed(e.to_string()))
        })?;
        if messages.is_empty() {
            return Err(DocError::Malformed("empty frame".into()));
        }
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
                        // A read-only peer's step 2 is normally empty: only real changes count.
                        if !decode_update(&update)?.is_empty() {
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

    /// Applies an update that does not come from a connection (a server-side tool, or another
    /// node). Returns it if it changed anything.
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
        guard(|| {
            let mut txn = doc.transact_mut();
            txn.apply_update(decoded)
                .map_err(|e| DocError::Malformed(e.to_string()))
        })?;
        self.size += update.len();
        Ok(Some(update.to_vec()))
    }

    /// Applies awareness states received from another node (no connection of ours owns them).
    pub fn apply_remote_awareness(&mut self, frame: &[u8]) -> Result<(), DocError> {
        let message =
            guard(|| Message::decode_v1(frame).map_err(|e| DocError::Malformed(e.to_string())))?;
        if let Message::Awareness(update) = message {
            guard(|| {
                self.awareness
                    .apply_update(update)
                    .map_err(|e| DocError::Malformed(e.to_string()))
            })?;
        }
        Ok(())
    }

    fn apply_awareness(&mut self, conn: ConnKey, update: &AwarenessUpdate) -> Result<(), DocError> {
        let ids = self.clients.entry(conn).or_default();
        for (id, entry) in &update.clients {
            if entry.json.as_ref() == "null" {
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
        let ids = self.clients.remove(&conn)?;
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

fn decode_update(bytes: &[u8]) -> Result<Update, DocError> {
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

    fn session() -> DocSession {
        DocSession::new(Doc::new(), 0, DocLimits::default())
    }

    fn text_of(s: &DocSession) -> String {
        let text = s.doc().get_or_insert_text("t");
        text.get_string(&s.doc().transact())
    }

    #[test]
    fn step1_is_answered_with_what_the_peer_lacks() {
        let mut s = session();
        s.receive(1, true, &update_frame(&text_update(7, "hello")))
            .unwrap();
        let step1 = encode(&Message::Sync(SyncMessage::SyncStep1(
            StateVector::default(),
        )));
        let out = s.receive(2, true, &step1).unwrap();
        assert_eq!(out.reply.len(), 1);
        let Message::Sync(SyncMessage::SyncStep2(update)) =
            Message::decode_v1(&out.reply[0]).unwrap()
        else {
            panic!("expected step 2")
        };
        let (peer, _) = DocSession::load(None, [update.as_slice()]).unwrap();
        assert_eq!(
            peer.get_or_insert_text("t").get_string(&peer.transact()),
            "hello"
        );
    }

    #[test]
    fn writers_updates_are_relayed_and_persisted() {
        let mut s = session();
        let update = text_update(7, "hi");
        let out = s.receive(1, true, &update_frame(&update)).unwrap();
        assert_eq!(out.updates, vec![update.clone()]);
        assert_eq!(out.others, vec![update_frame(&update)]);
        assert!(out.reply.is_empty() && out.everyone.is_empty());
        assert_eq!(text_of(&s), "hi");
        // The same update again changes nothing but is harmless.
        let again = s.receive(1, true, &update_frame(&update)).unwrap();
        assert_eq!(text_of(&s), "hi");
        assert_eq!(again.refused, 0);
    }

    #[test]
    fn readers_changes_are_refused_and_counted() {
        let mut s = session();
        let out = s
            .receive(1, false, &update_frame(&text_update(7, "nope")))
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
        let out = s.receive(9, false, &frame).unwrap();
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
        s.receive(1, true, &update_frame(&text_update(7, "keep")))
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
            assert!(s.receive(1, true, garbage).is_err(), "{garbage:?}");
        }
        assert!(matches!(
            s.receive(1, true, &[7, 0]),
            Err(DocError::Unsupported(7)) | Err(DocError::Malformed(_))
        ));
        let mut small = DocSession::new(
            Doc::new(),
            0,
            DocLimits {
                max_update_bytes: 8,
                max_doc_bytes: 1024,
            },
        );
        let big = text_update(7, "this is longer than eight bytes");
        assert!(matches!(
            small.receive(1, true, &update_frame(&big)),
            Err(DocError::UpdateTooLarge { .. })
        ));
        let mut tiny = DocSession::new(
            Doc::new(),
            0,
            DocLimits {
                max_update_bytes: 1024,
                max_doc_bytes: 10,
            },
        );
        assert!(matches!(
            tiny.receive(1, true, &update_frame(&big)),
            Err(DocError::DocTooLarge { .. })
        ));
        assert_eq!(text_of(&s), "keep");
    }

    #[test]
    fn a_document_loads_from_snapshot_and_updates() {
        let mut s = session();
        s.receive(1, true, &update_frame(&text_update(7, "abc")))
            .unwrap();
        let snapshot = s.state();
        let later = text_update(8, "xyz");
        let (doc, size) = DocSession::load(Some(&snapshot), [later.as_slice()]).unwrap();
        let text = doc.get_or_insert_text("t").get_string(&doc.transact());
        assert!(text.contains("abc") && text.contains("xyz"), "{text}");
        assert_eq!(size, snapshot.len() + later.len());
    }
}
