//! Clients (`/api/v1/clients`): the caller's own, `404` for anyone else's.

use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::ClientId;
use hub_protocol::clients::{Client, ClientList, NewClient, PatchClient};

pub async fn list(State(core): State<Core>, who: Identity) -> Result<Json<ClientList>, AppError> {
    Ok(Json(ClientList {
        clients: core.services.clients.of_owner(&who.user_id).await?,
    }))
}

pub async fn create(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<NewClient>,
) -> Result<(StatusCode, Json<Client>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(core.services.clients.create(&who.user_id, &body).await?),
    ))
}

pub async fn get(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<ClientId>,
) -> Result<Json<Client>, AppError> {
    Ok(Json(core.services.clients.get(&who.user_id, &id).await?))
}

pub async fn patch(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<ClientId>,
    ApiJson(body): ApiJson<PatchClient>,
) -> Result<Json<Client>, AppError> {
    Ok(Json(
        core.services
            .clients
            .patch(&who.user_id, &id, &body)
            .await?,
    ))
}

pub async fn delete(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<ClientId>,
) -> Result<StatusCode, AppError> {
    core.services.clients.delete(&who.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
