//! Signing keys (`/api/v1/keys`) and signatures (`/api/v1/signatures`).

use super::{ApiJson, ApiPath};
use crate::auth::Identity;
use crate::error::AppError;
use crate::state::Core;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hub_protocol::signatures::{KeyList, NewKey, RequestSignature, Sign, Signature, SigningKey};
use hub_protocol::{KeyId, SignatureId};

pub async fn add_key(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<SigningKey>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(
            core.services
                .signatures
                .add_key(&who.user_id, &body)
                .await?,
        ),
    ))
}

pub async fn keys(State(core): State<Core>, who: Identity) -> Result<Json<KeyList>, AppError> {
    Ok(Json(KeyList {
        keys: core.services.signatures.keys_of(&who.user_id).await?,
    }))
}

pub async fn remove_key(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<KeyId>,
) -> Result<StatusCode, AppError> {
    core.services
        .signatures
        .remove_key(&who.user_id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/signatures` (the document's owner): `201` request.
pub async fn request(
    State(core): State<Core>,
    who: Identity,
    ApiJson(body): ApiJson<RequestSignature>,
) -> Result<(StatusCode, Json<Signature>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(
            core.services
                .signatures
                .request(&who.user_id, &body.document_id, &body.signer_id)
                .await?,
        ),
    ))
}

/// `POST /api/v1/signatures/{id}/sign` (the signer).
pub async fn sign(
    State(core): State<Core>,
    who: Identity,
    ApiPath(id): ApiPath<SignatureId>,
    ApiJson(body): ApiJson<Sign>,
) -> Result<Json<Signature>, AppError> {
    Ok(Json(
        core.services
            .signatures
            .sign(&who.user_id, &id, &body.key_id, &body.signature)
            .await?,
    ))
}
