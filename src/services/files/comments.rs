//! Comments on a file, and legal holds that keep it from deletion.

use super::{FileError, Files, no_file};
use crate::services::effects::Effects;
use hub_protocol::files::{Comment, FileDoc};
use hub_protocol::notifications::{DocumentCommentedData, NotificationBody};
use hub_protocol::{FileId, UserId};
use hub_rooms::fields::required_text;
use hub_rooms::files::check_comment;
use serde_json::json;

impl Files {
    /// Comments on a document (those who may comment).
    pub async fn comment(
        &self,
        caller: &UserId,
        id: &FileId,
        body: &str,
    ) -> Result<Comment, FileError> {
        let body = check_comment(body)?;
        let (row, access) = self.visible(caller, id).await?;
        if !access.perms.comment {
            return Err(FileError::Forbidden(
                "your share does not allow comments".into(),
            ));
        }
        let mut w = self.store.begin_write().await?;
        let mut fx = Effects::default();
        let comment = self.store.add_comment(&mut w, id, caller, &body).await?;
        self.audit(
            &mut w,
            &row,
            caller,
            "document.commented",
            json!({"comment_id": comment.id}),
        )
        .await?;
        if &row.owner_id != caller {
            let data = DocumentCommentedData {
                document_id: row.id.clone(),
                title: row.title.clone(),
                comment_id: comment.id.clone(),
                author_id: caller.clone(),
                excerpt: body.chars().take(140).collect(),
            };
            self.notifications
                .add_in(
                    &mut w,
                    &mut fx,
                    &row.owner_id,
                    NotificationBody::DocumentCommented(data),
                )
                .await?;
        }
        self.after.finish(w, fx).await?;
        Ok(super::comment_view(comment))
    }

    /// A document's comments (those who may view or comment).
    pub async fn comments(&self, caller: &UserId, id: &FileId) -> Result<Vec<Comment>, FileError> {
        let (_, access) = self.visible(caller, id).await?;
        if !(access.perms.view || access.perms.comment) {
            return Err(FileError::Forbidden(
                "your share does not show comments".into(),
            ));
        }
        Ok(self
            .store
            .comments(id)
            .await?
            .into_iter()
            .map(super::comment_view)
            .collect())
    }

    /// Places (`Some`) or lifts (`None`) a legal hold (admins).
    pub async fn hold(
        &self,
        admin: &UserId,
        id: &FileId,
        reason: Option<&str>,
    ) -> Result<FileDoc, FileError> {
        let reason = match reason {
            Some(r) => Some(required_text("reason", r, 280)?),
            None => None,
        };
        let mut w = self.store.begin_write().await?;
        let row = self
            .store
            .lock_file(&mut w, id)
            .await?
            .ok_or_else(no_file)?;
        let action = if reason.is_some() {
            "document.hold_placed"
        } else {
            "document.hold_lifted"
        };
        self.audit(&mut w, &row, admin, action, json!({"reason": reason}))
            .await?;
        self.store
            .set_hold(&mut w, id, reason.as_deref(), admin)
            .await?;
        w.commit().await?;
        Ok(self.store.file(id).await?.ok_or_else(no_file)?.view())
    }
}
