//! Command line and environment. Every flag has an environment variable; `hub --help` lists
//! them. [`Settings::resolve`] turns the flags into the [`Config`] that [`crate::run`] takes,
//! creating the data directory and the JWT secret file of the embedded default when needed.

mod audit;
mod drain;
mod limits;
mod socket;
mod store;

pub use audit::AuditArgs;
pub use drain::{DrainArgs, DrainConfig};
pub use limits::{LimitArgs, OptionalQuota};
pub use socket::{SocketArgs, SocketConfig};
pub use store::{BusArgs, StoreArgs};

use crate::services::access::AccessArgs;
use crate::services::chat::{ChatArgs, ChatConfig};
use crate::services::docs::{DocsArgs, DocsConfig};
use crate::services::files::FilesArgs;
use crate::services::gamification::GamificationArgs;
use crate::services::jobs::JobsArgs;
use crate::services::presence::{PresenceArgs, PresenceConfig};
use crate::services::wallets::BuzArgs;
use crate::services::writes::WritesArgs;
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

/// The settings of `serve`, by subsystem: each group has its flags, their defaults (the
/// `DEFAULT` of its config type) and its own `resolve`, beside the config type it makes.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on. Unset: 127.0.0.1:3000 in development (only this machine can
    /// reach the development sign-in), 0.0.0.0:3000 in any other environment.
    #[arg(long = "addr", env = "HUB_ADDR")]
    pub addr: Option<SocketAddr>,
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
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub bus: BusArgs,
    #[command(flatten)]
    pub socket: SocketArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub presence: PresenceArgs,
    #[command(flatten)]
    pub chat: ChatArgs,
    #[command(flatten)]
    pub docs: DocsArgs,
    #[command(flatten)]
    pub access: AccessArgs,
    #[command(flatten)]
    pub writes: WritesArgs,
    #[command(flatten)]
    pub jobs: JobsArgs,
    #[command(flatten)]
    pub audit: AuditArgs,
    #[command(flatten)]
    pub server: crate::services::server::ServerArgs,
    #[command(flatten)]
    pub webhooks: crate::services::webhooks::WebhooksArgs,
    #[command(flatten)]
    pub jwks: crate::auth::jwks::JwksArgs,
    #[command(flatten)]
    pub files: FilesArgs,
    #[command(flatten)]
    pub drain: DrainArgs,
    #[command(flatten)]
    pub buz: BuzArgs,
    #[command(flatten)]
    pub gamification: GamificationArgs,
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
    pub server: crate::services::server::ServerConfig,
    pub webhooks: crate::services::webhooks::WebhooksConfig,
    /// An identity provider's tokens (none by default).
    pub jwks: crate::auth::jwks::JwksConfig,
    pub rest_limits: crate::limits::RestLimitsConfig,
    pub conn_limits: hub_rooms::conns::ConnLimits,
    /// What the node does on SIGTERM (see [`crate::drain`]).
    pub drain: DrainConfig,
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
            db_max_connections: StoreArgs::DEFAULT_MAX_CONNECTIONS,
            db_write_connections: (StoreArgs::DEFAULT_MAX_CONNECTIONS / 2).max(2),
            sqlite_cache_kib: crate::store::StoreOptions::SQLITE_CACHE_KIB,
            sqlite_mmap_bytes: crate::store::StoreOptions::SQLITE_MMAP_BYTES,
            redis_url: None,
            redis_prefix: BusArgs::DEFAULT_PREFIX.into(),
            jwt_secret: jwt_secret.into(),
            environment: "test".into(),
            cors_origins: vec!["*".into()],
            socket: SocketConfig::default(),
            node_id: new_node_id(),
            presence: PresenceConfig::default(),
            chat: ChatConfig::default(),
            role_cache: crate::services::access::DEFAULT_ROLE_CACHE,
            writes: Default::default(),
            db_fault_ppm: 0,
            docs: DocsConfig::default(),
            jobs: crate::services::jobs::JobsConfig::default(),
            gamification: Default::default(),
            buz: Default::default(),
            files: Default::default(),
            audit_log: Default::default(),
            server: Default::default(),
            webhooks: Default::default(),
            jwks: Default::default(),
            rest_limits: crate::limits::RestLimitsConfig::default(),
            conn_limits: hub_rooms::conns::ConnLimits::default(),
            drain: DrainConfig::default(),
        }
    }

    pub fn backend(&self) -> Backend {
        Backend::from_url(&self.database_url).unwrap_or(Backend::Sqlite)
    }

    /// What the services run with.
    pub fn services(&self) -> crate::services::ServicesConfig {
        crate::services::ServicesConfig {
            chat: self.chat.clone(),
            presence: self.presence.clone(),
            docs: self.docs.clone(),
            jobs: self.jobs.clone(),
            gamification: self.gamification.clone(),
            buz: self.buz.clone(),
            files: self.files.clone(),
            role_cache: self.role_cache,
            writes: self.writes.clone(),
            audit_log: self.audit_log.clone(),
            server: self.server.clone(),
            webhooks: self.webhooks.clone(),
        }
    }
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

    /// Validates the settings and builds the [`Config`], each group by its own `resolve`.
    /// Creates `DATA_DIR`, and the secret files in it, when the embedded defaults need them.
    pub fn resolve(&self) -> anyhow::Result<Config> {
        let database_url = self.store.database_url(|| {
            self.ensure_data_dir()?;
            Ok(self.data_dir.join(SQLITE_FILE))
        })?;
        let redis_url = self.bus.resolve()?;
        let jwt_secret = self.jwt_secret()?;
        let (limits, conn_limits) = self.limits.resolve();
        Ok(Config {
            database_url,
            db_max_connections: self.store.db_max_connections,
            db_write_connections: self.store.write_connections(),
            sqlite_cache_kib: self.store.sqlite_cache_kib,
            sqlite_mmap_bytes: self.store.sqlite_mmap_mib << 20,
            db_fault_ppm: self.store.fault_ppm()?,
            redis_url,
            redis_prefix: self.bus.redis_prefix.clone(),
            jwt_secret,
            environment: self.environment.clone(),
            cors_origins: self.cors_origins.clone(),
            socket: self.socket.resolve()?,
            node_id: new_node_id(),
            presence: self.presence.resolve()?,
            role_cache: *self.access.role_cache,
            writes: self.writes.resolve(),
            chat: self.chat.resolve()?,
            docs: self.docs.resolve()?,
            jobs: self.jobs.resolve()?,
            files: self.files.resolve(&self.data_dir)?,
            audit_log: self.audit.resolve(|| {
                self.ensure_data_dir()?;
                Ok(self.data_dir.join(AUDIT_KEY_FILE))
            })?,
            buz: self.buz.resolve()?,
            server: self.server.resolve()?,
            webhooks: self.webhooks.resolve()?,
            jwks: self.jwks.resolve()?,
            gamification: self.gamification.resolve(),
            rest_limits: limits,
            conn_limits,
            drain: self.drain.resolve()?,
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
pub(crate) fn load_or_create(path: &Path, made: &str) -> anyhow::Result<String> {
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
        s.audit.audit_key_file = Some(file.clone());
        let chosen = s.resolve().unwrap().audit_log;
        assert_eq!(chosen.key, key);
        assert_eq!(chosen.origin, "audit.example.com/hub");
        s.audit.audit_origin = Some("other.example/log".into());
        assert_eq!(s.resolve().unwrap().audit_log.origin, "other.example/log");
        // A file that holds no signer key, a missing one, a witness that is not a URL.
        std::fs::write(&file, "not a key").unwrap();
        let e = s.resolve().unwrap_err().to_string();
        assert!(e.contains("the audit key in"), "{e}");
        s.audit.audit_key_file = Some(dir.path().join("missing.key"));
        assert!(
            s.resolve()
                .unwrap_err()
                .to_string()
                .contains("HUB_AUDIT_KEY_FILE")
        );
        s.audit.audit_key_file = None;
        s.audit.audit_witnesses = vec!["ftp://witness".into()];
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
        s.store.database_url = Some("mysql://x@y/z".into());
        assert!(
            s.resolve()
                .unwrap_err()
                .to_string()
                .contains("not supported")
        );

        let mut s = settings(dir.path());
        s.bus.redis_url = Some("http://nope".into());
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
    fn the_services_default_is_a_hub_without_flags() {
        // Tests that build `Services` from `ServicesConfig::default()` run what a hub started
        // without flags runs.
        let c = Config::new("sqlite::memory:", b"secret".to_vec());
        assert_eq!(
            format!("{:?}", c.services()),
            format!("{:?}", crate::services::ServicesConfig::default())
        );
        assert_eq!(
            crate::services::ServicesConfig::default().role_cache,
            crate::services::access::DEFAULT_ROLE_CACHE
        );
    }

    #[test]
    fn every_flag_starts_from_its_config_types_default() {
        // The flags' defaults are written once, on the config types: a hub started with no
        // flag runs with exactly what those types hold by default.
        let dir = tempfile::tempdir().unwrap();
        let c = settings(dir.path()).resolve().unwrap();
        let chat = ChatConfig::DEFAULT;
        assert_eq!(
            (
                c.chat.max_body_chars,
                c.chat.rate_per_second,
                c.chat.burst,
                c.chat.group_commit
            ),
            (
                chat.max_body_chars,
                chat.rate_per_second,
                chat.burst,
                chat.group_commit
            )
        );
        let p = PresenceConfig::DEFAULT;
        assert_eq!(
            (
                c.presence.grace,
                c.presence.typing_ttl,
                c.presence.heartbeat,
                c.presence.dead_after
            ),
            (p.grace, p.typing_ttl, p.heartbeat, p.dead_after)
        );
        let d = DocsConfig::DEFAULT;
        assert_eq!(
            (
                c.docs.idle_unload,
                c.docs.max_docs_per_socket,
                c.docs.queue_bytes,
                c.docs.group_commit,
                c.docs.read_batch,
                c.docs.limits.max_update_bytes,
                c.docs.limits.max_doc_bytes,
                c.docs.limits.max_awareness_bytes,
                c.docs.limits.awareness_burst,
            ),
            (
                d.idle_unload,
                d.max_docs_per_socket,
                d.queue_bytes,
                d.group_commit,
                d.read_batch,
                d.limits.max_update_bytes,
                d.limits.max_doc_bytes,
                d.limits.max_awareness_bytes,
                d.limits.awareness_burst,
            )
        );
        assert_eq!(
            c.docs.limits.awareness_per_second,
            d.limits.awareness_per_second
        );
        let s = SocketConfig::DEFAULT;
        assert_eq!(
            (
                c.socket.max_buffer_size,
                c.socket.max_payload,
                c.socket.ping_interval,
                c.socket.ping_timeout,
                c.socket.ws_read_buffer_size,
                c.socket.write_timeout,
                c.socket.connect_timeout,
            ),
            (
                s.max_buffer_size,
                s.max_payload,
                s.ping_interval,
                s.ping_timeout,
                s.ws_read_buffer_size,
                s.write_timeout,
                s.connect_timeout,
            )
        );
        let j = crate::services::jobs::JobsConfig::DEFAULT;
        assert_eq!(
            (
                c.jobs.worm_integrity_every,
                c.jobs.badges_every,
                c.jobs.reputation,
                c.jobs.conversion_windows_every,
                c.jobs.files_scrub_every,
                c.jobs.audit_checkpoint_every,
            ),
            (
                j.worm_integrity_every,
                j.badges_every,
                j.reputation,
                j.conversion_windows_every,
                j.files_scrub_every,
                j.audit_checkpoint_every,
            )
        );
        assert_eq!(c.buz.gates, hub_rooms::wallets::Gates::DEFAULT);
        assert_eq!(c.conn_limits, hub_rooms::conns::ConnLimits::DEFAULT);
        let limits = crate::limits::RestLimitsConfig::default();
        assert_eq!(
            (c.rest_limits.anonymous, c.rest_limits.user),
            (limits.anonymous, limits.user)
        );
        assert_eq!(c.rest_limits.forwarded, crate::limits::Forwarded::Ignored);
        let w = crate::services::writes::WritesConfig::DEFAULT;
        assert_eq!(
            (c.writes.lanes, c.writes.group_commit, c.writes.user_queue),
            (w.lanes, w.group_commit, w.user_queue)
        );
        assert_eq!(c.role_cache, crate::services::access::DEFAULT_ROLE_CACHE);
        let g = crate::services::gamification::GamificationConfig::DEFAULT;
        assert_eq!(c.gamification.leaderboard_throttle, g.leaderboard_throttle);
        let f = crate::services::files::FilesConfig::default();
        assert_eq!(
            (
                c.files.max_bytes,
                c.files.link_ttl,
                c.files.drain_bytes,
                c.files.drain_time,
                &c.files.types
            ),
            (
                f.max_bytes,
                f.link_ttl,
                f.drain_bytes,
                f.drain_time,
                &f.types
            )
        );
        assert_eq!(
            c.audit_log.witness_timeout,
            crate::services::auditlog::DEFAULT_WITNESS_TIMEOUT
        );
        assert_eq!(
            (c.db_max_connections, c.db_write_connections),
            (
                StoreArgs::DEFAULT_MAX_CONNECTIONS,
                StoreArgs::DEFAULT_MAX_CONNECTIONS / 2
            )
        );
        assert_eq!(c.redis_prefix, BusArgs::DEFAULT_PREFIX);
        assert_eq!(
            c.server.publish_max_bytes,
            crate::services::server::ServerConfig::DEFAULT.publish_max_bytes
        );
        assert_eq!(c.jwks, crate::auth::jwks::JwksConfig::none());
        let h = crate::services::webhooks::WebhooksConfig::DEFAULT;
        assert_eq!(
            (
                c.webhooks.allow_private,
                c.webhooks.timeout,
                c.webhooks.retry_base,
                c.webhooks.retry_max,
                c.webhooks.max_attempts,
                c.webhooks.max_age,
                c.webhooks.poll
            ),
            (
                h.allow_private,
                h.timeout,
                h.retry_base,
                h.retry_max,
                h.max_attempts,
                h.max_age,
                h.poll
            )
        );
    }

    #[test]
    fn a_flag_sets_its_groups_value() {
        let dir = tempfile::tempdir().unwrap();
        let cli = Cli::parse_from([
            "hub",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--chat-rate",
            "2.5",
            "--presence-grace",
            "90s",
            "--job-reputation-at",
            "03:30",
            "--user-queue",
            "7",
            "--domain-lanes",
            "3",
            "--rest-rate-user",
            "10/1m",
            "--leaderboard-throttle",
            "250ms",
        ]);
        let c = cli.settings.resolve().unwrap();
        assert_eq!(c.chat.rate_per_second, 2.5);
        assert_eq!(c.presence.grace, Duration::from_secs(90));
        assert_eq!(
            c.jobs.reputation,
            crate::services::jobs::Schedule::DailyAt { minute: 210 }
        );
        assert_eq!((c.writes.user_queue, c.writes.lanes), (7, Some(3)));
        assert_eq!(c.rest_limits.user.count, 10);
        assert_eq!(c.rest_limits.user.per, Duration::from_secs(60));
        assert_eq!(
            c.gamification.leaderboard_throttle,
            Duration::from_millis(250)
        );
        for (flag, bad) in [("--user-queue", "0"), ("--user-queue", "1000001")] {
            assert!(
                Cli::try_parse_from(["hub", flag, bad]).is_err(),
                "{flag} {bad}"
            );
        }
        // A group's own check still speaks for its flag.
        let cli = Cli::parse_from([
            "hub",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--heartbeat",
            "5s",
            "--node-timeout",
            "5s",
        ]);
        let e = cli.settings.resolve().unwrap_err().to_string();
        assert!(e.contains("HUB_NODE_TIMEOUT"), "{e}");
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
        assert_eq!(*cli.settings.socket.ping_interval, Duration::from_secs(5));
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
        assert_eq!(cli.settings.limits.handshake_rate_ip, OptionalQuota(None));
        assert_eq!(cli.settings.limits.max_conns_per_user, 0);
        let cli = Cli::parse_from(["hub", "--handshake-rate-ip", "5/1s"]);
        assert_eq!(
            cli.settings.limits.handshake_rate_ip.0.map(|q| q.count),
            Some(5)
        );
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
        assert_eq!(cli.settings.socket.ws_read_buffer, 4096);
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
