//! "The current indicator" (SPEC §6): which period's results a user saw on
//! a given day.
//!
//! The weekly update of Sunday S shows the last period published by then: a
//! quarter from the first Sunday on or after its end date, the annual report
//! from the update that publishes Q4 until the update of the week holding
//! 1 September of the next year. Between that update and the publication of
//! the new year's Q1, the indicator shows "the previous quarter" (seed 000,
//! rule 2): the old year's Q4.

use chrono::NaiveDate;

use crate::calendar::{CalendarError, publication_sunday, update_sunday};

/// A reporting period of the current-indicator rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportPeriod {
    /// Quarter 1–4.
    Quarter(u8),
    /// The academic year (the annual report).
    Year,
}

impl ReportPeriod {
    /// The SQL name: `Q1`–`Q4` or `YEAR`.
    pub fn name(self) -> &'static str {
        match self {
            ReportPeriod::Quarter(1) => "Q1",
            ReportPeriod::Quarter(2) => "Q2",
            ReportPeriod::Quarter(3) => "Q3",
            ReportPeriod::Quarter(_) => "Q4",
            ReportPeriod::Year => "YEAR",
        }
    }

    /// The quarter named `Q1`–`Q4`.
    pub fn quarter(name: &str) -> Option<ReportPeriod> {
        match name {
            "Q1" => Some(ReportPeriod::Quarter(1)),
            "Q2" => Some(ReportPeriod::Quarter(2)),
            "Q3" => Some(ReportPeriod::Quarter(3)),
            "Q4" => Some(ReportPeriod::Quarter(4)),
            _ => None,
        }
    }
}

/// One quarter of the `calendar` table: its academic year, which quarter,
/// and its end date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuarterEnd {
    /// The academic year (named by its start year).
    pub academic_year: i32,
    /// `ReportPeriod::Quarter(1..=4)`.
    pub quarter: ReportPeriod,
    /// The quarter's last day.
    pub end: NaiveDate,
}

/// The period whose results the weekly update in force on `day` showed as
/// the current indicator, or `None` before anything was published.
///
/// Of the periods published by that update (the latest Sunday on or before
/// `day`), the one published last wins; the annual report, published with Q4,
/// wins over Q4 while it is current, and stops being current with the update
/// of the week holding 1 September of the next year (the first Sunday on or
/// after that day).
pub fn period_in_force(
    quarters: &[QuarterEnd],
    day: NaiveDate,
) -> Result<Option<(i32, ReportPeriod)>, CalendarError> {
    let update = update_sunday(day)?;
    let mut best: Option<(NaiveDate, ReportPeriod, i32)> = None;
    let mut consider = |published: NaiveDate, period: ReportPeriod, year: i32| {
        let key = (published, period, year);
        // Same Sunday: the year beats its Q4 (`Year` orders last).
        if best.is_none_or(|b| (b.0, b.1, b.2) < key) {
            best = Some(key);
        }
    };
    for q in quarters {
        let published = publication_sunday(q.end)?;
        if published > update {
            continue;
        }
        consider(published, q.quarter, q.academic_year);
        if q.quarter == ReportPeriod::Quarter(4) {
            let expires = NaiveDate::from_ymd_opt(q.academic_year + 1, 9, 1)
                .map(publication_sunday)
                .transpose()?;
            if expires.is_none_or(|e| update < e) {
                consider(published, ReportPeriod::Year, q.academic_year);
            }
        }
    }
    Ok(best.map(|(_, period, year)| (year, period)))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect(s)
    }

    /// 2021–2022 as in the seed (Q1 02.09–29.10.2021), and 2022's Q1.
    fn calendar() -> Vec<QuarterEnd> {
        let q = |year, n, end| QuarterEnd {
            academic_year: year,
            quarter: ReportPeriod::Quarter(n),
            end: date(end),
        };
        vec![
            q(2021, 1, "2021-10-29"), // Friday → published Sunday 31.10
            q(2021, 2, "2021-12-28"), // Tuesday → Sunday 02.01.2022
            q(2021, 3, "2022-03-18"), // Friday → Sunday 20.03
            q(2021, 4, "2022-05-25"), // Wednesday → Sunday 29.05
            q(2022, 1, "2022-10-28"), // Friday → Sunday 30.10
        ]
    }

    fn at(day: &str) -> Option<(i32, &'static str)> {
        period_in_force(&calendar(), date(day))
            .expect("in range")
            .map(|(y, p)| (y, p.name()))
    }

    #[test]
    fn nothing_before_the_first_publication() {
        assert_eq!(at("2021-09-15"), None);
        // Saturday 30.10: the update in force is still Sunday 24.10.
        assert_eq!(at("2021-10-30"), None);
    }

    #[test]
    fn a_quarter_from_its_publication_sunday_until_the_next() {
        assert_eq!(at("2021-10-31"), Some((2021, "Q1")));
        assert_eq!(at("2021-11-01"), Some((2021, "Q1")));
        // During Q2 the indicator shows the previous quarter.
        assert_eq!(at("2022-01-01"), Some((2021, "Q1")));
        assert_eq!(at("2022-01-02"), Some((2021, "Q2")));
        assert_eq!(at("2022-03-19"), Some((2021, "Q2")));
        assert_eq!(at("2022-03-20"), Some((2021, "Q3")));
    }

    #[test]
    fn the_annual_report_until_the_week_of_1_september() {
        assert_eq!(at("2022-05-28"), Some((2021, "Q3")));
        // Published with Q4: the year wins over Q4.
        assert_eq!(at("2022-05-29"), Some((2021, "YEAR")));
        assert_eq!(at("2022-08-31"), Some((2021, "YEAR")));
        // 1 September 2022 is a Thursday: the week's update is Sunday 04.09.
        assert_eq!(at("2022-09-03"), Some((2021, "YEAR")));
        assert_eq!(at("2022-09-04"), Some((2021, "Q4")));
        assert_eq!(at("2022-10-29"), Some((2021, "Q4")));
        assert_eq!(at("2022-10-30"), Some((2022, "Q1")));
    }

    #[test]
    fn a_1_september_that_is_a_sunday_ends_the_year_that_day() {
        let cal = [QuarterEnd {
            academic_year: 2018,
            quarter: ReportPeriod::Quarter(4),
            end: date("2019-05-24"),
        }];
        // 1 September 2019 is a Sunday.
        let on = |d| period_in_force(&cal, date(d)).expect("in range");
        assert_eq!(on("2019-08-31"), Some((2018, ReportPeriod::Year)));
        assert_eq!(on("2019-09-01"), Some((2018, ReportPeriod::Quarter(4))));
    }
}
