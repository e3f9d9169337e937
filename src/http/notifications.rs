//! `GET /api/v1/notifications` and `POST /api/v1/notifications/read`: the caller's stored
//! notifications (the live ones arrive as `notification`).

use super::ApiJson;
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::{Query, State};
use hub_protocol::notifications::{MarkRead, NotificationList, UnreadCount};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[serde(default)]
    unread: bool,
    before: Option<String>,
    limit: Option<u32>,
}

pub async fn list(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<ListQuery>,
) -> Result<Json<NotificationList>, AppError> {
    let limit =
        hub_rooms::chat::history_limit(q.limit).map_err(|e| AppError::invalid(e.to_string()))?;
    let (notifications, has_more) = core
        .store
        .notifications(&who.user_id, q.unread, q.before.as_deref(), limit)
        .await?;
    let unread_count = core.store.unread_notifications(&who.user_id).await?;
    Ok(Json(NotificationList {
        notifications,
        unread_count,
        has_more,
    }))
}

pub async fn mark_read(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<Json<UnreadCount>, AppError> {
    let ids = match (body.ids, body.all) {
        (Some(ids), None | Some(false)) if ids.len() <= 1000 => Some(ids),
        (Some(_), None | Some(false)) => {
            return Err(AppError::invalid("ids: at most 1000 at a time"));
        }
        (None, Some(true)) => None,
        _ => return Err(AppError::invalid("give either {ids: [...]} or {all: true}")),
    };
    let unread_count = core
        .store
        .mark_notifications_read(&who.user_id, ids.as_deref())
        .await?;
    Ok(Json(UnreadCount { unread_count }))
}
