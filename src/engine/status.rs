//! The `student_status` query (SPEC §3, §4), the `school_counts` query
//! over it (SPEC §5.3's counts per school), and their materialisation.
//!
//! The queries live in `sql/`; ingest runs them once per academic year ×
//! period it touched and stores the results as the `student_status` and
//! `school_counts` tables, so the stored tables and the queries agree by
//! construction. A dataset written before `school_counts` was stored gets
//! it as a view of the same query (`crate::views::register`).

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

/// The `student_status` rows of one academic year and period, in the stored
/// order (region, district, school, class, student).
pub async fn status_partition(
    ctx: &SessionContext,
    academic_year: i32,
    period: &str,
) -> Result<SendableRecordBatchStream> {
    partition(
        ctx,
        StoredTable::StudentStatus,
        STUDENT_STATUS_SQL,
        academic_year,
        period,
    )
    .await
}

/// The `school_counts` rows of one academic year and period, from the
/// `student_status` registered in `ctx`, in the stored order.
pub async fn school_counts_partition(
    ctx: &SessionContext,
    academic_year: i32,
    period: &str,
) -> Result<SendableRecordBatchStream> {
    partition(
        ctx,
        StoredTable::SchoolCounts,
        SCHOOL_COUNTS_SQL,
        academic_year,
        period,
    )
    .await
}

/// The `school_count_changes` rows of one academic year and period, from
/// the `student_status` and `earlier_statuses` registered in `ctx`.
pub async fn school_count_changes_partition(
    ctx: &SessionContext,
    academic_year: i32,
    period: &str,
) -> Result<SendableRecordBatchStream> {
    partition(
        ctx,
        StoredTable::SchoolCountChanges,
        SCHOOL_COUNT_CHANGES_SQL,
        academic_year,
        period,
    )
    .await
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
