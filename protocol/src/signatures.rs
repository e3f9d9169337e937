//! Signing keys and signatures over uploaded documents (`/api/v1/keys`, `/api/v1/signatures`).
//! A signature is ECDSA P-256 with SHA-256 over the UTF-8 message
//! `hub-signature:v2:{document_id}:{checksum_sha256}:{request_id}:{signer_id}` (requests made
//! before v2 keep `hub-signature:v1:{document_id}:{checksum_sha256}`).

use crate::ids::{FileId, KeyId, SignatureId, UserId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `POST /api/v1/keys`: a P-256 public key, as a JWK (what WebCrypto's `exportKey("jwk")` gives)
/// or an SPKI PEM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct NewKey {
    #[serde(default)]
    #[ts(optional, type = "{ kty: string, crv: string, x: string, y: string }")]
    pub jwk: Option<serde_json::Value>,
    #[serde(default)]
    #[ts(optional)]
    pub spki_pem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct SigningKey {
    pub id: KeyId,
    /// Lowercase hex SHA-256 of the key's SPKI DER.
    pub fingerprint: String,
    pub created_at: String,
}

/// `GET /api/v1/keys`: mine, removed ones left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct KeyList {
    pub keys: Vec<SigningKey>,
}

/// `POST /api/v1/signatures`: the owner asks `signer_id` (the owner, or someone holding a
/// share with `can_sign`) to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct RequestSignature {
    pub document_id: FileId,
    pub signer_id: UserId,
}

/// `POST /api/v1/signatures/{id}/sign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Sign {
    pub key_id: KeyId,
    /// base64url of the raw `r‖s` (64 bytes, WebCrypto's output) or of DER.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Signature {
    pub id: SignatureId,
    pub document_id: FileId,
    pub signer_id: UserId,
    pub requested_by: UserId,
    /// `REQUESTED` or `SIGNED`.
    pub status: String,
    /// The message to sign, and signed: `hub-signature:v2:{document_id}:{checksum_sha256}:{id}:{signer_id}`
    /// (`hub-signature:v1:{document_id}:{checksum_sha256}` on requests made before v2).
    pub message: String,
    pub key_fingerprint: Option<String>,
    pub signature: Option<String>,
    pub signed_at: Option<String>,
    pub created_at: String,
}

/// `GET /api/v1/documents/{id}/signatures`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct SignatureList {
    pub signatures: Vec<Signature>,
}
