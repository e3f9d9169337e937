//! `loadtest`: load generator for the hub, and for a Node Socket.IO peer with the same chat
//! semantics (`loadtest/peers/socketio-node`), so both are measured the same way.
//!
//! ```text
//! loadtest --data-dir ./data idle --connections 50000 --pid $(pgrep -x hub)
//! loadtest --data-dir ./data chat --rooms 1 --members 1000 --rate 200 --duration 20
//! loadtest --target http://127.0.0.1:3001 --peer socketio-node chat --members 1000 --rate 200
//! loadtest --data-dir ./data presence --rate 50 --duration 10 --grace-ms 5000
//! loadtest --data-dir ./data docs --docs 10 --editors 20 --rate 5 --duration 10
//! loadtest --data-dir ./data abuse --pid $(pgrep -x hub)
//! ```
//!
//! Bounded by its flags in count and time; targets loopback addresses unless `--allow-remote`.

mod client;
mod scenarios;
mod setup;
mod stats;
mod wire;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use scenarios::Ctx;
use serde::Serialize;
use std::net::ToSocketAddrs;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "loadtest",
    version,
    about = "Load generator for the hub and a Node Socket.IO peer",
    after_help = "Examples (a hub started with --data-dir ./data on :3000):\n  \
        loadtest --data-dir ./data idle --connections 10000 --pid $(pgrep -x hub)\n  \
        loadtest --data-dir ./data chat --rooms 1 --members 1000 --rate 200 --duration 20\n  \
        loadtest --data-dir ./data presence --rate 50 --duration 10 --grace-ms 5000\n  \
        loadtest --data-dir ./data docs --docs 10 --editors 20 --rate 5 --duration 10\n  \
        loadtest --data-dir ./data abuse --pid $(pgrep -x hub)\n  \
        loadtest --target http://127.0.0.1:3001 --peer socketio-node chat --members 1000 --rate 200\n\n\
        For chat at high rates, start the hub with HUB_CHAT_RATE and HUB_CHAT_BURST raised (its \
        per-user limit otherwise refuses sends as rate_limited). loadtest/README.md explains \
        every scenario and its output."
)]
struct Cli {
    /// Base URL of the target; several (comma-separated or repeated) for the nodes of a
    /// cluster: clients are spread over them, REST setup goes to the first.
    #[arg(
        long,
        default_value = "http://127.0.0.1:3000",
        global = true,
        value_delimiter = ','
    )]
    target: Vec<String>,
    /// What the target is.
    #[arg(long, value_enum, default_value = "hub", global = true)]
    peer: Peer,
    /// The hub's JWT secret, to mint tokens.
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The hub's data directory, to read its generated JWT secret.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Tokens to use instead of minting them: a file of `user token` lines.
    #[arg(long, global = true)]
    tokens: Option<PathBuf>,
    /// Local source addresses to spread connections over (127.0.0.2, 127.0.0.3, …).
    #[arg(long, default_value_t = 8, global = true)]
    sources: usize,
    /// Write the summary as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// Draw latency percentiles over time to this SVG file.
    #[arg(long, global = true)]
    plot: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, global = true)]
    quiet: bool,
    /// Allow a target that is not a loopback address.
    #[arg(long, global = true)]
    allow_remote: bool,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Peer {
    Hub,
    SocketioNode,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Hold N connections open; report connect rate and memory per connection.
    Idle(scenarios::idle::IdleArgs),
    /// Rooms of members and publishers; report deliveries, latency, gaps, duplicates.
    Chat(scenarios::chat::ChatArgs),
    /// Connect/disconnect churn; report presence latency and correctness (hub only).
    Presence(scenarios::presence::PresenceArgs),
    /// Editors typing in documents over /yjs; report propagation latency and convergence (hub only).
    Docs(scenarios::docs::DocsArgs),
    /// Hostile clients (stalled readers, handshake floods, awareness floods); report the
    /// target's memory before, at the peak and after (hub only).
    Abuse(scenarios::abuse::AbuseArgs),
}

fn print_table(title: &str, value: &serde_json::Value) {
    println!("\n{title}");
    let mut rows = Vec::new();
    fn walk(prefix: &str, v: &serde_json::Value, rows: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, rows);
                }
            }
            serde_json::Value::Number(n) => {
                let s = n
                    .as_f64()
                    .map(|f| {
                        if f.fract() == 0.0 {
                            format!("{f:.0}")
                        } else {
                            format!("{f:.2}")
                        }
                    })
                    .unwrap_or_default();
                rows.push((prefix.to_owned(), s));
            }
            other => rows.push((prefix.to_owned(), other.to_string())),
        }
    }
    walk("", value, &mut rows);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("  {k:<width$}  {v:>14}");
    }
}

fn report<T: Serialize>(cli: &Cli, title: &str, summary: &T) -> anyhow::Result<()> {
    let value = serde_json::to_value(summary)?;
    print_table(title, &value);
    if let Some(path) = &cli.json {
        std::fs::write(path, serde_json::to_string_pretty(&value)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Fails with one line when the target is not there (or is not a hub, for `--peer hub`).
async fn preflight(base: &str, addr: std::net::SocketAddr, peer: Peer) -> anyhow::Result<()> {
    if let Err(e) = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    .map_err(|_| anyhow::anyhow!("timed out"))
    .and_then(|r| r.map_err(anyhow::Error::from))
    {
        bail!("cannot reach the target at {base}: {e} (is it running?)");
    }
    if peer == Peer::Hub {
        let health: Option<hub_protocol::rest::Health> =
            match reqwest::get(format!("{base}/api/health")).await {
                Ok(r) => r.json().await.ok(),
                Err(e) => bail!("cannot reach the target at {base}: {e}"),
            };
        if health.is_none() {
            bail!(
                "{base} does not answer like a hub (/api/health); for Node socket.io pass --peer socketio-node"
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line: what went wrong and, where it can, what to do about it.
            eprintln!("loadtest: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut targets = Vec::new();
    for target in &cli.target {
        let base = target.trim_end_matches('/').to_owned();
        let hostport = base
            .split("://")
            .nth(1)
            .context("--target must be http://host:port")?;
        let addr = hostport
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {hostport}"))?
            .next()
            .context("no address for the target")?;
        if !addr.ip().is_loopback() && !cli.allow_remote {
            bail!("{addr} is not a loopback address; pass --allow-remote to target it");
        }
        targets.push((base, addr));
    }
    let (base, addr) = targets
        .first()
        .cloned()
        .context("--target names no target")?;
    // Each connection is a file descriptor: take all the process may have.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if !cli.quiet => eprintln!("file descriptor limit: {n}"),
        Ok(_) => {}
        Err(e) => eprintln!("could not raise the file descriptor limit: {e}"),
    }
    if cli.peer == Peer::Hub
        && cli.jwt_secret.is_none()
        && cli.data_dir.is_none()
        && cli.tokens.is_none()
    {
        bail!(
            "loadtest needs tokens the hub accepts: pass --data-dir with the hub's DATA_DIR (where it keeps jwt_secret), JWT_SECRET, or --tokens FILE"
        );
    }
    for (base, addr) in &targets {
        preflight(base, *addr, cli.peer).await?;
    }
    let ctx = Ctx {
        base: base.clone(),
        addr,
        addrs: targets.iter().map(|(_, a)| *a).collect(),
        path: "/socket.io/".into(),
        sources: client::Sources::for_target(&addr, cli.sources),
        tokens: setup::Tokens::new(
            cli.jwt_secret.clone(),
            cli.data_dir.clone(),
            cli.tokens.clone(),
        )?,
        is_hub: cli.peer == Peer::Hub,
        quiet: cli.quiet,
    };
    let target = match cli.peer {
        Peer::Hub => "hub",
        Peer::SocketioNode => "Node socket.io",
    };
    match &cli.scenario {
        Scenario::Idle(args) => {
            let s = scenarios::idle::run(&ctx, args).await?;
            report(&cli, &format!("idle, {target}"), &s)?;
        }
        Scenario::Chat(args) => {
            let s = scenarios::chat::run(&ctx, args).await?;
            report(
                &cli,
                &format!(
                    "chat, {target}: {} room(s) x {} members, {} msg/s",
                    args.rooms, args.members, args.rate
                ),
                &s,
            )?;
            if let Some(path) = &cli.plot {
                stats::plot(path, &format!("chat latency, {target}"), &s.series)?;
            }
        }
        Scenario::Docs(args) => {
            let s = scenarios::docs::run(&ctx, args).await?;
            report(
                &cli,
                &format!(
                    "docs, {target}: {} documents x {} editors, {}/s each",
                    args.docs, args.editors, args.rate
                ),
                &s,
            )?;
        }
        Scenario::Abuse(args) => {
            let s = scenarios::abuse::run(&ctx, args).await?;
            report(&cli, &format!("abuse, {target}"), &s)?;
        }
        Scenario::Presence(args) => {
            let s = scenarios::presence::run(&ctx, args).await?;
            report(
                &cli,
                &format!(
                    "presence churn, {target}: {}/s for {} s",
                    args.rate, args.duration
                ),
                &s,
            )?;
        }
    }
    Ok(())
}
