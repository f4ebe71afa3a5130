//! Row-wise reading of mixed arguments for the functions that combine
//! strings and numbers (the MODO rules): numbers are read as one column of
//! the batch's length, cast to the type the signature coerced them to.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_float64_array, as_int64_array};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs};

/// The rows to compute: one when every argument is a constant.
pub(crate) fn row_count(args: &ScalarFunctionArgs) -> usize {
    if all_scalar(args) {
        1
    } else {
        args.number_rows
    }
}

/// Whether every argument is a constant, so the result is one too.
pub(crate) fn all_scalar(args: &ScalarFunctionArgs) -> bool {
    args.args
        .iter()
        .all(|arg| matches!(arg, ColumnarValue::Scalar(_)))
}

/// The result: a scalar for constant arguments, else the column.
pub(crate) fn finish(array: ArrayRef, args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
    if all_scalar(args) {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &array, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}

/// `arg` as a `Float64` column of `rows` rows.
pub(crate) fn f64_column(arg: &ColumnarValue, rows: usize) -> Result<Float64Array> {
    let array = cast(&arg.to_array(rows)?, &DataType::Float64)?;
    Ok(as_float64_array(&array)?.clone())
}

/// `arg` as an `Int64` column of `rows` rows.
pub(crate) fn i64_column(arg: &ColumnarValue, rows: usize) -> Result<Int64Array> {
    let array = cast(&arg.to_array(rows)?, &DataType::Int64)?;
    Ok(as_int64_array(&array)?.clone())
}

/// Row `i` of a primitive column, `None` when NULL.
#[inline]
pub(crate) fn value<T: datafusion::arrow::datatypes::ArrowPrimitiveType>(
    column: &datafusion::arrow::array::PrimitiveArray<T>,
    i: usize,
) -> Option<T::Native> {
    column.is_valid(i).then(|| column.value(i))
}

/// An `Int64` column from optional values.
pub(crate) fn int64_array(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(Int64Array::from(values))
}
