//! The documents of a room as its members list and manage them: create one in a venture or
//! team room (editors), list a room's, read one, delete one (the room's owners and admins, or a
//! privileged account). What is inside a document is the engine's ([`super::Docs`]).

use super::{Docs, DocsError};
use crate::clock::rfc3339;
use crate::services::access::Caller;
use crate::store::{DocRow, NewAudit, StoreError};
use hub_protocol::docs::DocInfo;
use hub_protocol::{DocId, Role, RoomId, UserId};
use hub_rooms::RoomName;

pub fn doc_view(row: DocRow, role: Role) -> DocInfo {
    DocInfo {
        id: DocId(row.id),
        room: RoomId::from(row.room),
        title: row.title,
        created_by: row.created_by,
        created_at: rfc3339(row.created_at),
        role,
    }
}

/// The room a document request names: a venture or team room.
fn doc_room(room: &str) -> Result<RoomName, DocsError> {
    let name: RoomName = room
        .parse()
        .map_err(|e| DocsError::Invalid(format!("room: {e}")))?;
    if !name.is_joinable() {
        return Err(DocsError::Invalid(
            "documents belong to venture or team rooms".into(),
        ));
    }
    Ok(name)
}

impl Docs {
    /// A new document in `room`, made by one of its editors; the venture's feed records it.
    pub async fn create(
        &self,
        caller: Caller<'_>,
        room: &str,
        title: &str,
    ) -> Result<DocInfo, DocsError> {
        let title = crate::services::groups::clean_name("title", title)
            .map_err(|e| DocsError::Invalid(e.to_string()))?;
        let room = doc_room(room)?;
        let role = self.access.member(caller.user, &room).await?;
        if !role.can_edit() {
            return Err(DocsError::Forbidden(
                "viewers cannot create documents".into(),
            ));
        }
        let row = self.new_doc(&room.to_string(), &title, caller.user).await?;
        let venture = match &room {
            RoomName::Venture(v) => Some(v.clone()),
            RoomName::Team(t) => self.store.get_team(t).await?.map(|t| t.venture_id),
            RoomName::User(_) => None,
        };
        if let Some(venture) = venture {
            self.activity
                .record(
                    &venture,
                    Some(caller.user),
                    "document.created",
                    ("document", &row.id),
                    serde_json::json!({"title": row.title, "room": row.room}),
                )
                .await;
        }
        Ok(doc_view(row, role))
    }

    /// Writes a new document in `room` by `creator` with its audit entry (`document.created`,
    /// in the chain of the room's venture).
    pub async fn new_doc(
        &self,
        room: &str,
        title: &str,
        creator: &UserId,
    ) -> Result<DocRow, StoreError> {
        let mut w = self.store.begin_write().await?;
        let row = self.store.create_doc(&mut w, room, title, creator).await?;
        let scope = self.store.room_audit_scope(&mut w, &row.room).await?;
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope,
                    ref_id: Some(&row.id),
                    actor_id: Some(creator.as_str()),
                    action: "document.created",
                    details: serde_json::json!({"doc_id": row.id, "room": row.room, "title": row.title}),
                },
            )
            .await?;
        w.commit().await?;
        Ok(row)
    }

    /// The documents of `room`, for its members.
    pub async fn list_in(&self, caller: Caller<'_>, room: &str) -> Result<Vec<DocInfo>, DocsError> {
        let room = doc_room(room)?;
        let role = self.access.member(caller.user, &room).await?;
        let docs = self.store.docs_in_room(&room.to_string()).await?;
        Ok(docs.into_iter().map(|d| doc_view(d, role)).collect())
    }

    /// The document, for those in its room; `not_found` for everyone else.
    pub async fn info(&self, caller: Caller<'_>, id: &DocId) -> Result<DocInfo, DocsError> {
        let (row, role) = self.access.doc(caller.user, id).await?;
        Ok(doc_view(row, role))
    }

    /// Deletes the document (its room's owners and admins, or a privileged account) and
    /// unloads it on this node.
    pub async fn delete(&self, caller: Caller<'_>, id: &DocId) -> Result<(), DocsError> {
        let (_, role) = self.access.doc(caller.user, id).await?;
        if !role.can_manage() && !caller.privileged {
            return Err(DocsError::Forbidden(
                "only owners and admins of the room delete documents".into(),
            ));
        }
        let mut w = self.store.begin_write().await.map_err(StoreError::from)?;
        let (room, title) = self.store.delete_doc(&mut w, id.as_str()).await?;
        let scope = self.store.room_audit_scope(&mut w, &room).await?;
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope,
                    ref_id: Some(id.as_str()),
                    actor_id: Some(caller.user.as_str()),
                    action: "document.deleted",
                    details: serde_json::json!({"doc_id": id.as_str(), "room": room, "title": title}),
                },
            )
            .await?;
        w.commit().await.map_err(StoreError::from)?;
        self.forget(id);
        Ok(())
    }
}
