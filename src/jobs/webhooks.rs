//! The webhook worker of this node: delivers what is due, woken at once by this node's commits
//! that wrote deliveries, and otherwise every `HUB_WEBHOOK_POLL` (for other nodes' commits and
//! retries coming due). Every node runs one; endpoint leases keep them from sending twice.

use crate::services::Services;
use std::sync::Arc;
use tokio::task::JoinSet;

pub fn start(services: Arc<Services>, tasks: &mut JoinSet<()>) {
    let wake = services.webhooks.waker();
    let poll = services.webhooks.config().poll;
    tasks.spawn(async move {
        loop {
            let tried = crate::services::request_scope(services.webhooks.deliver_due()).await;
            if tried > 0 {
                // More may have come due meanwhile.
                continue;
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    });
}
