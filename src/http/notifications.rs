//! `GET /api/v1/notifications` and `POST /api/v1/notifications/read`: the caller's stored
//! notifications (the live ones arrive as `notification`).

use super::ApiJson;
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::{Query, State};
use hub_protocol::NotificationId;
use hub_protocol::notifications::{MarkRead, NotificationList, UnreadCount};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[serde(default)]
    unread: bool,
    before: Option<NotificationId>,
    limit: Option<u32>,
}

pub async fn list(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<ListQuery>,
) -> Result<Json<NotificationList>, AppError> {
    let page = core
        .services
        .notifications
        .page(&who.user_id, q.unread, q.before.as_ref(), q.limit)
        .await?;
    Ok(Json(page))
}

pub async fn mark_read(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<Json<UnreadCount>, AppError> {
    let unread_count = core
        .services
        .notifications
        .mark_read(&who.user_id, body.ids, body.all)
        .await?;
    Ok(Json(UnreadCount { unread_count }))
}
