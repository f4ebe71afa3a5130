//! `modo_band(score, max_score)`: the band of a MODO score (SPEC §9; the
//! bands are Sapa's, see [`crate::modo`]).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::StringBuilder;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::rows::{f64_column, finish, row_count, value};
use super::{SAPA_FUNCTIONS, float64_arg};
use crate::modo::ModoBand;

/// `modo_band(score, max_score)` → `low`, `satisfactory`, `good` or
/// `excellent`; NULL for a NULL argument or a maximum that is not positive.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ModoBandFunc {
    signature: Signature,
}

impl Default for ModoBandFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ModoBandFunc {
    /// The function, both numbers coerced to `Float64`.
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(
                vec![float64_arg(), float64_arg()],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for ModoBandFunc {
    fn name(&self) -> &str {
        "modo_band"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = row_count(&args);
        let [score, max] = take_function_args(self.name(), &args.args)?;
        let (score, max) = (f64_column(score, rows)?, f64_column(max, rows)?);
        let mut out = StringBuilder::with_capacity(rows, rows * 8);
        for i in 0..rows {
            let band = match (value(&score, i), value(&max, i)) {
                (Some(s), Some(m)) => ModoBand::of(s, m),
                _ => None,
            };
            out.append_option(band.map(ModoBand::as_str));
        }
        finish(Arc::new(out.finish()), &args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "The band of a MODO (ББЖМ) score by its percentage of the maximum, half-open on \
                 the exact value: `low` below 40 %, `satisfactory` from 40 %, `good` from 65 %, \
                 `excellent` from 85 % — the scale that turns a criteria-based summative \
                 assessment into the marks 2/3/4/5 (the seeds band no MODO results; this is \
                 Sapa's choice). NULL for a NULL argument or a maximum that is not positive.",
                "modo_band(score, max_score)",
            )
            .with_sql_example(
                r#"```sql
> SELECT modo_band(7, 10), modo_band(26, 40), modo_band(3, 8);
+------+------+-----+
| good | good | low |
+------+------+-----+
```"#,
            )
            .with_argument("score", "Points scored (any numeric type).")
            .with_argument("max_score", "Points possible (any numeric type).")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_strings, invoke};
    use super::*;
    use datafusion::arrow::array::Float64Array;
    use datafusion::common::ScalarValue;

    #[test]
    fn columns_scalars_and_nulls() -> Result<()> {
        let scores = Float64Array::from(vec![
            Some(3.9),
            Some(4.0),
            Some(6.5),
            Some(8.5),
            None,
            Some(1.0),
        ]);
        let out = invoke(
            &ModoBandFunc::new(),
            vec![
                ColumnarValue::Array(Arc::new(scores)),
                ColumnarValue::Scalar(ScalarValue::Float64(Some(10.0))),
            ],
        )?;
        assert_strings(
            out,
            &[
                Some("low"),
                Some("satisfactory"),
                Some("good"),
                Some("excellent"),
                None,
                Some("low"),
            ],
        );
        let out = invoke(
            &ModoBandFunc::new(),
            vec![
                ColumnarValue::Scalar(ScalarValue::Float64(Some(1.0))),
                ColumnarValue::Scalar(ScalarValue::Float64(Some(0.0))),
            ],
        )?;
        assert!(
            matches!(out, ColumnarValue::Scalar(ScalarValue::Utf8(None))),
            "{out:?}"
        );
        Ok(())
    }
}
