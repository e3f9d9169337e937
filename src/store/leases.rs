//! Leases: one holder at a time for work that must run once per cluster. Taking one is a
//! single atomic statement on both backends: it inserts the lease, or takes it over when it has
//! expired or is already this holder's (a renewal); otherwise it changes nothing.

use super::{Store, StoreResult};
use std::time::Duration;

impl Store {
    /// Takes (or renews) the lease `name` for `holder` until `ttl` from now; false when another
    /// holder has it and it has not expired.
    pub async fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool> {
        let now = self.now_ms();
        let until = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE leases.expires_at <= $4 OR leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// Gives the lease back, if `holder` has it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn one_holder_at_a_time_until_expiry_or_release() {
        let clock = ManualClock::new(1_000_000);
        let store = Store::connect("sqlite::memory:", 1)
            .await
            .unwrap()
            .with_clock(clock.clone());
        store.migrate().await.unwrap();
        let ttl = Duration::from_secs(30);
        assert!(store.take_lease("job", "node-a", ttl).await.unwrap());
        assert!(!store.take_lease("job", "node-b", ttl).await.unwrap());
        assert!(
            store.take_lease("job", "node-a", ttl).await.unwrap(),
            "a renewal"
        );
        assert!(store.take_lease("other", "node-b", ttl).await.unwrap());
        // 29.999 s later a still holds it; at 30 s it has expired.
        clock.advance(Duration::from_millis(29_999));
        assert!(!store.take_lease("job", "node-b", ttl).await.unwrap());
        clock.advance(Duration::from_millis(1));
        assert!(store.take_lease("job", "node-b", ttl).await.unwrap());
        assert!(!store.take_lease("job", "node-a", ttl).await.unwrap());
        store.release_lease("job", "node-a").await.unwrap();
        assert!(
            !store.take_lease("job", "node-a", ttl).await.unwrap(),
            "not a's to release"
        );
        store.release_lease("job", "node-b").await.unwrap();
        assert!(store.take_lease("job", "node-a", ttl).await.unwrap());
    }
}
