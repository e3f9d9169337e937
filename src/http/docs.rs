//! Documents: create in a room, list a room's, read one, delete (room owner/admin), read the
//! whole state as one Yjs update, apply an update from a server-side tool.

use super::ventures::caller;
use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::services::docs::LoadedDoc;
use crate::state::Core;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use hub_protocol::docs::{CreateDoc, DocInfo, DocList};
use hub_protocol::{DocId, Role};
use serde::Deserialize;
use std::sync::Arc;

/// The loaded document (loading it if needed) and the caller's role, for those in its room.
pub async fn open_visible(
    core: &Core,
    who: &Identity,
    id: &DocId,
) -> Result<(Arc<LoadedDoc>, Role), AppError> {
    Ok(core.services.docs.open_visible(&who.user_id, id).await?)
}

pub async fn create(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<CreateDoc>,
) -> Result<(StatusCode, Json<DocInfo>), AppError> {
    let doc = core
        .services
        .docs
        .create(caller(&who), body.room.as_str(), &body.title)
        .await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `venture:{id}` or `team:{id}`.
    #[param(required = true)]
    room: Option<String>,
}

pub async fn list(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<ListQuery>,
) -> Result<Json<DocList>, AppError> {
    let room = q
        .room
        .as_deref()
        .ok_or_else(|| AppError::bad_request("the room query parameter is required"))?;
    Ok(Json(DocList {
        docs: core.services.docs.list_in(caller(&who), room).await?,
    }))
}

pub async fn get(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<DocId>,
) -> Result<Json<DocInfo>, AppError> {
    Ok(Json(core.services.docs.info(caller(&who), &id).await?))
}

pub async fn delete(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<DocId>,
) -> Result<StatusCode, AppError> {
    core.services.docs.delete(caller(&who), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn state(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<DocId>,
) -> Result<impl IntoResponse, AppError> {
    let (doc, _) = open_visible(&core, &who, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        doc.state(),
    ))
}

pub async fn apply_update(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<DocId>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, AppError> {
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::too_large("the update is too large"),
        _ => AppError::bad_request(e.body_text()),
    })?;
    let (doc, role) = open_visible(&core, &who, &id).await?;
    if !role.can_edit() {
        return Err(AppError::forbidden("viewers cannot change documents"));
    }
    if body.is_empty() {
        return Err(AppError::bad_request(
            "the body must be a Yjs update (v1 encoding)",
        ));
    }
    core.services.docs.apply_update(&doc, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}
