//! Ventures: create, list mine, read one (members only), manage members.

use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::services::access::Caller;
use crate::services::groups::MemberOutcome;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::rest::{
    CreateVenture, MemberSet, PutMember, Venture, VentureDetail, VentureList,
};
use hub_protocol::{UserId, VentureId};

/// The caller, as the services know them.
pub fn caller(who: &Identity) -> Caller<'_> {
    Caller {
        user: &who.user_id,
        privileged: who.role.is_privileged(),
    }
}

pub async fn create(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<CreateVenture>,
) -> Result<(StatusCode, Json<Venture>), AppError> {
    let venture = core
        .services
        .groups
        .venture_create(caller(&who), &body.name, body.description.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(venture)))
}

pub async fn list(State(core): State<Core>, who: Identity) -> Result<Json<VentureList>, AppError> {
    let (ventures, _) = core.services.groups.groups_of(&who.user_id).await?;
    Ok(Json(VentureList { ventures }))
}

pub async fn get(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<VentureId>,
) -> Result<Json<VentureDetail>, AppError> {
    Ok(Json(
        core.services
            .groups
            .venture_detail(caller(&who), &id)
            .await?,
    ))
}

pub async fn put_member(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<VentureId>,
    ApiJson(body): ApiJson<PutMember>,
) -> Result<(StatusCode, Json<MemberSet>), AppError> {
    let set = core
        .services
        .groups
        .venture_member_set(caller(&who), &id, &body.user_id, body.role)
        .await?;
    Ok(member_set(set))
}

/// The answer of `POST …/members`: `201` added, `200` changed, `202` invited.
pub fn member_set((outcome, set): (MemberOutcome, MemberSet)) -> (StatusCode, Json<MemberSet>) {
    let status = match outcome {
        MemberOutcome::Added => StatusCode::CREATED,
        MemberOutcome::Changed => StatusCode::OK,
        MemberOutcome::Invited => StatusCode::ACCEPTED,
    };
    (status, Json(set))
}

pub async fn remove_member(
    State(core): State<Core>,
    who: Identity,
    ApiPath((id, user)): ApiPath<(VentureId, UserId)>,
) -> Result<StatusCode, AppError> {
    core.services
        .groups
        .venture_member_remove(caller(&who), &id, &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    before: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/ventures/{id}/activity?before=&limit=`: the feed, newest first, for members
/// (and privileged accounts); `limit` 1 to 100, 50 by default.
pub async fn activity(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<VentureId>,
    axum::extract::Query(q): axum::extract::Query<ActivityQuery>,
) -> Result<Json<hub_protocol::activity::ActivityPage>, AppError> {
    Ok(Json(
        core.services
            .groups
            .venture_activity(caller(&who), &id, q.before.as_deref(), q.limit)
            .await?,
    ))
}
