//! REST bodies under `/api/v1` and `/api/health`. Timestamps are RFC 3339 strings in UTC with
//! millisecond precision (`2026-11-21T08:00:00.000Z`).

use crate::ids::{InvitationId, RoomId, TeamId, UserId, VentureId};
use crate::roles::{AccountRole, Role};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `POST /api/v1/ventures`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct CreateVenture {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// `POST /api/v1/ventures/{id}/teams`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct CreateTeam {
    pub name: String,
}

/// `POST /api/v1/ventures/{id}/members` and `POST /api/v1/teams/{id}/members`: invites someone
/// who is not a member (an admin or `system` adds them directly), or changes the role of an
/// existing member.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct PutMember {
    pub user_id: UserId,
    #[serde(default = "default_member_role")]
    pub role: Role,
}

fn default_member_role() -> Role {
    Role::Member
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Venture {
    pub id: VentureId,
    pub name: String,
    pub description: Option<String>,
    pub created_by: UserId,
    pub created_at: String,
    /// The caller's role in this venture (absent for a privileged account that is no member).
    pub role: Option<Role>,
}

/// `GET /api/v1/ventures/{id}`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct VentureDetail {
    #[serde(flatten)]
    pub venture: Venture,
    pub teams: Vec<Team>,
    pub members: Vec<Member>,
    /// Pending invitations to the venture and its teams, for its owners and admins (empty for
    /// everyone else).
    #[serde(default)]
    pub invitations: Vec<Invitation>,
}

/// An invitation to a venture or one of its teams: the user is a member once they accept it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Invitation {
    pub id: InvitationId,
    pub venture_id: VentureId,
    pub venture_name: String,
    /// Set for an invitation to a team.
    pub team_id: Option<TeamId>,
    pub team_name: Option<String>,
    pub user_id: UserId,
    /// The role the user has once they accept.
    pub role: Role,
    pub invited_by: UserId,
    pub created_at: String,
}

/// `GET /api/v1/invitations`: the caller's pending invitations, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct InvitationList {
    pub invitations: Vec<Invitation>,
}

/// The answer of `POST …/members`: `added` (`201`, by an admin or `system`), `changed` (`200`,
/// a member's role), or `invited` (`202`, a member once they accept).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct MemberSet {
    /// `added`, `changed` or `invited`.
    pub status: String,
    /// The member, when added or changed.
    pub member: Option<Member>,
    /// The invitation, when invited.
    pub invitation: Option<Invitation>,
}

/// `GET /api/v1/ventures`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct VentureList {
    pub ventures: Vec<Venture>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Team {
    pub id: TeamId,
    pub venture_id: VentureId,
    pub name: String,
    pub created_by: UserId,
    pub created_at: String,
    /// The caller's role in this team, when the caller is a member.
    pub role: Option<Role>,
}

/// `GET /api/v1/teams/{id}`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct TeamDetail {
    #[serde(flatten)]
    pub team: Team,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Member {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub added_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: AccountRole,
}

/// `GET /api/v1/me`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct Me {
    pub user: User,
    pub ventures: Vec<Venture>,
    pub teams: Vec<Team>,
}

/// `GET /api/health`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct Health {
    /// `healthy` or `degraded`.
    pub status: String,
    pub timestamp: String,
    pub environment: String,
    /// `ok`, or the reason it is not.
    pub database: String,
    /// `ok`, `not_configured`, or the reason it is not ok.
    pub redis: String,
    pub services: HealthServices,
    /// Why the status is `degraded` (absent when healthy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct HealthServices {
    /// `sqlite` or `postgres`.
    pub storage: String,
    /// `in_process` or `redis`.
    pub fanout: String,
    /// Socket.IO connections open on this node.
    pub connections: u64,
    pub version: String,
    pub uptime_seconds: u64,
    /// Collaborative documents loaded on this node.
    pub documents_loaded: u64,
    /// Document loads from storage since start.
    pub document_loads: u64,
}

/// One room I belong to, for `GET /api/v1/rooms`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct RoomSummary {
    /// `venture:{id}` or `team:{id}`.
    pub room: RoomId,
    /// `venture` or `team`.
    pub kind: String,
    pub name: String,
    pub venture_id: VentureId,
    pub role: Role,
    pub last_seq: i64,
    /// Messages after my read marker, not written by me.
    pub unread: i64,
    /// Unread messages that mention me.
    pub mentions: i64,
}

/// `GET /api/v1/rooms`
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
pub struct RoomList {
    pub rooms: Vec<RoomSummary>,
}

/// `POST /api/dev/token` (only when the hub runs with `HUB_ENV=development`): a token for any
/// development user, who is also made a member of the demo venture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct DevToken {
    /// The user's id (letters, digits, `-`, `_`, `.`, `@`; no space or `:`).
    pub user_id: UserId,
    /// The display name; the id when absent.
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
    /// `user` unless asked otherwise.
    #[serde(default)]
    #[ts(optional)]
    pub role: Option<AccountRole>,
    /// Lifetime in seconds, 1 to 7 days; 12 hours by default.
    #[serde(default)]
    #[ts(optional, type = "number")]
    pub ttl_secs: Option<u64>,
}

/// `POST /api/dev/sample-task` (development only): a sample task accepted for the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct SampleTask {
    /// The venture the task belongs to (one the caller is a member of).
    #[serde(default)]
    #[ts(optional)]
    pub venture_id: Option<VentureId>,
}

/// The answer to `POST /api/dev/token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct DevTokenIssued {
    pub token: String,
    pub user_id: UserId,
    pub name: String,
    pub role: AccountRole,
    /// RFC 3339.
    pub expires_at: String,
    /// The demo venture the user is a member of.
    pub venture_id: VentureId,
    /// The demo venture's shared document.
    pub doc_id: String,
}
