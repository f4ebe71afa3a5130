//! A partitioned table that picks its files by partition before it scans.
//!
//! Every file of a partitioned table holds one academic year × period (the
//! manifest says which). A listing table over all of them groups the files
//! into the session's partitions before it prunes, so a query for one
//! period could find all of that period's files in one group and run on one
//! core while the other idled. This provider first keeps the files whose
//! partition the query's filters allow, then hands the scan to a listing
//! table over just those, which splits them evenly.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::catalog::listing_table;
use crate::storage::tables::PARTITION_COLUMNS;
use crate::storage::{DataFile, DataLocation};

/// A stored table partitioned by academic year and period.
#[derive(Debug)]
pub(crate) struct PartitionedTable {
    location: DataLocation,
    schema: SchemaRef,
    files: Vec<DataFile>,
}

impl PartitionedTable {
    pub(crate) fn new(location: DataLocation, schema: SchemaRef, files: Vec<DataFile>) -> Self {
        PartitionedTable {
            location,
            schema,
            files,
        }
    }

    /// The paths of the files the filters do not rule out.
    fn paths(&self, filters: &[Expr]) -> Vec<String> {
        let wanted = Wanted::from_filters(filters);
        self.files
            .iter()
            .filter(|f| wanted.allows(f))
            .map(|f| f.path.clone())
            .collect()
    }
}

#[async_trait]
impl TableProvider for PartitionedTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // The Parquet scan prunes and filters with them, but the filter above
        // the scan stays: partition choice alone is no guarantee.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let paths = self.paths(filters);
        listing_table(&self.location, &paths, Arc::clone(&self.schema))?
            .scan(state, projection, filters, limit)
            .await
    }
}

/// The academic years and periods a scan's filters allow (`None`: any).
#[derive(Debug, Default, PartialEq)]
struct Wanted {
    years: Option<BTreeSet<i64>>,
    periods: Option<BTreeSet<String>>,
}

impl Wanted {
    fn from_filters(filters: &[Expr]) -> Wanted {
        let mut wanted = Wanted::default();
        for filter in filters {
            for conjunct in conjuncts(filter) {
                wanted.narrow(conjunct);
            }
        }
        wanted
    }

    /// Narrows by one conjunct of the form `column = literal` or
    /// `column IN (literals)` on a partition column; anything else is left
    /// to the scan.
    fn narrow(&mut self, expr: &Expr) {
        let Some((column, values)) = partition_values(expr) else {
            return;
        };
        if column == PARTITION_COLUMNS[0] {
            let Some(years) = values.iter().map(year).collect::<Option<BTreeSet<_>>>() else {
                return;
            };
            self.years = Some(match self.years.take() {
                Some(known) => known.intersection(&years).copied().collect(),
                None => years,
            });
        } else if column == PARTITION_COLUMNS[1] {
            let Some(periods) = values.iter().map(period).collect::<Option<BTreeSet<_>>>() else {
                return;
            };
            self.periods = Some(match self.periods.take() {
                Some(known) => known.intersection(&periods).cloned().collect(),
                None => periods,
            });
        }
    }

    fn allows(&self, file: &DataFile) -> bool {
        let year_ok = match (&self.years, file.academic_year) {
            (Some(years), Some(y)) => years.contains(&i64::from(y)),
            _ => true,
        };
        let period_ok = match (&self.periods, &file.period) {
            (Some(periods), Some(p)) => periods.contains(p),
            _ => true,
        };
        year_ok && period_ok
    }
}

/// The conjuncts of `expr` (`a AND b AND c` → a, b, c).
fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        other => vec![other],
    }
}

/// `(column, values)` when `expr` says a partition column equals one of
/// `values`.
fn partition_values(expr: &Expr) -> Option<(&str, Vec<&ScalarValue>)> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => match (left.as_ref(), right.as_ref()) {
            (Expr::Column(c), Expr::Literal(v, _)) | (Expr::Literal(v, _), Expr::Column(c)) => {
                Some((c.name.as_str(), vec![v]))
            }
            _ => None,
        },
        Expr::InList(list) if !list.negated => {
            let Expr::Column(c) = list.expr.as_ref() else {
                return None;
            };
            let values = list
                .list
                .iter()
                .map(|e| match e {
                    Expr::Literal(v, _) => Some(v),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some((c.name.as_str(), values))
        }
        _ => None,
    }
}

/// An integer literal's value; `None` (no pruning) for anything else,
/// NULL included.
fn year(value: &&ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int64(Some(v)) => Some(*v),
        ScalarValue::UInt8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt64(Some(v)) => i64::try_from(*v).ok(),
        _ => None,
    }
}

/// A text literal's value; `None` for anything else.
fn period(value: &&ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Utf8(Some(v))
        | ScalarValue::LargeUtf8(Some(v))
        | ScalarValue::Utf8View(Some(v)) => Some(v.clone()),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    fn file(year: i32, period: &str) -> DataFile {
        DataFile {
            path: format!("{year}/{period}"),
            rows: 1,
            bytes: 1,
            academic_year: Some(year),
            period: Some(period.into()),
        }
    }

    fn kept(filters: &[Expr]) -> Vec<String> {
        let files = [
            file(2023, "Q1"),
            file(2024, "Q1"),
            file(2024, "Q2"),
            file(2024, "YEAR"),
        ];
        let wanted = Wanted::from_filters(filters);
        files
            .iter()
            .filter(|f| wanted.allows(f))
            .map(|f| f.path.clone())
            .collect()
    }

    #[test]
    fn equalities_and_in_lists_pick_the_partitions() {
        let one = col("academic_year")
            .eq(lit(2024))
            .and(col("period").eq(lit("Q1")));
        assert_eq!(kept(&[one]), ["2024/Q1"]);
        let reversed = lit(2023).eq(col("academic_year"));
        assert_eq!(kept(&[reversed]), ["2023/Q1"]);
        let listed = col("period").in_list(vec![lit("Q2"), lit("YEAR")], false);
        assert_eq!(kept(&[listed]), ["2024/Q2", "2024/YEAR"]);
        // Two filters on one column: only what both allow.
        let both = [
            col("period").in_list(vec![lit("Q1"), lit("Q2")], false),
            col("period").eq(lit("Q2")),
        ];
        assert_eq!(kept(&both), ["2024/Q2"]);
        let contradiction = [col("period").eq(lit("Q1")), col("period").eq(lit("Q2"))];
        assert!(kept(&contradiction).is_empty());
    }

    #[test]
    fn anything_else_keeps_every_file() {
        let all = ["2023/Q1", "2024/Q1", "2024/Q2", "2024/YEAR"];
        // Not a partition column, a range, a negation, an OR, a NULL, a
        // literal of another type: the scan decides, nothing is dropped here.
        for filter in [
            col("school_id").eq(lit(7)),
            col("academic_year").gt(lit(2023)),
            col("period").in_list(vec![lit("Q1")], true),
            col("period").eq(lit("Q1")).or(col("period").eq(lit("Q2"))),
            col("academic_year").eq(lit(ScalarValue::Int32(None))),
            col("academic_year").eq(lit(2024.0)),
            col("period").eq(lit(1)),
        ] {
            assert_eq!(kept(std::slice::from_ref(&filter)), all, "{filter}");
        }
        assert_eq!(kept(&[]), all);
    }
}
