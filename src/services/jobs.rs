//! The periodic jobs: what each one does (a use case of the services), how often it is due,
//! and what its last run did. The scheduler in `crate::jobs` decides when and on which node a
//! job runs (a lease per job in the database); operators read the state and run a job by hand
//! through the debug routes.

use super::Services;
use hub_protocol::audit::{JobRun, JobStatus};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// `worm-integrity`: re-walks the audit chains.
pub const WORM_INTEGRITY: &str = "worm-integrity";

/// How often each job is due.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    pub worm_integrity_every: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            worm_integrity_every: Duration::from_secs(5 * 60),
        }
    }
}

/// A job of the catalog.
#[derive(Debug, Clone)]
pub struct JobDef {
    pub name: &'static str,
    pub every: Duration,
}

#[derive(Debug, Default, Clone)]
struct JobState {
    running: bool,
    last_run_ms: Option<i64>,
    last_result: Option<String>,
    last_error: Option<String>,
    last_duration_ms: Option<u64>,
    next_run_ms: Option<i64>,
}

pub struct JobBoard {
    defs: Vec<JobDef>,
    state: Mutex<BTreeMap<&'static str, JobState>>,
    /// A job runs at most once at a time on this node (the lease keeps other nodes out).
    locks: BTreeMap<&'static str, tokio::sync::Mutex<()>>,
    started: std::sync::atomic::AtomicBool,
}

impl JobBoard {
    pub fn new(config: JobsConfig) -> JobBoard {
        let defs = vec![JobDef {
            name: WORM_INTEGRITY,
            every: config.worm_integrity_every,
        }];
        JobBoard {
            locks: defs
                .iter()
                .map(|d| (d.name, tokio::sync::Mutex::new(())))
                .collect(),
            state: Mutex::new(defs.iter().map(|d| (d.name, JobState::default())).collect()),
            defs,
            started: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, JobState>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The catalog.
    pub fn defs(&self) -> &[JobDef] {
        &self.defs
    }

    pub fn def(&self, name: &str) -> Option<&JobDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// The scheduler runs on this node.
    pub fn set_started(&self) {
        self.started
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// When `name` is next due (Unix ms), once the scheduler has planned it.
    pub fn next_run_ms(&self, name: &str) -> Option<i64> {
        self.state().get(name).and_then(|s| s.next_run_ms)
    }

    /// Plans `name`'s next run.
    pub fn plan(&self, name: &str, at_ms: i64) {
        if let Some(s) = self.state().get_mut(name) {
            s.next_run_ms = Some(at_ms);
        }
    }

    /// Another node holds `name`'s lease: this node skipped it.
    pub fn skipped(&self, name: &str, now_ms: i64) {
        if let Some(s) = self.state().get_mut(name) {
            s.last_result = Some("skipped".into());
            s.last_error = None;
            s.last_run_ms.get_or_insert(now_ms);
        }
    }

    /// Every job's state, for `GET /api/debug/jobs/health`.
    pub fn statuses(&self) -> (bool, Option<i64>, Vec<JobStatus>) {
        let state = self.state();
        let jobs = self
            .defs
            .iter()
            .map(|d| {
                let s = state.get(d.name).cloned().unwrap_or_default();
                JobStatus {
                    name: d.name.to_owned(),
                    schedule: format!("every {}", humantime::format_duration(d.every)),
                    running: s.running,
                    last_run: s.last_run_ms.map(crate::store::rfc3339),
                    last_result: s.last_result,
                    last_error: s.last_error,
                    last_duration_ms: s.last_duration_ms,
                    next_run: s.next_run_ms.map(crate::store::rfc3339),
                }
            })
            .collect();
        let last = state.values().filter_map(|s| s.last_run_ms).max();
        (
            self.started.load(std::sync::atomic::Ordering::Acquire),
            last,
            jobs,
        )
    }
}

impl Services {
    /// Runs job `name` now on this node (waiting for a run of it already going here) and
    /// records the result; `None` for an unknown job.
    pub async fn run_job(&self, name: &str) -> Option<JobRun> {
        let def = self.jobs.def(name)?.clone();
        let _one_at_a_time = self.jobs.locks.get(def.name)?.lock().await;
        let started_ms = self.clock.now_ms();
        let started = std::time::Instant::now();
        if let Some(s) = self.jobs.state().get_mut(def.name) {
            s.running = true;
        }
        let outcome = match def.name {
            WORM_INTEGRITY => self
                .worm_integrity()
                .await
                .map_err(|e| e.to_string())
                .and_then(|report| serde_json::to_value(report).map_err(|e| e.to_string())),
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
        if let Some(s) = self.jobs.state().get_mut(def.name) {
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
    pub async fn take_job_lease(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<bool, crate::store::StoreError> {
        self.store
            .take_lease(&format!("job:{name}"), self.liveness.node().as_str(), ttl)
            .await
    }
}
