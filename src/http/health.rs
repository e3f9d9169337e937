//! `GET /api/health`: 200 `healthy` when every dependency answers, 200 `degraded` with the
//! reason when Redis does not (this node keeps serving its own clients), 503 when the database
//! does not, and 503 `draining` while the node hands its connections back before it exits (a
//! load balancer sends nothing more to it).

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::rest::{Health, HealthServices};
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let core = &state.core;
    let database = match core.services.database_health(CHECK_TIMEOUT).await {
        Ok(()) => "ok".to_owned(),
        Err(why) => format!("error: {why}"),
    };
    let (redis, redis_ok) = match core.services.bus_health().await {
        None => ("not_configured".to_owned(), true),
        Some(Ok(())) => ("ok".to_owned(), true),
        Some(Err(why)) => (format!("error: {why}"), false),
    };
    let db_ok = database == "ok";
    let log_refused = core.services.auditlog.refused();
    let audit_ok = !core.services.audit.is_broken() && log_refused.is_none();
    let draining = core.drain.is_draining();
    let status = if draining {
        "draining"
    } else if db_ok && redis_ok && audit_ok {
        "healthy"
    } else {
        "degraded"
    };
    let body = Health {
        status: status.to_owned(),
        timestamp: crate::clock::rfc3339(core.clock.now_ms()),
        environment: core.info.environment.clone(),
        database,
        redis,
        services: HealthServices {
            storage: core.services.storage_backend().to_owned(),
            fanout: core.info.fanout.to_owned(),
            connections: state.io.sockets().len() as u64,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: core.info.started.elapsed().as_secs(),
            documents_loaded: core.services.docs.loaded() as u64,
            document_loads: core
                .services
                .docs
                .stats
                .loads
                .load(std::sync::atomic::Ordering::Relaxed),
        },
        reason: if draining {
            Some("the node is draining before it exits: connect to another node".to_owned())
        } else if !db_ok {
            Some("database unreachable".to_owned())
        } else if !redis_ok {
            Some(
                "Redis unreachable: other nodes do not hear this one; local traffic flows"
                    .to_owned(),
            )
        } else if let Some(why) = log_refused {
            Some(format!("the audit log's checkpoints stopped: {why}"))
        } else if !audit_ok {
            Some("the audit log's chain is broken: see /api/debug/worm/integrity".to_owned())
        } else {
            None
        },
    };
    let code = if db_ok && !draining {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
