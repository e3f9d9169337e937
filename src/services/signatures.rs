//! Signing keys and signatures (rules in `hub_rooms::signatures`).
//!
//! - A user registers P-256 public keys; removing one keeps the signatures it made.
//! - The owner of a document asks someone to sign it: the owner, or someone whose live share
//!   allows signing. The signer is told (`signature_requested`).
//! - The signer signs `hub-signature:v2:{document_id}:{checksum_sha256}:{request_id}:{signer_id}`
//!   (the request's `message`) with one of their own keys; a public key belongs to one user
//!   only, so a signature seen on one request can neither be replayed on another nor claimed
//!   under another name. Requests made before `v2` keep their `v1` message and verify as they
//!   were signed. The hub re-reads the stored file first (a document whose content changed is refused),
//!   checks the signer may still sign, and verifies the signature; the request becomes
//!   `SIGNED` with the key's fingerprint, the owner is told (`document_signed`), and both steps
//!   are in the document's audit chain.

use super::after_commit::AfterCommit;
use super::effects::Effects;
use super::files::{FileError, Files};
use super::notifications::Notifications;
use super::webhooks::Outbox;
use crate::clock::{SharedClock, rfc3339};
use crate::store::{Blobs, KeyRow, NewAudit, SignatureRow, Store, StoreError, new_id};
use hub_protocol::notifications::{NotificationBody, SignatureData};
use hub_protocol::signatures::{NewKey, Signature, SigningKey};
use hub_protocol::{FileId, KeyId, SignatureId, UserId};
use hub_rooms::fields::FieldError;
use hub_rooms::files::signature_message;
use hub_rooms::signatures::{from_jwk, from_spki_pem, verify};
use serde_json::json;

impl SignatureRow {
    /// The request (or the signature) as clients see it.
    pub fn view(&self) -> Signature {
        Signature {
            id: self.id.clone(),
            document_id: self.file_id.clone(),
            signer_id: self.signer_id.clone(),
            requested_by: self.requested_by.clone(),
            status: self.status.clone(),
            message: self.message.clone(),
            key_fingerprint: self.key_fingerprint.clone(),
            signature: self.signature.clone(),
            signed_at: self.signed_at.map(rfc3339),
            created_at: rfc3339(self.created_at),
        }
    }
}

impl KeyRow {
    /// The key as its owner sees it.
    pub fn view(&self) -> SigningKey {
        SigningKey {
            id: self.id.clone(),
            fingerprint: self.fingerprint.clone(),
            created_at: rfc3339(self.created_at),
        }
    }
}

/// Signing keys, signature requests and signatures of uploaded documents.
pub struct Signatures {
    store: Store,
    blobs: Blobs,
    files: Files,
    notifications: Notifications,
    after: AfterCommit,
    outbox: Outbox,
    clock: SharedClock,
}

impl Signatures {
    pub fn new(
        store: Store,
        blobs: Blobs,
        files: Files,
        notifications: Notifications,
        after: AfterCommit,
        outbox: Outbox,
        clock: SharedClock,
    ) -> Signatures {
        Signatures {
            store,
            blobs,
            files,
            notifications,
            after,
            outbox,
            clock,
        }
    }

    /// The caller's signing keys in use.
    pub async fn keys_of(&self, user: &UserId) -> Result<Vec<SigningKey>, FileError> {
        Ok(self
            .store
            .keys(user)
            .await?
            .iter()
            .map(KeyRow::view)
            .collect())
    }

    pub async fn add_key(&self, user: &UserId, body: &NewKey) -> Result<SigningKey, FileError> {
        let key = match (&body.jwk, &body.spki_pem) {
            (Some(jwk), None) => from_jwk(jwk)?,
            (None, Some(pem)) => from_spki_pem(pem)?,
            _ => return Err(FieldError::new("jwk", "give exactly one of jwk and spki_pem").into()),
        };
        let mut w = self.store.begin_write().await?;
        let added = self
            .store
            .add_key(&mut w, user, &key.fingerprint, &key.spki_der)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => FileError::Conflict(m),
                other => other.into(),
            })?;
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope: format!("user:{user}"),
                    ref_id: Some(added.id.as_str()),
                    actor_id: Some(user.as_str()),
                    action: "key.registered",
                    details: json!({"fingerprint": added.fingerprint}),
                },
            )
            .await?;
        w.commit().await?;
        Ok(added.view())
    }

    pub async fn remove_key(&self, user: &UserId, id: &KeyId) -> Result<(), FileError> {
        let mut w = self.store.begin_write().await?;
        self.store
            .remove_key(&mut w, user, id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => FileError::NotFound("no such key".into()),
                other => other.into(),
            })?;
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope: format!("user:{user}"),
                    ref_id: Some(id.as_str()),
                    actor_id: Some(user.as_str()),
                    action: "key.removed",
                    details: json!({}),
                },
            )
            .await?;
        w.commit().await?;
        Ok(())
    }

    /// Whether `user` may sign `file` now: its owner, or a live share allowing it.
    async fn may_sign(
        &self,
        file: &crate::store::FileRow,
        user: &UserId,
    ) -> Result<bool, FileError> {
        if &file.owner_id == user {
            return Ok(true);
        }
        Ok(self
            .store
            .user_perms(&file.id, user, self.clock.now_ms())
            .await?
            .sign)
    }

    /// The owner of `document_id` asks `signer` to sign it.
    pub async fn request(
        &self,
        caller: &UserId,
        document_id: &FileId,
        signer: &UserId,
    ) -> Result<Signature, FileError> {
        let (file, access) = self.files.visible(caller, document_id).await?;
        if !access.owner {
            return Err(FileError::Forbidden(
                "only the document's owner asks for signatures".into(),
            ));
        }
        if !self.may_sign(&file, signer).await? {
            return Err(FileError::Forbidden(format!(
                "{signer} holds no share of this document that allows signing"
            )));
        }
        let id = new_id();
        let row = SignatureRow {
            message: signature_message(&id, file.id.as_str(), &file.checksum, signer.as_str()),
            id: SignatureId(id),
            file_id: file.id.clone(),
            signer_id: signer.clone(),
            requested_by: caller.clone(),
            status: "REQUESTED".into(),
            key_fingerprint: None,
            signature: None,
            signed_at: None,
            created_at: self.clock.now_ms(),
        };
        let mut w = self.store.begin_write().await?;
        let mut fx = Effects::default();
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope: file.scope(),
                    ref_id: Some(file.id.as_str()),
                    actor_id: Some(caller.as_str()),
                    action: "signature.requested",
                    details: json!({"signature_id": row.id, "signer_id": signer}),
                },
            )
            .await?;
        self.store.add_signature_request(&mut w, &row).await?;
        let data = SignatureData {
            signature_id: row.id.clone(),
            document_id: file.id.clone(),
            title: file.title.clone(),
            signer_id: signer.clone(),
            requested_by: caller.clone(),
        };
        self.notifications
            .add_in(
                &mut w,
                &mut fx,
                signer,
                NotificationBody::SignatureRequested(data),
            )
            .await?;
        self.after.finish(w, fx).await?;
        Ok(row.view())
    }

    /// `caller` signs request `id` with their key `key_id`.
    pub async fn sign(
        &self,
        caller: &UserId,
        id: &SignatureId,
        key_id: &KeyId,
        signature: &str,
    ) -> Result<Signature, FileError> {
        let gone = || FileError::NotFound("no such signature request".into());
        let req = self.store.signature(id).await?.ok_or_else(gone)?;
        if &req.signer_id != caller {
            return Err(gone());
        }
        if req.status != "REQUESTED" {
            return Err(FileError::Conflict(format!(
                "the request is already {}",
                req.status
            )));
        }
        let key = self
            .store
            .key(key_id)
            .await?
            .filter(|k| &k.user_id == caller && !k.removed)
            .ok_or_else(|| FileError::Field(FieldError::new("key_id", "not one of your keys")))?;
        let file = self
            .store
            .file(&req.file_id)
            .await?
            .ok_or_else(|| FileError::NotFound("no such document".into()))?;
        if !self.may_sign(&file, caller).await? {
            return Err(FileError::Forbidden(
                "your share no longer allows signing".into(),
            ));
        }
        // The document signed must be the document stored.
        let (actual, _) = self.blobs.hash(&file.storage_key).await?;
        if actual != file.checksum {
            self.files.corrupted(&file, &actual, "signature").await;
            return Err(FileError::Conflict(
                "the stored document no longer matches its checksum".into(),
            ));
        }
        let message = signature_message(
            id.as_str(),
            file.id.as_str(),
            &file.checksum,
            caller.as_str(),
        );
        if message != req.message || !verify(&key.spki_der, &message, signature)? {
            return Err(FileError::Field(FieldError::new(
                "signature",
                format!("does not verify for {message:?} with this key"),
            )));
        }
        let mut w = self.store.begin_write().await?;
        let mut fx = Effects::default();
        let current = self
            .store
            .lock_signature(&mut w, id)
            .await?
            .ok_or_else(gone)?;
        if current.status != "REQUESTED" {
            return Err(FileError::Conflict(format!(
                "the request is already {}",
                current.status
            )));
        }
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope: file.scope(),
                    ref_id: Some(file.id.as_str()),
                    actor_id: Some(caller.as_str()),
                    action: "signature.signed",
                    details: json!({"signature_id": id, "key_fingerprint": key.fingerprint,
                                    "checksum_sha256": file.checksum}),
                },
            )
            .await?;
        self.store.set_signed(&mut w, id, &key, signature).await?;
        self.outbox
            .emit(
                &self.store,
                &mut w,
                "document.signed",
                None,
                &json!({
                    "signature_id": id, "document_id": file.id, "title": file.title,
                    "signer_id": caller, "requested_by": req.requested_by,
                    "key_fingerprint": key.fingerprint, "checksum_sha256": file.checksum,
                }),
            )
            .await?;
        let data = SignatureData {
            signature_id: id.to_owned(),
            document_id: file.id.clone(),
            title: file.title.clone(),
            signer_id: caller.clone(),
            requested_by: req.requested_by.clone(),
        };
        self.notifications
            .add_in(
                &mut w,
                &mut fx,
                &file.owner_id,
                NotificationBody::DocumentSigned(data),
            )
            .await?;
        self.after.finish(w, fx).await?;
        Ok(self.store.signature(id).await?.ok_or_else(gone)?.view())
    }

    /// A document's signatures (those who may see it).
    pub async fn of_document(
        &self,
        caller: &UserId,
        document_id: &FileId,
    ) -> Result<Vec<Signature>, FileError> {
        self.files.visible(caller, document_id).await?;
        Ok(self
            .store
            .signatures_of(document_id)
            .await?
            .iter()
            .map(SignatureRow::view)
            .collect())
    }
}
