//! The BUZ economy's rules: issuance and its gates, the per-wallet ledger chain and its walk,
//! equity from a conversion, and the quarterly conversion windows.
//!
//! # Issuance
//! `buz = round(tierBase[tier] × quality × clamp(sqrt(reviewer_trust / 100), 0.7, 1.1))`,
//! tier bases S 400, A 150, B 80, C 50. Gates, in order: KYC `PASSED` (when required), reputation
//! at least the minimum, the latest device report not non-compliant, at most N credits in the
//! last hour (velocity), and a daily cap per UTC day: a credit that would cross the cap is
//! credited up to it, and the rest is withheld with the reason `daily_cap`.
//!
//! # The ledger chain
//! Each entry's payload is `{wallet_id}:{amount}:{type}:{created_at}:{seq}:{balance_after}:{refs}`
//! where `created_at` is Unix milliseconds and `refs` is the JSON array
//! `[task_id, review_id, conversion_id, note]` (absent ones `null`; JSON as `serde_json` writes it,
//! no spaces). The first six fields hold no `:`, and the JSON array is unambiguous, so no field
//! can change unnoticed. `hash` = lowercase hex SHA-256 of `prev_hash + ":" + payload`, or of
//! `payload` alone for a wallet's first entry.
//!
//! # Amounts
//! `EARN` adds to the balance; `LOCK` moves BUZ from available to pending (the balance stays);
//! `UNLOCK` gives it back; `SPEND` takes locked BUZ out of the balance; `ADJUST` adds a signed
//! amount (an admin's correction). `balance_after` is the balance after the entry.

use crate::audit::{Broken, Head, Recorded, gap, is_recorded, short_of_head};
use crate::gamification::{credibility, round};
use sha2::{Digest, Sha256};

/// The BUZ base of a task tier.
pub fn tier_base(tier: &str) -> Option<f64> {
    match tier {
        "S" => Some(400.0),
        "A" => Some(150.0),
        "B" => Some(80.0),
        "C" => Some(50.0),
        _ => None,
    }
}

/// BUZ for an accepted task (0 for an unknown tier).
pub fn task_buz(tier: &str, quality: f64, reviewer_trust: f64) -> i64 {
    tier_base(tier)
        .map(|b| round(b * quality * credibility(reviewer_trust)))
        .unwrap_or(0)
}

/// The issuance gates' settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Gates {
    pub require_kyc: bool,
    pub min_reputation: f64,
    pub max_credits_per_hour: i64,
    pub daily_cap: i64,
}

impl Gates {
    /// The defaults (the `HUB_BUZ_*` flags start from them).
    pub const DEFAULT: Gates = Gates {
        require_kyc: true,
        min_reputation: 60.0,
        max_credits_per_hour: 20,
        daily_cap: 2000,
    };
}

impl Default for Gates {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the gates look at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Standing {
    pub kyc_status: String,
    pub reputation: f64,
    /// The latest device report's compliance (`None` without any).
    pub device_compliant: Option<bool>,
    /// Credits in the last hour.
    pub credits_last_hour: i64,
    /// BUZ credited today (UTC).
    pub credited_today: i64,
}

/// Why BUZ was withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withheld {
    Kyc,
    Reputation,
    Device,
    Velocity,
    DailyCap,
    /// The wallet holds [`MAX_BUZ`]: what would pass it is withheld.
    BalanceLimit,
}

/// The most BUZ a wallet holds, and the largest amount of one entry: 2^53 - 1, so that a
/// JavaScript client reads every balance exactly.
pub const MAX_BUZ: i64 = (1 << 53) - 1;

/// Why an entry cannot be appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It would take the balance or the lock below zero, or the lock above the balance.
    NotEnough { available: i64 },
    /// It would take the balance past [`MAX_BUZ`], or its amount is past it.
    OverLimit,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotEnough { available } => write!(f, "not enough BUZ: {available} available"),
            Refusal::OverLimit => write!(
                f,
                "a wallet holds at most {MAX_BUZ} BUZ (2^53 - 1), and one entry moves at most as much"
            ),
        }
    }
}

impl Withheld {
    pub fn as_str(self) -> &'static str {
        match self {
            Withheld::Kyc => "kyc",
            Withheld::Reputation => "reputation",
            Withheld::Device => "device",
            Withheld::Velocity => "velocity",
            Withheld::DailyCap => "daily_cap",
            Withheld::BalanceLimit => "balance_limit",
        }
    }
}

/// The outcome of a credit: what is credited, what is withheld and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issue {
    pub computed: i64,
    pub credited: i64,
    pub withheld: i64,
    pub reason: Option<Withheld>,
}

/// Where the issuance gates' windows begin at `now_ms` (Unix ms): the last hour, in which a
/// credit exactly an hour old no longer counts, and the UTC day.
pub fn issuance_windows(now_ms: i64) -> (i64, i64) {
    const HOUR_MS: i64 = 3_600_000;
    (
        now_ms - HOUR_MS + 1,
        crate::gamification::day_start_ms(crate::gamification::utc_day(now_ms)),
    )
}

/// Applies the gates to a credit of `computed` BUZ.
pub fn issue(computed: i64, gates: &Gates, s: &Standing) -> Issue {
    let refuse = |reason| Issue {
        computed,
        credited: 0,
        withheld: computed,
        reason: Some(reason),
    };
    if gates.require_kyc && s.kyc_status != "PASSED" {
        return refuse(Withheld::Kyc);
    }
    if s.reputation + 1e-9 < gates.min_reputation {
        return refuse(Withheld::Reputation);
    }
    if s.device_compliant == Some(false) {
        return refuse(Withheld::Device);
    }
    if s.credits_last_hour >= gates.max_credits_per_hour {
        return refuse(Withheld::Velocity);
    }
    let room = (gates.daily_cap - s.credited_today).max(0);
    if computed > room {
        return Issue {
            computed,
            credited: room,
            withheld: computed - room,
            reason: Some(Withheld::DailyCap),
        };
    }
    Issue {
        computed,
        credited: computed,
        withheld: 0,
        reason: None,
    }
}

/// Whether `decider` may approve or reject `requester`'s conversion request: the venture's
/// owners (its board) or an admin (`privileged`), and never the requester, whatever their role,
/// so a one-owner venture's own owner's requests go to the admins.
pub fn may_decide_conversion(
    requester: &str,
    decider: &str,
    decider_is_owner: bool,
    privileged: bool,
) -> Result<(), &'static str> {
    if requester == decider {
        return Err(
            "a requester never decides her own conversion request: another owner of the venture or an admin does",
        );
    }
    if !decider_is_owner && !privileged {
        return Err("the venture's owners (its board) or an admin decide conversions");
    }
    Ok(())
}

/// Basis points of a venture's equity for `buz` at `rate_bps` per 1,000 BUZ, rounded down.
pub fn equity_bp(buz: i64, rate_bps: i64) -> i64 {
    (buz.saturating_mul(rate_bps)).div_euclid(1000)
}

/// A ledger entry's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Earn,
    Lock,
    Unlock,
    Spend,
    Adjust,
}

impl EntryType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryType::Earn => "EARN",
            EntryType::Lock => "LOCK",
            EntryType::Unlock => "UNLOCK",
            EntryType::Spend => "SPEND",
            EntryType::Adjust => "ADJUST",
        }
    }

    pub fn parse(s: &str) -> Option<EntryType> {
        [
            EntryType::Earn,
            EntryType::Lock,
            EntryType::Unlock,
            EntryType::Spend,
            EntryType::Adjust,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// The balance and pending lock after an entry of `amount` on a wallet at `balance` and
    /// `pending`, in checked arithmetic within [`MAX_BUZ`].
    pub fn apply(self, balance: i64, pending: i64, amount: i64) -> Result<(i64, i64), Refusal> {
        if amount.checked_abs().is_none_or(|a| a > MAX_BUZ) {
            return Err(Refusal::OverLimit);
        }
        let (db, dp) = self.moves(amount);
        let (Some(b), Some(p)) = (balance.checked_add(db), pending.checked_add(dp)) else {
            return Err(Refusal::OverLimit);
        };
        if b > MAX_BUZ {
            return Err(Refusal::OverLimit);
        }
        if b < 0 || p < 0 || p > b {
            return Err(Refusal::NotEnough {
                available: (balance - pending).max(0),
            });
        }
        Ok((b, p))
    }

    /// How the entry moves (balance, pending lock).
    pub fn moves(self, amount: i64) -> (i64, i64) {
        match self {
            EntryType::Earn | EntryType::Adjust => (amount, 0),
            EntryType::Lock => (0, amount),
            EntryType::Unlock => (0, -amount),
            EntryType::Spend => (-amount, -amount),
        }
    }
}

/// A ledger entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub wallet_id: String,
    pub seq: i64,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub task_id: Option<String>,
    pub review_id: Option<String>,
    pub conversion_id: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
    pub prev_hash: Option<String>,
    pub hash: String,
}

/// The payload an entry's hash covers.
pub fn payload(e: &Entry) -> String {
    let refs = serde_json::json!([e.task_id, e.review_id, e.conversion_id, e.note]);
    format!(
        "{}:{}:{}:{}:{}:{}:{}",
        e.wallet_id, e.amount, e.kind, e.created_at, e.seq, e.balance_after, refs
    )
}

/// The hash an entry must carry.
pub fn expected_hash(e: &Entry) -> String {
    let input = match &e.prev_hash {
        Some(prev) => format!("{prev}:{}", payload(e)),
        None => payload(e),
    };
    hex(&Sha256::digest(input.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a walk of a wallet's ledger found.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    /// The first finding no reanchor records: its seq, id, why and fingerprint.
    pub first_broken: Option<Broken>,
    /// The balance and pending lock the amounts add up to (across a recorded break, from the
    /// entry's `balance_after` as stored).
    pub balance: i64,
    pub pending: i64,
    /// Seqs of breaks that reanchors record.
    pub reanchored: Vec<i64>,
}

/// What a ledger entry is, as stored.
pub fn entry_fingerprint(e: &Entry) -> String {
    crate::audit::fingerprint(&[
        &e.id,
        &payload(e),
        e.prev_hash.as_deref().unwrap_or(""),
        &e.hash,
    ])
}

/// Walks `entries` (in seq order): seqs from 1 without gaps, each `prev_hash` the previous
/// `hash`, each `hash` recomputed, each `balance_after` what the amounts add up to, and neither
/// the balance nor the lock ever below zero or the lock above the balance.
pub fn walk(entries: &[Entry]) -> Walk {
    walk_against(entries, None, &[])
}

/// Walks like [`walk`], then compares the end with the wallet's head (`seq`, `head_hash`): a
/// ledger whose last entries were cut ends short of it. Findings that `recorded` holds with
/// the same fingerprint are passed over (the walk goes on from the entry as stored).
pub fn walk_against(entries: &[Entry], head: Option<&Head>, recorded: &[Recorded]) -> Walk {
    let (mut balance, mut pending) = (0i64, 0i64);
    let mut prev: Option<&Entry> = None;
    let mut reanchored = Vec::new();
    let mut finding = None;
    for e in entries {
        let expected_seq = prev.map_or(1, |p| p.seq + 1);
        let broken = |why: &str| {
            Some(Broken {
                seq: e.seq,
                id: e.id.clone(),
                reason: why.to_owned(),
                fingerprint: entry_fingerprint(e),
            })
        };
        let mut why = if e.seq > expected_seq {
            let cut = gap(
                expected_seq - 1,
                prev.map(|p| p.hash.as_str()),
                e.seq,
                e.prev_hash.as_deref(),
            );
            if is_recorded(recorded, &cut) {
                reanchored.push(cut.seq);
                None
            } else {
                Some(cut)
            }
        } else if e.seq != expected_seq {
            broken("seq is not the next one")
        } else if e.prev_hash.as_deref() != prev.map(|p| p.hash.as_str()) {
            broken("prev_hash is not the previous entry's hash")
        } else {
            None
        };
        if why.is_none() {
            why = if expected_hash(e) != e.hash {
                broken("hash does not match the entry")
            } else if let Some(kind) = EntryType::parse(&e.kind) {
                match kind.apply(balance, pending, e.amount) {
                    Ok((b, p)) if b == e.balance_after => {
                        (balance, pending) = (b, p);
                        None
                    }
                    Ok(_) => broken("balance_after is not what the amounts add up to"),
                    Err(Refusal::NotEnough { .. }) => {
                        broken("the amounts take the wallet below zero")
                    }
                    Err(Refusal::OverLimit) => broken("the amounts take the wallet past its bound"),
                }
            } else {
                broken("unknown entry type")
            };
        }
        if let Some(b) = why {
            if !is_recorded(recorded, &b) {
                finding = Some(b);
                break;
            }
            // Recorded: go on from the entry as stored.
            reanchored.push(b.seq);
            balance = e.balance_after.clamp(0, MAX_BUZ);
            pending = pending.clamp(0, balance);
        }
        prev = Some(e);
    }
    if finding.is_none()
        && let Some(head) = head
    {
        let (last_seq, last_hash) = prev.map_or((0, None), |p| (p.seq, Some(p.hash.as_str())));
        if head.seq != last_seq || head.hash.as_deref() != last_hash {
            let b = short_of_head(
                "the ledger",
                last_seq,
                last_hash,
                head.seq,
                head.hash.as_deref(),
            );
            if is_recorded(recorded, &b) {
                reanchored.push(b.seq);
            } else {
                finding = Some(b);
            }
        }
    }
    Walk {
        first_broken: finding,
        balance,
        pending,
        reanchored,
    }
}

/// Conversion window statuses.
pub const SCHEDULED: &str = "SCHEDULED";
pub const OPEN: &str = "OPEN";
pub const CLOSED: &str = "CLOSED";
pub const FINALIZED: &str = "FINALIZED";

/// The status a window should have at `now` (Unix ms), given its current one: windows only move
/// forward, SCHEDULED → OPEN → CLOSED → FINALIZED; a CLOSED window is FINALIZED on the run
/// after it closed (its requests are settled by then).
pub fn next_status(current: &str, opens_at: i64, closes_at: i64, now: i64) -> &'static str {
    match current {
        SCHEDULED if now >= closes_at => CLOSED,
        SCHEDULED if now >= opens_at => OPEN,
        SCHEDULED => SCHEDULED,
        OPEN if now >= closes_at => CLOSED,
        OPEN => OPEN,
        CLOSED => FINALIZED,
        _ => FINALIZED,
    }
}

/// The quarter after the one holding `now`: (name, start ms, end ms), UTC.
pub fn next_quarter(now_ms: i64) -> (String, i64, i64) {
    let (y, m) = year_month(now_ms);
    let q = (m - 1) / 3; // 0..=3
    let (ny, nq) = if q == 3 { (y + 1, 0) } else { (y, q + 1) };
    let start = month_start_ms(ny, nq * 3 + 1);
    let (ey, em) = if nq == 3 {
        (ny + 1, 1)
    } else {
        (ny, nq * 3 + 4)
    };
    (format!("{ny}-Q{}", nq + 1), start, month_start_ms(ey, em))
}

/// The civil year and month (1–12) of Unix ms, UTC.
fn year_month(ms: i64) -> (i64, i64) {
    let days = ms.div_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m)
}

/// Unix ms at 00:00 UTC on the first of month `m` of year `y`.
fn month_start_ms(y: i64, m: i64) -> i64 {
    // days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::CUT;

    #[test]
    fn issuance_windows_start_an_hour_back_and_at_utc_midnight() {
        // 2026-12-01T00:00Z is day 20423; at 01:30 the hour began at 00:30:00.001.
        let midnight = 20_423 * 86_400_000;
        let at = midnight + 5_400_000;
        assert_eq!(issuance_windows(at), (midnight + 1_800_001, midnight));
        // At midnight itself the hour reaches back into the day before; the day starts now.
        assert_eq!(issuance_windows(midnight), (midnight - 3_599_999, midnight));
        // A millisecond before midnight is still the day before.
        assert_eq!(issuance_windows(midnight - 1).1, midnight - 86_400_000);
    }

    #[test]
    fn the_formula_table() {
        // Every tier at quality 0.6, 1.0, 1.4 and trust 25, 81, 100, 144 (credibility 0.7, 0.9,
        // 1.0, 1.1), by hand.
        let table: [(&str, [i64; 12]); 4] = [
            (
                "S",
                [168, 216, 240, 264, 280, 360, 400, 440, 392, 504, 560, 616],
            ),
            (
                "A",
                [63, 81, 90, 99, 105, 135, 150, 165, 147, 189, 210, 231],
            ),
            // 33.6, 43.2, 48, 52.8, 56, 72, 80, 88, 78.4, 100.8, 112, 123.2
            ("B", [34, 43, 48, 53, 56, 72, 80, 88, 78, 101, 112, 123]),
            ("C", [21, 27, 30, 33, 35, 45, 50, 55, 49, 63, 70, 77]),
        ];
        for (tier, values) in table {
            let mut i = 0;
            for quality in [0.6, 1.0, 1.4] {
                for trust in [25.0, 81.0, 100.0, 144.0] {
                    assert_eq!(
                        task_buz(tier, quality, trust),
                        values[i],
                        "{tier} {quality} {trust}"
                    );
                    i += 1;
                }
            }
        }
        assert_eq!(task_buz("X", 1.0, 100.0), 0);
    }

    fn ok() -> Standing {
        Standing {
            kyc_status: "PASSED".into(),
            reputation: 60.0,
            device_compliant: Some(true),
            credits_last_hour: 0,
            credited_today: 0,
        }
    }

    #[test]
    fn each_gate_and_the_cap() {
        let g = Gates::default();
        let full = |s: &Standing| issue(400, &g, s);
        assert_eq!(
            full(&ok()),
            Issue {
                computed: 400,
                credited: 400,
                withheld: 0,
                reason: None
            }
        );
        for (s, reason) in [
            (
                Standing {
                    kyc_status: "PENDING".into(),
                    ..ok()
                },
                Withheld::Kyc,
            ),
            (
                Standing {
                    kyc_status: "NONE".into(),
                    ..ok()
                },
                Withheld::Kyc,
            ),
            (
                Standing {
                    reputation: 59.999,
                    ..ok()
                },
                Withheld::Reputation,
            ),
            (
                Standing {
                    device_compliant: Some(false),
                    ..ok()
                },
                Withheld::Device,
            ),
            (
                Standing {
                    credits_last_hour: 20,
                    ..ok()
                },
                Withheld::Velocity,
            ),
            (
                Standing {
                    credited_today: 2000,
                    ..ok()
                },
                Withheld::DailyCap,
            ),
        ] {
            let out = full(&s);
            assert_eq!(
                (out.credited, out.withheld, out.reason),
                (0, 400, Some(reason)),
                "{s:?}"
            );
        }
        // No device report yet is not a non-compliant one; 19 credits this hour pass.
        assert_eq!(
            full(&Standing {
                device_compliant: None,
                credits_last_hour: 19,
                ..ok()
            })
            .credited,
            400
        );
        // Crossing the cap credits up to it.
        let out = full(&Standing {
            credited_today: 1800,
            ..ok()
        });
        assert_eq!(
            (out.credited, out.withheld, out.reason),
            (200, 200, Some(Withheld::DailyCap))
        );
        let out = full(&Standing {
            credited_today: 1600,
            ..ok()
        });
        assert_eq!(
            (out.credited, out.withheld, out.reason),
            (400, 0, None),
            "exactly at the cap"
        );
        // KYC is not needed when the gate is off.
        let lax = Gates {
            require_kyc: false,
            ..Gates::default()
        };
        assert_eq!(
            issue(
                50,
                &lax,
                &Standing {
                    kyc_status: "FAILED".into(),
                    ..ok()
                }
            )
            .credited,
            50
        );
    }

    #[test]
    fn entries_stay_within_the_bound_in_checked_arithmetic() {
        use EntryType::*;
        let max = MAX_BUZ;
        assert_eq!(max, 9_007_199_254_740_991);
        // (kind, balance, pending, amount, expected)
        let table = [
            (Earn, 0, 0, 10, Ok((10, 0))),
            (Earn, max - 1, 0, 1, Ok((max, 0))),
            (Earn, max, 0, 1, Err(Refusal::OverLimit)),
            (Adjust, 0, 0, max, Ok((max, 0))),
            (Adjust, 0, 0, max + 1, Err(Refusal::OverLimit)),
            (Adjust, 5, 0, i64::MAX, Err(Refusal::OverLimit)),
            (Adjust, 5, 0, i64::MIN, Err(Refusal::OverLimit)),
            (Adjust, 5, 0, -6, Err(Refusal::NotEnough { available: 5 })),
            (Adjust, 5, 0, -5, Ok((0, 0))),
            (Lock, 10, 4, 6, Ok((10, 10))),
            (Lock, 10, 4, 7, Err(Refusal::NotEnough { available: 6 })),
            (Unlock, 10, 4, 5, Err(Refusal::NotEnough { available: 6 })),
            (Spend, 10, 4, 4, Ok((6, 0))),
        ];
        for (kind, balance, pending, amount, expected) in table {
            assert_eq!(
                kind.apply(balance, pending, amount),
                expected,
                "{kind:?} {balance} {pending} {amount}"
            );
        }
        // A ledger whose amounts would wrap is broken, not a panic or a wrapped balance.
        let first = entry(1, Adjust, max, max, None);
        let second = entry(2, Adjust, i64::MAX, 0, Some(first.hash.clone()));
        let w = walk(&[first, second]);
        assert_eq!(w.first_broken.map(|b| b.seq), Some(2));
        assert_eq!(w.balance, max);
    }

    #[test]
    fn nobody_decides_her_own_conversion() {
        // (requester, decider, decider is an owner, decider is an admin, allowed)
        for (req, by, owner, admin, ok) in [
            ("ann", "bob", true, false, true),
            ("ann", "ops", false, true, true),
            ("ann", "ann", true, false, false),
            ("ann", "ann", true, true, false),
            ("ann", "ann", false, true, false),
            ("ann", "bob", false, false, false),
        ] {
            assert_eq!(
                may_decide_conversion(req, by, owner, admin).is_ok(),
                ok,
                "{req} {by} {owner} {admin}"
            );
        }
    }

    #[test]
    fn equity_is_rounded_down() {
        assert_eq!(equity_bp(1000, 25), 25);
        assert_eq!(equity_bp(999, 25), 24); // 24.975
        assert_eq!(equity_bp(40, 25), 1);
        assert_eq!(equity_bp(39, 25), 0);
    }

    fn entry(
        seq: i64,
        kind: EntryType,
        amount: i64,
        balance_after: i64,
        prev: Option<String>,
    ) -> Entry {
        let mut e = Entry {
            id: format!("e{seq}"),
            wallet_id: "w1".into(),
            seq,
            kind: kind.as_str().into(),
            amount,
            balance_after,
            task_id: (kind == EntryType::Earn).then(|| format!("t{seq}")),
            review_id: None,
            conversion_id: None,
            note: Some("a:b \"c\"".into()),
            created_at: 1_700_000_000_000 + seq,
            prev_hash: prev,
            hash: String::new(),
        };
        e.hash = expected_hash(&e);
        e
    }

    fn chain() -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for (kind, amount, after) in [
            (EntryType::Earn, 400, 400),
            (EntryType::Lock, 300, 400),
            (EntryType::Spend, 300, 100),
            (EntryType::Earn, 50, 150),
            (EntryType::Lock, 100, 150),
            (EntryType::Unlock, 100, 150),
            (EntryType::Adjust, -20, 130),
        ] {
            let prev = out.last().map(|e| e.hash.clone());
            out.push(entry(out.len() as i64 + 1, kind, amount, after, prev));
        }
        out
    }

    #[test]
    fn the_payload_and_the_hash() {
        let e = &chain()[0];
        assert_eq!(
            payload(e),
            r#"w1:400:EARN:1700000000001:1:400:["t1",null,null,"a:b \"c\""]"#
        );
        // sha256("w1:400:EARN:...") with no prev_hash.
        assert_eq!(e.hash, hex(&Sha256::digest(payload(e).as_bytes())));
        assert_eq!(e.hash.len(), 64);
    }

    #[test]
    fn the_walk_finds_the_first_broken_entry() {
        let good = chain();
        let w = walk(&good);
        assert_eq!((w.first_broken, w.balance, w.pending), (None, 130, 0));
        let seq = |w: Walk| w.first_broken.unwrap().seq;
        // Any field changed is caught at its entry.
        let mut bad = good.clone();
        bad[3].amount = 60;
        assert_eq!(seq(walk(&bad)), 4);
        let mut bad = good.clone();
        bad[5].note = None;
        assert_eq!(seq(walk(&bad)), 6);
        // A rehashed change breaks the next link, or the sums.
        let mut bad = good.clone();
        bad[3].amount = 60;
        bad[3].hash = expected_hash(&bad[3]);
        let found = walk(&bad).first_broken.unwrap();
        assert_eq!(found.seq, 4, "{found:?}"); // balance_after no longer adds up
        let mut bad = good.clone();
        bad.remove(2);
        let gap = walk(&bad).first_broken.unwrap();
        assert_eq!((gap.seq, gap.id.as_str()), (3, CUT), "a gap");
        // A lock beyond the balance is refused by the walk too.
        let over = vec![entry(1, EntryType::Lock, 10, 0, None)];
        assert_eq!(
            walk(&over).first_broken.unwrap().reason,
            "the amounts take the wallet below zero"
        );
    }

    #[test]
    fn a_cut_tail_is_found_against_the_head_and_a_recorded_break_is_passed_over() {
        let good = chain();
        let n = good.len() as i64;
        let head = Head {
            seq: n,
            hash: Some(good[good.len() - 1].hash.clone()),
        };
        assert_eq!(walk_against(&good, Some(&head), &[]).first_broken, None);
        // The last two entries cut: the sums may still hold, the head does not.
        let cut = good[..good.len() - 2].to_vec();
        let b = walk_against(&cut, Some(&head), &[]).first_broken.unwrap();
        assert_eq!((b.seq, b.id.as_str()), (n - 1, CUT));
        // A tampered amount, recorded: the walk goes on from the entry as stored.
        let mut bad = good.clone();
        bad[3].amount = 60;
        let b = walk_against(&bad, Some(&head), &[]).first_broken.unwrap();
        let record = Recorded {
            seq: b.seq,
            id: b.id.clone(),
            fingerprint: b.fingerprint.clone(),
        };
        let w = walk_against(&bad, Some(&head), std::slice::from_ref(&record));
        assert_eq!(
            (w.first_broken, w.balance, w.reanchored),
            (None, 130, vec![4])
        );
        // The same entry changed again is a new finding.
        bad[3].amount = 61;
        let again = walk_against(&bad, Some(&head), &[record])
            .first_broken
            .unwrap();
        assert_eq!(again.seq, 4);
    }

    #[test]
    fn windows_move_forward() {
        let (o, c) = (100, 200);
        assert_eq!(next_status(SCHEDULED, o, c, 99), SCHEDULED);
        assert_eq!(next_status(SCHEDULED, o, c, 100), OPEN);
        assert_eq!(next_status(SCHEDULED, o, c, 250), CLOSED);
        assert_eq!(next_status(OPEN, o, c, 199), OPEN);
        assert_eq!(next_status(OPEN, o, c, 200), CLOSED);
        assert_eq!(next_status(CLOSED, o, c, 201), FINALIZED);
        assert_eq!(next_status(FINALIZED, o, c, 0), FINALIZED);
    }

    #[test]
    fn quarters() {
        let ms = |y, m| month_start_ms(y, m);
        assert_eq!(ms(1970, 1), 0);
        assert_eq!(ms(2026, 12), 1_796_083_200_000); // 2026-12-01T00:00Z
        assert_eq!(year_month(ms(2026, 12) + 5), (2026, 12));
        assert_eq!(year_month(ms(2024, 3) - 1), (2024, 2));
        // Within Q4 2026 the next quarter is Q1 2027: Jan 1 to Apr 1.
        assert_eq!(
            next_quarter(ms(2026, 12) + 1000),
            ("2027-Q1".to_owned(), ms(2027, 1), ms(2027, 4))
        );
        assert_eq!(
            next_quarter(ms(2027, 1)),
            ("2027-Q2".to_owned(), ms(2027, 4), ms(2027, 7))
        );
        assert_eq!(
            next_quarter(ms(2027, 8)),
            ("2027-Q4".to_owned(), ms(2027, 10), ms(2028, 1))
        );
    }
}
