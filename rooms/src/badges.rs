//! Badge rules: their JSON form, checked when a badge is created or changed, and their
//! evaluation against a user's [`Metrics`].
//!
//! ```json
//! {"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "op": "gte", "value": 5}]}
//! {"type": "COMPOSITE", "all": [rule, ...]}      (or "any"; nestable)
//! {"type": "MANUAL"}                             (awarded by an admin only)
//! ```
//! Every condition of a THRESHOLD must hold. Ops: `gte`, `lte`, `eq`. `kycStatus` is text
//! (`NONE`, `PENDING`, `PASSED`, `FAILED`) and takes `eq` only; every other metric is a number.

use crate::fields::{FieldError, refuse};
use serde_json::Value;

/// The deepest nesting of COMPOSITE rules.
pub const MAX_DEPTH: usize = 8;
/// The most conditions or sub-rules in one rule.
pub const MAX_ITEMS: usize = 32;

/// What a rule can look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    TasksAccepted,
    DaysSinceJoin,
    CriticalBugs,
    HelpfulReviews,
    ReviewAgreementPct,
    KycStatus,
    DeviceCompliantDays,
    PolicyViolations,
    EndorsementsReceived,
    EndorsementQuality,
    EquityConversions,
    FirstWindowConversions,
}

impl Metric {
    pub const ALL: [Metric; 12] = [
        Metric::TasksAccepted,
        Metric::DaysSinceJoin,
        Metric::CriticalBugs,
        Metric::HelpfulReviews,
        Metric::ReviewAgreementPct,
        Metric::KycStatus,
        Metric::DeviceCompliantDays,
        Metric::PolicyViolations,
        Metric::EndorsementsReceived,
        Metric::EndorsementQuality,
        Metric::EquityConversions,
        Metric::FirstWindowConversions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::TasksAccepted => "tasksAccepted",
            Metric::DaysSinceJoin => "daysSinceJoin",
            Metric::CriticalBugs => "criticalBugs",
            Metric::HelpfulReviews => "helpfulReviews",
            Metric::ReviewAgreementPct => "reviewAgreementPct",
            Metric::KycStatus => "kycStatus",
            Metric::DeviceCompliantDays => "deviceCompliantDays",
            Metric::PolicyViolations => "policyViolations",
            Metric::EndorsementsReceived => "endorsementsReceived",
            Metric::EndorsementQuality => "endorsementQuality",
            Metric::EquityConversions => "equityConversions",
            Metric::FirstWindowConversions => "firstWindowConversions",
        }
    }

    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    fn is_text(self) -> bool {
        self == Metric::KycStatus
    }
}

/// The KYC statuses `kycStatus` takes (`NONE` before any report).
pub const KYC_STATUSES: [&str; 4] = ["NONE", "PENDING", "PASSED", "FAILED"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gte,
    Lte,
    Eq,
}

impl Op {
    const ALL: [Op; 3] = [Op::Gte, Op::Lte, Op::Eq];

    fn name(self) -> &'static str {
        match self {
            Op::Gte => "gte",
            Op::Lte => "lte",
            Op::Eq => "eq",
        }
    }

    fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub metric: Metric,
    pub op: Op,
    pub value: Target,
}

/// A checked rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Threshold(Vec<Condition>),
    All(Vec<Rule>),
    Any(Vec<Rule>),
    Manual,
}

/// What the hub knows of a user, for badge rules.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metrics {
    pub tasks_accepted: i64,
    pub days_since_join: i64,
    pub critical_bugs: i64,
    pub helpful_reviews: i64,
    /// Reviews the user wrote, and how many of them agreed.
    pub reviews: i64,
    pub reviews_agreed: i64,
    /// `NONE`, `PENDING`, `PASSED` or `FAILED` (the latest report).
    pub kyc_status: String,
    pub device_compliant_days: i64,
    pub policy_violations: i64,
    pub endorsements_received: i64,
    /// The sum of the ratings of the endorsements received.
    pub endorsement_rating_sum: i64,
    /// Approved equity conversions.
    pub equity_conversions: i64,
    /// Approved equity conversions in the first conversion window there ever was.
    pub first_window_conversions: i64,
}

impl Metrics {
    /// 100 × agreed / reviews (0 without reviews).
    pub fn review_agreement_pct(&self) -> f64 {
        if self.reviews == 0 {
            0.0
        } else {
            100.0 * self.reviews_agreed as f64 / self.reviews as f64
        }
    }

    /// The average rating of the endorsements received (0 without any).
    pub fn endorsement_quality(&self) -> f64 {
        if self.endorsements_received == 0 {
            0.0
        } else {
            self.endorsement_rating_sum as f64 / self.endorsements_received as f64
        }
    }

    fn value(&self, metric: Metric) -> Target {
        let n = |v: i64| Target::Number(v as f64);
        match metric {
            Metric::TasksAccepted => n(self.tasks_accepted),
            Metric::DaysSinceJoin => n(self.days_since_join),
            Metric::CriticalBugs => n(self.critical_bugs),
            Metric::HelpfulReviews => n(self.helpful_reviews),
            Metric::ReviewAgreementPct => Target::Number(self.review_agreement_pct()),
            Metric::KycStatus => Target::Text(if self.kyc_status.is_empty() {
                "NONE".to_owned()
            } else {
                self.kyc_status.clone()
            }),
            Metric::DeviceCompliantDays => n(self.device_compliant_days),
            Metric::PolicyViolations => n(self.policy_violations),
            Metric::EndorsementsReceived => n(self.endorsements_received),
            Metric::EndorsementQuality => Target::Number(self.endorsement_quality()),
            Metric::EquityConversions => n(self.equity_conversions),
            Metric::FirstWindowConversions => n(self.first_window_conversions),
        }
    }
}

impl Rule {
    /// Whether `metrics` satisfy the rule. A MANUAL rule never holds by itself.
    pub fn holds(&self, metrics: &Metrics) -> bool {
        match self {
            Rule::Threshold(conditions) => conditions.iter().all(|c| c.holds(metrics)),
            Rule::All(rules) => rules.iter().all(|r| r.holds(metrics)),
            Rule::Any(rules) => rules.iter().any(|r| r.holds(metrics)),
            Rule::Manual => false,
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Rule::Manual)
    }

    /// Whether an admin may award the badge by hand to a user with `metrics`: always, except
    /// for a COMPOSITE `all` with MANUAL among its members, which means "an admin may award it
    /// once the rest holds". (MANUAL in `any` means "or awarded by hand".)
    pub fn may_award_by_hand(&self, metrics: &Metrics) -> bool {
        match self {
            Rule::All(rules) if rules.iter().any(Rule::is_manual) => rules
                .iter()
                .filter(|r| !r.is_manual())
                .all(|r| r.holds(metrics)),
            _ => true,
        }
    }

    /// The rule in its one stored form: `{type, conditions: [{metric, op, value}]}`,
    /// `{type: "COMPOSITE", all | any: [rule]}`, `{type: "MANUAL"}`.
    pub fn to_json(&self) -> Value {
        use serde_json::json;
        match self {
            Rule::Threshold(conditions) => json!({
                "type": "THRESHOLD",
                "conditions": conditions.iter().map(Condition::to_json).collect::<Vec<_>>(),
            }),
            Rule::All(rules) => json!({
                "type": "COMPOSITE",
                "all": rules.iter().map(Rule::to_json).collect::<Vec<_>>(),
            }),
            Rule::Any(rules) => json!({
                "type": "COMPOSITE",
                "any": rules.iter().map(Rule::to_json).collect::<Vec<_>>(),
            }),
            Rule::Manual => json!({"type": "MANUAL"}),
        }
    }
}

impl Condition {
    fn to_json(&self) -> Value {
        let value = match &self.value {
            // Whole numbers as integers, as they were written.
            Target::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Value::from(*n as i64),
            Target::Number(n) => Value::from(*n),
            Target::Text(t) => Value::from(t.clone()),
        };
        serde_json::json!({"metric": self.metric.name(), "op": self.op.name(), "value": value})
    }

    fn holds(&self, metrics: &Metrics) -> bool {
        match (metrics.value(self.metric), &self.value) {
            (Target::Number(m), Target::Number(v)) => match self.op {
                Op::Gte => m >= *v - 1e-9,
                Op::Lte => m <= *v + 1e-9,
                Op::Eq => (m - v).abs() <= 1e-9,
            },
            (Target::Text(m), Target::Text(v)) => self.op == Op::Eq && &m == v,
            _ => false,
        }
    }
}

/// Checks a rule's JSON; the error names the place (`rule.all[1].conditions[0].metric`).
pub fn parse(rule: &Value) -> Result<Rule, FieldError> {
    parse_at(rule, "rule", 0)
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a serde_json::Map<String, Value>, FieldError> {
    v.as_object()
        .ok_or_else(|| FieldError::new(at, "must be an object"))
}

fn only_keys(
    map: &serde_json::Map<String, Value>,
    at: &str,
    allowed: &[&str],
) -> Result<(), FieldError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => refuse(&format!("{at}.{k}"), "unknown field"),
        None => Ok(()),
    }
}

fn list<'a>(v: Option<&'a Value>, at: &str) -> Result<&'a Vec<Value>, FieldError> {
    let items = v
        .and_then(Value::as_array)
        .ok_or_else(|| FieldError::new(at, "must be a list"))?;
    if items.is_empty() || items.len() > MAX_ITEMS {
        return refuse(at, format!("1 to {MAX_ITEMS} items"));
    }
    Ok(items)
}

fn parse_at(v: &Value, at: &str, depth: usize) -> Result<Rule, FieldError> {
    if depth > MAX_DEPTH {
        return refuse(at, format!("rules nest at most {MAX_DEPTH} deep"));
    }
    let map = object(v, at)?;
    // A bare condition (the guide's form inside COMPOSITE): a THRESHOLD of that one condition.
    if !map.contains_key("type") && map.contains_key("metric") {
        return Ok(Rule::Threshold(vec![condition(v, at)?]));
    }
    let kind = map
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| FieldError::new(format!("{at}.type"), "THRESHOLD, COMPOSITE or MANUAL"))?;
    match kind {
        "THRESHOLD" => {
            only_keys(map, at, &["type", "conditions"])?;
            let at = format!("{at}.conditions");
            let items = list(map.get("conditions"), &at)?;
            let conditions = items
                .iter()
                .enumerate()
                .map(|(i, c)| condition(c, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?;
            Ok(Rule::Threshold(conditions))
        }
        "COMPOSITE" => {
            only_keys(map, at, &["type", "all", "any"])?;
            let (key, make): (&str, fn(Vec<Rule>) -> Rule) =
                match (map.contains_key("all"), map.contains_key("any")) {
                    (true, false) => ("all", Rule::All),
                    (false, true) => ("any", Rule::Any),
                    _ => return refuse(at, "a COMPOSITE rule has exactly one of all or any"),
                };
            let at = format!("{at}.{key}");
            let items = list(map.get(key), &at)?;
            let rules: Vec<Rule> = items
                .iter()
                .enumerate()
                .map(|(i, r)| parse_at(r, &format!("{at}[{i}]"), depth + 1))
                .collect::<Result<_, _>>()?;
            if rules.iter().all(Rule::is_manual) {
                return refuse(
                    &at,
                    "a COMPOSITE of MANUAL only is MANUAL: write {\"type\": \"MANUAL\"}",
                );
            }
            Ok(make(rules))
        }
        "MANUAL" => {
            only_keys(map, at, &["type"])?;
            Ok(Rule::Manual)
        }
        other => refuse(
            &format!("{at}.type"),
            format!("unknown type {other:?}: THRESHOLD, COMPOSITE or MANUAL"),
        ),
    }
}

/// A condition: `{metric, op, value}`, or the guide's `{metric, gte | lte | eq: value}`.
fn condition(v: &Value, at: &str) -> Result<Condition, FieldError> {
    let map = object(v, at)?;
    let bare: Vec<Op> = Op::ALL
        .into_iter()
        .filter(|op| map.contains_key(op.name()))
        .collect();
    let (op_name, value) = match bare.as_slice() {
        [] => {
            only_keys(map, at, &["metric", "op", "value"])?;
            (
                map.get("op").and_then(Value::as_str).unwrap_or(""),
                map.get("value"),
            )
        }
        [op] => {
            only_keys(map, at, &["metric", op.name()])?;
            (op.name(), map.get(op.name()))
        }
        _ => return refuse(at, "one operator: gte, lte or eq"),
    };
    let name = map.get("metric").and_then(Value::as_str).unwrap_or("");
    let metric = Metric::parse(name).ok_or_else(|| {
        let known: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        FieldError::new(
            format!("{at}.metric"),
            format!("unknown metric {name:?}; one of {}", known.join(", ")),
        )
    })?;
    let op = Op::parse(op_name).ok_or_else(|| {
        FieldError::new(
            format!("{at}.op"),
            format!("unknown operator {op_name:?}; one of gte, lte, eq"),
        )
    })?;
    let value = if metric.is_text() {
        if op != Op::Eq {
            return refuse(
                &format!("{at}.op"),
                format!("{} takes eq only", metric.name()),
            );
        }
        match value.and_then(Value::as_str) {
            Some(s) if KYC_STATUSES.contains(&s) => Target::Text(s.to_owned()),
            _ => {
                return refuse(
                    &format!("{at}.value"),
                    format!("one of {}", KYC_STATUSES.join(", ")),
                );
            }
        }
    } else {
        match value.and_then(Value::as_f64) {
            Some(n) if n.is_finite() => Target::Number(n),
            _ => return refuse(&format!("{at}.value"), "must be a number"),
        }
    };
    Ok(Condition { metric, op, value })
}

/// A badge the hub seeds: code, name, description, rule.
pub struct Seed {
    pub code: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub rule: &'static str,
}

/// The platform guide's six badges.
pub const SEEDED: [Seed; 6] = [
    Seed {
        code: "early_contributor",
        name: "Early Contributor",
        description: "5 tasks accepted within 90 days of joining",
        rule: r#"{"type":"THRESHOLD","conditions":[{"metric":"tasksAccepted","op":"gte","value":5},{"metric":"daysSinceJoin","op":"lte","value":90}]}"#,
    },
    Seed {
        code: "bug_hunter_bronze",
        name: "Bug Hunter Bronze",
        description: "3 critical bugs found",
        rule: r#"{"type":"THRESHOLD","conditions":[{"metric":"criticalBugs","op":"gte","value":3}]}"#,
    },
    Seed {
        code: "top_reviewer",
        name: "Top Reviewer",
        description: "50 helpful reviews with at least 80 % agreement",
        rule: r#"{"type":"THRESHOLD","conditions":[{"metric":"helpfulReviews","op":"gte","value":50},{"metric":"reviewAgreementPct","op":"gte","value":80}]}"#,
    },
    Seed {
        code: "security_champion",
        name: "Security Champion",
        description: "KYC passed, 90 compliant device days, no policy violation",
        rule: r#"{"type":"THRESHOLD","conditions":[{"metric":"kycStatus","op":"eq","value":"PASSED"},{"metric":"deviceCompliantDays","op":"gte","value":90},{"metric":"policyViolations","op":"eq","value":0}]}"#,
    },
    Seed {
        code: "equity_pioneer",
        name: "Equity Pioneer",
        description: "An equity conversion approved in the first conversion window",
        rule: r#"{"type":"THRESHOLD","conditions":[{"metric":"firstWindowConversions","op":"gte","value":1}]}"#,
    },
    Seed {
        code: "community_builder",
        name: "Community Builder",
        description: "10 endorsements received with an average rating of at least 4.0",
        rule: r#"{"type":"THRESHOLD","conditions":[{"metric":"endorsementsReceived","op":"gte","value":10},{"metric":"endorsementQuality","op":"gte","value":4.0}]}"#,
    },
];

/// Badge codes: 1 to 40 characters of `a-z`, `0-9`, `_` and `-`.
pub fn check_code(code: &str) -> Result<(), FieldError> {
    let ok = (1..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        refuse("code", "1 to 40 characters of a-z, 0-9, _ and -")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seeded(code: &str) -> Rule {
        let seed = SEEDED.iter().find(|s| s.code == code).unwrap();
        parse(&serde_json::from_str(seed.rule).unwrap()).unwrap()
    }

    #[test]
    fn every_seeded_rule_parses() {
        for seed in &SEEDED {
            check_code(seed.code).unwrap();
            parse(&serde_json::from_str(seed.rule).unwrap()).unwrap();
        }
    }

    #[test]
    fn each_seeded_badge_both_ways() {
        let base = Metrics::default();
        // Early Contributor: 5 tasks, at most 90 days in.
        let r = seeded("early_contributor");
        let m = |tasks, days| Metrics {
            tasks_accepted: tasks,
            days_since_join: days,
            ..base.clone()
        };
        assert!(r.holds(&m(5, 0)));
        assert!(r.holds(&m(7, 90)));
        assert!(!r.holds(&m(4, 10)));
        assert!(!r.holds(&m(5, 91)));
        // Bug Hunter Bronze.
        let r = seeded("bug_hunter_bronze");
        assert!(r.holds(&Metrics {
            critical_bugs: 3,
            ..base.clone()
        }));
        assert!(!r.holds(&Metrics {
            critical_bugs: 2,
            ..base.clone()
        }));
        // Top Reviewer: 50 helpful, 80 % agreement.
        let r = seeded("top_reviewer");
        let m = |helpful, reviews, agreed| Metrics {
            helpful_reviews: helpful,
            reviews,
            reviews_agreed: agreed,
            ..base.clone()
        };
        assert!(r.holds(&m(50, 50, 40)));
        assert!(!r.holds(&m(50, 50, 39))); // 78 %
        assert!(!r.holds(&m(49, 49, 49)));
        // Security Champion: KYC passed, 90 compliant days, no violation.
        let r = seeded("security_champion");
        let m = |kyc: &str, days, violations| Metrics {
            kyc_status: kyc.into(),
            device_compliant_days: days,
            policy_violations: violations,
            ..base.clone()
        };
        assert!(r.holds(&m("PASSED", 90, 0)));
        assert!(!r.holds(&m("PENDING", 90, 0)));
        assert!(!r.holds(&m("", 90, 0)));
        assert!(!r.holds(&m("PASSED", 89, 0)));
        assert!(!r.holds(&m("PASSED", 120, 1)));
        // Equity Pioneer: an approved conversion in the first window.
        let r = seeded("equity_pioneer");
        assert!(r.holds(&Metrics {
            first_window_conversions: 1,
            equity_conversions: 1,
            ..base.clone()
        }));
        assert!(!r.holds(&Metrics {
            equity_conversions: 3,
            ..base.clone()
        }));
        // Community Builder: 10 endorsements averaging at least 4.
        let r = seeded("community_builder");
        let m = |n, sum| Metrics {
            endorsements_received: n,
            endorsement_rating_sum: sum,
            ..base.clone()
        };
        assert!(r.holds(&m(10, 40)));
        assert!(!r.holds(&m(10, 39)));
        assert!(!r.holds(&m(9, 45)));
    }

    #[test]
    fn composites_nest_and_manual_never_holds() {
        let rule = parse(&json!({"type": "COMPOSITE", "any": [
            {"type": "THRESHOLD", "conditions": [{"metric": "criticalBugs", "op": "gte", "value": 10}]},
            {"type": "COMPOSITE", "all": [
                {"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "op": "eq", "value": 2}]},
                {"type": "THRESHOLD", "conditions": [{"metric": "policyViolations", "op": "lte", "value": 0}]}
            ]}
        ]}))
        .unwrap();
        let m = |bugs, tasks, v| Metrics {
            critical_bugs: bugs,
            tasks_accepted: tasks,
            policy_violations: v,
            ..Metrics::default()
        };
        assert!(rule.holds(&m(10, 0, 5)));
        assert!(rule.holds(&m(0, 2, 0)));
        assert!(!rule.holds(&m(0, 2, 1)));
        assert!(!rule.holds(&m(9, 3, 0)));
        assert!(
            !parse(&json!({"type": "MANUAL"}))
                .unwrap()
                .holds(&m(99, 99, 0))
        );
    }

    #[test]
    fn the_validator_names_what_is_wrong() {
        for (rule, field) in [
            (json!({"type": "SOMETIMES"}), "rule.type"),
            (json!({}), "rule.type"),
            (json!([]), "rule"),
            (json!({"type": "THRESHOLD"}), "rule.conditions"),
            (
                json!({"type": "THRESHOLD", "conditions": []}),
                "rule.conditions",
            ),
            (
                json!({"type": "THRESHOLD", "conditions": [{"metric": "karma", "op": "gte", "value": 1}]}),
                "rule.conditions[0].metric",
            ),
            (
                json!({"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "op": "gt", "value": 1}]}),
                "rule.conditions[0].op",
            ),
            (
                json!({"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "op": "gte", "value": "5"}]}),
                "rule.conditions[0].value",
            ),
            (
                json!({"type": "THRESHOLD", "conditions": [{"metric": "kycStatus", "op": "gte", "value": "PASSED"}]}),
                "rule.conditions[0].op",
            ),
            (
                json!({"type": "THRESHOLD", "conditions": [{"metric": "kycStatus", "op": "eq", "value": "OK"}]}),
                "rule.conditions[0].value",
            ),
            (
                json!({"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "op": "gte", "value": 1, "x": 1}]}),
                "rule.conditions[0].x",
            ),
            (json!({"type": "COMPOSITE"}), "rule"),
            (json!({"type": "COMPOSITE", "all": [], "any": []}), "rule"),
            (
                json!({"type": "COMPOSITE", "all": [{"type": "MANUAL"}]}),
                "rule.all",
            ),
            (
                json!({"type": "COMPOSITE", "all": [{"metric": "tasksAccepted", "gte": 1, "lte": 9}]}),
                "rule.all[0]",
            ),
            (
                json!({"type": "COMPOSITE", "all": [{"metric": "tasksAccepted", "gte": 1, "value": 9}]}),
                "rule.all[0].value",
            ),
            (
                json!({"type": "COMPOSITE", "any": [{"type": "THRESHOLD", "conditions": [{"metric": "x", "op": "eq", "value": 1}]}]}),
                "rule.any[0].conditions[0].metric",
            ),
            (json!({"type": "MANUAL", "note": 1}), "rule.note"),
        ] {
            assert_eq!(parse(&rule).unwrap_err().field, field, "{rule}");
        }
        // Nesting is bounded.
        let mut deep = json!({"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "op": "gte", "value": 1}]});
        for _ in 0..=MAX_DEPTH {
            deep = json!({"type": "COMPOSITE", "all": [deep]});
        }
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn the_guides_own_forms_are_read_and_stored_in_one() {
        // The guide writes conditions as {metric, <op>: value} and COMPOSITE members as bare
        // conditions; both read as the {metric, op, value} form, which is what is stored.
        let guide =
            json!({"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "gte": 5}]});
        let ours = json!({"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "op": "gte", "value": 5}]});
        assert_eq!(parse(&guide).unwrap(), parse(&ours).unwrap());
        assert_eq!(parse(&guide).unwrap().to_json(), ours);
        let composite = json!({"type": "COMPOSITE", "all": [
            {"metric": "kycStatus", "eq": "PASSED"},
            {"metric": "deviceCompliantDays", "gte": 90},
            {"type": "THRESHOLD", "conditions": [{"metric": "policyViolations", "op": "eq", "value": 0}]},
        ]});
        let stored = parse(&composite).unwrap().to_json();
        assert_eq!(
            stored,
            json!({"type": "COMPOSITE", "all": [
                {"type": "THRESHOLD", "conditions": [{"metric": "kycStatus", "op": "eq", "value": "PASSED"}]},
                {"type": "THRESHOLD", "conditions": [{"metric": "deviceCompliantDays", "op": "gte", "value": 90}]},
                {"type": "THRESHOLD", "conditions": [{"metric": "policyViolations", "op": "eq", "value": 0}]},
            ]})
        );
        assert_eq!(
            parse(&stored).unwrap(),
            parse(&composite).unwrap(),
            "stored form reads back"
        );
        assert_eq!(
            parse(&json!({"type": "THRESHOLD", "conditions": [{"metric": "endorsementQuality", "gte": 4.5}]}))
                .unwrap()
                .to_json()["conditions"][0]["value"],
            json!(4.5)
        );
    }

    #[test]
    fn manual_inside_composite_means_or_by_hand_in_any_and_once_the_rest_holds_in_all() {
        let tasks = |n| Metrics {
            tasks_accepted: n,
            ..Metrics::default()
        };
        let any = parse(&json!({"type": "COMPOSITE", "any": [
            {"metric": "tasksAccepted", "gte": 10}, {"type": "MANUAL"}]}))
        .unwrap();
        // (tasks, holds by itself, an admin may award it)
        for (n, holds, by_hand) in [(10, true, true), (3, false, true)] {
            assert_eq!(
                (any.holds(&tasks(n)), any.may_award_by_hand(&tasks(n))),
                (holds, by_hand),
                "any {n}"
            );
        }
        let all = parse(&json!({"type": "COMPOSITE", "all": [
            {"metric": "tasksAccepted", "gte": 10}, {"type": "MANUAL"}]}))
        .unwrap();
        for (n, holds, by_hand) in [(10, false, true), (3, false, false)] {
            assert_eq!(
                (all.holds(&tasks(n)), all.may_award_by_hand(&tasks(n))),
                (holds, by_hand),
                "all {n}"
            );
        }
        // A plain rule or MANUAL: an admin awards it whatever the metrics.
        let plain = parse(
            &json!({"type": "THRESHOLD", "conditions": [{"metric": "tasksAccepted", "gte": 10}]}),
        )
        .unwrap();
        assert!(plain.may_award_by_hand(&tasks(0)));
        assert!(Rule::Manual.may_award_by_hand(&tasks(0)));
    }

    #[test]
    fn codes() {
        for good in ["a", "top_reviewer", "bug-hunter-2"] {
            assert!(check_code(good).is_ok());
        }
        for bad in ["", "Top", "a b", &"x".repeat(41)] {
            assert!(check_code(bad).is_err());
        }
    }
}
