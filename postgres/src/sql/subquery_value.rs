//! `sapa_subquery_value(x)`: the value of a scalar subquery, as an
//! aggregate DataFusion can decorrelate.
//!
//! DataFusion plans a correlated scalar subquery only when it aggregates
//! (`(SELECT max(x) FROM … WHERE t.k = outer.k)`); clients' catalog queries
//! use plain ones (`(SELECT typcollation FROM pg_type WHERE oid =
//! atttypid)`). Wrapped in this aggregate ([`super::catalog_subqueries`])
//! such a subquery keeps PostgreSQL's meaning: no row is NULL, one row is
//! its value, and more than one row is an error (SQLSTATE 21000), never a
//! value picked at random.

use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt64Type};
use datafusion::common::utils::take_function_args;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use sapa_sqlstate::{SqlState, code};

/// The aggregate's name, as the rewrite writes it.
pub const NAME: &str = "sapa_subquery_value";

/// What a scalar subquery cannot do.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SubqueryError {
    /// PostgreSQL's words for a scalar subquery of several rows.
    #[error("more than one row returned by a subquery used as an expression")]
    MoreThanOneRow,
}

impl SqlState for SubqueryError {
    fn sqlstate(&self) -> &'static str {
        code::CARDINALITY_VIOLATION
    }
}

fn more_than_one_row() -> DataFusionError {
    SubqueryError::MoreThanOneRow.into_datafusion()
}

/// The aggregate, for a session to register.
pub(crate) fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(SubqueryValue {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SubqueryValue {
    signature: Signature,
}

impl AggregateUDFImpl for SubqueryValue {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let [ty] = take_function_args(NAME, arg_types)?;
        Ok(ty.clone())
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SubqueryAccumulator {
            value: ScalarValue::try_from(args.return_type())?,
            rows: 0,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "value"),
                args.return_type().clone(),
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "rows"),
                DataType::UInt64,
                false,
            )),
        ])
    }
}

/// The one value seen and how many rows were (a NULL value is a row too).
#[derive(Debug)]
struct SubqueryAccumulator {
    value: ScalarValue,
    rows: u64,
}

impl SubqueryAccumulator {
    fn add(&mut self, rows: u64, values: &ArrayRef, at: usize) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        self.rows = self.rows.saturating_add(rows);
        if self.rows > 1 {
            return Err(more_than_one_row());
        }
        self.value = ScalarValue::try_from_array(values, at)?;
        Ok(())
    }
}

impl Accumulator for SubqueryAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [values] = take_function_args(NAME, values)?;
        match values.len() {
            0 => Ok(()),
            1 => self.add(1, values, 0),
            _ => Err(more_than_one_row()),
        }
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [values, rows] = take_function_args(NAME, states)?;
        let rows = rows.as_primitive::<UInt64Type>();
        for at in 0..rows.len() {
            self.add(rows.value(at), values, at)?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            self.value.clone(),
            ScalarValue::UInt64(Some(self.rows)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.value.clone())
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.value.size() - size_of::<ScalarValue>()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn one(sql: &str) -> Result<String> {
        let ctx = SessionContext::new();
        ctx.register_udaf(udaf());
        ctx.sql("CREATE TABLE t (k INT, v TEXT) AS VALUES (1, 'a'), (2, 'b'), (2, 'c'), (3, NULL)")
            .await?
            .collect()
            .await?;
        let batches = ctx.sql(sql).await?.collect().await?;
        Ok(datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
    }

    #[tokio::test]
    async fn no_row_is_null_one_row_its_value_two_rows_an_error() {
        let found =
            one("SELECT k, sapa_subquery_value(v) AS v FROM t WHERE k <> 2 GROUP BY k ORDER BY k")
                .await
                .unwrap();
        assert!(found.contains("| 1 | a |"), "{found}");
        assert!(found.contains("| 3 |   |"), "{found}");
        let empty = one("SELECT sapa_subquery_value(v) AS v FROM t WHERE k = 9")
            .await
            .unwrap();
        assert!(empty.contains("|   |"), "{empty}");
        let err = one("SELECT k, sapa_subquery_value(v) FROM t GROUP BY k")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("more than one row"), "{err}");
    }

    #[tokio::test]
    async fn a_correlated_subquery_gets_the_value_of_its_row() {
        let found = one(
            "SELECT o.k, (SELECT sapa_subquery_value(t.v) FROM t WHERE t.k = o.k AND t.k <> 2) \
             AS v FROM (VALUES (1), (3), (4)) AS o(k) ORDER BY o.k",
        )
        .await
        .unwrap();
        assert!(found.contains("| 1 | a |"), "{found}");
        assert!(found.contains("| 3 |   |"), "{found}");
        assert!(found.contains("| 4 |   |"), "{found}");
        let err = one(
            "SELECT o.k, (SELECT sapa_subquery_value(t.v) FROM t WHERE t.k = o.k) \
             FROM (VALUES (2)) AS o(k)",
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("more than one row"), "{err}");
        // Decorrelated, every key of `t` is computed: two rows under a key
        // no outer row asks for are an error too (PostgreSQL would not
        // look), never a value.
        let stricter = one(
            "SELECT o.k, (SELECT sapa_subquery_value(t.v) FROM t WHERE t.k = o.k) \
             FROM (VALUES (1)) AS o(k)",
        )
        .await
        .unwrap_err();
        assert!(
            stricter.to_string().contains("more than one row"),
            "{stricter}"
        );
    }
}
