//! Wallets: mine (created on first use), its ledger, its verification and what was withheld;
//! anyone's for admins, and their adjustments.

use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use hub_protocol::UserId;
use hub_protocol::wallets::{Adjust, LedgerEntry, LedgerPage, Wallet, WalletVerify, WithheldList};
use hub_rooms::fields::FieldError;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WithheldQuery {
    before: Option<String>,
    limit: Option<u32>,
}

fn limit(l: Option<u32>) -> Result<u32, AppError> {
    let l = l.unwrap_or(50);
    if (1..=100).contains(&l) {
        Ok(l)
    } else {
        Err(FieldError::new("limit", "1 to 100").into())
    }
}

/// `GET /api/v1/wallet/me`.
pub async fn me(State(core): State<Core>, who: Identity) -> Result<Json<Wallet>, AppError> {
    Ok(Json(
        core.services.wallets.wallet_of(&who.user_id).await?.view(),
    ))
}

/// `GET /api/v1/wallet/me/ledger?before=&limit=`.
pub async fn ledger(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<LedgerQuery>,
) -> Result<Json<LedgerPage>, AppError> {
    let limit = limit(q.limit)?;
    Ok(Json(
        core.services
            .wallets
            .ledger(&who.user_id, q.before, limit)
            .await?,
    ))
}

/// `GET /api/v1/wallet/me/verify`.
pub async fn verify(
    State(core): State<Core>,
    who: Identity,
) -> Result<Json<WalletVerify>, AppError> {
    Ok(Json(
        core.services.wallets.verify_wallet(&who.user_id).await?,
    ))
}

/// `GET /api/v1/wallet/me/withheld?before=&limit=`.
pub async fn withheld(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<WithheldQuery>,
) -> Result<Json<WithheldList>, AppError> {
    let limit = limit(q.limit)?;
    Ok(Json(
        core.services
            .wallets
            .withheld(&who.user_id, q.before.as_deref(), limit)
            .await?,
    ))
}

/// `GET /api/v1/wallets/{user_id}` (admin).
pub async fn of_user(
    State(core): State<Core>,
    who: Identity,
    ApiPath(user): ApiPath<UserId>,
) -> Result<Json<Wallet>, AppError> {
    super::debug::operator(&who)?;
    Ok(Json(
        core.services.wallets.wallet_of_user(&user).await?.view(),
    ))
}

/// `POST /api/v1/wallets/{user_id}/adjust` (admin): an `ADJUST` entry with a note.
pub async fn adjust(
    State(core): State<Core>,
    who: Identity,
    ApiPath(user): ApiPath<UserId>,
    ApiJson(body): ApiJson<Adjust>,
) -> Result<(StatusCode, Json<LedgerEntry>), AppError> {
    super::debug::operator(&who)?;
    let entry = core
        .services
        .wallets
        .adjust(&who.user_id, &user, body.amount, &body.note)
        .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}
