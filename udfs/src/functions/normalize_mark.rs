//! `normalize_mark(text)`: the canonical code of any accepted spelling.

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

/// `normalize_mark(text)` → the canonical code (`5` … `О/Ж`) of SPEC §2.
///
/// NULL or empty gives NULL; an unknown spelling is an execution error
/// naming the value.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NormalizeMarkFunc {
    signature: Signature,
}

impl Default for NormalizeMarkFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl NormalizeMarkFunc {
    /// The function, taking any string type.
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(vec![string_arg()], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for NormalizeMarkFunc {
    fn name(&self) -> &str {
        "normalize_mark"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [text] = take_function_args(self.name(), &args.args)?;
        map_strings(text, self.name(), |raw| match lookup_mark(raw) {
            Ok(mark) => Ok(mark.map(|m| m.code())),
            Err(err) => Err(unknown_mark_error("normalize_mark", err)),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "The canonical (Kazakh) code of a mark given in any spelling SPEC §2 accepts: \
                 aliases case-insensitively with surrounding whitespace trimmed, and the \
                 look-alike spellings of dirty exports (Latin O or Cyrillic О for Ө). NULL or \
                 an empty value gives NULL; an unknown spelling is an error naming the value.",
                "normalize_mark(text)",
            )
            .with_sql_example(
                r#"```sql
> SELECT normalize_mark('зачёт'), normalize_mark('н/а'), normalize_mark('A/O');
+-----+-----+-----+
| ЕСП | А/Ө | А/Ө |
+-----+-----+-----+
```"#,
            )
            .with_standard_argument("text", Some("String"))
            .with_related_udf("mark_class")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_strings, invoke};
    use super::*;
    use crate::mark::Mark;
    use datafusion::arrow::array::{ArrayRef, LargeStringArray, StringArray, StringViewArray};
    use datafusion::common::ScalarValue;
    use std::sync::Arc;

    fn call(args: Vec<ColumnarValue>) -> Result<ColumnarValue> {
        invoke(&NormalizeMarkFunc::new(), args)
    }

    #[test]
    fn every_alias_normalises_to_its_code() -> Result<()> {
        for mark in Mark::ALL {
            for alias in mark.aliases() {
                for scalar in [
                    ScalarValue::Utf8(Some(alias.to_string())),
                    ScalarValue::LargeUtf8(Some(format!(" {} ", alias.to_uppercase()))),
                    ScalarValue::Utf8View(Some(alias.to_string())),
                ] {
                    let out = call(vec![ColumnarValue::Scalar(scalar)])?;
                    let ColumnarValue::Scalar(ScalarValue::Utf8(Some(got))) = out else {
                        panic!("{alias}: {out:?}");
                    };
                    assert_eq!(got, mark.code(), "{alias}");
                }
            }
        }
        Ok(())
    }

    #[test]
    fn arrays_with_nulls_and_look_alikes() -> Result<()> {
        let input = vec![
            Some("УАО"),
            None,
            Some(""),
            Some("EСП"),
            Some("БOC"),
            Some("зч"),
        ];
        let expected = [
            Some("УА/Ө"),
            None,
            None,
            Some("ЕСП"),
            Some("БОС"),
            Some("ЕСП"),
        ];
        let arrays: [ArrayRef; 3] = [
            Arc::new(StringArray::from(input.clone())),
            Arc::new(LargeStringArray::from(input.clone())),
            Arc::new(StringViewArray::from(input)),
        ];
        for array in arrays {
            assert_strings(call(vec![ColumnarValue::Array(array)])?, &expected);
        }
        Ok(())
    }

    #[test]
    fn null_scalar_gives_null() -> Result<()> {
        let out = call(vec![ColumnarValue::Scalar(ScalarValue::Utf8(None))])?;
        assert!(matches!(
            out,
            ColumnarValue::Scalar(ScalarValue::Utf8(None))
        ));
        Ok(())
    }

    #[test]
    fn unknown_spelling_is_an_error_naming_it() {
        let scalar = ScalarValue::Utf8(Some("отл".into()));
        let err = call(vec![ColumnarValue::Scalar(scalar)]).expect_err("unknown");
        assert!(err.to_string().contains("\"отл\""), "{err}");
        assert!(err.to_string().contains("normalize_mark"), "{err}");
    }
}
