//! The canned reports of `queries/` (SPEC §12 `sapa report`): their
//! catalog, their parameters, running them, and the bilingual workbook a
//! report author pastes into the National Report.
//!
//! ```no_run
//! # async fn demo(ctx: &datafusion::prelude::SessionContext) -> Result<(), sapa::reports::ReportError> {
//! use sapa::reports::{self, ReportParams, Unit};
//!
//! let query = reports::find("quarterly_report")?;
//! let given = ReportParams { unit: Some(Unit::Region(2)), ..ReportParams::default() };
//! let params = reports::resolve_defaults(ctx, query, given).await?;
//! let batches = reports::run(ctx, query, &params).await?;
//! # Ok(()) }
//! ```
//!
//! The session must have the stored tables and the §11 views registered
//! (`Engine::session_context` then `views::register`).

mod catalog;
mod error;
pub mod labels;
mod params;
mod resolve;
pub mod xlsx;

use datafusion::arrow::array::RecordBatch;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{DataFrame, SessionContext};

pub use catalog::{CannedQuery, canned_queries, find};
pub use error::ReportError;
pub use params::{Param, Period, PeriodRef, ReportParams, Unit, UnitChoice};
pub use resolve::{param_values, regions, resolve_defaults};

/// Plans `query` with `params` bound (see [`param_values`]); nothing runs
/// until the frame is collected or streamed. The canned SQL is planned with
/// DDL, DML and statements disallowed: a report only reads.
pub async fn dataframe(
    ctx: &SessionContext,
    query: &CannedQuery,
    params: &ReportParams,
) -> Result<DataFrame, ReportError> {
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let frame = ctx.sql_with_options(query.sql, options).await?;
    Ok(frame.with_param_values(param_values(params))?)
}

/// Runs `query` with `params` (normally from [`resolve_defaults`]) and
/// collects its result.
pub async fn run(
    ctx: &SessionContext,
    query: &CannedQuery,
    params: &ReportParams,
) -> Result<Vec<RecordBatch>, ReportError> {
    Ok(dataframe(ctx, query, params).await?.collect().await?)
}
