//! Conversion windows and equity conversions (`/api/v1/conversion-windows`,
//! `/api/v1/equity`): BUZ converted into venture equity, decided by the venture's board.

use crate::ids::{ConversionId, UserId, VentureId, WindowId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// A conversion window: BUZ may be converted into venture equity while it is `OPEN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ConversionWindow {
    pub id: WindowId,
    pub name: String,
    pub opens_at: String,
    pub closes_at: String,
    /// Basis points of the venture's equity per 1,000 BUZ.
    #[ts(type = "number")]
    pub equity_rate_bps: i64,
    /// `SCHEDULED`, `OPEN`, `CLOSED` or `FINALIZED`.
    pub status: String,
}

/// `POST /api/v1/conversion-windows` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct CreateWindow {
    /// 1 to 80 characters.
    pub name: String,
    /// RFC 3339.
    pub opens_at: String,
    /// RFC 3339, after `opens_at`.
    pub closes_at: String,
    /// 1 to 10,000.
    #[ts(type = "number")]
    pub equity_rate_bps: i64,
}

/// `GET /api/v1/conversion-windows/active`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ActiveWindow {
    pub window: Option<ConversionWindow>,
}

/// `GET /api/v1/conversion-windows`: every window, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct WindowList {
    pub windows: Vec<ConversionWindow>,
}

/// `POST /api/v1/equity/convert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ConvertRequest {
    pub window_id: WindowId,
    pub venture_id: VentureId,
    #[ts(type = "number")]
    pub buz: i64,
}

/// A conversion request: BUZ locked until the venture's board decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Conversion {
    pub id: ConversionId,
    pub user_id: UserId,
    pub venture_id: VentureId,
    pub window_id: WindowId,
    /// `PENDING`, `APPROVED`, `REJECTED` or `EXPIRED`.
    pub status: String,
    #[ts(type = "number")]
    pub buz_used: i64,
    /// floor(buz × equity_rate_bps / 1000), once approved.
    #[ts(type = "number | null")]
    pub equity_granted_bp: Option<i64>,
    pub note: Option<String>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<String>,
    pub created_at: String,
}

/// `POST /api/v1/equity/conversions/{id}/decide`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Decide {
    pub approve: bool,
    /// At most 280 characters.
    #[serde(default)]
    #[ts(optional)]
    pub note: Option<String>,
}

/// `GET /api/v1/equity/conversions[?venture_id=]`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ConversionList {
    pub conversions: Vec<Conversion>,
}
