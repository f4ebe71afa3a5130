//! `modo_exclusion(school_type, students_4_9, internet_mbps
//! [, min_students_4_9])`: why a school
//! is left out of the MODO draw (SPEC §9, [`crate::modo::draw`]).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::StringBuilder;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use super::rows::{f64_column, finish, i64_column, row_count, value};
use super::strings::StrArg;
use super::{SAPA_FUNCTIONS, float64_arg, int64_arg, string_arg};
use crate::modo::draw::{Exclusion, MIN_STUDENTS_4_9, exclusion};

/// `modo_exclusion(school_type, students_4_9, internet_mbps)` → the reason
/// (`evening`, …, `too_few_students_4_9`, `internet_below_4_mbps`,
/// `internet_unknown`) or NULL when the school may be drawn; the minimum
/// of students is 80 (SPEC §9) unless a fourth argument gives another.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ModoExclusionFunc {
    signature: Signature,
}

impl Default for ModoExclusionFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ModoExclusionFunc {
    /// The function: a string, an integer and a number, and optionally
    /// the minimum, an integer.
    pub fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Coercible(vec![string_arg(), int64_arg(), float64_arg()]),
                    TypeSignature::Coercible(vec![
                        string_arg(),
                        int64_arg(),
                        float64_arg(),
                        int64_arg(),
                    ]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for ModoExclusionFunc {
    fn name(&self) -> &str {
        "modo_exclusion"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = row_count(&args);
        let (kind, students, internet, minimum) = match args.args.as_slice() {
            [kind, students, internet] => (kind, students, internet, None),
            [kind, students, internet, minimum] => (kind, students, internet, Some(minimum)),
            other => {
                return exec_err!("modo_exclusion takes 3 or 4 arguments, got {}", other.len());
            }
        };
        let kind = StrArg::new(kind, self.name())?;
        let students = i64_column(students, rows)?;
        let internet = f64_column(internet, rows)?;
        let minimum = minimum.map(|m| i64_column(m, rows)).transpose()?;
        let mut out = StringBuilder::with_capacity(rows, rows * 8);
        for i in 0..rows {
            let minimum = match &minimum {
                None => Some(MIN_STUDENTS_4_9),
                Some(column) => value(column, i),
            };
            let (Some(kind), Some(students), Some(minimum)) =
                (kind.get(i), value(&students, i), minimum)
            else {
                out.append_null();
                continue;
            };
            match exclusion(kind, students, value(&internet, i), minimum) {
                Ok(reason) => out.append_option(reason.map(Exclusion::as_str)),
                Err(err) => return exec_err!("modo_exclusion: {err}"),
            }
        }
        finish(Arc::new(out.finish()), &args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "Why a school is left out of the MODO (ББЖМ) draw (SPEC §9), the first rule that \
                 applies: its school type (`evening`, `international`, `autonomous`, \
                 `correctional`, `sanatorium`, `other` — schools under other ministries), then \
                 `too_few_students_4_9` (fewer than 80, or than `min_students_4_9`), then \
                 `internet_below_4_mbps` or `internet_unknown` (a NULL speed). NULL when the \
                 school may be drawn, or when the type, the count or the minimum is NULL. The computer-class criterion is not in the \
                 data. An unknown school type is an error naming it.",
                "modo_exclusion(school_type, students_4_9, internet_mbps)",
            )
            .with_alternative_syntax(
                "modo_exclusion(school_type, students_4_9, internet_mbps, min_students_4_9)",
            )
            .with_sql_example(
                r#"```sql
> SELECT modo_exclusion('general', 79, 10), modo_exclusion('lyceum', 80, 4.0);
+----------------------+------+
| too_few_students_4_9 |      |
+----------------------+------+
```"#,
            )
            .with_argument("school_type", "The school's `school_type` (SPEC §10).")
            .with_argument("students_4_9", "Students of grades 4 and 9 together.")
            .with_argument("internet_mbps", "The school's internet speed, Mbit/s (may be NULL).")
            .with_argument("min_students_4_9", "Optional: the fewest students drawn (80).")
            .with_related_udf("modo_cluster")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_strings, invoke};
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::common::ScalarValue;

    #[test]
    fn each_rule_over_columns() -> Result<()> {
        let kinds = StringArray::from(vec![
            Some("evening"),
            Some("general"),
            Some("general"),
            Some("general"),
            Some("gymnasium"),
            Some("lyceum"),
            None,
        ]);
        let students = Int64Array::from(vec![500, 79, 80, 80, 80, 200, 200]);
        let internet = Float64Array::from(vec![
            Some(50.0),
            Some(50.0),
            Some(3.9),
            None,
            Some(4.0),
            Some(100.0),
            Some(1.0),
        ]);
        let out = invoke(
            &ModoExclusionFunc::new(),
            vec![
                ColumnarValue::Array(Arc::new(kinds)),
                ColumnarValue::Array(Arc::new(students)),
                ColumnarValue::Array(Arc::new(internet)),
            ],
        )?;
        assert_strings(
            out,
            &[
                Some("evening"),
                Some("too_few_students_4_9"),
                Some("internet_below_4_mbps"),
                Some("internet_unknown"),
                None,
                None,
                None,
            ],
        );
        Ok(())
    }

    #[test]
    fn another_minimum() -> Result<()> {
        let out = invoke(
            &ModoExclusionFunc::new(),
            vec![
                ColumnarValue::Scalar(ScalarValue::Utf8(Some("general".into()))),
                ColumnarValue::Array(Arc::new(Int64Array::from(vec![7, 8, 79]))),
                ColumnarValue::Scalar(ScalarValue::Float64(Some(10.0))),
                ColumnarValue::Scalar(ScalarValue::Int64(Some(8))),
            ],
        )?;
        assert_strings(out, &[Some("too_few_students_4_9"), None, None]);
        Ok(())
    }

    #[test]
    fn an_unknown_type_is_an_error_naming_it() {
        let err = invoke(
            &ModoExclusionFunc::new(),
            vec![
                ColumnarValue::Scalar(ScalarValue::Utf8(Some("madrasa".into()))),
                ColumnarValue::Scalar(ScalarValue::Int64(Some(100))),
                ColumnarValue::Scalar(ScalarValue::Float64(Some(10.0))),
            ],
        )
        .expect_err("madrasa");
        assert!(err.to_string().contains("\"madrasa\""), "{err}");
    }
}
