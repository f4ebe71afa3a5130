//! `modo_cluster(locality, school_type, language, students)`: the cluster
//! a school is drawn in for MODO (SPEC §9, [`crate::modo::draw`]).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::StringBuilder;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::rows::{finish, i64_column, row_count, value};
use super::strings::StrArg;
use super::{SAPA_FUNCTIONS, int64_arg, string_arg};
use crate::modo::draw::cluster;

/// `modo_cluster(locality, school_type, language, students)` →
/// `locality/type/size/language`, e.g. `rural/general/medium/kk`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ModoClusterFunc {
    signature: Signature,
}

impl Default for ModoClusterFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ModoClusterFunc {
    /// The function: three strings and an integer.
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(
                vec![string_arg(), string_arg(), string_arg(), int64_arg()],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for ModoClusterFunc {
    fn name(&self) -> &str {
        "modo_cluster"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = row_count(&args);
        let [locality, kind, language, students] = take_function_args(self.name(), &args.args)?;
        let locality = StrArg::new(locality, self.name())?;
        let kind = StrArg::new(kind, self.name())?;
        let language = StrArg::new(language, self.name())?;
        let students = i64_column(students, rows)?;
        let mut out = StringBuilder::with_capacity(rows, rows * 24);
        for i in 0..rows {
            let (Some(l), Some(k), Some(lang), Some(n)) = (
                locality.get(i),
                kind.get(i),
                language.get(i),
                value(&students, i),
            ) else {
                out.append_null();
                continue;
            };
            match cluster(l, k, lang, n) {
                Ok(c) => out.append_value(c),
                Err(err) => return exec_err!("modo_cluster: {err}"),
            }
        }
        finish(Arc::new(out.finish()), &args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                SAPA_FUNCTIONS,
                "The MODO (ББЖМ) draw cluster of a school (SPEC §9): `locality/type/size/language`. \
                 Types: `general`, `lyceum`, `gymnasium`, `school_gymnasium`, `school_lyceum` \
                 and `specialized` (its own clusters). Size of the whole contingent: `small` \
                 below 300 students, `medium` 300–999, `large` from 1000. Languages `kk`, `ru`, \
                 `mixed`, `other`, each its own. NULL for a NULL argument; an unknown value is \
                 an error naming it.",
                "modo_cluster(locality, school_type, language, students)",
            )
            .with_sql_example(
                r#"```sql
> SELECT modo_cluster('rural', 'general', 'kk', 450);
+-------------------------+
| rural/general/medium/kk |
+-------------------------+
```"#,
            )
            .with_argument("locality", "`urban` or `rural`.")
            .with_argument("school_type", "The school's `school_type` (SPEC §10).")
            .with_argument("language", "`kk`, `ru`, `mixed` or `other`.")
            .with_argument("students", "The school's students, every grade.")
            .with_related_udf("modo_exclusion")
            .build()
        });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_strings, invoke};
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::common::ScalarValue;

    fn text(s: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(s.into())))
    }

    #[test]
    fn clusters_over_columns_with_nulls() -> Result<()> {
        let kinds = StringArray::from(vec![Some("general"), Some("specialized"), None]);
        let students = Int64Array::from(vec![299, 1000, 10]);
        let out = invoke(
            &ModoClusterFunc::new(),
            vec![
                text("urban"),
                ColumnarValue::Array(Arc::new(kinds)),
                text("mixed"),
                ColumnarValue::Array(Arc::new(students)),
            ],
        )?;
        assert_strings(
            out,
            &[
                Some("urban/general/small/mixed"),
                Some("urban/specialized/large/mixed"),
                None,
            ],
        );
        Ok(())
    }

    #[test]
    fn an_unknown_language_is_an_error_naming_it() {
        let err = invoke(
            &ModoClusterFunc::new(),
            vec![
                text("urban"),
                text("general"),
                text("uz"),
                ColumnarValue::Scalar(ScalarValue::Int64(Some(1))),
            ],
        )
        .expect_err("uz");
        assert!(err.to_string().contains("\"uz\""), "{err}");
    }
}
