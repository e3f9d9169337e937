//! The WORM audit log and the background jobs, as the operator routes report them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `GET /api/debug/worm/integrity`: every scope's chain re-walked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct WormIntegrity {
    /// Every scope holds (a break recorded by a `worm.reanchor` entry counts as held).
    pub ok: bool,
    pub checked_at: String,
    pub scopes: Vec<ScopeIntegrity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct ScopeIntegrity {
    /// `venture:{id}`, `user:{id}` or `system`.
    pub scope: String,
    pub entries: u64,
    pub ok: bool,
    /// The first entry that does not hold and that no `worm.reanchor` entry records.
    pub first_broken: Option<BrokenEntry>,
    /// Seqs of breaks recorded by `worm.reanchor` entries.
    pub reanchored: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct BrokenEntry {
    #[ts(type = "number")]
    pub seq: i64,
    /// The entry's id, or `(cut)` where entries are missing.
    pub id: String,
    pub reason: String,
    /// SHA-256 of what was found as stored: a reanchor passes the break over only while it is
    /// the same to the byte.
    pub fingerprint: String,
}

/// `GET /api/debug/jobs/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[allow(non_snake_case)]
pub struct JobsHealth {
    /// The scheduler runs on this node.
    pub isRunning: bool,
    /// The last time any job ran on this node.
    pub lastRun: Option<String>,
    pub jobs: Vec<JobStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct JobStatus {
    pub name: String,
    /// `every 5m`.
    pub schedule: String,
    /// Running now on this node.
    pub running: bool,
    pub last_run: Option<String>,
    /// `ok`, `failed`, or `skipped` (another node held the lease).
    pub last_result: Option<String>,
    pub last_error: Option<String>,
    #[ts(type = "number | null")]
    pub last_duration_ms: Option<u64>,
    pub next_run: Option<String>,
}

/// `POST /api/debug/jobs/{name}/run`: what the run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct JobRun {
    pub name: String,
    pub result: String,
    pub error: Option<String>,
    #[ts(type = "number")]
    pub duration_ms: u64,
    /// What the job reports (for `worm-integrity`: the integrity report).
    #[ts(type = "unknown")]
    pub output: serde_json::Value,
}
