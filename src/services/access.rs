//! Who may see and do what: the one place that answers "is this venture, team, room or
//! document visible to this user, and with which role". REST, Socket.IO and `/yjs` ask here;
//! none of them reads memberships itself.
//!
//! Visibility rules:
//! - a room (`venture:`/`team:`) is open to its members, by their role in it (a venture's
//!   owners and admins hold every team room of the venture through that role);
//! - a venture is visible to its members and to privileged accounts; to anyone else it does
//!   not exist (`not_found`, so existence is not disclosed);
//! - a team is visible to whoever sees its venture;
//! - a document is visible to the members of its room, and does not exist for anyone else.

use crate::store::{DocRow, Group, Store, StoreError, TeamRow, VentureRow};
use hub_protocol::{DocId, ErrorCode, Role, RoomId, TeamId, UserId, VentureId};
use hub_rooms::RoomName;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The thing does not exist, or is not visible to the caller (the two look the same).
    #[error("no such {0}")]
    NotFound(&'static str),
    /// Visible but closed to the caller.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::error::DomainError for AccessError {
    /// The stable code of this error (see [`crate::error::DomainError::code`]).
    fn code(&self) -> ErrorCode {
        match self {
            AccessError::NotFound(_) => ErrorCode::NotFound,
            AccessError::Forbidden(_) => ErrorCode::Forbidden,
            AccessError::Store(s) => s.code(),
        }
    }

    /// What a client may be told.
    fn public_message(&self) -> String {
        match self {
            AccessError::Store(s) => s.public_message(),
            other => other.to_string(),
        }
    }
}

pub type AccessResult<T> = Result<T, AccessError>;

/// Who asks: a user, and whether their account is privileged (admin or system).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub user: &'a UserId,
    pub privileged: bool,
}

#[derive(Clone)]
pub struct Access {
    store: Store,
    /// Roles read lately by [`Access::member_recent`], with when.
    recent: Arc<Mutex<HashMap<(UserId, RoomId), (Role, Instant)>>>,
    recent_for: Duration,
}

/// Remembered roles beyond which the memory is dropped whole (a bound, not a working size).
const RECENT_ROLES: usize = 200_000;

/// How long a role read for an action in a joined room is reused, by default.
pub const DEFAULT_ROLE_CACHE: Duration = Duration::from_secs(1);

/// Access flags.
#[derive(Debug, Clone, clap::Args)]
pub struct AccessArgs {
    /// How long a member's role, read for an action in a room they joined (a chat send,
    /// typing), is reused; membership changes made through the API apply at once anyway, on
    /// every node. 0s reads it every time.
    #[arg(long, env = "HUB_ROLE_CACHE", default_value_t = DEFAULT_ROLE_CACHE.into())]
    pub role_cache: humantime::Duration,
}

impl Access {
    pub fn new(store: Store) -> Access {
        Self::remembering(store, Duration::ZERO)
    }

    /// Remembers the roles [`Access::member_recent`] reads for `ttl` (zero: never).
    pub fn remembering(store: Store, ttl: Duration) -> Access {
        Access {
            store,
            recent: Arc::default(),
            recent_for: ttl,
        }
    }

    /// `user`'s role in a room their connection has joined, for the actions inside it (a chat
    /// send, typing): read at most once per `ttl` per user and room. Every change a membership
    /// route makes is applied at once ([`Access::forget`], from the `Leave` and `Access`
    /// notices every node hears); the ttl bounds how long any other change takes to apply.
    pub async fn member_recent(&self, user: &UserId, room: &RoomName) -> AccessResult<Role> {
        if self.recent_for.is_zero() {
            return self.member(user, room).await;
        }
        let key = (user.clone(), room.id());
        if let Some((role, at)) = self.lock_recent().get(&key).copied()
            && at.elapsed() < self.recent_for
        {
            return Ok(role);
        }
        let role = self.member(user, room).await?;
        let mut recent = self.lock_recent();
        if recent.len() >= RECENT_ROLES {
            recent.clear();
        }
        recent.insert(key, (role, Instant::now()));
        Ok(role)
    }

    /// Drops what [`Access::member_recent`] remembers of `user` in `rooms`.
    pub fn forget(&self, user: &UserId, rooms: &[RoomId]) {
        let mut recent = self.lock_recent();
        for room in rooms {
            recent.remove(&(user.clone(), room.clone()));
        }
    }

    fn lock_recent(&self) -> MutexGuard<'_, HashMap<(UserId, RoomId), (Role, Instant)>> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `user`'s role in `room`, `None` for non-members.
    pub async fn room_role(&self, user: &UserId, room: &RoomName) -> AccessResult<Option<Role>> {
        Ok(self.store.room_role(room, user).await?)
    }

    /// `user`'s role in `room`; `forbidden` for non-members (rooms are named by their clients,
    /// so their existence is no secret).
    pub async fn member(&self, user: &UserId, room: &RoomName) -> AccessResult<Role> {
        self.room_role(user, room)
            .await?
            .ok_or_else(|| AccessError::Forbidden(format!("not a member of {room}")))
    }

    /// The venture and the caller's role in it.
    pub async fn venture(
        &self,
        caller: Caller<'_>,
        id: &VentureId,
    ) -> AccessResult<(VentureRow, Option<Role>)> {
        let venture = self
            .store
            .get_venture(id)
            .await?
            .ok_or(AccessError::NotFound("venture"))?;
        let role = self
            .store
            .member_role(&Group::Venture(id.clone()), caller.user)
            .await?;
        if role.is_none() && !caller.privileged {
            return Err(AccessError::NotFound("venture"));
        }
        Ok((venture, role))
    }

    /// The team and the caller's role in it (the team is visible to whoever sees its venture).
    pub async fn team(
        &self,
        caller: Caller<'_>,
        id: &TeamId,
    ) -> AccessResult<(TeamRow, Option<Role>)> {
        let team = self
            .store
            .get_team(id)
            .await?
            .ok_or(AccessError::NotFound("team"))?;
        match self.venture(caller, &team.venture_id).await {
            Ok(_) => {}
            Err(AccessError::NotFound(_)) => return Err(AccessError::NotFound("team")),
            Err(e) => return Err(e),
        }
        let role = self
            .store
            .member_role(&Store::team_group(&team), caller.user)
            .await?;
        Ok((team, role))
    }

    /// The document and `user`'s role in its room; `not_found` for those outside it.
    pub async fn doc(&self, user: &UserId, id: &DocId) -> AccessResult<(DocRow, Role)> {
        let row = self
            .store
            .get_doc(id.as_str())
            .await?
            .ok_or(AccessError::NotFound("document"))?;
        let room: RoomName = row.room.parse().map_err(|_| {
            AccessError::Store(StoreError::Invalid(format!(
                "document {id} has a malformed room"
            )))
        })?;
        match self.room_role(user, &room).await? {
            Some(role) => Ok((row, role)),
            None => Err(AccessError::NotFound("document")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DomainError;
    use crate::store::Requester;

    async fn store() -> Store {
        let store = Store::connect("sqlite::memory:", 1).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[tokio::test]
    async fn members_see_by_role_and_outsiders_see_nothing() {
        let store = store().await;
        let (ann, bob, eve) = (
            UserId::from("ann"),
            UserId::from("bob"),
            UserId::from("eve"),
        );
        for u in [&ann, &bob, &eve] {
            store
                .upsert_user(u, u.as_str(), hub_protocol::AccountRole::User)
                .await
                .unwrap();
        }
        let mut w = store.begin_write().await.unwrap();
        let venture = store.insert_venture(&mut w, &ann, "V", None).await.unwrap();
        w.commit().await.unwrap();
        let membership = crate::services::membership::Membership::new(
            store.clone(),
            crate::services::webhooks::Outbox::new(crate::clock::system()),
        );
        let group = Group::Venture(venture.id.clone());
        let by = Requester {
            user: &ann,
            privileged: false,
        };
        // Invited first: an invitation grants nothing until bob accepts it.
        let crate::services::membership::SetOutcome::Invited(invitation) = membership
            .set(&group, by, &bob, Role::Viewer)
            .await
            .unwrap()
        else {
            panic!("an owner's add is an invitation");
        };
        let pending = Access::new(store.clone());
        let bob_caller = Caller {
            user: &bob,
            privileged: false,
        };
        assert!(pending.venture(bob_caller, &venture.id).await.is_err());
        membership.accept(&invitation.id, &bob).await.unwrap();
        let access = Access::new(store.clone());
        let room = RoomName::Venture(venture.id.clone());
        let mut w = store.begin_write().await.unwrap();
        let doc = store
            .create_doc(&mut w, &room.to_string(), "Plan", &ann)
            .await
            .unwrap();
        w.commit().await.unwrap();
        let doc_id = DocId::from(doc.id.as_str());
        let as_user = |user| Caller {
            user,
            privileged: false,
        };

        assert_eq!(access.member(&ann, &room).await.unwrap(), Role::Owner);
        assert_eq!(access.member(&bob, &room).await.unwrap(), Role::Viewer);
        let refused = access.member(&eve, &room).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::Forbidden);
        assert_eq!(refused.public_message(), format!("not a member of {room}"));

        assert_eq!(
            access.venture(as_user(&bob), &venture.id).await.unwrap().1,
            Some(Role::Viewer)
        );
        let hidden = access
            .venture(as_user(&eve), &venture.id)
            .await
            .unwrap_err();
        assert_eq!(
            (hidden.code(), hidden.public_message()),
            (ErrorCode::NotFound, "no such venture".into())
        );
        let admin = Caller {
            user: &eve,
            privileged: true,
        };
        assert_eq!(access.venture(admin, &venture.id).await.unwrap().1, None);

        assert_eq!(access.doc(&bob, &doc_id).await.unwrap().1, Role::Viewer);
        let hidden = access.doc(&eve, &doc_id).await.unwrap_err();
        assert_eq!(hidden.code(), ErrorCode::NotFound);
        let missing = access.doc(&ann, &DocId::from("nope")).await.unwrap_err();
        assert_eq!(
            missing.public_message(),
            hidden.public_message(),
            "absent and hidden look alike"
        );
    }
}
