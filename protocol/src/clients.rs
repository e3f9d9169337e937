//! Clients: people outside the platform a user works with (`/api/v1/clients`), visible to
//! their owner only. Documents can be shared with them by a signed link.

use crate::ids::{ClientId, UserId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Client {
    pub id: ClientId,
    pub owner_id: UserId,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization: Option<String>,
    pub tags: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /api/v1/clients`: name ≤ 120, email ≤ 120, phone ≤ 40, organization ≤ 120, at most 20
/// tags of ≤ 40 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct NewClient {
    pub name: String,
    #[serde(default)]
    #[ts(optional)]
    pub email: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub phone: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub organization: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub tags: Option<Vec<String>>,
}

/// `PATCH /api/v1/clients/{id}`: any of the fields (`null` clears an optional one).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, ToSchema)]
pub struct PatchClient {
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[ts(optional, type = "string | null")]
    pub email: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[ts(optional, type = "string | null")]
    pub phone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[ts(optional, type = "string | null")]
    pub organization: Option<Option<String>>,
    #[serde(default)]
    #[ts(optional)]
    pub tags: Option<Vec<String>>,
}

/// `GET /api/v1/clients`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ClientList {
    pub clients: Vec<Client>,
}

/// A field that may be absent (unchanged), `null` (cleared) or a value.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Option<String>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().and_then(|o| o.as_ref()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}
