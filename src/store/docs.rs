//! Documents: metadata, the update log and the snapshot. An update is appended before it is
//! relayed; compaction folds the snapshot and the logged updates into a new snapshot by
//! applying them to a yrs `Doc` and encoding its state (never `merge_updates_v1` over many
//! small updates), under a lock on the document row, so one node compacts a document at a time
//! and updates logged meanwhile by other nodes stay in the log.

use super::{Store, StoreError, StoreResult, WriteTx, new_id};
use hub_protocol::UserId;
use hub_rooms::doc::DocSession;

/// Updates appended per `INSERT` statement (3 parameters each, well under both backends'
/// limit on parameters per statement).
const APPEND_ROWS: usize = 1000;

/// One `INSERT` of `rows` into the update log.
fn append_rows(
    rows: &[(&str, &[u8])],
    now: i64,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let mut sql = String::from("INSERT INTO doc_updates (doc_id, data, created_at) VALUES ");
    for i in 0..rows.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
    }
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (doc, data) in rows {
        insert = insert.bind(*doc).bind(*data).bind(now);
    }
    insert
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DocRow {
    pub id: String,
    pub room: String,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub created_by: UserId,
    pub created_at: i64,
}

/// A stored document: its snapshot and the updates logged after it.
#[derive(Debug, Default)]
pub struct StoredDoc {
    pub snapshot: Option<Vec<u8>>,
    pub updates: Vec<Vec<u8>>,
}

impl Store {
    /// A new document in `room` by `creator`, inside `w`.
    pub async fn create_doc(
        &self,
        w: &mut WriteTx,
        room: &str,
        title: &str,
        creator: &UserId,
    ) -> StoreResult<DocRow> {
        let row = DocRow {
            id: new_id(),
            room: room.to_owned(),
            title: title.to_owned(),
            created_by: creator.clone(),
            created_at: self.now_ms(),
        };
        sqlx::query("INSERT INTO docs (id, room, title, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&row.id)
            .bind(&row.room)
            .bind(&row.title)
            .bind(creator.as_str())
            .bind(row.created_at)
            .execute(w.conn().await?)
            .await?;
        Ok(row)
    }

    /// The audit scope of something in `room`: its venture's.
    pub async fn room_audit_scope(&self, w: &mut WriteTx, room: &str) -> StoreResult<String> {
        if let Some(team) = room.strip_prefix("team:") {
            let venture: Option<(String,)> =
                sqlx::query_as("SELECT venture_id FROM teams WHERE id = $1")
                    .bind(team)
                    .fetch_optional(w.conn().await?)
                    .await?;
            if let Some((venture,)) = venture {
                return Ok(format!("venture:{venture}"));
            }
        }
        Ok(room.to_owned())
    }

    pub async fn get_doc(&self, id: &str) -> StoreResult<Option<DocRow>> {
        Ok(
            sqlx::query_as(
                "SELECT id, room, title, created_by, created_at FROM docs WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(self.pool())
            .await?,
        )
    }

    pub async fn docs_in_room(&self, room: &str) -> StoreResult<Vec<DocRow>> {
        Ok(sqlx::query_as(
            "SELECT id, room, title, created_by, created_at FROM docs WHERE room = $1 ORDER BY created_at, id",
        )
        .bind(room)
        .fetch_all(self.pool())
        .await?)
    }

    /// Deletes document `id` inside `w`; its room and title (`NotFound` when it is gone).
    pub async fn delete_doc(&self, w: &mut WriteTx, id: &str) -> StoreResult<(String, String)> {
        let room: Option<(String, String)> =
            sqlx::query_as("SELECT room, title FROM docs WHERE id = $1")
                .bind(id)
                .fetch_optional(w.conn().await?)
                .await?;
        let Some((room, title)) = room else {
            return Err(StoreError::NotFound);
        };
        sqlx::query("DELETE FROM docs WHERE id = $1")
            .bind(id)
            .execute(w.conn().await?)
            .await?;
        Ok((room, title))
    }

    /// The snapshot and the logged updates, in order.
    pub async fn doc_load(&self, id: &str) -> StoreResult<StoredDoc> {
        // One statement, so one snapshot of both tables: read in two, a compaction committing
        // between them (the snapshot written after the first read, the folded updates deleted
        // before the second) would load the document empty.
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT CAST(0 AS BIGINT) AS part, state AS data, CAST(0 AS BIGINT) AS seq
               FROM doc_snapshots WHERE doc_id = $1
             UNION ALL
             SELECT CAST(1 AS BIGINT) AS part, data, id AS seq FROM doc_updates WHERE doc_id = $1
             ORDER BY part, seq",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let mut snapshot = None;
        let mut updates = Vec::with_capacity(rows.len());
        for (part, data) in rows {
            if part == 0 {
                snapshot = Some(data);
            } else {
                updates.push(data);
            }
        }
        Ok(StoredDoc { snapshot, updates })
    }

    /// Appends an update to the log.
    pub async fn doc_append(&self, id: &str, update: &[u8]) -> StoreResult<()> {
        self.doc_append_many(&[(id, update)]).await
    }

    /// Appends the updates of several documents to their logs at once (a group commit): all
    /// of them or none. Each document's updates keep the order given.
    pub async fn doc_append_many(&self, updates: &[(&str, &[u8])]) -> StoreResult<()> {
        let now = self.now_ms();
        if updates.len() <= APPEND_ROWS {
            // One statement is atomic by itself.
            append_rows(updates, now)
                .execute(self.commit_pool())
                .await?;
            return Ok(());
        }
        let mut w = self.begin_commit().await?;
        for chunk in updates.chunks(APPEND_ROWS) {
            append_rows(chunk, now).execute(w.conn().await?).await?;
        }
        w.commit().await?;
        Ok(())
    }

    /// Folds the logged updates into the snapshot. Returns how many updates were folded.
    pub async fn doc_compact(&self, id: &str) -> StoreResult<usize> {
        let mut w = self.begin_write().await?;
        let lock = format!("SELECT id FROM docs WHERE id = $1{}", self.for_update());
        let found: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(lock))
            .bind(id)
            .fetch_optional(w.conn().await?)
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        let snapshot: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT state FROM doc_snapshots WHERE doc_id = $1")
                .bind(id)
                .fetch_optional(w.conn().await?)
                .await?;
        let updates: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, data FROM doc_updates WHERE doc_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(w.conn().await?)
                .await?;
        let Some(&(last, _)) = updates.last() else {
            return Ok(0);
        };
        let (doc, _) = DocSession::load(
            snapshot.as_ref().map(|(s,)| s.as_slice()),
            updates.iter().map(|(_, u)| u.as_slice()),
        )
        .map_err(|e| StoreError::Invalid(format!("stored document {id} does not load: {e}")))?;
        let state = {
            use yrs::{ReadTxn, StateVector, Transact};
            doc.transact()
                .encode_state_as_update_v1(&StateVector::default())
        };
        sqlx::query(
            "INSERT INTO doc_snapshots (doc_id, state, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (doc_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(&state)
        .bind(self.now_ms())
        .execute(w.conn().await?)
        .await?;
        sqlx::query("DELETE FROM doc_updates WHERE doc_id = $1 AND id <= $2")
            .bind(id)
            .bind(last)
            .execute(w.conn().await?)
            .await?;
        w.commit().await?;
        Ok(updates.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_protocol::AccountRole;
    use yrs::updates::decoder::Decode;
    use yrs::{GetString, ReadTxn, Text, Transact, Update};

    /// A document loaded while its log is being folded holds every update committed before
    /// the load: never the state between the snapshot's write and the log's delete.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_load_during_a_compaction_misses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let store = Store::connect(&url, 4).await.unwrap();
        store.migrate().await.unwrap();
        let alice = UserId::from("alice");
        store
            .upsert_user(&alice, "Alice", AccountRole::User)
            .await
            .unwrap();
        let mut w = store.begin_write().await.unwrap();
        let venture = store
            .insert_venture(&mut w, &alice, "Acme", None)
            .await
            .unwrap();
        let doc = store
            .create_doc(&mut w, &format!("venture:{}", venture.id), "Notes", &alice)
            .await
            .unwrap();
        w.commit().await.unwrap();
        let writer = yrs::Doc::with_client_id(7);
        let text = writer.get_or_insert_text("t");
        let mut expected = String::new();
        for i in 0..150 {
            let before = writer.transact().state_vector();
            let c = char::from(b'a' + (i % 26) as u8);
            text.push(&mut writer.transact_mut(), &c.to_string());
            expected.push(c);
            let update = writer.transact().encode_state_as_update_v1(&before);
            store.doc_append(&doc.id, &update).await.unwrap();
            let (compacted, loaded) =
                tokio::join!(store.doc_compact(&doc.id), store.doc_load(&doc.id));
            compacted.unwrap();
            let loaded = loaded.unwrap();
            let reader = yrs::Doc::new();
            {
                let mut txn = reader.transact_mut();
                for part in loaded.snapshot.iter().chain(&loaded.updates) {
                    txn.apply_update(Update::decode_v1(part).unwrap()).unwrap();
                }
            }
            let got = reader
                .get_or_insert_text("t")
                .get_string(&reader.transact());
            assert_eq!(got, expected, "load {i} missed committed updates");
        }
    }
}
