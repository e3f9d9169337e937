//! `GET /api/v1/rooms`: the rooms I belong to, with unread and mention counts.

use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use hub_protocol::rest::RoomList;

pub async fn list(State(core): State<Core>, who: Identity) -> Result<Json<RoomList>, AppError> {
    Ok(Json(RoomList {
        rooms: core.services.groups.rooms_of(&who.user_id).await?,
    }))
}
