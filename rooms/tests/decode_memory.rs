//! What a client frame may cost to decode: the peak of heap bytes allocated while a document
//! session receives it, measured by a counting allocator, is bounded by a small multiple of the
//! frame's size, whatever its counts say (hand-made bombs, and random corruptions of real
//! frames).

use hub_rooms::doc::{DocLimits, DocSession};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Text, Transact};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Tests measure one at a time.
static ONE: Mutex<()> = Mutex::new(());

/// Bytes a frame may cost beyond its own size: the decoded messages, the relayed copy and a
/// fixed part for the session's own bookkeeping.
const PER_BYTE: usize = 64;
const FIXED: usize = 64 * 1024;

/// Peak heap growth while `session` receives `frame` from a writer, or a viewer.
fn peak_of(session: &mut DocSession, frame: &[u8], can_write: bool) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let _ = session.receive(1, can_write, frame, Instant::now());
    PEAK.load(Ordering::Relaxed) - before
}

fn varu(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// `[0, 2, len, update]`: an update message around `update`.
fn update_frame(update: &[u8]) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update.to_vec())).encode_v1()
}

/// The frames that made yrs reserve gigabytes: 500 bytes each, whose counts say `big`.
fn bombs_of(big: u64) -> Vec<Vec<u8>> {
    let mut clients = Vec::new();
    varu(big, &mut clients);
    clients.resize(490, 0);
    let mut blocks = vec![1];
    varu(big, &mut blocks);
    blocks.extend([5, 0]);
    blocks.resize(490, 0);
    let mut any = vec![1, 1, 5, 0, 8, 1, 1, b't', 1, 117];
    varu(big, &mut any);
    any.resize(490, 0);
    let mut sv = vec![0, 0];
    let mut body = Vec::new();
    varu(big, &mut body);
    body.resize(480, 0);
    varu(body.len() as u64, &mut sv);
    sv.extend(&body);
    let mut awareness = vec![1];
    varu(body.len() as u64, &mut awareness);
    awareness.extend(&body);
    vec![
        update_frame(&clients),
        update_frame(&blocks),
        update_frame(&any),
        sv,
        awareness,
    ]
}

/// Bombs at counts from a million to four billion (the largest reservations fail at once; the
/// middle ones are the gigabytes).
fn bombs() -> Vec<Vec<u8>> {
    [1 << 20, 1 << 24, 1 << 26, 1 << 28, u32::MAX as u64]
        .into_iter()
        .flat_map(bombs_of)
        .collect()
}

fn session() -> DocSession {
    DocSession::new(Doc::new(), 0, DocLimits::default())
}

#[test]
fn a_frame_that_claims_billions_of_entries_costs_a_small_multiple_of_its_size() {
    let _one = ONE.lock().unwrap();
    let mut s = session();
    for frame in bombs() {
        for can_write in [true, false] {
            let peak = peak_of(&mut s, &frame, can_write);
            assert!(
                peak <= PER_BYTE * frame.len() + FIXED,
                "{} bytes cost {peak} bytes (writer: {can_write})",
                frame.len()
            );
        }
    }
}

#[test]
fn a_viewers_update_is_refused_unread() {
    let _one = ONE.lock().unwrap();
    let mut s = session();
    let doc = Doc::with_client_id(9);
    let text = doc.get_or_insert_text("body");
    text.insert(&mut doc.transact_mut(), 0, "not yours");
    let update = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let out = s
        .receive(1, false, &update_frame(&update), Instant::now())
        .unwrap();
    assert_eq!(out.refused, 1);
    assert!(out.updates.is_empty());
    // The bomb is counted as refused too, without being read: no error, nothing applied.
    let out = s.receive(1, false, &bombs()[0], Instant::now()).unwrap();
    assert_eq!(out.refused, 1);
}

fn real_frame() -> Vec<u8> {
    let doc = Doc::with_client_id(42);
    let text = doc.get_or_insert_text("body");
    let mut txn = doc.transact_mut();
    text.insert(&mut txn, 0, "the quick brown fox jumps over the lazy dog");
    text.remove_range(&mut txn, 4, 6);
    drop(txn);
    update_frame(
        &doc.transact()
            .encode_state_as_update_v1(&StateVector::default()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Random corruptions of a real frame (bytes replaced by large varints) never cost more
    /// than the bound.
    #[test]
    fn corrupted_frames_stay_within_the_bound(
        edits in proptest::collection::vec((0usize..200, proptest::num::u64::ANY), 1..4)
    ) {
        let _one = ONE.lock().unwrap();
        let mut frame = real_frame();
        for (at, value) in edits {
            let at = at % frame.len();
            let mut v = Vec::new();
            varu(value >> (value % 40), &mut v);
            frame.splice(at..(at + 1).min(frame.len()), v);
        }
        let mut s = session();
        let peak = peak_of(&mut s, &frame, true);
        prop_assert!(peak <= PER_BYTE * frame.len() + FIXED, "{} bytes cost {}", frame.len(), peak);
    }
}
