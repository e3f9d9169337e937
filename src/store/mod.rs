//! Storage: one API over sqlx's `Any` driver, backed by SQLite (embedded default) or Postgres.
//!
//! SQL is written once with `$N` placeholders (both backends accept them); migrations are kept
//! per backend under `migrations/` and embedded in the binary. Times are stored as milliseconds
//! since the Unix epoch, ids as text.
//!
//! Invariants:
//! - multi-statement writes go through [`Store::begin_write`]. On SQLite it begins with
//!   `BEGIN IMMEDIATE` (the write lock first, so a read-then-write transaction can never fail
//!   to upgrade) and takes the process-wide writer lock, so writers queue in the process rather
//!   than in SQLite's busy loop; on Postgres the statements lock the rows they read with
//!   `FOR UPDATE` (see [`Store::for_update`]).
//! - every function here is one logical operation; callers never hold a transaction across
//!   unrelated I/O.

mod activity;
mod audit;
pub mod auditlog;
mod badges;
mod behind;
mod blobs;
mod chat;
mod clients;
mod docs;
mod equity;
mod events;
mod files;
mod gamification;
mod invitations;
mod json_rows;
mod leases;
mod membership;
mod notifications;
mod profiles;
mod rooms;
mod server;
mod signatures;
mod teams;
mod users;
mod ventures;
mod wallets;
mod webhooks;

pub use activity::{ActivityRow, NewActivity};
pub use audit::NewAudit;
pub use badges::{BadgeCountRow, BadgeRow, HeldBadgeRow};
pub use behind::WriteTx;
pub use blobs::{BlobError, BlobWriter, Blobs, hex as hex_of};
pub use chat::{ChatHooks, MessageRow, NewMessage};
pub use clients::ClientRow;
pub use docs::{DocRow, StoredDoc};
pub use equity::{ConversionRow, WindowRow};
pub use events::NewEvent;
pub use files::{CommentRow, FileRow, Perms, ShareRow};
pub use gamification::{BoardBy, BoardRow, DayRow, RepRow, Stat, XpChange};
pub use invitations::InvitationRow;
pub use membership::{Group, MemberRow, Requester};
pub use notifications::NotificationRow;
pub use profiles::{
    NewEndorsement, PortfolioRow, ProfileChange, ProfileRow, SkillRow, UserSkillRow, skill_key,
};
pub use rooms::MyRoom;
pub use server::{ApiKeyRow, NewApiKey, PublicationRow, RevocationRow};
pub use signatures::{KeyRow, SignatureRow};
pub use teams::TeamRow;
pub use ventures::VentureRow;
pub use wallets::{IssuanceFacts, Refs, WalletRow, WithheldEntry};
pub use webhooks::{AttemptRow, DeliveryRow, EndpointRow, Leased, NewDelivery, Tried};

use crate::clock::SharedClock;
use crate::error::DomainError;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Executor};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How long a request waits for a database connection before it fails with `unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections of the Postgres pool kept for group commits (chat sends, document log).
const COMMIT_CONNECTIONS: u32 = 2;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// A query of the text values of the JSON array bound at `$n`, for `IN (…)` lists of any
    /// length in one statement text (prepared once) and one bound value; `$n+1` is bound to
    /// the number of values. That `LIMIT` tells Postgres's planner how many rows come (it
    /// assumes 100 for a set-returning function, and joins a big table by scanning it whole
    /// rather than probing its index 100 times).
    pub fn json_list(self, n: usize) -> String {
        match self {
            Backend::Postgres => format!(
                "SELECT jsonb_array_elements_text(${n}::jsonb) AS value LIMIT ${}",
                n + 1
            ),
            Backend::Sqlite => format!("SELECT value FROM json_each(${n}) LIMIT ${}", n + 1),
        }
    }

    /// A subquery of the rows of the JSON array of objects bound at `$n`, as `columns` (name
    /// and Postgres type): many rows in one parameter and one statement text; `$n+1` is bound
    /// to the number of rows (see [`Backend::json_list`]).
    pub fn json_rows(self, n: usize, columns: &[(&str, &str)]) -> String {
        match self {
            Backend::Postgres => format!(
                "SELECT {} FROM jsonb_to_recordset(${n}::jsonb) AS r({}) LIMIT ${}",
                columns
                    .iter()
                    .map(|(c, _)| format!("r.{c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                columns
                    .iter()
                    .map(|(c, t)| format!("{c} {t}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                n + 1
            ),
            Backend::Sqlite => format!(
                "SELECT {} FROM json_each(${n}) LIMIT ${}",
                columns
                    .iter()
                    .map(|(c, _)| format!("json_extract(value, '$.{c}') AS {c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                n + 1
            ),
        }
    }

    /// The backend a database URL names, if it is one we support.
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Denied(#[from] hub_rooms::Denied),
    /// Too much work waits for the same user (see `services::turns`).
    #[error("{0}")]
    Busy(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl crate::error::DomainError for StoreError {
    /// The stable code of this error: the one mapping every transport derives its answer from
    /// (HTTP status, ack code, `/yjs` close code).
    fn code(&self) -> hub_protocol::ErrorCode {
        use hub_protocol::ErrorCode;
        match self {
            StoreError::NotFound => ErrorCode::NotFound,
            StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::Invalid(_) => ErrorCode::Invalid,
            StoreError::Denied(hub_rooms::Denied::LastOwner) => ErrorCode::Conflict,
            StoreError::Denied(_) => ErrorCode::Forbidden,
            StoreError::Busy(_) => ErrorCode::Busy,
            StoreError::Db(db) if Self::is_constraint_violation(db) => ErrorCode::Conflict,
            StoreError::Db(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => ErrorCode::Unavailable,
            StoreError::Db(_) => ErrorCode::Internal,
        }
    }

    /// What a client may be told. Internal causes are logged here, never sent.
    fn public_message(&self) -> String {
        match self {
            StoreError::NotFound => "not found".into(),
            StoreError::Conflict(m) | StoreError::Invalid(m) | StoreError::Busy(m) => m.clone(),
            StoreError::Denied(d) => d.to_string(),
            StoreError::Db(db) => match self.code() {
                hub_protocol::ErrorCode::Conflict => {
                    tracing::debug!(error = %db, "constraint violation");
                    "the request conflicts with existing data".into()
                }
                hub_protocol::ErrorCode::Unavailable => {
                    tracing::warn!(error = %db, "database unavailable");
                    "the database is unavailable; retry later".into()
                }
                _ => {
                    tracing::error!(error = %db, "internal database error");
                    "internal error".into()
                }
            },
        }
    }
}

impl StoreError {
    /// Whether a database error is a unique or foreign-key violation, i.e. caused by the data
    /// the client sent rather than by the server.
    pub fn is_constraint_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.is_unique_violation() || db.is_foreign_key_violation())
    }

    /// The same failure again, for each of the writes of a batch that failed as a whole: the
    /// same code and public message (a database cause is kept as its text).
    pub fn replicate(&self) -> StoreError {
        match self {
            StoreError::NotFound => StoreError::NotFound,
            StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
            StoreError::Invalid(m) => StoreError::Invalid(m.clone()),
            StoreError::Denied(d) => StoreError::Denied(*d),
            StoreError::Busy(m) => StoreError::Busy(m.clone()),
            StoreError::Db(db) => StoreError::Db(match self.code() {
                hub_protocol::ErrorCode::Unavailable => sqlx::Error::PoolTimedOut,
                _ => sqlx::Error::Protocol(db.to_string()),
            }),
        }
    }

    /// This failure as the answer of each of the `n` writes of a batch that failed as a whole.
    pub fn for_each<T>(self, n: usize) -> Vec<StoreResult<T>> {
        let mut results: Vec<StoreResult<T>> = (1..n).map(|_| Err(self.replicate())).collect();
        results.insert(0, Err(self));
        results
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Rows a write transaction made sure of, holds locked, or wrote, as it last wrote them. Only
/// what nobody else can change before the transaction ends: rows it created or locked (a
/// chain's head, a wallet), rows of users whose chain head it holds (every writer of a user's
/// standing takes that head first), and the badge catalog (changed only by an admin's own
/// transaction, and read again by the next transaction). What a write teaches it is taken
/// back with the write (see `behind`).
#[derive(Default)]
pub(super) struct Known {
    /// Users whose `users`, `profiles` and `user_stats` rows exist.
    pub profiles: HashMap<String, ()>,
    /// Chain heads (seq, hash) by scope, locked by this transaction.
    pub heads: HashMap<String, (i64, Option<String>)>,
    pub badges: Option<Arc<Vec<BadgeRow>>>,
    /// Wallets by owner, locked by this transaction.
    pub wallets: HashMap<String, WalletRow>,
    /// What the badge rules and the issuance gates read of a user, by user.
    pub standing: HashMap<String, Standing>,
    /// The badge codes each user holds.
    pub awarded: HashMap<String, Arc<std::collections::BTreeSet<String>>>,
    /// Whether an event (kind, id) is stored.
    pub events: HashMap<(String, String), bool>,
    /// Whether an XP grant (user, source, ref) is stored.
    pub xp: HashMap<(String, String, String), bool>,
    /// (user, source) pairs whose every stored grant is in `xp`: a grant of theirs missing
    /// there is not stored.
    pub xp_sources: HashMap<(String, String), ()>,
    /// Whether a venture exists.
    pub ventures: HashMap<String, bool>,
    /// Credits counted by the issuance gates, by wallet.
    pub issuance: HashMap<String, Issuance>,
}

/// A user's counters, XP, level, reputation and join time, as a write transaction knows them.
#[derive(Debug, Clone, Default)]
pub(super) struct Standing {
    pub metrics: hub_rooms::badges::Metrics,
    pub device_last_compliant: Option<i64>,
    pub joined_ms: Option<i64>,
    pub xp: i64,
    pub rep_milli: i64,
}

/// A wallet's credits in the issuance gates' windows, counted from the window starts of the
/// transaction's clock ([`WriteTx::now`]).
#[derive(Debug, Clone, Default)]
pub(super) struct Issuance {
    pub hour_since: i64,
    pub day_since: i64,
    pub credits_last_hour: i64,
    pub credited_today: i64,
}

tokio::task_local! {
    /// How many write transactions the current request holds.
    static WRITES_HELD: std::cell::Cell<u32>;
}

/// Runs `request` as one request of a transport: inside it, [`Store::pool`] knows whether a
/// write transaction is held. Transports wrap each request, event and job run in it.
pub async fn one_request<F: std::future::Future>(request: F) -> F::Output {
    WRITES_HELD.scope(std::cell::Cell::new(0), request).await
}

/// Counts a write transaction as held by the current request until dropped.
pub(super) struct WriteHeld;

impl WriteHeld {
    pub(super) fn new() -> WriteHeld {
        let _ = WRITES_HELD.try_with(|n| n.set(n.get() + 1));
        WriteHeld
    }
}

impl Drop for WriteHeld {
    fn drop(&mut self) {
        let _ = WRITES_HELD.try_with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Whether the current request holds a write transaction.
pub fn write_held() -> bool {
    WRITES_HELD.try_with(|n| n.get() > 0).unwrap_or(false)
}

/// A failure drawn at `ppm` per million at `point` (tests only; see [`Store::fault`]).
fn injected(ppm: u32, point: &'static str) -> Option<std::io::Error> {
    if ppm == 0 || rand::random_range(0..1_000_000) >= ppm {
        return None;
    }
    metrics::counter!("hub_store_faults_injected_total", "point" => point).increment(1);
    Some(std::io::Error::other(format!(
        "injected failure at {point}"
    )))
}

/// How [`Store::open`] sizes its pool and, on SQLite, how each connection caches the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Largest number of pooled connections for reads.
    pub max_connections: u32,
    /// Postgres: largest number of connections held by domain write transactions, a pool apart
    /// from the readers' (`HUB_DB_WRITE_CONNECTIONS`).
    pub write_connections: u32,
    /// SQLite: the page cache of each connection, in KiB (`PRAGMA cache_size`). A page that is
    /// not in it is read again from the operating system's cache of the file.
    pub sqlite_cache_kib: u32,
    /// SQLite: how much of the file each connection reads through a memory map
    /// (`PRAGMA mmap_size`), in bytes; 0 (the default) reads pages into the connection's cache.
    /// The mapped pages are the operating system's, shared by every connection, but each
    /// connection's map counts them again in the process's resident size.
    pub sqlite_mmap_bytes: u64,
    /// Tests only: the chance, in millionths, that a domain write's statement fails as if the
    /// database had (see [`Store::fault`]); 0 in production.
    pub fault_ppm: u32,
}

impl StoreOptions {
    /// SQLite's own default is 2,000 KiB per connection: sixteen connections that read the
    /// same pages keep sixteen copies of them: 31 MiB once 19,000 members had joined their
    /// rooms (BENCHMARKS.md, "Idle connections and memory").
    pub const SQLITE_CACHE_KIB: u32 = 512;
    pub const SQLITE_MMAP_BYTES: u64 = 0;

    pub fn new(max_connections: u32) -> StoreOptions {
        StoreOptions {
            max_connections,
            write_connections: (max_connections / 2).max(2),
            sqlite_cache_kib: Self::SQLITE_CACHE_KIB,
            sqlite_mmap_bytes: Self::SQLITE_MMAP_BYTES,
            fault_ppm: 0,
        }
    }
}

/// The log's right edge, shared by every write transaction of this store: `None` until read.
pub(super) type Edge = Arc<Mutex<Option<hub_rooms::merkle::Frontier>>>;

#[derive(Clone)]
pub struct Store {
    /// Reads. On Postgres, writes have a pool of their own ([`StoreOptions::write_connections`]),
    /// so a burst of writes never takes the connections readers need.
    pool: AnyPool,
    /// Domain write transactions (the main pool on SQLite, whose writes take turns anyway).
    write_pool: AnyPool,
    /// Where group commits take their connections (the main pool on SQLite).
    commit_pool: AnyPool,
    backend: Backend,
    writer: Arc<Mutex<()>>,
    clock: SharedClock,
    /// See [`StoreOptions::fault_ppm`].
    fault_ppm: u32,
    /// The Merkle log's right edge as this store last committed it (see `auditlog`).
    edge: Edge,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Opens a pool on `url` (`sqlite:` or `postgres://`) with the default options and checks
    /// that one connection works.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, sqlx::Error> {
        Store::open(url, StoreOptions::new(max_connections)).await
    }

    /// Opens a pool on `url` (`sqlite:` or `postgres://`) and checks that one connection works.
    pub async fn open(url: &str, opts: StoreOptions) -> Result<Store, sqlx::Error> {
        install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| {
            sqlx::Error::Configuration(
                "DATABASE_URL must start with postgres://, postgresql:// or sqlite:".into(),
            )
        })?;
        // One direct attempt first: the pool would retry a refused or rejected connection until
        // its acquire timeout, while startup should fail at once with the real cause.
        sqlx::AnyConnection::connect(url).await?.close().await?;
        // No ping before every acquire: it doubles the round trips of every query; a broken
        // connection still fails its query and is replaced.
        let mut options = AnyPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false);
        if backend == Backend::Sqlite {
            options = options.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers run beside the writer; NORMAL is durable across process
                    // crashes in WAL mode and avoids an fsync per commit.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    // Built from two integers of the hub's own settings. A negative cache size
                    // is in KiB rather than in pages.
                    let cache = format!("PRAGMA cache_size = -{}", opts.sqlite_cache_kib.max(1));
                    conn.execute(sqlx::query(sqlx::AssertSqlSafe(cache)))
                        .await?;
                    let mmap = format!("PRAGMA mmap_size = {}", opts.sqlite_mmap_bytes);
                    conn.execute(sqlx::query(sqlx::AssertSqlSafe(mmap))).await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        let commit_pool = match backend {
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(COMMIT_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .test_before_acquire(false)
                .connect_lazy(url)?,
            Backend::Sqlite => pool.clone(),
        };
        let write_pool = match backend {
            // The write-behind's flush carries its rows inside its text (one round trip for
            // all its statements): sqlx must not log that text, slow or not, since it holds
            // what users wrote.
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(opts.write_connections.max(1))
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .test_before_acquire(false)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // A domain batch's statements are prepared once per connection, but
                        // each is planned for its own parameters: a generic plan made while the
                        // tables were small (a fresh database) would keep scanning them whole
                        // as they grow.
                        conn.execute("SET plan_cache_mode = force_custom_plan")
                            .await?;
                        Ok(())
                    })
                })
                .connect_lazy_with(sqlx::ConnectOptions::disable_statement_logging(
                    url.parse::<sqlx::any::AnyConnectOptions>()?,
                )),
            Backend::Sqlite => pool.clone(),
        };
        Ok(Store {
            commit_pool,
            write_pool,
            pool,
            backend,
            writer: Arc::new(Mutex::new(())),
            clock: crate::clock::system(),
            fault_ppm: opts.fault_ppm,
            edge: Default::default(),
        })
    }

    /// The same store, stamping times from `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Store {
        self.clock = clock;
        self
    }

    /// Milliseconds since the Unix epoch, by the store's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads outside any write transaction. A read through it while the current
    /// request holds a write transaction is a defect (it takes a second connection: see
    /// [`WriteTx`]): tests fail on it at once, production counts it
    /// (`hub_store_reads_beside_a_write_total`) and logs where.
    pub fn pool(&self) -> &AnyPool {
        if write_held() {
            metrics::counter!("hub_store_reads_beside_a_write_total").increment(1);
            tracing::error!(
                backtrace = %std::backtrace::Backtrace::force_capture(),
                "a read through the pool while this request holds a write transaction"
            );
            debug_assert!(
                false,
                "a read through the pool while this request holds a write transaction: read through the transaction"
            );
        }
        &self.pool
    }

    /// Applies the embedded migrations of this backend.
    /// Then logs the entries a database made before the Merkle log holds (once).
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        match self.log_backfill().await {
            Ok(0) => Ok(()),
            Ok(n) => {
                tracing::info!(
                    entries = n,
                    "the audit log's Merkle tree now holds the entries written before it"
                );
                Ok(())
            }
            Err(StoreError::Db(e)) => Err(sqlx::migrate::MigrateError::Execute(e)),
            Err(e) => Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Protocol(
                e.to_string(),
            ))),
        }
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let writer = match self.backend {
            Backend::Sqlite => Some(self.writer.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        // SQLite: take the write lock up front. A deferred transaction that reads first can
        // fail to upgrade (SQLITE_BUSY_SNAPSHOT, not retried by busy_timeout) once another
        // connection commits in between.
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write_pool.begin().await?,
        };
        Ok(WriteTx::new(
            tx,
            writer,
            self.now_ms(),
            self.backend,
            self.edge.clone(),
            self.fault_ppm,
        ))
    }

    /// A write transaction for a group commit. On Postgres it comes from a pool of its own, so
    /// that a commit never queues behind the reads of the requests it is committing for; on
    /// SQLite it is [`Store::begin_write`] (one writer anyway).
    pub async fn begin_commit(&self) -> Result<WriteTx, sqlx::Error> {
        match self.backend {
            Backend::Postgres => Ok(WriteTx::new(
                self.commit_pool.begin().await?,
                None,
                self.now_ms(),
                self.backend,
                self.edge.clone(),
                self.fault_ppm,
            )),
            Backend::Sqlite => self.begin_write().await,
        }
    }

    /// Marks where a write of a group commit begins inside `w` (see `services::writes` and
    /// `behind`: a real savepoint is taken only if the write runs a statement of its own).
    pub async fn begin_item(&self, w: &mut WriteTx) -> StoreResult<()> {
        self.fault("savepoint")?;
        w.open_item();
        Ok(())
    }

    /// Ends the write begun by [`Store::begin_item`]: keeps it, or with `undo` takes back
    /// everything it wrote (the transaction goes on, as it was before the write).
    pub async fn end_item(&self, w: &mut WriteTx, undo: bool) -> StoreResult<()> {
        Ok(w.close_item(undo).await?)
    }

    /// Tests only: fails, with the chance set by [`StoreOptions::fault_ppm`], as if the
    /// database had failed at `point` (an I/O error: `unavailable`, to be retried). Called at
    /// the points of a domain write where a real failure would leave it half-done if it were
    /// not all or nothing: after rows are written, before the savepoint is released, before
    /// the commit (and, inside [`WriteTx::commit`], between the log's move and the commit).
    pub fn fault(&self, point: &'static str) -> StoreResult<()> {
        match injected(self.fault_ppm, point) {
            Some(e) => Err(StoreError::Db(sqlx::Error::Io(e))),
            None => Ok(()),
        }
    }

    /// ` FOR UPDATE` on Postgres; empty on SQLite, where the writer lock already serializes.
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.commit_pool.close().await;
    }

    /// The pool of group commits' single statements.
    pub(crate) fn commit_pool(&self) -> &AnyPool {
        &self.commit_pool
    }
}

/// A page of at most `limit` from `rows`, fetched with `LIMIT limit + 1`, and whether more
/// lie beyond it.
pub(crate) fn page<T>(mut rows: Vec<T>, limit: u32) -> (Vec<T>, bool) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    (rows, more)
}

pub use crate::clock::rfc3339;

/// Column `name` of `r` as a typed id.
pub(super) fn id_of<T: From<String>>(r: &sqlx::any::AnyRow, name: &str) -> Result<T, sqlx::Error> {
    use sqlx::Row;
    Ok(T::from(r.try_get::<String, _>(name)?))
}

/// Column `name` of `r`, which may be null, as a typed id.
pub(super) fn opt_id_of<T: From<String>>(
    r: &sqlx::any::AnyRow,
    name: &str,
) -> Result<Option<T>, sqlx::Error> {
    use sqlx::Row;
    Ok(r.try_get::<Option<String>, _>(name)?.map(T::from))
}

/// Those of `items` that `known` does not hold, once each and sorted (the order rows are
/// locked in).
pub(crate) fn unknown<T: Ord + Copy>(items: &[T], known: impl Fn(&T) -> bool) -> Vec<T> {
    let mut out: Vec<T> = items.iter().copied().filter(|i| !known(i)).collect();
    out.sort();
    out.dedup();
    out
}

/// `values` as a JSON array, to bind for [`Backend::json_list`].
pub(crate) fn json_array<T: AsRef<str>>(values: &[T]) -> String {
    serde_json::to_string(&values.iter().map(AsRef::as_ref).collect::<Vec<&str>>())
        .unwrap_or_else(|_| "[]".to_owned())
}

/// A new UUID v7 (time-ordered) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    /// Inside a request, a read through the pool while a write transaction is held is caught
    /// (a debug assertion in tests); once the transaction ends, reads through the pool are
    /// fine again, and outside any request scope nothing is checked.
    #[tokio::test]
    async fn a_read_beside_a_held_write_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let store = Store::connect(&url, 2).await.unwrap();
        store.migrate().await.unwrap();
        let caught = one_request(async {
            let w = store.begin_write().await.unwrap();
            assert!(write_held());
            let beside = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = store.pool();
            }));
            w.commit().await.unwrap();
            assert!(!write_held(), "the transaction ended");
            let _ = store.pool();
            beside.is_err()
        })
        .await;
        assert!(caught, "the read beside the write was let through");
        let w = store.begin_write().await.unwrap();
        assert!(!write_held(), "outside a request scope nothing is counted");
        let _ = store.pool();
        drop(w);
    }

    use super::*;

    async fn pragma(store: &Store, name: &str) -> i64 {
        let sql = format!("PRAGMA {name}");
        let (value,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(store.pool())
            .await
            .unwrap();
        value
    }

    #[tokio::test]
    async fn every_sqlite_connection_gets_the_configured_cache_and_map() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let defaults = Store::connect(&url, 2).await.unwrap();
        // Negative: KiB, as set; SQLite's own default would read -2000.
        assert_eq!(pragma(&defaults, "cache_size").await, -512);
        assert_eq!(pragma(&defaults, "mmap_size").await, 0);
        defaults.pool().close().await;

        let opts = StoreOptions {
            max_connections: 3,
            write_connections: 1,
            sqlite_cache_kib: 1536,
            sqlite_mmap_bytes: 8 << 20,
            fault_ppm: 0,
        };
        let store = Store::open(&url, opts).await.unwrap();
        // Hold every connection of the pool at once: each one was set up, not only the first.
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut conn = store.pool().acquire().await.unwrap();
            let (cache,): (i64,) = sqlx::query_as("PRAGMA cache_size")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let (mmap,): (i64,) = sqlx::query_as("PRAGMA mmap_size")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            assert_eq!((cache, mmap), (-1536, 8 << 20));
            held.push(conn);
        }
        assert_eq!(store.pool().size(), 3);
    }
}
