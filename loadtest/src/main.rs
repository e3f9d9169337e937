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
//! loadtest --data-dir ./data events --users 1000 --events 20000 --in-flight 64
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
    /// `loadtest/peers/raw-ws`: a bare tokio-tungstenite fan-out (chat and idle only).
    Raw,
    /// `loadtest/peers/y-websocket`: the stock `@y/websocket-server` (docs only).
    YWebsocket,
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
    /// Domain events posted over REST (spread, one hot user, bursts); report events/s,
    /// latency, answers by status, a bystander's read latency, and the wallets after (hub only).
    Events(scenarios::events::EventsArgs),
    /// A backend publishing through the server API to a room's members; report publish-to-
    /// delivery latency and losses (hub only).
    Publish(scenarios::server_api::PublishArgs),
    /// Chat messages heard by webhook endpoints served by this process; report deliveries/s,
    /// send-to-delivery latency, duplicates, and a bare HTTP client's ceiling (hub only).
    Webhooks(scenarios::server_api::WebhooksArgs),
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

/// The generator's own CPU time (user + system) so far, from `/proc/self/stat` (Linux reports
/// it in USER_HZ, 100 per second).
fn own_cpu_seconds() -> Option<f64> {
    cpu_seconds_of(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// User + system time of a `/proc/<pid>/stat` line, in seconds.
fn cpu_seconds_of(stat: &str) -> Option<f64> {
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// At this share of its cores, the generator itself may be what limits a run.
const GENERATOR_BUSY: f64 = 0.9;

/// The generator's CPU use over the run: `cpu_percent` is of one core, `cores` what it may run
/// on (its affinity, as `taskset` sets it), `bottleneck` whether it used at least 90% of them.
fn generator_usage(started: std::time::Instant) -> serde_json::Value {
    let wall = started.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu = own_cpu_seconds().unwrap_or(0.0);
    let percent = if wall > 0.0 { 100.0 * cpu / wall } else { 0.0 };
    serde_json::json!({
        "cpu_seconds": (cpu * 100.0).round() / 100.0,
        "wall_seconds": (wall * 100.0).round() / 100.0,
        "cpu_percent": percent.round(),
        "cores": cores,
        "bottleneck": percent >= GENERATOR_BUSY * 100.0 * cores as f64,
    })
}

fn report<T: Serialize>(cli: &Cli, title: &str, summary: &T) -> anyhow::Result<()> {
    let mut value = serde_json::to_value(summary)?;
    let usage = generator_usage(*STARTED.get_or_init(std::time::Instant::now));
    let busy = usage["bottleneck"] == true;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("generator".into(), usage.clone());
    }
    print_table(title, &value);
    if busy {
        eprintln!(
            "loadtest: the generator used {}% of a core on {} core(s): it, not the target, may be the bottleneck of this run (pin it apart with taskset, or spread it over processes)",
            usage["cpu_percent"], usage["cores"]
        );
    }
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

/// When the run began, for the generator's CPU share.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

#[tokio::main]
async fn main() -> std::process::ExitCode {
    STARTED.get_or_init(std::time::Instant::now);
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

/// `http://host:port[/]`: the base URL and `host:port`, or why it is not one.
fn parse_target(target: &str) -> anyhow::Result<(String, String)> {
    let base = target.trim().trim_end_matches('/').to_owned();
    let Some((scheme, hostport)) = base.split_once("://") else {
        bail!("--target {target:?} must be http://host:port (e.g. http://127.0.0.1:3000)");
    };
    if scheme != "http" {
        bail!(
            "--target {target:?}: only http:// targets (the hub serves plain HTTP and WebSocket)"
        );
    }
    let port = hostport
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if hostport.contains('/') || port.is_none() {
        bail!(
            "--target {target:?} needs a port and nothing after it: http://host:port (e.g. http://127.0.0.1:3000)"
        );
    }
    Ok((base.clone(), hostport.to_owned()))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut targets = Vec::new();
    for target in &cli.target {
        let (base, hostport) = parse_target(target)?;
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
        is_y_websocket: cli.peer == Peer::YWebsocket,
        quiet: cli.quiet,
    };
    let target = match cli.peer {
        Peer::Hub => "hub",
        Peer::SocketioNode => "Node socket.io",
        Peer::Raw => "the raw WebSocket peer",
        Peer::YWebsocket => "@y/websocket-server",
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
        Scenario::Events(args) => {
            let s = scenarios::events::run(&ctx, args).await?;
            report(
                &cli,
                &format!(
                    "events, {target}: {} over {} user(s), {} in flight",
                    args.events, args.users, args.in_flight
                ),
                &s,
            )?;
        }
        Scenario::Publish(args) => {
            let s = scenarios::server_api::publish(&ctx, args).await?;
            report(
                &cli,
                &format!(
                    "publish through the server API, {target}: 1 room x {} members, {}/s",
                    args.members, args.rate
                ),
                &s,
            )?;
            if let Some(path) = &cli.plot {
                stats::plot(path, &format!("publish latency, {target}"), &s.series)?;
            }
        }
        Scenario::Webhooks(args) => {
            let s = scenarios::server_api::webhooks(&ctx, args).await?;
            report(
                &cli,
                &format!(
                    "webhooks, {target}: {} endpoint(s), {} msg/s for {} s",
                    args.endpoints, args.rate, args.duration
                ),
                &s,
            )?;
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
    // A run where no connection got through measured nothing: say so and fail.
    if let Some(why) = scenarios::all_failed() {
        bail!("{why}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_target_is_http_host_and_port() {
        // (target, the host:port it names, or the start of the refusal)
        for (target, answer) in [
            ("http://127.0.0.1:3000", Ok("127.0.0.1:3000")),
            ("http://localhost:3001/", Ok("localhost:3001")),
            (
                "http://example.com",
                Err("--target \"http://example.com\" needs a port"),
            ),
            (
                "http://127.0.0.1:3000/api",
                Err("--target \"http://127.0.0.1:3000/api\" needs a port"),
            ),
            (
                "127.0.0.1:3000",
                Err("--target \"127.0.0.1:3000\" must be http://host:port"),
            ),
            (
                "https://127.0.0.1:3000",
                Err("--target \"https://127.0.0.1:3000\": only http://"),
            ),
        ] {
            match (super::parse_target(target), answer) {
                (Ok((_, hostport)), Ok(expected)) => assert_eq!(hostport, expected),
                (Err(e), Err(start)) => assert!(e.to_string().starts_with(start), "{target}: {e}"),
                (got, expected) => panic!("{target}: {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        // utime 250 and stime 50 ticks (fields 14 and 15), a name with a space and a ')'.
        let stat =
            "4242 (load test)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 0 0";
        assert_eq!(super::cpu_seconds_of(stat), Some(3.0));
        assert_eq!(super::cpu_seconds_of("garbage"), None);
        assert!(super::own_cpu_seconds().is_some_and(|s| s >= 0.0));
    }
}
