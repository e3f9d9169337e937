//! Conversion windows and equity conversion requests. Windows never overlap; a request's BUZ is
//! locked in its wallet while it is `PENDING`, and its status changes only forward, under its
//! row lock, in the transaction that moves the wallet.

use super::{Store, StoreError, StoreResult, WriteTx, id_of, opt_id_of};
use hub_protocol::{ConversionId, UserId, VentureId, WalletId, WindowId};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A window as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WindowRow {
    #[sqlx(try_from = "String")]
    pub id: WindowId,
    pub name: String,
    pub opens_at: i64,
    pub closes_at: i64,
    #[sqlx(rename = "equity_rate_bps")]
    pub rate_bps: i64,
    pub status: String,
}

/// A conversion request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionRow {
    pub id: ConversionId,
    pub user_id: UserId,
    pub wallet_id: WalletId,
    pub window_id: WindowId,
    pub venture_id: VentureId,
    pub buz_used: i64,
    pub status: String,
    pub equity_granted_bp: Option<i64>,
    pub note: Option<String>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<i64>,
    pub created_at: i64,
}

/// Read by column name, ids typed.
impl<'r> sqlx::FromRow<'r, AnyRow> for ConversionRow {
    fn from_row(r: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(ConversionRow {
            id: id_of(r, "id")?,
            user_id: id_of(r, "user_id")?,
            wallet_id: id_of(r, "wallet_id")?,
            window_id: id_of(r, "window_id")?,
            venture_id: id_of(r, "venture_id")?,
            buz_used: r.try_get("buz_used")?,
            status: r.try_get("status")?,
            equity_granted_bp: r.try_get("equity_granted_bp")?,
            note: r.try_get("note")?,
            decided_by: opt_id_of(r, "decided_by")?,
            decided_at: r.try_get("decided_at")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

const WINDOW_COLUMNS: &str = "id, name, opens_at, closes_at, equity_rate_bps, status";
const CONVERSION_COLUMNS: &str = "id, user_id, wallet_id, window_id, venture_id, buz_used, status, equity_granted_bp, note, decided_by, decided_at, created_at";

impl Store {
    /// Adds window `id` inside `w`; `Conflict` when it overlaps another. The caller first
    /// takes the head of the chain that records it (the system chain), which serializes window
    /// creation: two overlapping windows cannot both pass the check.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_window(
        &self,
        w: &mut WriteTx,
        id: WindowId,
        name: &str,
        opens_at: i64,
        closes_at: i64,
        rate_bps: i64,
        status: &str,
    ) -> StoreResult<WindowRow> {
        let overlap = format!(
            "SELECT id FROM conversion_windows WHERE opens_at < $2 AND closes_at > $1{}",
            self.for_update()
        );
        let clash: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(overlap))
            .bind(opens_at)
            .bind(closes_at)
            .fetch_optional(w.conn().await?)
            .await?;
        if clash.is_some() {
            return Err(StoreError::Conflict(
                "the window overlaps another conversion window".into(),
            ));
        }
        let row = WindowRow {
            id,
            name: name.to_owned(),
            opens_at,
            closes_at,
            rate_bps,
            status: status.to_owned(),
        };
        let now = self.now_ms();
        sqlx::query(
            "INSERT INTO conversion_windows (id, name, opens_at, closes_at, equity_rate_bps, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(row.id.as_str())
        .bind(&row.name)
        .bind(row.opens_at)
        .bind(row.closes_at)
        .bind(row.rate_bps)
        .bind(&row.status)
        .bind(now)
        .execute(w.conn().await?)
        .await?;
        Ok(row)
    }

    /// Every window, newest first (by opening).
    pub async fn windows(&self) -> StoreResult<Vec<WindowRow>> {
        let sql = format!("SELECT {WINDOW_COLUMNS} FROM conversion_windows ORDER BY opens_at DESC");
        let rows: Vec<WindowRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// The window `id`, locked inside `w`.
    pub async fn lock_window(
        &self,
        w: &mut WriteTx,
        id: &WindowId,
    ) -> StoreResult<Option<WindowRow>> {
        let sql = format!(
            "SELECT {WINDOW_COLUMNS} FROM conversion_windows WHERE id = $1{}",
            self.for_update()
        );
        let row: Option<WindowRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(w.conn().await?)
            .await?;
        Ok(row)
    }

    pub async fn set_window_status(
        &self,
        w: &mut WriteTx,
        id: &WindowId,
        status: &str,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE conversion_windows SET status = $2, updated_at = $3 WHERE id = $1")
            .bind(id.as_str())
            .bind(status)
            .bind(self.now_ms())
            .execute(w.conn().await?)
            .await?;
        Ok(())
    }

    /// The id of the first window there ever was (the earliest to open).
    pub async fn first_window_id(&self, w: &mut WriteTx) -> StoreResult<Option<WindowId>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT id FROM conversion_windows ORDER BY opens_at, id LIMIT 1")
                .fetch_optional(w.conn().await?)
                .await?;
        Ok(row.map(|(id,)| WindowId(id)))
    }

    /// Records a `PENDING` request inside `w`.
    pub async fn add_conversion(&self, w: &mut WriteTx, row: &ConversionRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO equity_conversions (id, user_id, wallet_id, window_id, venture_id, buz_used, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.id.as_str())
        .bind(row.user_id.as_str())
        .bind(row.wallet_id.as_str())
        .bind(row.window_id.as_str())
        .bind(row.venture_id.as_str())
        .bind(row.buz_used)
        .bind(&row.status)
        .bind(row.created_at)
        .execute(w.conn().await?)
        .await?;
        Ok(())
    }

    /// The request `id`, locked inside `w`.
    pub async fn lock_conversion(
        &self,
        w: &mut WriteTx,
        id: &ConversionId,
    ) -> StoreResult<Option<ConversionRow>> {
        let sql = format!(
            "SELECT {CONVERSION_COLUMNS} FROM equity_conversions WHERE id = $1{}",
            self.for_update()
        );
        let row: Option<ConversionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(w.conn().await?)
            .await?;
        Ok(row)
    }

    pub async fn conversion(&self, id: &ConversionId) -> StoreResult<Option<ConversionRow>> {
        let sql = format!("SELECT {CONVERSION_COLUMNS} FROM equity_conversions WHERE id = $1");
        let row: Option<ConversionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row)
    }

    /// Settles a request inside `w`: its new status, the equity granted, who decided and why.
    pub async fn settle_conversion(
        &self,
        w: &mut WriteTx,
        id: &ConversionId,
        status: &str,
        equity_bp: Option<i64>,
        by: Option<&UserId>,
        note: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE equity_conversions SET status = $2, equity_granted_bp = $3, decided_by = $4,
                 decided_at = $5, note = $6 WHERE id = $1 AND status = 'PENDING'",
        )
        .bind(id.as_str())
        .bind(status)
        .bind(equity_bp)
        .bind(by.map(UserId::as_str))
        .bind(self.now_ms())
        .bind(note)
        .execute(w.conn().await?)
        .await?;
        Ok(())
    }

    /// Requests, newest first: `user`'s, or `venture`'s.
    pub async fn conversions(
        &self,
        user: Option<&UserId>,
        venture: Option<&VentureId>,
    ) -> StoreResult<Vec<ConversionRow>> {
        let sql = format!(
            "SELECT {CONVERSION_COLUMNS} FROM equity_conversions
             WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR venture_id = $2) ORDER BY id DESC LIMIT 500"
        );
        let rows: Vec<ConversionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.map(UserId::as_str))
            .bind(venture.map(VentureId::as_str))
            .fetch_all(self.pool())
            .await?;
        Ok(rows)
    }

    /// The ids of `window`'s requests still `PENDING`.
    pub async fn pending_conversions(&self, window: &WindowId) -> StoreResult<Vec<ConversionId>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM equity_conversions WHERE window_id = $1 AND status = 'PENDING' ORDER BY id",
        )
        .bind(window.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(id,)| ConversionId(id)).collect())
    }
}
