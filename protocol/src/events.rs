//! Events in: what the platform's other services tell the hub (`POST /api/v1/events/...`,
//! `system` or `admin` accounts). Each is stored once, keyed by its own id.

use crate::ids::{TaskId, UserId, VentureId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `POST /api/v1/events/task/accepted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct TaskAccepted {
    pub task_id: TaskId,
    pub user_id: UserId,
    #[serde(default)]
    #[ts(optional)]
    pub venture_id: Option<VentureId>,
    /// `S`, `A`, `B` or `C`.
    pub tier: String,
    /// 0.6 to 1.4.
    pub quality: f64,
    /// The reviewers' average trust, 0 to 200.
    pub reviewer_trust: f64,
}

/// `POST /api/v1/events/review`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct ReviewEvent {
    pub review_id: String,
    pub reviewer_id: UserId,
    pub user_id: UserId,
    pub helpful: bool,
    pub agreed: bool,
    /// 1 to 5.
    pub quality: f64,
    /// 0 to 200.
    pub reviewer_trust: f64,
}

/// `POST /api/v1/events/bug`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct BugEvent {
    pub bug_id: String,
    pub user_id: UserId,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
}

/// `POST /api/v1/events/kyc`. The latest status wins. With `kyc_id`, that is the event's id
/// (a retry of it is a replay, whatever came since); without, the event is a replay exactly
/// when the user's status is already `status`, and its id is `{user_id}:{status}` the first time
/// a status is reached and `{user_id}:{status}:{n}` the n-th time it is reached again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct KycEvent {
    pub user_id: UserId,
    /// `PENDING`, `PASSED` or `FAILED`.
    pub status: String,
    /// The event's own id at its source, 1 to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kyc_id: Option<String>,
}

/// `POST /api/v1/events/device`. Its id is `{user_id}:{date}`: one report per user and day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct DeviceEvent {
    pub user_id: UserId,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub compliant: bool,
}

/// `POST /api/v1/events/violation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct ViolationEvent {
    pub violation_id: String,
    pub user_id: UserId,
    pub kind: String,
}

/// The answer to every event: `201` the first time, `200` with `duplicate: true` for a replay
/// (which changes nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct EventAccepted {
    /// The event's own id (see each event).
    pub id: String,
    /// `task.accepted`, `review`, `bug`, `kyc`, `device` or `violation`.
    pub kind: String,
    pub duplicate: bool,
    /// For `task.accepted`: the BUZ computed, credited and withheld (a replay answers what the
    /// first delivery did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub buz: Option<crate::wallets::BuzOutcome>,
}
