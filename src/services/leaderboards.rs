//! Venture leaderboards: read ranked, and pushed to the venture's room as `leaderboard` when a
//! member's XP or reputation changes, at most once per throttle period per ordering (the last
//! change always gets out).

use super::notify::Notify;
use crate::store::{BoardBy, Store, StoreResult};
use hub_protocol::gamification::{Leaderboard, LeaderboardEntry};
use hub_protocol::realtime::server;
use hub_protocol::{RoomId, VentureId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines in a pushed leaderboard.
pub const PUSHED_LINES: u32 = 50;

/// When each leaderboard was last pushed, and which have a push waiting.
type Pushes = HashMap<(VentureId, BoardBy), (Option<Instant>, bool)>;

#[derive(Clone)]
pub struct Leaderboards {
    store: Store,
    notify: Notify,
    /// The least time between two pushes of one venture and ordering.
    throttle: Duration,
    pushes: Arc<Mutex<Pushes>>,
}

impl Leaderboards {
    pub fn new(store: Store, notify: Notify, throttle: Duration) -> Leaderboards {
        Leaderboards {
            store,
            notify,
            throttle,
            pushes: Arc::default(),
        }
    }

    /// A member's standing in `venture` changed: its room hears the leaderboard soon (at once,
    /// or when the throttle period since the last push ends).
    pub fn changed(&self, venture: &VentureId, by: BoardBy) {
        let key = (venture.clone(), by);
        let wait = {
            let mut pushes = self.pushes.lock().unwrap_or_else(|e| e.into_inner());
            let entry = pushes.entry(key.clone()).or_insert((None, false));
            if entry.1 {
                return;
            }
            entry.1 = true;
            entry
                .0
                .map(|last| self.throttle.saturating_sub(last.elapsed()))
                .unwrap_or_default()
        };
        let this = self.clone();
        tokio::spawn(async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            {
                let mut pushes = this.pushes.lock().unwrap_or_else(|e| e.into_inner());
                pushes.insert(key.clone(), (Some(Instant::now()), false));
            }
            match this.read(&key.0, key.1, PUSHED_LINES).await {
                Ok(board) => {
                    let room = RoomId::from(format!("venture:{}", key.0));
                    this.notify
                        .to_room(&room, server::LeaderboardEvent, &board, Default::default())
                        .await;
                }
                Err(e) => tracing::warn!(venture = %key.0, error = %e, "cannot read a leaderboard"),
            }
        });
    }

    /// `venture`'s members best first by `by`, ranked (ties share a rank).
    pub async fn read(
        &self,
        venture: &VentureId,
        by: BoardBy,
        limit: u32,
    ) -> StoreResult<Leaderboard> {
        let rows = self.store.leaderboard(venture, by, limit).await?;
        let mut entries: Vec<LeaderboardEntry> = Vec::with_capacity(rows.len());
        let mut last: Option<(i64, u32)> = None;
        for (i, row) in rows.into_iter().enumerate() {
            let value = match by {
                BoardBy::Xp => row.xp,
                BoardBy::Reputation => row.rep.0,
            };
            // Equal values share a rank (1, 2, 2, 4).
            let rank = match last {
                Some((v, r)) if v == value => r,
                _ => i as u32 + 1,
            };
            last = Some((value, rank));
            entries.push(LeaderboardEntry {
                rank,
                user_id: row.user,
                name: row.name,
                level: row.level,
                xp: row.xp,
                rep_score: row.rep.score(),
            });
        }
        Ok(Leaderboard {
            venture_id: venture.clone(),
            by: by.as_str().to_owned(),
            entries,
        })
    }
}
