//! `modo_draw(academic_year, seed [, min_students_4_9])`: the reproducible
//! MODO (ББЖМ) school draw of SPEC §9 as a table function. The minimum of
//! students in grades 4 and 9 is SPEC §9's 80 unless a third argument says
//! otherwise (to simulate another rule, or to draw from a small country).
//!
//! The draw's query (`modo_draw.sql` beside this file, its rules in
//! `sapa_udfs::modo::draw`) is planned once, with placeholders for the year
//! and the seed; a call binds them and returns a view over that plan. The
//! draw is always computed over the whole country — its clusters and
//! quotas are national — and a scoped session sees it through its scope's
//! filter on `school_id`, so a region user sees exactly the ministry's
//! drawn schools of its region.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::datasource::ViewTable;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::prelude::SessionContext;
use sapa_udfs::modo::draw::MIN_STUDENTS_4_9;

/// The SQL name of the table function.
pub const NAME: &str = "modo_draw";

/// The draw's query, with `$1` = academic_year, `$2` = seed and `$3` =
/// the minimum of students in grades 4 and 9.
const DRAW_SQL: &str = include_str!("modo_draw.sql");

/// The table function: the planned draw, filtered to a scope.
#[derive(Debug)]
pub struct ModoDraw {
    plan: LogicalPlan,
}

impl ModoDraw {
    /// The draw over the full relations of `base` (tables and Sapa's
    /// functions registered), keeping the rows `filter` (an SQL predicate
    /// over the draw's columns) accepts.
    async fn planned(base: &SessionContext, filter: &str) -> Result<ModoDraw> {
        // A copy, so planning here never changes `base`.
        let builder = SessionContext::new_with_state(base.state());
        // The query ends in its WHERE clause; the scope's filter joins it,
        // above the window that ranks the whole country's clusters (a
        // filter on school_id is never pushed below a window partitioned
        // by cluster).
        let sql = format!("{}\n    AND ({filter})", DRAW_SQL.trim_end());
        let plan = builder.sql(&sql).await?.into_unoptimized_plan();
        Ok(ModoDraw { plan })
    }

    /// The draw of the whole country, as the ministry sees it.
    pub async fn unscoped(base: &SessionContext) -> Result<Arc<ModoDraw>> {
        Ok(Arc::new(ModoDraw::planned(base, "TRUE").await?))
    }

    /// The whole country's draw seen by a scope: the drawn schools whose
    /// row `filter` (the scope's predicate on `school_id`) accepts.
    pub async fn filtered(base: &SessionContext, filter: &str) -> Result<Arc<ModoDraw>> {
        Ok(Arc::new(ModoDraw::planned(base, filter).await?))
    }
}

/// An integer constant argument, by its position and name.
fn integer(arg: &Expr, position: usize, name: &str) -> Result<i64> {
    let value = match arg {
        Expr::Literal(value, _) => value,
        other => {
            return plan_err!(
                "{NAME}: argument {position} ({name}) must be an integer constant, got {other}"
            );
        }
    };
    if value.is_null() {
        return plan_err!("{NAME}: argument {position} ({name}) must not be NULL");
    }
    match value.cast_to(&datafusion::arrow::datatypes::DataType::Int64) {
        Ok(ScalarValue::Int64(Some(n))) if value.data_type().is_integer() => Ok(n),
        _ => plan_err!(
            "{NAME}: argument {position} ({name}) must be an integer, got {value} of type {}",
            value.data_type()
        ),
    }
}

impl TableFunctionImpl for ModoDraw {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (year, seed, minimum) = match args.exprs() {
            [year, seed] => (year, seed, None),
            [year, seed, minimum] => (year, seed, Some(minimum)),
            other => {
                return plan_err!(
                    "{NAME}(academic_year, seed [, min_students_4_9]) takes 2 or 3 arguments, got {}",
                    other.len()
                );
            }
        };
        let year = integer(year, 1, "academic_year")?;
        let seed = integer(seed, 2, "seed")?;
        let minimum = match minimum {
            None => MIN_STUDENTS_4_9,
            Some(m) => integer(m, 3, "min_students_4_9")?,
        };
        if i32::try_from(year).is_err() {
            return plan_err!("{NAME}: academic_year {year} is out of range");
        }
        if minimum < 0 {
            return plan_err!("{NAME}: min_students_4_9 must not be negative, got {minimum}");
        }
        let plan = self.plan.clone().with_param_values(vec![
            ScalarValue::Int64(Some(year)),
            ScalarValue::Int64(Some(seed)),
            ScalarValue::Int64(Some(minimum)),
        ])?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}

/// Registers the unscoped `modo_draw` in `ctx` (whose tables and Sapa's
/// functions must be registered).
pub async fn register(ctx: &SessionContext) -> Result<()> {
    ctx.register_udtf(NAME, ModoDraw::unscoped(ctx).await?);
    Ok(())
}

#[cfg(test)]
mod tests;
