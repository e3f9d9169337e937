//! The hub: a real-time collaboration server (Socket.IO rooms, presence, chat, CRDT documents)
//! with a REST API, on SQLite (embedded default) or Postgres.
//!
//! # Layout
//! Floors, from the top; each imports only the floors below it:
//! - [`run`] wires everything: `main` binds the socket; tests pass a `127.0.0.1:0` listener
//!   and their own shutdown, and through [`run_with`] a [`Runtime`] (a bus shared between
//!   hubs in one process, a manual clock).
//! - Transports: [`http`] (REST, one file per resource), [`realtime`] (Socket.IO, one file per
//!   event family), [`yws`] (raw `/yjs`), and the scheduler [`jobs`] (periodic jobs, one node
//!   per period). They decode, authenticate, call a service, encode.
//! - [`services`]: the use cases, free of every transport: access (who may see and do what),
//!   chat, the document engine, presence and typing, notify (the one way a service reaches
//!   people live, through a connection-side trait a transport implements).
//! - [`store`] (sqlx over SQLite or Postgres) and [`bus`] (cross-node messages: one typed
//!   enum, one codec, named topics taken at run time; in-process or over Redis; node
//!   liveness).
//! - Beside them: [`clock`] (the one source of time), [`config`], [`error`] (the HTTP error edge), [`auth`] (tokens and
//!   identities), [`validate`], [`state`] (the shared handles), [`net`] (write timeouts on
//!   accepted connections), [`memory`], [`telemetry`], [`limits`] (the REST abuse limits' buckets).
//! - The rules (`hub-rooms`) and the wire types (`hub-protocol`) are crates of their own.

pub mod auth;
pub mod bus;
pub mod clock;
pub mod config;
pub mod drain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod memory;
pub mod net;
pub mod realtime;
pub mod services;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod validate;
pub mod verifier;
pub mod yws;

pub use config::Config;

use anyhow::Context;
use state::{AppState, Core, NodeInfo};
use std::future::Future;
use std::sync::Arc;
use store::Store;
use tokio::net::TcpListener;

/// Connects to the database (applying migrations), then serves HTTP, Socket.IO and WebSocket on
/// `listener` until `shutdown` completes. On shutdown: stops accepting, closes every socket
/// (clients see the server closing, not a crash), finishes in-flight requests, closes the pool.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with(config, Runtime::default(), listener, shutdown).await
}

/// What a hub runs on besides its settings: the bus and the clock. Production uses a private
/// in-process bus (or the cluster's) and the system clock; tests share a bus between hubs in
/// one process and drive a manual clock.
#[derive(Clone)]
pub struct Runtime {
    /// A bus to share with other hubs in this process; `None` makes a private one.
    pub bus: Option<Arc<dyn bus::Bus>>,
    pub clock: clock::SharedClock,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            bus: None,
            clock: clock::system(),
        }
    }
}

/// [`run`] on the given runtime.
pub async fn run_with(
    config: Config,
    runtime: Runtime,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = open_store(&config).await?.with_clock(runtime.clock.clone());
    let bus: Arc<dyn bus::Bus> = match (runtime.bus, &config.redis_url) {
        (Some(shared), _) => shared,
        (None, Some(url)) => {
            bus::RedisBus::connect(url, &config.redis_prefix, config.node_id.clone().into())
                .await
                .with_context(|| format!("cannot reach Redis at {}", config::redact_url(url)))?
        }
        (None, None) => Arc::new(bus::LocalBus::new()),
    };
    let blobs = open_blobs(&config.files).await?;
    let services = services::Services::new(
        config.node_id.clone().into(),
        bus.clone(),
        store.clone(),
        blobs.clone(),
        config.services(),
        runtime.clock.clone(),
    );
    services
        .server
        .load_revocations()
        .await
        .context("cannot read token revocations")?;
    services
        .webhooks
        .reload()
        .await
        .context("cannot read the webhook endpoints")?;
    let jwks = auth::jwks::Jwks::new(config.jwks.clone());
    if let Some(jwks) = &jwks {
        // The provider may be down now: its keys are fetched again when a token needs them.
        match jwks.fetch().await {
            Ok(n) => tracing::info!(keys = n, "identity provider's keys fetched"),
            Err(e) => tracing::warn!(error = %e, "cannot fetch the identity provider's keys yet"),
        }
    }
    let auth = auth::Auth::revoking(
        &config.jwt_secret,
        store.clone(),
        services.server.revocations(),
        jwks,
    );
    let drain = drain::Drain::new();
    let core = Core {
        drain: drain.clone(),
        clock: runtime.clock.clone(),
        auth,
        info: Arc::new(NodeInfo::new(&config, bus.kind())),
        services: services.clone(),
        conns: limits::ConnGate::new(config.conn_limits, config.rest_limits.forwarded.clone()),
    };
    let (socket_layer, io) = realtime::build(core.clone(), &config.socket);
    // Background tasks live as long as this call: if it is dropped (the process dies), they go.
    let mut tasks = tokio::task::JoinSet::new();
    services.start(Arc::new(realtime::SioSockets(io.clone())), &mut tasks);
    jobs::start(services.clone(), &mut tasks);
    let state = AppState {
        limits: Arc::new(limits::RestLimits::new(&config.rest_limits)),
        core,
        io: io.clone(),
        metrics: telemetry::metrics_handle(),
    };
    // An upload may be as large as allowed, plus its form's other fields and boundaries.
    let upload_limit = usize::try_from(config.files.max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    let app = http::router(
        state,
        upload_limit,
        &config.cors_origins,
        socket_layer,
        axum::routing::get(yws::upgrade),
    );

    let addr = listener
        .local_addr()
        .context("listener has no local address")?;
    tracing::info!(
        node = %config.node_id,
        "hub listening on http://{addr} (REST /api/v1, Socket.IO /socket.io, health /api/health, metrics /metrics)"
    );
    tracing::info!(
        "storage: {} ({}); files: {} ({}); fan-out: {}",
        store.backend().as_str(),
        config::redact_url(&config.database_url),
        blobs.kind,
        blobs.location,
        match &config.redis_url {
            Some(url) => format!("Redis at {}", config::redact_url(url)),
            None => "in-process".to_owned(),
        }
    );
    tracing::info!(
        "mint a token for local use with: {} --user <id> [--name <name>]",
        token_command(
            std::env::current_exe().ok().as_deref(),
            std::env::var_os("PATH").as_deref()
        )
    );
    if config.environment == "development" {
        tracing::warn!(
            "development sign-in is ON: POST /api/dev/token gives any user's token to clients on this machine (set HUB_ENV=production on a shared machine)"
        );
    }

    // Real-time traffic is many small frames: Nagle's algorithm would hold them back for the
    // peer's delayed ACK (tens of milliseconds).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    // A peer that stops reading must not hold a writer (and its memory) forever; a draining
    // node accepts nothing more.
    let listener = net::TimedListener::new(drain.listener(listener), config.socket.write_timeout);
    let drain_config = config.drain;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<net::PeerAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: draining");
        drain.begin().await;
        realtime::hand_back(&io, &services, drain_config).await;
        io.close().await;
        services.stop().await;
    })
    .await
    .context("server error")?;
    tasks.shutdown().await;
    store.close().await;
    tracing::info!("hub stopped");
    Ok(())
}

/// Opens where uploaded files live, and checks that it answers.
pub async fn open_blobs(files: &services::files::FilesConfig) -> anyhow::Result<store::Blobs> {
    // The S3 client's TLS runs on rustls with ring, like the database's and Redis's; another
    // provider installed first (by an embedding program) is kept.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let blobs = match &files.url {
        Some(url) => store::Blobs::s3(url, &files.s3_options)
            .with_context(|| format!("cannot configure the file store {url}"))?,
        None => store::Blobs::local(&files.dir)?,
    };
    blobs
        .probe()
        .await
        .with_context(|| format!("cannot reach the file store {}", blobs.location))?;
    Ok(blobs)
}

/// The command that runs `hub token` as this binary was started: `cargo run` for a build under
/// `target/`, `hub token` when the binary's folder is on `PATH`, else its full path.
pub fn token_command(exe: Option<&std::path::Path>, path: Option<&std::ffi::OsStr>) -> String {
    let Some(exe) = exe else {
        return "hub token".to_owned();
    };
    let dir = exe.parent();
    let profile = dir.and_then(|d| d.file_name()).and_then(|n| n.to_str());
    let in_target = dir
        .and_then(|d| d.parent())
        .and_then(|t| t.file_name())
        .is_some_and(|n| n == "target" || n.to_string_lossy().ends_with("-target"));
    match profile {
        Some("release") if in_target => return "cargo run --release -q -- token".to_owned(),
        Some("debug") if in_target => return "cargo run -q -- token".to_owned(),
        _ => {}
    }
    let on_path = path.is_some_and(|p| std::env::split_paths(p).any(|d| Some(d.as_path()) == dir));
    if on_path {
        "hub token".to_owned()
    } else {
        format!("{} token", exe.display())
    }
}

/// Connects to the configured database and applies its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let options = store::StoreOptions {
        max_connections: config.db_max_connections,
        write_connections: config.db_write_connections,
        sqlite_cache_kib: config.sqlite_cache_kib,
        sqlite_mmap_bytes: config.sqlite_mmap_bytes,
        fault_ppm: config.db_fault_ppm,
    };
    let store = Store::open(&config.database_url, options)
        .await
        .with_context(|| {
            format!(
                "cannot open the database at {}",
                config::redact_url(&config.database_url)
            )
        })?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    store
        .seed_badges(&hub_rooms::badges::SEEDED)
        .await
        .context("cannot seed the badge catalog")?;
    Ok(store)
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::token_command;
    use std::ffi::OsStr;
    use std::path::Path;

    #[test]
    fn the_token_hint_is_a_command_that_works_where_the_hub_was_started() {
        // (the binary, PATH, the hint)
        for (exe, path, hint) in [
            (
                "/src/hub/target/release/hub",
                "/usr/bin",
                "cargo run --release -q -- token",
            ),
            (
                "/src/hub/target/debug/hub",
                "/usr/bin",
                "cargo run -q -- token",
            ),
            (
                "/root/.cache/hub-target/release/hub",
                "",
                "cargo run --release -q -- token",
            ),
            ("/usr/local/bin/hub", "/usr/bin:/usr/local/bin", "hub token"),
            ("/opt/hub/hub", "/usr/bin", "/opt/hub/hub token"),
        ] {
            assert_eq!(
                token_command(Some(Path::new(exe)), Some(OsStr::new(path))),
                hint,
                "{exe}"
            );
        }
        assert_eq!(token_command(None, None), "hub token");
    }
}
