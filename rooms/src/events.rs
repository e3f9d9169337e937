//! The rules of events in: each event's id and the ranges of its fields. A refusal names the
//! field.

use hub_protocol::events::{
    BugEvent, DeviceEvent, KycEvent, ReviewEvent, TaskAccepted, ViolationEvent,
};

pub use crate::fields::FieldError;
use crate::fields::{one_of, range, refuse};

/// Ids are 1 to 128 characters without control characters.
pub const MAX_ID_CHARS: usize = 128;

fn id(field: &str, value: &str) -> Result<(), FieldError> {
    let n = value.chars().count();
    if n == 0 || n > MAX_ID_CHARS || value.chars().any(char::is_control) {
        return refuse(
            field,
            format!("1 to {MAX_ID_CHARS} characters, no control characters"),
        );
    }
    Ok(())
}

/// User ids follow the tokens' rule: 1 to 128 characters, no whitespace, control characters
/// or `:`.
fn user(field: &str, value: &str) -> Result<(), FieldError> {
    if !crate::room::valid_id(value) {
        return refuse(
            field,
            "1 to 128 characters without whitespace, control characters or ':'",
        );
    }
    Ok(())
}

/// A checked event: its kind and its own id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub kind: &'static str,
    pub id: String,
}

pub fn task_accepted(e: &TaskAccepted) -> Result<Checked, FieldError> {
    id("task_id", e.task_id.as_str())?;
    user("user_id", e.user_id.as_str())?;
    one_of("tier", &e.tier, &["S", "A", "B", "C"])?;
    range("quality", e.quality, 0.6, 1.4)?;
    range("reviewer_trust", e.reviewer_trust, 0.0, 200.0)?;
    Ok(Checked {
        kind: "task.accepted",
        id: e.task_id.to_string(),
    })
}

pub fn review(e: &ReviewEvent) -> Result<Checked, FieldError> {
    id("review_id", &e.review_id)?;
    user("reviewer_id", e.reviewer_id.as_str())?;
    user("user_id", e.user_id.as_str())?;
    range("quality", e.quality, 1.0, 5.0)?;
    range("reviewer_trust", e.reviewer_trust, 0.0, 200.0)?;
    Ok(Checked {
        kind: "review",
        id: e.review_id.clone(),
    })
}

pub fn bug(e: &BugEvent) -> Result<Checked, FieldError> {
    id("bug_id", &e.bug_id)?;
    user("user_id", e.user_id.as_str())?;
    one_of(
        "severity",
        &e.severity,
        &["low", "medium", "high", "critical"],
    )?;
    Ok(Checked {
        kind: "bug",
        id: e.bug_id.clone(),
    })
}

/// A KYC event. Without a `kyc_id`, the id given here is the first-time one
/// ([`kyc_id`] with `n = 0`); the store picks the right `n` in the transaction.
pub fn kyc(e: &KycEvent) -> Result<Checked, FieldError> {
    user("user_id", e.user_id.as_str())?;
    one_of("status", &e.status, &["PENDING", "PASSED", "FAILED"])?;
    if let Some(kyc_id) = &e.kyc_id {
        id("kyc_id", kyc_id)?;
    }
    Ok(Checked {
        kind: "kyc",
        id: match &e.kyc_id {
            Some(kyc_id) => kyc_id.clone(),
            None => kyc_id(e.user_id.as_str(), &e.status, 0),
        },
    })
}

/// The id of a KYC event without one of its own: `{user}:{status}` the first time the status is
/// reached (`n = 0`), `{user}:{status}:{n}` the n-th time it is reached again.
pub fn kyc_id(user: &str, status: &str, n: u64) -> String {
    match n {
        0 => format!("{user}:{status}"),
        n => format!("{user}:{status}:{n}"),
    }
}

pub fn device(e: &DeviceEvent) -> Result<Checked, FieldError> {
    user("user_id", e.user_id.as_str())?;
    if !is_date(&e.date) {
        return refuse("date", "must be a date written YYYY-MM-DD");
    }
    Ok(Checked {
        kind: "device",
        id: format!("{}:{}", e.user_id, e.date),
    })
}

pub fn violation(e: &ViolationEvent) -> Result<Checked, FieldError> {
    id("violation_id", &e.violation_id)?;
    user("user_id", e.user_id.as_str())?;
    id("kind", &e.kind)?;
    Ok(Checked {
        kind: "violation",
        id: e.violation_id.clone(),
    })
}

/// `YYYY-MM-DD`, a real day of the Gregorian calendar.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    if !s[0..4].bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(tier: &str, quality: f64, trust: f64) -> TaskAccepted {
        TaskAccepted {
            task_id: "t-1".into(),
            user_id: "bob".into(),
            venture_id: None,
            tier: tier.into(),
            quality,
            reviewer_trust: trust,
        }
    }

    #[test]
    fn ranges_are_inclusive_and_refusals_name_the_field() {
        for (tier, q, t) in [("S", 0.6, 0.0), ("C", 1.4, 200.0), ("B", 1.0, 100.0)] {
            assert_eq!(task_accepted(&task(tier, q, t)).unwrap().id, "t-1");
        }
        for (tier, q, t, field) in [
            ("D", 1.0, 100.0, "tier"),
            ("S", 0.59, 100.0, "quality"),
            ("S", 1.41, 100.0, "quality"),
            ("S", f64::NAN, 100.0, "quality"),
            ("S", 1.0, -0.1, "reviewer_trust"),
            ("S", 1.0, 200.5, "reviewer_trust"),
        ] {
            assert_eq!(task_accepted(&task(tier, q, t)).unwrap_err().field, field);
        }
        // User ids follow the tokens' rule.
        for bad in ["a b", "x:y", ""] {
            let e = TaskAccepted {
                user_id: bad.into(),
                ..task("S", 1.0, 100.0)
            };
            assert_eq!(task_accepted(&e).unwrap_err().field, "user_id", "{bad:?}");
        }
    }

    #[test]
    fn ids_of_events_without_one_of_their_own() {
        let mut k = KycEvent {
            user_id: "bob".into(),
            status: "PASSED".into(),
            kyc_id: None,
        };
        assert_eq!(kyc(&k).unwrap().id, "bob:PASSED");
        assert_eq!(kyc_id("bob", "PASSED", 2), "bob:PASSED:2");
        k.kyc_id = Some("vendor-7".into());
        assert_eq!(kyc(&k).unwrap().id, "vendor-7");
        k.kyc_id = Some(String::new());
        assert_eq!(kyc(&k).unwrap_err().field, "kyc_id");
        let d = DeviceEvent {
            user_id: "bob".into(),
            date: "2024-02-29".into(),
            compliant: true,
        };
        assert_eq!(device(&d).unwrap().id, "bob:2024-02-29");
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01x",
            "2024-04-31",
            "",
        ] {
            let d = DeviceEvent {
                date: bad.into(),
                ..d.clone()
            };
            assert_eq!(device(&d).unwrap_err().field, "date", "{bad}");
        }
    }
}
