//! "As of" reporting (SPEC §6): table functions taking a date D that give
//! exactly what the weekly update of the latest Sunday on or before D showed.
//!
//! | function | rows |
//! |---|---|
//! | `student_status_as_of(D)` | `student_status` over the marks as of D |
//! | `report_by_school_as_of(D)` | `report_by_school` over those statuses |
//! | `indicators_as_of(D)` | `indicators` over those statuses |
//! | `indicators_current(D)` | the rows of `indicators_as_of(D)` for the one period that was "the current indicator" on D ([`sapa_udfs::period_in_force`]) |
//!
//! Each is the SQL of its view with the statuses replaced by their state as
//! of D (`as_of/statuses_overridden.sql`: the stored statuses, each
//! overridden by the row of `earlier_statuses` that covers D's update —
//! see `crate::engine::earlier_statuses`): the views' own queries, never a
//! copy of them, so an "as of" answer and the view cannot disagree on the
//! rules. A dataset written before `earlier_statuses` existed recomputes
//! instead (`as_of/student_status_as_of.sql`: the stored statuses of
//! students with no later mark version, the status query over the dated
//! marks of `as_of/marks_as_of.sql` for the others). The plan is built once per session with the date as a parameter
//! and bound when the function is called, so the optimizer sees a literal
//! cut-off (and Parquet statistics can prune by it).

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Date32Type, Int32Type};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{ScalarValue, plan_datafusion_err, plan_err};
use datafusion::datasource::ViewTable;
use datafusion::error::Result;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast, col, lit};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::prelude::SessionContext;
use sapa_udfs::{QuarterEnd, ReportPeriod, period_in_force};

use crate::engine::status::{SCHOOL_COUNTS_SQL, STUDENT_STATUS_SQL};
use crate::storage::StoredTable;

/// The marks as of the date `$1`.
const MARKS_AS_OF_SQL: &str = include_str!("as_of/marks_as_of.sql");
/// The statuses as of the date `$1`, around the marks and the status query.
const STUDENT_STATUS_AS_OF_SQL: &str = include_str!("as_of/student_status_as_of.sql");

/// The statuses as of `$1` from the stored ones and `earlier_statuses`.
const STATUSES_OVERRIDDEN_SQL: &str = include_str!("as_of/statuses_overridden.sql");

/// The per-school counts as of `$1` from the stored ones and
/// `school_count_changes`.
const SCHOOL_COUNTS_AS_OF_SQL: &str = include_str!("as_of/school_counts_as_of.sql");

/// How a session's "as of" functions get the dated statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatedStatuses {
    /// The stored statuses overridden by `earlier_statuses` (a scan and a
    /// join, whatever the date).
    Stored,
    /// As [`DatedStatuses::Stored`], and the indicators' per-school counts
    /// are the stored ones plus `school_count_changes` up to the Sunday: a
    /// few rows per school, no status read.
    Counted,
    /// The status query run again for the students with a later version:
    /// for a dataset written before `earlier_statuses` was stored.
    Recomputed,
}

impl DatedStatuses {
    /// The quickest way open to `ctx`, by the stored tables it holds.
    pub fn of(ctx: &SessionContext) -> Result<DatedStatuses> {
        let has = |table: StoredTable| ctx.table_exist(table.name());
        Ok(if !has(StoredTable::EarlierStatuses)? {
            DatedStatuses::Recomputed
        } else if has(StoredTable::SchoolCountChanges)? {
            DatedStatuses::Counted
        } else {
            DatedStatuses::Stored
        })
    }
}

/// An "as of" function: its SQL name, the relation whose rows it gives
/// (and whose scope filter applies to it), and whether it keeps only the
/// period in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOfDefinition {
    /// The function's SQL name.
    pub name: &'static str,
    /// The view or table it is the dated form of.
    pub relation: &'static str,
    /// `indicators_current`: only the period in force on the date.
    pub current_period: bool,
}

/// Every "as of" function.
pub const AS_OF_FUNCTIONS: [AsOfDefinition; 4] = [
    AsOfDefinition {
        name: "student_status_as_of",
        relation: "student_status",
        current_period: false,
    },
    AsOfDefinition {
        name: "report_by_school_as_of",
        relation: "report_by_school",
        current_period: false,
    },
    AsOfDefinition {
        name: "indicators_as_of",
        relation: "indicators",
        current_period: false,
    },
    AsOfDefinition {
        name: "indicators_current",
        relation: "indicators",
        current_period: true,
    },
];

impl AsOfDefinition {
    /// The function's query, with the date as the parameter `$1`, over the
    /// stored tables, its statuses got the way `dated` says.
    pub fn sql(&self, dated: DatedStatuses) -> String {
        let statuses = match dated {
            DatedStatuses::Stored | DatedStatuses::Counted => STATUSES_OVERRIDDEN_SQL.to_string(),
            DatedStatuses::Recomputed => STUDENT_STATUS_AS_OF_SQL
                .replace("{marks_as_of}", MARKS_AS_OF_SQL)
                .replace("{student_status}", STUDENT_STATUS_SQL),
        };
        match self.relation {
            "student_status" => statuses,
            // `indicators` reads nothing of the statuses but their counts.
            "indicators" if dated == DatedStatuses::Counted => {
                let query = super::VIEWS
                    .iter()
                    .find(|(name, _)| *name == "indicators")
                    .map_or("", |(_, query)| *query);
                format!(
                    "WITH school_counts AS ({SCHOOL_COUNTS_AS_OF_SQL}\n) \
                     SELECT * FROM ({query}\n) AS indicators"
                )
            }
            view => {
                let query = super::VIEWS
                    .iter()
                    .find(|(name, _)| *name == view)
                    .map_or("", |(_, query)| *query);
                format!(
                    "WITH student_status AS ({statuses}\n), \
                     school_counts AS ({SCHOOL_COUNTS_SQL}\n) \
                     SELECT * FROM ({query}\n) AS {view}"
                )
            }
        }
    }
}

/// Registers every "as of" function in `ctx` over its full tables (the
/// unscoped session of `sapa query` and `sapa report`).
pub async fn register(ctx: &SessionContext) -> Result<()> {
    let calendar = Arc::new(quarter_ends(ctx).await?);
    let dated = DatedStatuses::of(ctx)?;
    for def in AS_OF_FUNCTIONS {
        let template = ctx.sql(&def.sql(dated)).await?.into_unoptimized_plan();
        ctx.register_udtf(def.name, AsOfFunction::new(def, template, &calendar));
    }
    Ok(())
}

/// The quarters of `ctx`'s `calendar`, for the period in force.
pub async fn quarter_ends(ctx: &SessionContext) -> Result<Vec<QuarterEnd>> {
    let batches = ctx
        .sql("SELECT academic_year, period, end_date FROM calendar")
        .await?
        .collect()
        .await?;
    let mut out = Vec::new();
    for batch in batches {
        let years = batch.column(0).as_primitive::<Int32Type>();
        let periods = batch.column(1).as_string::<i32>();
        let ends = batch.column(2).as_primitive::<Date32Type>();
        for row in 0..batch.num_rows() {
            let (Some(quarter), Some(end)) = (
                ReportPeriod::quarter(periods.value(row)),
                ends.is_valid(row)
                    .then(|| Date32Type::to_naive_date_opt(ends.value(row)))
                    .flatten(),
            ) else {
                continue;
            };
            out.push(QuarterEnd {
                academic_year: years.value(row),
                quarter,
                end,
            });
        }
    }
    Ok(out)
}

/// An "as of" table function: a plan with the date as `$1`, bound per call.
#[derive(Debug)]
pub struct AsOfFunction {
    definition: AsOfDefinition,
    template: LogicalPlan,
    calendar: Arc<Vec<QuarterEnd>>,
}

impl AsOfFunction {
    /// The function `definition` over `template` (its [`AsOfDefinition::sql`],
    /// possibly wrapped in a scope's filter), with the `calendar` its
    /// current period is found in.
    pub fn new(
        definition: AsOfDefinition,
        template: LogicalPlan,
        calendar: &Arc<Vec<QuarterEnd>>,
    ) -> Arc<AsOfFunction> {
        Arc::new(AsOfFunction {
            definition,
            template,
            calendar: Arc::clone(calendar),
        })
    }
}

impl TableFunctionImpl for AsOfFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = self.definition.name;
        let [arg] = args.exprs() else {
            return plan_err!("{name}(date) takes one argument, a date such as '2024-11-10'");
        };
        let day = date_argument(name, arg, &args)?;
        let days = (day - NaiveDate::default()).num_days();
        let days = i32::try_from(days)
            .map_err(|_| plan_datafusion_err!("{name}: the date {day} is out of range"))?;
        let mut plan = self
            .template
            .clone()
            .with_param_values(vec![ScalarValue::Date32(Some(days))])?;
        if self.definition.current_period {
            let keep = match period_in_force(&self.calendar, day)
                .map_err(|e| plan_datafusion_err!("{name}: {e}"))?
            {
                Some((year, period)) => col("academic_year")
                    .eq(lit(year))
                    .and(col("period").eq(lit(period.name()))),
                // Nothing was published yet.
                None => lit(false),
            };
            plan = LogicalPlanBuilder::from(plan).filter(keep)?.build()?;
        }
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}

/// The date an argument names: a date, a timestamp, or text a date casts
/// from, folded to a constant (so `current_date` and `DATE '…'` work).
fn date_argument(name: &str, arg: &Expr, args: &TableFunctionArgs) -> Result<NaiveDate> {
    let session = args.session();
    let context = SimplifyContext::builder()
        .with_config_options(Arc::new(session.config_options().clone()))
        // The function is resolved while the query is planned, before the
        // session marks the query's start: `current_date` is today.
        .with_current_time()
        .build();
    let folded = ExprSimplifier::new(context)
        .simplify(cast(arg.clone(), DataType::Date32))
        .map_err(|e| plan_datafusion_err!("{name}: {arg} is not a date: {e}"))?;
    match folded {
        Expr::Literal(ScalarValue::Date32(Some(days)), _) => Date32Type::to_naive_date_opt(days)
            .ok_or_else(|| plan_datafusion_err!("{name}: the date {arg} is out of range")),
        Expr::Literal(value, _) if value.is_null() => {
            plan_err!("{name}: the date must not be NULL")
        }
        _ => plan_err!(
            "{name}(date) takes a constant date such as '2024-11-10' or current_date, not {arg}"
        ),
    }
}
