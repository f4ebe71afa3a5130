//! `mark_class(mark)`: the class of a mark (SPEC §2, last column).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::mark_bits::unknown_mark_error;
use super::strings::map_strings;
use super::{SAPA_FUNCTIONS, string_arg};
use crate::mark::lookup_mark;

/// `mark_class(mark)` → `top`, `good`, `satisfactory`, `failing` or `neutral`.
///
/// Accepts every spelling `parse_mark` accepts; NULL or empty gives NULL;
/// an unknown code is an execution error naming the value.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MarkClassFunc {
    signature: Signature,
}

impl Default for MarkClassFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl MarkClassFunc {
    /// The function, taking any string type.
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(vec![string_arg()], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for MarkClassFunc {
    fn name(&self) -> &str {
        "mark_class"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [mark] = take_function_args(self.name(), &args.args)?;
        map_strings(mark, self.name(), |raw| match lookup_mark(raw) {
            Ok(mark) => Ok(mark.map(|m| m.class().as_str())),
            Err(err) => Err(unknown_mark_error("mark_class", err)),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "The class of a final mark (SPEC §2): `top` for 5 and ЕСП, `good` for 4, \
                 `satisfactory` for 3, `failing` for 2, 1, А/Ө, УА/Ө and ЕСЖ, `neutral` for \
                 БОС and О/Ж. Any accepted alias or look-alike spelling is understood. NULL \
                 or an empty mark gives NULL; an unknown code is an error naming the value.",
                "mark_class(mark)",
            )
            .with_sql_example(
                r#"```sql
> SELECT mark_class('5'), mark_class('зачёт'), mark_class('УА/Ө'), mark_class('БОС');
+-----+-----+---------+---------+
| top | top | failing | neutral |
+-----+-----+---------+---------+
```"#,
            )
            .with_standard_argument("mark", Some("String"))
            .with_related_udf("normalize_mark")
            .with_related_udf("student_status")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_strings, invoke};
    use super::*;
    use datafusion::arrow::array::{ArrayRef, LargeStringArray, StringArray, StringViewArray};
    use datafusion::common::ScalarValue;
    use std::sync::Arc;

    fn call(args: Vec<ColumnarValue>) -> Result<ColumnarValue> {
        invoke(&MarkClassFunc::new(), args)
    }

    #[test]
    fn scalar_inputs_of_every_string_type() -> Result<()> {
        let cases = [
            (Some("5"), Some("top")),
            (Some("ЕСП"), Some("top")),
            (Some("зачёт"), Some("top")),
            (Some("4"), Some("good")),
            (Some("3"), Some("satisfactory")),
            (Some("1"), Some("failing")),
            (Some("н/а"), Some("failing")),
            (Some("A/O"), Some("failing")),
            (Some("незачет"), Some("failing")),
            (Some("осв"), Some("neutral")),
            (Some("О/Ж"), Some("neutral")),
            (Some(""), None),
            (None, None),
        ];
        for (input, expected) in cases {
            let owned = input.map(str::to_string);
            for scalar in [
                ScalarValue::Utf8(owned.clone()),
                ScalarValue::LargeUtf8(owned.clone()),
                ScalarValue::Utf8View(owned.clone()),
            ] {
                let out = call(vec![ColumnarValue::Scalar(scalar)])?;
                let ColumnarValue::Scalar(ScalarValue::Utf8(got)) = out else {
                    panic!("{input:?}: not a Utf8 scalar: {out:?}");
                };
                assert_eq!(got.as_deref(), expected, "{input:?}");
            }
        }
        Ok(())
    }

    #[test]
    fn array_inputs_with_nulls() -> Result<()> {
        let input = vec![
            Some("5"),
            None,
            Some("4"),
            Some(" "),
            Some("ЕСЖ"),
            Some("БОС"),
        ];
        let expected = [
            Some("top"),
            None,
            Some("good"),
            None,
            Some("failing"),
            Some("neutral"),
        ];
        let arrays: [ArrayRef; 3] = [
            Arc::new(StringArray::from(input.clone())),
            Arc::new(LargeStringArray::from(input.clone())),
            Arc::new(StringViewArray::from(input)),
        ];
        for array in arrays {
            let out = call(vec![ColumnarValue::Array(array)])?;
            assert_strings(out, &expected);
        }
        Ok(())
    }

    #[test]
    fn unknown_code_is_an_error_naming_it() {
        let array = Arc::new(StringArray::from(vec![Some("5"), Some("6+")]));
        let err = call(vec![ColumnarValue::Array(array)]).expect_err("6+ is unknown");
        let message = err.to_string();
        assert!(message.contains("mark_class"), "{message}");
        assert!(message.contains("\"6+\""), "{message}");
    }
}
