//! Conversion windows (admins create them; everyone reads them) and equity conversions.

use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use hub_protocol::equity::{
    ActiveWindow, Conversion, ConversionList, ConversionWindow, ConvertRequest, CreateWindow,
    Decide, WindowList,
};
use hub_protocol::{ConversionId, VentureId};
use serde::Deserialize;

/// `POST /api/v1/conversion-windows` (admin).
pub async fn create_window(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<CreateWindow>,
) -> Result<(StatusCode, Json<ConversionWindow>), AppError> {
    super::debug::operator(&who)?;
    Ok((
        StatusCode::CREATED,
        Json(
            core.services
                .equity
                .create_window(&body, &who.user_id)
                .await?,
        ),
    ))
}

/// `GET /api/v1/conversion-windows`.
pub async fn windows(
    State(core): State<Core>,
    _who: Identity,
) -> Result<Json<WindowList>, AppError> {
    Ok(Json(WindowList {
        windows: core.services.equity.windows().await?,
    }))
}

/// `GET /api/v1/conversion-windows/active`.
pub async fn active(
    State(core): State<Core>,
    _who: Identity,
) -> Result<Json<ActiveWindow>, AppError> {
    Ok(Json(ActiveWindow {
        window: core.services.equity.active_window().await?,
    }))
}

/// `POST /api/v1/equity/convert`: `201` with the `PENDING` request.
pub async fn convert(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<ConvertRequest>,
) -> Result<(StatusCode, Json<Conversion>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(core.services.equity.convert(&who.user_id, &body).await?),
    ))
}

/// `POST /api/v1/equity/conversions/{id}/decide` (the venture's owners or an admin).
pub async fn decide(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<ConversionId>,
    ApiJson(body): ApiJson<Decide>,
) -> Result<Json<Conversion>, AppError> {
    Ok(Json(
        core.services
            .equity
            .decide(&who.user_id, who.role.is_privileged(), &id, &body)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    venture_id: Option<VentureId>,
}

/// `GET /api/v1/equity/conversions[?venture_id=]`.
pub async fn conversions(
    State(core): State<Core>,
    who: Identity,
    Query(q): Query<ListQuery>,
) -> Result<Json<ConversionList>, AppError> {
    Ok(Json(ConversionList {
        conversions: core
            .services
            .equity
            .conversions(
                &who.user_id,
                who.role.is_privileged(),
                q.venture_id.as_ref(),
            )
            .await?,
    }))
}
