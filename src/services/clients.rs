//! Clients: their owner's only (others see nothing), every change audited in the owner's
//! chain. Deleting a client revokes the links shared with it.

use super::files::FileError;
use crate::clock::rfc3339;
use crate::store::{ClientRow, NewAudit, Store, StoreError};
use hub_protocol::clients::{Client, NewClient, PatchClient};
use hub_protocol::{ClientId, UserId};
use hub_rooms::files::check_client;
use serde_json::json;

/// A client as its owner sees it.
pub fn client_view(row: ClientRow) -> Client {
    Client {
        id: row.id,
        owner_id: row.owner_id,
        name: row.name,
        email: row.email,
        phone: row.phone,
        organization: row.organization,
        tags: serde_json::from_str(&row.tags).unwrap_or_default(),
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    }
}

fn no_client() -> FileError {
    FileError::NotFound("no such client".into())
}

/// The clients a user registers (other apps a document can be shared with by signed link).
#[derive(Clone)]
pub struct Clients {
    store: Store,
}

impl Clients {
    pub fn new(store: Store) -> Clients {
        Clients { store }
    }

    /// The caller's own clients, by name.
    pub async fn of_owner(&self, owner: &UserId) -> Result<Vec<Client>, FileError> {
        Ok(self
            .store
            .clients(owner)
            .await?
            .into_iter()
            .map(client_view)
            .collect())
    }

    /// One of the caller's own clients; anyone else's is `not_found`.
    pub async fn get(&self, owner: &UserId, id: &ClientId) -> Result<Client, FileError> {
        self.store
            .client(owner, id)
            .await?
            .map(client_view)
            .ok_or_else(no_client)
    }

    pub async fn create(&self, owner: &UserId, body: &NewClient) -> Result<Client, FileError> {
        let fields = check_client(
            &body.name,
            body.email.as_deref(),
            body.phone.as_deref(),
            body.organization.as_deref(),
            body.tags.as_deref().unwrap_or(&[]),
        )?;
        let mut w = self.store.begin_write().await?;
        let client = self.store.add_client(&mut w, owner, &fields).await?;
        self.audit(
            &mut w,
            owner,
            &client.id,
            "client.created",
            json!({"name": client.name}),
        )
        .await?;
        w.commit().await?;
        Ok(client_view(client))
    }

    pub async fn patch(
        &self,
        owner: &UserId,
        id: &ClientId,
        patch: &PatchClient,
    ) -> Result<Client, FileError> {
        let current = self
            .store
            .client(owner, id)
            .await?
            .map(client_view)
            .ok_or_else(no_client)?;
        let pick = |new: &Option<Option<String>>, old: &Option<String>| match new {
            Some(v) => v.clone(),
            None => old.clone(),
        };
        let fields = check_client(
            patch.name.as_deref().unwrap_or(&current.name),
            pick(&patch.email, &current.email).as_deref(),
            pick(&patch.phone, &current.phone).as_deref(),
            pick(&patch.organization, &current.organization).as_deref(),
            patch.tags.as_deref().unwrap_or(&current.tags),
        )?;
        let mut w = self.store.begin_write().await?;
        self.store
            .update_client(&mut w, owner, id, &fields)
            .await
            .map_err(not_found)?;
        self.audit(
            &mut w,
            owner,
            id,
            "client.changed",
            json!({"name": fields.name}),
        )
        .await?;
        w.commit().await?;
        self.store
            .client(owner, id)
            .await?
            .map(client_view)
            .ok_or_else(no_client)
    }

    pub async fn delete(&self, owner: &UserId, id: &ClientId) -> Result<(), FileError> {
        let mut w = self.store.begin_write().await?;
        let revoked = self.store.revoke_client_shares(&mut w, id).await?;
        self.store
            .delete_client(&mut w, owner, id)
            .await
            .map_err(not_found)?;
        self.audit(
            &mut w,
            owner,
            id,
            "client.deleted",
            json!({"shares_revoked": revoked}),
        )
        .await?;
        w.commit().await?;
        Ok(())
    }

    async fn audit(
        &self,
        w: &mut crate::store::WriteTx,
        owner: &UserId,
        id: &ClientId,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.store
            .audit(
                w,
                NewAudit {
                    scope: format!("user:{owner}"),
                    ref_id: Some(id.as_str()),
                    actor_id: Some(owner.as_str()),
                    action,
                    details,
                },
            )
            .await?;
        Ok(())
    }
}

fn not_found(e: StoreError) -> FileError {
    match e {
        StoreError::NotFound => no_client(),
        other => other.into(),
    }
}
