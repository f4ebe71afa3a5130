//! The report views of SPEC §11 over the stored tables.
//!
//! `report_by_school` (§5.1/§5.2) reads the materialised `student_status`
//! table — one small row per student and period — so a nationwide period
//! is a scan of ~4M rows, never a regrouping of ~45M marks; `indicators`
//! (§5.3) rolls up the materialised `school_counts`, ~7,500 rows a period.
//! `mark_audit` (§6) lists the mark versions set, changed or cleared after
//! their period's end, from `marks_history` and `calendar`. `modo_results` and `modo_inflation` (SPEC §9) read `modo`
//! beside the statuses. Each view is one SQL file beside this one; so is
//! the query of the table function [`modo_draw`], and of each "as of"
//! function ([`as_of`], SPEC §6) in `as_of/`.

pub mod as_of;
pub mod modo_draw;

use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use super::status::SCHOOL_COUNTS_SQL;
use crate::storage::StoredTable;

/// The views, by name, with their defining query.
pub const VIEWS: [(&str, &str); 5] = [
    ("report_by_school", include_str!("report_by_school.sql")),
    ("indicators", include_str!("indicators.sql")),
    ("mark_audit", include_str!("mark_audit.sql")),
    ("modo_results", include_str!("modo_results.sql")),
    ("modo_inflation", include_str!("modo_inflation.sql")),
];

/// `mark_audit` over its stored rows: the columns of `mark_audit.sql`.
const STORED_AUDIT_SQL: &str = "SELECT academic_year, period, region_id, district_id, school_id, \
     class_id, student_id, subject_id, kind, old_mark, new_mark, recorded_at, end_date, days_late \
     FROM mark_audit_rows";

/// What `recorded_marks` holds, for a dataset written before ingest stored
/// it: per school and mark period, the marks with a version in the history.
const RECORDED_MARKS_SQL: &str = "SELECT academic_year, period, region_id, district_id, school_id, \
     count(*) AS marks_recorded FROM (SELECT DISTINCT academic_year, period, region_id, \
     district_id, school_id, class_id, student_id, subject_id FROM marks_history) AS k \
     GROUP BY academic_year, period, region_id, district_id, school_id";

/// Creates every view, every "as of" function ([`as_of`]) and the table
/// function `modo_draw` in `ctx`. The stored tables and the functions they
/// call (`sapa_udfs::register_all`) must be registered first.
pub async fn register(ctx: &SessionContext) -> Result<()> {
    create_views(ctx).await?;
    modo_draw::register(ctx).await?;
    as_of::register(ctx).await
}

/// Creates the views of [`VIEWS`] alone: the "as of" functions also plan
/// over the stored `student_status`'s every column, which a session with
/// hand-made tables (the unit tests) need not have.
async fn create_views(ctx: &SessionContext) -> Result<()> {
    // A dataset (or snapshot) written before `school_counts` was stored,
    // or a session of hand-made tables: the same query, as a view.
    if !ctx.table_exist(StoredTable::SchoolCounts.name())? {
        ctx.sql(&format!(
            "CREATE VIEW {} AS {SCHOOL_COUNTS_SQL}",
            StoredTable::SchoolCounts.name()
        ))
        .await?;
    }
    if !ctx.table_exist(StoredTable::RecordedMarks.name())? {
        ctx.sql(&format!(
            "CREATE VIEW {} AS {RECORDED_MARKS_SQL}",
            StoredTable::RecordedMarks.name()
        ))
        .await?;
    }
    // The audit's rows, where ingest stored them (`crate::engine::audit`).
    let stored_audit = ctx.table_exist(StoredTable::MarkAudit.name())?;
    for (name, query) in VIEWS {
        let query = match name {
            "mark_audit" if stored_audit => STORED_AUDIT_SQL,
            _ => query,
        };
        ctx.sql(&format!("CREATE OR REPLACE VIEW {name} AS {query}"))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod modo_tests;
#[cfg(test)]
pub(crate) mod test_tables;
#[cfg(test)]
mod tests;
