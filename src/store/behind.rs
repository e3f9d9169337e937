//! Write-behind inside a write transaction.
//!
//! A domain write mostly appends: audit and ledger entries, notifications, the event itself,
//! XP grants, badge awards, withheld BUZ, counters bumped. None of those rows is read back by
//! the write that made them, and what the next writes of the same transaction need to know
//! (chain heads, wallet balances, XP, counters, what exists) is kept in [`Known`]. So the rows
//! wait here, in memory, and reach the database together: one multi-row statement per table,
//! and one statement per table for the rows they move (heads, wallets, profiles, counters),
//! whatever the number of writes in the batch.
//!
//! The rule that keeps this invisible: **every statement the transaction runs goes through
//! [`WriteTx::conn`], which first writes whatever waits here.** A query therefore always sees
//! every row written before it, whoever wrote it, and nothing in the store can read around
//! the buffer. [`WriteTx::commit`] writes the rest before it commits.
//!
//! A write of a group commit is an *item* ([`WriteTx::open_item`]): its rows can be taken back
//! alone. While the item only appends and reads what [`Known`] holds, taking it back is
//! dropping its rows from the buffer and undoing what it taught [`Known`] (a journal). Only
//! when it runs a statement of its own does the item get a real savepoint (`SAVEPOINT
//! hub_write`, taken after the rows of the writes before it are written), so that the
//! database can take it back too.

use super::auditlog::{self, Kind, Logged};
use super::json_rows::{encode, insert_sql, update_sql};
use super::{Backend, Edge, Known, WriteHeld};
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::{Any, AnyConnection, Transaction};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::OwnedMutexGuard;

#[derive(Serialize)]
pub(super) struct AuditRow {
    pub id: String,
    pub scope: String,
    pub seq: i64,
    pub ref_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: String,
    /// Canonical JSON.
    pub details: String,
    pub created_at: i64,
    pub prev_hash: Option<String>,
    pub hash: String,
}

pub(super) struct LedgerRow {
    pub entry: hub_rooms::wallets::Entry,
    /// The wallet's pending lock after the entry (the wallet row keeps it; the entry does not).
    pub pending_after: i64,
}

#[derive(Serialize)]
pub(super) struct EventRow {
    pub kind: String,
    pub id: String,
    pub user_id: String,
    pub body: String,
    pub received_by: String,
    pub received_at: i64,
}

#[derive(Serialize)]
pub(super) struct XpRow {
    pub id: String,
    pub user_id: String,
    pub source: String,
    pub ref_id: String,
    pub amount: i64,
    pub created_at: i64,
    /// The profile's XP and level once this grant is counted.
    #[serde(skip)]
    pub xp_after: i64,
    #[serde(skip)]
    pub level_after: i64,
}

pub(super) struct StatRow {
    pub user: String,
    pub column: &'static str,
    pub by: i64,
}

#[derive(Serialize)]
pub(super) struct WithheldRow {
    pub id: String,
    pub task_id: String,
    pub user_id: String,
    pub amount: i64,
    pub reason: String,
    pub created_at: i64,
}

#[derive(Serialize)]
pub(super) struct AwardRow {
    pub user_id: String,
    pub code: String,
    pub reason: String,
    pub awarded_by: Option<String>,
    pub awarded_at: i64,
}

#[derive(Serialize)]
pub(super) struct NoteRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub data: String,
    pub created_at: i64,
}

/// Rows written but not yet sent, in the order they were written.
#[derive(Default)]
pub(super) struct Pending {
    pub events: Vec<EventRow>,
    pub audits: Vec<AuditRow>,
    pub ledger: Vec<LedgerRow>,
    pub xp: Vec<XpRow>,
    pub stats: Vec<StatRow>,
    pub withheld: Vec<WithheldRow>,
    pub awards: Vec<AwardRow>,
    pub notes: Vec<NoteRow>,
}

/// How long each buffer was: where an item began.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Marks([usize; 8]);

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.marks() == Marks::default()
    }

    pub fn marks(&self) -> Marks {
        Marks([
            self.events.len(),
            self.audits.len(),
            self.ledger.len(),
            self.xp.len(),
            self.stats.len(),
            self.withheld.len(),
            self.awards.len(),
            self.notes.len(),
        ])
    }

    /// Drops every row written since `marks`.
    pub fn truncate(&mut self, m: Marks) {
        self.events.truncate(m.0[0]);
        self.audits.truncate(m.0[1]);
        self.ledger.truncate(m.0[2]);
        self.xp.truncate(m.0[3]);
        self.stats.truncate(m.0[4]);
        self.withheld.truncate(m.0[5]);
        self.awards.truncate(m.0[6]);
        self.notes.truncate(m.0[7]);
    }

    /// Takes the rows written before `marks`, leaving the later ones.
    fn split_off_front(&mut self, m: Marks) -> Pending {
        fn front<T>(v: &mut Vec<T>, n: usize) -> Vec<T> {
            let rest = v.split_off(n.min(v.len()));
            std::mem::replace(v, rest)
        }
        Pending {
            events: front(&mut self.events, m.0[0]),
            audits: front(&mut self.audits, m.0[1]),
            ledger: front(&mut self.ledger, m.0[2]),
            xp: front(&mut self.xp, m.0[3]),
            stats: front(&mut self.stats, m.0[4]),
            withheld: front(&mut self.withheld, m.0[5]),
            awards: front(&mut self.awards, m.0[6]),
            notes: front(&mut self.notes, m.0[7]),
        }
    }
}

/// A write transaction; on SQLite it also holds the writer lock until it ends. While a request
/// holds one, everything it reads goes through it ([`WriteTx::conn`]): a read through the pool
/// would take a second connection, and enough requests doing that at once each hold one
/// connection and wait for another until the acquire timeout. [`super::Store::pool`] refuses
/// such a read (see [`super::one_request`]). The connection itself is private to this module,
/// so that no statement can pass the buffer.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
    _held: WriteHeld,
    /// What this transaction already knows, so that it does not ask the database twice.
    pub(super) known: Known,
    /// Rows written and not yet sent.
    pub(super) pending: Pending,
    item: Option<Item>,
    /// Why the transaction can only fail now: rows already answered for could not be written.
    poisoned: Option<String>,
    now: i64,
    backend: Backend,
    /// The audit and ledger entries sent so far, in order: their leaves are appended to the
    /// Merkle log at the commit (see `auditlog`).
    logged: Vec<Logged>,
    /// The log's edge as this store last moved it (committed, or being committed).
    edge: Edge,
    /// Failures injected per million at the log's turn (tests only; see `Store::fault`).
    fault_ppm: u32,
    /// Woken once the transaction commits (a worker waiting for what it wrote).
    wakes: Vec<Arc<tokio::sync::Notify>>,
}

/// A change to [`Known`], taken back if its item is.
pub(super) type Undo = Box<dyn FnOnce(&mut Known) + Send>;

/// The open item of a group commit.
pub(super) struct Item {
    /// The buffers' lengths when it began (all zero once the rows before it were written).
    marks: Marks,
    /// Whether `SAVEPOINT hub_write` was taken for it.
    savepoint: bool,
    /// What it taught [`Known`], latest last.
    journal: Vec<Undo>,
    /// How many entries were logged when its savepoint was taken.
    logged: usize,
}

impl WriteTx {
    pub(super) fn new(
        tx: Transaction<'static, Any>,
        writer: Option<OwnedMutexGuard<()>>,
        now: i64,
        backend: Backend,
        edge: Edge,
        fault_ppm: u32,
    ) -> WriteTx {
        WriteTx {
            tx,
            _writer: writer,
            _held: WriteHeld::new(),
            known: Known::default(),
            pending: Pending::default(),
            item: None,
            poisoned: None,
            now,
            backend,
            logged: Vec::new(),
            edge,
            fault_ppm,
            wakes: Vec::new(),
        }
    }

    /// The transaction's clock: when it began, in milliseconds since the Unix epoch. Rules
    /// that count over time windows (the issuance gates) read their windows from it, so that
    /// every write of a batch is judged at one instant.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The id of `user`'s wallet, when this transaction holds it.
    pub fn wallet_id_of(&self, user: &hub_protocol::UserId) -> Option<String> {
        self.known
            .wallets
            .get(user.as_str())
            .map(|w| w.id.to_string())
    }

    /// The connection, for a statement of the caller's: whatever waits in the buffer is written
    /// first (and, inside an item that has none yet, its savepoint taken), so the statement
    /// sees every row this transaction wrote.
    pub async fn conn(&mut self) -> Result<&mut AnyConnection, sqlx::Error> {
        self.check()?;
        let unsaved = self.item.as_ref().is_some_and(|i| !i.savepoint);
        if unsaved {
            let marks = self.item.as_ref().map(|i| i.marks).unwrap_or_default();
            let before = self.pending.split_off_front(marks);
            if let Err(e) = write(&mut self.tx, self.backend, before, &mut self.logged).await {
                // Rows of writes already answered for could not be written: the whole
                // transaction must fail.
                self.poisoned = Some(e.to_string());
                return Err(e);
            }
            // What waits now is the item's own; its marks count from here.
            if let Some(item) = &mut self.item {
                item.marks = Marks::default();
                item.logged = self.logged.len();
            }
            if let Err(e) = sqlx::query("SAVEPOINT hub_write")
                .execute(&mut *self.tx)
                .await
            {
                // Without its savepoint the item could not be taken back alone.
                self.poisoned = Some(e.to_string());
                return Err(e);
            }
            if let Some(item) = &mut self.item {
                item.savepoint = true;
            }
        }
        if !self.pending.is_empty() {
            let all = std::mem::take(&mut self.pending);
            if let Err(e) = write(&mut self.tx, self.backend, all, &mut self.logged).await {
                if self.item.is_none() {
                    self.poisoned = Some(e.to_string());
                }
                return Err(e);
            }
        }
        Ok(&mut *self.tx)
    }

    /// Fails once rows that were answered for could not be written.
    fn check(&self) -> Result<(), sqlx::Error> {
        match &self.poisoned {
            Some(cause) => Err(sqlx::Error::Protocol(format!(
                "the transaction could not write what it held: {cause}"
            ))),
            None => Ok(()),
        }
    }

    /// Writes whatever waits, appends the leaves of the entries it wrote to the Merkle log,
    /// then commits.
    /// Wakes `waiter` once this transaction has committed (never if it does not).
    pub fn wake_after_commit(&mut self, waiter: &Arc<tokio::sync::Notify>) {
        if !self.wakes.iter().any(|w| Arc::ptr_eq(w, waiter)) {
            self.wakes.push(waiter.clone());
        }
    }

    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let wakes = std::mem::take(&mut self.wakes);
        let done = self.commit_now().await;
        if done.is_ok() {
            for waiter in wakes {
                waiter.notify_one();
            }
        }
        done
    }

    async fn commit_now(mut self) -> Result<(), sqlx::Error> {
        self.item = None;
        self.conn().await?;
        if self.logged.is_empty() {
            let WriteTx { tx, .. } = self;
            return tx.commit().await;
        }
        let WriteTx {
            mut tx,
            logged,
            edge,
            backend,
            fault_ppm,
            ..
        } = self;
        // This node's appends take turns here, each from the edge the one before left. The
        // turn ends once the head has moved, before the commit: the next append, sent at
        // once, waits in the database on the head's row lock and goes on the moment this
        // commit ends, instead of the whole commit's round trip waiting here. Commit order
        // stays log order (the next transaction cannot move the head before this one
        // commits), and should this one not commit, the next finds the head short of the
        // edge it was given, reads it again and appends from there (as after another node's
        // append).
        let mut turn = edge.lock().await;
        let started = std::time::Instant::now();
        let next = auditlog::append(&mut tx, backend, turn.clone(), &logged).await?;
        metrics::histogram!("hub_audit_log_append_seconds").record(started.elapsed().as_secs_f64());
        *turn = Some(next);
        drop(turn);
        // A failure injected between the head's move and the commit (tests only): the edge
        // handed on is then never committed.
        let committed = match super::injected(fault_ppm, "log") {
            Some(e) => {
                // Rolled back as the connection goes back to its pool, not here: the next
                // append may already wait on the head's row, holding the turn asked for below.
                drop(tx);
                Err(sqlx::Error::Io(e))
            }
            None => tx.commit().await,
        };
        if let Err(e) = committed {
            // The edge handed on is not in the log: the next append reads the head.
            *edge.lock().await = None;
            return Err(e);
        }
        metrics::counter!("hub_audit_log_leaves_total").increment(logged.len() as u64);
        Ok(())
    }

    /// Notes an entry written by a statement of the caller's, for the log.
    pub(super) fn log(&mut self, entry: Logged) {
        self.logged.push(entry);
    }

    /// Begins an item: what follows can be taken back alone ([`WriteTx::close_item`]).
    pub(super) fn open_item(&mut self) {
        self.item = Some(Item {
            marks: self.pending.marks(),
            savepoint: false,
            journal: Vec::new(),
            logged: self.logged.len(),
        });
    }

    /// Ends the open item: keeps it, or with `undo` takes back all it wrote and taught.
    pub(super) async fn close_item(&mut self, undo: bool) -> Result<(), sqlx::Error> {
        let Some(item) = self.item.take() else {
            return self.check();
        };
        if undo {
            if item.savepoint {
                sqlx::query("ROLLBACK TO SAVEPOINT hub_write")
                    .execute(&mut *self.tx)
                    .await?;
                self.logged.truncate(item.logged);
            }
            self.pending.truncate(item.marks);
            for undo in item.journal.into_iter().rev() {
                undo(&mut self.known);
            }
        }
        if item.savepoint {
            sqlx::query("RELEASE SAVEPOINT hub_write")
                .execute(&mut *self.tx)
                .await?;
        }
        self.check()
    }

    /// Sets `key` in one of [`Known`]'s maps, remembering how to take it back if the open
    /// item is.
    pub(super) fn learn<K, V>(
        &mut self,
        map: fn(&mut Known) -> &mut HashMap<K, V>,
        key: K,
        value: V,
    ) where
        K: Clone + std::hash::Hash + Eq + Send + 'static,
        V: Send + 'static,
    {
        let old = map(&mut self.known).insert(key.clone(), value);
        if let Some(item) = &mut self.item {
            item.journal.push(Box::new(move |known: &mut Known| {
                let m = map(known);
                match old {
                    Some(v) => {
                        m.insert(key, v);
                    }
                    None => {
                        m.remove(&key);
                    }
                }
            }));
        }
    }

    /// Forgets `key` of one of [`Known`]'s maps (its next read goes to the database).
    pub(super) fn forget<K, V>(&mut self, map: fn(&mut Known) -> &mut HashMap<K, V>, key: &K)
    where
        K: Clone + std::hash::Hash + Eq + Send + 'static,
        V: Send + 'static,
    {
        if let Some(old) = map(&mut self.known).remove(key)
            && let Some(item) = &mut self.item
        {
            let key = key.clone();
            item.journal.push(Box::new(move |known: &mut Known| {
                map(known).insert(key, old);
            }));
        }
    }
}

/// Sends `rows`: each table's rows in one statement, then one statement per table for the
/// rows they move. The rows travel as one JSON value per statement, so a statement's text
/// does not grow with the number of rows; on Postgres all of them go in one message
/// ([`Statements::run`]).
async fn write(
    tx: &mut AnyConnection,
    backend: Backend,
    rows: Pending,
    logged: &mut Vec<Logged>,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let entries = rows
        .audits
        .iter()
        .map(|a| Logged {
            kind: Kind::Audit,
            chain: a.scope.clone(),
            seq: a.seq,
            hash: a.hash.clone(),
        })
        .chain(rows.ledger.iter().map(|l| Logged {
            kind: Kind::Ledger,
            chain: l.entry.wallet_id.clone(),
            seq: l.entry.seq,
            hash: l.entry.hash.clone(),
        }))
        .collect::<Vec<_>>();
    write_rows(tx, backend, rows).await?;
    logged.extend(entries);
    Ok(())
}

async fn write_rows(
    tx: &mut AnyConnection,
    backend: Backend,
    rows: Pending,
) -> Result<(), sqlx::Error> {
    let Pending {
        events,
        audits,
        ledger,
        xp,
        stats,
        withheld,
        awards,
        notes,
    } = rows;
    let mut out = Statements::default();
    out.push(insert_sql(backend, "events", EVENT_COLUMNS), &events, None)?;
    out.push(
        insert_sql(backend, "worm_audits", AUDIT_COLUMNS),
        &audits,
        None,
    )?;
    // Each head once, onto the last entry appended to its chain.
    let heads: Vec<Head> = last_by(&audits, |a| a.scope.as_str())
        .into_iter()
        .map(|a| Head {
            scope: &a.scope,
            seq: a.seq,
            hash: &a.hash,
        })
        .collect();
    out.push(
        update_sql(
            backend,
            "worm_heads",
            &[("scope", "text"), ("seq", "bigint"), ("hash", "text")],
        ),
        &heads,
        None,
    )?;
    let entries: Vec<LedgerJson> = ledger.iter().map(LedgerJson::of).collect();
    out.push(
        insert_sql(backend, "wallet_ledgers", LEDGER_COLUMNS),
        &entries,
        None,
    )?;
    let wallets: Vec<WalletJson> = last_by(&ledger, |l| l.entry.wallet_id.as_str())
        .into_iter()
        .map(|l| WalletJson {
            id: &l.entry.wallet_id,
            buz_balance: l.entry.balance_after,
            pending_lock: l.pending_after,
            seq: l.entry.seq,
            head_hash: &l.entry.hash,
            updated_at: l.entry.created_at,
        })
        .collect();
    out.push(
        update_sql(
            backend,
            "wallets",
            &[
                ("id", "text"),
                ("buz_balance", "bigint"),
                ("pending_lock", "bigint"),
                ("seq", "bigint"),
                ("head_hash", "text"),
                ("updated_at", "bigint"),
            ],
        ),
        &wallets,
        None,
    )?;
    out.push(insert_sql(backend, "xp_events", XP_COLUMNS), &xp, None)?;
    let profiles: Vec<ProfileJson> = last_by(&xp, |x| x.user_id.as_str())
        .into_iter()
        .map(|x| ProfileJson {
            user_id: &x.user_id,
            xp: x.xp_after,
            level: x.level_after,
            updated_at: x.created_at,
        })
        .collect();
    out.push(
        update_sql(
            backend,
            "profiles",
            &[
                ("user_id", "text"),
                ("xp", "bigint"),
                ("level", "bigint"),
                ("updated_at", "bigint"),
            ],
        ),
        &profiles,
        None,
    )?;
    // Counters: the sum of each user's bumps, one statement per counter.
    let mut sums: Vec<(&'static str, Vec<StatJson>)> = Vec::new();
    let mut at: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
    for s in &stats {
        match at.get(&(s.column, s.user.as_str())) {
            Some(&(c, u)) => sums[c].1[u].by = sums[c].1[u].by.saturating_add(s.by),
            None => {
                let c = match sums.iter().position(|(column, _)| *column == s.column) {
                    Some(c) => c,
                    None => {
                        sums.push((s.column, Vec::new()));
                        sums.len() - 1
                    }
                };
                at.insert((s.column, s.user.as_str()), (c, sums[c].1.len()));
                sums[c].1.push(StatJson {
                    user_id: &s.user,
                    by: s.by,
                });
            }
        }
    }
    for (column, users) in &sums {
        let source = backend.json_rows(1, &[("user_id", "text"), ("by", "bigint")]);
        // Every stats writer needs the user's row: a missing one is an error, never a lost
        // count.
        out.push(
            format!(
                "UPDATE user_stats SET {column} = {column} + r.by FROM ({source}) AS r
                 WHERE user_stats.user_id = r.user_id"
            ),
            users,
            Some("users have no stats row"),
        )?;
    }
    out.push(
        insert_sql(backend, "buz_withheld", WITHHELD_COLUMNS),
        &withheld,
        None,
    )?;
    out.push(
        insert_sql(backend, "badge_awards", AWARD_COLUMNS),
        &awards,
        None,
    )?;
    out.push(
        insert_sql(backend, "notifications", NOTE_COLUMNS),
        &notes,
        None,
    )?;
    out.run(tx, backend).await
}

/// The statements of one write of the buffer, in order: each with its rows as JSON (`$1`)
/// and their number (`$2`).
#[derive(Default)]
struct Statements(Vec<Statement>);

struct Statement {
    sql: String,
    json: String,
    rows: usize,
    /// Must change every one of its rows; else the write fails with this.
    whole: Option<&'static str>,
}

impl Statements {
    fn push<R: Serialize>(
        &mut self,
        sql: String,
        rows: &[R],
        whole: Option<&'static str>,
    ) -> Result<(), sqlx::Error> {
        if !rows.is_empty() {
            self.0.push(Statement {
                sql,
                json: encode(rows)?,
                rows: rows.len(),
                whole,
            });
        }
        Ok(())
    }

    /// Sends them. On Postgres all go in one message (one round trip instead of one per
    /// table: the batch's connection waits on the network, not on the database, for most of
    /// a flush otherwise), with the rows written into the text as dollar-quoted literals; on
    /// SQLite, in process, each is its own prepared statement.
    async fn run(self, tx: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
        let changed: Vec<u64> = match backend {
            Backend::Sqlite => {
                let mut changed = Vec::with_capacity(self.0.len());
                for s in &self.0 {
                    let done = sqlx::query(sqlx::AssertSqlSafe(s.sql.as_str()))
                        .bind(s.json.as_str())
                        .bind(s.rows as i64)
                        .execute(&mut *tx)
                        .await?;
                    changed.push(done.rows_affected());
                }
                changed
            }
            Backend::Postgres if self.0.is_empty() => Vec::new(),
            Backend::Postgres => {
                let text = self
                    .0
                    .iter()
                    .map(|s| inline(&s.sql, &s.json, s.rows))
                    .collect::<Vec<_>>()
                    .join(";\n");
                let done: Vec<_> = sqlx::raw_sql(sqlx::AssertSqlSafe(text))
                    .fetch_many(&mut *tx)
                    .try_collect()
                    .await?;
                done.into_iter()
                    .filter_map(|step| match step {
                        sqlx::Either::Left(result) => Some(result.rows_affected()),
                        sqlx::Either::Right(_) => None,
                    })
                    .collect()
            }
        };
        if changed.len() != self.0.len() {
            return Err(sqlx::Error::Protocol(format!(
                "{} statements sent, {} answered",
                self.0.len(),
                changed.len()
            )));
        }
        for (s, n) in self.0.iter().zip(changed) {
            if let Some(what) = s.whole
                && n != s.rows as u64
            {
                return Err(sqlx::Error::Protocol(format!(
                    "{} of {} {what}",
                    s.rows as u64 - n,
                    s.rows
                )));
            }
        }
        Ok(())
    }
}

/// `sql` with its `$2` replaced by `rows` and its `$1` by `json` as a dollar-quoted literal,
/// whose tag the text does not contain (so no content can end it, whatever the server's
/// string settings).
fn inline(sql: &str, json: &str, rows: usize) -> String {
    let mut tag = String::from("$j$");
    let mut n = 0u32;
    while json.contains(tag.as_str()) {
        n += 1;
        tag = format!("$j{n}$");
    }
    sql.replacen("$2", &rows.to_string(), 1)
        .replacen("$1", &format!("{tag}{json}{tag}"), 1)
}

const EVENT_COLUMNS: &[(&str, &str)] = &[
    ("kind", "text"),
    ("id", "text"),
    ("user_id", "text"),
    ("body", "text"),
    ("received_by", "text"),
    ("received_at", "bigint"),
];
const AUDIT_COLUMNS: &[(&str, &str)] = &[
    ("id", "text"),
    ("scope", "text"),
    ("seq", "bigint"),
    ("ref_id", "text"),
    ("actor_id", "text"),
    ("action", "text"),
    ("details", "text"),
    ("created_at", "bigint"),
    ("prev_hash", "text"),
    ("hash", "text"),
];
const LEDGER_COLUMNS: &[(&str, &str)] = &[
    ("id", "text"),
    ("wallet_id", "text"),
    ("seq", "bigint"),
    ("type", "text"),
    ("amount", "bigint"),
    ("balance_after", "bigint"),
    ("task_id", "text"),
    ("review_id", "text"),
    ("conversion_id", "text"),
    ("note", "text"),
    ("created_at", "bigint"),
    ("prev_hash", "text"),
    ("hash", "text"),
];
const XP_COLUMNS: &[(&str, &str)] = &[
    ("id", "text"),
    ("user_id", "text"),
    ("source", "text"),
    ("ref_id", "text"),
    ("amount", "bigint"),
    ("created_at", "bigint"),
];
const WITHHELD_COLUMNS: &[(&str, &str)] = &[
    ("id", "text"),
    ("task_id", "text"),
    ("user_id", "text"),
    ("amount", "bigint"),
    ("reason", "text"),
    ("created_at", "bigint"),
];
const AWARD_COLUMNS: &[(&str, &str)] = &[
    ("user_id", "text"),
    ("code", "text"),
    ("reason", "text"),
    ("awarded_by", "text"),
    ("awarded_at", "bigint"),
];
const NOTE_COLUMNS: &[(&str, &str)] = &[
    ("id", "text"),
    ("user_id", "text"),
    ("kind", "text"),
    ("data", "text"),
    ("created_at", "bigint"),
];

#[derive(Serialize)]
struct Head<'a> {
    scope: &'a str,
    seq: i64,
    hash: &'a str,
}

#[derive(Serialize)]
struct LedgerJson<'a> {
    id: &'a str,
    wallet_id: &'a str,
    seq: i64,
    #[serde(rename = "type")]
    kind: &'a str,
    amount: i64,
    balance_after: i64,
    task_id: Option<&'a str>,
    review_id: Option<&'a str>,
    conversion_id: Option<&'a str>,
    note: Option<&'a str>,
    created_at: i64,
    prev_hash: Option<&'a str>,
    hash: &'a str,
}

impl<'a> LedgerJson<'a> {
    fn of(l: &'a LedgerRow) -> LedgerJson<'a> {
        let e = &l.entry;
        LedgerJson {
            id: &e.id,
            wallet_id: &e.wallet_id,
            seq: e.seq,
            kind: &e.kind,
            amount: e.amount,
            balance_after: e.balance_after,
            task_id: e.task_id.as_deref(),
            review_id: e.review_id.as_deref(),
            conversion_id: e.conversion_id.as_deref(),
            note: e.note.as_deref(),
            created_at: e.created_at,
            prev_hash: e.prev_hash.as_deref(),
            hash: &e.hash,
        }
    }
}

#[derive(Serialize)]
struct WalletJson<'a> {
    id: &'a str,
    buz_balance: i64,
    pending_lock: i64,
    seq: i64,
    head_hash: &'a str,
    updated_at: i64,
}

#[derive(Serialize)]
struct ProfileJson<'a> {
    user_id: &'a str,
    xp: i64,
    level: i64,
    updated_at: i64,
}

#[derive(Serialize)]
struct StatJson<'a> {
    user_id: &'a str,
    by: i64,
}

/// The last row of each key, in first-seen order of the keys.
fn last_by<'r, R>(rows: &'r [R], key: impl Fn(&R) -> &str) -> Vec<&'r R> {
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<&R> = Vec::new();
    for row in rows {
        match at.get(key(row)) {
            Some(&i) => out[i] = row,
            None => {
                at.insert(key(row), out.len());
                out.push(row);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_row_of_each_key_in_first_seen_order() {
        let rows = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)];
        let last: Vec<(&str, i32)> = last_by(&rows, |r| r.0).into_iter().copied().collect();
        assert_eq!(last, vec![("a", 3), ("b", 5), ("c", 4)]);
    }

    #[test]
    fn rows_go_into_the_text_under_a_tag_they_do_not_contain() {
        let sql =
            "INSERT INTO t (a) SELECT r.a FROM jsonb_to_recordset($1::jsonb) AS r(a text) LIMIT $2";
        assert_eq!(
            inline(sql, r#"[{"a":"it's"}]"#, 1),
            r#"INSERT INTO t (a) SELECT r.a FROM jsonb_to_recordset($j$[{"a":"it's"}]$j$::jsonb) AS r(a text) LIMIT 1"#
        );
        // Rows holding the tag, and the next one, get a third; `$1` and `$2` in the rows stay.
        let json = r#"[{"a":"$j$ $j1$ $1 $2 \\ '' $$"}]"#;
        let text = inline(sql, json, 12);
        assert!(text.contains(&format!("($j2${json}$j2$::jsonb)")), "{text}");
        assert!(text.ends_with("LIMIT 12"), "{text}");
    }

    #[test]
    fn the_front_of_the_buffer_is_taken_up_to_the_marks() {
        let mut p = Pending::default();
        for (i, user) in ["a", "b", "c"].iter().enumerate() {
            p.stats.push(StatRow {
                user: (*user).into(),
                column: "tasks_accepted",
                by: i as i64,
            });
        }
        let mut m = Marks::default();
        m.0[4] = 2;
        let front = p.split_off_front(m);
        assert_eq!(
            front
                .stats
                .iter()
                .map(|s| s.user.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(p.stats.len(), 1);
        assert_eq!(p.stats[0].user, "c");
        p.truncate(Marks::default());
        assert!(p.is_empty());
    }

    use crate::store::{NewAudit, Store};
    use hub_protocol::UserId;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let store = Store::connect(&url, 2).await.unwrap();
        store.migrate().await.unwrap();
        (dir, store)
    }

    fn entry(scope: &str) -> NewAudit<'static> {
        NewAudit {
            scope: scope.to_owned(),
            ref_id: None,
            actor_id: None,
            action: "test.step",
            details: serde_json::json!({}),
        }
    }

    async fn entries_seen(w: &mut WriteTx, scope: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM worm_audits WHERE scope = $1")
            .bind(scope)
            .fetch_one(w.conn().await.unwrap())
            .await
            .unwrap()
    }

    /// An item that only appended is taken back in memory: its rows leave the buffer and the
    /// head it moved is as before. An item that ran a statement of its own got a savepoint
    /// first (after the rows of the items before it were sent), and is taken back by the
    /// database too. A statement always sees the rows written before it.
    #[tokio::test]
    async fn an_item_is_taken_back_from_the_buffer_or_from_its_savepoint() {
        let (_dir, store) = store().await;
        let ann = UserId::from("ann");
        let scope = "user:ann";
        let mut w = store.begin_write().await.unwrap();
        store.lock_users(&mut w, &[&ann]).await.unwrap();
        assert_eq!(w.known.heads[scope].0, 0);

        // Appends only: nothing reaches the database, and undoing forgets all of it.
        w.open_item();
        store.audit(&mut w, entry(scope)).await.unwrap();
        store.audit(&mut w, entry(scope)).await.unwrap();
        assert_eq!(w.pending.audits.len(), 2);
        assert_eq!(w.known.heads[scope].0, 2);
        assert!(w.item.as_ref().is_some_and(|i| !i.savepoint));
        w.close_item(true).await.unwrap();
        assert!(w.pending.is_empty());
        assert_eq!(w.known.heads[scope].0, 0);

        // A kept item, then one that reads: the kept one's row is sent before its savepoint.
        w.open_item();
        store.audit(&mut w, entry(scope)).await.unwrap();
        w.close_item(false).await.unwrap();
        w.open_item();
        store.audit(&mut w, entry(scope)).await.unwrap();
        assert_eq!(
            entries_seen(&mut w, scope).await,
            2,
            "the read sees both rows"
        );
        assert!(w.item.as_ref().is_some_and(|i| i.savepoint));
        assert!(w.pending.is_empty());
        w.close_item(true).await.unwrap();
        assert_eq!(
            entries_seen(&mut w, scope).await,
            1,
            "the savepoint took one back"
        );
        assert_eq!(w.known.heads[scope].0, 1);

        // The next append follows the kept entry; the commit sends it and moves the head
        // over both.
        w.open_item();
        let e = store.audit(&mut w, entry(scope)).await.unwrap();
        assert_eq!(e.seq, 2);
        w.close_item(false).await.unwrap();
        w.commit().await.unwrap();
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM worm_heads WHERE scope = $1")
                .bind(scope)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!((seq, hash), (2, e.hash));
        let chain = store.audit_entries(scope).await.unwrap();
        assert_eq!(chain.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(chain[1].prev_hash.as_deref(), Some(chain[0].hash.as_str()));
    }

    /// Rows of writes already answered for that cannot be written fail the whole
    /// transaction: the next statement and the commit both refuse.
    #[tokio::test]
    async fn rows_that_cannot_be_written_fail_the_transaction() {
        let (_dir, store) = store().await;
        let mut w = store.begin_write().await.unwrap();
        // A counter bump for a user with no stats row: the flush finds no row to bump.
        w.pending.stats.push(StatRow {
            user: "nobody".into(),
            column: "tasks_accepted",
            by: 1,
        });
        w.open_item();
        let err = w
            .conn()
            .await
            .err()
            .expect("the earlier rows cannot be written");
        assert!(err.to_string().contains("no stats row"), "{err}");
        assert!(w.close_item(false).await.is_err(), "the item cannot stand");
        assert!(w.commit().await.is_err(), "nor can the transaction");
    }
}
