//! Documents: create in a room, list a room's, read one, delete (room owner/admin), read the
//! whole state as one Yjs update, apply an update from a server-side tool.

use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::services::docs::LoadedDoc;
use crate::state::Core;
use crate::store::{DocRow, rfc3339};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use hub_protocol::docs::{CreateDoc, DocInfo, DocList};
use hub_protocol::{DocId, Role};
use hub_rooms::RoomName;
use serde::Deserialize;
use std::sync::Arc;

pub fn view(row: DocRow, role: Role) -> DocInfo {
    DocInfo {
        id: DocId(row.id),
        room: row.room,
        title: row.title,
        created_by: row.created_by,
        created_at: rfc3339(row.created_at),
        role,
    }
}

/// The document and the caller's role, or 404 for those outside its room.
pub async fn visible(core: &Core, who: &Identity, id: &DocId) -> Result<(DocRow, Role), AppError> {
    Ok(core.services.access.doc(&who.user_id, id).await?)
}

/// The loaded document (loading it if needed) and the caller's role, for those in its room.
pub async fn open_visible(
    core: &Core,
    who: &Identity,
    id: &DocId,
) -> Result<(Arc<LoadedDoc>, Role), AppError> {
    Ok(core.services.docs.open_visible(&who.user_id, id).await?)
}

fn room_of(room: &str) -> Result<RoomName, AppError> {
    let name: RoomName = room
        .parse()
        .map_err(|e| AppError::invalid(format!("room: {e}")))?;
    if !name.is_joinable() {
        return Err(AppError::invalid(
            "documents belong to venture or team rooms",
        ));
    }
    Ok(name)
}

pub async fn create(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<CreateDoc>,
) -> Result<(StatusCode, Json<DocInfo>), AppError> {
    let title = super::ventures::clean_name("title", &body.title)?;
    let room = room_of(&body.room)?;
    let role = core.services.access.member(&who.user_id, &room).await?;
    if !role.can_edit() {
        return Err(AppError::forbidden("viewers cannot create documents"));
    }
    let row = core
        .store
        .create_doc(&room.to_string(), &title, &who.user_id)
        .await?;
    let venture = match &room {
        RoomName::Venture(v) => Some(v.clone()),
        RoomName::Team(t) => core.store.get_team(t).await?.map(|t| t.venture_id),
        RoomName::User(_) => None,
    };
    if let Some(venture) = venture {
        core.services
            .record_activity(
                &venture,
                Some(&who.user_id),
                "document.created",
                ("document", &row.id),
                serde_json::json!({"title": row.title, "room": row.room}),
            )
            .await;
    }
    Ok((StatusCode::CREATED, Json(view(row, role))))
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
    let room = room_of(
        q.room
            .as_deref()
            .ok_or_else(|| AppError::bad_request("the room query parameter is required"))?,
    )?;
    let role = core.services.access.member(&who.user_id, &room).await?;
    let docs = core.store.docs_in_room(&room.to_string()).await?;
    Ok(Json(DocList {
        docs: docs.into_iter().map(|d| view(d, role)).collect(),
    }))
}

pub async fn get(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<DocId>,
) -> Result<Json<DocInfo>, AppError> {
    let (row, role) = visible(&core, &who, &id).await?;
    Ok(Json(view(row, role)))
}

pub async fn delete(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<DocId>,
) -> Result<StatusCode, AppError> {
    let (_, role) = visible(&core, &who, &id).await?;
    if !role.can_manage() && !who.role.is_privileged() {
        return Err(AppError::forbidden(
            "only owners and admins of the room delete documents",
        ));
    }
    core.store.delete_doc(id.as_str(), &who.user_id).await?;
    core.services.docs.forget(&id);
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
