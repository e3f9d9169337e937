//! Logs and metrics. Logs go through `tracing` (pretty, or JSON with `LOG_FORMAT=json`; filter
//! with `RUST_LOG`). Metrics go through the `metrics` facade into one Prometheus recorder per
//! process, rendered at `GET /metrics`.
//!
//! Metric names (all prefixed `hub_`):
//! - `socket_connections` (gauge), `socket_connects_total`, `socket_disconnects_total{reason}`
//! - `socket_events_total{event}`, `socket_acks_total{result}`, `socket_errors_total{code}`
//! - `socket_emit_dropped_total{reason}`, `socket_slow_consumers_total`
//! - `auth_failures_total{transport}`
//! - `http_requests_total{method,route,status}`, `http_request_duration_seconds{method,route}`,
//!   `http_errors_total{code}`

use crate::config::LogFormat;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// Whether log lines carry colour: only on a terminal, and never with `NO_COLOR` set to
/// anything but the empty string (<https://no-color.org>). A file or a pipe gets plain text.
pub fn use_color(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Installs the global tracing subscriber. Call once, from `main`.
pub fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,socketioxide=warn,engineioxide=warn"));
    let color = use_color(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(color)
        .with_target(false);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
        LogFormat::Pretty => builder.compact().init(),
    }
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The process-wide Prometheus recorder, installed on first use. Several hubs in one process
/// (as in tests) share it.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            match builder.install_recorder() {
                Ok(handle) => handle,
                // Another recorder is installed already: render from a detached one.
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            }
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        // (a terminal, NO_COLOR, colour)
        for (tty, no_color, color) in [
            (true, None, true),
            (false, None, false),
            (true, Some("1"), false),
            (true, Some(""), true),
            (false, Some("1"), false),
        ] {
            assert_eq!(
                super::use_color(tty, no_color.map(OsStr::new)),
                color,
                "{tty} {no_color:?}"
            );
        }
    }
}
