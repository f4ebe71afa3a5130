//! Choosing the defaults of a report's parameters from the data, checking
//! the given ones, and binding them to the SQL placeholders.

use std::collections::HashMap;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::prelude::SessionContext;

use super::{CannedQuery, Param, Period, PeriodRef, ReportError, ReportParams, Unit};

/// Checks `given` against what `query` declares and fills in the defaults
/// of the declared parameters that were not given:
///
/// - `year`: the latest `academic_year` in `student_status`;
/// - `period`: the latest quarter of that year in `student_status`;
/// - `from`: the period before `period` ([`PeriodRef::previous`]);
/// - `unit`: the country.
///
/// A given parameter the query does not declare is an error, and so is a
/// unit whose id is not in its reference table. In the result, exactly the
/// declared parameters are `Some`.
pub async fn resolve_defaults(
    ctx: &SessionContext,
    query: &CannedQuery,
    given: ReportParams,
) -> Result<ReportParams, ReportError> {
    if let Some(param) = given.given().into_iter().find(|p| !query.takes(*p)) {
        return Err(ReportError::UndeclaredParam {
            report: query.name.to_string(),
            flag: param.flag(),
            declared: query.params_text(),
        });
    }
    // `from` defaults from the year and period even when the query takes
    // only `from`, so those are found whenever any of the three is declared.
    let needs_period = query.takes(Param::Period) || query.takes(Param::From);
    let needs_year = needs_period || query.takes(Param::Year);
    let year = match given.year {
        Some(year) => Some(year),
        None if needs_year => Some(latest_year(ctx).await?),
        None => None,
    };
    let period = match (given.period, year) {
        (Some(period), _) => Some(period),
        (None, Some(year)) if needs_period => Some(latest_quarter(ctx, year).await?),
        _ => None,
    };
    let from = match (given.from, year, period) {
        (Some(from), _, _) => Some(from),
        (None, Some(year), Some(period)) if query.takes(Param::From) => {
            Some(PeriodRef { year, period }.previous())
        }
        _ => None,
    };
    let unit = match given.unit {
        Some(unit) => Some(unit),
        None if query.takes(Param::Unit) => Some(Unit::Country),
        None => None,
    };
    if let Some(unit) = unit {
        check_unit_exists(ctx, unit).await?;
    }
    // A period the data does not hold would give an empty (or all-NULL)
    // report that looks like a result; say so instead.
    if let Some(year) = year.filter(|_| given.year.is_some()) {
        check_period_held(ctx, year, period.filter(|_| given.period.is_some())).await?;
    }
    if let Some(from) = given.from {
        check_period_held(ctx, from.year, Some(from.period)).await?;
    }
    Ok(ReportParams {
        year: year.filter(|_| query.takes(Param::Year)),
        period: period.filter(|_| query.takes(Param::Period)),
        from,
        unit,
    })
}

/// The values of the nine placeholders the runner always binds, typed, with
/// typed NULLs for the parameters that have no value:
/// `$year` Int32, `$period` Utf8, `$from_year` Int32, `$from_period` Utf8,
/// `$unit_level` Utf8, `$unit_id` Int64 (NULL for the country), and
/// `$region_id`, `$district_id`, `$school_id` Int64 (the one matching the
/// unit set, the others NULL).
pub fn param_values(params: &ReportParams) -> ParamValues {
    let text = |s: Option<&str>| ScalarValue::Utf8(s.map(str::to_string));
    let unit_id = |pick: fn(Unit) -> Option<i64>| ScalarValue::Int64(params.unit.and_then(pick));
    let values: HashMap<&str, ScalarValue> = HashMap::from([
        ("year", ScalarValue::Int32(params.year)),
        ("period", text(params.period.map(Period::as_str))),
        ("from_year", ScalarValue::Int32(params.from.map(|f| f.year))),
        ("from_period", text(params.from.map(|f| f.period.as_str()))),
        ("unit_level", text(params.unit.map(Unit::level))),
        ("unit_id", unit_id(Unit::id)),
        (
            "region_id",
            unit_id(|u| match u {
                Unit::Region(id) => Some(id),
                _ => None,
            }),
        ),
        (
            "district_id",
            unit_id(|u| match u {
                Unit::District(id) => Some(id),
                _ => None,
            }),
        ),
        (
            "school_id",
            unit_id(|u| match u {
                Unit::School(id) => Some(id),
                _ => None,
            }),
        ),
    ]);
    ParamValues::from(values)
}

/// Every region as `(region_id, Kazakh name)`, by id: the units of
/// `--unit region:*`.
pub async fn regions(ctx: &SessionContext) -> Result<Vec<(i64, String)>, ReportError> {
    let sql = "SELECT region_id, name_kk FROM regions ORDER BY region_id";
    let mut out = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let ids = cast(batch.column(0), &DataType::Int64)?;
        let names = cast(batch.column(1), &DataType::Utf8)?;
        let (ids, names) = (ids.as_primitive::<Int64Type>(), names.as_string::<i32>());
        for (id, name) in ids.iter().zip(names.iter()) {
            if let Some(id) = id {
                out.push((id, name.unwrap_or_default().to_string()));
            }
        }
    }
    Ok(out)
}

/// The latest academic year with any student status.
async fn latest_year(ctx: &SessionContext) -> Result<i32, ReportError> {
    let value = first_value(
        ctx,
        "SELECT max(academic_year) FROM student_status",
        &DataType::Int32,
    )
    .await?;
    match value {
        ScalarValue::Int32(Some(year)) => Ok(year),
        _ => Err(ReportError::NoDefault {
            what: "--year",
            why: "student_status holds no rows".to_string(),
        }),
    }
}

/// The latest quarter of `year` with any student status.
async fn latest_quarter(ctx: &SessionContext, year: i32) -> Result<Period, ReportError> {
    // `year` is an integer, so formatting it into the SQL is safe.
    let sql = format!(
        "SELECT max(period) FROM student_status \
         WHERE academic_year = {year} AND period IN ('Q1', 'Q2', 'Q3', 'Q4')"
    );
    match first_value(ctx, &sql, &DataType::Utf8).await? {
        ScalarValue::Utf8(Some(period)) => period.parse(),
        _ => Err(ReportError::NoDefault {
            what: "--period",
            why: format!("student_status holds no quarter of {year}"),
        }),
    }
}

/// Fails unless `student_status` holds `year` (and `period`, if given).
async fn check_period_held(
    ctx: &SessionContext,
    year: i32,
    period: Option<Period>,
) -> Result<(), ReportError> {
    // `year` is an integer and `period` one of five words: safe to format.
    let (sql, asked) = match period {
        None => (
            "SELECT DISTINCT CAST(academic_year AS VARCHAR) FROM student_status ORDER BY 1"
                .to_string(),
            year.to_string(),
        ),
        Some(period) => (
            format!(
                "SELECT DISTINCT period FROM student_status \
                 WHERE academic_year = {year} ORDER BY 1"
            ),
            period.as_str().to_string(),
        ),
    };
    let held = strings(ctx, &sql).await?;
    if held.contains(&asked) {
        return Ok(());
    }
    let asked = match period {
        None => format!("year {year}"),
        Some(period) => format!("{year} {}", period.as_str()),
    };
    let held = if held.is_empty() {
        "none".to_string()
    } else {
        held.join(", ")
    };
    let of = if period.is_some() {
        format!("periods of {year}")
    } else {
        "years".to_string()
    };
    Err(ReportError::NoData {
        asked,
        held: format!("{of}: {held}"),
    })
}

/// The first column of every row of `sql`'s result, as text.
async fn strings(ctx: &SessionContext, sql: &str) -> Result<Vec<String>, ReportError> {
    let mut out = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let column = datafusion::arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
        let column = datafusion::arrow::array::AsArray::as_string::<i32>(&column);
        out.extend(column.iter().flatten().map(str::to_string));
    }
    Ok(out)
}

/// Fails unless `unit` is the country or its id is in its reference table.
async fn check_unit_exists(ctx: &SessionContext, unit: Unit) -> Result<(), ReportError> {
    let (table, column, id) = match unit {
        Unit::Country => return Ok(()),
        Unit::Region(id) => ("regions", "region_id", id),
        Unit::District(id) => ("districts", "district_id", id),
        Unit::School(id) => ("schools", "school_id", id),
    };
    let sql = format!("SELECT count(*) FROM {table} WHERE {column} = {id}");
    match first_value(ctx, &sql, &DataType::Int64).await? {
        ScalarValue::Int64(Some(n)) if n > 0 => Ok(()),
        _ => Err(ReportError::UnknownUnit {
            level: unit.level(),
            id,
        }),
    }
}

/// The first column of the first row of `sql`'s result, cast to `as_type`
/// (a NULL of that type if there is no row).
async fn first_value(
    ctx: &SessionContext,
    sql: &str,
    as_type: &DataType,
) -> Result<ScalarValue, ReportError> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(ScalarValue::try_from(as_type)?);
    };
    let value = ScalarValue::try_from_array(batch.column(0), 0)?;
    Ok(value.cast_to(as_type)?)
}

#[cfg(test)]
mod tests;
