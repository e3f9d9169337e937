//! `GET /api/v1/me`: who I am, my ventures and my teams, each with my role.

use super::ventures::{team_view, venture_view};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use hub_protocol::rest::{Me, User};

pub async fn me(State(core): State<Core>, who: Identity) -> Result<Json<Me>, AppError> {
    let ventures = core.store.ventures_of(&who.user_id).await?;
    let teams = core.store.teams_of(&who.user_id).await?;
    Ok(Json(Me {
        user: User {
            id: who.user_id,
            name: who.name,
            role: who.role,
        },
        ventures: ventures
            .into_iter()
            .map(|(v, r)| venture_view(v, Some(r)))
            .collect(),
        teams: teams
            .into_iter()
            .map(|(t, r)| team_view(t, Some(r)))
            .collect(),
    }))
}
