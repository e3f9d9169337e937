//! The development demo (only used when the hub runs with `HUB_ENV=development`): one venture,
//! "Demo venture", owned by the user `demo`, with one shared document, "Demo notes". Every
//! development user asking for a token becomes a member, so two browser tabs as two users meet
//! in the same room and document at once. And a sample task for a development user, so that a
//! newcomer sees BUZ, XP, levels and badges arrive.

use super::access::{Access, AccessError};
use super::docs::Docs;
use super::events::{EventIn, Events};
use super::groups::Groups;
use super::membership::Membership;
use super::wallets::BuzConfig;
use crate::store::{Group, Requester, Store, StoreError, StoreResult};
use hub_protocol::events::{EventAccepted, KycEvent, TaskAccepted};
use hub_protocol::{AccountRole, Role, UserId, VentureId};
use hub_rooms::RoomName;
use std::sync::Arc;

/// The owner of the demo venture.
pub const DEMO_OWNER: &str = "demo";
pub const DEMO_VENTURE: &str = "Demo venture";
pub const DEMO_DOC: &str = "Demo notes";

/// Two first requests at once must not make two demo ventures.
static DEMO_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The development demo and sample task.
#[derive(Clone)]
pub struct Dev {
    store: Store,
    access: Access,
    groups: Groups,
    membership: Membership,
    docs: Arc<Docs>,
    events: Events,
    /// Whose reputation gate a sample task's user is raised to.
    buz: BuzConfig,
}

/// The services the demo goes through, as any user's requests do.
pub struct DevUses {
    pub groups: Groups,
    pub membership: Membership,
    pub docs: Arc<Docs>,
    pub events: Events,
}

impl Dev {
    pub fn new(store: Store, access: Access, uses: DevUses, buz: BuzConfig) -> Dev {
        let DevUses {
            groups,
            membership,
            docs,
            events,
        } = uses;
        Dev {
            store,
            access,
            groups,
            membership,
            docs,
            events,
            buz,
        }
    }

    /// Makes sure the demo venture and its document exist and that `user` is a member (a
    /// member stays with the role they have). Returns the venture and the document.
    pub async fn demo(
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
                self.groups
                    .new_venture(&owner, DEMO_VENTURE, Some("Where development users meet"))
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
            self.membership.set(&group, by, user, Role::Member).await?;
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
            None => self.docs.new_doc(&room, DEMO_DOC, &owner).await?.id,
        };
        Ok((venture, doc))
    }
}

/// The sample task: tier B, quality 0.9, reviewed by someone trusted at 80.
pub const SAMPLE_TIER: &str = "B";
pub const SAMPLE_QUALITY: f64 = 0.9;
pub const SAMPLE_TRUST: f64 = 80.0;

impl Dev {
    /// A task accepted for `user`, as the platform would send it, for the demo: the user is
    /// first made eligible for BUZ as the platform would make them (a `PASSED` KYC event, and
    /// their reputation raised to the issuance gate when it is below), then the task goes
    /// through the same path as any `POST /api/v1/events/task/accepted`, in `venture` when
    /// given. Development only (the route exists only there).
    pub async fn sample_task(
        &self,
        user: &UserId,
        venture: Option<VentureId>,
    ) -> Result<EventAccepted, AccessError> {
        if let Some(v) = &venture {
            self.access
                .member(user, &RoomName::Venture(v.clone()))
                .await?;
        }
        let platform = UserId::from("platform");
        let kyc = KycEvent {
            user_id: user.clone(),
            status: "PASSED".into(),
            kyc_id: Some(format!("dev-kyc-{user}")),
        };
        let event = EventIn::Kyc(&kyc);
        let checked = event
            .check()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.events.accept(checked, event, &platform).await?;
        let gate = (self.buz.gates.min_reputation * 1000.0).ceil() as i64;
        self.store.dev_raise_reputation(user, gate).await?;
        let task = TaskAccepted {
            task_id: format!("sample-{}", uuid::Uuid::now_v7().simple()).into(),
            user_id: user.clone(),
            venture_id: venture,
            tier: SAMPLE_TIER.into(),
            quality: SAMPLE_QUALITY,
            reviewer_trust: SAMPLE_TRUST,
        };
        let event = EventIn::Task(&task);
        let checked = event
            .check()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok(self.events.accept(checked, event, &platform).await?)
    }
}
