//! Generates a dataset and reports throughput; with `--stats`, also the
//! national indicators it implies (knowledge quality, performance level,
//! excellent share) by period, locality, grade band, school type and region.
//!
//! ```text
//! cargo run --release -p sapa-datasets --example gen -- region [--years 2021..2025] [--seed N]
//!     [--out DIR | --null] [--stats]
//! ```
//! Without `--out` the CSVs go to `/tmp/sapa-gen-<scale>`; `--null` writes nothing.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use sapa_datasets::CsvDirSink;
use sapa_datasets::generate::{GenerateOptions, Scale, SinkError, TableSink, generate};
use sapa_datasets::schema::Table;
use sapa_udfs::{Mark, Status, parse_mark, status_of};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scale: Scale = args.first().map_or("tiny", String::as_str).parse()?;
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let years = match flag("--years") {
        Some(y) => {
            let (a, b) = y.split_once("..").ok_or("--years Y1..Y2")?;
            a.parse()?..=b.trim_start_matches('=').parse()?
        }
        None => 2021..=2025,
    };
    let seed = flag("--seed").map_or(Ok(42), |s| s.parse())?;
    let null = args.iter().any(|a| a == "--null");
    let out = flag("--out").unwrap_or_else(|| format!("/tmp/sapa-gen-{scale}"));
    let opts = GenerateOptions { scale, years, seed };
    let mut csv = if null {
        None
    } else {
        Some(CsvDirSink::create(&out)?)
    };
    let mut nothing = Null;
    let inner: &mut dyn TableSink = match csv.as_mut() {
        Some(c) => c,
        None => &mut nothing,
    };
    let mut stats = args.iter().any(|a| a == "--stats").then(Stats::default);
    let mut sink = Tee {
        inner,
        stats: stats.as_mut(),
    };
    let started = Instant::now();
    let mut last = Instant::now();
    let summary = generate(&opts, &mut sink, &mut |p| {
        if last.elapsed().as_secs() >= 10 {
            eprintln!("{:?}: {} / ~{} rows", p.table, p.rows, p.rows_expected);
            last = Instant::now();
        }
    })?;
    if let Some(c) = csv {
        c.finish()?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total: u64 = summary.rows.values().sum();
    for (t, n) in &summary.rows {
        println!("{:<12} {n:>12} rows", t.name());
    }
    println!("students on the first day: {:?}", summary.students);
    println!(
        "{total} rows in {elapsed:.1} s: {:.0} rows/s",
        total as f64 / elapsed
    );
    if !null {
        let mut bytes = 0;
        for t in Table::ALL {
            bytes += std::fs::metadata(std::path::Path::new(&out).join(t.file_name()))
                .map_or(0, |m| m.len());
        }
        println!(
            "{bytes} bytes of CSV in {out} ({:.1} MB/s)",
            bytes as f64 / 1e6 / elapsed
        );
    }
    if let Some(s) = stats {
        s.report();
    }
    Ok(())
}

struct Null;

impl TableSink for Null {
    fn write(&mut self, _: Table, _: RecordBatch) -> Result<(), SinkError> {
        Ok(())
    }
}

struct Tee<'a> {
    inner: &'a mut dyn TableSink,
    stats: Option<&'a mut Stats>,
}

impl TableSink for Tee<'_> {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<(), SinkError> {
        if let Some(s) = self.stats.as_deref_mut() {
            s.observe(table, &batch);
        }
        self.inner.write(table, batch)
    }
}

/// Streams the marks (which arrive by class and student) into status counts.
#[derive(Default)]
struct Stats {
    district_region: HashMap<i64, i64>,
    /// school -> (region, urban, type group)
    schools: HashMap<i64, (i64, bool, &'static str)>,
    /// class -> (school, parallel, regular)
    classes: HashMap<i64, (i64, i32, bool)>,
    certified: HashMap<i64, bool>,
    current: Option<(i64, i64)>,
    /// (subject, period) -> current mark
    marks: BTreeMap<(i64, String), Option<Mark>>,
    /// (period, bucket) -> status counts
    counts: BTreeMap<(String, String), BTreeMap<Status, u64>>,
}

impl Stats {
    fn observe(&mut self, table: Table, b: &RecordBatch) {
        let i64s = |i: usize| b.column(i).as_primitive::<Int64Type>().values().to_vec();
        let strs = |i: usize| {
            b.column(i)
                .as_string::<i32>()
                .iter()
                .map(|s| s.map(str::to_string))
                .collect::<Vec<_>>()
        };
        match table {
            Table::Districts => {
                for (d, r) in i64s(0).into_iter().zip(i64s(1)) {
                    self.district_region.insert(d, r);
                }
            }
            Table::Schools => {
                let (ids, ds, loc, ty) = (i64s(0), i64s(1), strs(4), strs(6));
                for i in 0..ids.len() {
                    let group = match ty[i].as_deref() {
                        Some("general") => "general",
                        Some("gymnasium" | "lyceum" | "school_gymnasium" | "school_lyceum") => {
                            "gym/lyceum"
                        }
                        _ => "other types",
                    };
                    let region = self.district_region.get(&ds[i]).copied().unwrap_or(0);
                    self.schools
                        .insert(ids[i], (region, loc[i].as_deref() == Some("urban"), group));
                }
            }
            Table::Subjects => {
                let ids = i64s(0);
                let cert = b.column(3).as_boolean();
                for (i, id) in ids.iter().enumerate() {
                    self.certified.insert(*id, cert.value(i));
                }
            }
            Table::Classes => {
                let (ids, school) = (i64s(0), i64s(1));
                let par = b
                    .column(3)
                    .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
                let (journal, period) = (strs(5), strs(6));
                for i in 0..ids.len() {
                    let regular = journal[i].as_deref() == Some("criterial")
                        && period[i].as_deref() == Some("quarter");
                    self.classes
                        .insert(ids[i], (school[i], par.value(i), regular));
                }
            }
            Table::Marks => {
                let (st, cl, su, pe, mk) = (i64s(0), i64s(1), i64s(2), strs(3), strs(4));
                for i in 0..st.len() {
                    let key = (cl[i], st[i]);
                    if self.current != Some(key) {
                        self.flush();
                        self.current = Some(key);
                    }
                    if self.certified.get(&su[i]).copied().unwrap_or(false) {
                        let mark = mk[i]
                            .as_deref()
                            .and_then(|m| parse_mark(m).ok().flatten())
                            .map(|(m, _)| m);
                        self.marks
                            .insert((su[i], pe[i].clone().unwrap_or_default()), mark);
                    }
                }
            }
            Table::Modo => self.flush(),
            _ => {}
        }
    }

    fn flush(&mut self) {
        let Some((class, _)) = self.current.take() else {
            return;
        };
        let marks = std::mem::take(&mut self.marks);
        let Some(&(school, parallel, regular)) = self.classes.get(&class) else {
            return;
        };
        if !regular || parallel < 2 {
            return;
        }
        let (region, urban, group) = self
            .schools
            .get(&school)
            .copied()
            .unwrap_or((0, false, "?"));
        let band = match parallel {
            2..=4 => "grades 2-4",
            5..=9 => "grades 5-9",
            _ => "grades 10-11",
        };
        for period in ["Q1", "Q2", "Q3", "Q4", "YEAR"] {
            let set: Vec<Mark> = if period == "YEAR" {
                let subjects: Vec<i64> = marks.keys().map(|k| k.0).collect();
                let mut v = Vec::new();
                for s in subjects.iter().collect::<std::collections::BTreeSet<_>>() {
                    let fin = marks.get(&(*s, "FINAL".to_string())).copied().flatten();
                    if let Some(m) =
                        fin.or_else(|| marks.get(&(*s, "YEAR".to_string())).copied().flatten())
                    {
                        v.push(m);
                    }
                }
                v
            } else {
                marks
                    .iter()
                    .filter(|((_, p), _)| p == period)
                    .filter_map(|(_, m)| *m)
                    .collect()
            };
            if set.is_empty() {
                continue;
            }
            let status = status_of(set);
            let buckets = [
                "all".to_string(),
                if urban { "urban" } else { "rural" }.to_string(),
                band.to_string(),
                group.to_string(),
                format!("region {region:02}"),
            ];
            for b in buckets {
                *self
                    .counts
                    .entry((period.to_string(), b))
                    .or_default()
                    .entry(status)
                    .or_default() += 1;
            }
        }
    }

    fn report(mut self) {
        self.flush();
        println!(
            "{:<6} {:<14} {:>9} {:>8} {:>8} {:>8} {:>8}",
            "period", "bucket", "students", "quality", "perform", "excel", "exempt"
        );
        for ((period, bucket), c) in &self.counts {
            let n = |s: Status| c.get(&s).copied().unwrap_or(0) as f64;
            let total: f64 = c.values().sum::<u64>() as f64;
            let den = total - n(Status::Exempt);
            println!(
                "{period:<6} {bucket:<14} {total:>9} {:>7.1}% {:>7.2}% {:>7.1}% {:>8}",
                100.0 * (n(Status::Excellent) + n(Status::Good)) / den,
                100.0 * (den - n(Status::Low)) / den,
                100.0 * n(Status::Excellent) / den,
                n(Status::Exempt)
            );
        }
    }
}
