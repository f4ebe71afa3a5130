//! Final marks of one student in one academic year, with their history.
//!
//! Each student has a latent ability (their own, plus school and region
//! effects, see [`super::schools`]); each subject adds a personal strength
//! and its difficulty, each quarter some noise, and cut points turn the
//! result into 5/4/3/2. Because a student is `good` only when every one of
//! ~12 marks is 4 or better, the cut points are set for the student-level
//! shares (knowledge quality ≈ 55–62 %, ~10–15 % excellent, ≈ 99 %
//! performance), not for per-mark shares.
//!
//! Everything is drawn from one stream per (student, year), so a student who
//! changes class or school gets the same marks wherever they are emitted.

use sapa_udfs::Mark;

use super::Rates;
use super::calendar::{AcademicCalendar, date32};
use super::rng::{Stream, Tag};
use super::subjects::{Lang, Marking, PE, curriculum, subject};
use chrono::{Days, NaiveDate};

/// Mark periods in emission order (`marks.period`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Period {
    Q1,
    Q2,
    Q3,
    Q4,
    Year,
    Final,
}

impl Period {
    pub(crate) const QUARTERS: [Period; 4] = [Period::Q1, Period::Q2, Period::Q3, Period::Q4];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Period::Q1 => "Q1",
            Period::Q2 => "Q2",
            Period::Q3 => "Q3",
            Period::Q4 => "Q4",
            Period::Year => "YEAR",
            Period::Final => "FINAL",
        }
    }

    /// The quarter whose end closes the period (Q4 for YEAR and FINAL).
    pub(crate) fn closing_quarter(self) -> usize {
        match self {
            Period::Q1 => 0,
            Period::Q2 => 1,
            Period::Q3 => 2,
            _ => 3,
        }
    }
}

/// One version of one mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MarkRow {
    pub(crate) subject: i64,
    pub(crate) period: Period,
    /// `None`: the mark was cleared.
    pub(crate) mark: Option<Mark>,
    /// Microseconds since 1970-01-01T00:00:00.
    pub(crate) recorded_at: i64,
}

/// Cut points on the latent scale: 5 above `T5`, 4 above `T4`, 3 above `T3`,
/// 2 above `T2`, else 1.
const T5: f64 = 0.5;
const T4: f64 = -1.05;
const T3: f64 = -3.55;
const T2: f64 = -5.0;
/// Spread of a student's subject strengths, and of quarter-to-quarter noise.
const SUBJECT_SD: f64 = 0.45;
const QUARTER_SD: f64 = 0.35;

/// Primary grades are marked more generously, grades 5–9 more strictly.
pub(crate) fn grade_effect(parallel: i32) -> f64 {
    match parallel {
        2..=4 => 0.35,
        5 => 0.1,
        6 => 0.0,
        7 => -0.15,
        8 | 9 => -0.2,
        10 => -0.05,
        11 => 0.05,
        _ => -0.1,
    }
}

/// What sets a student's year apart, drawn first from their stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flags {
    /// Exempt from everything (`БОС` in every subject).
    pub(crate) exempt_all: bool,
    /// Exempt from physical education on health grounds.
    pub(crate) pe_exempt: bool,
    /// Did not study the second language (arrived from abroad).
    pub(crate) not_studied: bool,
    /// Not attested in one quarter (long illness), in a few subjects.
    pub(crate) not_attested: Option<(usize, usize)>,
    /// Temporarily not attested in one quarter, in one subject.
    pub(crate) temp_not_attested: Option<(usize, usize)>,
    /// This year's form, on top of ability.
    pub(crate) drift: f64,
}

/// The stream of a student's year.
pub(crate) fn stream(seed: u64, student_id: i64, year: i32) -> Stream {
    Stream::new(seed, Tag::Marks, &[student_id, i64::from(year)])
}

/// Draws the flags: always the first draws of the student's year stream.
pub(crate) fn flags(rng: &mut Stream, rates: &Rates) -> Flags {
    let exempt_all = rng.chance(rates.exempt_all);
    let pe_exempt = rng.chance(rates.pe_exempt);
    let not_studied = rng.chance(rates.not_studied);
    let na = rng.chance(rates.not_attested);
    let na_q = rng.below(4);
    let na_n = rng.range(1, 3) as usize;
    let ta = rng.chance(rates.temp_not_attested);
    let ta_q = rng.below(4);
    let ta_s = rng.below(16);
    Flags {
        exempt_all,
        pe_exempt,
        not_studied,
        not_attested: na.then_some((na_q, na_n)),
        temp_not_attested: ta.then_some((ta_q, ta_s)),
        drift: 0.15 * rng.normal(),
    }
}

/// The marks of a student's year, every version, ordered by subject, period
/// and time. `half_year` classes are marked at Q2 and Q4 only.
#[allow(clippy::too_many_arguments)]
pub(crate) fn student_year(
    seed: u64,
    rates: &Rates,
    cal: &AcademicCalendar,
    student_id: i64,
    ability: f64,
    parallel: i32,
    lang: Lang,
    half_year: bool,
    out: &mut Vec<MarkRow>,
) {
    let lessons = curriculum(parallel, lang);
    if lessons.is_empty() {
        return;
    }
    let mut rng = stream(seed, student_id, cal.year);
    let f = flags(&mut rng, rates);
    let base = ability + f.drift + grade_effect(parallel);
    let second_language = match lang {
        Lang::Kk => 6,
        Lang::Ru => 5,
    };
    let quarters: &[usize] = if half_year { &[1, 3] } else { &[0, 1, 2, 3] };
    for (li, lesson) in lessons.iter().enumerate() {
        let strength = base - subject(lesson.subject).difficulty + SUBJECT_SD * rng.normal();
        let mut current: [Option<Mark>; 4] = [None; 4];
        for &q in quarters {
            let x = strength + QUARTER_SD * rng.normal();
            let mut mark = match lesson.marking {
                Marking::Graded => graded(x),
                Marking::Credit => credit(x),
            };
            if f.exempt_all || (f.pe_exempt && lesson.subject == PE) {
                mark = Mark::Exempt;
            } else if f.not_studied && lesson.subject == second_language {
                mark = Mark::NotStudied;
            } else if f
                .not_attested
                .is_some_and(|(nq, n)| nq == q && li < n * 3 && li % 3 == 0)
            {
                mark = Mark::NotAttested;
            } else if f
                .temp_not_attested
                .is_some_and(|(tq, ts)| tq == q && ts % lessons.len() == li)
            {
                mark = Mark::TemporarilyNotAttested;
            }
            current[q] = versions(
                &mut rng,
                rates,
                cal.quarter_end(q),
                lesson.subject,
                Period::QUARTERS[q],
                mark,
                out,
            );
        }
        let Some(year_mark) = summarise(&current) else {
            continue;
        };
        let year_now = versions(
            &mut rng,
            rates,
            cal.end(),
            lesson.subject,
            Period::Year,
            year_mark,
            out,
        );
        if lesson.exam
            && !f.exempt_all
            && let Some(y) = year_now.and_then(numeric)
        {
            // The exam mostly confirms the year mark.
            let u = rng.unit();
            // Failing the exam is rarer than a weaker result.
            let fin = if u < 0.08 {
                (y - 1).max(3.min(y))
            } else if u < 0.16 {
                (y + 1).min(5)
            } else {
                y
            };
            versions(
                &mut rng,
                rates,
                cal.end(),
                lesson.subject,
                Period::Final,
                from_numeric(fin),
                out,
            );
        }
    }
}

fn graded(x: f64) -> Mark {
    if x > T5 {
        Mark::Five
    } else if x > T4 {
        Mark::Four
    } else if x > T3 {
        Mark::Three
    } else if x > T2 {
        Mark::Two
    } else {
        Mark::One
    }
}

fn credit(x: f64) -> Mark {
    if x > T3 - 0.5 {
        Mark::Credited
    } else {
        Mark::NotCredited
    }
}

fn numeric(m: Mark) -> Option<i32> {
    match m {
        Mark::Five => Some(5),
        Mark::Four => Some(4),
        Mark::Three => Some(3),
        Mark::Two => Some(2),
        Mark::One => Some(1),
        _ => None,
    }
}

fn from_numeric(n: i32) -> Mark {
    match n {
        5.. => Mark::Five,
        4 => Mark::Four,
        3 => Mark::Three,
        2 => Mark::Two,
        _ => Mark::One,
    }
}

/// The YEAR mark from the current quarter marks: the rounded mean of the
/// numeric ones (half up), else the credit that won, else the first special
/// mark by severity; `None` when no quarter has a mark.
pub(crate) fn summarise(quarters: &[Option<Mark>]) -> Option<Mark> {
    let marks: Vec<Mark> = quarters.iter().flatten().copied().collect();
    let nums: Vec<i32> = marks.iter().filter_map(|&m| numeric(m)).collect();
    if !nums.is_empty() {
        let sum: i32 = nums.iter().sum();
        let n = nums.len() as i32;
        // Half up: (2·sum + n) / (2n) in integers.
        return Some(from_numeric((2 * sum + n) / (2 * n)));
    }
    let credited = marks.iter().filter(|&&m| m == Mark::Credited).count();
    let failed = marks.iter().filter(|&&m| m == Mark::NotCredited).count();
    if credited + failed > 0 {
        return Some(if credited >= failed {
            Mark::Credited
        } else {
            Mark::NotCredited
        });
    }
    [
        Mark::NotAttested,
        Mark::TemporarilyNotAttested,
        Mark::Exempt,
        Mark::NotStudied,
    ]
    .into_iter()
    .find(|m| marks.contains(m))
}

/// Records a mark's versions and returns its current value.
///
/// Most marks get one version at or shortly before the period end; some are
/// set late (after the end), some changed (an earlier different value, then
/// the final one), some cleared (the value, then an empty version).
fn versions(
    rng: &mut Stream,
    rates: &Rates,
    end: NaiveDate,
    subject: i64,
    period: Period,
    mark: Mark,
    out: &mut Vec<MarkRow>,
) -> Option<Mark> {
    let u = rng.unit();
    let days_before = if rng.chance(0.55) { 0 } else { rng.range(1, 6) };
    let day = end - Days::new(days_before as u64);
    let at = timestamp(day, rng.range(8 * 3600, 19 * 3600 - 1));
    let mut push = |mark, recorded_at| {
        out.push(MarkRow {
            subject,
            period,
            mark,
            recorded_at,
        })
    };
    if u < rates.late {
        let late_day = end + Days::new(rng.range(1, 14) as u64);
        push(
            Some(mark),
            timestamp(late_day, rng.range(8 * 3600, 19 * 3600 - 1)),
        );
        Some(mark)
    } else if u < rates.late + rates.changed {
        let later = later_than(rng, day, at);
        push(Some(previous_value(mark, rng)), at);
        push(Some(mark), later);
        Some(mark)
    } else if u < rates.late + rates.changed + rates.cleared {
        let later = later_than(rng, day, at);
        push(Some(mark), at);
        push(None, later);
        None
    } else {
        push(Some(mark), at);
        Some(mark)
    }
}

/// A working-hours moment after `at` (which falls on `day`): later the same
/// day or on one of the next ten days.
fn later_than(rng: &mut Stream, day: NaiveDate, at: i64) -> i64 {
    let days = rng.range(0, 10);
    if days == 0 {
        return at + rng.range(600, 3 * 3600) * 1_000_000;
    }
    timestamp(
        day + Days::new(days as u64),
        rng.range(8 * 3600, 19 * 3600 - 1),
    )
}

/// The value a changed mark had before.
fn previous_value(mark: Mark, rng: &mut Stream) -> Mark {
    match mark {
        Mark::Five => Mark::Four,
        Mark::Two | Mark::One => Mark::Three,
        Mark::Credited => Mark::NotCredited,
        Mark::NotCredited => Mark::Credited,
        Mark::Four | Mark::Three => {
            if rng.chance(0.5) {
                from_numeric(numeric(mark).unwrap_or(4) + 1)
            } else {
                from_numeric(numeric(mark).unwrap_or(4) - 1)
            }
        }
        _ => Mark::Four,
    }
}

/// Microseconds since the epoch of `day` at `seconds` after midnight.
pub(crate) fn timestamp(day: NaiveDate, seconds: i64) -> i64 {
    (i64::from(date32(day)) * 86_400 + seconds) * 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::Scale;

    #[test]
    fn year_marks_round_half_up() {
        let q = |xs: &[Option<Mark>]| summarise(xs);
        assert_eq!(
            q(&[Some(Mark::Four), Some(Mark::Five), None, None]),
            Some(Mark::Five)
        );
        assert_eq!(
            q(&[Some(Mark::Four), Some(Mark::Four), Some(Mark::Five), None]),
            Some(Mark::Four)
        );
        assert_eq!(
            q(&[
                Some(Mark::Three),
                Some(Mark::Three),
                Some(Mark::Four),
                Some(Mark::Four)
            ]),
            Some(Mark::Four)
        );
        assert_eq!(
            q(&[Some(Mark::NotAttested), Some(Mark::Three), None, None]),
            Some(Mark::Three)
        );
        assert_eq!(
            q(&[Some(Mark::Exempt), Some(Mark::Exempt)]),
            Some(Mark::Exempt)
        );
        assert_eq!(
            q(&[Some(Mark::Credited), Some(Mark::NotCredited)]),
            Some(Mark::Credited)
        );
        assert_eq!(q(&[None, None]), None);
    }

    #[test]
    fn a_year_has_every_period_and_ordered_versions() {
        let rates = Scale::National.rates();
        let cal = AcademicCalendar::of(2023).unwrap();
        let mut out = Vec::new();
        student_year(5, &rates, &cal, 42, 0.0, 9, Lang::Kk, false, &mut out);
        let subjects = curriculum(9, Lang::Kk);
        for l in &subjects {
            let of: Vec<&MarkRow> = out.iter().filter(|r| r.subject == l.subject).collect();
            for p in [Period::Q1, Period::Q2, Period::Q3, Period::Q4, Period::Year] {
                assert!(
                    of.iter().any(|r| r.period == p),
                    "subject {} {p:?}",
                    l.subject
                );
            }
            assert_eq!(of.iter().any(|r| r.period == Period::Final), l.exam);
        }
        for w in out.windows(2) {
            let key = |r: &MarkRow| (r.subject, r.period, r.recorded_at);
            assert!(key(&w[0]) < key(&w[1]), "{w:?}");
        }
        let mut none = Vec::new();
        student_year(5, &rates, &cal, 42, 0.0, 1, Lang::Kk, false, &mut none);
        assert!(none.is_empty(), "grade 1 has no marks");
        let mut half = Vec::new();
        student_year(5, &rates, &cal, 42, 0.0, 10, Lang::Ru, true, &mut half);
        assert!(
            half.iter()
                .all(|r| matches!(r.period, Period::Q2 | Period::Q4 | Period::Year))
        );
    }

    /// Knowledge quality and excellent share of Q2 over `n` grade-6
    /// students whose ability is normal around `mean`.
    fn q2_shares(mean: f64, n: i64) -> (f64, f64, f64) {
        use crate::generate::rng::{Stream, Tag};
        use sapa_udfs::{Status, status_of};
        let rates = Scale::National.rates();
        let cal = AcademicCalendar::of(2022).unwrap();
        let mut rng = Stream::new(1, Tag::Cohort, &[]);
        let mut out = Vec::new();
        let (mut good, mut excellent, mut low, mut counted) = (0.0, 0.0, 0.0, 0.0);
        for id in 0..n {
            out.clear();
            student_year(
                9,
                &rates,
                &cal,
                id,
                mean + rng.normal(),
                6,
                Lang::Kk,
                false,
                &mut out,
            );
            // The current (last) version of each certified Q2 mark.
            let mut current: std::collections::BTreeMap<i64, Option<Mark>> = Default::default();
            for r in out
                .iter()
                .filter(|r| r.period == Period::Q2 && subject(r.subject).certified)
            {
                current.insert(r.subject, r.mark);
            }
            match status_of(current.values().flatten().copied()) {
                Status::Exempt | Status::Ungraded => continue,
                Status::Excellent => excellent += 1.0,
                Status::Good => good += 1.0,
                Status::Low => low += 1.0,
                Status::Satisfactory => {}
            }
            counted += 1.0;
        }
        (
            (good + excellent) / counted,
            excellent / counted,
            low / counted,
        )
    }

    #[test]
    fn student_level_shares_match_the_national_picture() {
        // An average general-school student population in grade 6 (grade
        // effect 0): about half are good or excellent, one in ten excellent,
        // about one in a hundred low.
        let (quality, excellent, low) = q2_shares(0.1, 3000);
        assert!((0.42..=0.62).contains(&quality), "quality {quality}");
        assert!((0.05..=0.16).contains(&excellent), "excellent {excellent}");
        assert!(low < 0.03, "low {low}");
        // A gymnasium's students (+0.75) do markedly better.
        let (gym, _, _) = q2_shares(0.85, 3000);
        assert!(gym > quality + 0.15, "gymnasium {gym} vs {quality}");
    }

    #[test]
    fn timestamps_are_microseconds() {
        let d = NaiveDate::from_ymd_opt(1970, 1, 2).unwrap();
        assert_eq!(timestamp(d, 3661), (86_400 + 3661) * 1_000_000);
    }
}
