//! Membership changes as rows: who may make them (`hub_rooms::check_member_change`, under the
//! group's row lock), what they write, and their entries in the venture's audit chain. A
//! venture and its teams follow the same rules, through [`Group`].
//!
//! - Setting someone's role adds them (a privileged account), changes their role (a member),
//!   or invites them (anyone else: `hub_rooms::access::needs_consent`): `member.added`,
//!   `member.role_changed`, `member.invited`.
//! - Accepting an invitation makes the member with its role (`member.added`, naming
//!   `invited_by`); declining or withdrawing it removes it (`member.invitation_declined`,
//!   `member.invitation_withdrawn`).
//! - Removing a member (`member.removed`) takes them out of the venture's teams too.

use super::webhooks::Outbox;
use crate::store::{
    Group, InvitationRow, MemberRow, NewAudit, Requester, Store, StoreError, StoreResult, WriteTx,
};
use hub_protocol::{InvitationId, Role, UserId};
use hub_rooms::{Actor, Denied, MemberChange, check_member_change};
use serde_json::json;

/// What setting a member did.
#[derive(Debug, Clone)]
pub enum SetOutcome {
    /// A privileged account added them.
    Added(MemberRow),
    /// They were a member: their role is set.
    Changed(MemberRow),
    /// They were not a member: they are invited, and a member once they accept.
    Invited(InvitationRow),
}

/// What removing someone from a group did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// They were a member and are no longer.
    Member,
    /// They were only invited: the invitation is withdrawn.
    Invitation,
}

#[derive(Clone)]
pub struct Membership {
    store: Store,
    outbox: Outbox,
}

impl Membership {
    pub fn new(store: Store, outbox: Outbox) -> Membership {
        Membership { store, outbox }
    }

    /// Adds `target` to `group` with `role`, changes their role, or, when they are not a
    /// member and `by` is not privileged, invites them.
    pub async fn set(
        &self,
        group: &Group,
        by: Requester<'_>,
        target: &UserId,
        role: Role,
    ) -> StoreResult<SetOutcome> {
        let mut w = self.store.begin_write().await?;
        self.store.lock_group(&mut w, group).await?;
        let actor = Actor {
            role: self.store.managing_role(&mut w, group, by.user).await?,
            privileged: by.privileged,
        };
        let current = self.store.group_role(&mut w, group, target).await?;
        let owners = self.store.owner_count(&mut w, group).await?;
        check_member_change(actor, MemberChange::Set { current, new: role }, owners)
            .map_err(StoreError::Denied)?;
        if let Group::Team { venture, .. } = group
            && self
                .store
                .group_role(&mut w, &Group::Venture(venture.clone()), target)
                .await?
                .is_none()
        {
            return Err(StoreError::Invalid(format!(
                "user {target} must be a member of the venture before joining one of its teams"
            )));
        }
        self.store.ensure_user(&mut w, target).await?;
        if hub_rooms::access::needs_consent(current, by.privileged) {
            let invitation = self
                .store
                .upsert_invitation(&mut w, group, by.user, target, role)
                .await?;
            self.invitation_audit(&mut w, &invitation, by.user, "member.invited")
                .await?;
            self.outbox
                .emit(
                    &self.store,
                    &mut w,
                    "member.invited",
                    None,
                    &json!({
                        "invitation_id": invitation.id, "group": group.kind(), "group_id": group.id(),
                        "user_id": target, "role": role, "invited_by": by.user,
                    }),
                )
                .await?;
            w.commit().await?;
            return Ok(SetOutcome::Invited(invitation));
        }
        let row = self
            .put(&mut w, group, by.user, target, role, current, None)
            .await?;
        w.commit().await?;
        Ok(if current.is_none() {
            SetOutcome::Added(row)
        } else {
            SetOutcome::Changed(row)
        })
    }

    /// Writes `target`'s membership with `role` inside `w` (their `current` role read
    /// there), and its audit entry when it changed anything; `invited_by` names who invited
    /// them when they join by accepting.
    #[allow(clippy::too_many_arguments)]
    async fn put(
        &self,
        w: &mut WriteTx,
        group: &Group,
        by: &UserId,
        target: &UserId,
        role: Role,
        current: Option<Role>,
        invited_by: Option<&UserId>,
    ) -> StoreResult<MemberRow> {
        let row = self.store.put_member(w, group, target, role).await?;
        if current != Some(role) {
            let mut details = json!({
                "group": group.kind(),
                "group_id": group.id(),
                "user_id": target,
                "role": role,
                "previous_role": current,
            });
            if let Some(inviter) = invited_by {
                details["invited_by"] = json!(inviter);
            }
            let action = if current.is_none() {
                "member.added"
            } else {
                "member.role_changed"
            };
            if current.is_none() {
                self.outbox
                    .emit(&self.store, w, "member.joined", None, &details)
                    .await?;
            }
            self.store
                .audit(
                    w,
                    NewAudit {
                        scope: group.audit_scope(),
                        ref_id: Some(target.as_str()),
                        actor_id: Some(by.as_str()),
                        action,
                        details,
                    },
                )
                .await?;
        }
        Ok(row)
    }

    /// Removes `target` from `group`. Someone who is only invited has the invitation withdrawn
    /// instead (by a manager of the group, or by themselves).
    pub async fn remove(
        &self,
        group: &Group,
        by: Requester<'_>,
        target: &UserId,
    ) -> StoreResult<Removed> {
        let mut w = self.store.begin_write().await?;
        self.store.lock_group(&mut w, group).await?;
        let Some(current) = self.store.group_role(&mut w, group, target).await? else {
            self.withdraw(&mut w, group, by, target).await?;
            w.commit().await?;
            return Ok(Removed::Invitation);
        };
        let actor = Actor {
            role: self.store.managing_role(&mut w, group, by.user).await?,
            privileged: by.privileged,
        };
        let owners = self.store.owner_count(&mut w, group).await?;
        let change = MemberChange::Remove {
            current,
            is_self: by.user == target,
        };
        check_member_change(actor, change, owners).map_err(StoreError::Denied)?;
        self.store.delete_member(&mut w, group, target).await?;
        let details = json!({
            "group": group.kind(),
            "group_id": group.id(),
            "user_id": target,
            "previous_role": current,
        });
        self.outbox
            .emit(
                &self.store,
                &mut w,
                "member.removed",
                None,
                &json!({"removed_by": by.user, "member": details}),
            )
            .await?;
        self.store
            .audit(
                &mut w,
                NewAudit {
                    scope: group.audit_scope(),
                    ref_id: Some(target.as_str()),
                    actor_id: Some(by.user.as_str()),
                    action: "member.removed",
                    details,
                },
            )
            .await?;
        w.commit().await?;
        Ok(Removed::Member)
    }

    /// `by` withdraws `target`'s invitation to `group` inside `w` (the group locked): a manager
    /// of the group, or `target` themselves. `NotFound` when there is none.
    async fn withdraw(
        &self,
        w: &mut WriteTx,
        group: &Group,
        by: Requester<'_>,
        target: &UserId,
    ) -> StoreResult<()> {
        let invitation = self
            .store
            .invitation_in(w, group, target)
            .await?
            .ok_or(StoreError::NotFound)?;
        if by.user != target && !by.privileged {
            let role = self.store.managing_role(w, group, by.user).await?;
            if !role.is_some_and(Role::can_manage) {
                return Err(StoreError::Denied(Denied::NotManager));
            }
        }
        self.store.delete_invitation(w, &invitation.id).await?;
        self.invitation_audit(w, &invitation, by.user, "member.invitation_withdrawn")
            .await
    }

    /// `user` accepts invitation `id`: they become a member of its group with its role (a team
    /// invitation needs the venture's membership first). `NotFound` when it is not theirs.
    pub async fn accept(
        &self,
        id: &InvitationId,
        user: &UserId,
    ) -> StoreResult<(InvitationRow, MemberRow)> {
        let invitation = self.store.own_invitation(id, user).await?;
        let group = invitation.group();
        let mut w = self.store.begin_write().await?;
        self.store.lock_group(&mut w, &group).await?;
        // Read again under the lock: withdrawn or answered meanwhile is gone.
        let invitation = self
            .store
            .invitation_in(&mut w, &group, user)
            .await?
            .filter(|i| i.id == *id)
            .ok_or(StoreError::NotFound)?;
        if let Group::Team { venture, .. } = &group
            && self
                .store
                .group_role(&mut w, &Group::Venture(venture.clone()), user)
                .await?
                .is_none()
        {
            return Err(StoreError::Conflict(
                "join the venture first: a team's members are members of its venture".into(),
            ));
        }
        let current = self.store.group_role(&mut w, &group, user).await?;
        let member = self
            .put(
                &mut w,
                &group,
                user,
                user,
                invitation.role,
                current,
                Some(&invitation.invited_by),
            )
            .await?;
        self.store.delete_invitation(&mut w, id).await?;
        w.commit().await?;
        Ok((invitation, member))
    }

    /// `user` declines invitation `id`.
    pub async fn decline(&self, id: &InvitationId, user: &UserId) -> StoreResult<InvitationRow> {
        let invitation = self.store.own_invitation(id, user).await?;
        let group = invitation.group();
        let mut w = self.store.begin_write().await?;
        self.store.lock_group(&mut w, &group).await?;
        if !self.store.delete_invitation(&mut w, id).await? {
            return Err(StoreError::NotFound);
        }
        self.invitation_audit(&mut w, &invitation, user, "member.invitation_declined")
            .await?;
        w.commit().await?;
        Ok(invitation)
    }

    async fn invitation_audit(
        &self,
        w: &mut WriteTx,
        invitation: &InvitationRow,
        actor: &UserId,
        action: &str,
    ) -> StoreResult<()> {
        let group = invitation.group();
        self.store
            .audit(
                w,
                NewAudit {
                    scope: group.audit_scope(),
                    ref_id: Some(invitation.user_id.as_str()),
                    actor_id: Some(actor.as_str()),
                    action,
                    details: json!({
                        "group": group.kind(),
                        "group_id": group.id(),
                        "user_id": invitation.user_id,
                        "role": invitation.role,
                        "invitation_id": invitation.id,
                    }),
                },
            )
            .await?;
        Ok(())
    }
}
