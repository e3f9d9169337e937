//! The periodic jobs: what each one does (a use case of another service), how often it is due,
//! and what its last run did. The scheduler in `crate::jobs` decides when and on which node a
//! job runs (a lease per job in the database); operators read the state and run a job by hand
//! through the debug routes.

mod board;

pub use board::{
    AUDIT_CHECKPOINT, BADGES_HOURLY, CONVERSION_WINDOWS, FILES_SCRUB, JobBoard, JobDef, JobsArgs,
    JobsConfig, REPUTATION_DAILY, Schedule, WORM_INTEGRITY,
};

use super::audit::Audit;
use super::auditlog::AuditLog;
use super::badges::Badges;
use super::equity::Equity;
use super::files::Files;
use super::gamification::Gamification;
use crate::clock::SharedClock;
use crate::store::{Store, StoreError};
use hub_protocol::NodeId;
use hub_protocol::audit::JobRun;
use std::sync::Arc;
use std::time::Duration;

/// The jobs' catalog and state, and the services whose use cases they run.
pub struct Jobs {
    pub board: Arc<JobBoard>,
    store: Store,
    node: NodeId,
    clock: SharedClock,
    audit: Arc<Audit>,
    auditlog: Arc<AuditLog>,
    gamification: Gamification,
    badges: Badges,
    equity: Equity,
    files: Files,
}

/// What a job runs.
pub struct JobBodies {
    pub audit: Arc<Audit>,
    pub auditlog: Arc<AuditLog>,
    pub gamification: Gamification,
    pub badges: Badges,
    pub equity: Equity,
    pub files: Files,
}

impl Jobs {
    pub fn new(
        board: Arc<JobBoard>,
        store: Store,
        node: NodeId,
        clock: SharedClock,
        bodies: JobBodies,
    ) -> Jobs {
        let JobBodies {
            audit,
            auditlog,
            gamification,
            badges,
            equity,
            files,
        } = bodies;
        Jobs {
            board,
            store,
            node,
            clock,
            audit,
            auditlog,
            gamification,
            badges,
            equity,
            files,
        }
    }

    /// Runs job `name` now on this node (waiting for a run of it already going here) and
    /// records the result; `None` for an unknown job.
    pub async fn run(&self, name: &str) -> Option<JobRun> {
        let def = self.board.def(name)?.clone();
        let _one_at_a_time = self.board.locks.get(def.name)?.lock().await;
        let started_ms = self.clock.now_ms();
        let started = std::time::Instant::now();
        if let Some(s) = self.board.state().get_mut(def.name) {
            s.running = true;
        }
        let outcome = match def.name {
            WORM_INTEGRITY => self
                .audit
                .integrity()
                .await
                .map_err(|e| e.to_string())
                .and_then(|report| serde_json::to_value(report).map_err(|e| e.to_string())),
            REPUTATION_DAILY => self
                .gamification
                .reputation_daily()
                .await
                .map_err(|e| e.to_string()),
            BADGES_HOURLY => self.badges.hourly().await.map_err(|e| e.to_string()),
            CONVERSION_WINDOWS => self
                .equity
                .conversion_windows_job()
                .await
                .map_err(|e| e.to_string()),
            FILES_SCRUB => self.files.scrub().await.map_err(|e| e.to_string()),
            AUDIT_CHECKPOINT => self
                .auditlog
                .checkpoint_job()
                .await
                .map_err(|e| e.to_string()),
            other => Err(format!("no body for job {other}")),
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        let (result, error, output) = match outcome {
            Ok(output) => ("ok".to_owned(), None, output),
            Err(e) => {
                tracing::error!(job = def.name, error = %e, "job failed");
                ("failed".to_owned(), Some(e), serde_json::Value::Null)
            }
        };
        metrics::counter!("hub_job_runs_total", "job" => def.name, "result" => result.clone())
            .increment(1);
        if let Some(s) = self.board.state().get_mut(def.name) {
            s.running = false;
            s.last_run_ms = Some(started_ms);
            s.last_result = Some(result.clone());
            s.last_error = error.clone();
            s.last_duration_ms = Some(duration_ms);
        }
        Some(JobRun {
            name: def.name.to_owned(),
            result,
            error,
            duration_ms,
            output,
        })
    }

    /// Takes (or renews) the lease that lets this node run `name` until `ttl` from now.
    pub async fn take_lease(&self, name: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.store
            .take_lease(&format!("job:{name}"), self.node.as_str(), ttl)
            .await
    }
}
