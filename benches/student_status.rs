//! `student_status(mark)` against `max(mark)` in a GROUP BY over 1M groups.
//!
//! 10M marks (canonical codes in a realistic mix, 0.5 % NULL) in 8192-row
//! batches of (grp Int64, mark Utf8), ten marks per group on average, group
//! ids drawn at random so a group's marks are scattered as they are across
//! a real table's row groups. `max(mark)` is the yardstick: a built-in
//! string aggregate with a native GroupsAccumulator over the same input.
//!
//! ```text
//! cargo bench --bench student_status
//! ```

use std::error::Error;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::cast::{as_int64_array, as_string_array};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sapa_udfs::{Mark, StatusBits};
use tokio::runtime::Runtime;

const ROWS: usize = 10_000_000;
const GROUPS: usize = 1_000_000;
const BATCH: usize = 8192;
const SEED: u64 = 2021;

/// Marks in per-mille of rows, roughly a national quarter: mostly 4s and
/// 5s, a fifth 3s, few failing and neutral marks; the rest (5) NULL.
const MIX: [(Option<Mark>, u32); 12] = [
    (Some(Mark::Five), 300),
    (Some(Mark::Four), 350),
    (Some(Mark::Three), 200),
    (Some(Mark::Two), 20),
    (Some(Mark::One), 2),
    (Some(Mark::NotAttested), 5),
    (Some(Mark::TemporarilyNotAttested), 3),
    (Some(Mark::Credited), 80),
    (Some(Mark::NotCredited), 5),
    (Some(Mark::Exempt), 20),
    (Some(Mark::NotStudied), 10),
    (None, 5),
];

/// The generated table and the status counts it must produce.
struct Data {
    schema: Arc<Schema>,
    partitions: Vec<Vec<RecordBatch>>,
    expected: Vec<(String, usize)>,
}

fn pick(rng: &mut ChaCha8Rng) -> Option<Mark> {
    let mut roll = rng.random_range(0..1000_u32);
    for (mark, weight) in MIX {
        if roll < weight {
            return mark;
        }
        roll -= weight;
    }
    None
}

fn generate(partition_count: usize) -> Result<Data, Box<dyn Error>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("grp", DataType::Int64, false),
        Field::new("mark", DataType::Utf8, true),
    ]));
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut partitions = vec![Vec::new(); partition_count];
    // The expected answer, folded with the same rules outside DataFusion.
    let mut seen: Vec<Option<StatusBits>> = vec![None; GROUPS];
    for (n, start) in (0..ROWS).step_by(BATCH).enumerate() {
        let len = BATCH.min(ROWS - start);
        let mut groups = Vec::with_capacity(len);
        let mut marks = Vec::with_capacity(len);
        for _ in 0..len {
            let group = rng.random_range(0..GROUPS);
            let mark = pick(&mut rng);
            let bits = seen[group].get_or_insert(StatusBits::EMPTY);
            if let Some(mark) = mark {
                *bits = bits.add(mark);
            }
            groups.push(group as i64);
            marks.push(mark.map(Mark::code));
        }
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(groups)),
                Arc::new(StringArray::from(marks)),
            ],
        )?;
        partitions[n % partition_count].push(batch);
    }
    let mut counts = std::collections::BTreeMap::new();
    for bits in seen.into_iter().flatten() {
        *counts
            .entry(bits.status().as_str().to_string())
            .or_insert(0) += 1;
    }
    Ok(Data {
        schema,
        partitions,
        expected: counts.into_iter().collect(),
    })
}

/// Runs `sql` and returns the number of rows it gave.
async fn run(ctx: &SessionContext, sql: &str) -> Result<usize, Box<dyn Error>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(batches.iter().map(RecordBatch::num_rows).sum())
}

/// Checks the UDAF's answer against the statuses folded while generating.
async fn check(ctx: &SessionContext, expected: &[(String, usize)]) -> Result<(), Box<dyn Error>> {
    let sql = "SELECT status, count(*) FROM \
               (SELECT grp, student_status(mark) AS status FROM t GROUP BY grp) \
               GROUP BY status ORDER BY status";
    let mut got = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let names = as_string_array(batch.column(0))?;
        let counts = as_int64_array(batch.column(1))?;
        for i in 0..batch.num_rows() {
            got.push((names.value(i).to_string(), counts.value(i) as usize));
        }
    }
    if got != expected {
        return Err(format!("student_status gave {got:?}, expected {expected:?}").into());
    }
    println!("status counts, as expected: {got:?}");
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let runtime = Runtime::new()?;
    let partition_count = std::thread::available_parallelism().map_or(2, usize::from);
    let data = generate(partition_count)?;
    let ctx = SessionContext::new();
    sapa_udfs::register_all(&ctx);
    ctx.register_table(
        "t",
        Arc::new(MemTable::try_new(data.schema, data.partitions)?),
    )?;
    runtime.block_on(check(&ctx, &data.expected))?;

    let queries = [
        (
            "student_status",
            "SELECT grp, student_status(mark) FROM t GROUP BY grp",
        ),
        ("max", "SELECT grp, max(mark) FROM t GROUP BY grp"),
    ];
    // Both queries must run (and give one row per group) before timing.
    let groups = data.expected.iter().map(|(_, n)| n).sum::<usize>();
    for (name, sql) in queries {
        let rows = runtime.block_on(run(&ctx, sql))?;
        if rows != groups {
            return Err(format!("{name}: {rows} rows, expected {groups}").into());
        }
    }

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(30))
        .configure_from_args();
    let mut group = criterion.benchmark_group("group_by");
    group.throughput(Throughput::Elements(ROWS as u64));
    for (name, sql) in queries {
        let id = BenchmarkId::new(
            name,
            format!("{}M_rows_{}M_groups", ROWS / 1_000_000, GROUPS / 1_000_000),
        );
        group.bench_function(id, |b| {
            b.iter(|| black_box(runtime.block_on(run(&ctx, sql)).map_err(|e| e.to_string())));
        });
    }
    group.finish();
    criterion.final_summary();
    Ok(())
}
