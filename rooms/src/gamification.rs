//! XP, levels and reputation: the platform guide's numbers as pure functions.
//!
//! - Levels 1–10 start at [`LEVEL_XP`].
//! - Credibility of a review = clamp(sqrt(trust / 100), 0.7, 1.1) (the BUZ clamp); the trust
//!   weight of a person = clamp(trust / 100, 0.5, 1.5).
//! - XP: a task accepted earns round(base[tier] × quality × credibility) with the bases
//!   S 100, A 40, B 20, C 12; a helpful review earns round(5 × the reviewer's trust weight);
//!   a badge 50; an endorsement round(2 × the endorser's trust weight, from their reputation),
//!   at most 20 XP a day from endorsements.
//! - Reputation, once a UTC day: rep(t+1) = 0.995 × rep(t) + min(50, dailyGain), with
//!   dailyGain = xpGain / 10 + endorsementsWeighted / 5 + badgesToday × 20 over that day.
//!   It is kept in thousandths ([`Rep`]) so that small values decay too.
//!
//! Rounding is half away from zero, on the value rounded to 9 decimals first, so that a
//! product such as 12 × 0.6 × 1.0 × … that is 7.5 on paper is 7.5 here too.

/// The XP at which each level starts: level `i + 1` starts at `LEVEL_XP[i]`.
pub const LEVEL_XP: [i64; 10] = [0, 100, 250, 500, 900, 1400, 2000, 2700, 3500, 4400];

/// XP of a badge award.
pub const BADGE_XP: i64 = 50;
/// XP a user can receive from endorsements in one UTC day.
pub const ENDORSEMENT_XP_PER_DAY: i64 = 20;
/// The most a day adds to reputation.
pub const MAX_DAILY_REP_GAIN: f64 = 50.0;

const DAY_MS: i64 = 86_400_000;

/// The level of `xp` (1 to 10).
pub fn level_for(xp: i64) -> u32 {
    LEVEL_XP.iter().filter(|&&start| xp >= start).count().max(1) as u32
}

/// The XP at which the level after `level` starts, if there is one.
pub fn next_level_xp(level: u32) -> Option<i64> {
    LEVEL_XP.get(level as usize).copied()
}

/// Rounds half away from zero, after removing floating-point noise below 1e-9.
pub fn round(x: f64) -> i64 {
    ((x * 1e9).round() / 1e9).round() as i64
}

pub fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() { lo } else { x.clamp(lo, hi) }
}

/// clamp(sqrt(trust / 100), 0.7, 1.1).
pub fn credibility(reviewer_trust: f64) -> f64 {
    clamp((reviewer_trust.max(0.0) / 100.0).sqrt(), 0.7, 1.1)
}

/// clamp(trust / 100, 0.5, 1.5).
pub fn trust_weight(trust: f64) -> f64 {
    clamp(trust / 100.0, 0.5, 1.5)
}

/// The XP base of a task tier (`S`, `A`, `B`, `C`).
pub fn task_base(tier: &str) -> Option<f64> {
    match tier {
        "S" => Some(100.0),
        "A" => Some(40.0),
        "B" => Some(20.0),
        "C" => Some(12.0),
        _ => None,
    }
}

/// XP of an accepted task: round(base × quality × credibility); 0 for an unknown tier.
pub fn task_xp(tier: &str, quality: f64, reviewer_trust: f64) -> i64 {
    task_base(tier)
        .map(|base| round(base * quality * credibility(reviewer_trust)))
        .unwrap_or(0)
}

/// XP of a review: round(5 × trust weight) when it was found helpful, else 0.
pub fn review_xp(helpful: bool, reviewer_trust: f64) -> i64 {
    if helpful {
        round(5.0 * trust_weight(reviewer_trust))
    } else {
        0
    }
}

/// XP of an endorsement from someone with reputation `endorser_rep`: round(2 × trust weight).
pub fn endorsement_xp(endorser_rep: f64) -> i64 {
    round(2.0 * trust_weight(endorser_rep))
}

/// What an endorsement worth `xp` credits when `today` XP came from endorsements already today.
pub fn endorsement_credit(xp: i64, today: i64) -> i64 {
    xp.min(ENDORSEMENT_XP_PER_DAY - today).max(0)
}

/// A reputation in thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Rep(pub i64);

impl Rep {
    pub fn from_score(score: f64) -> Rep {
        Rep(round(score * 1000.0))
    }

    /// The score, with up to 3 decimals.
    pub fn score(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

/// What one UTC day brought a user.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DayGain {
    /// XP earned that day (every source).
    pub xp: i64,
    /// The sum of the trust weights of the endorsements received that day.
    pub endorsements_weighted: f64,
    /// Badges awarded that day.
    pub badges: i64,
}

impl DayGain {
    /// xpGain / 10 + endorsementsWeighted / 5 + badgesToday × 20, capped at 50.
    pub fn capped(&self) -> f64 {
        let gain =
            self.xp as f64 / 10.0 + self.endorsements_weighted / 5.0 + self.badges as f64 * 20.0;
        gain.clamp(0.0, MAX_DAILY_REP_GAIN)
    }
}

/// The reputation after one day: 0.995 × rep + min(50, gain), in thousandths. The decayed part
/// is rounded down, so that every value above zero keeps decaying (rounded to nearest, 0.099
/// would stay 0.099 forever).
pub fn next_rep(rep: Rep, gain: &DayGain) -> Rep {
    let decayed = (rep.0.saturating_mul(995)).div_euclid(1000);
    Rep(decayed + round(gain.capped() * 1000.0))
}

/// The UTC day of Unix milliseconds `ms` (days since 1970-01-01).
pub fn utc_day(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// Unix milliseconds at the start of UTC day `day`.
pub fn day_start_ms(day: i64) -> i64 {
    day.saturating_mul(DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_table() {
        for (xp, level) in [
            (0, 1),
            (99, 1),
            (100, 2),
            (249, 2),
            (250, 3),
            (499, 3),
            (500, 4),
            (899, 4),
            (900, 5),
            (1399, 5),
            (1400, 6),
            (1999, 6),
            (2000, 7),
            (2699, 7),
            (2700, 8),
            (3499, 8),
            (3500, 9),
            (4399, 9),
            (4400, 10),
            (1_000_000, 10),
            (-5, 1),
        ] {
            assert_eq!(level_for(xp), level, "{xp} XP");
        }
        assert_eq!(next_level_xp(1), Some(100));
        assert_eq!(next_level_xp(9), Some(4400));
        assert_eq!(next_level_xp(10), None);
    }

    #[test]
    fn task_xp_by_hand() {
        // base × quality × clamp(sqrt(trust/100), 0.7, 1.1), rounded half away from zero.
        for (tier, quality, trust, xp) in [
            ("S", 1.0, 100.0, 100), // 100 × 1 × 1
            ("S", 1.4, 144.0, 154), // 100 × 1.4 × 1.1 (sqrt 1.2 → 1.1) = 154
            ("S", 0.6, 25.0, 42),   // 100 × 0.6 × 0.7 (sqrt .25 = .5 → .7) = 42
            ("S", 1.0, 81.0, 90),   // 100 × 0.9
            ("A", 1.0, 100.0, 40),
            ("A", 1.4, 81.0, 50),  // 40 × 1.4 × 0.9 = 50.4
            ("A", 0.6, 144.0, 26), // 40 × 0.6 × 1.1 = 26.4
            ("B", 1.0, 25.0, 14),  // 20 × 0.7
            ("B", 1.4, 100.0, 28),
            ("B", 0.6, 81.0, 11), // 20 × 0.6 × 0.9 = 10.8
            ("C", 1.0, 100.0, 12),
            ("C", 0.6, 25.0, 5),    // 12 × 0.6 × 0.7 = 5.04
            ("C", 1.4, 144.0, 18),  // 12 × 1.4 × 1.1 = 18.48
            ("C", 1.25, 100.0, 15), // 12 × 1.25 = 15
            ("C", 0.625, 100.0, 8), // 7.5 rounds up
            ("S", 1.0, 0.0, 70),    // no trust: the floor 0.7
            ("S", 1.0, 200.0, 110), // sqrt 2 → 1.1
        ] {
            assert_eq!(
                task_xp(tier, quality, trust),
                xp,
                "{tier} {quality} {trust}"
            );
        }
        assert_eq!(task_xp("D", 1.0, 100.0), 0);
    }

    #[test]
    fn review_and_endorsement_xp_by_hand() {
        for (trust, xp) in [
            (0.0, 3),   // 5 × 0.5 = 2.5 → 3
            (50.0, 3),  // 5 × 0.5
            (60.0, 3),  // 5 × 0.6 = 3
            (100.0, 5), // 5 × 1
            (130.0, 7), // 6.5 → 7
            (150.0, 8), // 7.5 → 8
            (200.0, 8), // capped at 1.5
        ] {
            assert_eq!(review_xp(true, trust), xp, "{trust}");
            assert_eq!(review_xp(false, trust), 0);
        }
        for (rep, xp) in [
            (0.0, 1),   // 2 × 0.5
            (74.0, 1),  // 1.48
            (75.0, 2),  // 1.5 → 2
            (100.0, 2), // 2
            (124.0, 2), // 2.48
            (125.0, 3), // 2.5 → 3
            (500.0, 3), // capped
        ] {
            assert_eq!(endorsement_xp(rep), xp, "{rep}");
        }
        assert_eq!(endorsement_credit(3, 0), 3);
        assert_eq!(endorsement_credit(3, 18), 2);
        assert_eq!(endorsement_credit(3, 20), 0);
        assert_eq!(endorsement_credit(1, 25), 0);
    }

    #[test]
    fn reputation_by_hand() {
        // Day gain: xp/10 + weighted/5 + badges × 20, at most 50.
        let g = |xp, w, b| DayGain {
            xp,
            endorsements_weighted: w,
            badges: b,
        };
        assert_eq!(g(154, 0.0, 0).capped(), 15.4);
        assert_eq!(g(100, 2.5, 1).capped(), 10.0 + 0.5 + 20.0);
        assert_eq!(g(1000, 0.0, 0).capped(), 50.0);
        assert_eq!(g(0, 0.0, 3).capped(), 50.0);
        // 0.995 × 0 + 15.4 = 15.4; then 0.995 × 15.4 = 15.323; then 15.246 (15.246385 → .246).
        let r1 = next_rep(Rep(0), &g(154, 0.0, 0));
        assert_eq!(r1, Rep(15_400));
        let r2 = next_rep(r1, &DayGain::default());
        assert_eq!(r2, Rep(15_323));
        let r3 = next_rep(r2, &DayGain::default());
        assert_eq!(r3, Rep(15_246)); // 15.246385
        // Small values decay too, down to zero.
        assert_eq!(next_rep(Rep(1000), &DayGain::default()), Rep(995));
        assert_eq!(next_rep(Rep(100), &DayGain::default()), Rep(99)); // 99.5
        assert_eq!(next_rep(Rep(99), &DayGain::default()), Rep(98)); // 98.505
        assert_eq!(next_rep(Rep(201), &DayGain::default()), Rep(199)); // 199.995
        assert_eq!(next_rep(Rep(1), &DayGain::default()), Rep(0)); // 0.995
        // A gain is added whole: 0.995 × 60.000 + 0.1 = 59.800.
        assert_eq!(next_rep(Rep(60_000), &g(1, 0.0, 0)), Rep(59_800));
        assert_eq!(Rep(15_246).score(), 15.246);
        assert_eq!(Rep::from_score(60.0), Rep(60_000));
    }

    #[test]
    fn utc_days() {
        assert_eq!(utc_day(0), 0);
        assert_eq!(utc_day(86_399_999), 0);
        assert_eq!(utc_day(86_400_000), 1);
        assert_eq!(utc_day(-1), -1);
        assert_eq!(day_start_ms(2), 172_800_000);
    }
}
