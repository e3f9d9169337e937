//! Shared state: one `Clone` struct of handles. REST handlers take sub-states through
//! `FromRef`; Socket.IO handlers get [`Core`] through socketioxide's `State` extractor.

use crate::auth::Auth;
use crate::clock::SharedClock;
use crate::config::Config;
use axum::extract::FromRef;
use metrics_exporter_prometheus::PrometheusHandle;
use socketioxide::SocketIo;
use std::sync::Arc;
use std::time::Instant;

/// What both REST and Socket.IO handlers use.
#[derive(Clone)]
pub struct Core {
    /// The one source of time (see [`crate::clock`]).
    pub clock: SharedClock,
    pub auth: Arc<Auth>,
    pub info: Arc<NodeInfo>,
    pub services: Arc<crate::services::Services>,
    /// Live connections by user and address (Socket.IO and `/yjs`).
    pub conns: Arc<crate::limits::ConnGate>,
    /// Whether the node is draining (see [`crate::drain`]).
    pub drain: Arc<crate::drain::Drain>,
}

/// Facts about this node, fixed at startup.
#[derive(Debug)]
pub struct NodeInfo {
    pub node_id: String,
    pub environment: String,
    pub fanout: &'static str,
    pub redis_url: Option<String>,
    pub started: Instant,
}

impl NodeInfo {
    pub fn new(config: &Config, fanout: &'static str) -> NodeInfo {
        NodeInfo {
            node_id: config.node_id.clone(),
            environment: config.environment.clone(),
            fanout,
            redis_url: config.redis_url.clone(),
            started: Instant::now(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    /// REST abuse limits.
    pub limits: Arc<crate::limits::RestLimits>,
    pub io: SocketIo,
    pub metrics: PrometheusHandle,
}

impl FromRef<AppState> for Core {
    fn from_ref(s: &AppState) -> Core {
        s.core.clone()
    }
}

impl FromRef<AppState> for Arc<Auth> {
    fn from_ref(s: &AppState) -> Arc<Auth> {
        s.core.auth.clone()
    }
}

impl FromRef<AppState> for SocketIo {
    fn from_ref(s: &AppState) -> SocketIo {
        s.io.clone()
    }
}

impl FromRef<AppState> for PrometheusHandle {
    fn from_ref(s: &AppState) -> PrometheusHandle {
        s.metrics.clone()
    }
}
