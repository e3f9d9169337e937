//! The jobs' catalog: their names, when each is due, and what its last run on this node did.

use hub_protocol::audit::JobStatus;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// `worm-integrity`: re-walks the audit chains.
pub const WORM_INTEGRITY: &str = "worm-integrity";
/// `reputation-daily`: folds the previous UTC day into every user's reputation.
pub const REPUTATION_DAILY: &str = "reputation-daily";
/// `badges-hourly`: evaluates every user's badges.
pub const BADGES_HOURLY: &str = "badges-hourly";
/// `conversion-windows`: moves conversion windows and schedules the next quarter's.
pub const CONVERSION_WINDOWS: &str = "conversion-windows";
/// `files-scrub`: re-hashes every stored file.
pub const FILES_SCRUB: &str = "files-scrub";
/// `audit-checkpoint`: signs the Merkle log's head and writes it outside the database.
pub const AUDIT_CHECKPOINT: &str = "audit-checkpoint";

const DAY: Duration = Duration::from_secs(86_400);

/// When a job is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// One period after the last time it was due (the first one period after start).
    Every(Duration),
    /// Every day at this minute of the UTC day.
    DailyAt { minute: u32 },
}

impl Schedule {
    /// The first time after `now_ms` (Unix ms) the job is due.
    pub fn next_after(self, now_ms: i64) -> i64 {
        match self {
            Schedule::Every(d) => now_ms.saturating_add(millis(d)),
            Schedule::DailyAt { minute } => {
                let day_ms = millis(DAY);
                let at = i64::from(minute) * 60_000;
                let today = now_ms.div_euclid(day_ms) * day_ms + at;
                if today > now_ms {
                    today
                } else {
                    today + day_ms
                }
            }
        }
    }

    /// How long a node that takes the job's lease keeps it: one period, so that no period runs
    /// twice; a day's job keeps it 23 hours, so that the next day is free even if its holder
    /// died mid-run.
    pub fn lease(self) -> Duration {
        match self {
            Schedule::Every(d) => d,
            Schedule::DailyAt { .. } => DAY - Duration::from_secs(3600),
        }
    }

    /// As the jobs' health shows it.
    pub fn describe(self) -> String {
        match self {
            Schedule::Every(d) => format!("every {}", humantime::format_duration(d)),
            Schedule::DailyAt { minute } => {
                format!("daily at {:02}:{:02} UTC", minute / 60, minute % 60)
            }
        }
    }

    /// `HH:MM` (UTC) as a daily schedule (what [`Schedule`]'s `Display` writes for one).
    pub fn parse_daily(text: &str) -> Result<Schedule, String> {
        let bad = || format!("{text:?} is not a time of day written HH:MM (UTC)");
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(Schedule::DailyAt { minute: h * 60 + m })
    }
}

/// A daily schedule as `HH:MM` (what [`Schedule::parse_daily`] reads), a period as `humantime`
/// writes it.
impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schedule::Every(d) => write!(f, "{}", humantime::format_duration(*d)),
            Schedule::DailyAt { minute } => write!(f, "{:02}:{:02}", minute / 60, minute % 60),
        }
    }
}

pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// When each job is due.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    pub worm_integrity_every: Duration,
    pub badges_every: Duration,
    pub reputation: Schedule,
    pub conversion_windows_every: Duration,
    pub files_scrub_every: Duration,
    pub audit_checkpoint_every: Duration,
}

impl JobsConfig {
    /// The defaults (the flags of [`JobsArgs`] start from them).
    pub const DEFAULT: JobsConfig = JobsConfig {
        worm_integrity_every: Duration::from_secs(5 * 60),
        badges_every: Duration::from_secs(3600),
        reputation: Schedule::DailyAt { minute: 2 * 60 },
        conversion_windows_every: Duration::from_secs(15 * 60),
        files_scrub_every: DAY,
        audit_checkpoint_every: Duration::from_secs(60),
    };
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// When the jobs run.
#[derive(Debug, Clone, clap::Args)]
pub struct JobsArgs {
    /// How often the `worm-integrity` job re-walks the audit chains.
    #[arg(long, env = "HUB_JOB_WORM_INTEGRITY", default_value_t = JobsConfig::DEFAULT.worm_integrity_every.into())]
    pub job_worm_integrity: humantime::Duration,
    /// How often the `badges-hourly` job evaluates every user's badges.
    #[arg(long, env = "HUB_JOB_BADGES", default_value_t = JobsConfig::DEFAULT.badges_every.into())]
    pub job_badges: humantime::Duration,
    /// When (UTC, `HH:MM`) the `reputation-daily` job folds the previous day into reputations.
    #[arg(long, env = "HUB_JOB_REPUTATION_AT", default_value_t = JobsConfig::DEFAULT.reputation, value_parser = Schedule::parse_daily)]
    pub job_reputation_at: Schedule,
    /// How often the `conversion-windows` job moves the conversion windows.
    #[arg(long, env = "HUB_JOB_CONVERSION_WINDOWS", default_value_t = JobsConfig::DEFAULT.conversion_windows_every.into())]
    pub job_conversion_windows: humantime::Duration,
    /// How often the `files-scrub` job re-hashes every stored file.
    #[arg(long, env = "HUB_JOB_FILES_SCRUB", default_value_t = JobsConfig::DEFAULT.files_scrub_every.into())]
    pub job_files_scrub: humantime::Duration,
    /// How often the `audit-checkpoint` job signs the audit log's head (when it grew).
    #[arg(long, env = "HUB_AUDIT_CHECKPOINT_EVERY", default_value_t = JobsConfig::DEFAULT.audit_checkpoint_every.into())]
    pub audit_checkpoint_every: humantime::Duration,
}

impl JobsArgs {
    pub fn resolve(&self) -> anyhow::Result<JobsConfig> {
        let every = [
            *self.job_worm_integrity,
            *self.job_badges,
            *self.job_conversion_windows,
            *self.job_files_scrub,
            *self.audit_checkpoint_every,
        ];
        if every.iter().any(Duration::is_zero) {
            anyhow::bail!(
                "HUB_JOB_WORM_INTEGRITY, HUB_JOB_BADGES, HUB_JOB_CONVERSION_WINDOWS, HUB_JOB_FILES_SCRUB and HUB_AUDIT_CHECKPOINT_EVERY must be longer than zero"
            );
        }
        Ok(JobsConfig {
            worm_integrity_every: *self.job_worm_integrity,
            badges_every: *self.job_badges,
            reputation: self.job_reputation_at,
            conversion_windows_every: *self.job_conversion_windows,
            files_scrub_every: *self.job_files_scrub,
            audit_checkpoint_every: *self.audit_checkpoint_every,
        })
    }
}

/// A job of the catalog.
#[derive(Debug, Clone)]
pub struct JobDef {
    pub name: &'static str,
    pub schedule: Schedule,
}

#[derive(Debug, Default, Clone)]
pub(super) struct JobState {
    pub(super) running: bool,
    pub(super) last_run_ms: Option<i64>,
    pub(super) last_result: Option<String>,
    pub(super) last_error: Option<String>,
    pub(super) last_duration_ms: Option<u64>,
    next_run_ms: Option<i64>,
}

pub struct JobBoard {
    defs: Vec<JobDef>,
    state: Mutex<BTreeMap<&'static str, JobState>>,
    /// A job runs at most once at a time on this node (the lease keeps other nodes out).
    pub(super) locks: BTreeMap<&'static str, tokio::sync::Mutex<()>>,
    started: std::sync::atomic::AtomicBool,
}

impl JobBoard {
    pub fn new(config: JobsConfig) -> JobBoard {
        let defs = vec![
            JobDef {
                name: WORM_INTEGRITY,
                schedule: Schedule::Every(config.worm_integrity_every),
            },
            JobDef {
                name: REPUTATION_DAILY,
                schedule: config.reputation,
            },
            JobDef {
                name: BADGES_HOURLY,
                schedule: Schedule::Every(config.badges_every),
            },
            JobDef {
                name: CONVERSION_WINDOWS,
                schedule: Schedule::Every(config.conversion_windows_every),
            },
            JobDef {
                name: FILES_SCRUB,
                schedule: Schedule::Every(config.files_scrub_every),
            },
            JobDef {
                name: AUDIT_CHECKPOINT,
                schedule: Schedule::Every(config.audit_checkpoint_every),
            },
        ];
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

    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, JobState>> {
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
                    schedule: d.schedule.describe(),
                    running: s.running,
                    last_run: s.last_run_ms.map(crate::clock::rfc3339),
                    last_result: s.last_result,
                    last_error: s.last_error,
                    last_duration_ms: s.last_duration_ms,
                    next_run: s.next_run_ms.map(crate::clock::rfc3339),
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

    /// The state of the jobs named `names` (for the operators' reports of a domain).
    pub fn statuses_of(&self, names: &[&str]) -> Vec<JobStatus> {
        let (_, _, jobs) = self.statuses();
        jobs.into_iter()
            .filter(|j| names.contains(&j.name.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let day = 86_400_000;
        let two = Schedule::DailyAt { minute: 120 };
        // 2026-12-01T00:00Z is day 20423.
        let midnight = 20_423 * day;
        assert_eq!(two.next_after(midnight), midnight + 7_200_000);
        assert_eq!(two.next_after(midnight + 7_199_999), midnight + 7_200_000);
        assert_eq!(
            two.next_after(midnight + 7_200_000),
            midnight + day + 7_200_000
        );
        assert_eq!(
            two.next_after(midnight + 23 * 3_600_000),
            midnight + day + 7_200_000
        );
        assert_eq!(
            Schedule::Every(Duration::from_secs(60)).next_after(5),
            60_005
        );
        assert_eq!(two.describe(), "daily at 02:00 UTC");
        assert_eq!(Schedule::parse_daily("02:00"), Ok(two));
        assert_eq!(
            Schedule::parse_daily("23:59"),
            Ok(Schedule::DailyAt { minute: 1439 })
        );
        for bad in ["24:00", "2", "02:60", "aa:bb"] {
            assert!(Schedule::parse_daily(bad).is_err(), "{bad}");
        }
        assert_eq!(two.lease(), Duration::from_secs(23 * 3600));
        // What Display writes, parse_daily reads back.
        assert_eq!(two.to_string(), "02:00");
        assert_eq!(Schedule::parse_daily(&two.to_string()), Ok(two));
        assert_eq!(Schedule::DailyAt { minute: 5 }.to_string(), "00:05");
    }
}
