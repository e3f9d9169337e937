//! Property tests over the y-sync and awareness decoders: whatever bytes a connection sends,
//! the session answers with a clear error or an outcome, never a panic, and a refused frame
//! leaves the document as it was.

use hub_rooms::doc::{DocLimits, DocSession, awareness_frame, update_frame};
use proptest::prelude::*;
use std::time::Instant;
use yrs::encoding::write::Write;
use yrs::{Doc, ReadTxn, StateVector, Text, Transact};

fn base() -> (DocSession, Vec<u8>) {
    let doc = Doc::with_client_id(1);
    let text = doc.get_or_insert_text("t");
    text.insert(&mut doc.transact_mut(), 0, "base text");
    let state = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let (loaded, size) = DocSession::load(None, [state.as_slice()]).unwrap();
    (DocSession::new(loaded, size, DocLimits::default()), state)
}

/// Valid frames of every kind, to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let other = Doc::with_client_id(9);
    let text = other.get_or_insert_text("t");
    text.insert(&mut other.transact_mut(), 0, "more");
    let update = other
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let awareness = awareness_frame(42, r#"{"user":{"name":"a"}}"#);
    vec![
        vec![0, 0, 0],
        update_frame(&update),
        {
            let mut step2 = vec![0, 1];
            step2.write_buf(&update);
            step2
        },
        awareness,
        vec![3],
    ]
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..seeds().len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(seed, flips, cut, truncate)| {
            let mut frame = seeds()[seed].clone();
            for (at, byte) in flips {
                let i = at.index(frame.len());
                frame[i] = byte;
            }
            if truncate {
                frame.truncate(cut.index(frame.len() + 1));
            }
            frame
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_a_refusal_changes_nothing(
        frame in prop::collection::vec(any::<u8>(), 0..256),
        can_write in any::<bool>(),
    ) {
        let (mut s, before) = base();
        if s.receive(1, can_write, &frame, Instant::now()).is_err() {
            prop_assert_eq!(s.state(), before);
        }
        let _ = s.apply_remote_awareness(&frame);
        let _ = s.apply(&frame);
    }

    #[test]
    fn mutated_valid_frames_never_panic_and_a_refusal_changes_nothing(
        frame in mutated(),
        can_write in any::<bool>(),
    ) {
        let (mut s, before) = base();
        match s.receive(1, can_write, &frame, Instant::now()) {
            Err(_) => prop_assert_eq!(s.state(), before),
            Ok(out) => {
                // Whatever is relayed decodes again: it is what yrs applied.
                for update in &out.updates {
                    prop_assert!(DocSession::load(None, [update.as_slice()]).is_ok());
                }
                if !can_write {
                    prop_assert!(out.updates.is_empty());
                }
            }
        }
        let _ = s.remove_conn(1);
    }

    #[test]
    fn a_frame_of_several_messages_is_applied_whole_or_not_at_all(
        first in mutated(),
        second in mutated(),
    ) {
        let (mut s, before) = base();
        // Each mutated seed is one message (or garbage); two make a frame of two.
        let mut frame = first.clone();
        frame.extend_from_slice(&second);
        if s.receive(1, true, &frame, Instant::now()).is_err() {
            prop_assert_eq!(s.state(), before);
        }
    }
}
