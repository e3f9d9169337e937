//! Group commit for domain writes: events in, admin adjustments, conversions and their
//! decisions, endorsements, skill verifications and badge awards.
//!
//! A use case hands its work (a closure over the transaction) to [`Writes::write`] and
//! waits. Each **lane** is a queue with one worker (`batch::GroupCommit`): the worker takes
//! whatever has queued up, begins one transaction, locks every user of the batch at once (one
//! order for everyone, so two lanes or two nodes never wait for each other in a cycle), reads
//! ahead what the writes declared ([`Reads`]), and applies the writes one after the other,
//! **each all or nothing on its own**: a write that fails is taken back (from the
//! transaction's buffer, or from its savepoint once it ran a statement of its own: see
//! `store::behind`) and answered with its own error, the others go on. One commit then makes
//! the whole batch durable. What the writes leave to do (notifications sent live,
//! pushes, the feed, leaderboards) is applied after that commit, in batch order, while the
//! next batch is already being written; each caller is answered once its own effects are out.
//!
//! One user's writes always go to the same lane (chosen by their first user), so they are
//! applied in the order they arrived, in the hub rather than in the database's lock queue; a
//! burst for one user becomes a few batches instead of one connection per request. How many
//! may wait for one user is bounded (see [`super::turns`]): past it, `busy`.
//!
//! When the batch as a whole fails (the database is unreachable, the commit fails), nothing of
//! it is applied and every write of it is answered with that failure (`unavailable`, to be
//! retried: events are idempotent by their id).

use super::after_commit::AfterCommit;
use super::batch::GroupCommit;
use super::effects::Effects;
use super::turns::Turns;
use crate::store::{Store, StoreError, WriteTx};
use futures_util::future::BoxFuture;
use hub_protocol::UserId;
use std::any::Any;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Most writes in one transaction, by default (`HUB_DOMAIN_GROUP_COMMIT`).
pub const DEFAULT_GROUP_COMMIT: usize = 256;

/// Lanes on Postgres, by default (`HUB_DOMAIN_LANES`); SQLite has one writer, so one lane.
pub const DEFAULT_POSTGRES_LANES: usize = 4;

/// The domain group commit's settings.
#[derive(Debug, Clone)]
pub struct WritesConfig {
    /// Queues with a worker each; `None`: one on SQLite, [`DEFAULT_POSTGRES_LANES`] on
    /// Postgres.
    pub lanes: Option<usize>,
    /// Most writes in one transaction; 0: [`DEFAULT_GROUP_COMMIT`].
    pub group_commit: usize,
    /// Writes that may wait for one user (see [`super::turns`]).
    pub user_queue: usize,
}

impl WritesConfig {
    /// The defaults (the flags of [`WritesArgs`] start from them).
    pub const DEFAULT: WritesConfig = WritesConfig {
        lanes: None,
        group_commit: DEFAULT_GROUP_COMMIT,
        user_queue: super::turns::DEFAULT_DEPTH,
    };
}

impl Default for WritesConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Flags of the domain group commit.
#[derive(Debug, Clone, clap::Args)]
pub struct WritesArgs {
    /// Requests that may wait for one user's turn (their events, wallet, endorsements, badges)
    /// before the next is refused with `busy` (1 to 1,000,000).
    #[arg(long, env = "HUB_USER_QUEUE", default_value_t = WritesConfig::DEFAULT.user_queue, value_parser = parse_user_queue)]
    pub user_queue: usize,
    /// Queues of the domain group commit (events, adjustments, conversions, endorsements,
    /// badge awards), each with one worker and one write transaction at a time; one user's
    /// writes always go to the same one. Unset: 1 on SQLite, 4 on Postgres.
    #[arg(long, env = "HUB_DOMAIN_LANES", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub domain_lanes: Option<u32>,
    /// Most domain writes committed in one transaction.
    #[arg(long, env = "HUB_DOMAIN_GROUP_COMMIT", default_value_t = WritesConfig::DEFAULT.group_commit as u32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub domain_group_commit: u32,
}

/// A queue depth: 1 to 1,000,000.
fn parse_user_queue(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a number from 1 to 1000000")),
    }
}

impl WritesArgs {
    pub fn resolve(&self) -> WritesConfig {
        WritesConfig {
            lanes: self.domain_lanes.map(|n| n as usize),
            group_commit: self.domain_group_commit as usize,
            user_queue: self.user_queue,
        }
    }
}

type Boxed = Box<dyn Any + Send>;

/// A write: applied inside the batch's transaction, its value or its own refusal boxed.
type Apply = Box<
    dyn for<'a> FnOnce(&'a mut WriteTx, &'a mut Effects) -> BoxFuture<'a, Result<Boxed, Boxed>>
        + Send,
>;

pub(super) struct Job {
    users: Vec<UserId>,
    /// The write gives its users a profile anyway: the batch makes sure of them all at once,
    /// and reads their standing (counters, XP, badges held) for all of them at once.
    profiles: bool,
    reads: Reads,
    apply: Apply,
}

/// What a write says up front it will read, so that its batch reads it for every write at
/// once (a handful of statements per batch instead of several per write). A write that reads
/// something it did not declare still works: that read goes to the database on its own.
#[derive(Debug, Default, Clone)]
pub struct Reads {
    /// Users whose wallets it locks.
    pub wallets: Vec<UserId>,
    /// Events (kind, id) it stores unless they are stored.
    pub events: Vec<(String, String)>,
    /// XP grants (user, source, ref) it makes unless they are made.
    pub xp: Vec<(UserId, &'static str, String)>,
    /// Ventures whose existence it checks.
    pub ventures: Vec<String>,
}

/// What a write's caller hears.
pub(super) enum Answer {
    /// Committed; `effects` says when what it left to do is out.
    Done {
        value: Boxed,
        effects: oneshot::Receiver<()>,
    },
    /// Refused by the write itself; taken back, nothing of it applied.
    Refused(Boxed),
    /// The batch failed as a whole; nothing of it applied.
    Failed(StoreError),
}

/// What a batch needs besides its writes.
struct Engine {
    store: Store,
    after: AfterCommit,
}

/// The lanes.
pub struct Writes {
    lanes: Vec<GroupCommit<Job, Answer>>,
    /// How many writes may wait for one user.
    turns: Arc<Turns>,
}

impl Writes {
    /// `lanes` queues (at least one), at most `group_commit` writes in a transaction (0:
    /// [`DEFAULT_GROUP_COMMIT`]), at most `user_queue` writes waiting for one user.
    pub fn new(
        store: Store,
        after: AfterCommit,
        lanes: usize,
        group_commit: usize,
        user_queue: usize,
    ) -> Writes {
        let engine = Arc::new(Engine { store, after });
        let max = if group_commit == 0 {
            DEFAULT_GROUP_COMMIT
        } else {
            group_commit
        };
        let lanes = (0..lanes.max(1))
            .map(|_| {
                let engine = engine.clone();
                // The effects of the lane's last committed batch: the next batch's effects go
                // after them, so that everyone hears of one lane's changes in commit order.
                let last_effects: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>> = Arc::default();
                GroupCommit::new(max, max.saturating_mul(4), move |jobs: Vec<Job>| {
                    let (engine, last_effects) = (engine.clone(), last_effects.clone());
                    async move {
                        crate::store::one_request(commit_batch(&engine, jobs, &last_effects)).await
                    }
                })
            })
            .collect();
        Writes {
            lanes,
            turns: Turns::new(user_queue),
        }
    }

    fn lane_of(&self, user: &UserId) -> &GroupCommit<Job, Answer> {
        let mut hasher = std::hash::DefaultHasher::new();
        user.as_str().hash(&mut hasher);
        &self.lanes[(hasher.finish() % self.lanes.len() as u64) as usize]
    }
}

/// One batch: one transaction, the reads ahead, each write all or nothing, one commit, then
/// the effects.
async fn commit_batch(
    s: &Engine,
    jobs: Vec<Job>,
    last_effects: &Mutex<Option<tokio::task::JoinHandle<()>>>,
) -> Vec<Answer> {
    let n = jobs.len();
    metrics::histogram!("hub_domain_batch_size").record(n as f64);
    let failed = |e: StoreError| -> Vec<Answer> {
        metrics::counter!("hub_domain_batches_failed_total").increment(1);
        tracing::warn!(writes = n, error = %e, "a domain batch failed; nothing of it applied");
        let mut answers: Vec<Answer> = (1..n).map(|_| Answer::Failed(e.replicate())).collect();
        answers.insert(0, Answer::Failed(e));
        answers
    };
    // Where a batch's time goes, by phase (`hub_domain_batch_seconds{phase}`).
    let mut clock = Phases::start();
    let mut w = match s.store.begin_write().await {
        Ok(w) => w,
        Err(e) => return failed(e.into()),
    };
    let mut users: Vec<&UserId> = jobs.iter().flat_map(|j| j.users.iter()).collect();
    users.sort();
    users.dedup();
    if let Err(e) = s.store.lock_users(&mut w, &users).await {
        return failed(e);
    }
    let profiled: Vec<&UserId> = jobs
        .iter()
        .filter(|j| j.profiles)
        .flat_map(|j| j.users.iter())
        .collect();
    if let Err(e) = s.store.ensure_profiles(&mut w, &profiled).await {
        return failed(e);
    }
    clock.lap("open");
    let reads: Vec<&Reads> = jobs.iter().map(|j| &j.reads).collect();
    if let Err(e) = read_ahead(s, &mut w, &reads, &profiled).await {
        return failed(e);
    }
    clock.lap("read");
    drop((users, profiled, reads));
    // Per write: its outcome, and its effects when it stands.
    let mut outcomes: Vec<(Result<Boxed, Answer>, Effects)> = Vec::with_capacity(n);
    for job in jobs {
        if let Err(e) = s.store.begin_item(&mut w).await {
            return failed(e);
        }
        let mut fx = Effects::default();
        let outcome = (job.apply)(&mut w, &mut fx).await;
        // A failure injected after the write, before it is kept, as if the
        // database had failed right there (tests only).
        let outcome = match (outcome, s.store.fault("release")) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(Answer::Failed(e)),
            (Err(refusal), _) => Err(Answer::Refused(refusal)),
        };
        let undo = outcome.is_err();
        if let Err(e) = s.store.end_item(&mut w, undo).await {
            return failed(e);
        }
        outcomes.push((outcome, if undo { Effects::default() } else { fx }));
    }
    clock.lap("apply");
    if let Err(e) = s.store.fault("commit") {
        return failed(e);
    }
    if let Err(e) = w.commit().await {
        return failed(e.into());
    }
    clock.lap("commit");
    // After the commit: the effects, in order, after the lane's previous batch's.
    let mut answers = Vec::with_capacity(n);
    let mut effects = Vec::with_capacity(n);
    for (outcome, fx) in outcomes {
        match outcome {
            Ok(value) => {
                let (done, heard) = oneshot::channel();
                effects.push((fx, done));
                answers.push(Answer::Done {
                    value,
                    effects: heard,
                });
            }
            Err(answer) => answers.push(answer),
        }
    }
    let mut last = last_effects.lock().unwrap_or_else(|e| e.into_inner());
    let before = last.take();
    let after = s.after.clone();
    *last = Some(tokio::spawn(async move {
        if let Some(before) = before {
            let _ = before.await;
        }
        after
            .apply_all(
                effects
                    .into_iter()
                    .map(|(fx, done)| (fx, Some(done)))
                    .collect(),
            )
            .await;
    }));
    answers
}

/// The time of a batch's phases: `open` (begin, the users locked, their profiles made sure
/// of), `read` (the reads ahead), `apply` (the writes, one after the other), `commit` (what
/// waited in the buffer written, the log appended, the commit).
struct Phases(std::time::Instant);

impl Phases {
    fn start() -> Phases {
        Phases(std::time::Instant::now())
    }

    fn lap(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        metrics::histogram!("hub_domain_batch_seconds", "phase" => phase)
            .record(now.duration_since(self.0).as_secs_f64());
        self.0 = now;
    }
}

/// Reads what the batch's writes declared (and the standing of the users they give a
/// profile) into the transaction, a statement per kind of row for the whole batch.
async fn read_ahead(
    s: &Engine,
    w: &mut WriteTx,
    jobs: &[&Reads],
    profiled: &[&UserId],
) -> Result<(), StoreError> {
    if !profiled.is_empty() {
        s.store.load_standing(w, profiled).await?;
        s.store.load_awarded(w, profiled).await?;
        // The badge rules every change of standing is checked against.
        s.store.badge_rows(w).await?;
    }
    let wallets: Vec<&UserId> = jobs.iter().flat_map(|j| j.wallets.iter()).collect();
    if !wallets.is_empty() {
        s.store.lock_wallets(w, &wallets).await?;
        let ids: Vec<String> = wallets.iter().filter_map(|u| w.wallet_id_of(u)).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let (hour_since, day_since) = hub_rooms::wallets::issuance_windows(w.now());
        s.store
            .load_issuance(w, &ids, hour_since, day_since)
            .await?;
    }
    let events: Vec<(&str, &str)> = jobs
        .iter()
        .flat_map(|j| j.events.iter())
        .map(|(k, i)| (k.as_str(), i.as_str()))
        .collect();
    if !events.is_empty() {
        s.store.load_events(w, &events).await?;
    }
    let xp: Vec<(&str, &str, &str)> = jobs
        .iter()
        .flat_map(|j| j.xp.iter())
        .map(|(u, s, r)| (u.as_str(), *s, r.as_str()))
        .collect();
    if !xp.is_empty() {
        s.store.load_xp(w, &xp).await?;
    }
    let ventures: Vec<&str> = jobs
        .iter()
        .flat_map(|j| j.ventures.iter())
        .map(String::as_str)
        .collect();
    if !ventures.is_empty() {
        s.store.load_ventures(w, &ventures).await?;
    }
    Ok(())
}

/// A domain write: what it does inside the batch's transaction, its value or its refusal.
pub trait WriteFn<R, E>:
    for<'a> FnOnce(&'a mut WriteTx, &'a mut Effects) -> BoxFuture<'a, Result<R, E>> + Send + 'static
{
}

impl<R, E, F> WriteFn<R, E> for F where
    F: for<'a> FnOnce(&'a mut WriteTx, &'a mut Effects) -> BoxFuture<'a, Result<R, E>>
        + Send
        + 'static
{
}

impl Writes {
    /// Runs `apply` in the next group commit of the lane of `users[0]`, after every user in
    /// `users` is locked, all or nothing on its own; answers once it is committed and its
    /// effects are out. `busy` at once when too many writes already wait for one of `users`.
    pub async fn write<R, E, F>(&self, users: &[&UserId], apply: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: WriteFn<R, E>,
    {
        self.submit(users, false, Reads::default(), apply).await
    }

    /// [`Writes::write`] for a write that gives each of `users` a profile (user, profile and
    /// stats rows) anyway: the batch makes sure of them all at once, before its first write.
    pub async fn write_profiled<R, E, F>(&self, users: &[&UserId], apply: F) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: WriteFn<R, E>,
    {
        self.submit(users, true, Reads::default(), apply).await
    }

    /// [`Writes::write_profiled`] for a write that declares what it will read (see
    /// [`Reads`]).
    pub async fn write_reading<R, E, F>(
        &self,
        users: &[&UserId],
        reads: Reads,
        apply: F,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: WriteFn<R, E>,
    {
        self.submit(users, true, reads, apply).await
    }

    async fn submit<R, E, F>(
        &self,
        users: &[&UserId],
        profiles: bool,
        reads: Reads,
        apply: F,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: WriteFn<R, E>,
    {
        let Some(first) = users.first() else {
            return Err(StoreError::Invalid("a write names no user".into()).into());
        };
        let keys: Vec<&str> = users.iter().map(|u| u.as_str()).collect();
        let _turn = self
            .turns
            .enter(&keys)
            .map_err(|busy| StoreError::Busy(busy.to_string()))?;
        let job = Job {
            users: users.iter().map(|u| (*u).clone()).collect(),
            profiles,
            reads,
            apply: Box::new(move |w, fx| {
                Box::pin(async move {
                    match apply(w, fx).await {
                        Ok(value) => Ok(Box::new(value) as Boxed),
                        Err(refusal) => Err(Box::new(refusal) as Boxed),
                    }
                })
            }),
        };
        let lost = || {
            StoreError::Db(sqlx::Error::Protocol(
                "a domain write lost its answer".into(),
            ))
        };
        match self.lane_of(first).submit(job).await {
            Ok(Answer::Done { value, effects }) => {
                let _ = effects.await;
                value.downcast::<R>().map(|v| *v).map_err(|_| lost().into())
            }
            Ok(Answer::Refused(refusal)) => Err(refusal
                .downcast::<E>()
                .map(|e| *e)
                .unwrap_or_else(|_| lost().into())),
            Ok(Answer::Failed(e)) => Err(e.into()),
            Err(_stopped) => Err(StoreError::Db(sqlx::Error::PoolClosed).into()),
        }
    }
}
