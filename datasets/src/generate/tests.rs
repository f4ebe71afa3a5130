//! End-to-end checks of the generator on the tiny dataset: determinism,
//! SPEC §10's integrity rules, and the shape the tiny dataset promises.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{
    Date32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
};
use datafusion::arrow::record_batch::RecordBatch;
use sapa_udfs::{Spelling, parse_mark};

use super::*;
use crate::csv_sink::CsvDirSink;
use crate::schema::{Table, allowed_values};

/// `(student, class, subject, period)` of a mark.
type MarkKey = (i64, i64, i64, String);
/// `(recorded_at, mark)` of one version.
type Version = (i64, Option<String>);

/// Keeps every batch.
#[derive(Default)]
struct Collect(Vec<(Table, RecordBatch)>);

impl TableSink for Collect {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<(), SinkError> {
        self.0.push((table, batch));
        Ok(())
    }
}

fn tiny(years: RangeInclusive<i32>) -> (Collect, GenerateSummary) {
    let mut sink = Collect::default();
    let opts = GenerateOptions {
        scale: Scale::Tiny,
        years,
        seed: 7,
    };
    let summary = generate(&opts, &mut sink, &mut |_| {}).unwrap();
    (sink, summary)
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "sapa-datasets-{tag}-{}-{nanos}",
        std::process::id()
    ))
}

fn write_csv(dir: &Path, opts: &GenerateOptions) -> GenerateSummary {
    let mut sink = CsvDirSink::create(dir).unwrap();
    let summary = generate(opts, &mut sink, &mut |_| {}).unwrap();
    sink.finish().unwrap();
    summary
}

/// Column `name` of every batch of `table`, concatenated.
struct Col<'a> {
    batches: Vec<&'a RecordBatch>,
    index: usize,
}

fn col<'a>(data: &'a Collect, table: Table, name: &str) -> Col<'a> {
    let batches: Vec<&RecordBatch> = data
        .0
        .iter()
        .filter(|(t, _)| *t == table)
        .map(|(_, b)| b)
        .collect();
    let index = table.schema().index_of(name).unwrap();
    Col { batches, index }
}

impl Col<'_> {
    fn i64(&self) -> Vec<i64> {
        self.batches
            .iter()
            .flat_map(|b| {
                b.column(self.index)
                    .as_primitive::<Int64Type>()
                    .values()
                    .to_vec()
            })
            .collect()
    }
    fn i32(&self) -> Vec<i32> {
        self.batches
            .iter()
            .flat_map(|b| {
                b.column(self.index)
                    .as_primitive::<Int32Type>()
                    .values()
                    .to_vec()
            })
            .collect()
    }
    fn date(&self) -> Vec<Option<i32>> {
        self.batches
            .iter()
            .flat_map(|b| {
                b.column(self.index)
                    .as_primitive::<Date32Type>()
                    .iter()
                    .collect::<Vec<_>>()
            })
            .collect()
    }
    fn ts(&self) -> Vec<i64> {
        self.batches
            .iter()
            .flat_map(|b| {
                b.column(self.index)
                    .as_primitive::<TimestampMicrosecondType>()
                    .values()
                    .to_vec()
            })
            .collect()
    }
    fn f64(&self) -> Vec<Option<f64>> {
        self.batches
            .iter()
            .flat_map(|b| {
                b.column(self.index)
                    .as_primitive::<Float64Type>()
                    .iter()
                    .collect::<Vec<_>>()
            })
            .collect()
    }
    fn str(&self) -> Vec<Option<String>> {
        self.batches
            .iter()
            .flat_map(|b| {
                b.column(self.index)
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
    fn strs(&self) -> Vec<String> {
        self.str().into_iter().map(|s| s.unwrap()).collect()
    }
}

fn unique<T: Ord + Clone + std::fmt::Debug>(v: &[T], what: &str) -> BTreeSet<T> {
    let set: BTreeSet<T> = v.iter().cloned().collect();
    assert_eq!(set.len(), v.len(), "{what} not unique");
    set
}

fn period_rank(p: &str) -> usize {
    ["Q1", "Q2", "Q3", "Q4", "YEAR", "FINAL"]
        .iter()
        .position(|x| *x == p)
        .unwrap()
}

#[test]
fn tiny_is_byte_identical_across_runs() {
    let opts = GenerateOptions {
        scale: Scale::Tiny,
        years: 2021..=2025,
        seed: 11,
    };
    let (a, b) = (temp_dir("a"), temp_dir("b"));
    let sa = write_csv(&a, &opts);
    let sb = write_csv(&b, &opts);
    assert_eq!(sa, sb);
    for t in Table::ALL {
        let fa = std::fs::read(a.join(t.file_name())).unwrap();
        let fb = std::fs::read(b.join(t.file_name())).unwrap();
        assert!(fa == fb, "{} differs between runs", t.file_name());
        assert!(fa.len() > 60, "{} is nearly empty", t.file_name());
    }
    // Another seed gives other marks.
    let c = temp_dir("c");
    write_csv(&c, &GenerateOptions { seed: 12, ..opts });
    assert_ne!(
        std::fs::read(a.join("marks.csv")).unwrap(),
        std::fs::read(c.join("marks.csv")).unwrap()
    );
    let head = std::fs::read_to_string(a.join("marks.csv")).unwrap();
    let second = head.lines().nth(1).unwrap();
    // student_id,class_id,subject_id,period,mark,recorded_at with an ISO timestamp.
    let fields: Vec<&str> = second.split(',').collect();
    assert_eq!(fields.len(), 6, "{second}");
    assert_eq!(fields[5].len(), "2021-10-29T10:00:00".len(), "{second}");
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let opts = GenerateOptions {
        scale: Scale::Tiny,
        years: 2023..=2024,
        seed: 5,
    };
    let run = |threads| {
        let mut sink = Collect::default();
        generate_on(&opts, threads, &mut sink, &mut |_| {}).unwrap();
        sink.0
    };
    let (one, four) = (run(1), run(4));
    assert_eq!(one.len(), four.len());
    for ((ta, a), (tb, b)) in one.iter().zip(&four) {
        assert_eq!((ta, a), (tb, b));
    }
}

#[test]
fn tiny_satisfies_the_integrity_rules() {
    let (data, summary) = tiny(2021..=2025);
    for (t, b) in &data.0 {
        assert_eq!(b.schema(), t.schema(), "{t:?}");
        assert!(b.num_rows() <= BATCH_ROWS);
        for f in t.schema().fields() {
            if let Some(allowed) = allowed_values(*t, f.name()) {
                for v in col(&data, *t, f.name()).str().into_iter().flatten() {
                    assert!(allowed.contains(&v.as_str()), "{t:?}.{}: {v}", f.name());
                }
            }
        }
    }
    // Tables arrive complete, in dependency order.
    let order: Vec<Table> = data.0.iter().map(|(t, _)| *t).collect();
    let mut dedup = order.clone();
    dedup.dedup();
    assert_eq!(dedup, Table::ALL.to_vec());
    for t in Table::ALL {
        assert_eq!(
            summary.rows[&t],
            data.0
                .iter()
                .filter(|(x, _)| *x == t)
                .map(|(_, b)| b.num_rows() as u64)
                .sum::<u64>()
        );
    }

    let regions = unique(&col(&data, Table::Regions, "region_id").i64(), "region ids");
    let districts = unique(
        &col(&data, Table::Districts, "district_id").i64(),
        "district ids",
    );
    let schools = unique(&col(&data, Table::Schools, "school_id").i64(), "school ids");
    let subjects = unique(
        &col(&data, Table::Subjects, "subject_id").i64(),
        "subject ids",
    );
    let classes = unique(&col(&data, Table::Classes, "class_id").i64(), "class ids");
    assert!(
        col(&data, Table::Districts, "region_id")
            .i64()
            .iter()
            .all(|r| regions.contains(r))
    );
    assert!(
        col(&data, Table::Schools, "district_id")
            .i64()
            .iter()
            .all(|d| districts.contains(d))
    );
    assert!(
        col(&data, Table::Classes, "school_id")
            .i64()
            .iter()
            .all(|s| schools.contains(s))
    );
    for ids in [&regions, &districts, &schools, &subjects, &classes] {
        assert!(ids.iter().all(|&id| id > 0));
    }

    let e_student = col(&data, Table::Enrollments, "student_id").i64();
    let e_class = col(&data, Table::Enrollments, "class_id").i64();
    let e_from = col(&data, Table::Enrollments, "active_from").date();
    let e_to = col(&data, Table::Enrollments, "active_to").date();
    let pairs: Vec<(i64, i64)> = e_student
        .iter()
        .copied()
        .zip(e_class.iter().copied())
        .collect();
    let enrolled: HashSet<(i64, i64)> = unique(&pairs, "enrollments (student, class)")
        .into_iter()
        .collect();
    assert!(e_class.iter().all(|c| classes.contains(c)));
    for i in 0..e_from.len() {
        assert!(e_from[i].is_some());
        if let Some(to) = e_to[i] {
            assert!(to >= e_from[i].unwrap());
        }
    }

    let m_student = col(&data, Table::Marks, "student_id").i64();
    let m_class = col(&data, Table::Marks, "class_id").i64();
    let m_subject = col(&data, Table::Marks, "subject_id").i64();
    let m_period = col(&data, Table::Marks, "period").strs();
    let m_mark = col(&data, Table::Marks, "mark").str();
    let m_at = col(&data, Table::Marks, "recorded_at").ts();
    let class_school: HashMap<i64, i64> = col(&data, Table::Classes, "class_id")
        .i64()
        .into_iter()
        .zip(col(&data, Table::Classes, "school_id").i64())
        .collect();
    let mut versions = HashSet::new();
    let mut previous: Option<(i64, i64, i64, i64, usize, i64)> = None;
    for i in 0..m_student.len() {
        assert!(
            enrolled.contains(&(m_student[i], m_class[i])),
            "mark {i}: student not enrolled in its class"
        );
        assert!(subjects.contains(&m_subject[i]));
        assert!(
            versions.insert((
                m_student[i],
                m_class[i],
                m_subject[i],
                m_period[i].clone(),
                m_at[i]
            )),
            "two versions of one mark at the same time"
        );
        if let Some(m) = &m_mark[i] {
            // Canonical codes only: no aliases, no look-alikes.
            let (mark, spelling) = parse_mark(m).unwrap().unwrap();
            assert_eq!((mark.code(), spelling), (m.as_str(), Spelling::Accepted));
        }
        let key = (
            class_school[&m_class[i]],
            m_class[i],
            m_student[i],
            m_subject[i],
            period_rank(&m_period[i]),
            m_at[i],
        );
        if let Some(p) = previous {
            assert!(p < key, "marks out of order at row {i}: {p:?} then {key:?}");
        }
        previous = Some(key);
    }

    let modo_student = col(&data, Table::Modo, "student_id").i64();
    let modo_school = col(&data, Table::Modo, "school_id").i64();
    let students: HashSet<i64> = e_student.iter().copied().collect();
    assert!(modo_student.iter().all(|s| students.contains(s)));
    assert!(modo_school.iter().all(|s| schools.contains(s)));
}

#[test]
fn tiny_has_the_promised_shape() {
    let (data, summary) = tiny(2021..=2025);
    for t in Table::ALL {
        assert!(summary.rows[&t] > 0, "{t:?} is empty");
    }
    let first_day: u64 = summary.students[&2021];
    assert!((300..=700).contains(&first_day), "{first_day} students");
    let localities = col(&data, Table::Schools, "locality").strs();
    assert!(localities.iter().any(|l| l == "rural") && localities.iter().any(|l| l == "urban"));
    assert_eq!(col(&data, Table::Regions, "region_id").i64().len(), 2);
    assert_eq!(col(&data, Table::Districts, "district_id").i64().len(), 3);
    assert!(
        col(&data, Table::Schools, "internet_mbps")
            .f64()
            .contains(&None)
    );

    let c_id = col(&data, Table::Classes, "class_id").i64();
    let c_parallel = col(&data, Table::Classes, "parallel").i32();
    let c_journal = col(&data, Table::Classes, "journal_type").strs();
    let c_period = col(&data, Table::Classes, "period_type").strs();
    let parallel: HashMap<i64, i32> = c_id
        .iter()
        .copied()
        .zip(c_parallel.iter().copied())
        .collect();
    assert!(c_parallel.contains(&0), "no parallel 0");
    assert!(c_journal.iter().any(|j| j == "other"), "no other journal");
    assert!(
        c_period.iter().any(|p| p == "half_year"),
        "no half-year class"
    );

    // Grades 0 and 1 get no marks; every other parallel does.
    let m_student = col(&data, Table::Marks, "student_id").i64();
    let m_class = col(&data, Table::Marks, "class_id").i64();
    let m_subject = col(&data, Table::Marks, "subject_id").i64();
    let m_period = col(&data, Table::Marks, "period").strs();
    let m_mark = col(&data, Table::Marks, "mark").str();
    let m_at = col(&data, Table::Marks, "recorded_at").ts();
    let marked: BTreeSet<i32> = m_class.iter().map(|c| parallel[c]).collect();
    assert_eq!(marked, (2..=11).collect());

    // A student who moved: one enrollment closed, another opened the next day.
    let e_student = col(&data, Table::Enrollments, "student_id").i64();
    let e_class = col(&data, Table::Enrollments, "class_id").i64();
    let e_from = col(&data, Table::Enrollments, "active_from").date();
    let e_to = col(&data, Table::Enrollments, "active_to").date();
    let mut opened: HashMap<(i64, i32), i64> = HashMap::new();
    for i in 0..e_student.len() {
        opened.insert((e_student[i], e_from[i].unwrap()), e_class[i]);
    }
    let class_school = |c: i64| c / skeleton::CLASS_ID_SPAN;
    let mut within = 0;
    let mut across = 0;
    for i in 0..e_student.len() {
        if let Some(to) = e_to[i]
            && let Some(&next) = opened.get(&(e_student[i], to + 1))
        {
            if class_school(next) == class_school(e_class[i]) {
                within += 1;
            } else {
                across += 1;
            }
        }
    }
    assert!(
        within > 0 && across > 0,
        "movers within {within}, across schools {across}"
    );

    // Current value of each mark, and what its history shows.
    let mut history: BTreeMap<MarkKey, Vec<Version>> = BTreeMap::new();
    for i in 0..m_student.len() {
        history
            .entry((m_student[i], m_class[i], m_subject[i], m_period[i].clone()))
            .or_default()
            .push((m_at[i], m_mark[i].clone()));
    }
    let cleared = history
        .values()
        .filter(|v| v.len() > 1 && v.last().unwrap().1.is_none())
        .count();
    let changed = history
        .values()
        .filter(|v| v.len() > 1 && v.last().unwrap().1.is_some())
        .count();
    assert!(
        cleared > 0 && changed > 0,
        "cleared {cleared}, changed {changed}"
    );
    let ends: HashMap<(i32, String), i64> = {
        let y = col(&data, Table::Calendar, "academic_year").i32();
        let p = col(&data, Table::Calendar, "period").strs();
        let e = col(&data, Table::Calendar, "end_date").date();
        (0..y.len())
            .map(|i| ((y[i], p[i].clone()), i64::from(e[i].unwrap())))
            .collect()
    };
    let class_year: HashMap<i64, i32> = c_id
        .iter()
        .copied()
        .zip(col(&data, Table::Classes, "academic_year").i32())
        .collect();
    let late = (0..m_student.len())
        .filter(|&i| {
            let q = m_period[i].as_str();
            let q = if q.starts_with('Q') { q } else { "Q4" };
            m_at[i].div_euclid(86_400_000_000) > ends[&(class_year[&m_class[i]], q.to_string())]
        })
        .count();
    assert!(late > 0, "no late mark");

    let codes: HashSet<&str> = m_mark.iter().flatten().map(String::as_str).collect();
    for code in ["5", "4", "3", "БОС", "О/Ж", "ЕСП", "А/Ө"] {
        assert!(codes.contains(code), "no {code} mark");
    }
    assert!(m_period.iter().any(|p| p == "FINAL"));

    // A student exempt in everything for a period: only БОС among current marks.
    let mut by_student_period: HashMap<(i64, i64, String), Vec<Option<String>>> = HashMap::new();
    for ((student, class, _, period), v) in &history {
        by_student_period
            .entry((*student, *class, period.clone()))
            .or_default()
            .push(v.last().unwrap().1.clone());
    }
    let exempt_only = by_student_period
        .values()
        .filter(|v| v.iter().all(|m| m.as_deref() == Some("БОС")))
        .count();
    assert!(exempt_only > 0, "no exempt-only student");

    let scores = col(&data, Table::Modo, "score").f64();
    let maxes = col(&data, Table::Modo, "max_score").f64();
    let grades = col(&data, Table::Modo, "grade").i32();
    for i in 0..scores.len() {
        assert!(scores[i].unwrap() >= 0.0 && scores[i] <= maxes[i]);
        assert!(grades[i] == 4 || grades[i] == 9);
    }
}

#[test]
fn years_outside_the_supported_range_are_refused() {
    let opts = GenerateOptions {
        scale: Scale::Tiny,
        years: 1990..=1991,
        seed: 1,
    };
    let err = generate(&opts, &mut Collect::default(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            GenerateError::Years {
                start: 1990,
                end: 1991
            }
        ),
        "{err}"
    );
    #[allow(clippy::reversed_empty_ranges)]
    let empty = GenerateOptions {
        scale: Scale::Tiny,
        years: 2025..=2021,
        seed: 1,
    };
    assert!(generate(&empty, &mut Collect::default(), &mut |_| {}).is_err());
    // A year beyond the published calendars follows the pattern.
    let (data, _) = tiny(2026..=2026);
    assert_eq!(
        col(&data, Table::Calendar, "academic_year").i32(),
        vec![2026; 4]
    );
}

#[test]
fn scales_parse_and_print() {
    for s in [Scale::Tiny, Scale::Region, Scale::National] {
        assert_eq!(s.to_string().parse::<Scale>(), Ok(s));
    }
    assert_eq!(" National ".parse::<Scale>(), Ok(Scale::National));
    assert!("country".parse::<Scale>().is_err());
}

#[test]
fn progress_reaches_every_table() {
    let mut seen: BTreeMap<Table, (u64, u64)> = BTreeMap::new();
    let opts = GenerateOptions {
        scale: Scale::Tiny,
        years: 2024..=2024,
        seed: 3,
    };
    let summary = generate(&opts, &mut Collect::default(), &mut |p| {
        seen.insert(p.table, (p.rows, p.rows_expected));
    })
    .unwrap();
    for t in Table::ALL {
        let (rows, expected) = seen[&t];
        assert_eq!(rows, summary.rows[&t]);
        assert!(expected >= rows);
    }
}
