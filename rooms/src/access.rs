//! Membership rules for ventures and teams.
//!
//! Invariants:
//! - only owners and admins (of the venture, or of the team for team membership) or a
//!   privileged account change memberships; anyone may remove themselves;
//! - only an owner or a privileged account grants `owner`, or changes or removes an owner;
//! - a venture or team never loses its last owner;
//! - nobody becomes a member without consent: adding someone who is not a member is an
//!   invitation they accept or decline ([`needs_consent`]); only a privileged account (an
//!   admin or `system`, behind which the platform's own consent flow stands) adds directly. A
//!   member's role changes without a new consent.

use hub_protocol::Role;

/// Who asks for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The actor's managing role for the group, if any: for a team, the higher of the actor's
    /// team role and venture role.
    pub role: Option<Role>,
    /// A platform admin or system account.
    pub privileged: bool,
}

/// The change asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Add a member, or change the role of an existing one.
    Set { current: Option<Role>, new: Role },
    /// Remove a member.
    Remove { current: Role, is_self: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("only owners and admins manage members")]
    NotManager,
    #[error("only an owner can grant, change or remove the owner role")]
    OwnerOnly,
    #[error("the last owner cannot be removed or demoted")]
    LastOwner,
}

/// Whether setting a member with `current` role (none: not a member) by an account that is
/// `privileged` or not is an invitation rather than a change.
pub fn needs_consent(current: Option<Role>, privileged: bool) -> bool {
    current.is_none() && !privileged
}

/// Decides whether `actor` may make `change`, given how many owners the group has now.
pub fn check_member_change(
    actor: Actor,
    change: MemberChange,
    owners: usize,
) -> Result<(), Denied> {
    let touches_owner = match change {
        MemberChange::Set { current, new } => current == Some(Role::Owner) || new == Role::Owner,
        MemberChange::Remove { current, .. } => current == Role::Owner,
    };
    let removes_an_owner = match change {
        MemberChange::Set { current, new } => current == Some(Role::Owner) && new != Role::Owner,
        MemberChange::Remove { current, .. } => current == Role::Owner,
    };
    let is_self_removal = matches!(change, MemberChange::Remove { is_self: true, .. });

    if !actor.privileged && !is_self_removal {
        let role = actor.role.ok_or(Denied::NotManager)?;
        if !role.can_manage() {
            return Err(Denied::NotManager);
        }
        if touches_owner && role != Role::Owner {
            return Err(Denied::OwnerOnly);
        }
    }
    if removes_an_owner && owners <= 1 {
        return Err(Denied::LastOwner);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role) -> Actor {
        Actor {
            role: Some(role),
            privileged: false,
        }
    }

    const OUTSIDER: Actor = Actor {
        role: None,
        privileged: false,
    };
    const PLATFORM_ADMIN: Actor = Actor {
        role: None,
        privileged: true,
    };

    fn add(new: Role) -> MemberChange {
        MemberChange::Set { current: None, new }
    }

    #[test]
    fn managers_add_members_and_others_cannot() {
        assert_eq!(
            check_member_change(member(Role::Owner), add(Role::Member), 1),
            Ok(())
        );
        assert_eq!(
            check_member_change(member(Role::Admin), add(Role::Viewer), 1),
            Ok(())
        );
        assert_eq!(
            check_member_change(member(Role::Admin), add(Role::Admin), 1),
            Ok(())
        );
        assert_eq!(
            check_member_change(member(Role::Member), add(Role::Viewer), 1),
            Err(Denied::NotManager)
        );
        assert_eq!(
            check_member_change(member(Role::Viewer), add(Role::Viewer), 1),
            Err(Denied::NotManager)
        );
        assert_eq!(
            check_member_change(OUTSIDER, add(Role::Member), 1),
            Err(Denied::NotManager)
        );
        assert_eq!(
            check_member_change(PLATFORM_ADMIN, add(Role::Owner), 1),
            Ok(())
        );
    }

    #[test]
    fn only_owners_touch_the_owner_role() {
        assert_eq!(
            check_member_change(member(Role::Admin), add(Role::Owner), 1),
            Err(Denied::OwnerOnly)
        );
        let demote = MemberChange::Set {
            current: Some(Role::Owner),
            new: Role::Admin,
        };
        assert_eq!(
            check_member_change(member(Role::Admin), demote, 2),
            Err(Denied::OwnerOnly)
        );
        assert_eq!(check_member_change(member(Role::Owner), demote, 2), Ok(()));
        let remove_owner = MemberChange::Remove {
            current: Role::Owner,
            is_self: false,
        };
        assert_eq!(
            check_member_change(member(Role::Admin), remove_owner, 2),
            Err(Denied::OwnerOnly)
        );
    }

    #[test]
    fn the_last_owner_stays() {
        let demote = MemberChange::Set {
            current: Some(Role::Owner),
            new: Role::Member,
        };
        assert_eq!(
            check_member_change(member(Role::Owner), demote, 1),
            Err(Denied::LastOwner)
        );
        assert_eq!(
            check_member_change(PLATFORM_ADMIN, demote, 1),
            Err(Denied::LastOwner)
        );
        let leave = MemberChange::Remove {
            current: Role::Owner,
            is_self: true,
        };
        assert_eq!(
            check_member_change(member(Role::Owner), leave, 1),
            Err(Denied::LastOwner)
        );
        assert_eq!(check_member_change(member(Role::Owner), leave, 2), Ok(()));
        let keep_owner = MemberChange::Set {
            current: Some(Role::Owner),
            new: Role::Owner,
        };
        assert_eq!(
            check_member_change(member(Role::Owner), keep_owner, 1),
            Ok(())
        );
    }

    #[test]
    fn anyone_may_leave() {
        let leave = MemberChange::Remove {
            current: Role::Viewer,
            is_self: true,
        };
        assert_eq!(check_member_change(member(Role::Viewer), leave, 1), Ok(()));
        let kick = MemberChange::Remove {
            current: Role::Viewer,
            is_self: false,
        };
        assert_eq!(
            check_member_change(member(Role::Member), kick, 1),
            Err(Denied::NotManager)
        );
        assert_eq!(check_member_change(member(Role::Admin), kick, 1), Ok(()));
    }

    #[test]
    fn joining_needs_consent_unless_a_privileged_account_adds() {
        // (current role, privileged, an invitation)
        for (current, privileged, invite) in [
            (None, false, true),
            (None, true, false),
            (Some(Role::Viewer), false, false),
            (Some(Role::Member), true, false),
        ] {
            assert_eq!(
                needs_consent(current, privileged),
                invite,
                "{current:?} {privileged}"
            );
        }
    }
}
