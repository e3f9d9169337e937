//! Webhook endpoints and their deliveries (`/api/v1/webhooks`, `/api/v1/webhook-deliveries`):
//! for `admin` and `system` accounts, or an API key with the `webhooks` scope.

use super::extract::ServerCaller;
use super::{ApiJson, ApiPath};
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use hub_protocol::webhooks::{
    CreatedWebhook, Delivery, DeliveryList, DeliveryLog, NewWebhook, PatchWebhook, Webhook,
    WebhookList,
};
use hub_protocol::{DeliveryId, WebhookId};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `pending`, `delivered` or `dead` (all when absent).
    state: Option<String>,
    /// Deliveries before this `seq` (the next page).
    before: Option<i64>,
    /// At most this many (1 to 200, default 50).
    limit: Option<u32>,
}

pub async fn create(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiJson(body): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), AppError> {
    let made = core.services.webhooks.create(&grant, &body).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

pub async fn list(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
) -> Result<Json<WebhookList>, AppError> {
    Ok(Json(core.services.webhooks.list(&grant).await?))
}

pub async fn get(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiPath(id): ApiPath<WebhookId>,
) -> Result<Json<Webhook>, AppError> {
    Ok(Json(core.services.webhooks.get(&grant, &id).await?))
}

pub async fn patch(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiPath(id): ApiPath<WebhookId>,
    ApiJson(body): ApiJson<PatchWebhook>,
) -> Result<Json<Webhook>, AppError> {
    Ok(Json(
        core.services.webhooks.patch(&grant, &id, &body).await?,
    ))
}

pub async fn delete(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiPath(id): ApiPath<WebhookId>,
) -> Result<StatusCode, AppError> {
    core.services.webhooks.delete(&grant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn deliveries(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiPath(id): ApiPath<WebhookId>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<DeliveryList>, AppError> {
    Ok(Json(
        core.services
            .webhooks
            .deliveries(&grant, &id, q.state.as_deref(), q.before, q.limit)
            .await?,
    ))
}

pub async fn delivery(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiPath(id): ApiPath<DeliveryId>,
) -> Result<Json<DeliveryLog>, AppError> {
    Ok(Json(core.services.webhooks.delivery(&grant, &id).await?))
}

pub async fn replay(
    State(core): State<Core>,
    ServerCaller(grant): ServerCaller,
    ApiPath(id): ApiPath<DeliveryId>,
) -> Result<Json<Delivery>, AppError> {
    Ok(Json(core.services.webhooks.replay(&grant, &id).await?))
}
