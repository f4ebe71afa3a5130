//! The school calendar (SPEC §7): quarter dates of each academic year.
//!
//! 2021–2022 to 2025–2026 use the ministry's published dates. Other years
//! (2000–2099) follow the pattern those years share: Q1 from 1 September (2
//! if the 1st is a weekend) to the last Friday of October; Q2 from the Monday
//! after the autumn week off to the last weekday on or before 29 December;
//! Q3 from the first weekday on or after 8 January to the last weekday on or
//! before 19 March (the Nauryz holidays); Q4 from the first weekday on or
//! after 30 March to 25 May (the last weekday before it on a weekend).

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The earliest academic year the generator supports.
pub const FIRST_YEAR: i32 = 2000;
/// The latest academic year the generator supports.
pub const LAST_YEAR: i32 = 2099;

/// The four quarters of one academic year, named by its start year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcademicCalendar {
    /// The start year (2021 = 2021–2022).
    pub year: i32,
    /// `(start, end)` of Q1..Q4, both days inclusive.
    pub quarters: [(NaiveDate, NaiveDate); 4],
}

/// The published dates, as `(month, day)` pairs: Q1 start, Q1 end, ... Q4 end.
const PUBLISHED: [(i32, [(u32, u32); 8]); 5] = [
    (
        2021,
        [
            (9, 2),
            (10, 29),
            (11, 8),
            (12, 29),
            (1, 17),
            (3, 18),
            (3, 31),
            (5, 25),
        ],
    ),
    (
        2022,
        [
            (9, 1),
            (10, 28),
            (11, 7),
            (12, 30),
            (1, 9),
            (3, 17),
            (3, 27),
            (5, 31),
        ],
    ),
    (
        2023,
        [
            (9, 1),
            (10, 27),
            (11, 6),
            (12, 28),
            (1, 8),
            (3, 20),
            (4, 1),
            (5, 25),
        ],
    ),
    (
        2024,
        [
            (9, 2),
            (10, 25),
            (11, 4),
            (12, 27),
            (1, 9),
            (3, 20),
            (4, 1),
            (5, 25),
        ],
    ),
    (
        2025,
        [
            (9, 2),
            (10, 24),
            (11, 3),
            (12, 26),
            (1, 8),
            (3, 18),
            (3, 30),
            (5, 25),
        ],
    ),
];

impl AcademicCalendar {
    /// The calendar of academic year `year`, or `None` outside
    /// [`FIRST_YEAR`]..=[`LAST_YEAR`].
    pub fn of(year: i32) -> Option<AcademicCalendar> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return None;
        }
        if let Some((_, md)) = PUBLISHED.iter().find(|(y, _)| *y == year) {
            let mut d = [NaiveDate::MIN; 8];
            for (i, &(m, day)) in md.iter().enumerate() {
                // Months from January to August fall in the second calendar year.
                let y = if m >= 9 { year } else { year + 1 };
                d[i] = NaiveDate::from_ymd_opt(y, m, day)?;
            }
            return Some(AcademicCalendar {
                year,
                quarters: [(d[0], d[1]), (d[2], d[3]), (d[4], d[5]), (d[6], d[7])],
            });
        }
        Self::by_pattern(year)
    }

    fn by_pattern(year: i32) -> Option<AcademicCalendar> {
        let next = year + 1;
        let q1_start = weekday_on_or_after(NaiveDate::from_ymd_opt(year, 9, 1)?);
        let q1_end = weekday_on_or_before(NaiveDate::from_ymd_opt(year, 10, 31)?, Weekday::Fri);
        let q2_start = q1_end.checked_add_days(Days::new(10))?;
        let q2_end = weekday_on_or_before_any(NaiveDate::from_ymd_opt(year, 12, 29)?);
        let q3_start = weekday_on_or_after(NaiveDate::from_ymd_opt(next, 1, 8)?);
        let q3_end = weekday_on_or_before_any(NaiveDate::from_ymd_opt(next, 3, 19)?);
        let q4_start = weekday_on_or_after(NaiveDate::from_ymd_opt(next, 3, 30)?);
        let q4_end = weekday_on_or_before_any(NaiveDate::from_ymd_opt(next, 5, 25)?);
        Some(AcademicCalendar {
            year,
            quarters: [
                (q1_start, q1_end),
                (q2_start, q2_end),
                (q3_start, q3_end),
                (q4_start, q4_end),
            ],
        })
    }

    /// The first day of the year (Q1's start).
    pub fn start(&self) -> NaiveDate {
        self.quarters[0].0
    }

    /// The end of the reporting year (Q4's end).
    pub fn end(&self) -> NaiveDate {
        self.quarters[3].1
    }

    /// The end date of quarter `q` (0-based).
    pub fn quarter_end(&self, q: usize) -> NaiveDate {
        self.quarters[q.min(3)].1
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn weekday_on_or_after(mut d: NaiveDate) -> NaiveDate {
    while is_weekend(d) {
        d = d.succ_opt().unwrap_or(d);
    }
    d
}

fn weekday_on_or_before_any(mut d: NaiveDate) -> NaiveDate {
    while is_weekend(d) {
        d = d.pred_opt().unwrap_or(d);
    }
    d
}

fn weekday_on_or_before(mut d: NaiveDate, day: Weekday) -> NaiveDate {
    while d.weekday() != day {
        d = d.pred_opt().unwrap_or(d);
    }
    d
}

/// Days since 1970-01-01 (Arrow's `Date32`).
pub(crate) fn date32(d: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    (d - epoch).num_days() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn published_years_match_the_ministry_dates() {
        let c = AcademicCalendar::of(2021).unwrap();
        assert_eq!(c.quarters[0], (d(2021, 9, 2), d(2021, 10, 29)));
        assert_eq!(c.quarters[2], (d(2022, 1, 17), d(2022, 3, 18)));
        let c = AcademicCalendar::of(2022).unwrap();
        assert_eq!(c.end(), d(2023, 5, 31));
        let c = AcademicCalendar::of(2025).unwrap();
        assert_eq!(c.quarters[3], (d(2026, 3, 30), d(2026, 5, 25)));
        assert_eq!(c.quarter_end(1), d(2025, 12, 26));
    }

    #[test]
    fn other_years_follow_the_pattern() {
        let c = AcademicCalendar::of(2026).unwrap();
        // 1 Sept 2026 is a Tuesday; 31 Oct 2026 a Saturday, so Q1 ends Friday 30 Oct.
        assert_eq!(c.quarters[0], (d(2026, 9, 1), d(2026, 10, 30)));
        assert_eq!(c.quarters[1].0, d(2026, 11, 9));
        // 29 Dec 2026 is a Tuesday; 8 Jan 2027 a Friday; 19 Mar 2027 a Friday.
        assert_eq!(c.quarters[1].1, d(2026, 12, 29));
        assert_eq!(c.quarters[2], (d(2027, 1, 8), d(2027, 3, 19)));
        // 30 Mar 2027 is a Tuesday; 25 May 2027 a Tuesday.
        assert_eq!(c.quarters[3], (d(2027, 3, 30), d(2027, 5, 25)));
        for y in FIRST_YEAR..=LAST_YEAR {
            let c = AcademicCalendar::of(y).unwrap();
            for q in 0..4 {
                assert!(c.quarters[q].0 < c.quarters[q].1, "{y} Q{}", q + 1);
                if q > 0 {
                    assert!(c.quarters[q - 1].1 < c.quarters[q].0, "{y} Q{}", q + 1);
                }
            }
        }
        assert_eq!(AcademicCalendar::of(1999), None);
        assert_eq!(AcademicCalendar::of(2100), None);
    }

    #[test]
    fn date32_counts_days_from_the_epoch() {
        assert_eq!(date32(d(1970, 1, 1)), 0);
        assert_eq!(date32(d(2021, 9, 2)), 18872);
    }
}
