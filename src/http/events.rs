//! `POST /api/v1/events/...`: events in from the platform's other services (`system` or `admin`
//! accounts). `201 {id, kind, duplicate: false}` the first time, `200` with `duplicate: true`
//! for a replay; a field out of range is `400 invalid` naming it.

use super::ApiJson;
use crate::auth::Identity;
use crate::error::AppError;
use crate::services::events::EventIn;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::events::{
    BugEvent, DeviceEvent, EventAccepted, KycEvent, ReviewEvent, TaskAccepted, ViolationEvent,
};
use hub_rooms::events::{Checked, FieldError};

type Answer = Result<(StatusCode, Json<EventAccepted>), AppError>;

async fn accept(
    core: &Core,
    who: &Identity,
    checked: Result<Checked, FieldError>,
    event: EventIn<'_>,
) -> Answer {
    if !who.role.is_privileged() {
        return Err(AppError::forbidden(
            "events come from system or admin accounts",
        ));
    }
    // The events' contract: a field out of range is 400 (the hub's other routes answer 422).
    let checked = checked.map_err(|e| AppError::bad_request(e.to_string()))?;
    let accepted = core.services.event_in(checked, event, &who.user_id).await?;
    let status = if accepted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(accepted)))
}

pub async fn task_accepted(
    State(core): State<Core>,
    who: Identity,
    ApiJson(e): ApiJson<TaskAccepted>,
) -> Answer {
    accept(
        &core,
        &who,
        hub_rooms::events::task_accepted(&e),
        EventIn::Task(&e),
    )
    .await
}

pub async fn review(
    State(core): State<Core>,
    who: Identity,
    ApiJson(e): ApiJson<ReviewEvent>,
) -> Answer {
    accept(
        &core,
        &who,
        hub_rooms::events::review(&e),
        EventIn::Review(&e),
    )
    .await
}

pub async fn bug(State(core): State<Core>, who: Identity, ApiJson(e): ApiJson<BugEvent>) -> Answer {
    accept(&core, &who, hub_rooms::events::bug(&e), EventIn::Bug(&e)).await
}

pub async fn kyc(State(core): State<Core>, who: Identity, ApiJson(e): ApiJson<KycEvent>) -> Answer {
    accept(&core, &who, hub_rooms::events::kyc(&e), EventIn::Kyc(&e)).await
}

pub async fn device(
    State(core): State<Core>,
    who: Identity,
    ApiJson(e): ApiJson<DeviceEvent>,
) -> Answer {
    accept(
        &core,
        &who,
        hub_rooms::events::device(&e),
        EventIn::Device(&e),
    )
    .await
}

pub async fn violation(
    State(core): State<Core>,
    who: Identity,
    ApiJson(e): ApiJson<ViolationEvent>,
) -> Answer {
    accept(
        &core,
        &who,
        hub_rooms::events::violation(&e),
        EventIn::Violation(&e),
    )
    .await
}
