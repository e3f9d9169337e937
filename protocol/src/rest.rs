//! REST bodies under `/api/v1` and `/api/health`. Timestamps are RFC 3339 strings in UTC with
//! millisecond precision (`2026-11-21T08:00:00.000Z`).

use crate::ids::{TeamId, UserId, VentureId};
use crate::roles::{AccountRole, Role};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `POST /api/v1/ventures`
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct CreateVenture {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// `POST /api/v1/ventures/{id}/teams`
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct CreateTeam {
    pub name: String,
}

/// `POST /api/v1/ventures/{id}/members` and `POST /api/v1/teams/{id}/members`: adds a member,
/// or changes the role of an existing one.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct PutMember {
    pub user_id: UserId,
    #[serde(default = "default_member_role")]
    pub role: Role,
}

fn default_member_role() -> Role {
    Role::Member
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct VentureDetail {
    #[serde(flatten)]
    pub venture: Venture,
    pub teams: Vec<Team>,
    pub members: Vec<Member>,
}

/// `GET /api/v1/ventures`
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct VentureList {
    pub ventures: Vec<Venture>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct TeamDetail {
    #[serde(flatten)]
    pub team: Team,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Member {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub added_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: AccountRole,
}

/// `GET /api/v1/me`
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Me {
    pub user: User,
    pub ventures: Vec<Venture>,
    pub teams: Vec<Team>,
}

/// `GET /api/health`
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
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

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct RoomSummary {
    /// `venture:{id}` or `team:{id}`.
    pub room: String,
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
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct RoomList {
    pub rooms: Vec<RoomSummary>,
}
