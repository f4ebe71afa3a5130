//! The weekly publication calendar of SPEC §6.
//!
//! The source system publishes every Sunday. A quarter's results appear with
//! the update on the first Sunday on or after its end date; "as of date D"
//! means the state published by the latest Sunday on or before D. Both rules
//! exist twice: on [`NaiveDate`] for Rust callers and on Arrow's `Date32` day
//! numbers (days since 1970-01-01) for the SQL functions, which then need no
//! per-row conversion.

use chrono::{Datelike, Days, NaiveDate};

/// A date whose Sunday falls outside the representable calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The next Sunday lies past the last representable date.
    #[error("no Sunday on or after {date} within the supported calendar")]
    NoSundayAfter {
        /// The date given.
        date: NaiveDate,
    },
    /// The previous Sunday lies before the first representable date.
    #[error("no Sunday on or before {date} within the supported calendar")]
    NoSundayBefore {
        /// The date given.
        date: NaiveDate,
    },
    /// A `Date32` day number whose Sunday does not fit in an `i32`.
    #[error("day {days} (days since 1970-01-01) has no Sunday within the Date32 range")]
    DayOutOfRange {
        /// The day number given.
        days: i32,
    },
}

/// The update that publishes a period ending on `end`: the first Sunday on
/// or after it (a Sunday maps to itself).
///
/// SPEC §6: Q1 2021–2022 ends on Friday 29.10.2021 and is published on
/// Sunday 31.10.2021.
pub fn publication_sunday(end: NaiveDate) -> Result<NaiveDate, CalendarError> {
    let ahead = (7 - end.weekday().num_days_from_sunday()) % 7;
    end.checked_add_days(Days::new(u64::from(ahead)))
        .ok_or(CalendarError::NoSundayAfter { date: end })
}

/// The update in force on `day`: the latest Sunday on or before it (SPEC §6,
/// "as of date D").
pub fn update_sunday(day: NaiveDate) -> Result<NaiveDate, CalendarError> {
    let back = day.weekday().num_days_from_sunday();
    day.checked_sub_days(Days::new(u64::from(back)))
        .ok_or(CalendarError::NoSundayBefore { date: day })
}

/// Days after the previous Sunday of a `Date32` day number (Sunday = 0).
#[inline]
fn days_from_sunday(days: i32) -> i32 {
    // 1970-01-01 was a Thursday, four days after a Sunday.
    (i64::from(days) + 4).rem_euclid(7) as i32
}

/// [`publication_sunday`] on a `Date32` day number (days since 1970-01-01).
#[inline]
pub fn publication_sunday_days(days: i32) -> Result<i32, CalendarError> {
    days.checked_add((7 - days_from_sunday(days)) % 7)
        .ok_or(CalendarError::DayOutOfRange { days })
}

/// [`update_sunday`] on a `Date32` day number (days since 1970-01-01).
#[inline]
pub fn update_sunday_days(days: i32) -> Result<i32, CalendarError> {
    days.checked_sub(days_from_sunday(days))
        .ok_or(CalendarError::DayOutOfRange { days })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect(s)
    }

    fn epoch_days(d: NaiveDate) -> i32 {
        (d - date("1970-01-01")).num_days() as i32
    }

    #[test]
    fn spec_example_q1_2021() {
        // Friday 29.10.2021 → Sunday 31.10.2021.
        assert_eq!(
            publication_sunday(date("2021-10-29")),
            Ok(date("2021-10-31"))
        );
    }

    #[test]
    fn publication_sunday_real_dates() {
        let cases = [
            ("2021-10-31", "2021-10-31"), // a Sunday maps to itself
            ("2021-11-01", "2021-11-07"), // Monday: a full week ahead
            ("2021-12-28", "2022-01-02"), // across the new year
            ("2022-03-18", "2022-03-20"),
            ("2022-05-25", "2022-05-29"),
            ("2024-02-29", "2024-03-03"), // leap day, Thursday
            ("2025-12-31", "2026-01-04"),
            ("2026-01-04", "2026-01-04"),
        ];
        for (end, sunday) in cases {
            assert_eq!(publication_sunday(date(end)), Ok(date(sunday)), "{end}");
        }
    }

    #[test]
    fn update_sunday_real_dates() {
        let cases = [
            ("2021-10-29", "2021-10-24"),
            ("2021-10-31", "2021-10-31"),
            ("2021-11-01", "2021-10-31"),
            ("2022-01-01", "2021-12-26"), // Saturday, across the new year
            ("2023-09-01", "2023-08-27"), // 1 September 2023 was a Friday
            ("2024-03-02", "2024-02-25"),
            ("2026-01-03", "2025-12-28"),
        ];
        for (day, sunday) in cases {
            assert_eq!(update_sunday(date(day)), Ok(date(sunday)), "{day}");
        }
    }

    #[test]
    fn day_numbers_agree_with_dates_2021_to_2026() {
        let mut day = date("2021-01-01");
        while day <= date("2026-12-31") {
            let n = epoch_days(day);
            let publication = publication_sunday(day).expect("in range");
            let update = update_sunday(day).expect("in range");
            assert_eq!(publication.weekday(), Weekday::Sun);
            assert_eq!(update.weekday(), Weekday::Sun);
            assert!((0..7).contains(&(publication - day).num_days()), "{day}");
            assert!((0..7).contains(&(day - update).num_days()), "{day}");
            assert_eq!(publication_sunday_days(n), Ok(epoch_days(publication)));
            assert_eq!(update_sunday_days(n), Ok(epoch_days(update)));
            day = day.succ_opt().expect("in range");
        }
    }

    #[test]
    fn day_numbers_before_the_epoch() {
        // 1969-12-28 was a Sunday (day -4); 1969-12-31 was a Wednesday.
        assert_eq!(update_sunday_days(-1), Ok(-4));
        assert_eq!(publication_sunday_days(-1), Ok(3));
        assert_eq!(publication_sunday_days(-4), Ok(-4));
        assert_eq!(update_sunday_days(0), Ok(-4));
    }

    #[test]
    fn ends_of_the_calendar_are_errors() {
        // NaiveDate::MAX and MIN are both Tuesdays.
        assert_eq!(
            publication_sunday(NaiveDate::MAX),
            Err(CalendarError::NoSundayAfter {
                date: NaiveDate::MAX
            })
        );
        assert_eq!(
            update_sunday(NaiveDate::MIN),
            Err(CalendarError::NoSundayBefore {
                date: NaiveDate::MIN
            })
        );
        // i32::MAX is a Friday and i32::MIN a Tuesday in Date32 terms.
        assert_eq!(
            publication_sunday_days(i32::MAX),
            Err(CalendarError::DayOutOfRange { days: i32::MAX })
        );
        assert_eq!(
            update_sunday_days(i32::MIN),
            Err(CalendarError::DayOutOfRange { days: i32::MIN })
        );
        assert_eq!(update_sunday_days(i32::MAX), Ok(i32::MAX - 5));
        assert!(update_sunday(NaiveDate::MAX).is_ok());
    }
}
