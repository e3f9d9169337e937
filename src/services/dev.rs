//! The development demo (only used when the hub runs with `HUB_ENV=development`): one venture,
//! "Demo venture", owned by the user `demo`, with one shared document, "Demo notes". Every
//! development user asking for a token becomes a member, so two browser tabs as two users meet
//! in the same room and document at once.

use super::Services;
use crate::store::{Group, Requester, StoreResult};
use hub_protocol::{AccountRole, Role, UserId, VentureId};
use hub_rooms::RoomName;

/// The owner of the demo venture.
pub const DEMO_OWNER: &str = "demo";
pub const DEMO_VENTURE: &str = "Demo venture";
pub const DEMO_DOC: &str = "Demo notes";

/// Two first requests at once must not make two demo ventures.
static DEMO_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Services {
    /// Makes sure the demo venture and its document exist and that `user` is a member (a
    /// member stays with the role they have). Returns the venture and the document.
    pub async fn dev_demo(
        &self,
        user: &UserId,
        name: &str,
        role: AccountRole,
    ) -> StoreResult<(VentureId, String)> {
        let _one = DEMO_LOCK.lock().await;
        let owner = UserId::from(DEMO_OWNER);
        self.store
            .upsert_user(&owner, "Demo", AccountRole::User)
            .await?;
        self.store.upsert_user(user, name, role).await?;
        let existing = self
            .store
            .ventures_of(&owner)
            .await?
            .into_iter()
            .find(|(v, role)| v.name == DEMO_VENTURE && *role == Role::Owner);
        let venture = match existing {
            Some((v, _)) => v.id,
            None => {
                self.store
                    .create_venture(&owner, DEMO_VENTURE, Some("Where development users meet"))
                    .await?
                    .id
            }
        };
        let group = Group::Venture(venture.clone());
        if *user != owner && self.store.member_role(&group, user).await?.is_none() {
            let by = Requester {
                user: &owner,
                privileged: true,
            };
            self.store
                .set_member(&group, by, user, Role::Member)
                .await?;
        }
        let room = RoomName::Venture(venture.clone()).to_string();
        let doc = match self
            .store
            .docs_in_room(&room)
            .await?
            .into_iter()
            .find(|d| d.title == DEMO_DOC)
        {
            Some(d) => d.id,
            None => self.store.create_doc(&room, DEMO_DOC, &owner).await?.id,
        };
        Ok((venture, doc))
    }
}
