//! `modo_draw_key(seed, school_id)`: the keyed hash that orders a MODO draw
//! cluster (SPEC §9, [`crate::modo::draw::draw_key`]).

use std::sync::LazyLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::rows::{finish, i64_column, int64_array, row_count, value};
use super::{SAPA_FUNCTIONS, int64_arg};
use crate::modo::draw::draw_key;

/// `modo_draw_key(seed, school_id)` → a non-negative `Int64`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ModoDrawKeyFunc {
    signature: Signature,
}

impl Default for ModoDrawKeyFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ModoDrawKeyFunc {
    /// The function: two integers coerced to `Int64`.
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(vec![int64_arg(), int64_arg()], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ModoDrawKeyFunc {
    fn name(&self) -> &str {
        "modo_draw_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = row_count(&args);
        let [seed, school] = take_function_args(self.name(), &args.args)?;
        let (seed, school) = (i64_column(seed, rows)?, i64_column(school, rows)?);
        let keys = (0..rows)
            .map(|i| Some(draw_key(value(&seed, i)?, value(&school, i)?)))
            .collect();
        finish(int64_array(keys), &args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "The position of a school in a MODO (ББЖМ) draw with `seed` (SPEC §9): \
                 SplitMix64(SplitMix64(seed) XOR school_id) shifted right by one bit, so \
                 non-negative. A fixed function of its arguments: the same draw on any machine, \
                 run and thread count. NULL for a NULL argument.",
                "modo_draw_key(seed, school_id)",
            )
            .with_argument("seed", "The draw's seed (integer).")
            .with_argument("school_id", "The school (integer).")
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
    fn a_column_of_schools_under_one_seed() -> Result<()> {
        let schools = Int64Array::from(vec![Some(1), Some(2), None]);
        let out = invoke(
            &ModoDrawKeyFunc::new(),
            vec![
                ColumnarValue::Scalar(ScalarValue::Int64(Some(7))),
                ColumnarValue::Array(Arc::new(schools)),
            ],
        )?;
        let array = out.into_array(3)?;
        let keys = as_int64_array(&array)?;
        assert_eq!(keys.value(0), draw_key(7, 1));
        assert_eq!(keys.value(1), draw_key(7, 2));
        assert!(keys.is_null(2));
        Ok(())
    }
}
