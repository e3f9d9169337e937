//! The Merkle log of audit and ledger entries: its key and checkpoints for anyone, its
//! entries and proofs for operators (`admin` and `system` accounts).

use super::ApiPath;
use super::debug::operator;
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use hub_protocol::auditlog::{
    AuditKey, CheckpointList, ConsistencyProof, InclusionProof, LogEntry, LogEntryPage,
};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// The first leaf index (default 0).
    from: Option<u64>,
    /// How many leaves, 1 to 1000 (default 100).
    limit: Option<u64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckpointsQuery {
    /// Only checkpoints smaller than this size (the last size of the previous page).
    before: Option<u64>,
    /// How many, 1 to 1000 (default 100); a page holds every checkpoint of its last size.
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The leaf's index.
    index: u64,
    /// The tree's size (default: the log's size now).
    size: Option<u64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree's size (at least 1).
    from: u64,
    /// The newer tree's size (default: the log's size now).
    to: Option<u64>,
}

/// `GET /api/v1/audit/key`: public.
pub async fn key(State(core): State<Core>) -> Json<AuditKey> {
    Json(core.services.auditlog.key())
}

/// `GET /api/v1/audit/checkpoint`: the latest signed checkpoint, as `text/plain`; public.
pub async fn checkpoint(State(core): State<Core>) -> Result<impl IntoResponse, AppError> {
    let latest = core.services.auditlog.latest().await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        latest.note,
    ))
}

/// `GET /api/v1/audit/checkpoints?before=&limit=`: checkpoints, largest first; public.
pub async fn checkpoints(
    State(core): State<Core>,
    Query(q): Query<CheckpointsQuery>,
) -> Result<Json<CheckpointList>, AppError> {
    Ok(Json(
        core.services
            .auditlog
            .checkpoints(q.before, q.limit.unwrap_or(100))
            .await?,
    ))
}

/// `GET /api/v1/audit/entries/{index}`.
pub async fn entry(
    State(core): State<Core>,
    who: Identity,
    ApiPath(index): ApiPath<u64>,
) -> Result<Json<LogEntry>, AppError> {
    operator(&who)?;
    Ok(Json(core.services.auditlog.entry(index).await?))
}

/// `GET /api/v1/audit/entries?from=&limit=`.
pub async fn entries(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<EntriesQuery>,
) -> Result<Json<LogEntryPage>, AppError> {
    operator(&who)?;
    Ok(Json(
        core.services
            .auditlog
            .entries(q.from.unwrap_or(0), q.limit.unwrap_or(100))
            .await?,
    ))
}

/// `GET /api/v1/audit/proof/inclusion?index=&size=`.
pub async fn inclusion(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<InclusionProof>, AppError> {
    operator(&who)?;
    Ok(Json(
        core.services
            .auditlog
            .inclusion_proof(q.index, q.size)
            .await?,
    ))
}

/// `GET /api/v1/audit/proof/consistency?from=&to=`.
pub async fn consistency(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, AppError> {
    operator(&who)?;
    Ok(Json(
        core.services
            .auditlog
            .consistency_proof(q.from, q.to)
            .await?,
    ))
}
