//! The three views of SPEC §11 computed in plain Rust from the interchange
//! CSVs: the §4 filters and the §3 status per student and period, then the
//! §5.1/§5.2 report rows and the §5.3 indicator rows. Only the domain rules
//! that are unit-tested elsewhere (`parse_mark`, `annual_mark`,
//! `status_of`) come from `sapa_udfs`; the joins, filters, counts and bands
//! are written out here independently of the engine's SQL.

use std::collections::{BTreeMap, HashMap};

use sapa_udfs::annual::annual_mark;
use sapa_udfs::mark::{Mark, parse_mark};
use sapa_udfs::status::{Status, status_of};

use super::compare::{Cell, Row};
use super::input::Input;

/// The report periods of SPEC §11, in order.
pub const PERIODS: [&str; 5] = ["Q1", "Q2", "Q3", "Q4", "YEAR"];

/// One counted student in one period.
#[derive(Debug, Clone)]
pub struct StudentStatus {
    pub academic_year: i32,
    pub period: &'static str,
    pub region_id: i64,
    pub district_id: i64,
    pub school_id: i64,
    pub class_id: i64,
    pub parallel: i32,
    pub student_id: i64,
    pub status: Status,
    /// Counted non-empty marks (annual marks for `YEAR`).
    pub marks_count: i64,
}

fn mark(raw: &str) -> Mark {
    match parse_mark(raw) {
        Ok(Some((mark, _))) => mark,
        other => panic!("mark {raw:?} of the input: {other:?}"),
    }
}

/// The counted marks of a student in the class they sit in (SPEC §4.2,
/// §4.5): certified subjects only; for `YEAR` one annual mark per subject,
/// `FINAL` if set, else `YEAR`.
fn counted_marks(input: &Input, student_id: i64, class_id: i64, period: &str) -> Vec<Mark> {
    let Some(marks) = input.marks.get(&(student_id, class_id)) else {
        return Vec::new();
    };
    let certified = |subject: i64| input.certified.get(&subject).copied().unwrap_or(false);
    if period != "YEAR" {
        return marks
            .iter()
            .filter(|m| m.period == period && certified(m.subject_id))
            .map(|m| mark(&m.mark))
            .collect();
    }
    // subject → (FINAL, YEAR)
    let mut annual: BTreeMap<i64, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for m in marks.iter().filter(|m| certified(m.subject_id)) {
        let slot = annual.entry(m.subject_id).or_default();
        match m.period.as_str() {
            "FINAL" => slot.0 = Some(&m.mark),
            "YEAR" => slot.1 = Some(&m.mark),
            _ => {}
        }
    }
    annual
        .values()
        .filter_map(|(fin, year)| annual_mark(*fin, *year))
        .map(mark)
        .collect()
}

/// Every row of `student_status` (SPEC §3, §4, §11).
pub fn statuses(input: &Input) -> Vec<StudentStatus> {
    let mut out = Vec::new();
    for (&year, quarters) in &input.calendar {
        for period in PERIODS {
            let quarter = if period == "YEAR" { "Q4" } else { period };
            let Some(&end) = quarters.get(quarter) else {
                continue;
            };
            // Where each student sits at the end date: an active membership
            // (both days inclusive) in a counted class of the year. Should
            // two be active, the latest by active_from then class_id (the
            // engine's documented tie rule; the data here has no such case,
            // see `overlaps`).
            let mut sits: BTreeMap<i64, (chrono::NaiveDate, i64)> = BTreeMap::new();
            for e in &input.enrollments {
                let class = &input.classes[&e.class_id];
                let active = e.active_from <= end && e.active_to.is_none_or(|to| to >= end);
                if class.academic_year != year || !class.counted || !active {
                    continue;
                }
                let here = (e.active_from, e.class_id);
                let seat = sits.entry(e.student_id).or_insert(here);
                *seat = (*seat).max(here);
            }
            for (student_id, (_, class_id)) in sits {
                let class = &input.classes[&class_id];
                let (district_id, region_id) = input.schools[&class.school_id];
                let marks = counted_marks(input, student_id, class_id, period);
                out.push(StudentStatus {
                    academic_year: year,
                    period,
                    region_id,
                    district_id,
                    school_id: class.school_id,
                    class_id,
                    parallel: class.parallel,
                    student_id,
                    status: status_of(marks.iter().copied()),
                    marks_count: marks.len() as i64,
                });
            }
        }
    }
    out
}

/// How many student × period pairs have two memberships active at the end
/// date (the test expects none, so no tie rule is being relied on).
pub fn overlaps(input: &Input) -> usize {
    let mut n = 0;
    for (&year, quarters) in &input.calendar {
        for &end in quarters.values() {
            let mut seen: HashMap<i64, usize> = HashMap::new();
            for e in &input.enrollments {
                let class = &input.classes[&e.class_id];
                if class.academic_year == year
                    && class.counted
                    && e.active_from <= end
                    && e.active_to.is_none_or(|to| to >= end)
                {
                    *seen.entry(e.student_id).or_default() += 1;
                }
            }
            n += seen.values().filter(|&&c| c > 1).count();
        }
    }
    n
}

/// The `student_status` view's rows (its SPEC §11 columns).
pub fn status_rows(statuses: &[StudentStatus]) -> Vec<Row> {
    statuses
        .iter()
        .map(|s| {
            vec![
                Cell::Int(s.academic_year.into()),
                Cell::str(s.period),
                Cell::Int(s.student_id),
                Cell::Int(s.region_id),
                Cell::Int(s.district_id),
                Cell::Int(s.school_id),
                Cell::Int(s.class_id),
                Cell::Int(s.parallel.into()),
                Cell::str(s.status.as_str()),
            ]
        })
        .collect()
}

/// Counts of statuses over a set of students.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    total: i64,
    excellent: i64,
    good: i64,
    satisfactory: i64,
    low: i64,
    exempt: i64,
    ungraded: i64,
    marks: i64,
}

impl Counts {
    fn add(&mut self, s: &StudentStatus) {
        self.total += 1;
        self.marks += s.marks_count;
        *match s.status {
            Status::Excellent => &mut self.excellent,
            Status::Good => &mut self.good,
            Status::Satisfactory => &mut self.satisfactory,
            Status::Low => &mut self.low,
            Status::Exempt => &mut self.exempt,
            Status::Ungraded => &mut self.ungraded,
        } += 1;
    }

    fn merge(&mut self, o: &Counts) {
        self.total += o.total;
        self.excellent += o.excellent;
        self.good += o.good;
        self.satisfactory += o.satisfactory;
        self.low += o.low;
        self.exempt += o.exempt;
        self.ungraded += o.ungraded;
        self.marks += o.marks;
    }
}

/// 100·num/den, NULL when den is 0 (SPEC §5).
fn pct(num: i64, den: i64) -> Option<f64> {
    (den != 0).then(|| 100.0 * num as f64 / den as f64)
}

/// The `report_by_school` rows (SPEC §5.1/§5.2).
pub fn report_rows(statuses: &[StudentStatus]) -> Vec<Row> {
    let mut groups: BTreeMap<(i32, &str, i64, i64, i64, i32), Counts> = BTreeMap::new();
    for s in statuses {
        let key = (
            s.academic_year,
            s.period,
            s.region_id,
            s.district_id,
            s.school_id,
            s.parallel,
        );
        groups.entry(key).or_default().add(s);
    }
    groups
        .into_iter()
        .map(|((year, period, region, district, school, parallel), c)| {
            // Exempt students are not in the report file (SPEC §4.7).
            let students = c.total - c.exempt;
            let graded = parallel != 1;
            let by_class = |v: i64| if graded { Cell::Int(v) } else { Cell::Null };
            let share = |num: i64| Cell::opt_float(pct(num, students).filter(|_| graded));
            vec![
                Cell::Int(year.into()),
                Cell::str(period),
                Cell::Int(region),
                Cell::Int(district),
                Cell::Int(school),
                Cell::Int(parallel.into()),
                Cell::Int(students),
                by_class(c.excellent),
                by_class(c.good),
                by_class(c.satisfactory),
                by_class(c.low),
                Cell::Int(c.exempt),
                Cell::Int(c.ungraded),
                share(c.excellent + c.good),
                share(c.excellent + c.good + c.satisfactory),
                if period == "YEAR" {
                    Cell::Int(c.marks)
                } else {
                    Cell::Null
                },
            ]
        })
        .collect()
}

/// The band of 100·num/den (SPEC §5.3), decided exactly in integers.
pub fn band(quality: bool, body: bool, num: i64, den: i64) -> Option<&'static str> {
    if den == 0 {
        return None;
    }
    let (medium_from, high_from) = match (quality, body) {
        (false, _) => (50, 95),
        (true, false) => (30, 40),
        (true, true) => (40, 86),
    };
    Some(if 100 * num >= high_from * den {
        "high"
    } else if 100 * num >= medium_from * den {
        "medium"
    } else {
        "low"
    })
}

/// The two indicators of a unit: (performance, its band, quality, its band).
fn indicators(c: &Counts, body: bool) -> [Cell; 4] {
    let den = c.total - c.exempt;
    let perf = c.total - c.exempt - c.low;
    let quality = c.excellent + c.good;
    [
        Cell::opt_float(pct(perf, den)),
        Cell::opt_str(band(false, body, perf, den)),
        Cell::opt_float(pct(quality, den)),
        Cell::opt_str(band(true, body, quality, den)),
    ]
}

/// A governing body's pooled counts and its schools.
#[derive(Debug, Default)]
struct Body {
    counts: Counts,
    schools: i64,
    meeting_performance: i64,
    meeting_quality: i64,
}

/// The `indicators` rows (SPEC §5.3): schools, districts, regions, country.
pub fn indicator_rows(statuses: &[StudentStatus]) -> Vec<Row> {
    // (year, period, school) → (district, region, counts), parallels ≥ 2.
    let mut schools: BTreeMap<(i32, &str, i64), (i64, i64, Counts)> = BTreeMap::new();
    for s in statuses.iter().filter(|s| s.parallel >= 2) {
        let key = (s.academic_year, s.period, s.school_id);
        let entry = schools
            .entry(key)
            .or_insert((s.district_id, s.region_id, Counts::default()));
        entry.2.add(s);
    }
    let counts_row = |year: i32, period: &str, level: &str, unit: Option<i64>, c: &Counts| {
        let mut row = vec![
            Cell::Int(year.into()),
            Cell::str(period),
            Cell::str(level),
            Cell::opt_int(unit),
            Cell::Int(c.total),
            Cell::Int(c.exempt),
            Cell::Int(c.low),
            Cell::Int(c.excellent),
            Cell::Int(c.good),
            Cell::Int(c.ungraded),
        ];
        row.extend(indicators(c, level != "school"));
        row
    };
    let mut rows = Vec::new();
    let mut bodies: BTreeMap<(i32, &str, &str, Option<i64>), Body> = BTreeMap::new();
    for (&(year, period, school), (district, region, c)) in &schools {
        let mut row = counts_row(year, period, "school", Some(school), c);
        row.extend([Cell::Null, Cell::Null, Cell::Null]);
        rows.push(row);
        let perf_high = band(false, false, c.total - c.exempt - c.low, c.total - c.exempt);
        let quality_high = band(true, false, c.excellent + c.good, c.total - c.exempt);
        for (level, unit) in [
            ("district", Some(*district)),
            ("region", Some(*region)),
            ("country", None),
        ] {
            let body = bodies.entry((year, period, level, unit)).or_default();
            body.counts.merge(c);
            body.schools += 1;
            body.meeting_performance += i64::from(perf_high == Some("high"));
            body.meeting_quality += i64::from(quality_high == Some("high"));
        }
    }
    for ((year, period, level, unit), body) in bodies {
        let mut row = counts_row(year, period, level, unit, &body.counts);
        row.extend([
            Cell::Int(body.schools),
            Cell::Int(body.meeting_performance),
            Cell::Int(body.meeting_quality),
        ]);
        rows.push(row);
    }
    rows
}

#[test]
fn bands_follow_the_spec_table_on_the_exact_fraction() {
    // School quality: 39.99… is medium, exactly 40 is high.
    assert_eq!(band(true, false, 3999, 10000), Some("medium"));
    assert_eq!(band(true, false, 2, 5), Some("high"));
    assert_eq!(band(true, false, 29, 100), Some("low"));
    // Body quality: 85.71 is medium, 86 high, 39 low.
    assert_eq!(band(true, true, 6, 7), Some("medium"));
    assert_eq!(band(true, true, 43, 50), Some("high"));
    assert_eq!(band(true, true, 39, 100), Some("low"));
    // Performance, both levels: 94.99 medium, 95 high, 49 low.
    assert_eq!(band(false, true, 9499, 10000), Some("medium"));
    assert_eq!(band(false, false, 19, 20), Some("high"));
    assert_eq!(band(false, false, 49, 100), Some("low"));
    assert_eq!(band(false, false, 0, 0), None);
}
