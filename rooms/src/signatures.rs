//! Signatures over uploaded files: ECDSA P-256 with SHA-256 over the UTF-8 message
//! `hub-signature:v1:{document_id}:{checksum_sha256}` (see [`crate::files::signature_message`]).
//!
//! Public keys come as a JWK (`{"kty": "EC", "crv": "P-256", "x", "y"}`, what WebCrypto exports)
//! or an SPKI PEM; they are kept as SPKI DER, and a key's fingerprint is the lowercase hex
//! SHA-256 of that DER. A signature is base64url (padding optional) of either the raw `r‖s`
//! (64 bytes, what WebCrypto produces) or DER.

use crate::fields::{FieldError, refuse};
use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::{DecodePublicKey, EncodePublicKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A parsed public key: its SPKI DER and fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub spki_der: Vec<u8>,
    pub fingerprint: String,
}

fn b64url(field: &str, s: &str) -> Result<Vec<u8>, FieldError> {
    let s = s.trim();
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(s))
        .map_err(|_| FieldError::new(field, "must be base64url"))
}

fn finish(key: VerifyingKey) -> Result<PublicKey, FieldError> {
    let der = key
        .to_public_key_der()
        .map_err(|_| FieldError::new("jwk", "the key does not encode"))?
        .as_bytes()
        .to_vec();
    Ok(PublicKey {
        fingerprint: hex(&Sha256::digest(&der)),
        spki_der: der,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A P-256 public key from a JWK.
pub fn from_jwk(jwk: &Value) -> Result<PublicKey, FieldError> {
    let s = |k: &str| jwk.get(k).and_then(Value::as_str);
    if s("kty") != Some("EC") || s("crv") != Some("P-256") {
        return refuse("jwk", "an EC key on P-256 (kty EC, crv P-256)");
    }
    let (Some(x), Some(y)) = (s("x"), s("y")) else {
        return refuse("jwk", "x and y are needed");
    };
    let (x, y) = (b64url("jwk", x)?, b64url("jwk", y)?);
    if x.len() != 32 || y.len() != 32 {
        return refuse("jwk", "x and y are 32 bytes each");
    }
    if jwk.get("d").is_some() {
        return refuse("jwk", "this is a private key: send the public one only");
    }
    let mut point = Vec::with_capacity(65);
    point.push(4);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let key = VerifyingKey::from_sec1_bytes(&point)
        .map_err(|_| FieldError::new("jwk", "not a point on P-256"))?;
    finish(key)
}

/// A P-256 public key from an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn from_spki_pem(pem: &str) -> Result<PublicKey, FieldError> {
    let key = VerifyingKey::from_public_key_pem(pem.trim())
        .map_err(|_| FieldError::new("spki_pem", "not a P-256 public key in SPKI PEM"))?;
    finish(key)
}

/// Whether `signature` (base64url of raw `r‖s` or DER) signs `message` for the key of
/// `spki_der`.
pub fn verify(spki_der: &[u8], message: &str, signature: &str) -> Result<bool, FieldError> {
    let key = VerifyingKey::from_public_key_der(spki_der)
        .map_err(|_| FieldError::new("key_id", "the stored key does not decode"))?;
    let bytes = b64url("signature", signature)?;
    let sig = if bytes.len() == 64 {
        Signature::from_slice(&bytes)
    } else {
        Signature::from_der(&bytes)
    }
    .map_err(|_| FieldError::new("signature", "neither a raw r||s nor a DER ECDSA signature"))?;
    Ok(key.verify(message.as_bytes(), &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;

    fn key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    fn jwk_of(k: &SigningKey) -> Value {
        let point = k.verifying_key().to_encoded_point(false);
        serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        })
    }

    #[test]
    fn jwk_and_pem_give_the_same_key() {
        let k = key();
        let from_jwk = from_jwk(&jwk_of(&k)).unwrap();
        let pem = k
            .verifying_key()
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .unwrap();
        assert_eq!(from_spki_pem(&pem).unwrap(), from_jwk);
        assert_eq!(from_jwk.fingerprint.len(), 64);
    }

    #[test]
    fn signatures_raw_or_der_verify_and_others_do_not() {
        let k = key();
        let pk = from_jwk(&jwk_of(&k)).unwrap();
        let msg = "hub-signature:v1:d1:abc";
        let sig: Signature = k.sign(msg.as_bytes());
        let raw = URL_SAFE_NO_PAD.encode(sig.to_bytes());
        let der = URL_SAFE.encode(sig.to_der().as_bytes());
        assert!(verify(&pk.spki_der, msg, &raw).unwrap());
        assert!(verify(&pk.spki_der, msg, &der).unwrap());
        assert!(!verify(&pk.spki_der, "hub-signature:v1:d1:abd", &raw).unwrap());
        let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let theirs = from_jwk(&jwk_of(&other)).unwrap();
        assert!(!verify(&theirs.spki_der, msg, &raw).unwrap());
        assert_eq!(
            verify(&pk.spki_der, msg, "!!").unwrap_err().field,
            "signature"
        );
        assert_eq!(
            verify(&pk.spki_der, msg, "AAAA").unwrap_err().field,
            "signature"
        );
    }

    #[test]
    fn bad_keys_are_named() {
        for (jwk, field) in [
            (serde_json::json!({"kty": "RSA"}), "jwk"),
            (
                serde_json::json!({"kty": "EC", "crv": "P-384", "x": "a", "y": "b"}),
                "jwk",
            ),
            (
                serde_json::json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
                "jwk",
            ),
        ] {
            assert_eq!(from_jwk(&jwk).unwrap_err().field, field);
        }
        let mut private = jwk_of(&key());
        private["d"] = serde_json::json!("xx");
        assert!(from_jwk(&private).is_err());
        // x and y of 32 bytes that are not a point on the curve.
        let off = serde_json::json!({"kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([1u8; 32])});
        assert!(from_jwk(&off).is_err());
        assert_eq!(from_spki_pem("nope").unwrap_err().field, "spki_pem");
    }
}
