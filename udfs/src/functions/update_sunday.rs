//! `update_sunday(date)`: the update in force on a date (SPEC §6, "as of").

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::SAPA_FUNCTIONS;
use super::dates::{date_or_timestamp_signature, map_days};
use crate::calendar::update_sunday_days;

/// `update_sunday(date)` → the latest Sunday on or before the date.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UpdateSundayFunc {
    signature: Signature,
}

impl Default for UpdateSundayFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl UpdateSundayFunc {
    /// The function, taking a date or a timestamp.
    pub fn new() -> Self {
        Self {
            signature: date_or_timestamp_signature(),
        }
    }
}

impl ScalarUDFImpl for UpdateSundayFunc {
    fn name(&self) -> &str {
        "update_sunday"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [date] = take_function_args(self.name(), &args.args)?;
        map_days(date, self.name(), update_sunday_days)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "The weekly update in force on the given date: the latest Sunday on or before \
                 it (SPEC §6). \"As of date D\" shows each mark's latest version with \
                 `recorded_at` up to the end of `update_sunday(D)`. Of a timestamp, its date is \
                 used. NULL gives NULL.",
                "update_sunday(date)",
            )
            .with_sql_example(
                r#"```sql
> SELECT update_sunday(DATE '2021-10-29'), update_sunday(TIMESTAMP '2021-10-31 18:00:00');
+------------+------------+
| 2021-10-24 | 2021-10-31 |
+------------+------------+
```"#,
            )
            .with_argument("date", "A date, a timestamp or a string holding a date.")
            .with_related_udf("publication_sunday")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::invoke;
    use super::*;
    use datafusion::arrow::array::{Array, Date32Array, TimestampSecondArray};
    use datafusion::common::ScalarValue;
    use std::sync::Arc;

    // Day numbers (days since 1970-01-01) of real dates.
    const SUN_2021_10_24: i32 = 18_924;
    const FRI_2021_10_29: i32 = 18_929;
    const SUN_2021_10_31: i32 = 18_931;
    const SUN_2021_12_26: i32 = 18_987;
    const SAT_2022_01_01: i32 = 18_993;
    const SUN_2023_08_27: i32 = 19_596;
    const FRI_2023_09_01: i32 = 19_601;

    fn call(arg: ColumnarValue) -> Result<ColumnarValue> {
        invoke(&UpdateSundayFunc::new(), vec![arg])
    }

    #[test]
    fn scalar_dates() -> Result<()> {
        for (day, sunday) in [
            (Some(FRI_2021_10_29), Some(SUN_2021_10_24)),
            (Some(SUN_2021_10_31), Some(SUN_2021_10_31)),
            (Some(SAT_2022_01_01), Some(SUN_2021_12_26)),
            (None, None),
        ] {
            let out = call(ColumnarValue::Scalar(ScalarValue::Date32(day)))?;
            let ColumnarValue::Scalar(ScalarValue::Date32(got)) = out else {
                panic!("not a Date32 scalar: {out:?}");
            };
            assert_eq!(got, sunday, "{day:?}");
        }
        Ok(())
    }

    #[test]
    fn date_array_with_nulls() -> Result<()> {
        let days = Date32Array::from(vec![Some(FRI_2023_09_01), None, Some(SUN_2021_10_31)]);
        let out = call(ColumnarValue::Array(Arc::new(days)))?.into_array(3)?;
        let expected = Date32Array::from(vec![Some(SUN_2023_08_27), None, Some(SUN_2021_10_31)]);
        assert_eq!(out.as_ref(), &expected as &dyn Array);
        Ok(())
    }

    #[test]
    fn timestamp_scalar_and_array() -> Result<()> {
        // Sunday 2021-10-31 at 23:59:59 is still that Sunday's update.
        let late_sunday = i64::from(SUN_2021_10_31) * 86_400 + 86_399;
        let out = call(ColumnarValue::Scalar(ScalarValue::TimestampSecond(
            Some(late_sunday),
            None,
        )))?;
        assert!(
            matches!(
                out,
                ColumnarValue::Scalar(ScalarValue::Date32(Some(SUN_2021_10_31)))
            ),
            "{out:?}"
        );
        let stamps = TimestampSecondArray::from(vec![Some(late_sunday + 1), None]);
        let out = call(ColumnarValue::Array(Arc::new(stamps)))?.into_array(2)?;
        let expected = Date32Array::from(vec![Some(SUN_2021_10_31), None]);
        assert_eq!(out.as_ref(), &expected as &dyn Array);
        Ok(())
    }
}
