//! Aggregate `student_status(mark)`: a student's status for a period (SPEC §3).

use std::mem::size_of;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, StringBuilder, UInt8Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::cast::as_uint8_array;
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::{AggregateOrderSensitivity, format_state_name};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, ReversedUDAF,
    Signature, Volatility,
};

use super::mark_bits::classify_into;
use super::{SAPA_AGGREGATES, string_arg};
use crate::status::{Status, StatusBits};

/// Aggregate `student_status(mark)` → `low`, `satisfactory`, `good`,
/// `excellent`, `exempt` or `ungraded`.
///
/// The state is one byte per group: the [`StatusBits`] of the mark classes
/// seen, so partial states merge with a bitwise OR.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StudentStatusFunc {
    signature: Signature,
}

impl Default for StudentStatusFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl StudentStatusFunc {
    /// The aggregate, over marks of any string type; dictionary-encoded
    /// marks stay encoded so each distinct value is looked up once a batch.
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(
                vec![string_arg().with_encoding_preservation(
                    datafusion::logical_expr::EncodingPreservation::dictionary(),
                )],
                Volatility::Immutable,
            ),
        }
    }
}

const NAME: &str = "student_status";

impl AggregateUDFImpl for StudentStatusFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    /// Never NULL: a group with no mark is `ungraded`.
    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<StudentStatusAccumulator>::default())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "status_bits"),
            DataType::UInt8,
            false,
        ))])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::<StudentStatusGroups>::default())
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    /// Over no rows at all the status is `ungraded`, not NULL.
    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Utf8(Some(
            Status::Ungraded.as_str().to_string(),
        )))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_AGGREGATES,
                "A student's status for one period (SPEC §3) over the marks aggregated; the \
                 first rule that matches wins: `low` if any mark is failing (2, 1, А/Ө, УА/Ө, \
                 ЕСЖ), else `satisfactory` if any is 3, else `good` if any is 4, else \
                 `excellent` if any is 5 or ЕСП (so all-ЕСП is excellent), else `exempt` — \
                 which needs a non-empty set of only БОС / О/Ж — else `ungraded`. Where the \
                 spec is silent: NULL and empty (or whitespace-only) marks are no mark, so a \
                 group of only those, or no rows at all, is `ungraded` (the result is never \
                 NULL); any accepted alias or look-alike spelling counts as its mark; an \
                 unknown code is an error naming the value, never skipped. Use it with the \
                 filters of SPEC §4 applied and one group per student and period.",
                "student_status(mark)",
            )
            .with_sql_example(
                r#"```sql
> SELECT student_id, student_status(mark) FROM marks GROUP BY student_id;
+------------+----------------------------+
| student_id | student_status(marks.mark) |
+------------+----------------------------+
| 1          | excellent                  |
| 2          | low                        |
+------------+----------------------------+
```"#,
            )
            .with_standard_argument("mark", Some("String"))
            .with_related_udf("mark_class")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

/// The status names of a run of states, as a `Utf8` array.
fn status_names(bits: impl ExactSizeIterator<Item = u8>) -> ArrayRef {
    let mut builder = StringBuilder::with_capacity(bits.len(), bits.len() * 9);
    for b in bits {
        builder.append_value(StatusBits::from_bits(b).status().as_str());
    }
    Arc::new(builder.finish())
}

/// The single-group accumulator (no GROUP BY, window frames).
#[derive(Debug, Default)]
struct StudentStatusAccumulator {
    bits: StatusBits,
    scratch: Vec<u8>,
}

impl Accumulator for StudentStatusAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [marks] = take_function_args(NAME, values)?;
        classify_into(marks, NAME, &mut self.scratch)?;
        let seen = self.scratch.iter().fold(0, |acc, b| acc | b);
        self.bits = self.bits.merge(StatusBits::from_bits(seen));
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [state] = take_function_args(NAME, states)?;
        let seen = as_uint8_array(state)?
            .iter()
            .fold(0, |acc, b| acc | b.unwrap_or(0));
        self.bits = self.bits.merge(StatusBits::from_bits(seen));
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::UInt8(Some(self.bits.bits()))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Utf8(Some(
            self.bits.status().as_str().to_string(),
        )))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.scratch.capacity()
    }
}

/// The accumulator of a GROUP BY: one status byte per group.
#[derive(Debug, Default)]
struct StudentStatusGroups {
    /// [`StatusBits::bits`] of every group, by group index.
    bits: Vec<u8>,
    /// The class bit of each row of the current batch (0: no mark).
    scratch: Vec<u8>,
}

impl StudentStatusGroups {
    /// ORs `row_bits[i]` into group `group_indices[i]` for the rows the
    /// filter keeps.
    fn scatter(
        &mut self,
        row_bits: &[u8],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) {
        self.bits.resize(total_num_groups, 0);
        match opt_filter {
            None => {
                for (&group, &bit) in group_indices.iter().zip(row_bits) {
                    self.bits[group] |= bit;
                }
            }
            Some(filter) => {
                let rows = group_indices.iter().zip(row_bits).zip(filter.iter());
                for ((&group, &bit), keep) in rows {
                    if keep == Some(true) {
                        self.bits[group] |= bit;
                    }
                }
            }
        }
    }
}

impl GroupsAccumulator for StudentStatusGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let [marks] = take_function_args(NAME, values)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        let classified = classify_into(marks, NAME, &mut scratch);
        if classified.is_ok() {
            self.scatter(&scratch, group_indices, opt_filter, total_num_groups);
        }
        self.scratch = scratch;
        classified
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        let [state] = take_function_args(NAME, values)?;
        let state = as_uint8_array(state)?;
        if state.null_count() == 0 {
            self.scatter(state.values(), group_indices, None, total_num_groups);
        } else {
            let bits: Vec<u8> = state.iter().map(|b| b.unwrap_or(0)).collect();
            self.scatter(&bits, group_indices, None, total_num_groups);
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(status_names(
            emit_to.take_needed(&mut self.bits).into_iter(),
        ))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let bits = emit_to.take_needed(&mut self.bits);
        Ok(vec![Arc::new(UInt8Array::from(bits))])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let [marks] = take_function_args(NAME, values)?;
        let mut bits = Vec::with_capacity(marks.len());
        classify_into(marks, NAME, &mut bits)?;
        if let Some(filter) = opt_filter {
            for (bit, keep) in bits.iter_mut().zip(filter.iter()) {
                if keep != Some(true) {
                    *bit = 0;
                }
            }
        }
        Ok(vec![Arc::new(UInt8Array::from(bits))])
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.bits.capacity() + self.scratch.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{StringArray, StringViewArray};
    use datafusion::common::cast::as_string_array;

    fn marks(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringViewArray::from(values.to_vec()))
    }

    fn names(array: &ArrayRef) -> Vec<String> {
        as_string_array(array)
            .expect("Utf8")
            .iter()
            .map(|s| s.expect("never NULL").to_string())
            .collect()
    }

    #[test]
    fn single_group_accumulator() -> Result<()> {
        let mut acc = StudentStatusAccumulator::default();
        assert_eq!(acc.evaluate()?, ScalarValue::Utf8(Some("ungraded".into())));
        acc.update_batch(&[marks(&[None, Some("")])])?;
        assert_eq!(acc.evaluate()?, ScalarValue::Utf8(Some("ungraded".into())));
        acc.update_batch(&[marks(&[Some("БОС")])])?;
        assert_eq!(acc.evaluate()?, ScalarValue::Utf8(Some("exempt".into())));
        acc.update_batch(&[Arc::new(StringArray::from(vec!["5", "зачёт"]))])?;
        assert_eq!(acc.evaluate()?, ScalarValue::Utf8(Some("excellent".into())));

        // A partial state holding a 4 turns it to good.
        let mut other = StudentStatusAccumulator::default();
        other.update_batch(&[marks(&[Some("4")])])?;
        let state = other.state()?[0].to_array()?;
        acc.merge_batch(&[state])?;
        assert_eq!(acc.evaluate()?, ScalarValue::Utf8(Some("good".into())));
        Ok(())
    }

    /// Students 0..6 of SPEC §3, one row per mark.
    fn spec_batch() -> (ArrayRef, Vec<usize>) {
        let rows = [
            (0, Some("5")),
            (0, Some("4")),
            (0, Some("1")), // low: a 1
            (1, Some("5")),
            (1, Some("УА/Ө")), // low: УА/Ө
            (2, Some("ЕСП")),
            (2, Some("ЕСП")), // excellent: only ЕСП
            (3, Some("БОС")),
            (3, Some("О/Ж")), // exempt
            (4, None),
            (4, Some("")), // ungraded: nothing set
            (5, Some("5")),
            (5, Some("3")),
            (5, Some("БОС")), // satisfactory
            (6, Some("4")),
            (6, Some("О/Ж")), // good
        ];
        let values: Vec<Option<&str>> = rows.iter().map(|r| r.1).collect();
        (marks(&values), rows.iter().map(|r| r.0).collect())
    }

    const SPEC_STATUSES: [&str; 7] = [
        "low",
        "low",
        "excellent",
        "exempt",
        "ungraded",
        "satisfactory",
        "good",
    ];

    #[test]
    fn groups_follow_spec_section_3() -> Result<()> {
        let (values, groups) = spec_batch();
        let mut acc = StudentStatusGroups::default();
        acc.update_batch(&[values], &groups, None, 7)?;
        assert_eq!(names(&acc.evaluate(EmitTo::All)?), SPEC_STATUSES);
        Ok(())
    }

    #[test]
    fn emit_first_n_shifts_the_rest_down() -> Result<()> {
        let (values, groups) = spec_batch();
        let mut acc = StudentStatusGroups::default();
        acc.update_batch(&[values], &groups, None, 7)?;
        assert_eq!(names(&acc.evaluate(EmitTo::First(2))?), ["low", "low"]);
        // Former group 2 is now group 0: add a 3 to it.
        acc.update_batch(&[marks(&[Some("3")])], &[0], None, 5)?;
        assert_eq!(
            names(&acc.evaluate(EmitTo::All)?),
            ["satisfactory", "exempt", "ungraded", "satisfactory", "good"]
        );
        Ok(())
    }

    #[test]
    fn filter_drops_rows_and_null_filter_counts_as_false() -> Result<()> {
        let values = marks(&[Some("1"), Some("5"), Some("2"), Some("4")]);
        let filter = BooleanArray::from(vec![Some(false), Some(true), None, Some(true)]);
        let mut acc = StudentStatusGroups::default();
        acc.update_batch(&[values], &[0, 0, 1, 2], Some(&filter), 3)?;
        assert_eq!(
            names(&acc.evaluate(EmitTo::All)?),
            ["excellent", "ungraded", "good"]
        );
        Ok(())
    }

    #[test]
    fn partial_states_merge_with_or() -> Result<()> {
        let (values, groups) = spec_batch();
        let mut partial = StudentStatusGroups::default();
        partial.update_batch(&[values], &groups, None, 7)?;
        let state = partial.state(EmitTo::All)?;
        assert_eq!(state[0].data_type(), &DataType::UInt8);

        // Final stage: groups 2 and 3 of the partial map to final group 0,
        // which already holds a 4.
        let mut final_acc = StudentStatusGroups::default();
        final_acc.update_batch(&[marks(&[Some("4")])], &[0], None, 1)?;
        final_acc.merge_batch(&state, &[1, 1, 0, 0, 2, 3, 4], 5)?;
        assert_eq!(
            names(&final_acc.evaluate(EmitTo::All)?),
            ["good", "low", "ungraded", "satisfactory", "good"]
        );
        Ok(())
    }

    #[test]
    fn convert_to_state_is_one_row_per_group() -> Result<()> {
        let values = marks(&[Some("5"), None, Some("2"), Some("БОС")]);
        let filter = BooleanArray::from(vec![true, true, false, true]);
        let acc = StudentStatusGroups::default();
        let state = acc.convert_to_state(&[values], Some(&filter))?;
        let mut merged = StudentStatusGroups::default();
        merged.merge_batch(&state, &[0, 1, 2, 3], 4)?;
        assert_eq!(
            names(&merged.evaluate(EmitTo::All)?),
            ["excellent", "ungraded", "ungraded", "exempt"]
        );
        Ok(())
    }

    #[test]
    fn unknown_mark_is_an_error_naming_it() {
        let mut acc = StudentStatusGroups::default();
        let err = acc
            .update_batch(&[marks(&[Some("5"), Some("отлично")])], &[0, 0], None, 1)
            .expect_err("unknown");
        assert!(err.to_string().contains("\"отлично\""), "{err}");
        assert!(err.to_string().contains("student_status"), "{err}");
        let mut single = StudentStatusAccumulator::default();
        assert!(single.update_batch(&[marks(&[Some("0")])]).is_err());
    }
}
