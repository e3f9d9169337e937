//! Shares: to users (with what they allow and until when) and to clients by signed link.

use super::{FileError, Files};
use crate::clock::rfc3339;
use crate::services::effects::Effects;
use crate::store::{FileRow, Perms, ShareRow, StoreError, new_id};
use hub_protocol::files::NewShare;
use hub_protocol::notifications::{DocumentSharedData, NotificationBody};
use hub_protocol::{ClientId, FileId, ShareId, UserId};
use hub_rooms::fields::FieldError;
use hub_rooms::files::check_share_target;
use serde_json::json;

impl Files {
    /// Shares a document (its owner) with a user or a client.
    pub async fn share(
        &self,
        caller: &UserId,
        id: &FileId,
        req: &NewShare,
    ) -> Result<ShareRow, FileError> {
        let row = self.owned(caller, id).await?;
        check_share_target(
            req.to_user_id.as_ref().map(|u| u.as_str()),
            req.client_id.as_ref().map(ClientId::as_str),
        )?;
        let now = self.clock.now_ms();
        let expires_at = match req.expires_at.as_deref() {
            None => None,
            Some(t) => {
                let at = chrono::DateTime::parse_from_rfc3339(t)
                    .map_err(|_| FieldError::new("expires_at", "an RFC 3339 time"))?
                    .timestamp_millis();
                if at <= now {
                    return Err(FieldError::new("expires_at", "must be in the future").into());
                }
                Some(at)
            }
        };
        if let Some(user) = &req.to_user_id {
            if !hub_rooms::room::valid_id(user.as_str()) {
                return Err(FieldError::new("to_user_id", "not a user id").into());
            }
            if user == caller {
                return Err(FieldError::new("to_user_id", "you own the document").into());
            }
        }
        if let Some(c) = &req.client_id
            && self.store.client(caller, c).await?.is_none()
        {
            return Err(FileError::NotFound("no such client".into()));
        }
        let perms = Perms {
            view: req.can_view.unwrap_or(true),
            comment: req.can_comment.unwrap_or(false),
            sign: req.can_sign.unwrap_or(false),
        };
        if !perms.any() {
            return Err(FieldError::new("can_view", "a share allows at least one thing").into());
        }
        let share = ShareRow {
            id: ShareId(new_id()),
            file_id: row.id.clone(),
            to_user_id: req.to_user_id.clone(),
            client_id: req.client_id.clone(),
            perms,
            expires_at,
            revoked_at: None,
            created_by: caller.clone(),
            created_at: now,
        };
        let mut w = self.store.begin_write().await?;
        let mut fx = Effects::default();
        self.audit(
            &mut w,
            &row,
            caller,
            "document.shared",
            json!({
                "share_id": share.id, "to_user_id": share.to_user_id, "client_id": share.client_id,
                "can_view": perms.view, "can_comment": perms.comment, "can_sign": perms.sign,
                "expires_at": share.expires_at,
            }),
        )
        .await?;
        if let Some(user) = &req.to_user_id {
            self.store.lock_users(&mut w, &[user]).await?;
            self.store.ensure_profile(&mut w, user).await?;
        }
        self.store.add_share(&mut w, &share).await?;
        self.outbox
            .emit(
                &self.store,
                &mut w,
                "document.shared",
                None,
                &json!({
                    "document_id": row.id, "title": row.title, "share_id": share.id,
                    "by": caller, "to_user_id": share.to_user_id, "client_id": share.client_id,
                    "can_view": perms.view, "can_comment": perms.comment, "can_sign": perms.sign,
                    "expires_at": share.expires_at.map(rfc3339),
                }),
            )
            .await?;
        if let Some(user) = &req.to_user_id {
            let data = DocumentSharedData {
                document_id: row.id.clone(),
                title: row.title.clone(),
                share_id: share.id.clone(),
                by: caller.clone(),
                can_view: perms.view,
                can_comment: perms.comment,
                can_sign: perms.sign,
            };
            self.notifications
                .add_in(
                    &mut w,
                    &mut fx,
                    user,
                    NotificationBody::DocumentShared(data),
                )
                .await?;
        }
        self.after.finish(w, fx).await?;
        Ok(share)
    }

    /// A document's shares (its owner).
    pub async fn shares(&self, caller: &UserId, id: &FileId) -> Result<Vec<ShareRow>, FileError> {
        self.owned(caller, id).await?;
        Ok(self.store.shares_of(id).await?)
    }

    /// Revokes a share (its owner; allowed under a hold too).
    pub async fn revoke(
        &self,
        caller: &UserId,
        id: &FileId,
        share: &ShareId,
    ) -> Result<(), FileError> {
        let row = self.owned(caller, id).await?;
        let mut w = self.store.begin_write().await?;
        self.audit(
            &mut w,
            &row,
            caller,
            "document.share_revoked",
            json!({"share_id": share}),
        )
        .await?;
        self.store
            .revoke_share(&mut w, id, share)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => FileError::NotFound("no such share".into()),
                other => other.into(),
            })?;
        w.commit().await?;
        Ok(())
    }

    /// The document and share behind a client link, if the share is a live client share of it.
    pub async fn by_link(
        &self,
        share_id: &ShareId,
        doc_id: &FileId,
    ) -> Result<(FileRow, ShareRow), FileError> {
        let gone = || FileError::NotFound("the link has expired or was revoked".into());
        let share = self.store.share(share_id).await?.ok_or_else(gone)?;
        if share.file_id != *doc_id || share.client_id.is_none() || !share.live(self.clock.now_ms())
        {
            return Err(gone());
        }
        let row = self.store.file(doc_id).await?.ok_or_else(gone)?;
        Ok((row, share))
    }
}
