//! The MODO school draw of SPEC §9 (seed 001, "ББЖМ өткізу үшін ұйымдарды
//! таңдау алгоритмі"): which schools may be drawn, the cluster each is
//! drawn in, the keyed hash that orders a cluster, and the cluster's quota.
//!
//! - **Exclusions** ([`exclusion`]), the first that applies: the school
//!   types `evening`, `international`, `autonomous`, `correctional`,
//!   `sanatorium` (the health ministry's sanatorium schools) and `other`
//!   (what the schools table can say of schools under other ministries —
//!   culture and sport, the Russian Federation's: they are neither of the
//!   day-school types); then fewer than [`MIN_STUDENTS_4_9`] students in
//!   grades 4 and 9 together (SPEC §9; a draw may ask for another minimum,
//!   to simulate a rule or to draw from a small test country); then internet below [`MIN_INTERNET_MBPS`]
//!   Mbit/s, an unknown (NULL) speed included — a school cannot be shown
//!   to reach 4 Mbit/s. The seed's computer-class criterion is not in the
//!   data and is not applied.
//! - **Cluster** ([`cluster`]): `locality/type/size/language`. Types are
//!   the seed's five (`general`, `lyceum`, `gymnasium`,
//!   `school_gymnasium`, `school_lyceum`) and `specialized`, which the seed
//!   does not name and which forms clusters of its own rather than
//!   changing the make-up of another type's. Size is the school's whole
//!   contingent (every grade): `small` below 300, `medium` 300–999,
//!   `large` from 1,000 (the bands the generator draws with). Languages
//!   `kk`, `ru`, and `mixed` and `other` each in clusters of their own.
//! - **Order** ([`draw_key`]): SplitMix64 of SplitMix64(seed) XOR
//!   school_id, the top 63 bits — a fixed function of (seed, school_id),
//!   so a draw never depends on thread count or scan order.
//! - **Quota** ([`quota`]): 25 % of the cluster's schools rounded half up,
//!   and at least one: every non-empty stratum is represented, so a small
//!   cluster (a rural lyceum or two) can still be analysed.

use std::fmt;

/// Fewest students of grades 4 and 9 together a drawn school has.
pub const MIN_STUDENTS_4_9: i64 = 80;
/// Slowest internet (Mbit/s) a drawn school has.
pub const MIN_INTERNET_MBPS: f64 = 4.0;

/// A value the schools table does not allow, or a negative count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    /// Not one of SPEC §10's school types.
    #[error("unknown school_type {0:?}")]
    UnknownSchoolType(String),
    /// Not `urban` or `rural`.
    #[error("unknown locality {0:?}: expected 'urban' or 'rural'")]
    UnknownLocality(String),
    /// Not `kk`, `ru`, `mixed` or `other`.
    #[error("unknown language {0:?}: expected 'kk', 'ru', 'mixed' or 'other'")]
    UnknownLanguage(String),
    /// A student count below zero.
    #[error("negative student count {0}")]
    NegativeCount(i64),
}

/// Why a school is left out of the draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exclusion {
    /// Its school type is never drawn; the type's name.
    SchoolType(&'static str),
    /// Fewer students in grades 4 and 9 than the minimum
    /// ([`MIN_STUDENTS_4_9`] unless a draw says otherwise).
    FewStudents,
    /// Internet below [`MIN_INTERNET_MBPS`].
    SlowInternet,
    /// Internet speed unknown.
    UnknownInternet,
}

impl Exclusion {
    /// The SQL text of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::SchoolType(t) => t,
            Exclusion::FewStudents => "too_few_students_4_9",
            Exclusion::SlowInternet => "internet_below_4_mbps",
            Exclusion::UnknownInternet => "internet_unknown",
        }
    }
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// School types that are drawn, each its own cluster type.
const DRAWN_TYPES: [&str; 6] = [
    "general",
    "gymnasium",
    "lyceum",
    "school_gymnasium",
    "school_lyceum",
    "specialized",
];
/// School types never drawn.
const EXCLUDED_TYPES: [&str; 6] = [
    "evening",
    "international",
    "autonomous",
    "correctional",
    "sanatorium",
    "other",
];

/// The drawn type named `school_type`, `None` for an excluded one.
fn drawn_type(school_type: &str) -> Result<Option<&'static str>, DrawError> {
    let name = school_type.trim();
    if let Some(t) = DRAWN_TYPES.iter().find(|t| name.eq_ignore_ascii_case(t)) {
        return Ok(Some(t));
    }
    if EXCLUDED_TYPES.iter().any(|t| name.eq_ignore_ascii_case(t)) {
        return Ok(None);
    }
    Err(DrawError::UnknownSchoolType(school_type.to_string()))
}

/// Why the school is not drawn, or `None` when it may be (the rules of the
/// module documentation, in that order), with fewer than
/// `min_students_4_9` students in grades 4 and 9 excluded
/// ([`MIN_STUDENTS_4_9`] by SPEC §9).
pub fn exclusion(
    school_type: &str,
    students_4_9: i64,
    internet_mbps: Option<f64>,
    min_students_4_9: i64,
) -> Result<Option<Exclusion>, DrawError> {
    for count in [students_4_9, min_students_4_9] {
        if count < 0 {
            return Err(DrawError::NegativeCount(count));
        }
    }
    if drawn_type(school_type)?.is_none() {
        let name = school_type.trim();
        let canonical = EXCLUDED_TYPES
            .iter()
            .find(|t| name.eq_ignore_ascii_case(t))
            .copied()
            .unwrap_or("other");
        return Ok(Some(Exclusion::SchoolType(canonical)));
    }
    if students_4_9 < min_students_4_9 {
        return Ok(Some(Exclusion::FewStudents));
    }
    Ok(match internet_mbps {
        None => Some(Exclusion::UnknownInternet),
        Some(m) if m.is_nan() => Some(Exclusion::UnknownInternet),
        Some(m) if m < MIN_INTERNET_MBPS => Some(Exclusion::SlowInternet),
        Some(_) => None,
    })
}

/// The contingent-size bucket of a school with `students` (every grade).
pub fn size_bucket(students: i64) -> Result<&'static str, DrawError> {
    match students {
        ..0 => Err(DrawError::NegativeCount(students)),
        0..300 => Ok("small"),
        300..1000 => Ok("medium"),
        _ => Ok("large"),
    }
}

/// The cluster `locality/type/size/language` of a school; an excluded
/// school type keeps its own name (such a school is never drawn).
pub fn cluster(
    locality: &str,
    school_type: &str,
    language: &str,
    students: i64,
) -> Result<String, DrawError> {
    let pick = |value: &str, allowed: &[&'static str]| {
        let v = value.trim();
        allowed.iter().find(|a| v.eq_ignore_ascii_case(a)).copied()
    };
    let locality = pick(locality, &["urban", "rural"])
        .ok_or_else(|| DrawError::UnknownLocality(locality.to_string()))?;
    let kind = match drawn_type(school_type)? {
        Some(t) => t,
        None => pick(school_type, &EXCLUDED_TYPES).unwrap_or("other"),
    };
    let language = pick(language, &["kk", "ru", "mixed", "other"])
        .ok_or_else(|| DrawError::UnknownLanguage(language.to_string()))?;
    Ok(format!(
        "{locality}/{kind}/{}/{language}",
        size_bucket(students)?
    ))
}

/// SplitMix64's output function (Steele, Lea & Flood 2014).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The position key of a school in a draw with `seed`: schools of a
/// cluster are drawn in ascending key order (ties, never seen in practice,
/// by school_id). Non-negative; the same on every machine and run.
pub fn draw_key(seed: i64, school_id: i64) -> i64 {
    // Reinterpreting the two's-complement bits is the point: every i64 seed
    // and id is a distinct u64.
    let mixed = splitmix64(splitmix64(seed as u64) ^ school_id as u64);
    (mixed >> 1) as i64
}

/// How many of a cluster's `schools` are drawn: 25 % rounded half up, at
/// least one when the cluster is not empty.
pub fn quota(schools: i64) -> Result<i64, DrawError> {
    match schools {
        ..0 => Err(DrawError::NegativeCount(schools)),
        0 => Ok(0),
        n => Ok(((n + 2) / 4).max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = MIN_STUDENTS_4_9;

    #[test]
    fn excluded_types_then_size_then_internet() {
        let ok = Some(10.0);
        assert_eq!(
            exclusion("evening", 500, ok, M),
            Ok(Some(Exclusion::SchoolType("evening")))
        );
        for t in EXCLUDED_TYPES {
            assert_eq!(exclusion(t, 500, ok, M), Ok(Some(Exclusion::SchoolType(t))));
        }
        assert_eq!(
            exclusion(" Sanatorium ", 500, ok, M).map(|e| e.map(Exclusion::as_str)),
            Ok(Some("sanatorium"))
        );
        for t in DRAWN_TYPES {
            assert_eq!(exclusion(t, 80, ok, M), Ok(None), "{t}");
        }
        assert_eq!(
            exclusion("general", 79, ok, M),
            Ok(Some(Exclusion::FewStudents))
        );
        assert_eq!(exclusion("general", 80, Some(4.0), M), Ok(None));
        assert_eq!(
            exclusion("general", 80, Some(3.9), M),
            Ok(Some(Exclusion::SlowInternet))
        );
        assert_eq!(
            exclusion("general", 80, None, M),
            Ok(Some(Exclusion::UnknownInternet))
        );
        // Another minimum, for a small test country.
        assert_eq!(exclusion("general", 8, ok, 8), Ok(None));
        assert_eq!(
            exclusion("general", 7, ok, 8),
            Ok(Some(Exclusion::FewStudents))
        );
        assert_eq!(
            exclusion("general", 8, ok, -1),
            Err(DrawError::NegativeCount(-1))
        );
        // A small evening school is excluded for its type, first.
        assert_eq!(
            exclusion("evening", 3, None, M),
            Ok(Some(Exclusion::SchoolType("evening")))
        );
    }

    #[test]
    fn bad_values_are_errors_naming_them() {
        assert_eq!(
            exclusion("madrasa", 100, None, M),
            Err(DrawError::UnknownSchoolType("madrasa".into()))
        );
        assert_eq!(
            exclusion("general", -1, None, M),
            Err(DrawError::NegativeCount(-1))
        );
        assert_eq!(
            cluster("town", "general", "kk", 1),
            Err(DrawError::UnknownLocality("town".into()))
        );
        assert_eq!(
            cluster("urban", "general", "uz", 1),
            Err(DrawError::UnknownLanguage("uz".into()))
        );
        assert!(quota(-2).is_err());
    }

    #[test]
    fn clusters_and_size_buckets() {
        assert_eq!(
            cluster("urban", "general", "kk", 299).as_deref(),
            Ok("urban/general/small/kk")
        );
        assert_eq!(
            cluster("Rural", "school_lyceum", "RU", 300).as_deref(),
            Ok("rural/school_lyceum/medium/ru")
        );
        assert_eq!(
            cluster("urban", "specialized", "mixed", 999).as_deref(),
            Ok("urban/specialized/medium/mixed")
        );
        assert_eq!(
            cluster("urban", "lyceum", "other", 1000).as_deref(),
            Ok("urban/lyceum/large/other")
        );
        assert_eq!(size_bucket(0), Ok("small"));
    }

    #[test]
    fn quota_is_a_quarter_rounded_half_up_and_at_least_one() {
        let got: Vec<i64> = (0..=10).map(|n| quota(n).unwrap_or(-1)).collect();
        // 0; 0.25..1.0 → 1 (at least one); 1.25 → 1; 1.5 → 2; 1.75 → 2;
        // 2.0 → 2; 2.25 → 2; 2.5 → 3.
        assert_eq!(got, [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3]);
        assert_eq!(quota(100), Ok(25));
        assert_eq!(quota(102), Ok(26));
    }

    #[test]
    fn draw_keys_are_fixed_keyed_and_non_negative() {
        // Pinned values: the hash is part of the contract of a draw.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(draw_key(1, 100), 8_765_518_390_223_503_505);
        assert_eq!(draw_key(7, 12345), 927_375_285_574_366_843);
        assert_eq!(draw_key(1, 100), draw_key(1, 100));
        assert_ne!(draw_key(1, 100), draw_key(2, 100));
        assert_ne!(draw_key(1, 100), draw_key(1, 101));
        for (seed, id) in [(0, 0), (-1, i64::MAX), (i64::MIN, 1), (7, 12345)] {
            assert!(draw_key(seed, id) >= 0);
        }
    }
}
