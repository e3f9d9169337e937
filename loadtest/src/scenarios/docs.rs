//! `docs`: E editors on each of D documents over `/yjs`, each typing at a rate. Every insertion
//! carries its send time (`@<micros>#`); editors record how long others' edits took to arrive
//! (a frame may bring several: the hub merges what one editor sent together), apply everything
//! to their own yrs replica, and at the end all replicas of a document must be equal. With
//! `--appliers N` only N editors per document apply and are compared; the others read, time and
//! count, so that one generator core can offer more than it could replay.

use crate::stats::{Latency, Recorder, micros_now};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use hub_protocol::docs::{CreateDoc, DocInfo};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

#[derive(Debug, Clone, Args)]
pub struct DocsArgs {
    /// Documents.
    #[arg(long, default_value_t = 10)]
    pub docs: usize,
    /// Editors per document.
    #[arg(long, default_value_t = 20)]
    pub editors: usize,
    /// Insertions per second per editor.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// Seconds of typing.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds to let the last edits arrive.
    #[arg(long, default_value_t = 3)]
    pub drain: u64,
    /// Editors per document that apply what they receive and are compared at the end (0: all).
    #[arg(long, default_value_t = 0)]
    pub appliers: usize,
}

#[derive(Debug, Serialize)]
pub struct DocsSummary {
    pub documents: usize,
    pub editors: usize,
    pub updates_sent: u64,
    /// Insertions that reached an editor (one per other editor and update when nothing is lost).
    pub updates_received: u64,
    /// The update frames that brought them.
    pub frames_received: u64,
    /// `updates_received` per second.
    pub received_per_second: f64,
    /// Documents whose applying editors all ended with the same text.
    pub converged_documents: usize,
    /// Editors per document that applied and were compared.
    pub appliers: usize,
    pub latency: Latency,
}

fn var_uint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// `[0, kind, len, bytes]`: a y-sync message.
fn sync_frame(kind: u8, bytes: &[u8]) -> Vec<u8> {
    let mut f = vec![0, kind];
    var_uint(bytes.len(), &mut f);
    f.extend_from_slice(bytes);
    f
}

/// Reads `[0, kind, len, bytes]`.
fn parse_sync(frame: &[u8]) -> Option<(u8, &[u8])> {
    if frame.len() < 3 || frame[0] != 0 {
        return None;
    }
    let (mut len, mut shift, mut i) = (0usize, 0, 2);
    loop {
        let b = *frame.get(i)?;
        len |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    Some((frame[1], frame.get(i..i + len)?))
}

/// Send times (`@<micros>#`) found in an update.
fn stamps(update: &[u8]) -> impl Iterator<Item = u64> + '_ {
    update.split(|b| *b == b'@').skip(1).filter_map(|chunk| {
        let end = chunk.iter().position(|b| *b == b'#')?;
        std::str::from_utf8(&chunk[..end]).ok()?.parse().ok()
    })
}

/// The hub's documents for the run: one room of all the editors, `--docs` documents in it.
async fn hub_docs(
    ctx: &super::Ctx,
    args: &DocsArgs,
    editor: impl Fn(usize) -> String,
) -> anyhow::Result<Vec<String>> {
    let rooms = crate::setup::hub_rooms(&ctx.base, &ctx.tokens, 1, |_| {
        (0..args.editors).map(&editor).collect()
    })
    .await?;
    let http = reqwest::Client::new();
    let admin = ctx.tokens.mint("loadtest-admin", "admin");
    let mut doc_ids = Vec::new();
    for d in 0..args.docs {
        let create = CreateDoc {
            room: rooms[0].as_str().into(),
            title: format!("loadtest doc {d}"),
        };
        let resp = http
            .post(format!("{}/api/v1/docs", ctx.base))
            .bearer_auth(&admin)
            .json(&create)
            .send()
            .await?;
        let status = resp.status();
        let doc: DocInfo = match resp.json().await {
            Ok(doc) if status.is_success() => doc,
            _ => anyhow::bail!("document not created: {status}"),
        };
        doc_ids.push(doc.id.to_string());
    }
    Ok(doc_ids)
}

pub async fn run(ctx: &super::Ctx, args: &DocsArgs) -> anyhow::Result<DocsSummary> {
    anyhow::ensure!(
        ctx.is_hub || ctx.is_y_websocket,
        "the docs scenario needs the hub or @y/websocket-server (--peer y-websocket)"
    );
    let editor = |i: usize| format!("lt-doc-{i}");
    let doc_ids: Vec<String> = if ctx.is_hub {
        hub_docs(ctx, args, editor).await?
    } else {
        // The stock server makes a document of any name it is asked for.
        let run = micros_now();
        (0..args.docs).map(|d| format!("lt-{run}-{d}")).collect()
    };
    let recorder = Recorder::new();
    let (sent, received, frames) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let appliers = match args.appliers {
        0 => args.editors,
        n => n.min(args.editors),
    };
    let bar = ctx.bar((args.docs * args.editors) as u64, "editors");
    // Typing starts when every editor is connected, so every edit is relayed to all the others.
    let everyone = Arc::new(tokio::sync::Barrier::new(args.docs * args.editors + 1));
    let mut tasks = Vec::new();
    for (d, doc_id) in doc_ids.iter().enumerate() {
        for e in 0..args.editors {
            let url = if ctx.is_hub {
                format!(
                    "ws://{}/yjs/{doc_id}?token={}",
                    ctx.addr_for(e),
                    ctx.tokens.mint(&editor(e), "user")
                )
            } else {
                format!("ws://{}/{doc_id}", ctx.addr_for(e))
            };
            let config = WebSocketConfig::default().read_buffer_size(4096);
            let (ws, _) =
                tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
            bar.inc(1);
            let (rec, sent, received, frames, slot) = (
                recorder.clone(),
                sent.clone(),
                received.clone(),
                frames.clone(),
                d * args.editors + e,
            );
            let applies = e < appliers;
            let (rate, duration, drain) = (
                args.rate,
                Duration::from_secs(args.duration),
                Duration::from_secs(args.drain),
            );
            let everyone = everyone.clone();
            tasks.push(tokio::spawn(async move {
                let replica = Doc::with_client_id(1 + slot as u64);
                let text = replica.get_or_insert_text("t");
                let (mut write, mut read) = ws.split();
                // As stock clients do: ask for what the server has.
                let sv = replica.transact().state_vector().encode_v1();
                let _ = write.send(Message::binary(sync_frame(0, &sv))).await;
                everyone.wait().await;
                let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.01)));
                let typing_until = tokio::time::Instant::now() + duration;
                let end = typing_until + drain;
                loop {
                    tokio::select! {
                        _ = tick.tick(), if tokio::time::Instant::now() < typing_until => {
                            let update = {
                                let mut txn = replica.transact_mut();
                                let at = text.len(&txn);
                                text.insert(&mut txn, at, &format!("@{}#", micros_now()));
                                txn.encode_update_v1()
                            };
                            if write.send(Message::binary(sync_frame(2, &update))).await.is_err() { break; }
                            sent.fetch_add(1, Ordering::Relaxed);
                        }
                        frame = read.next() => {
                            let Some(Ok(Message::Binary(frame))) = frame else { break };
                            let Some((kind, body)) = parse_sync(&frame) else { continue };
                            match kind {
                                0 => {
                                    // The server's step 1: answer with what it lacks.
                                    let sv = StateVector::decode_v1(body).unwrap_or_default();
                                    let diff = replica.transact().encode_state_as_update_v1(&sv);
                                    let _ = write.send(Message::binary(sync_frame(1, &diff))).await;
                                }
                                1 | 2 => {
                                    if kind == 2 {
                                        let now = micros_now();
                                        let mut n = 0;
                                        for t in stamps(body) {
                                            rec.record(slot, now.saturating_sub(t));
                                            n += 1;
                                        }
                                        received.fetch_add(n, Ordering::Relaxed);
                                        frames.fetch_add(1, Ordering::Relaxed);
                                    }
                                    if applies && let Ok(u) = Update::decode_v1(body) {
                                        let _ = replica.transact_mut().apply_update(u);
                                    }
                                }
                                _ => {}
                            }
                        }
                        _ = tokio::time::sleep_until(end) => break,
                    }
                }
                let _ = write.close().await;
                (d, applies.then(|| text.get_string(&replica.transact())))
            }));
        }
    }
    bar.finish();
    everyone.wait().await;
    let start = Instant::now();
    let mut texts: Vec<Vec<String>> = vec![Vec::new(); args.docs];
    for t in tasks {
        if let Ok((d, Some(text))) = t.await {
            texts[d].push(text);
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let converged = texts
        .iter()
        .filter(|t| t.len() == appliers && t.windows(2).all(|w| w[0] == w[1]))
        .count();
    Ok(DocsSummary {
        documents: args.docs,
        editors: args.editors,
        updates_sent: sent.load(Ordering::Relaxed),
        updates_received: received.load(Ordering::Relaxed),
        frames_received: frames.load(Ordering::Relaxed),
        received_per_second: received.load(Ordering::Relaxed) as f64 / secs,
        converged_documents: converged,
        appliers,
        latency: Latency::of(&recorder.merged()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_stamps_round_trip() {
        let body = vec![7u8; 300];
        let frame = sync_frame(2, &body);
        assert_eq!(parse_sync(&frame), Some((2, body.as_slice())));
        let stamped = b"xx@123#yy@456#zz@bad#";
        assert_eq!(stamps(stamped).collect::<Vec<_>>(), vec![123, 456]);
    }
}
