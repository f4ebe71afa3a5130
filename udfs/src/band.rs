//! The indicator bands of SPEC §5.3: `low` / `medium` / `high`.
//!
//! Bands are half-open on the exact value. [`band_of_fraction`] decides on
//! the fraction `100·num/den` in integer arithmetic, so a school whose
//! quality is exactly 40 % is `high` however the percentage would round as a
//! float; [`band`] takes an already computed percentage.

use std::fmt;
use std::str::FromStr;

/// One of the two indicators of SPEC §5.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Indicator {
    /// Performance level (Үлгерім деңгейі).
    Performance,
    /// Knowledge quality (Білім сапасы).
    Quality,
}

/// The unit an indicator is computed for: a school or a governing body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// One school.
    School,
    /// A district (or city of regional significance) department.
    District,
    /// A regional administration.
    Region,
    /// The ministry: the whole country.
    Country,
}

/// The band of an indicator value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Band {
    /// Below the medium threshold.
    Low,
    /// At or above the medium threshold, below the high one.
    Medium,
    /// At or above the high threshold: the required level is met.
    High,
}

/// An indicator or level name that SPEC §11 does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BandError {
    /// Not `performance` or `quality`.
    #[error("unknown indicator {value:?}: expected 'performance' or 'quality'")]
    UnknownIndicator {
        /// The value as it was given.
        value: String,
    },
    /// Not `school`, `district`, `region` or `country`.
    #[error("unknown level {value:?}: expected 'school', 'district', 'region' or 'country'")]
    UnknownLevel {
        /// The value as it was given.
        value: String,
    },
}

impl Indicator {
    /// The SQL name of the indicator.
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::Performance => "performance",
            Indicator::Quality => "quality",
        }
    }
}

impl FromStr for Indicator {
    type Err = BandError;

    /// Parses an SQL indicator name, case-insensitive, surrounding whitespace trimmed.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        if name.eq_ignore_ascii_case("performance") {
            Ok(Indicator::Performance)
        } else if name.eq_ignore_ascii_case("quality") {
            Ok(Indicator::Quality)
        } else {
            Err(BandError::UnknownIndicator {
                value: s.to_string(),
            })
        }
    }
}

impl Level {
    /// The SQL name of the level.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::School => "school",
            Level::District => "district",
            Level::Region => "region",
            Level::Country => "country",
        }
    }

    /// Whether the unit is a governing body, which has bands of its own.
    pub fn is_governing_body(self) -> bool {
        !matches!(self, Level::School)
    }
}

impl FromStr for Level {
    type Err = BandError;

    /// Parses an SQL level name, case-insensitive, surrounding whitespace trimmed.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        [
            Level::School,
            Level::District,
            Level::Region,
            Level::Country,
        ]
        .into_iter()
        .find(|level| name.eq_ignore_ascii_case(level.as_str()))
        .ok_or_else(|| BandError::UnknownLevel {
            value: s.to_string(),
        })
    }
}

impl Band {
    /// The SQL name of the band.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Medium => "medium",
            Band::High => "high",
        }
    }

    /// Whether a value in this band meets the required level (SPEC §5.3:
    /// exactly when the band is `high`).
    pub fn meets_required_level(self) -> bool {
        self == Band::High
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lowest percentages of the `medium` and of the `high` band.
///
/// The table of SPEC §5.3 writes the bands as closed integer ranges
/// (`30–39`); read half-open, `medium` starts at 30 and `high` at 40.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Values at or above this are at least `medium`.
    pub medium: u8,
    /// Values at or above this are `high`: the required level.
    pub high: u8,
}

impl Thresholds {
    /// The thresholds of an indicator at a level.
    pub fn of(indicator: Indicator, level: Level) -> Thresholds {
        match (indicator, level.is_governing_body()) {
            (Indicator::Performance, _) => Thresholds {
                medium: 50,
                high: 95,
            },
            (Indicator::Quality, false) => Thresholds {
                medium: 30,
                high: 40,
            },
            (Indicator::Quality, true) => Thresholds {
                medium: 40,
                high: 86,
            },
        }
    }

    /// The band of a percentage; `None` for NaN.
    #[inline]
    pub fn band(self, value: f64) -> Option<Band> {
        if value.is_nan() {
            None
        } else if value >= f64::from(self.high) {
            Some(Band::High)
        } else if value >= f64::from(self.medium) {
            Some(Band::Medium)
        } else {
            Some(Band::Low)
        }
    }

    /// The band of the percentage `100·num/den`, decided exactly; `None`
    /// when `den` is 0 (SPEC §5: no denominator, no value).
    #[inline]
    pub fn band_of_fraction(self, num: i64, den: i64) -> Option<Band> {
        if den == 0 {
            return None;
        }
        // 100·num/den ≥ t  ⇔  100·num ≥ t·den for den > 0; flip signs so
        // den is positive. i128 cannot overflow for i64 operands.
        let (num, den) = if den < 0 {
            (-i128::from(num), -i128::from(den))
        } else {
            (i128::from(num), i128::from(den))
        };
        let scaled = num * 100;
        Some(if scaled >= i128::from(self.high) * den {
            Band::High
        } else if scaled >= i128::from(self.medium) * den {
            Band::Medium
        } else {
            Band::Low
        })
    }
}

/// The band of an indicator value, a percentage; `None` for NaN.
pub fn band(indicator: Indicator, level: Level, value: f64) -> Option<Band> {
    Thresholds::of(indicator, level).band(value)
}

/// The band of the percentage `100·num/den` decided on the exact fraction
/// (SPEC §5.3), not on a rounded float; `None` when `den` is 0.
pub fn band_of_fraction(indicator: Indicator, level: Level, num: i64, den: i64) -> Option<Band> {
    Thresholds::of(indicator, level).band_of_fraction(num, den)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Band::*;
    use Indicator::*;
    use Level::*;

    #[test]
    fn school_performance_edges() {
        assert_eq!(band(Performance, School, 0.0), Some(Low));
        assert_eq!(band(Performance, School, 49.99), Some(Low));
        assert_eq!(band(Performance, School, 50.0), Some(Medium));
        assert_eq!(band(Performance, School, 94.99), Some(Medium));
        assert_eq!(band(Performance, School, 95.0), Some(High));
        assert_eq!(band(Performance, School, 100.0), Some(High));
    }

    #[test]
    fn school_quality_edges() {
        assert_eq!(band(Quality, School, 29.99), Some(Low));
        assert_eq!(band(Quality, School, 30.0), Some(Medium));
        assert_eq!(band(Quality, School, 39.99), Some(Medium));
        assert_eq!(band(Quality, School, 40.0), Some(High));
    }

    #[test]
    fn governing_body_bands() {
        for level in [District, Region, Country] {
            assert_eq!(band(Quality, level, 39.99), Some(Low), "{level:?}");
            assert_eq!(band(Quality, level, 40.0), Some(Medium), "{level:?}");
            assert_eq!(band(Quality, level, 85.99), Some(Medium), "{level:?}");
            assert_eq!(band(Quality, level, 86.0), Some(High), "{level:?}");
            assert_eq!(band(Performance, level, 49.99), Some(Low), "{level:?}");
            assert_eq!(band(Performance, level, 50.0), Some(Medium), "{level:?}");
            assert_eq!(band(Performance, level, 94.99), Some(Medium), "{level:?}");
            assert_eq!(band(Performance, level, 95.0), Some(High), "{level:?}");
        }
        // The same 40 % is high for a school and only medium for a district.
        assert_eq!(band(Quality, School, 40.0), Some(High));
        assert_eq!(band(Quality, District, 40.0), Some(Medium));
    }

    #[test]
    fn nan_has_no_band() {
        assert_eq!(band(Quality, School, f64::NAN), None);
        assert_eq!(band(Performance, Country, f64::NAN), None);
    }

    #[test]
    fn fractions_are_decided_exactly() {
        // 2/5 = 40 % exactly: high for a school.
        assert_eq!(band_of_fraction(Quality, School, 2, 5), Some(High));
        // 19/20 = 95 %: high.
        assert_eq!(band_of_fraction(Performance, School, 19, 20), Some(High));
        // 1999/5000 = 39.98 % and 39999/100000 = 39.999 %: medium.
        assert_eq!(
            band_of_fraction(Quality, School, 39_999, 100_000),
            Some(Medium)
        );
        assert_eq!(band_of_fraction(Quality, School, 1999, 5000), Some(Medium));
        // 43/50 = 86 %: high for a region; 429/500 = 85.8 %: medium.
        assert_eq!(band_of_fraction(Quality, Region, 43, 50), Some(High));
        assert_eq!(band_of_fraction(Quality, Region, 429, 500), Some(Medium));
        // 3/10 = 30 % and 299/1000 = 29.9 % at a school.
        assert_eq!(band_of_fraction(Quality, School, 3, 10), Some(Medium));
        assert_eq!(band_of_fraction(Quality, School, 299, 1000), Some(Low));
        // 1/2 = 50 % performance: medium.
        assert_eq!(band_of_fraction(Performance, District, 1, 2), Some(Medium));
        assert_eq!(band_of_fraction(Performance, School, 0, 7), Some(Low));
    }

    #[test]
    fn fraction_edge_cases() {
        assert_eq!(band_of_fraction(Quality, School, 0, 0), None);
        assert_eq!(band_of_fraction(Quality, School, 5, 0), None);
        // Signs cancel: -2/-5 is 40 %.
        assert_eq!(band_of_fraction(Quality, School, -2, -5), Some(High));
        // No overflow at the extremes.
        assert_eq!(
            band_of_fraction(Performance, Country, i64::MAX, i64::MAX),
            Some(High)
        );
        assert_eq!(
            band_of_fraction(Performance, Country, i64::MIN, i64::MAX),
            Some(Low)
        );
    }

    #[test]
    fn names_parse_case_insensitively_and_trimmed() {
        assert_eq!(" Performance ".parse::<Indicator>(), Ok(Performance));
        assert_eq!("QUALITY".parse::<Indicator>(), Ok(Quality));
        assert_eq!("school".parse::<Level>(), Ok(School));
        assert_eq!("District\t".parse::<Level>(), Ok(District));
        assert_eq!("REGION".parse::<Level>(), Ok(Region));
        assert_eq!("country".parse::<Level>(), Ok(Country));
        for level in [School, District, Region, Country] {
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
        }
    }

    #[test]
    fn unknown_names_are_errors_naming_the_value() {
        let err = "perf".parse::<Indicator>().expect_err("perf");
        assert_eq!(
            err,
            BandError::UnknownIndicator {
                value: "perf".into()
            }
        );
        assert!(err.to_string().contains("\"perf\""));
        let err = "oblast".parse::<Level>().expect_err("oblast");
        assert!(err.to_string().contains("\"oblast\""), "{err}");
        assert!("".parse::<Level>().is_err());
    }

    #[test]
    fn only_high_meets_the_required_level() {
        assert!(High.meets_required_level());
        assert!(!Medium.meets_required_level());
        assert!(!Low.meets_required_level());
        assert_eq!(Medium.to_string(), "medium");
    }
}
