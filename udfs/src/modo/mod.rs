//! MODO (ББЖМ), SPEC §9: the result bands of a score ([`ModoBand`]) and
//! the rules of the school draw ([`draw`]).
//!
//! The seeds (001, 004) give the tests' maxima (grade 4: 10 + 12 + 8 = 30,
//! grade 9: 30 + 13 + 32 = 75) but no banding of results. Sapa bands a
//! score by its percentage of the maximum on the scale Kazakh schools use
//! to turn a criteria-based summative assessment into a mark — 0–39 % `2`,
//! 40–64 % `3`, 65–84 % `4`, 85–100 % `5` — so that a MODO band reads like
//! the school mark it corresponds to and the share of `good` + `excellent`
//! is comparable with the knowledge quality of SPEC §5.3. This is Sapa's
//! choice, not the seeds'.

pub mod draw;

use std::fmt;

/// The band of a MODO score, by its percentage of the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModoBand {
    /// Below 40 % (the mark `2`).
    Low,
    /// 40 % up to below 65 % (the mark `3`).
    Satisfactory,
    /// 65 % up to below 85 % (the mark `4`).
    Good,
    /// 85 % and above (the mark `5`).
    Excellent,
}

/// The lowest percentages of `satisfactory`, `good` and `excellent`.
pub const BAND_THRESHOLDS: [u8; 3] = [40, 65, 85];

impl ModoBand {
    /// The SQL name of the band.
    pub fn as_str(self) -> &'static str {
        match self {
            ModoBand::Low => "low",
            ModoBand::Satisfactory => "satisfactory",
            ModoBand::Good => "good",
            ModoBand::Excellent => "excellent",
        }
    }

    /// The band of `score` out of `max_score`, half-open on the exact
    /// value: `100·score ≥ threshold·max_score` is compared without
    /// dividing, so 26 of 40 (exactly 65 %) is `good`. `None` when the
    /// maximum is not positive or either number is not finite (no maximum,
    /// no percentage).
    pub fn of(score: f64, max_score: f64) -> Option<ModoBand> {
        if !score.is_finite() || !max_score.is_finite() || max_score <= 0.0 {
            return None;
        }
        let at_least = |pct: u8| 100.0 * score >= f64::from(pct) * max_score;
        let [satisfactory, good, excellent] = BAND_THRESHOLDS;
        Some(if at_least(excellent) {
            ModoBand::Excellent
        } else if at_least(good) {
            ModoBand::Good
        } else if at_least(satisfactory) {
            ModoBand::Satisfactory
        } else {
            ModoBand::Low
        })
    }
}

impl fmt::Display for ModoBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The maximum score of a tested grade over all three domains (SPEC §9).
pub fn grade_max(grade: i64) -> Option<f64> {
    match grade {
        4 => Some(30.0),
        9 => Some(75.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_half_open_on_the_exact_fraction() {
        let cases = [
            (0.0, 10.0, ModoBand::Low),
            (3.9, 10.0, ModoBand::Low),
            (4.0, 10.0, ModoBand::Satisfactory),
            (25.0, 40.0, ModoBand::Satisfactory), // 62.5 %
            (26.0, 40.0, ModoBand::Good),         // exactly 65 %
            (16.0, 19.0, ModoBand::Good),         // 84.2 %
            (17.0, 20.0, ModoBand::Excellent),    // exactly 85 %
            (30.0, 30.0, ModoBand::Excellent),
        ];
        for (score, max, band) in cases {
            assert_eq!(ModoBand::of(score, max), Some(band), "{score}/{max}");
        }
        // 13 of 20 is 65 % although 100.0 * 13.0 / 20.0 is exact anyway;
        // 0.65 * 20 would not be: the comparison never divides.
        assert_eq!(ModoBand::of(13.0, 20.0), Some(ModoBand::Good));
    }

    #[test]
    fn no_maximum_no_band() {
        assert_eq!(ModoBand::of(1.0, 0.0), None);
        assert_eq!(ModoBand::of(1.0, -3.0), None);
        assert_eq!(ModoBand::of(f64::NAN, 10.0), None);
        assert_eq!(ModoBand::of(1.0, f64::INFINITY), None);
    }

    #[test]
    fn grade_maxima_follow_the_spec() {
        assert_eq!(grade_max(4), Some(30.0));
        assert_eq!(grade_max(9), Some(75.0));
        assert_eq!(grade_max(5), None);
    }
}
