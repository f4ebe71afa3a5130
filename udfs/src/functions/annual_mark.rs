//! `annual_mark(final_mark, year_mark)`: SPEC §4.5.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::strings::StrArg;
use super::{SAPA_FUNCTIONS, string_arg};
use crate::annual;

/// `annual_mark(final_mark, year_mark)` → `final_mark` if it holds a mark,
/// else `year_mark`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AnnualMarkFunc {
    signature: Signature,
}

impl Default for AnnualMarkFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl AnnualMarkFunc {
    /// The function, taking two strings of any string type.
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(
                vec![string_arg(), string_arg()],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for AnnualMarkFunc {
    fn name(&self) -> &str {
        "annual_mark"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [final_arg, year_arg] = take_function_args(self.name(), &args.args)?;
        let final_mark = StrArg::new(final_arg, self.name())?;
        let year_mark = StrArg::new(year_arg, self.name())?;
        if let (StrArg::Scalar(f), StrArg::Scalar(y)) = (&final_mark, &year_mark) {
            let mark = annual::annual_mark(*f, *y).map(str::to_string);
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(mark)));
        }
        let rows = args.number_rows;
        let mut builder = StringBuilder::with_capacity(rows, rows * 4);
        for i in 0..rows {
            builder.append_option(annual::annual_mark(final_mark.get(i), year_mark.get(i)));
        }
        let array: ArrayRef = Arc::new(builder.finish());
        Ok(ColumnarValue::Array(array))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "The annual mark of SPEC §4.5: the FINAL (Қорытынды) mark when it is set, else \
                 the YEAR (Жыл) mark. A FINAL that is NULL, empty or only whitespace (never set, \
                 or cleared) falls back to YEAR, which is returned as it is (possibly NULL or \
                 empty). Values are not normalised; wrap them in `normalize_mark` for that.",
                "annual_mark(final_mark, year_mark)",
            )
            .with_sql_example(
                r#"```sql
> SELECT annual_mark('5', '4'), annual_mark('', '4'), annual_mark(NULL, 'ЕСП');
+---+---+-----+
| 5 | 4 | ЕСП |
+---+---+-----+
```"#,
            )
            .with_argument("final_mark", "The FINAL period's mark (string).")
            .with_argument("year_mark", "The YEAR period's mark (string).")
            .with_related_udf("normalize_mark")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_strings, invoke};
    use super::*;
    use datafusion::arrow::array::{LargeStringArray, StringArray, StringViewArray};

    fn call(args: Vec<ColumnarValue>) -> Result<ColumnarValue> {
        invoke(&AnnualMarkFunc::new(), args)
    }

    fn scalar(value: Option<&str>) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8View(value.map(str::to_string)))
    }

    #[test]
    fn scalars() -> Result<()> {
        let cases = [
            (Some("5"), Some("4"), Some("5")),
            (Some(""), Some("4"), Some("4")),
            (Some("  "), Some("3"), Some("3")),
            (None, Some("ЕСП"), Some("ЕСП")),
            (None, None, None),
            (Some("2"), None, Some("2")),
        ];
        for (final_mark, year_mark, expected) in cases {
            let out = call(vec![scalar(final_mark), scalar(year_mark)])?;
            let ColumnarValue::Scalar(ScalarValue::Utf8(got)) = out else {
                panic!("not a Utf8 scalar: {out:?}");
            };
            assert_eq!(got.as_deref(), expected, "{final_mark:?} {year_mark:?}");
        }
        Ok(())
    }

    #[test]
    fn arrays_of_mixed_string_types() -> Result<()> {
        let finals = StringViewArray::from(vec![Some("5"), Some(""), None, None, Some("БОС")]);
        let years = LargeStringArray::from(vec![Some("4"), Some("3"), Some("2"), None, Some("5")]);
        let out = call(vec![
            ColumnarValue::Array(Arc::new(finals)),
            ColumnarValue::Array(Arc::new(years)),
        ])?;
        assert_strings(out, &[Some("5"), Some("3"), Some("2"), None, Some("БОС")]);
        Ok(())
    }

    #[test]
    fn array_with_a_constant() -> Result<()> {
        let finals = StringArray::from(vec![Some("4"), None, Some(" ")]);
        let out = call(vec![
            ColumnarValue::Array(Arc::new(finals)),
            scalar(Some("3")),
        ])?;
        assert_strings(out, &[Some("4"), Some("3"), Some("3")]);
        Ok(())
    }
}
