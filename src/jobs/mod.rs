//! The scheduler: each periodic job of `services::jobs` runs on one node of the cluster per
//! period. When a job is due on a node (by the hub's clock, so tests drive it), the node takes
//! the job's lease in the database for one period, atomically; the node that gets it runs the
//! job, the others record a skip. A lease is never released early: a second node cannot run the
//! same period again, and a node that dies mid-run loses the lease when it expires.

pub mod webhooks;

use crate::services::Services;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// How often the scheduler looks for due jobs.
const TICK: Duration = Duration::from_secs(1);

/// Plans every job one period from now and starts the scheduler in `tasks`, and the webhook
/// worker.
pub fn start(services: Arc<Services>, tasks: &mut JoinSet<()>) {
    webhooks::start(services.clone(), tasks);
    services.jobs.board.set_started();
    let now = services.clock.now_ms();
    for def in services.jobs.board.defs() {
        services
            .jobs
            .board
            .plan(def.name, def.schedule.next_after(now));
    }
    tasks.spawn(async move {
        let mut ticker = tokio::time::interval(TICK);
        loop {
            ticker.tick().await;
            tick(&services).await;
        }
    });
}

/// Runs what is due now (by the hub's clock) and plans its next run.
pub async fn tick(services: &Services) {
    let now = services.clock.now_ms();
    for def in services.jobs.board.defs().to_vec() {
        let due = services
            .jobs
            .board
            .next_run_ms(def.name)
            .is_some_and(|at| now >= at);
        if !due {
            continue;
        }
        services
            .jobs
            .board
            .plan(def.name, def.schedule.next_after(now));
        match services
            .jobs
            .take_lease(def.name, def.schedule.lease())
            .await
        {
            Ok(true) => {
                crate::services::request_scope(services.jobs.run(def.name)).await;
            }
            Ok(false) => services.jobs.board.skipped(def.name, now),
            Err(e) => {
                tracing::warn!(job = def.name, error = %e, "cannot take the job's lease; trying next period")
            }
        }
    }
}
