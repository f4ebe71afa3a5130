//! The stretches of one student's versions, worked out by hand.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;

use super::*;

/// Sundays of autumn 2024 as day numbers: 20 and 27 October, 3 and 10 November.
fn sunday(n: usize) -> i32 {
    let day = [(10, 20), (10, 27), (11, 3), (11, 10)][n];
    let date = NaiveDate::from_ymd_opt(2024, day.0, day.1).unwrap();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    i32::try_from((date - epoch).num_days()).unwrap()
}

fn v(subject: i64, mark: Option<&str>, shown: usize) -> Version {
    Version {
        subject,
        is_final: false,
        mark: mark.map(|m| lookup_mark(m).unwrap().unwrap()),
        shown: sunday(shown),
    }
}

fn fin(subject: i64, mark: Option<&str>, shown: usize) -> Version {
    Version {
        is_final: true,
        ..v(subject, mark, shown)
    }
}

const UNGRADED: Value = (Status::Ungraded, 0);

#[test]
fn before_the_first_version_a_student_is_ungraded() {
    let s = stretches(vec![v(1, Some("5"), 1)]);
    assert_eq!(s, [(None, sunday(1), UNGRADED)]);
    // Exempt-only: ungraded before, exempt (one mark) after.
    let s = stretches(vec![v(1, Some("БОС"), 0), v(2, Some("О/Ж"), 0)]);
    assert_eq!(s, [(None, sunday(0), UNGRADED)]);
    assert_eq!(
        value_at(&[v(1, Some("БОС"), 0)], sunday(0)),
        (Status::Exempt, 1)
    );
}

#[test]
fn a_changed_mark_gives_its_earlier_value_until_the_change_is_shown() {
    let s = stretches(vec![v(1, Some("4"), 0), v(1, Some("5"), 2)]);
    assert_eq!(
        s,
        [
            (None, sunday(0), UNGRADED),
            (Some(sunday(0)), sunday(2), (Status::Good, 1)),
        ]
    );
}

#[test]
fn a_cleared_mark_counted_until_the_clearing_is_shown() {
    // Current: no mark at all, so ungraded; before the first version too.
    let s = stretches(vec![v(1, Some("5"), 1), v(1, None, 2)]);
    assert_eq!(s, [(Some(sunday(1)), sunday(2), (Status::Excellent, 1))]);
}

#[test]
fn marks_of_several_subjects_arrive_week_by_week() {
    // A 5 shown on the 27th, a 3 on 3 November: satisfactory (two marks) now.
    let s = stretches(vec![v(1, Some("5"), 1), v(2, Some("3"), 2)]);
    assert_eq!(
        s,
        [
            (None, sunday(1), UNGRADED),
            (Some(sunday(1)), sunday(2), (Status::Excellent, 1)),
        ]
    );
    // A late failing mark turns an excellent student low.
    let s = stretches(vec![
        v(1, Some("5"), 0),
        v(2, Some("5"), 0),
        v(3, Some("2"), 3),
    ]);
    assert_eq!(
        s,
        [
            (None, sunday(0), UNGRADED),
            (Some(sunday(0)), sunday(3), (Status::Excellent, 2)),
        ]
    );
}

#[test]
fn equal_neighbouring_stretches_are_one_row() {
    // The 3 re-recorded a week later changes nothing: one stretch 20 Oct – 3 Nov.
    let s = stretches(vec![
        v(1, Some("3"), 0),
        v(1, Some("3"), 1),
        v(2, Some("5"), 2),
    ]);
    assert_eq!(
        s,
        [
            (None, sunday(0), UNGRADED),
            (Some(sunday(0)), sunday(2), (Status::Satisfactory, 1)),
        ]
    );
}

#[test]
fn the_annual_mark_is_final_if_set_else_year() {
    // YEAR 4 shown 20 Oct; FINAL 5 shown 27 Oct; FINAL cleared 3 Nov: the
    // current annual mark is the YEAR 4 again.
    let versions = vec![v(1, Some("4"), 0), fin(1, Some("5"), 1), fin(1, None, 2)];
    assert_eq!(value_at(&versions, i32::MAX), (Status::Good, 1));
    assert_eq!(
        stretches(versions),
        [
            (None, sunday(0), UNGRADED),
            (Some(sunday(1)), sunday(2), (Status::Excellent, 1)),
        ]
    );
    // A FINAL without a YEAR mark counts alone; FINALs arriving in any
    // order among the subjects' versions are sorted into place.
    let versions = vec![fin(2, Some("2"), 1), v(1, Some("5"), 0)];
    assert_eq!(value_at(&versions, sunday(0)), (Status::Excellent, 1));
    assert_eq!(value_at(&versions, i32::MAX), (Status::Low, 2));
    assert_eq!(
        stretches(versions),
        [
            (None, sunday(0), UNGRADED),
            (Some(sunday(0)), sunday(1), (Status::Excellent, 1)),
        ]
    );
}
