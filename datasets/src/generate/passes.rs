//! What each pass generates for one school: its enrollments, its marks, its
//! MODO results. Each regenerates the school's rosters from the seed.

use super::GenerateError;
use super::World;
use super::batches::{ClassRows, EnrollmentRows, MarkRows, ModoRows};
use super::calendar::date32;
use super::marks;
use super::modo;
use super::roster;
use super::skeleton::{Journal, PeriodType};

/// Class rows of one school: its skeleton.
pub(crate) fn school_classes(world: &World, i: usize) -> Result<ClassRows, GenerateError> {
    let school = &world.schools[i];
    let sk = world.skeleton(i)?;
    let mut rows = ClassRows::default();
    for c in &sk.classes {
        rows.class_id.push(c.id);
        rows.school_id.push(school.id);
        rows.year.push(c.year);
        rows.parallel.push(c.parallel);
        rows.letter.push(c.letter.clone());
        rows.journal.push(match c.journal {
            Journal::Criterial => "criterial",
            Journal::Other => "other",
        });
        rows.period.push(match c.period {
            PeriodType::Quarter => "quarter",
            PeriodType::HalfYear => "half_year",
        });
    }
    Ok(rows)
}

/// Enrollment rows of one school (by class, then student) and the number of
/// students it had on the first day of each year.
pub(crate) fn school_enrollments(
    world: &World,
    i: usize,
) -> Result<(EnrollmentRows, Vec<(i32, u64)>), GenerateError> {
    let sk = world.skeleton(i)?;
    let rosters = roster::rosters(world, i, &sk)?;
    let mut rows = EnrollmentRows::default();
    let mut counts = Vec::with_capacity(rosters.len());
    for (yi, r) in rosters.iter().enumerate() {
        let cal = &world.calendars[yi];
        let mut entries: Vec<(i64, i64, i32, Option<i32>)> = r
            .placements
            .iter()
            .flat_map(|p| {
                p.segments.iter().map(|s| {
                    (
                        sk.classes[s.class].id,
                        p.student.id,
                        date32(s.from),
                        s.to.map(date32),
                    )
                })
            })
            .collect();
        entries.sort_unstable();
        for (class_id, student_id, from, to) in entries {
            rows.student_id.push(student_id);
            rows.class_id.push(class_id);
            rows.from.push(from);
            rows.to.push(to);
        }
        let first_day = r
            .placements
            .iter()
            .filter(|p| p.segments[0].from == cal.start())
            .count();
        counts.push((world.years[yi], first_day as u64));
    }
    Ok((rows, counts))
}

/// Mark rows of one school: per class, per student, the periods whose end
/// the student spent in that class (SPEC §4.3).
pub(crate) fn school_marks(world: &World, i: usize) -> Result<MarkRows, GenerateError> {
    let sk = world.skeleton(i)?;
    let rosters = roster::rosters(world, i, &sk)?;
    let classes = &sk.classes;
    let mut rows = MarkRows::default();
    let mut year_marks = Vec::with_capacity(128);
    for (yi, r) in rosters.iter().enumerate() {
        let cal = &world.calendars[yi];
        let mut entries: Vec<(i64, i64, usize, usize)> = r
            .placements
            .iter()
            .enumerate()
            .flat_map(|(pi, p)| {
                p.segments
                    .iter()
                    .enumerate()
                    .map(move |(si, s)| (classes[s.class].id, p.student.id, pi, si))
            })
            .collect();
        entries.sort_unstable();
        for (class_id, _, pi, si) in entries {
            let p = &r.placements[pi];
            let seg = p.segments[si];
            let class = &sk.classes[seg.class];
            if p.parallel < 2 {
                continue;
            }
            let mut holds = [false; 4];
            for (q, h) in holds.iter_mut().enumerate() {
                *h = seg.active_on(cal.quarter_end(q));
            }
            if !holds.iter().any(|&h| h) {
                continue;
            }
            year_marks.clear();
            marks::student_year(
                world.seed,
                &world.rates,
                cal,
                p.student.id,
                f64::from(p.student.ability),
                p.parallel,
                p.student.lang,
                class.period == PeriodType::HalfYear,
                &mut year_marks,
            );
            for m in &year_marks {
                if !holds[m.period.closing_quarter()] {
                    continue;
                }
                rows.student_id.push(p.student.id);
                rows.class_id.push(class_id);
                rows.subject_id.push(m.subject);
                rows.period.push(m.period);
                rows.mark.push(m.mark);
                rows.recorded_at.push(m.recorded_at);
            }
        }
    }
    Ok(rows)
}

/// MODO rows of one school for its drawn years.
pub(crate) fn school_modo(
    world: &World,
    i: usize,
    years: &[usize],
) -> Result<ModoRows, GenerateError> {
    let sk = world.skeleton(i)?;
    let rosters = roster::rosters(world, i, &sk)?;
    let mut rows = ModoRows::default();
    let mut out = Vec::new();
    for &yi in years {
        out.clear();
        modo::results(world, yi, &rosters[yi], &mut out);
        for r in &out {
            rows.student_id.push(r.student_id);
            rows.school_id.push(world.schools[i].id);
            rows.year.push(r.year);
            rows.grade.push(r.grade);
            rows.domain.push(r.domain);
            rows.score.push(r.score);
            rows.max_score.push(r.max_score);
        }
    }
    Ok(rows)
}
