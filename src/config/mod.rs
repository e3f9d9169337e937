//! Command line and environment. Every flag has an environment variable; `hub --help` lists
//! them. [`Settings::resolve`] turns the flags into the [`Config`] that [`crate::run`] takes,
//! creating the data directory and the JWT secret file of the embedded default when needed.

use crate::services::chat::ChatConfig;
use crate::services::docs::DocsConfig;
use crate::services::presence::PresenceConfig;
use crate::store::Backend;
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The shortest JWT secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
const SECRET_FILE: &str = "jwt_secret";
const SQLITE_FILE: &str = "hub.db";
const AUDIT_KEY_FILE: &str = "audit_key";

#[derive(Debug, Parser)]
#[command(
    name = "hub",
    version,
    about = "Real-time collaboration hub: rooms, presence, chat, documents and REST",
    long_about = "Real-time collaboration hub.\n\nWith no flags it serves on 0.0.0.0:3000 with a SQLite file and a generated JWT secret under ./data (the embedded default). Set DATABASE_URL=postgres://... to keep the data in Postgres. Set REDIS_URL=redis://... to run several nodes as one cluster (with a shared Postgres and the same JWT_SECRET).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The settings of `serve` (the default command) may come before any command.
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP, Socket.IO and WebSocket (the default when no command is given).
    Serve(Settings),
    /// Apply the database migrations and exit.
    Migrate(Settings),
    /// Print a signed JWT for local use, signed with the secret the hub uses (JWT_SECRET, or
    /// DATA_DIR/jwt_secret, which the hub creates on its first start).
    Token(TokenArgs),
    /// The audit log, checked from outside.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the audit log's checkpoints, their consistency and (with --full) every entry:
    /// exit 0 when all holds, 1 naming the first bad index, 2 when it could not check.
    Verify(crate::verifier::VerifyArgs),
}

impl Cli {
    /// The command to run with its settings (`serve` with the top-level settings by default).
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.settings))
    }
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// User id (the `sub` claim).
    #[arg(long)]
    pub user: String,
    /// Display name (defaults to the user id).
    #[arg(long)]
    pub name: Option<String>,
    /// Account role.
    #[arg(long, default_value = "user", value_parser = ["user", "admin", "system"])]
    pub role: String,
    /// Lifetime of the token, e.g. 30m, 24h, 7d.
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
    /// The hub's secret (at least 32 bytes); unset: the one in DATA_DIR.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// The hub's data directory, where it keeps its generated secret.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

impl TokenArgs {
    /// The secret to sign with, and where it came from. Never creates one: a token signed with
    /// a secret the hub does not know would be refused.
    pub fn secret(&self) -> anyhow::Result<(Vec<u8>, String)> {
        if let Some(secret) = &self.jwt_secret {
            return Ok((env_secret(secret)?, "JWT_SECRET".into()));
        }
        let path = self.data_dir.join(SECRET_FILE);
        match read_secret(&path)? {
            Some(secret) => Ok((secret, path.display().to_string())),
            None => bail!(
                "no secret at {}: start the hub once with this DATA_DIR (it creates one), or pass --data-dir or JWT_SECRET",
                path.display()
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on. Unset: 127.0.0.1:3000 in development (only this machine can
    /// reach the development sign-in), 0.0.0.0:3000 in any other environment.
    #[arg(long = "addr", env = "HUB_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Database URL: postgres://user@host/db, or sqlite:path. Unset: SQLite file in DATA_DIR.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis URL for fan-out across nodes (`redis://[:password@]host:port[/db]` or
    /// `rediss://` for TLS). Unset: in-process fan-out (one node).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Prefix of the hub's Redis channels, so several clusters can share one Redis.
    #[arg(long, env = "HUB_REDIS_PREFIX", default_value = "hub:")]
    pub redis_prefix: String,
    /// HS256 secret for tokens (at least 32 bytes). Unset: generated once into DATA_DIR.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Directory for the embedded database and the generated secret.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Name of this deployment, reported by /api/health.
    #[arg(long, env = "HUB_ENV", default_value = "development")]
    pub environment: String,
    /// Allowed browser origins, comma separated; `*` allows any.
    #[arg(
        long,
        env = "HUB_CORS_ORIGINS",
        default_value = "*",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Largest pool of database connections for reads.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    /// Postgres: connections for domain write transactions, a pool apart from the readers'
    /// (so a burst of writes never starves a read). Unset: half of DATABASE_MAX_CONNECTIONS, at
    /// least 2.
    #[arg(long, env = "HUB_DB_WRITE_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub db_write_connections: Option<u32>,
    /// SQLite: page cache of each pooled connection, in KiB.
    #[arg(long, env = "HUB_SQLITE_CACHE_KIB", default_value_t = crate::store::StoreOptions::SQLITE_CACHE_KIB, value_parser = clap::value_parser!(u32).range(64..=4_194_304))]
    pub sqlite_cache_kib: u32,
    /// SQLite: how much of the database file each connection reads through a memory map, in
    /// MiB; 0 (the default) turns the map off.
    #[arg(long, env = "HUB_SQLITE_MMAP_MIB", default_value_t = crate::store::StoreOptions::SQLITE_MMAP_BYTES >> 20, value_parser = clap::value_parser!(u64).range(0..=1_048_576))]
    pub sqlite_mmap_mib: u64,
    /// Packets buffered per socket before it counts as a slow consumer and is disconnected.
    #[arg(long, env = "HUB_SOCKET_BUFFER", default_value_t = 1024)]
    pub socket_buffer: usize,
    /// Read buffer of each Socket.IO WebSocket, in bytes: what an idle connection keeps for
    /// reading. A longer message is read in steps of this size.
    #[arg(long, env = "HUB_WS_READ_BUFFER", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(256..=1_048_576))]
    pub ws_read_buffer: u32,
    /// Largest Socket.IO payload accepted, in bytes.
    #[arg(long, env = "HUB_MAX_PAYLOAD", default_value_t = 1_000_000)]
    pub max_payload: u64,
    /// Engine.IO ping interval.
    #[arg(long, env = "HUB_PING_INTERVAL", default_value = "25s", value_parser = humantime::parse_duration)]
    pub ping_interval: Duration,
    /// Engine.IO ping timeout.
    #[arg(long, env = "HUB_PING_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration)]
    pub ping_timeout: Duration,
    /// A connection whose writes make no progress for this long (the peer stopped reading) is
    /// closed and its memory freed.
    #[arg(long, env = "HUB_WRITE_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub write_timeout: Duration,
    /// A Socket.IO session that has not completed its CONNECT (authenticated) by then is closed.
    #[arg(long, env = "HUB_CONNECT_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// How long a user stays present after their last connection closed (hides a reload).
    #[arg(long, env = "HUB_PRESENCE_GRACE", default_value = "5s", value_parser = humantime::parse_duration)]
    pub presence_grace: Duration,
    /// How long a typing indicator lasts without a refresh.
    #[arg(long, env = "HUB_TYPING_TTL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub typing_ttl: Duration,
    /// REST requests without a token, per client IP address: `count/period`.
    #[arg(long, env = "HUB_REST_RATE_ANON", default_value = "100/15m", value_parser = parse_quota)]
    pub rest_rate_anon: hub_rooms::rate::Quota,
    /// REST requests with a token, per user: `count/period`.
    #[arg(long, env = "HUB_REST_RATE_USER", default_value = "3000/15m", value_parser = parse_quota)]
    pub rest_rate_user: hub_rooms::rate::Quota,
    /// Take a client's address from X-Forwarded-For (behind proxies): the entry
    /// `HUB_TRUSTED_PROXY_HOPS` places from the right, or, with `HUB_TRUSTED_PROXIES`, the
    /// right-most entry that is not one of them. Never the left-most, which the client writes.
    #[arg(long, env = "HUB_TRUST_FORWARDED", default_value_t = false)]
    pub trust_forwarded: bool,
    /// Live connections (Socket.IO and /yjs together) one user may hold on a node; 0: no limit.
    #[arg(long, env = "HUB_MAX_CONNS_PER_USER", default_value_t = 100)]
    pub max_conns_per_user: u32,
    /// Live connections one client address may hold on a node; 0: no limit.
    #[arg(long, env = "HUB_MAX_CONNS_PER_IP", default_value_t = 1000)]
    pub max_conns_per_ip: u32,
    /// Handshakes (Socket.IO and /yjs, refused ones too) one address may start: `count/period`,
    /// or `off`.
    #[arg(long, env = "HUB_HANDSHAKE_RATE_IP", default_value = "200/10s", value_parser = parse_optional_quota)]
    pub handshake_rate_ip: OptionalQuota,
    /// How many proxies in front of the hub append to X-Forwarded-For.
    #[arg(long, env = "HUB_TRUSTED_PROXY_HOPS", default_value_t = 1)]
    pub trusted_proxy_hops: usize,
    /// The proxies' addresses or networks, comma-separated (`10.0.0.0/8,192.0.2.7`); when
    /// set, they decide instead of the hop count.
    #[arg(long, env = "HUB_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often the `worm-integrity` job re-walks the audit chains.
    #[arg(long, env = "HUB_JOB_WORM_INTEGRITY", default_value = "5m", value_parser = humantime::parse_duration)]
    pub job_worm_integrity: Duration,
    /// How often the `badges-hourly` job evaluates every user's badges.
    #[arg(long, env = "HUB_JOB_BADGES", default_value = "1h", value_parser = humantime::parse_duration)]
    pub job_badges: Duration,
    /// When (UTC, `HH:MM`) the `reputation-daily` job folds the previous day into reputations.
    #[arg(long, env = "HUB_JOB_REPUTATION_AT", default_value = "02:00", value_parser = crate::services::jobs::Schedule::parse_daily)]
    pub job_reputation_at: crate::services::jobs::Schedule,
    /// How often the `conversion-windows` job moves the conversion windows.
    #[arg(long, env = "HUB_JOB_CONVERSION_WINDOWS", default_value = "15m", value_parser = humantime::parse_duration)]
    pub job_conversion_windows: Duration,
    /// How often the `files-scrub` job re-hashes every stored file.
    #[arg(long, env = "HUB_JOB_FILES_SCRUB", default_value = "24h", value_parser = humantime::parse_duration)]
    pub job_files_scrub: Duration,
    /// The Ed25519 key that signs the audit log's checkpoints, as a C2SP signed-note signer key
    /// (`PRIVATE+KEY+<name>+<hash>+<key>`). Unset: generated once into DATA_DIR/audit_key.
    /// Every node of a cluster needs the same one.
    #[arg(long, env = "HUB_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// The origin line of the audit log's checkpoints (a schema-less URL naming this log).
    /// Unset: the key's name.
    #[arg(long, env = "HUB_AUDIT_ORIGIN")]
    pub audit_origin: Option<String>,
    /// How often the `audit-checkpoint` job signs the audit log's head (when it grew).
    #[arg(long, env = "HUB_AUDIT_CHECKPOINT_EVERY", default_value = "1m", value_parser = humantime::parse_duration)]
    pub audit_checkpoint_every: Duration,
    /// Witnesses' `add-checkpoint` URLs (C2SP tlog-witness), comma separated: each new
    /// checkpoint is POSTed to them.
    #[arg(long, env = "HUB_AUDIT_WITNESSES", value_delimiter = ',')]
    pub audit_witnesses: Vec<String>,
    /// How long a witness may take to answer.
    #[arg(long, env = "HUB_AUDIT_WITNESS_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub audit_witness_timeout: Duration,
    /// Where uploaded files live: `s3://bucket/prefix` (with the usual AWS_* variables), or
    /// unset for `DATA_DIR/files`.
    #[arg(long, env = "HUB_FILES_URL")]
    pub files_url: Option<String>,
    /// The largest upload, in bytes.
    #[arg(long, env = "HUB_FILES_MAX_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub files_max_bytes: u64,
    /// Content types accepted for uploads, comma separated (default: PDF, images, text, CSV,
    /// Markdown, JSON, ZIP and office documents).
    #[arg(long, env = "HUB_FILES_TYPES", value_delimiter = ',')]
    pub files_types: Vec<String>,
    /// How much of a refused upload's body the hub still reads and drops, so that the client
    /// sees the answer (413, 415, 400...) instead of a reset; a larger body is cut off.
    #[arg(long, env = "HUB_UPLOAD_DRAIN_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub upload_drain_bytes: u64,
    /// How long the hub reads a refused upload's body at most before it answers.
    #[arg(long, env = "HUB_UPLOAD_DRAIN_TIME", default_value = "10s", value_parser = humantime::parse_duration)]
    pub upload_drain_time: Duration,
    /// How long a document link shared with a client lives when its share has no expiry.
    #[arg(long, env = "HUB_SHARE_LINK_TTL", default_value = "30d", value_parser = humantime::parse_duration)]
    pub share_link_ttl: Duration,
    /// Credit BUZ only to users whose KYC passed.
    #[arg(long, env = "HUB_BUZ_REQUIRE_KYC", default_value_t = true, action = clap::ArgAction::Set)]
    pub buz_require_kyc: bool,
    /// The least reputation a user needs to be credited BUZ.
    #[arg(long, env = "HUB_BUZ_MIN_REPUTATION", default_value_t = 60.0)]
    pub buz_min_reputation: f64,
    /// The most BUZ credits a user receives in an hour (velocity).
    #[arg(long, env = "HUB_BUZ_MAX_CREDITS_PER_HOUR", default_value_t = 20)]
    pub buz_max_credits_per_hour: i64,
    /// The most BUZ a user is credited in a UTC day.
    #[arg(long, env = "HUB_BUZ_DAILY_CAP", default_value_t = 2000)]
    pub buz_daily_cap: i64,
    /// The least time between two live `leaderboard` pushes of one venture.
    #[arg(long, env = "HUB_LEADERBOARD_THROTTLE", default_value = "2s", value_parser = humantime::parse_duration)]
    pub leaderboard_throttle: Duration,
    /// How often a node tells the others it is alive (a cluster's heartbeat).
    #[arg(long, env = "HUB_HEARTBEAT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub heartbeat: Duration,
    /// Silence after which the other nodes take a node for dead and drop its connections.
    #[arg(long, env = "HUB_NODE_TIMEOUT", default_value = "6s", value_parser = humantime::parse_duration)]
    pub node_timeout: Duration,
    /// Longest chat message, in characters.
    #[arg(long, env = "HUB_MAX_MESSAGE_CHARS", default_value_t = 4000)]
    pub max_message_chars: usize,
    /// Chat messages a user may send per second, sustained.
    #[arg(long, env = "HUB_CHAT_RATE", default_value_t = 10.0)]
    pub chat_rate: f64,
    /// Chat messages a user may send at once before the rate applies.
    #[arg(long, env = "HUB_CHAT_BURST", default_value_t = 30)]
    pub chat_burst: u32,
    /// Most chat sends stored in one transaction: the sends that queue up while a commit is
    /// in flight go together in the next one (no waiting window).
    #[arg(long, env = "HUB_CHAT_GROUP_COMMIT", default_value_t = 256)]
    pub chat_group_commit: usize,
    /// How long a member's role, read for an action in a room they joined (a chat send,
    /// typing), is reused; membership changes made through the API apply at once anyway, on
    /// every node. 0s reads it every time.
    #[arg(long, env = "HUB_ROLE_CACHE", default_value = "1s", value_parser = humantime::parse_duration)]
    pub role_cache: Duration,
    /// Requests that may wait for one user's turn (their events, wallet, endorsements, badges)
    /// before the next is refused with `busy`.
    #[arg(long, env = "HUB_USER_QUEUE", default_value_t = crate::services::turns::DEFAULT_DEPTH, value_parser = parse_queue_depth)]
    pub user_queue: usize,
    /// Queues of the domain group commit (events, adjustments, conversions, endorsements,
    /// badge awards), each with one worker and one write transaction at a time; one user's
    /// writes always go to the same one. Unset: 1 on SQLite, 4 on Postgres.
    #[arg(long, env = "HUB_DOMAIN_LANES", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub domain_lanes: Option<u32>,
    /// Most domain writes committed in one transaction.
    #[arg(long, env = "HUB_DOMAIN_GROUP_COMMIT", default_value_t = crate::services::writes::DEFAULT_GROUP_COMMIT as u32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub domain_group_commit: u32,
    /// Tests only: the chance (0 to 1) that a domain write fails as if the database had, at a
    /// random point of it. Never set it in production.
    #[arg(long, env = "HUB_TEST_DB_FAULTS", default_value_t = 0.0, hide = true)]
    pub db_faults: f64,
    /// A document without connections unloads from memory after this long.
    #[arg(long, env = "HUB_DOC_IDLE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub doc_idle: Duration,
    /// Largest document update in one message, in bytes.
    #[arg(long, env = "HUB_DOC_MAX_UPDATE", default_value_t = 1024 * 1024)]
    pub doc_max_update: usize,
    /// Largest document, in bytes of the updates it is made of.
    #[arg(long, env = "HUB_DOC_MAX_SIZE", default_value_t = 64 * 1024 * 1024)]
    pub doc_max_size: usize,
    /// Documents one Socket.IO connection may have open at once.
    #[arg(long, env = "HUB_DOCS_PER_SOCKET", default_value_t = 32)]
    pub docs_per_socket: usize,
    /// Bytes queued for one `/yjs` connection before it is closed as too slow.
    #[arg(long, env = "HUB_DOC_QUEUE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub doc_queue_bytes: usize,
    /// Most document frames whose updates go to the log in one statement: frames that arrive
    /// while a write is in flight go together in the next one (no waiting window).
    #[arg(long, env = "HUB_DOC_GROUP_COMMIT", default_value_t = 512)]
    pub doc_group_commit: usize,
    /// Most frames of one `/yjs` connection, already read, handled together: their updates
    /// are merged into one, logged in one row and relayed as one frame (1 turns it off).
    #[arg(long, env = "HUB_DOC_READ_BATCH", default_value_t = 32)]
    pub doc_read_batch: usize,
    /// Largest awareness message (the JSON of its states), in bytes.
    #[arg(long, env = "HUB_DOC_MAX_AWARENESS", default_value_t = 32 * 1024)]
    pub doc_max_awareness: usize,
    /// Awareness messages one document connection may send per second, sustained.
    #[arg(long, env = "HUB_DOC_AWARENESS_RATE", default_value_t = 30.0)]
    pub doc_awareness_rate: f64,
    /// Awareness messages one document connection may send at once.
    #[arg(long, env = "HUB_DOC_AWARENESS_BURST", default_value_t = 60)]
    pub doc_awareness_burst: u32,
}

/// Socket.IO tuning.
#[derive(Debug, Clone)]
pub struct SocketConfig {
    pub max_buffer_size: usize,
    pub max_payload: u64,
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// WebSocket read buffer per connection; small keeps idle connections cheap.
    pub ws_read_buffer_size: usize,
    /// A connection whose writes make no progress for this long is closed (the peer stopped
    /// reading); applies to every connection: Socket.IO, `/yjs` and plain HTTP.
    pub write_timeout: Duration,
    /// A Socket.IO session that has not completed its CONNECT by then is closed.
    pub connect_timeout: Duration,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig {
            max_buffer_size: 1024,
            max_payload: 1_000_000,
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            ws_read_buffer_size: 1024,
            write_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Everything [`crate::run`] needs, resolved and validated.
#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub db_max_connections: u32,
    /// See [`crate::store::StoreOptions::write_connections`].
    pub db_write_connections: u32,
    /// See [`crate::store::StoreOptions`].
    pub sqlite_cache_kib: u32,
    pub sqlite_mmap_bytes: u64,
    pub redis_url: Option<String>,
    /// Prefix of the hub's Redis channels.
    pub redis_prefix: String,
    pub jwt_secret: Vec<u8>,
    pub environment: String,
    pub cors_origins: Vec<String>,
    pub socket: SocketConfig,
    /// A name for this node, unique in a cluster.
    pub node_id: String,
    pub presence: PresenceConfig,
    pub chat: ChatConfig,
    /// See [`crate::services::access::Access::member_recent`].
    pub role_cache: Duration,
    /// See [`crate::services::turns`].
    pub user_queue: usize,
    /// See [`crate::services::writes`].
    pub writes: crate::services::writes::WritesConfig,
    /// See [`crate::store::StoreOptions::fault_ppm`].
    pub db_fault_ppm: u32,
    pub docs: DocsConfig,
    pub jobs: crate::services::jobs::JobsConfig,
    pub gamification: crate::services::gamification::GamificationConfig,
    pub buz: crate::services::wallets::BuzConfig,
    pub files: crate::services::files::FilesConfig,
    pub audit_log: crate::services::auditlog::AuditLogConfig,
    pub rest_limits: crate::limits::RestLimitsConfig,
    pub conn_limits: hub_rooms::conns::ConnLimits,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &redact_url(&self.database_url))
            .field("redis", &self.redis_url.as_deref().map(redact_url))
            .field("environment", &self.environment)
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A config for `database_url` with everything else at its default; for tests and tools.
    pub fn new(database_url: impl Into<String>, jwt_secret: impl Into<Vec<u8>>) -> Config {
        Config {
            database_url: database_url.into(),
            db_max_connections: 16,
            db_write_connections: 8,
            sqlite_cache_kib: crate::store::StoreOptions::SQLITE_CACHE_KIB,
            sqlite_mmap_bytes: crate::store::StoreOptions::SQLITE_MMAP_BYTES,
            redis_url: None,
            redis_prefix: "hub:".into(),
            jwt_secret: jwt_secret.into(),
            environment: "test".into(),
            cors_origins: vec!["*".into()],
            socket: SocketConfig::default(),
            node_id: new_node_id(),
            presence: PresenceConfig::default(),
            chat: ChatConfig::default(),
            role_cache: Duration::from_secs(1),
            user_queue: crate::services::turns::DEFAULT_DEPTH,
            writes: Default::default(),
            db_fault_ppm: 0,
            docs: DocsConfig::default(),
            jobs: crate::services::jobs::JobsConfig::default(),
            gamification: Default::default(),
            buz: Default::default(),
            files: Default::default(),
            audit_log: Default::default(),
            rest_limits: crate::limits::RestLimitsConfig::default(),
            conn_limits: hub_rooms::conns::ConnLimits::default(),
        }
    }

    pub fn backend(&self) -> Backend {
        Backend::from_url(&self.database_url).unwrap_or(Backend::Sqlite)
    }
}

/// A queue depth: 1 to 1,000,000.
fn parse_queue_depth(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a number from 1 to 1000000")),
    }
}

/// An address (`192.0.2.7`, one host) or a network (`10.0.0.0/8`).
fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a network like 10.0.0.0/8"))
}

/// A quota, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalQuota(pub Option<hub_rooms::rate::Quota>);

fn parse_optional_quota(text: &str) -> Result<OptionalQuota, String> {
    match text.trim() {
        "off" | "none" | "0" => Ok(OptionalQuota(None)),
        other => hub_rooms::rate::Quota::parse(other).map(|q| OptionalQuota(Some(q))),
    }
}

fn parse_quota(text: &str) -> Result<hub_rooms::rate::Quota, String> {
    hub_rooms::rate::Quota::parse(text)
}

/// A random node id: short, readable in logs.
pub fn new_node_id() -> String {
    let n: u32 = rand::random();
    format!("node-{n:08x}")
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl Settings {
    /// Where to listen: `HUB_ADDR`, or by default loopback in development (the development
    /// sign-in must not face a network) and every interface elsewhere.
    pub fn listen_addr(&self) -> SocketAddr {
        self.addr.unwrap_or_else(|| {
            let ip = if self.environment == "development" {
                std::net::Ipv4Addr::LOCALHOST
            } else {
                std::net::Ipv4Addr::UNSPECIFIED
            };
            SocketAddr::from((ip, 3000))
        })
    }

    /// Validates the settings and builds the [`Config`]. Creates `DATA_DIR`, and the secret file
    /// in it, when the embedded defaults need them.
    pub fn resolve(&self) -> anyhow::Result<Config> {
        let database_url = match &self.database_url {
            Some(url) => {
                if Backend::from_url(url).is_none() {
                    bail!(
                        "DATABASE_URL {:?} is not supported: use postgres://user@host:5432/db or sqlite:path",
                        redact_url(url)
                    );
                }
                url.clone()
            }
            None => {
                self.ensure_data_dir()?;
                let path = self.data_dir.join(SQLITE_FILE);
                format!("sqlite://{}?mode=rwc", path.display())
            }
        };
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            bail!("REDIS_URL {:?} is not a redis:// URL", redact_url(url));
        }
        let jwt_secret = self.jwt_secret()?;
        if self.write_timeout.is_zero() || self.connect_timeout.is_zero() {
            bail!("HUB_WRITE_TIMEOUT and HUB_CONNECT_TIMEOUT must be longer than zero");
        }
        if self.socket_buffer == 0 {
            bail!("HUB_SOCKET_BUFFER must be at least 1");
        }
        if self.job_worm_integrity.is_zero()
            || self.job_badges.is_zero()
            || self.job_conversion_windows.is_zero()
            || self.job_files_scrub.is_zero()
            || self.audit_checkpoint_every.is_zero()
        {
            bail!(
                "HUB_JOB_WORM_INTEGRITY, HUB_JOB_BADGES, HUB_JOB_CONVERSION_WINDOWS, HUB_JOB_FILES_SCRUB and HUB_AUDIT_CHECKPOINT_EVERY must be longer than zero"
            );
        }
        if !self.buz_min_reputation.is_finite()
            || self.buz_min_reputation < 0.0
            || self.buz_max_credits_per_hour < 0
            || self.buz_daily_cap < 0
        {
            bail!(
                "HUB_BUZ_MIN_REPUTATION, HUB_BUZ_MAX_CREDITS_PER_HOUR and HUB_BUZ_DAILY_CAP must be 0 or more"
            );
        }
        if self.heartbeat.is_zero() || self.node_timeout <= self.heartbeat {
            bail!(
                "HUB_NODE_TIMEOUT must be longer than HUB_HEARTBEAT, and HUB_HEARTBEAT longer than zero"
            );
        }
        if self.max_message_chars == 0 {
            bail!("HUB_MAX_MESSAGE_CHARS must be at least 1");
        }
        if !(self.chat_rate.is_finite() && self.chat_rate > 0.0) || self.chat_burst == 0 {
            bail!("HUB_CHAT_RATE must be a positive number and HUB_CHAT_BURST at least 1");
        }
        if !(1..=10_000).contains(&self.chat_group_commit) {
            bail!("HUB_CHAT_GROUP_COMMIT must be between 1 and 10000");
        }
        if !(1..=10_000).contains(&self.doc_group_commit) {
            bail!("HUB_DOC_GROUP_COMMIT must be between 1 and 10000");
        }
        if !(self.db_faults.is_finite() && (0.0..=1.0).contains(&self.db_faults)) {
            bail!("HUB_TEST_DB_FAULTS must be between 0 and 1");
        }
        if !(1..=1024).contains(&self.doc_read_batch) {
            bail!("HUB_DOC_READ_BATCH must be between 1 and 1024");
        }
        if !(self.doc_awareness_rate.is_finite() && self.doc_awareness_rate > 0.0)
            || self.doc_awareness_burst == 0
        {
            bail!(
                "HUB_DOC_AWARENESS_RATE must be a positive number and HUB_DOC_AWARENESS_BURST at least 1"
            );
        }
        Ok(Config {
            database_url,
            db_max_connections: self.db_max_connections,
            db_write_connections: self
                .db_write_connections
                .unwrap_or((self.db_max_connections / 2).max(2)),
            sqlite_cache_kib: self.sqlite_cache_kib,
            sqlite_mmap_bytes: self.sqlite_mmap_mib << 20,
            redis_url: self.redis_url.clone(),
            redis_prefix: self.redis_prefix.clone(),
            jwt_secret,
            environment: self.environment.clone(),
            cors_origins: self.cors_origins.clone(),
            socket: SocketConfig {
                max_buffer_size: self.socket_buffer,
                max_payload: self.max_payload,
                ping_interval: self.ping_interval,
                ping_timeout: self.ping_timeout,
                write_timeout: self.write_timeout,
                connect_timeout: self.connect_timeout,
                ws_read_buffer_size: self.ws_read_buffer as usize,
            },
            node_id: new_node_id(),
            presence: PresenceConfig {
                grace: self.presence_grace,
                typing_ttl: self.typing_ttl,
                heartbeat: self.heartbeat,
                dead_after: self.node_timeout,
            },
            role_cache: self.role_cache,
            user_queue: self.user_queue,
            writes: crate::services::writes::WritesConfig {
                lanes: self.domain_lanes.map(|n| n as usize),
                group_commit: self.domain_group_commit as usize,
            },
            db_fault_ppm: (self.db_faults * 1_000_000.0).round() as u32,
            chat: ChatConfig {
                max_body_chars: self.max_message_chars,
                rate_per_second: self.chat_rate,
                burst: self.chat_burst,
                group_commit: self.chat_group_commit,
            },
            docs: DocsConfig {
                limits: hub_rooms::doc::DocLimits {
                    max_update_bytes: self.doc_max_update,
                    max_doc_bytes: self.doc_max_size,
                    max_awareness_bytes: self.doc_max_awareness,
                    awareness_per_second: self.doc_awareness_rate,
                    awareness_burst: self.doc_awareness_burst,
                },
                idle_unload: self.doc_idle,
                max_docs_per_socket: self.docs_per_socket,
                queue_bytes: self.doc_queue_bytes,
                group_commit: self.doc_group_commit,
                read_batch: self.doc_read_batch,
                ..DocsConfig::default()
            },
            jobs: crate::services::jobs::JobsConfig {
                worm_integrity_every: self.job_worm_integrity,
                badges_every: self.job_badges,
                reputation: self.job_reputation_at,
                conversion_windows_every: self.job_conversion_windows,
                files_scrub_every: self.job_files_scrub,
                audit_checkpoint_every: self.audit_checkpoint_every,
            },
            files: self.files_config()?,
            audit_log: self.audit_log_config()?,
            buz: crate::services::wallets::BuzConfig {
                gates: hub_rooms::wallets::Gates {
                    require_kyc: self.buz_require_kyc,
                    min_reputation: self.buz_min_reputation,
                    max_credits_per_hour: self.buz_max_credits_per_hour,
                    daily_cap: self.buz_daily_cap,
                },
            },
            gamification: crate::services::gamification::GamificationConfig {
                leaderboard_throttle: self.leaderboard_throttle,
            },
            rest_limits: crate::limits::RestLimitsConfig {
                anonymous: self.rest_rate_anon,
                user: self.rest_rate_user,
                forwarded: match (self.trust_forwarded, self.trusted_proxies.is_empty()) {
                    (false, _) => crate::limits::Forwarded::Ignored,
                    (true, true) => crate::limits::Forwarded::Hops(self.trusted_proxy_hops),
                    (true, false) => {
                        crate::limits::Forwarded::Proxies(self.trusted_proxies.clone())
                    }
                },
            },
            conn_limits: hub_rooms::conns::ConnLimits {
                per_user: self.max_conns_per_user,
                per_ip: self.max_conns_per_ip,
                handshakes_per_ip: self.handshake_rate_ip.0,
            },
        })
    }

    fn files_config(&self) -> anyhow::Result<crate::services::files::FilesConfig> {
        if let Some(url) = &self.files_url
            && !url.starts_with("s3://")
        {
            bail!("HUB_FILES_URL {url:?} is not an s3://bucket/prefix URL");
        }
        if self.files_max_bytes == 0 {
            bail!("HUB_FILES_MAX_BYTES must be at least 1");
        }
        let defaults = crate::services::files::FilesConfig::default();
        let types: Vec<String> = self
            .files_types
            .iter()
            .map(|t| hub_rooms::files::essence(t))
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(t) = types
            .iter()
            .find(|t| !hub_rooms::files::DEFAULT_TYPES.contains(&t.as_str()))
        {
            bail!(
                "HUB_FILES_TYPES: the hub cannot recognise {t:?} from its first bytes; known: {}",
                hub_rooms::files::DEFAULT_TYPES.join(", ")
            );
        }
        Ok(crate::services::files::FilesConfig {
            url: self.files_url.clone(),
            s3_options: Vec::new(),
            dir: self.data_dir.join("files"),
            max_bytes: self.files_max_bytes,
            types: if types.is_empty() {
                defaults.types
            } else {
                types
            },
            link_ttl: self.share_link_ttl,
            drain_bytes: self.upload_drain_bytes,
            drain_time: self.upload_drain_time,
        })
    }

    fn audit_log_config(&self) -> anyhow::Result<crate::services::auditlog::AuditLogConfig> {
        use crate::services::auditlog::{AuditLogConfig, DEFAULT_ORIGIN, new_key};
        use hub_rooms::checkpoint::NoteSigner;
        let (key, from) = match &self.audit_key_file {
            Some(path) => (
                std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read HUB_AUDIT_KEY_FILE {}", path.display())
                })?,
                path.clone(),
            ),
            None => {
                self.ensure_data_dir()?;
                let path = self.data_dir.join(AUDIT_KEY_FILE);
                let name = self.audit_origin.as_deref().unwrap_or(DEFAULT_ORIGIN);
                let made =
                    new_key(name).map_err(|e| anyhow::anyhow!("HUB_AUDIT_ORIGIN {name:?}: {e}"))?;
                (load_or_create(&path, &made)?, path)
            }
        };
        let signer = NoteSigner::parse(&key)
            .map_err(|e| anyhow::anyhow!("the audit key in {}: {e}", from.display()))?;
        let origin = self
            .audit_origin
            .clone()
            .unwrap_or_else(|| signer.name().to_owned());
        if origin.is_empty() || origin.contains('\n') {
            bail!("HUB_AUDIT_ORIGIN must be one non-empty line");
        }
        for url in &self.audit_witnesses {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("HUB_AUDIT_WITNESSES: {url:?} is not an http(s) URL");
            }
        }
        Ok(AuditLogConfig {
            origin,
            key: key.trim().to_owned(),
            witnesses: self.audit_witnesses.clone(),
            witness_timeout: self.audit_witness_timeout,
        })
    }

    /// The JWT secret: `JWT_SECRET`, or the one kept in `DATA_DIR` (generated on first use,
    /// mode 0600).
    pub fn jwt_secret(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(secret) = &self.jwt_secret {
            return env_secret(secret);
        }
        self.ensure_data_dir()?;
        load_or_create_secret(&self.data_dir.join(SECRET_FILE))
    }

    fn ensure_data_dir(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create DATA_DIR {}", self.data_dir.display()))
    }
}

/// `JWT_SECRET`, checked.
fn env_secret(secret: &str) -> anyhow::Result<Vec<u8>> {
    if secret.len() < MIN_SECRET_LEN {
        bail!(
            "JWT_SECRET is {} bytes long; it must be at least {MIN_SECRET_LEN}",
            secret.len()
        );
    }
    Ok(secret.as_bytes().to_vec())
}

/// The secret kept in `path`, checked; `None` when there is none yet.
fn read_secret(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read_to_string(path) {
        Ok(s) => {
            let s = s.trim();
            if s.len() < MIN_SECRET_LEN {
                bail!(
                    "the secret in {} is shorter than {MIN_SECRET_LEN} bytes; delete it to generate a new one",
                    path.display()
                );
            }
            Ok(Some(s.as_bytes().to_vec()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The text kept in `path`, or `made` written there first (mode 0600) when there is none.
fn load_or_create(path: &Path, made: &str) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => return Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(made.as_bytes())
                .and_then(|_| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(made.to_owned())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = read_secret(path)? {
        return Ok(secret);
    }
    load_or_create(path, &hex::encode(rand::random::<[u8; 32]>()))?;
    read_secret(path)?.ok_or_else(|| anyhow::anyhow!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path) -> Settings {
        let cli = Cli::parse_from(["hub", "--data-dir", dir.to_str().unwrap()]);
        cli.settings
    }

    #[test]
    fn embedded_default_creates_a_private_secret_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path());
        let first = s.resolve().unwrap();
        assert!(first.database_url.starts_with("sqlite://"));
        assert_eq!(first.jwt_secret.len(), 64);
        let second = s.resolve().unwrap();
        assert_eq!(first.jwt_secret, second.jwt_secret);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_audit_key_is_generated_once_privately_or_read_from_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path());
        let first = s.resolve().unwrap().audit_log;
        assert_eq!(first.origin, crate::services::auditlog::DEFAULT_ORIGIN);
        assert!(first.key.starts_with("PRIVATE+KEY+localhost/hub-audit+"));
        assert_eq!(s.resolve().unwrap().audit_log.key, first.key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(AUDIT_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // An operator's key file; the origin defaults to its name.
        let file = dir.path().join("operator.key");
        let key = crate::services::auditlog::new_key("audit.example.com/hub").unwrap();
        std::fs::write(&file, format!("{key}\n")).unwrap();
        s.audit_key_file = Some(file.clone());
        let chosen = s.resolve().unwrap().audit_log;
        assert_eq!(chosen.key, key);
        assert_eq!(chosen.origin, "audit.example.com/hub");
        s.audit_origin = Some("other.example/log".into());
        assert_eq!(s.resolve().unwrap().audit_log.origin, "other.example/log");
        // A file that holds no signer key, a missing one, a witness that is not a URL.
        std::fs::write(&file, "not a key").unwrap();
        let e = s.resolve().unwrap_err().to_string();
        assert!(e.contains("the audit key in"), "{e}");
        s.audit_key_file = Some(dir.path().join("missing.key"));
        assert!(
            s.resolve()
                .unwrap_err()
                .to_string()
                .contains("HUB_AUDIT_KEY_FILE")
        );
        s.audit_key_file = None;
        s.audit_witnesses = vec!["ftp://witness".into()];
        assert!(
            s.resolve()
                .unwrap_err()
                .to_string()
                .contains("HUB_AUDIT_WITNESSES")
        );
    }

    #[test]
    fn short_secret_and_bad_urls_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path());
        s.jwt_secret = Some("short".into());
        let err = s.resolve().unwrap_err().to_string();
        assert!(err.contains("at least 32"), "{err}");

        let mut s = settings(dir.path());
        s.database_url = Some("mysql://x@y/z".into());
        assert!(
            s.resolve()
                .unwrap_err()
                .to_string()
                .contains("not supported")
        );

        let mut s = settings(dir.path());
        s.redis_url = Some("http://nope".into());
        assert!(s.resolve().unwrap_err().to_string().contains("REDIS_URL"));
    }

    #[test]
    fn the_doc_read_batch_is_a_bounded_setting() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(settings(dir.path()).resolve().unwrap().docs.read_batch, 32);
        for (value, ok) in [("0", false), ("1", true), ("1024", true), ("1025", false)] {
            let cli = Cli::parse_from([
                "hub",
                "--data-dir",
                dir.path().to_str().unwrap(),
                "--doc-read-batch",
                value,
            ]);
            match cli.settings.resolve() {
                Ok(c) => {
                    assert!(ok, "{value} was accepted");
                    assert_eq!(c.docs.read_batch.to_string(), value);
                }
                Err(e) => {
                    assert!(!ok, "{value} was refused: {e}");
                    assert!(e.to_string().contains("HUB_DOC_READ_BATCH"), "{e}");
                }
            }
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/hub.db"), "sqlite://data/hub.db");
    }

    #[test]
    fn serve_is_the_default_command_and_flags_parse() {
        let cli = Cli::parse_from(["hub", "--addr", "127.0.0.1:4000", "--ping-interval", "5s"]);
        assert!(cli.command.is_none());
        assert_eq!(
            cli.settings.listen_addr(),
            "127.0.0.1:4000".parse().unwrap()
        );
        assert_eq!(cli.settings.ping_interval, Duration::from_secs(5));
        let cli = Cli::parse_from(["hub", "serve", "--addr", "127.0.0.1:4001"]);
        match cli.into_command() {
            Command::Serve(s) => assert_eq!(s.listen_addr(), "127.0.0.1:4001".parse().unwrap()),
            other => panic!("unexpected {other:?}"),
        }
        let cli = Cli::parse_from([
            "hub",
            "--handshake-rate-ip",
            "off",
            "--max-conns-per-user",
            "0",
        ]);
        assert_eq!(cli.settings.handshake_rate_ip, OptionalQuota(None));
        assert_eq!(cli.settings.max_conns_per_user, 0);
        let cli = Cli::parse_from(["hub", "--handshake-rate-ip", "5/1s"]);
        assert_eq!(cli.settings.handshake_rate_ip.0.map(|q| q.count), Some(5));
        assert!(Cli::try_parse_from(["hub", "--handshake-rate-ip", "fast"]).is_err());
        // Unset: loopback in development, every interface elsewhere.
        let dev = Cli::parse_from(["hub", "--environment", "development"]);
        assert_eq!(
            dev.settings.listen_addr(),
            "127.0.0.1:3000".parse().unwrap()
        );
        let prod = Cli::parse_from(["hub", "--environment", "production"]);
        assert_eq!(prod.settings.listen_addr(), "0.0.0.0:3000".parse().unwrap());
        let cli = Cli::parse_from(["hub", "token", "--user", "alice", "--ttl", "2h"]);
        match cli.command {
            Some(Command::Token(t)) => {
                assert_eq!(t.user, "alice");
                assert_eq!(t.ttl, Duration::from_secs(7200));
            }
            other => panic!("unexpected {other:?}"),
        }
        // Server flags are not token flags.
        assert!(Cli::try_parse_from(["hub", "token", "--user", "a", "--addr", "x"]).is_err());
    }

    #[test]
    fn the_sqlite_cache_and_map_are_bounded_settings() {
        let dir = tempfile::tempdir().unwrap();
        let resolved = settings(dir.path()).resolve().unwrap();
        assert_eq!(resolved.sqlite_cache_kib, 512);
        assert_eq!(resolved.sqlite_mmap_bytes, 0);
        let cli = Cli::parse_from([
            "hub",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--sqlite-cache-kib",
            "2000",
            "--sqlite-mmap-mib",
            "64",
        ]);
        let resolved = cli.settings.resolve().unwrap();
        assert_eq!(resolved.sqlite_cache_kib, 2000);
        assert_eq!(resolved.sqlite_mmap_bytes, 64 * 1024 * 1024);
        for (flag, bad) in [
            ("--sqlite-cache-kib", "63"),
            ("--sqlite-cache-kib", "4194305"),
            ("--sqlite-cache-kib", "-5"),
            ("--sqlite-mmap-mib", "1048577"),
            ("--sqlite-mmap-mib", "lots"),
        ] {
            assert!(
                Cli::try_parse_from(["hub", flag, bad]).is_err(),
                "{flag} {bad} is refused"
            );
        }
    }

    #[test]
    fn the_websocket_read_buffer_is_a_bounded_setting() {
        let dir = tempfile::tempdir().unwrap();
        let resolved = settings(dir.path()).resolve().unwrap();
        assert_eq!(resolved.socket.ws_read_buffer_size, 1024);
        let cli = Cli::parse_from(["hub", "--ws-read-buffer", "4096"]);
        assert_eq!(cli.settings.ws_read_buffer, 4096);
        for bad in ["255", "1048577", "0", "many"] {
            assert!(
                Cli::try_parse_from(["hub", "--ws-read-buffer", bad]).is_err(),
                "{bad} is refused"
            );
        }
        assert!(Cli::try_parse_from(["hub", "--ws-read-buffer", "256"]).is_ok());
    }

    #[test]
    fn token_never_creates_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let cli = Cli::parse_from([
            "hub",
            "token",
            "--user",
            "a",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ]);
        let Some(Command::Token(t)) = cli.command else {
            panic!()
        };
        let err = t.secret().unwrap_err().to_string();
        assert!(
            err.contains("no secret at") && err.contains("start the hub once"),
            "{err}"
        );
        assert!(!dir.path().join(SECRET_FILE).exists());
        settings(dir.path()).resolve().unwrap();
        let (secret, from) = t.secret().unwrap();
        assert_eq!(secret.len(), 64);
        assert!(from.ends_with("jwt_secret"), "{from}");
    }
}
