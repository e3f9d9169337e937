//! XP and levels (rules in `hub_rooms::gamification`): XP is granted inside the transaction of
//! what earned it, once per (source, reference); a level-up notifies the user (`level_up`,
//! stored in that transaction) and, once committed, writes `level.up` in the feed of each of
//! their ventures.

use super::effects::{Effects, FeedTo};
use super::notifications::Notifications;
use super::webhooks::Outbox;
use crate::store::{BoardBy, Store, StoreResult, WriteTx, XpChange};
use hub_protocol::UserId;
use hub_protocol::notifications::{LevelUpData, NotificationBody};
use serde_json::json;

#[derive(Clone)]
pub struct Xp {
    store: Store,
    notifications: Notifications,
    outbox: Outbox,
}

impl Xp {
    pub fn new(store: Store, notifications: Notifications, outbox: Outbox) -> Xp {
        Xp {
            store,
            notifications,
            outbox,
        }
    }

    /// Grants `amount` XP to `user` for (`source`, `ref_id`) inside `w`, once per pair; a level
    /// gained is told (stored now, sent after the commit).
    pub async fn grant(
        &self,
        w: &mut WriteTx,
        fx: &mut Effects,
        user: &UserId,
        source: &str,
        ref_id: &str,
        amount: i64,
    ) -> StoreResult<XpChange> {
        let change = self.store.add_xp(w, user, source, ref_id, amount).await?;
        if change.granted > 0 {
            metrics::counter!("hub_xp_granted_total", "source" => source.to_owned())
                .increment(change.granted as u64);
            fx.board(user, BoardBy::Xp);
        }
        if change.level > change.level_before {
            let data = LevelUpData {
                level: change.level,
                previous_level: change.level_before,
                xp: change.xp,
            };
            self.outbox
                .emit(
                    &self.store,
                    w,
                    "level.up",
                    None,
                    &json!({"user_id": user, "level": change.level, "previous_level": change.level_before, "xp": change.xp}),
                )
                .await?;
            self.notifications
                .add_in(w, fx, user, NotificationBody::LevelUp(data))
                .await?;
            fx.feed(
                FeedTo::VenturesOf(user.clone()),
                Some(user),
                "level.up",
                ("user", user.as_str()),
                json!({"level": change.level, "previous_level": change.level_before, "xp": change.xp}),
            );
        }
        Ok(change)
    }
}
