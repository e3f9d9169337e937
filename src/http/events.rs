//! `POST /api/v1/events/...`: events in from the platform's other services (`system` or `admin`
//! accounts, or an API key with the `events` scope). `201 {id, kind, duplicate: false}` the first time, `200` with `duplicate: true`
//! for a replay; a field out of range is `400 invalid` naming it.

use super::ApiJson;
use super::extract::ServerCaller;
use crate::error::AppError;
use crate::services::events::EventIn;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::events::{
    BugEvent, DeviceEvent, EventAccepted, KycEvent, ReviewEvent, TaskAccepted, ViolationEvent,
};

type Answer = Result<(StatusCode, Json<EventAccepted>), AppError>;

/// `201` the first time, `200` for a replay.
async fn accept(core: &Core, grant: &ServerCaller, event: EventIn<'_>) -> Answer {
    let accepted = core.services.events.from_service(&grant.0, event).await?;
    let status = if accepted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(accepted)))
}

pub async fn task_accepted(
    State(core): State<Core>,
    who: ServerCaller,
    ApiJson(e): ApiJson<TaskAccepted>,
) -> Answer {
    accept(&core, &who, EventIn::Task(&e)).await
}

pub async fn review(
    State(core): State<Core>,
    who: ServerCaller,
    ApiJson(e): ApiJson<ReviewEvent>,
) -> Answer {
    accept(&core, &who, EventIn::Review(&e)).await
}

pub async fn bug(
    State(core): State<Core>,
    who: ServerCaller,
    ApiJson(e): ApiJson<BugEvent>,
) -> Answer {
    accept(&core, &who, EventIn::Bug(&e)).await
}

pub async fn kyc(
    State(core): State<Core>,
    who: ServerCaller,
    ApiJson(e): ApiJson<KycEvent>,
) -> Answer {
    accept(&core, &who, EventIn::Kyc(&e)).await
}

pub async fn device(
    State(core): State<Core>,
    who: ServerCaller,
    ApiJson(e): ApiJson<DeviceEvent>,
) -> Answer {
    accept(&core, &who, EventIn::Device(&e)).await
}

pub async fn violation(
    State(core): State<Core>,
    who: ServerCaller,
    ApiJson(e): ApiJson<ViolationEvent>,
) -> Answer {
    accept(&core, &who, EventIn::Violation(&e)).await
}
