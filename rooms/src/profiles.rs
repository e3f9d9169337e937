//! The rules of profiles, skills, endorsements and portfolios: field limits (a refusal names
//! the field) and who may verify or endorse.

use crate::fields::{FieldError, refuse, required_text, text, url};
use hub_protocol::profiles::{NewPortfolioItem, ProfilePatch, Theme};
use serde_json::{Map, Value};

pub const MAX_NICKNAME: usize = 40;
pub const MAX_BIO: usize = 280;
pub const MAX_LOCATION: usize = 80;
pub const MAX_URL: usize = 200;
pub const MAX_SKILL_NAME: usize = 60;
pub const MAX_SKILL_CATEGORY: usize = 40;
pub const MAX_EVIDENCE_URL: usize = 300;
pub const MAX_NOTE: usize = 280;
pub const MAX_TITLE: usize = 120;
pub const MAX_SUMMARY: usize = 2000;
/// The largest `impact` object, bytes of its JSON.
pub const MAX_IMPACT_BYTES: usize = 4096;
/// Endorsements one user may give in a UTC day.
pub const ENDORSEMENTS_PER_DAY: i64 = 5;

/// A checked `PATCH /api/v1/profiles/me`: `Some(None)` clears a field. Every key of the body is
/// checked; an unknown one is refused by name.
pub fn check_patch(body: &Map<String, Value>) -> Result<ProfilePatch, FieldError> {
    let mut patch = ProfilePatch::default();
    for (key, value) in body {
        let field = key.as_str();
        match field {
            "nickname" => patch.nickname = Some(opt_text(field, value, MAX_NICKNAME, false)?),
            "bio" => patch.bio = Some(opt_text(field, value, MAX_BIO, true)?),
            "location" => patch.location = Some(opt_text(field, value, MAX_LOCATION, false)?),
            "website_url" => patch.website_url = Some(opt_url(field, value, MAX_URL)?),
            "avatar_url" => patch.avatar_url = Some(opt_url(field, value, MAX_URL)?),
            "theme" => {
                let theme = value
                    .as_str()
                    .and_then(Theme::parse)
                    .ok_or_else(|| FieldError::new(field, "must be one of auto, light, dark"))?;
                patch.theme = Some(theme);
            }
            "is_public" => {
                patch.is_public = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| FieldError::new(field, "must be true or false"))?,
                )
            }
            other => return refuse(other, "not a profile field"),
        }
    }
    Ok(patch)
}

/// A string (trimmed, empty meaning cleared) or null.
fn opt_text(
    field: &str,
    value: &Value,
    max: usize,
    multiline: bool,
) -> Result<Option<String>, FieldError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            let s = text(field, s, max, multiline)?;
            Ok((!s.is_empty()).then_some(s))
        }
        _ => refuse(field, "must be a string or null"),
    }
}

fn opt_url(field: &str, value: &Value, max: usize) -> Result<Option<String>, FieldError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => url(field, s, max).map(Some),
        _ => refuse(field, "must be a string or null"),
    }
}

/// A catalog skill: its trimmed name and category.
pub fn check_skill(name: &str, category: &str) -> Result<(String, String), FieldError> {
    Ok((
        required_text("name", name, MAX_SKILL_NAME)?,
        required_text("category", category, MAX_SKILL_CATEGORY)?,
    ))
}

/// An evidence URL, when given.
pub fn check_evidence(evidence: Option<&str>) -> Result<Option<String>, FieldError> {
    match evidence.map(str::trim) {
        None | Some("") => Ok(None),
        Some(e) => url("evidence_url", e, MAX_EVIDENCE_URL).map(Some),
    }
}

/// A checked endorsement: the rating as 1–5 and the note.
pub fn check_endorsement(
    endorser: &str,
    user: &str,
    rating: f64,
    note: Option<&str>,
) -> Result<(u8, Option<String>), FieldError> {
    if endorser == user {
        return refuse("user_id", "you cannot endorse yourself");
    }
    if !(1.0..=5.0).contains(&rating) || rating.fract() != 0.0 {
        return refuse("rating", "a whole number from 1 to 5");
    }
    let note = match note {
        Some(n) => Some(text("note", n, MAX_NOTE, true)?).filter(|n| !n.is_empty()),
        None => None,
    };
    Ok((rating as u8, note))
}

/// Whether one more endorsement may be given by someone who gave `today` already today.
pub fn may_endorse(today: i64) -> bool {
    today < ENDORSEMENTS_PER_DAY
}

/// A checked portfolio item.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioEntry {
    pub title: String,
    pub summary: String,
    pub artifact_url: Option<String>,
    pub buz: Option<i64>,
    pub impact: Value,
    pub is_public: bool,
    pub task_id: Option<String>,
}

pub fn check_portfolio(item: &NewPortfolioItem) -> Result<PortfolioEntry, FieldError> {
    let title = required_text("title", &item.title, MAX_TITLE)?;
    let summary = text("summary", &item.summary, MAX_SUMMARY, true)?;
    let artifact_url = match item.artifact_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) => Some(url("artifact_url", u, MAX_URL)?),
    };
    if item.buz.is_some_and(|b| b < 0) {
        return refuse("buz", "must be 0 or more");
    }
    let impact = match &item.impact {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v @ Value::Object(_)) => {
            if v.to_string().len() > MAX_IMPACT_BYTES {
                return refuse(
                    "impact",
                    format!("at most {MAX_IMPACT_BYTES} bytes of JSON"),
                );
            }
            v.clone()
        }
        Some(_) => return refuse("impact", "must be an object"),
    };
    let task_id = match item.task_id.as_ref().map(|t| t.as_str().trim()) {
        None | Some("") => None,
        Some(t) => Some(required_text("task_id", t, 128)?),
    };
    Ok(PortfolioEntry {
        title,
        summary,
        artifact_url,
        buz: item.buz,
        impact,
        is_public: item.is_public.unwrap_or(true),
        task_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(v: Value) -> Result<ProfilePatch, FieldError> {
        check_patch(v.as_object().unwrap())
    }

    #[test]
    fn patches_are_checked_field_by_field() {
        let p = patch(json!({"nickname": " Al ", "bio": "line\nline", "theme": "dark",
                             "is_public": false, "website_url": "https://al.dev", "location": null}))
        .unwrap();
        assert_eq!(p.nickname, Some(Some("Al".into())));
        assert_eq!(p.bio, Some(Some("line\nline".into())));
        assert_eq!(p.theme, Some(Theme::Dark));
        assert_eq!(p.is_public, Some(false));
        assert_eq!(p.website_url, Some(Some("https://al.dev".into())));
        assert_eq!(p.location, Some(None));
        assert_eq!(p.avatar_url, None);
        // The limits, at the edge and past it.
        assert!(patch(json!({"nickname": "n".repeat(40)})).is_ok());
        assert!(patch(json!({"bio": "b".repeat(280)})).is_ok());
        assert!(patch(json!({"location": "l".repeat(80)})).is_ok());
        for (body, field) in [
            (json!({"nickname": "n".repeat(41)}), "nickname"),
            (json!({"bio": "b".repeat(281)}), "bio"),
            (json!({"location": "l".repeat(81)}), "location"),
            (
                json!({"website_url": format!("https://{}", "w".repeat(193))}),
                "website_url",
            ),
            (json!({"website_url": "ftp://x.io"}), "website_url"),
            (json!({"website_url": "javascript:alert(1)"}), "website_url"),
            (json!({"theme": "blue"}), "theme"),
            (json!({"is_public": "yes"}), "is_public"),
            (json!({"nickname": 5}), "nickname"),
            (json!({"level": 10}), "level"),
            (json!({"nickname": "a\u{7}"}), "nickname"),
        ] {
            assert_eq!(patch(body.clone()).unwrap_err().field, field, "{body}");
        }
    }

    #[test]
    fn endorsements_and_skills() {
        assert_eq!(
            check_endorsement("a", "b", 4.0, Some(" great ")).unwrap(),
            (4, Some("great".into()))
        );
        assert_eq!(
            check_endorsement("a", "a", 4.0, None).unwrap_err().field,
            "user_id"
        );
        for bad in [0.0, 6.0, 4.5, f64::NAN] {
            assert_eq!(
                check_endorsement("a", "b", bad, None).unwrap_err().field,
                "rating"
            );
        }
        assert_eq!(
            check_endorsement("a", "b", 1.0, Some(&"n".repeat(281)))
                .unwrap_err()
                .field,
            "note"
        );
        assert!(may_endorse(4));
        assert!(!may_endorse(5));
        assert_eq!(
            check_skill(" Rust ", "Eng").unwrap(),
            ("Rust".into(), "Eng".into())
        );
        assert_eq!(check_skill(&"s".repeat(61), "x").unwrap_err().field, "name");
        assert_eq!(
            check_skill("s", &"c".repeat(41)).unwrap_err().field,
            "category"
        );
        assert_eq!(check_skill("s", "").unwrap_err().field, "category");
        assert_eq!(check_evidence(Some("")).unwrap(), None);
        assert!(check_evidence(Some(&format!("https://{}", "e".repeat(292)))).is_ok());
        assert!(check_evidence(Some(&format!("https://{}", "e".repeat(293)))).is_err());
    }

    #[test]
    fn portfolio_items() {
        let item = |v: Value| serde_json::from_value::<NewPortfolioItem>(v).unwrap();
        let ok = check_portfolio(&item(
            json!({"title": "Launch", "buz": 40, "impact": {"users": 10}}),
        ))
        .unwrap();
        assert!(ok.is_public);
        assert_eq!(ok.impact, json!({"users": 10}));
        for (v, field) in [
            (json!({"title": ""}), "title"),
            (json!({"title": "t".repeat(121)}), "title"),
            (
                json!({"title": "t", "summary": "s".repeat(2001)}),
                "summary",
            ),
            (json!({"title": "t", "buz": -1}), "buz"),
            (json!({"title": "t", "impact": [1]}), "impact"),
            (
                json!({"title": "t", "impact": {"x": "y".repeat(4100)}}),
                "impact",
            ),
            (
                json!({"title": "t", "artifact_url": "nope"}),
                "artifact_url",
            ),
        ] {
            assert_eq!(
                check_portfolio(&item(v.clone())).unwrap_err().field,
                field,
                "{v}"
            );
        }
    }
}
