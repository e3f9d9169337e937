//! The server API (`/api/v1/rooms/{room}/publish`, `/api/v1/users/{user_id}/…`,
//! `/api/v1/publish`, `/api/v1/presence/counts`, `/api/v1/api-keys`): for other backends,
//! with an `admin` or `system` token or an API key (see [`ServerCaller`]).

use super::extract::{ServerCaller, ServerOrUser};
use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::services::server::Reader;
use crate::state::Core;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use hub_protocol::server::{
    ApiKey, ApiKeyList, Broadcast, CountRooms, CreatedApiKey, Disconnect, Disconnected, NewApiKey,
    PresenceCounts, Publication, PublicationPage, Publish, Published, RoomPresence,
};
use hub_protocol::{ApiKeyId, UserId};
use hub_rooms::RoomName;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The last seq the caller has (0 or absent: from the start).
    after: Option<i64>,
    /// At most this many (1 to 500, default 100).
    limit: Option<u32>,
}

/// A room named in a path: `venture:{id}`, `team:{id}` or `user:{id}`.
fn room(name: &str) -> Result<RoomName, AppError> {
    name.parse()
        .map_err(|_| AppError::invalid(format!("not a room: {name}")))
}

pub async fn publish_room(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Publish>,
) -> Result<Json<Publication>, AppError> {
    let room = room(&name)?;
    Ok(Json(
        core.services
            .server
            .publish_room(&grant, &room, &body)
            .await?,
    ))
}

pub async fn publish_user(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiPath(user): ApiPath<UserId>,
    ApiJson(body): ApiJson<Publish>,
) -> Result<Json<Publication>, AppError> {
    Ok(Json(
        core.services
            .server
            .publish_user(&grant, &user, &body)
            .await?,
    ))
}

pub async fn broadcast(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiJson(body): ApiJson<Broadcast>,
) -> Result<Json<Published>, AppError> {
    Ok(Json(core.services.server.broadcast(&grant, &body).await?))
}

pub async fn publications(
    State(core): State<Core>,
    caller: ServerOrUser,
    ApiPath(name): ApiPath<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<PublicationPage>, AppError> {
    let room = room(&name)?;
    let reader = match &caller {
        ServerOrUser::Server(grant) => Reader::Server(grant),
        ServerOrUser::User(who) => Reader::Member(&who.user_id),
    };
    Ok(Json(
        core.services
            .server
            .publications(reader, &room, q.after, q.limit)
            .await?,
    ))
}

pub async fn presence(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<RoomPresence>, AppError> {
    let room = room(&name)?;
    Ok(Json(core.services.server.presence(&grant, &room).await?))
}

pub async fn counts(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiJson(body): ApiJson<CountRooms>,
) -> Result<Json<PresenceCounts>, AppError> {
    Ok(Json(core.services.server.counts(&grant, &body).await?))
}

pub async fn disconnect(
    State(core): State<Core>,
    caller: ServerCaller,
    ApiPath(user): ApiPath<UserId>,
    ApiJson(body): ApiJson<Disconnect>,
) -> Result<Json<Disconnected>, AppError> {
    close(&core, caller, &user, body, false).await
}

pub async fn revoke(
    State(core): State<Core>,
    caller: ServerCaller,
    ApiPath(user): ApiPath<UserId>,
    ApiJson(body): ApiJson<Disconnect>,
) -> Result<Json<Disconnected>, AppError> {
    close(&core, caller, &user, body, true).await
}

/// Closes `user`'s sessions; with `revoke`, their tokens issued until now go too.
async fn close(
    core: &Core,
    ServerCaller(grant): ServerCaller,
    user: &UserId,
    body: Disconnect,
    revoke: bool,
) -> Result<Json<Disconnected>, AppError> {
    let server = &core.services.server;
    let reason = body.reason.as_deref();
    Ok(Json(if revoke {
        server.revoke(&grant, user, reason).await?
    } else {
        server.disconnect(&grant, user, reason).await?
    }))
}

pub async fn create_key(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), AppError> {
    let created = core
        .services
        .server
        .create_key(&who.user_id, who.role, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn keys(State(core): State<Core>, who: Identity) -> Result<Json<ApiKeyList>, AppError> {
    Ok(Json(core.services.server.keys(who.role).await?))
}

pub async fn revoke_key(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> Result<Json<ApiKey>, AppError> {
    Ok(Json(
        core.services
            .server
            .revoke_key(&who.user_id, who.role, &id)
            .await?,
    ))
}
