//! The SPEC §10 interchange CSVs read back in plain Rust, with the current
//! version of every mark (SPEC §6), for the oracle.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};

/// A CSV file: its header and its records.
struct Csv {
    file: String,
    header: Vec<String>,
    records: Vec<csv::StringRecord>,
}

impl Csv {
    fn read(dir: &Path, file: &str) -> Csv {
        let mut reader = csv::Reader::from_path(dir.join(file)).unwrap();
        let header = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        let records = reader.records().map(Result::unwrap).collect();
        Csv {
            file: file.to_string(),
            header,
            records,
        }
    }

    /// The index of a column.
    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{} has no column {name}", self.file))
    }
}

fn int(v: &str) -> i64 {
    v.trim().parse().unwrap_or_else(|e| panic!("{v:?}: {e}"))
}

fn date(v: &str) -> NaiveDate {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").unwrap_or_else(|e| panic!("{v:?}: {e}"))
}

/// A `recorded_at`: a date (00:00 of that day, SPEC §10) or a timestamp.
fn timestamp(v: &str) -> NaiveDateTime {
    let v = v.trim();
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, format) {
            return t;
        }
    }
    date(v).and_hms_opt(0, 0, 0).unwrap()
}

/// A class (SPEC §10 `classes.csv`).
#[derive(Debug, Clone)]
pub struct Class {
    pub school_id: i64,
    pub academic_year: i32,
    pub parallel: i32,
    /// Passes the class filter of SPEC §4.1: criterial journal, quarters.
    pub counted: bool,
}

/// A membership (SPEC §10 `enrollments.csv`).
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub student_id: i64,
    pub class_id: i64,
    pub active_from: NaiveDate,
    pub active_to: Option<NaiveDate>,
}

/// The current (latest) value of one mark, never empty: cleared marks are
/// dropped.
#[derive(Debug, Clone)]
pub struct CurrentMark {
    pub subject_id: i64,
    pub period: String,
    pub mark: String,
}

/// Everything the oracle needs from an interchange directory.
#[derive(Debug, Default)]
pub struct Input {
    /// academic_year → period (`Q1`–`Q4`) → end date.
    pub calendar: BTreeMap<i32, BTreeMap<String, NaiveDate>>,
    pub classes: HashMap<i64, Class>,
    /// school_id → (district_id, region_id).
    pub schools: HashMap<i64, (i64, i64)>,
    /// subject_id → certified.
    pub certified: HashMap<i64, bool>,
    pub enrollments: Vec<Enrollment>,
    /// (student_id, class_id) → the current marks recorded in that class.
    pub marks: HashMap<(i64, i64), Vec<CurrentMark>>,
    /// How many mark versions were read and how many current marks are
    /// cleared (so the test can check the edges occur).
    pub versions: usize,
    pub cleared: usize,
}

impl Input {
    /// Reads the CSVs of `dir`.
    pub fn read(dir: &Path) -> Input {
        let mut input = Input::default();

        let cal = Csv::read(dir, "calendar.csv");
        let (y, p, e) = (
            cal.col("academic_year"),
            cal.col("period"),
            cal.col("end_date"),
        );
        for r in &cal.records {
            input
                .calendar
                .entry(int(&r[y]) as i32)
                .or_default()
                .insert(r[p].trim().to_string(), date(&r[e]));
        }

        let regions = Csv::read(dir, "districts.csv");
        let (d, r) = (regions.col("district_id"), regions.col("region_id"));
        let region_of: HashMap<i64, i64> = regions
            .records
            .iter()
            .map(|rec| (int(&rec[d]), int(&rec[r])))
            .collect();

        let schools = Csv::read(dir, "schools.csv");
        let (s, d) = (schools.col("school_id"), schools.col("district_id"));
        for rec in &schools.records {
            let district = int(&rec[d]);
            input
                .schools
                .insert(int(&rec[s]), (district, region_of[&district]));
        }

        let subjects = Csv::read(dir, "subjects.csv");
        let (s, c) = (subjects.col("subject_id"), subjects.col("certified"));
        for rec in &subjects.records {
            input
                .certified
                .insert(int(&rec[s]), rec[c].trim().eq_ignore_ascii_case("true"));
        }

        let classes = Csv::read(dir, "classes.csv");
        let cols = [
            "class_id",
            "school_id",
            "academic_year",
            "parallel",
            "journal_type",
            "period_type",
        ]
        .map(|n| classes.col(n));
        for rec in &classes.records {
            let class = Class {
                school_id: int(&rec[cols[1]]),
                academic_year: int(&rec[cols[2]]) as i32,
                parallel: int(&rec[cols[3]]) as i32,
                counted: rec[cols[4]].trim() == "criterial" && rec[cols[5]].trim() == "quarter",
            };
            input.classes.insert(int(&rec[cols[0]]), class);
        }

        let enrollments = Csv::read(dir, "enrollments.csv");
        let cols =
            ["student_id", "class_id", "active_from", "active_to"].map(|n| enrollments.col(n));
        for rec in &enrollments.records {
            let to = rec[cols[3]].trim();
            input.enrollments.push(Enrollment {
                student_id: int(&rec[cols[0]]),
                class_id: int(&rec[cols[1]]),
                active_from: date(&rec[cols[2]]),
                active_to: (!to.is_empty()).then(|| date(to)),
            });
        }

        input.read_marks(dir);
        input
    }

    /// Keeps the latest version of each student × class × subject × period;
    /// an empty latest version is a cleared mark and is dropped.
    fn read_marks(&mut self, dir: &Path) {
        let marks = Csv::read(dir, "marks.csv");
        let cols = [
            "student_id",
            "class_id",
            "subject_id",
            "period",
            "mark",
            "recorded_at",
        ]
        .map(|n| marks.col(n));
        type Version = (NaiveDateTime, String);
        let mut latest: HashMap<(i64, i64, i64, String), Version> = HashMap::new();
        for rec in &marks.records {
            let key = (
                int(&rec[cols[0]]),
                int(&rec[cols[1]]),
                int(&rec[cols[2]]),
                rec[cols[3]].trim().to_string(),
            );
            let version = (timestamp(&rec[cols[5]]), rec[cols[4]].trim().to_string());
            self.versions += 1;
            match latest.get(&key) {
                Some((at, _)) if *at >= version.0 => {}
                _ => {
                    latest.insert(key, version);
                }
            }
        }
        for ((student, class, subject, period), (_, mark)) in latest {
            if mark.is_empty() {
                self.cleared += 1;
                continue;
            }
            self.marks
                .entry((student, class))
                .or_default()
                .push(CurrentMark {
                    subject_id: subject,
                    period,
                    mark,
                });
        }
    }
}
