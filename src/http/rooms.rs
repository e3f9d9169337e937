//! `GET /api/v1/rooms`: the rooms I belong to, with unread and mention counts.

use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use hub_protocol::rest::{RoomList, RoomSummary};
use hub_rooms::RoomName;

pub async fn list(State(core): State<Core>, who: Identity) -> Result<Json<RoomList>, AppError> {
    let mut rooms = Vec::new();
    for mine in core.store.rooms_of(&who.user_id).await? {
        let room = mine.room.to_string();
        let (last_seq, unread) = core.store.chat_position(&room, &who.user_id).await?;
        rooms.push(RoomSummary {
            kind: match mine.room {
                RoomName::Team(_) => "team",
                _ => "venture",
            }
            .to_owned(),
            last_seq,
            unread,
            mentions: core.store.chat_unread_mentions(&room, &who.user_id).await?,
            name: mine.name,
            venture_id: mine.venture_id,
            role: mine.role,
            room,
        });
    }
    Ok(Json(RoomList { rooms }))
}
