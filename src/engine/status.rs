//! The `student_status` query (SPEC §3, §4) and its materialisation.
//!
//! The query lives in `sql/student_status.sql`; ingest runs it once per
//! academic year × period it touched and stores the result as the
//! `student_status` table, so the stored table and the query agree by
//! construction.

use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;

use crate::storage::StoredTable;

/// The `student_status` query over the tables `calendar`, `classes`,
/// `enrollments`, `schools`, `districts`, `subjects` and `marks`, using the
/// `student_status` and `annual_mark` functions of `sapa_udfs`. Its columns
/// are those of [`StoredTable::StudentStatus`].
pub const STUDENT_STATUS_SQL: &str = include_str!("sql/student_status.sql");

/// The `student_status` rows of one academic year and period, in the stored
/// order (region, district, school, class, student).
pub async fn status_partition(
    ctx: &SessionContext,
    academic_year: i32,
    period: &str,
) -> Result<SendableRecordBatchStream> {
    let columns = StoredTable::StudentStatus
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let order = StoredTable::StudentStatus.sort_columns().join(", ");
    // `period` is one of the fixed report periods, never user text; quote it
    // anyway so the query stays well-formed whatever it is.
    let period = period.replace('\'', "''");
    let sql = format!(
        "SELECT {columns} FROM ({STUDENT_STATUS_SQL}) AS s \
         WHERE academic_year = {academic_year} AND period = '{period}' ORDER BY {order}"
    );
    ctx.sql(&sql).await?.execute_stream().await
}
