//! `publication_sunday(date)`: the update that publishes a period (SPEC §6).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::SAPA_FUNCTIONS;
use super::dates::{date_or_timestamp_signature, map_days};
use crate::calendar::publication_sunday_days;

/// `publication_sunday(date)` → the first Sunday on or after the date.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PublicationSundayFunc {
    signature: Signature,
}

impl Default for PublicationSundayFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl PublicationSundayFunc {
    /// The function, taking a date or a timestamp.
    pub fn new() -> Self {
        Self {
            signature: date_or_timestamp_signature(),
        }
    }
}

impl ScalarUDFImpl for PublicationSundayFunc {
    fn name(&self) -> &str {
        "publication_sunday"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [date] = take_function_args(self.name(), &args.args)?;
        map_days(date, self.name(), publication_sunday_days)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "The weekly update that publishes a period ending on the given date: the first \
                 Sunday on or after it; a Sunday maps to itself (SPEC §6). Of a timestamp, its \
                 date is used: `publication_sunday(recorded_at)` is the update that first shows \
                 a mark version. NULL gives NULL.",
                "publication_sunday(date)",
            )
            .with_sql_example(
                r#"```sql
> SELECT publication_sunday(DATE '2021-10-29');  -- end of Q1 2021–2022, a Friday
+------------+
| 2021-10-31 |
+------------+
```"#,
            )
            .with_argument("date", "A date, a timestamp or a string holding a date.")
            .with_related_udf("update_sunday")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::invoke;
    use super::*;
    use datafusion::arrow::array::{Array, Date32Array, TimestampMicrosecondArray};
    use datafusion::common::ScalarValue;
    use std::sync::Arc;

    // Day numbers (days since 1970-01-01) of real dates.
    const FRI_2021_10_29: i32 = 18_929;
    const SUN_2021_10_31: i32 = 18_931;
    const SAT_2022_01_01: i32 = 18_993;
    const SUN_2022_01_02: i32 = 18_994;

    fn call(arg: ColumnarValue) -> Result<ColumnarValue> {
        invoke(&PublicationSundayFunc::new(), vec![arg])
    }

    #[test]
    fn scalar_dates() -> Result<()> {
        for (day, sunday) in [
            (Some(FRI_2021_10_29), Some(SUN_2021_10_31)),
            (Some(SUN_2021_10_31), Some(SUN_2021_10_31)),
            (Some(SAT_2022_01_01), Some(SUN_2022_01_02)),
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
        let days = Date32Array::from(vec![Some(FRI_2021_10_29), None, Some(SAT_2022_01_01)]);
        let out = call(ColumnarValue::Array(Arc::new(days)))?.into_array(3)?;
        let expected = Date32Array::from(vec![Some(SUN_2021_10_31), None, Some(SUN_2022_01_02)]);
        assert_eq!(out.as_ref(), &expected as &dyn Array);
        Ok(())
    }

    #[test]
    fn timestamps_use_their_date() -> Result<()> {
        // 2021-10-29 23:59:59 and 2021-10-31 00:00:01, in microseconds.
        let micros = |day: i32, seconds: i64| (i64::from(day) * 86_400 + seconds) * 1_000_000;
        let stamps = TimestampMicrosecondArray::from(vec![
            Some(micros(FRI_2021_10_29, 86_399)),
            Some(micros(SUN_2021_10_31, 1)),
            None,
        ]);
        let out = call(ColumnarValue::Array(Arc::new(stamps)))?.into_array(3)?;
        let expected = Date32Array::from(vec![Some(SUN_2021_10_31), Some(SUN_2021_10_31), None]);
        assert_eq!(out.as_ref(), &expected as &dyn Array);
        Ok(())
    }

    #[test]
    fn past_the_date32_range_is_an_error() {
        let err = call(ColumnarValue::Scalar(ScalarValue::Date32(Some(i32::MAX))))
            .expect_err("no Sunday after i32::MAX");
        assert!(err.to_string().contains("publication_sunday"), "{err}");
    }
}
