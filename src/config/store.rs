//! The database and the bus between nodes.

use super::redact_url;
use crate::store::{Backend, StoreOptions};
use anyhow::bail;
use clap::Args;
use std::path::PathBuf;

/// Database flags.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Database URL: postgres://user@host/db, or sqlite:path. Unset: SQLite file in DATA_DIR.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Largest pool of database connections for reads.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = StoreArgs::DEFAULT_MAX_CONNECTIONS)]
    pub db_max_connections: u32,
    /// Postgres: connections for domain write transactions, a pool apart from the readers'
    /// (so a burst of writes never starves a read). Unset: half of DATABASE_MAX_CONNECTIONS, at
    /// least 2.
    #[arg(long, env = "HUB_DB_WRITE_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub db_write_connections: Option<u32>,
    /// SQLite: page cache of each pooled connection, in KiB.
    #[arg(long, env = "HUB_SQLITE_CACHE_KIB", default_value_t = StoreOptions::SQLITE_CACHE_KIB, value_parser = clap::value_parser!(u32).range(64..=4_194_304))]
    pub sqlite_cache_kib: u32,
    /// SQLite: how much of the database file each connection reads through a memory map, in
    /// MiB; 0 (the default) turns the map off.
    #[arg(long, env = "HUB_SQLITE_MMAP_MIB", default_value_t = StoreOptions::SQLITE_MMAP_BYTES >> 20, value_parser = clap::value_parser!(u64).range(0..=1_048_576))]
    pub sqlite_mmap_mib: u64,
    /// Tests only: the chance (0 to 1) that a domain write fails as if the database had, at a
    /// random point of it. Never set it in production.
    #[arg(long, env = "HUB_TEST_DB_FAULTS", default_value_t = 0.0, hide = true)]
    pub db_faults: f64,
}

impl StoreArgs {
    /// Read connections, by default.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

    /// `DATABASE_URL`, checked, or the embedded SQLite file at `embedded()`.
    pub fn database_url(
        &self,
        embedded: impl FnOnce() -> anyhow::Result<PathBuf>,
    ) -> anyhow::Result<String> {
        match &self.database_url {
            Some(url) => {
                if Backend::from_url(url).is_none() {
                    bail!(
                        "DATABASE_URL {:?} is not supported: use postgres://user@host:5432/db or sqlite:path",
                        redact_url(url)
                    );
                }
                Ok(url.clone())
            }
            None => Ok(format!("sqlite://{}?mode=rwc", embedded()?.display())),
        }
    }

    /// The write pool's size: `HUB_DB_WRITE_CONNECTIONS`, or half the readers' (at least 2).
    pub fn write_connections(&self) -> u32 {
        self.db_write_connections
            .unwrap_or((self.db_max_connections / 2).max(2))
    }

    /// `HUB_TEST_DB_FAULTS` in millionths.
    pub fn fault_ppm(&self) -> anyhow::Result<u32> {
        if !(self.db_faults.is_finite() && (0.0..=1.0).contains(&self.db_faults)) {
            bail!("HUB_TEST_DB_FAULTS must be between 0 and 1");
        }
        Ok((self.db_faults * 1_000_000.0).round() as u32)
    }
}

/// Flags of the bus between nodes.
#[derive(Debug, Clone, Args)]
pub struct BusArgs {
    /// Redis for fan-out across nodes: one Redis (`redis://[:password@]host:port[/db]`, or
    /// `rediss://` for TLS), or a Redis Cluster with sharded pub/sub
    /// (`redis+cluster://[user:password@]host:port,host:port,…`, or `rediss+cluster://`; a few
    /// nodes are enough, the others are discovered). Unset: in-process fan-out (one node).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Prefix of the hub's Redis channels, so several clusters can share one Redis.
    #[arg(long, env = "HUB_REDIS_PREFIX", default_value = BusArgs::DEFAULT_PREFIX)]
    pub redis_prefix: String,
}

impl BusArgs {
    /// The channels' prefix, by default.
    pub const DEFAULT_PREFIX: &str = "hub:";

    /// `REDIS_URL`, checked.
    pub fn resolve(&self) -> anyhow::Result<Option<String>> {
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
            && crate::bus::cluster_nodes(url).is_none()
        {
            bail!(
                "REDIS_URL {:?} is not a redis:// or redis+cluster:// URL",
                redact_url(url)
            );
        }
        Ok(self.redis_url.clone())
    }
}
