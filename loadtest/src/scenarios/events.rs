//! `events` (hub only): the domain write path. Posts `POST /api/v1/events/task/accepted` as a
//! `system` caller, spread over `--users` users (1: one hot user), with `--in-flight` requests
//! at once (as many as `--events` for a burst), while a bystander reads `GET /api/v1/me` in a
//! loop. Reports events per second, latency percentiles, answers by status, the bystander's
//! read latency during the run, and checks after it that every user's balance is what the
//! events credited and that their ledger verifies.
//!
//! Every event credits BUZ only when the hub's issuance gates let it (KYC, reputation, hourly
//! and daily caps): `loadtest/bench.sh ledger` starts the hub with them relaxed.

use super::Ctx;
use crate::stats::{Latency, Recorder};
use clap::Args;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Users the events are spread over (1: every event for one hot user).
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Events to post in all.
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Requests in flight at once (set it to --events for a burst: all at once).
    #[arg(long, default_value_t = 64)]
    pub in_flight: usize,
    /// Check every user's balance and ledger after the run (one read per user).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub verify: bool,
    /// BUZ each event credits when the gates let it (tier C at quality 1.0, trust 100: 50).
    #[arg(long, default_value_t = 50)]
    pub buz_each: i64,
}

#[derive(Debug, Serialize)]
pub struct EventsSummary {
    pub events: usize,
    pub users: usize,
    pub in_flight: usize,
    pub seconds: f64,
    pub events_per_second: f64,
    pub latency: Latency,
    /// Answers by HTTP status (and `error` for requests that got none).
    pub statuses: BTreeMap<String, usize>,
    pub bystander: Bystander,
    /// After the run: users whose balance is not `buz_each` × their created events, or whose
    /// ledger does not verify (`null` when not checked).
    pub wrong_wallets: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct Bystander {
    pub latency: Latency,
    pub statuses: BTreeMap<String, usize>,
}

fn user_of(run: &str, i: usize) -> String {
    format!("ev-{run}-u{i}")
}

pub async fn run(ctx: &Ctx, args: &EventsArgs) -> anyhow::Result<EventsSummary> {
    anyhow::ensure!(ctx.is_hub, "the events scenario needs the hub (--peer hub)");
    anyhow::ensure!(
        args.users >= 1 && args.events >= 1,
        "--users and --events must be 1 or more"
    );
    let in_flight = args.in_flight.clamp(1, args.events);
    // One run's users and event ids are its own: a rerun on the same hub credits anew.
    let run = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(in_flight + 1)
        .build()?;
    let system = ctx.tokens.mint("loadtest-platform", "system");
    let url = format!("{}/api/v1/events/task/accepted", ctx.base);

    // The bystander reads its own profile in a loop until the writers are done.
    let done = Arc::new(AtomicBool::new(false));
    let reads = Recorder::new();
    let bystander = {
        let (http, done, reads) = (http.clone(), done.clone(), reads.clone());
        let token = ctx.tokens.mint(&format!("ev-{run}-bystander"), "user");
        let url = format!("{}/api/v1/me", ctx.base);
        tokio::spawn(async move {
            let mut statuses = BTreeMap::new();
            while !done.load(Ordering::Acquire) {
                let started = Instant::now();
                let status = match http.get(&url).bearer_auth(&token).send().await {
                    Ok(r) => {
                        let s = r.status().as_u16().to_string();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => "error".to_owned(),
                };
                reads.record(0, started.elapsed().as_micros() as u64);
                *statuses.entry(status).or_insert(0usize) += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            statuses
        })
    };

    let latency = Recorder::new();
    let next = Arc::new(AtomicUsize::new(0));
    let bar = ctx.bar(args.events as u64, "events");
    let started = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|slot| {
            let (http, system, url, next, latency, bar, run) = (
                http.clone(),
                system.clone(),
                url.clone(),
                next.clone(),
                latency.clone(),
                bar.clone(),
                run.clone(),
            );
            let (users, total) = (args.users, args.events);
            tokio::spawn(async move {
                let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
                // Events this worker saw created, by user index.
                let mut created: BTreeMap<usize, i64> = BTreeMap::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let user = i % users;
                    let body = json!({
                        "task_id": format!("ev-{run}-{i}"),
                        "user_id": user_of(&run, user),
                        "tier": "C",
                        "quality": 1.0,
                        "reviewer_trust": 100,
                    });
                    let sent = Instant::now();
                    let status = match http
                        .post(&url)
                        .bearer_auth(&system)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) => {
                            let s = r.status().as_u16();
                            let _ = r.bytes().await;
                            if s == 201 {
                                *created.entry(user).or_insert(0) += 1;
                            }
                            s.to_string()
                        }
                        Err(_) => "error".to_owned(),
                    };
                    latency.record(slot, sent.elapsed().as_micros() as u64);
                    *statuses.entry(status).or_insert(0) += 1;
                    bar.inc(1);
                }
                (statuses, created)
            })
        })
        .collect();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut created: BTreeMap<usize, i64> = BTreeMap::new();
    for w in workers {
        let (s, c) = w.await?;
        for (k, n) in s {
            *statuses.entry(k).or_insert(0) += n;
        }
        for (u, n) in c {
            *created.entry(u).or_insert(0) += n;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    bar.finish();
    done.store(true, Ordering::Release);
    let bystander_statuses = bystander.await?;

    let wrong_wallets = if args.verify {
        let mut wrong = 0;
        for (user, n) in &created {
            let token = ctx.tokens.mint(&user_of(&run, *user), "user");
            let wallet: serde_json::Value = http
                .get(format!("{}/api/v1/wallet/me", ctx.base))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            let verify: serde_json::Value = http
                .get(format!("{}/api/v1/wallet/me/verify", ctx.base))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            if wallet["buz_balance"].as_i64() != Some(n * args.buz_each) || verify["ok"] != true {
                wrong += 1;
            }
        }
        Some(wrong)
    } else {
        None
    };

    Ok(EventsSummary {
        events: args.events,
        users: args.users,
        in_flight,
        seconds: (seconds * 100.0).round() / 100.0,
        events_per_second: (args.events as f64 / seconds).round(),
        latency: Latency::of(&latency.merged()),
        statuses,
        bystander: Bystander {
            latency: Latency::of(&reads.merged()),
            statuses: bystander_statuses,
        },
        wrong_wallets,
    })
}
