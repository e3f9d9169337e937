//! `GET /api/v1/me`: who I am, my ventures and my teams, each with my role.

use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use hub_protocol::rest::{Me, User};

pub async fn me(State(core): State<Core>, who: Identity) -> Result<Json<Me>, AppError> {
    let (ventures, teams) = core.services.groups.groups_of(&who.user_id).await?;
    Ok(Json(Me {
        user: User {
            id: who.user_id,
            name: who.name,
            role: who.role,
        },
        ventures,
        teams,
    }))
}
