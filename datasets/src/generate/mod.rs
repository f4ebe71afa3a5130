//! The deterministic synthetic generator of a nation's final grades.
//!
//! [`generate`] draws Kazakhstan-like regions, districts, schools, classes,
//! students and five years of marks (with their history) and MODO results,
//! and hands them to a [`TableSink`] as Arrow batches of exactly
//! [`Table::schema`]. The same [`GenerateOptions`] always give the same
//! batches, whatever the number of threads.
//!
//! Emission order: regions, districts, schools, subjects, calendar, classes,
//! enrollments, marks, modo, each table complete before the next. Classes,
//! enrollments and marks come ordered by school (so by region and district:
//! ids nest), then class, then student; marks then by subject, period (Q1,
//! Q2, Q3, Q4, YEAR, FINAL) and `recorded_at`. MODO rows come by school,
//! year, student, domain. Batches hold [`BATCH_ROWS`] rows (the last of a
//! table fewer).
//!
//! What the data looks like:
//! - ids nest: `school_id = district_id·1000 + n`, `class_id =
//!   school_id·10 000 + n`, `student_id = first_school_id·100 000 + n`;
//!   students keep their id across years (one grade up a year, grade 11
//!   graduates, newcomers fill grade 1 and the planned places).
//! - the 20 regions and ~226 districts carry their real Kazakh and Russian
//!   names; ~7,700 schools, ~68 % rural, ~2,800 small; types, languages and
//!   sizes follow each region's profile.
//! - marks: grades 2–11 (parallels 0 and 1 get none), ~12–16 subjects each,
//!   two of them not certified; Q1–Q4 and YEAR (the rounded mean of the
//!   quarters), FINAL for the exam subjects of grades 9 and 11. Most marks
//!   have one version at or a few days before the period end (08:00–19:00);
//!   ~1 % are set late, ~1.5 % changed, ~0.2 % cleared (a later empty
//!   version). `БОС`, `О/Ж`, `А/Ө`, `УА/Ө`, `ЕСП`/`ЕСЖ` occur; codes are
//!   always canonical. Nationally (2023–24) knowledge quality is ≈ 56 % a
//!   quarter and ≈ 62 % for the year, performance ≈ 99 %, 12–15 %
//!   excellent; primary grades higher, urban ≈ 6 points above rural,
//!   gymnasiums and lyceums ≈ 75–80 %, Mangystau, Atyrau, Kyzylorda,
//!   Turkistan and Almaty oblasts 4–6 points below.
//! - during a year a few students change class within their school or
//!   transfer to the next school of their district (the old enrollment ends,
//!   a new one starts the next day; earlier quarters' marks stay in the old
//!   class) or leave (their enrollment ends).
//! - the tiny dataset (6 schools, ~500 students) always has a parallel 0, an
//!   `other` journal class, a `half_year` class, movers within and across
//!   schools, exempt-only students, cleared, changed and late marks, and MODO.
//!
//! Memory stays bounded at national scale: every stream of randomness is
//! derived from the seed and what it generates (a school's rosters from
//! `(seed, school)`, a student's marks from `(seed, student, year)`), so each
//! pass regenerates one school at a time and never holds the country's marks.

mod batches;
mod calendar;
mod emit;
mod geography;
mod marks;
mod modo;
mod names;
mod passes;
mod pipeline;
mod rng;
mod roster;
mod school_kinds;
mod schools;
mod skeleton;
mod subjects;
mod tiny;
mod world;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

pub use batches::BATCH_ROWS;
pub use calendar::{AcademicCalendar, FIRST_YEAR, LAST_YEAR};

use crate::schema::Table;
use batches::{ClassRows, EnrollmentRows, MarkRows, ModoRows};
use emit::Emitter;
use roster::RosterError;
use skeleton::TooManyClasses;
use subjects::{SUBJECTS, curriculum};
pub(crate) use world::{Rates, World};

/// How much of the country to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// Two regions, three districts, six hand-laid schools, a few hundred
    /// students: every feature the tests rely on, in well under a second.
    Tiny,
    /// One region (Жамбыл облысы, ~270k students): the same ids, schools,
    /// students and marks as in the national dataset (only the MODO draw,
    /// which is stratified over the country, differs).
    Region,
    /// The whole country: 20 regions, ~226 districts, ~7,700 schools,
    /// ~3.9 million students, ~250 million marks a year.
    National,
}

impl Scale {
    /// The scale's name, as [`FromStr`] reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::Region => "region",
            Scale::National => "national",
        }
    }

    /// Event rates. The tiny dataset's are raised so that its few hundred
    /// students still show every kind of event.
    pub(crate) fn rates(self) -> Rates {
        match self {
            Scale::Tiny => Rates {
                attrition: 0.015,
                transfer: 0.03,
                class_change: 0.03,
                dropout: 0.01,
                exempt_all: 0.01,
                pe_exempt: 0.03,
                not_studied: 0.01,
                not_attested: 0.01,
                temp_not_attested: 0.005,
                late: 0.02,
                changed: 0.03,
                cleared: 0.01,
                modo_min_students: 8,
            },
            Scale::Region | Scale::National => Rates {
                attrition: 0.015,
                transfer: 0.004,
                class_change: 0.004,
                dropout: 0.002,
                exempt_all: 0.0008,
                pe_exempt: 0.015,
                not_studied: 0.004,
                not_attested: 0.0015,
                temp_not_attested: 0.0006,
                late: 0.012,
                changed: 0.015,
                cleared: 0.002,
                modo_min_students: 80,
            },
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown scale name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scale {0:?}: expected tiny, region or national")]
pub struct ParseScaleError(pub String);

impl FromStr for Scale {
    type Err = ParseScaleError;
    fn from_str(s: &str) -> Result<Scale, ParseScaleError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tiny" => Ok(Scale::Tiny),
            "region" => Ok(Scale::Region),
            "national" => Ok(Scale::National),
            _ => Err(ParseScaleError(s.to_string())),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// How much of the country.
    pub scale: Scale,
    /// Academic years by start year (2021 = 2021–2022), within
    /// [`FIRST_YEAR`]..=[`LAST_YEAR`]; 2021..=2025 use the published
    /// calendars, other years the pattern of [`AcademicCalendar`].
    pub years: RangeInclusive<i32>,
    /// The seed: the same options give byte-identical output.
    pub seed: u64,
}

impl Default for GenerateOptions {
    /// Tiny, 2021–2022 to 2025–2026, seed 42.
    fn default() -> Self {
        GenerateOptions {
            scale: Scale::Tiny,
            years: 2021..=2025,
            seed: 42,
        }
    }
}

/// The error a sink reports; boxed so that any storage can implement
/// [`TableSink`].
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Receives the generated tables, batch by batch, in emission order.
pub trait TableSink {
    /// Takes one batch of `table`, of exactly `table.schema()`.
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<(), SinkError>;
}

/// Progress of the table being generated, reported after every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The table being written.
    pub table: Table,
    /// Rows of it written so far.
    pub rows: u64,
    /// Rows expected: exact for the reference tables and classes, an
    /// estimate for enrollments, marks and modo.
    pub rows_expected: u64,
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateSummary {
    /// Rows written per table.
    pub rows: BTreeMap<Table, u64>,
    /// Students enrolled on the first day of each academic year.
    pub students: BTreeMap<i32, u64>,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The requested years are outside what the generator supports.
    #[error(
        "academic years {start}..={end} are not supported: choose years within {FIRST_YEAR}..={LAST_YEAR}"
    )]
    Years {
        /// First requested year.
        start: i32,
        /// Last requested year.
        end: i32,
    },
    /// A school needs more ids than its id span holds (far more years than
    /// the generator is meant for).
    #[error(
        "school {school_id} needs more than {max} {what} ids over the generated years; generate fewer years"
    )]
    IdSpace {
        /// The school.
        school_id: i64,
        /// `class` or `student`.
        what: &'static str,
        /// The span's capacity.
        max: i64,
    },
    /// A batch could not be built (a bug: the buffers follow the schema).
    #[error("building a {table} batch: {source}")]
    Arrow {
        /// The table.
        table: &'static str,
        /// Arrow's error.
        source: ArrowError,
    },
    /// The sink failed.
    #[error("writing {table}: {source}")]
    Sink {
        /// The table.
        table: &'static str,
        /// The sink's error.
        source: SinkError,
    },
}

impl From<TooManyClasses> for GenerateError {
    fn from(e: TooManyClasses) -> Self {
        GenerateError::IdSpace {
            school_id: e.school_id,
            what: "class",
            max: e.max,
        }
    }
}

impl From<RosterError> for GenerateError {
    fn from(e: RosterError) -> Self {
        match e {
            RosterError::TooManyStudents { school_id, max } => GenerateError::IdSpace {
                school_id,
                what: "student",
                max,
            },
            RosterError::Skeleton(e) => e.into(),
        }
    }
}
/// Generates the dataset `opts` describes into `sink`, reporting progress
/// after every batch.
pub fn generate(
    opts: &GenerateOptions,
    sink: &mut dyn TableSink,
    progress: &mut dyn FnMut(&Progress),
) -> Result<GenerateSummary, GenerateError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    generate_on(opts, threads, sink, progress)
}

/// [`generate`] on `threads` worker threads (the output does not depend on it).
pub(crate) fn generate_on(
    opts: &GenerateOptions,
    threads: usize,
    sink: &mut dyn TableSink,
    progress: &mut dyn FnMut(&Progress),
) -> Result<GenerateSummary, GenerateError> {
    let world = World::build(opts)?;
    let mut em = Emitter {
        sink,
        progress,
        summary: GenerateSummary::default(),
        expected: BTreeMap::new(),
    };

    let (expected, modo_plan) = plan(&world)?;
    em.expected = expected;

    em.reference_tables(&world)?;

    // Classes: the skeletons in school order.
    let mut buf = ClassRows::default();
    for i in 0..world.schools.len() {
        em.push(&mut buf, passes::school_classes(&world, i)?)?;
    }
    em.flush(&mut buf)?;

    let window = threads * 4;
    let n = world.schools.len();
    let mut buf = EnrollmentRows::default();
    let mut students: BTreeMap<i32, u64> = BTreeMap::new();
    pipeline::ordered_map(
        n,
        threads,
        window,
        &|i| passes::school_enrollments(&world, i),
        &mut |(rows, counts)| {
            for (y, c) in counts {
                *students.entry(y).or_default() += c;
            }
            em.push(&mut buf, rows)
        },
    )?;
    em.flush(&mut buf)?;
    em.summary.students = students;

    let mut buf = MarkRows::default();
    pipeline::ordered_map(
        n,
        threads,
        window,
        &|i| passes::school_marks(&world, i),
        &mut |rows| em.push(&mut buf, rows),
    )?;
    em.flush(&mut buf)?;

    let mut buf = ModoRows::default();
    pipeline::ordered_map(
        modo_plan.len(),
        threads,
        window,
        &|k| passes::school_modo(&world, modo_plan[k].0, &modo_plan[k].1),
        &mut |rows| em.push(&mut buf, rows),
    )?;
    em.flush(&mut buf)?;
    Ok(em.summary)
}

/// Schools drawn for MODO, with the indices of their tested years.
type ModoPlan = Vec<(usize, Vec<usize>)>;

/// Expected table sizes (for progress) and the MODO draw, from the
/// skeletons alone.
fn plan(world: &World) -> Result<(BTreeMap<Table, u64>, ModoPlan), GenerateError> {
    let mut eligible = Vec::with_capacity(world.schools.len());
    let mut clusters = Vec::with_capacity(world.schools.len());
    let (mut n_classes, mut n_students, mut n_marks) = (0u64, 0u64, 0u64);
    let mut tested = vec![0u64; world.schools.len()];
    for (i, school) in world.schools.iter().enumerate() {
        let sk = world.skeleton(i)?;
        n_classes += sk.classes.len() as u64;
        for g in &sk.groups {
            n_students += u64::from(g.target);
            let lessons = curriculum(g.parallel, g.lang);
            let exams = lessons.iter().filter(|l| l.exam).count() as u64;
            n_marks += u64::from(g.target) * (lessons.len() as u64 * 5 + exams) * 103 / 100;
        }
        for &y in &world.years {
            tested[i] += u64::from(sk.planned(y, 4) + sk.planned(y, 9)) * 3;
        }
        let (e, c) = modo::assess(world, school, &sk);
        eligible.push(e);
        clusters.push(c);
    }
    let drawn = modo::draw(world, &eligible, &clusters);
    // Schools with at least one tested year, and those years.
    let mut modo_plan: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (yi, chosen) in drawn.iter().enumerate() {
        for &i in chosen {
            modo_plan.entry(i).or_default().push(yi);
        }
    }
    let modo_plan: Vec<(usize, Vec<usize>)> = modo_plan.into_iter().collect();
    let n_modo: u64 = modo_plan
        .iter()
        .map(|(i, ys)| tested[*i] * ys.len() as u64 / world.years.len() as u64)
        .sum();
    let expected = BTreeMap::from([
        (Table::Regions, world.regions.len() as u64),
        (Table::Districts, world.districts.len() as u64),
        (Table::Schools, world.schools.len() as u64),
        (Table::Subjects, SUBJECTS.len() as u64),
        (Table::Calendar, world.years.len() as u64 * 4),
        (Table::Classes, n_classes),
        (Table::Enrollments, n_students * 1005 / 1000),
        (Table::Marks, n_marks),
        (Table::Modo, n_modo * 96 / 100),
    ]);

    Ok((expected, modo_plan))
}
