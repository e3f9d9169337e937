//! Profiles, skills, endorsements and portfolios (`/api/v1/profiles`, `/api/v1/skills`,
//! `/api/v1/portfolio`).

use crate::ids::{TaskId, UserId, VentureId};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// How the user's apps look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(s: &str) -> Option<Theme> {
        match s {
            "auto" => Some(Theme::Auto),
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }
}

/// `GET /api/v1/profiles/{user_id}`. Every user the hub knows has one (level 1, 0 XP, 0
/// reputation, theme `auto`, public, until they change it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Profile {
    pub user_id: UserId,
    /// The name the user's token gives.
    pub name: String,
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub website_url: Option<String>,
    pub theme: Theme,
    pub is_public: bool,
    /// 1 to 10.
    pub level: u32,
    #[ts(type = "number")]
    pub xp: i64,
    /// The XP at which the next level starts (`null` at level 10).
    #[ts(type = "number | null")]
    pub next_level_xp: Option<i64>,
    /// Reputation, with up to 3 decimals.
    pub rep_score: f64,
    pub badges: Vec<ProfileBadge>,
    pub skills: Vec<ProfileSkill>,
    /// When the hub first saw the user.
    pub joined_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct ProfileBadge {
    pub code: String,
    pub name: String,
    pub awarded_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct ProfileSkill {
    pub name: String,
    pub category: String,
    pub verified: bool,
    /// Endorsements received for it.
    #[ts(type = "number")]
    pub endorsements: i64,
    pub evidence_url: Option<String>,
}

/// `PATCH /api/v1/profiles/me`: any of these; `null` clears a text field. Limits: nickname 40,
/// bio 280, location 80, website_url and avatar_url 200 (http or https), theme
/// `auto|light|dark`, is_public a boolean. Anything else is `400 invalid` naming the field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS, ToSchema)]
pub struct ProfilePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string | null")]
    pub nickname: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string | null")]
    pub avatar_url: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string | null")]
    pub bio: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string | null")]
    pub location: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string | null")]
    pub website_url: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub theme: Option<Theme>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub is_public: Option<bool>,
}

/// A skill of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Skill {
    /// At most 60 characters; unique whatever the case.
    pub name: String,
    /// At most 40 characters.
    pub category: String,
}

/// `GET /api/v1/skills`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct SkillList {
    pub skills: Vec<Skill>,
}

/// `POST /api/v1/profiles/me/skills`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct AddSkill {
    /// A skill of the catalog.
    pub skill: String,
    /// http or https, at most 300 characters.
    #[serde(default)]
    #[ts(optional)]
    pub evidence_url: Option<String>,
}

/// `POST /api/v1/profiles/me/endorse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Endorse {
    pub user_id: UserId,
    pub skill: String,
    /// 1 to 5.
    pub rating: f64,
    /// At most 280 characters.
    #[serde(default)]
    #[ts(optional)]
    pub note: Option<String>,
}

/// An endorsement given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Endorsement {
    pub id: String,
    pub endorser_id: UserId,
    pub user_id: UserId,
    pub skill: String,
    pub rating: u8,
    pub note: Option<String>,
    /// The endorser's trust weight when they endorsed (clamp(rep / 100, 0.5, 1.5)).
    pub weight: f64,
    /// XP it brought the endorsed user (at most 20 a day come from endorsements).
    #[ts(type = "number")]
    pub xp: i64,
    pub created_at: String,
}

/// `POST /api/v1/portfolio`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct NewPortfolioItem {
    /// 1 to 120 characters.
    pub title: String,
    /// At most 2000 characters.
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    #[ts(optional)]
    pub artifact_url: Option<String>,
    /// BUZ the work earned, 0 or more.
    #[serde(default)]
    #[ts(optional, type = "number")]
    pub buz: Option<i64>,
    /// Free-form figures of the work's impact (an object, at most 4 KiB).
    #[serde(default)]
    #[ts(optional, type = "Record<string, unknown>")]
    pub impact: Option<serde_json::Value>,
    /// Shown to others (default true).
    #[serde(default)]
    #[ts(optional)]
    pub is_public: Option<bool>,
    #[serde(default)]
    #[ts(optional)]
    pub task_id: Option<TaskId>,
}

/// A portfolio item. `title`, `summary`, `artifact_url`, `buz`, `impact` and `task_id` are what
/// the user wrote (claims); `verified` is what the hub itself recorded for `task_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct PortfolioItem {
    pub id: String,
    pub user_id: UserId,
    pub title: String,
    pub summary: String,
    pub artifact_url: Option<String>,
    /// BUZ the user claims for it (unchecked; compare `verified.buz_credited`).
    #[ts(type = "number | null")]
    pub buz: Option<i64>,
    #[ts(type = "Record<string, unknown>")]
    pub impact: serde_json::Value,
    pub is_public: bool,
    pub task_id: Option<TaskId>,
    pub created_at: String,
    /// What the hub recorded for `task_id`: null when it knows no accepted task of this user
    /// with that id (or the item names none).
    pub verified: Option<VerifiedTask>,
}

/// An accepted task as the hub recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct VerifiedTask {
    pub task_id: TaskId,
    /// The venture the task event named, if any.
    pub venture_id: Option<VentureId>,
    /// BUZ credited to the user's wallet for the task.
    #[ts(type = "number")]
    pub buz_credited: i64,
    /// When the hub received the task's acceptance.
    pub accepted_at: String,
}

/// `GET /api/v1/profiles/{user_id}/portfolio`: public items, newest first (all of them for
/// their owner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct Portfolio {
    pub items: Vec<PortfolioItem>,
}
