//! Roles. [`Role`] is a membership role inside a venture or a team; [`AccountRole`] is the
//! platform-wide role carried by a token.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use ts_rs::TS;
use utoipa::ToSchema;

/// A membership role in a venture or a team, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    /// Higher is more powerful; used to compare roles.
    pub fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Member => 1,
            Role::Viewer => 0,
        }
    }

    /// May add, change and remove members, and create teams.
    pub fn can_manage(self) -> bool {
        self.rank() >= Role::Admin.rank()
    }

    /// May write: send chat, edit documents.
    pub fn can_edit(self) -> bool {
        self.rank() >= Role::Member.rank()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a role name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown role {:?}", self.0)
    }
}

impl std::error::Error for UnknownRole {}

/// A role as stored (its name), for rows read from the database.
impl TryFrom<String> for Role {
    type Error = UnknownRole;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// The platform-wide role of an account, carried by the `role` claim of a token.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    #[default]
    User,
    /// Platform administrator: manages any venture.
    Admin,
    /// A trusted service of the platform: manages any venture.
    System,
}

impl AccountRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountRole::User => "user",
            AccountRole::Admin => "admin",
            AccountRole::System => "system",
        }
    }

    /// Admin and system accounts may manage every venture, member or not.
    pub fn is_privileged(self) -> bool {
        matches!(self, AccountRole::Admin | AccountRole::System)
    }
}

impl fmt::Display for AccountRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountRole {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(AccountRole::User),
            "admin" => Ok(AccountRole::Admin),
            "system" => Ok(AccountRole::System),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_string(&role).unwrap(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn capabilities_follow_rank() {
        assert!(Role::Owner.can_manage() && Role::Admin.can_manage());
        assert!(!Role::Member.can_manage() && !Role::Viewer.can_manage());
        assert!(Role::Member.can_edit());
        assert!(!Role::Viewer.can_edit());
    }

    #[test]
    fn account_role_defaults_to_user() {
        assert_eq!(AccountRole::default(), AccountRole::User);
        assert!(AccountRole::System.is_privileged());
        assert!(!AccountRole::User.is_privileged());
    }
}
