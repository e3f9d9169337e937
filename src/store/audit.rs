//! The WORM audit log (see `hub_rooms::audit` for the chain's rules). An entry is appended in
//! the same transaction as the change it records, so a change and its audit entry are
//! committed together or not at all. Appends to one scope queue on the scope's head row.

use super::behind::AuditRow;
use super::{Store, StoreResult, WriteTx, new_id};
use hub_rooms::audit::{Entry, Head, expected_hash};
use serde_json::Value;

/// What to record.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    /// `venture:{id}`, `user:{id}` or `system`.
    pub scope: String,
    /// The thing the action is about (a venture, team, user or document id).
    pub ref_id: Option<&'a str>,
    /// Who did it (`None` for the hub itself).
    pub actor_id: Option<&'a str>,
    /// What happened, as `noun.verb` (`venture.created`, `member.removed`, …).
    pub action: &'a str,
    pub details: Value,
}

/// An audit entry's columns, read by name.
#[derive(sqlx::FromRow)]
struct AuditColumns {
    id: String,
    scope: String,
    seq: i64,
    ref_id: Option<String>,
    actor_id: Option<String>,
    action: String,
    details: String,
    created_at: i64,
    prev_hash: Option<String>,
    hash: String,
}

/// A `details` that is not JSON is kept as a string, so the chain check reports it instead of
/// failing.
impl From<AuditColumns> for Entry {
    fn from(c: AuditColumns) -> Entry {
        Entry {
            id: c.id,
            scope: c.scope,
            seq: c.seq,
            ref_id: c.ref_id,
            actor_id: c.actor_id,
            action: c.action,
            details: serde_json::from_str(&c.details).unwrap_or(Value::String(c.details)),
            created_at: c.created_at,
            prev_hash: c.prev_hash,
            hash: c.hash,
        }
    }
}

impl Store {
    /// Appends `new` to its scope's chain inside `w`. The entry waits in the transaction's
    /// buffer with the head's move (see `behind`); the head is locked on first use.
    pub async fn audit(&self, w: &mut WriteTx, new: NewAudit<'_>) -> StoreResult<Entry> {
        self.fault("audit")?;
        let (seq, prev_hash) = match w.known.heads.get(&new.scope) {
            // Locked by this transaction, as it last moved it.
            Some(head) => head.clone(),
            None => {
                sqlx::query(
                    "INSERT INTO worm_heads (scope, seq, hash) VALUES ($1, 0, NULL) ON CONFLICT (scope) DO NOTHING",
                )
                .bind(&new.scope)
                .execute(w.conn().await?)
                .await?;
                let head = format!(
                    "SELECT seq, hash FROM worm_heads WHERE scope = $1{}",
                    self.for_update()
                );
                sqlx::query_as::<_, (i64, Option<String>)>(sqlx::AssertSqlSafe(head))
                    .bind(&new.scope)
                    .fetch_one(w.conn().await?)
                    .await?
            }
        };
        let mut entry = Entry {
            id: new_id(),
            scope: new.scope,
            seq: seq + 1,
            ref_id: new.ref_id.map(str::to_owned),
            actor_id: new.actor_id.map(str::to_owned),
            action: new.action.to_owned(),
            details: new.details,
            created_at: self.now_ms(),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = expected_hash(&entry);
        w.pending.audits.push(AuditRow {
            id: entry.id.clone(),
            scope: entry.scope.clone(),
            seq: entry.seq,
            ref_id: entry.ref_id.clone(),
            actor_id: entry.actor_id.clone(),
            action: entry.action.clone(),
            details: hub_rooms::audit::canonical_json(&entry.details),
            created_at: entry.created_at,
            prev_hash: entry.prev_hash.clone(),
            hash: entry.hash.clone(),
        });
        w.learn(
            |k| &mut k.heads,
            entry.scope.clone(),
            (entry.seq, Some(entry.hash.clone())),
        );
        Ok(entry)
    }

    /// Appends `new` in a transaction of its own (for records that go with no other change).
    pub async fn audit_alone(&self, new: NewAudit<'_>) -> StoreResult<Entry> {
        let mut w = self.begin_write().await?;
        let entry = self.audit(&mut w, new).await?;
        w.commit().await?;
        Ok(entry)
    }

    /// Every scope with entries or with a head past seq 0 (a chain emptied behind the hub's
    /// back still has its head), sorted, with its head.
    pub async fn audit_scopes(&self) -> StoreResult<Vec<(String, Option<Head>)>> {
        let rows: Vec<(String, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT s.scope, h.seq, h.hash FROM
               (SELECT DISTINCT scope FROM worm_audits
                UNION SELECT scope FROM worm_heads WHERE seq > 0) s
             LEFT JOIN worm_heads h ON h.scope = s.scope
             ORDER BY s.scope",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(scope, seq, hash)| (scope, seq.map(|seq| Head { seq, hash })))
            .collect())
    }

    /// A scope's entries in seq order. A `details` that is not JSON is kept as a string, so the
    /// chain check reports it instead of failing.
    pub async fn audit_entries(&self, scope: &str) -> StoreResult<Vec<Entry>> {
        let rows: Vec<AuditColumns> = sqlx::query_as(
            "SELECT id, scope, seq, ref_id, actor_id, action, details, created_at, prev_hash, hash
             FROM worm_audits WHERE scope = $1 ORDER BY seq",
        )
        .bind(scope)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(Entry::from).collect())
    }
}

/// Users locked per statement by [`Store::lock_users`].
const LOCK_CHUNK: usize = 500;

impl Store {
    /// Takes the chain heads of `users`' scopes (`user:{id}`) inside `w`, in one order. Every
    /// transaction that changes a user's standing (XP, badges, BUZ) takes its user's head
    /// before any of their rows, so two transactions never wait on each other in a cycle. A
    /// batch of writes takes all its users at once, in two statements; a head this
    /// transaction already holds is not asked for again.
    pub async fn lock_users(
        &self,
        w: &mut WriteTx,
        users: &[&hub_protocol::UserId],
    ) -> StoreResult<()> {
        let users: Vec<&hub_protocol::UserId> =
            super::unknown(users, |u| w.known.heads.contains_key(&format!("user:{u}")));
        for chunk in users.chunks(LOCK_CHUNK) {
            let scopes: Vec<String> = chunk.iter().map(|u| format!("user:{u}")).collect();
            let list = self.backend.json_list(1);
            let insert = format!(
                "INSERT INTO worm_heads (scope, seq, hash)
                 SELECT value, 0, NULL FROM ({list}) AS x WHERE true
                 ON CONFLICT (scope) DO NOTHING"
            );
            sqlx::query(sqlx::AssertSqlSafe(insert))
                .bind(super::json_array(&scopes))
                .bind(scopes.len() as i64)
                .execute(w.conn().await?)
                .await?;
            let select = format!(
                "SELECT scope, seq, hash FROM worm_heads WHERE scope IN ({list}) ORDER BY scope{}",
                self.for_update()
            );
            let query =
                sqlx::query_as::<_, (String, i64, Option<String>)>(sqlx::AssertSqlSafe(select))
                    .bind(super::json_array(&scopes))
                    .bind(scopes.len() as i64);
            for (scope, seq, hash) in query.fetch_all(w.conn().await?).await? {
                w.learn(|k| &mut k.heads, scope, (seq, hash));
            }
        }
        Ok(())
    }
}
