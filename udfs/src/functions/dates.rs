//! Shared plumbing of the calendar functions: a date-or-timestamp argument
//! mapped day by day to a `Date32` result.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Date32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_date32_array;
use datafusion::common::types::{NativeType, logical_date, logical_string};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Signature, TypeSignature, TypeSignatureClass, Volatility,
};

use crate::calendar::CalendarError;

/// One argument: a date (`Date32`, `Date64`, or a string cast to a date) or
/// a timestamp of any unit and time zone (its date is used).
pub(crate) fn date_or_timestamp_signature() -> Signature {
    Signature::one_of(
        vec![
            TypeSignature::Coercible(vec![Coercion::new_implicit(
                TypeSignatureClass::Native(logical_date()),
                vec![TypeSignatureClass::Native(logical_string())],
                NativeType::Date,
            )]),
            TypeSignature::Coercible(vec![Coercion::new_exact(TypeSignatureClass::Timestamp)]),
        ],
        Volatility::Immutable,
    )
}

/// Applies `day_rule` (on `Date32` day numbers) to every non-NULL date of
/// `arg`; a timestamp is first cast to its date.
pub(crate) fn map_days(
    arg: &ColumnarValue,
    function: &str,
    day_rule: fn(i32) -> Result<i32, CalendarError>,
) -> Result<ColumnarValue> {
    let apply = |days: i32| {
        day_rule(days).map_err(|err| DataFusionError::Execution(format!("{function}: {err}")))
    };
    match arg {
        ColumnarValue::Scalar(ScalarValue::Date32(days)) => Ok(ColumnarValue::Scalar(
            ScalarValue::Date32(days.map(apply).transpose()?),
        )),
        ColumnarValue::Scalar(ScalarValue::Null) => {
            Ok(ColumnarValue::Scalar(ScalarValue::Date32(None)))
        }
        ColumnarValue::Scalar(other) => {
            let one = to_date32(&other.to_array_of_size(1)?)?;
            let result = map_array(&one, apply)?;
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        }
        ColumnarValue::Array(array) => {
            let dates = to_date32(array)?;
            Ok(ColumnarValue::Array(map_array(&dates, apply)?))
        }
    }
}

/// The array as `Date32`, cast from another date or timestamp type.
fn to_date32(array: &ArrayRef) -> Result<ArrayRef> {
    if array.data_type() == &DataType::Date32 {
        Ok(Arc::clone(array))
    } else {
        Ok(cast(array, &DataType::Date32)?)
    }
}

fn map_array(dates: &ArrayRef, apply: impl Fn(i32) -> Result<i32>) -> Result<ArrayRef> {
    let result: Date32Array = as_date32_array(dates)?.try_unary(apply)?;
    Ok(Arc::new(result))
}
