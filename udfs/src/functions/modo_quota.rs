//! `modo_quota(schools)`: how many schools of a MODO draw cluster are drawn
//! (SPEC §9, [`crate::modo::draw::quota`]).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::rows::{finish, i64_column, int64_array, row_count, value};
use super::{SAPA_FUNCTIONS, int64_arg};
use crate::modo::draw::quota;

/// `modo_quota(schools)` → 25 % rounded half up, at least 1 (0 for 0).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ModoQuotaFunc {
    signature: Signature,
}

impl Default for ModoQuotaFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ModoQuotaFunc {
    /// The function: an integer coerced to `Int64`.
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(vec![int64_arg()], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ModoQuotaFunc {
    fn name(&self) -> &str {
        "modo_quota"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = row_count(&args);
        let [schools] = take_function_args(self.name(), &args.args)?;
        let schools = i64_column(schools, rows)?;
        let mut out = Vec::with_capacity(rows);
        for i in 0..rows {
            out.push(match value(&schools, i).map(quota) {
                None => None,
                Some(Ok(q)) => Some(q),
                Some(Err(err)) => return exec_err!("modo_quota: {err}"),
            });
        }
        finish(int64_array(out), &args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "How many of a MODO (ББЖМ) draw cluster's schools are drawn (SPEC §9: about \
                 25 %): a quarter rounded half up, and at least one for a non-empty cluster, so \
                 every stratum is represented. 0 for 0, NULL for NULL; a negative count is an \
                 error.",
                "modo_quota(schools)",
            )
            .with_sql_example(
                r#"```sql
> SELECT modo_quota(1), modo_quota(6), modo_quota(10);
+---+---+---+
| 1 | 2 | 3 |
+---+---+---+
```"#,
            )
            .with_argument("schools", "The schools of the cluster.")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::invoke;
    use super::*;
    use datafusion::arrow::array::{Array, Int64Array};
    use datafusion::common::ScalarValue;
    use datafusion::common::cast::as_int64_array;
    use std::sync::Arc;

    #[test]
    fn quotas_over_a_column_and_errors() -> Result<()> {
        let n = Int64Array::from(vec![Some(0), Some(1), Some(6), Some(10), None]);
        let out = invoke(
            &ModoQuotaFunc::new(),
            vec![ColumnarValue::Array(Arc::new(n))],
        )?;
        let array = out.into_array(5)?;
        let q = as_int64_array(&array)?;
        let got: Vec<Option<i64>> = q.iter().collect();
        assert_eq!(got, [Some(0), Some(1), Some(2), Some(3), None]);
        assert!(q.is_null(4));
        let err = invoke(
            &ModoQuotaFunc::new(),
            vec![ColumnarValue::Scalar(ScalarValue::Int64(Some(-1)))],
        )
        .expect_err("negative");
        assert!(err.to_string().contains("-1"), "{err}");
        Ok(())
    }
}
