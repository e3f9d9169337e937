//! Operator routes (`admin` or `system` accounts only): the audit chains' integrity and repair,
//! and the periodic jobs' state and manual runs.

use super::ApiPath;
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use hub_protocol::audit::{JobRun, JobsHealth, WormIntegrity};

pub(super) fn operator(who: &Identity) -> Result<(), AppError> {
    if who.role.is_privileged() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "operator routes are for admin and system accounts",
        ))
    }
}

/// `GET /api/debug/worm/integrity`: every audit scope's chain, re-walked now.
pub async fn worm_integrity(
    State(core): State<Core>,
    who: Identity,
) -> Result<Json<WormIntegrity>, AppError> {
    operator(&who)?;
    Ok(Json(core.services.audit.integrity().await?))
}

/// `POST /api/debug/worm/reanchor`: records every current break with a `worm.reanchor` entry
/// (history is not rewritten) and answers the check that follows.
pub async fn worm_reanchor(
    State(core): State<Core>,
    who: Identity,
) -> Result<Json<WormIntegrity>, AppError> {
    operator(&who)?;
    Ok(Json(
        core.services.audit.reanchor(who.user_id.as_str()).await?,
    ))
}

/// `GET /api/debug/jobs/health`.
pub async fn jobs_health(
    State(core): State<Core>,
    who: Identity,
) -> Result<Json<JobsHealth>, AppError> {
    operator(&who)?;
    let (running, last, jobs) = core.services.jobs.board.statuses();
    Ok(Json(JobsHealth {
        isRunning: running,
        lastRun: last.map(crate::clock::rfc3339),
        jobs,
    }))
}

/// `POST /api/debug/jobs/{name}/run`: runs the job now on this node and answers its result.
pub async fn run_job(
    State(core): State<Core>,
    who: Identity,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<JobRun>, AppError> {
    operator(&who)?;
    core.services
        .jobs
        .run(&name)
        .await
        .map(Json)
        .ok_or_else(|| AppError::not_found(format!("no job named {name}")))
}
