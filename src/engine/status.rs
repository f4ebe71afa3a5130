//! The `student_status` query (SPEC §3, §4), the `school_counts` query
//! over it (SPEC §5.3's counts per school), and their materialisation.
//!
//! The queries live in `sql/`; ingest runs them once per academic year ×
//! period it touched and stores the results as the `student_status` and
//! `school_counts` tables, so the stored tables and the queries agree by
//! construction. A dataset written before `school_counts` was stored gets
//! it as a view of the same query (`crate::engine::views::register`).

use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;

use crate::storage::StoredTable;

/// The `student_status` query over the tables `calendar`, `classes`,
/// `enrollments`, `schools`, `districts`, `subjects` and `marks`, using the
/// `student_status` and `annual_mark` functions of `sapa_udfs`. Its columns
/// are those of [`StoredTable::StudentStatus`].
pub const STUDENT_STATUS_SQL: &str = include_str!("sql/student_status.sql");

/// The `school_counts` query over the table (or view) `student_status`.
/// Its columns are those of [`StoredTable::SchoolCounts`].
pub const SCHOOL_COUNTS_SQL: &str = include_str!("sql/school_counts.sql");

/// The `school_count_changes` query over `student_status` and
/// `earlier_statuses`. Its columns are those of
/// [`StoredTable::SchoolCountChanges`].
pub const SCHOOL_COUNT_CHANGES_SQL: &str = include_str!("sql/school_count_changes.sql");

/// The rows of one academic year and period of a table made by a query
/// (`student_status`, `school_counts`, `school_count_changes`), in its
/// stored order, from what `ctx` holds (the marks and reference tables; for
/// the counts, the new statuses; for the changes, the earlier statuses).
pub async fn derived_partition(
    ctx: &SessionContext,
    table: StoredTable,
    academic_year: i32,
    period: &str,
) -> Result<SendableRecordBatchStream> {
    let query = match table {
        StoredTable::StudentStatus => STUDENT_STATUS_SQL,
        StoredTable::SchoolCounts => SCHOOL_COUNTS_SQL,
        StoredTable::SchoolCountChanges => SCHOOL_COUNT_CHANGES_SQL,
        other => return plan_err!("{} is not made by a query", other.name()),
    };
    partition(ctx, table, query, academic_year, period).await
}

/// The rows of `query` (with `table`'s columns) for one partition, in
/// `table`'s stored order.
async fn partition(
    ctx: &SessionContext,
    table: StoredTable,
    query: &str,
    academic_year: i32,
    period: &str,
) -> Result<SendableRecordBatchStream> {
    let columns = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let order = table.sort_columns().join(", ");
    // `period` is one of the fixed report periods, never user text; quote it
    // anyway so the query stays well-formed whatever it is.
    let period = period.replace('\'', "''");
    let sql = format!(
        "SELECT {columns} FROM ({query}) AS s \
         WHERE academic_year = {academic_year} AND period = '{period}' ORDER BY {order}"
    );
    ctx.sql(&sql).await?.execute_stream().await
}
