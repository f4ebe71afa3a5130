//! `sum` of `bigint` that fails on overflow instead of wrapping.
//!
//! DataFusion's `sum` adds 64-bit integers with wrapping arithmetic, so a
//! sum past 9.2·10¹⁸ came back as a large negative number. [`CheckedSum`]
//! is registered in its place: for `bigint` (not `DISTINCT`) it adds with
//! checks and fails with "bigint out of range" (SQLSTATE 22003), grouped,
//! ungrouped and over window frames; for every other type and for
//! `DISTINCT` it is DataFusion's `sum` unchanged. (`sum` of `integer` and
//! smaller is computed in `bigint`, where no realistic count of rows can
//! overflow.)

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::functions_aggregate::sum::Sum;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator,
    ReversedUDAF, SetMonotonicity, Signature, StatisticsArgs,
};

/// `sum`, checked for `bigint`.
#[derive(Debug, PartialEq, Eq, Hash, Default)]
pub struct CheckedSum {
    inner: Sum,
}

/// The checked `sum`, to register over DataFusion's.
pub fn checked_sum() -> AggregateUDF {
    AggregateUDF::new_from_impl(CheckedSum::default())
}

fn checked(args: &AccumulatorArgs) -> bool {
    !args.is_distinct && args.return_field.data_type() == &DataType::Int64
}

fn overflow() -> DataFusionError {
    DataFusionError::ArrowError(
        Box::new(ArrowError::ArithmeticOverflow("bigint out of range".into())),
        None,
    )
}

fn add(a: i64, b: i64) -> Result<i64> {
    a.checked_add(b).ok_or_else(overflow)
}

impl AggregateUDFImpl for CheckedSum {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if checked(&args) {
            return Ok(Box::new(SumOne::default()));
        }
        self.inner.accumulator(args)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        if checked(&args) {
            return Ok(Box::new(SumGroups::default()));
        }
        self.inner.create_groups_accumulator(args)
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if checked(&args) {
            return Ok(Box::new(SumOne::default()));
        }
        self.inner.create_sliding_accumulator(args)
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        self.inner.reverse_expr()
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.order_sensitivity()
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        self.inner.set_monotonicity(data_type)
    }

    fn value_from_stats(&self, statistics_args: &StatisticsArgs) -> Option<ScalarValue> {
        self.inner.value_from_stats(statistics_args)
    }

    // Not `simplify_expr_op_literal`: upstream's `sum(x + c)` →
    // `sum(x) + c * count(x)` would add after the checks are planned.
}

/// One checked sum: the plain and the window-frame accumulator (a frame
/// that slides retracts what leaves it).
#[derive(Debug, Default)]
struct SumOne {
    sum: i64,
    /// Values summed (and not retracted): none is NULL.
    count: u64,
}

impl SumOne {
    fn values(values: &[ArrayRef]) -> Result<&Int64Array> {
        values
            .first()
            .and_then(|v| v.as_primitive_opt::<Int64Type>())
            .ok_or_else(|| DataFusionError::Internal("sum: expected bigint values".into()))
    }
}

impl Accumulator for SumOne {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for v in Self::values(values)?.iter().flatten() {
            self.sum = add(self.sum, v)?;
            self.count += 1;
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for v in Self::values(values)?.iter().flatten() {
            self.sum = self.sum.checked_sub(v).ok_or_else(overflow)?;
            self.count -= 1;
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        // A partial sum per state row; NULL where it saw no value.
        for v in Self::values(states)?.iter().flatten() {
            self.sum = add(self.sum, v)?;
            self.count += 1;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64((self.count > 0).then_some(self.sum)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// Checked sums of many groups.
#[derive(Debug, Default)]
struct SumGroups {
    sums: Vec<i64>,
    /// Whether the group has seen a value (else its sum is NULL).
    seen: Vec<bool>,
}

impl SumGroups {
    fn add_rows(
        &mut self,
        values: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total: usize,
    ) -> Result<()> {
        self.sums.resize(total, 0);
        self.seen.resize(total, false);
        let values = SumOne::values(values)?;
        for (row, &group) in groups.iter().enumerate() {
            if values.is_null(row) || filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) {
                continue;
            }
            self.sums[group] = add(self.sums[group], values.value(row))?;
            self.seen[group] = true;
        }
        Ok(())
    }

    fn emit(&mut self, emit_to: EmitTo) -> ArrayRef {
        let sums = emit_to.take_needed(&mut self.sums);
        let seen = emit_to.take_needed(&mut self.seen);
        Arc::new(Int64Array::new(sums.into(), Some(NullBuffer::from(seen))))
    }
}

impl GroupsAccumulator for SumGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add_rows(values, group_indices, opt_filter, total_num_groups)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.add_rows(values, group_indices, None, total_num_groups)
    }

    /// Each row as a partial sum of its own (NULL where filtered out).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values = SumOne::values(values)?;
        let kept = opt_filter
            .map(|f| NullBuffer::from(f.iter().map(|b| b == Some(true)).collect::<Vec<_>>()));
        let nulls = NullBuffer::union(values.nulls(), kept.as_ref());
        Ok(vec![Arc::new(Int64Array::new(
            values.values().clone(),
            nulls,
        ))])
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(self.emit(emit_to))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.emit(emit_to)])
    }

    fn size(&self) -> usize {
        self.sums.capacity() * 8 + self.seen.capacity()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn answer(ctx: &SessionContext, sql: &str) -> Result<String> {
        let batches = ctx.sql(sql).await?.collect().await?;
        Ok(datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
    }

    fn contexts() -> (SessionContext, SessionContext) {
        let checked = SessionContext::new();
        checked.register_udaf(checked_sum());
        (SessionContext::new(), checked)
    }

    const BIG: &str = "(VALUES (9223372036854775000, 1), (1000, 1), (5, 2), (NULL, 3)) t(x, g)";

    #[tokio::test]
    async fn a_sum_past_bigint_fails_grouped_ungrouped_and_in_windows() {
        let (_, ctx) = contexts();
        for sql in [
            format!("SELECT sum(x) FROM {BIG}"),
            format!("SELECT g, sum(x) FROM {BIG} GROUP BY g"),
            format!(
                "SELECT sum(x) OVER (ORDER BY g ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM {BIG}"
            ),
            format!("SELECT sum(x) OVER () FROM {BIG}"),
        ] {
            let err = answer(&ctx, &sql).await.unwrap_err();
            assert!(
                err.to_string().contains("bigint out of range"),
                "{sql}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn other_sums_answer_as_datafusion_answers() {
        let (plain, checked) = contexts();
        let small = "(VALUES (1, 1, 1.5), (2, 1, NULL), (NULL, 2, 2.5), (NULL, 3, 1.0), (7, 3, 0.5)) t(x, g, f)";
        for sql in [
            format!("SELECT sum(x), sum(f) FROM {small}"),
            // Alone: beside `sum(x)`, DataFusion's own `sum` fails to plan it.
            format!("SELECT sum(DISTINCT x) FROM {small}"),
            format!("SELECT g, sum(x), sum(f) FROM {small} GROUP BY g ORDER BY g"),
            format!(
                "SELECT g, sum(x) OVER (ORDER BY g, x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) \
                 FROM {small} ORDER BY g, x"
            ),
            format!("SELECT sum(x) FROM {small} WHERE x IS NULL"),
            format!("SELECT sum(x) FILTER (WHERE g > 1) FROM {small}"),
        ] {
            let expected = answer(&plain, &sql)
                .await
                .map_err(|e| format!("plain {sql}: {e}"))
                .unwrap();
            assert_eq!(
                answer(&checked, &sql)
                    .await
                    .map_err(|e| format!("{sql}: {e}"))
                    .unwrap(),
                expected,
                "{sql}"
            );
        }
    }
}
