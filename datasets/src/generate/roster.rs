//! Rosters: which students sit in which class, year after year.
//!
//! A school's own ("native") students flow through its skeleton: each year
//! they move up a grade, a few leave, grade 11 graduates, and newcomers fill
//! the planned places; ids are kept across years. During a year a few
//! students change class inside the school, a few leave the system, and a few
//! transfer to the next school of the same district, where they stay. The
//! native flow of a school depends only on its own skeleton and its
//! destination's, so the receiving school can replay its source's flow to
//! learn who arrives: every roster is regenerated from the seed alone.

use chrono::{Days, NaiveDate};

use super::World;
use super::calendar::AcademicCalendar;
use super::rng::{Stream, Tag};
use super::schools::School;
use super::skeleton::Skeleton;
use super::skeleton::TooManyClasses;
use super::subjects::Lang;

/// Student ids are `school_id * STUDENT_ID_SPAN + n` (the school they first
/// enrolled in).
pub(crate) const STUDENT_ID_SPAN: i64 = 100_000;

/// A student: the attributes their marks are drawn from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Student {
    pub(crate) id: i64,
    pub(crate) lang: Lang,
    /// Latent ability, school and region effects included.
    pub(crate) ability: f32,
}

/// A stretch of membership of one class (an `enrollments` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Index into the school's skeleton classes.
    pub(crate) class: usize,
    pub(crate) from: NaiveDate,
    pub(crate) to: Option<NaiveDate>,
}

impl Segment {
    /// Whether the membership is active on `day` (SPEC §4.3).
    pub(crate) fn active_on(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|t| day <= t)
    }
}

/// A student's memberships in one school during one year.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    pub(crate) student: Student,
    pub(crate) parallel: i32,
    pub(crate) segments: Vec<Segment>,
}

/// Who sits where in one school in one academic year.
#[derive(Debug, Clone, Default)]
pub(crate) struct YearRoster {
    pub(crate) placements: Vec<Placement>,
}

/// A transfer to the destination school.
#[derive(Debug, Clone, Copy)]
struct Transfer {
    student: Student,
    year_index: usize,
    parallel: i32,
    /// First day in the new school.
    from: NaiveDate,
    /// Class index in the destination's skeleton.
    class: usize,
}

/// The native flow of one school.
struct NativeFlow {
    years: Vec<YearRoster>,
    transfers: Vec<Transfer>,
}

/// Why a roster cannot be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RosterError {
    /// A school takes in more students than its id span holds.
    #[error("school {school_id} enrols more than {max} students over the generated years")]
    TooManyStudents { school_id: i64, max: i64 },
    /// A neighbouring school's skeleton cannot be drawn.
    #[error(transparent)]
    Skeleton(#[from] TooManyClasses),
}

#[derive(Debug, Clone, Copy)]
struct Member {
    student: Student,
    parallel: i32,
    /// The class position within its group last year (`u32::MAX` for newcomers).
    pos: u32,
}

/// The full rosters (natives and students who transferred in) of school
/// `index` of the world, one per generated year.
pub(crate) fn rosters(
    world: &World,
    index: usize,
    sk: &Skeleton,
) -> Result<Vec<YearRoster>, RosterError> {
    let school = &world.schools[index];
    let (source, dest) = world.neighbours[index];
    let dest_sk = dest.map(|d| world.skeleton(d)).transpose()?;
    let own = native_flow(world, school, sk, dest_sk.as_ref())?;
    let mut years = own.years;
    if let Some(src) = source {
        let src_sk = world.skeleton(src)?;
        let flow = native_flow(world, &world.schools[src], &src_sk, Some(sk))?;
        add_guests(world, school, sk, &flow.transfers, &mut years);
    }
    Ok(years)
}

fn native_flow(
    world: &World,
    school: &School,
    sk: &Skeleton,
    dest: Option<&Skeleton>,
) -> Result<NativeFlow, RosterError> {
    let rates = &world.rates;
    let mut rng = Stream::new(world.seed, Tag::Roster, &[school.id]);
    let mut next_id: i64 = 1;
    let mut members: Vec<Member> = Vec::new();
    let mut years = Vec::with_capacity(world.years.len());
    let mut transfers = Vec::new();
    for (yi, (&year, cal)) in world.years.iter().zip(&world.calendars).enumerate() {
        // Move everyone up a grade; grade 11 (12) graduates, a few leave.
        let mut moved: Vec<Member> = Vec::with_capacity(members.len());
        for m in members.drain(..) {
            let parallel = m.parallel + 1;
            if parallel > school.grades.1 || rng.chance(rates.attrition) {
                continue;
            }
            moved.push(Member { parallel, ..m });
        }
        let mut roster = YearRoster::default();
        let mut stay: Vec<Member> = Vec::with_capacity(moved.len() + 64);
        for group in sk.groups_of(year) {
            let mut in_group: Vec<Member> = moved
                .iter()
                .filter(|m| m.parallel == group.parallel && m.student.lang == group.lang)
                .copied()
                .collect();
            let target = group.target as usize;
            if in_group.len() > target {
                // Keep a random `target` of them (the rest go to colleges or move away).
                rng.shuffle(&mut in_group);
                in_group.truncate(target);
            }
            while in_group.len() < target {
                if next_id >= STUDENT_ID_SPAN {
                    return Err(RosterError::TooManyStudents {
                        school_id: school.id,
                        max: STUDENT_ID_SPAN - 1,
                    });
                }
                let ability = (school.effect + rng.normal()) as f32;
                in_group.push(Member {
                    student: Student {
                        id: school.id * STUDENT_ID_SPAN + next_id,
                        lang: group.lang,
                        ability,
                    },
                    parallel: group.parallel,
                    pos: u32::MAX,
                });
                next_id += 1;
            }
            // Classes keep their students: order by last year's class, then id,
            // and cut into even consecutive runs.
            in_group.sort_by_key(|m| (m.pos, m.student.id));
            let n_classes = group.classes.len();
            let len = in_group.len();
            for (k, m) in in_group.iter_mut().enumerate() {
                let pos = k * n_classes / len.max(1);
                let class = group.classes.start + pos;
                m.pos = pos as u32;
                let start = cal.start();
                let mut segments = vec![Segment {
                    class,
                    from: start,
                    to: None,
                }];
                let regular = sk.classes[class].regular();
                let u = rng.unit();
                let mut leaves = false;
                if regular && u < rates.transfer && group.parallel >= 1 {
                    let targets = dest
                        .map(|d| d.regular_classes(year, group.parallel, group.lang))
                        .unwrap_or_default();
                    if !targets.is_empty() {
                        let day = move_day(&mut rng, cal);
                        segments[0].to = Some(day);
                        transfers.push(Transfer {
                            student: m.student,
                            year_index: yi,
                            parallel: group.parallel,
                            from: day + Days::new(1),
                            class: targets[rng.below(targets.len())],
                        });
                        leaves = true;
                    }
                } else if regular && u < rates.transfer + rates.class_change {
                    let others: Vec<usize> = sk
                        .regular_classes(year, group.parallel, group.lang)
                        .into_iter()
                        .filter(|&c| c != class)
                        .collect();
                    if !others.is_empty() {
                        let day = move_day(&mut rng, cal);
                        segments[0].to = Some(day);
                        segments.push(Segment {
                            class: others[rng.below(others.len())],
                            from: day + Days::new(1),
                            to: None,
                        });
                    }
                } else if u < rates.transfer + rates.class_change + rates.dropout {
                    segments[0].to = Some(move_day(&mut rng, cal));
                    leaves = true;
                }
                roster.placements.push(Placement {
                    student: m.student,
                    parallel: group.parallel,
                    segments,
                });
                if !leaves {
                    stay.push(*m);
                }
            }
        }
        members = stay;
        years.push(roster);
    }
    Ok(NativeFlow { years, transfers })
}

/// A day between the end of Q1, Q2 or Q3 and the end of the next quarter:
/// the quarters up to that end stay in the old class, the rest go to the new.
fn move_day(rng: &mut Stream, cal: &AcademicCalendar) -> NaiveDate {
    let q = rng.below(3);
    let from = cal.quarter_end(q);
    let span = (cal.quarter_end(q + 1) - from).num_days().max(1);
    from + Days::new(rng.range(0, span - 1) as u64)
}

/// Adds the students who transferred in from the source school, in the year
/// they arrive and the years after (where they move up like everyone else).
fn add_guests(
    world: &World,
    school: &School,
    sk: &Skeleton,
    transfers: &[Transfer],
    years: &mut [YearRoster],
) {
    let mut rng = Stream::new(world.seed, Tag::Incoming, &[school.id]);
    let mut guests: Vec<(Student, i32)> = Vec::new();
    for (yi, (&year, cal)) in world.years.iter().zip(&world.calendars).enumerate() {
        let mut next: Vec<(Student, i32)> = Vec::new();
        for (student, parallel) in guests.drain(..) {
            let parallel = parallel + 1;
            let classes = sk.regular_classes(year, parallel, student.lang);
            if parallel > school.grades.1 || classes.is_empty() || rng.chance(world.rates.attrition)
            {
                continue;
            }
            let class = classes[rng.below(classes.len())];
            years[yi].placements.push(Placement {
                student,
                parallel,
                segments: vec![Segment {
                    class,
                    from: cal.start(),
                    to: None,
                }],
            });
            next.push((student, parallel));
        }
        for t in transfers.iter().filter(|t| t.year_index == yi) {
            years[yi].placements.push(Placement {
                student: t.student,
                parallel: t.parallel,
                segments: vec![Segment {
                    class: t.class,
                    from: t.from,
                    to: None,
                }],
            });
            next.push((t.student, t.parallel));
        }
        guests = next;
    }
}
