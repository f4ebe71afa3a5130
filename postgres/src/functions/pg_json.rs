//! `json_build_object(key, value, …)`, which SQLAlchemy's column
//! reflection calls (for identity options), as PostgreSQL builds it: keys
//! as text, values as JSON by their type (numbers and booleans bare, NULL
//! as `null`, everything else a JSON string of its text), the pairs in
//! argument order, spaced as PostgreSQL spaces them. The result is text.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use sapa_sqlstate::{SqlState, code};

/// What `json_build_object` refuses, in PostgreSQL's words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JsonError {
    /// A key without its value.
    #[error("argument list must have even number of elements")]
    OddArguments,
    /// A NULL key (argument `position`, counted from 1).
    #[error("null value not allowed for object key (argument {position})")]
    NullKey {
        /// Where the key is among the arguments.
        position: usize,
    },
}

impl SqlState for JsonError {
    fn sqlstate(&self) -> &'static str {
        match self {
            JsonError::OddArguments => code::INVALID_PARAMETER_VALUE,
            JsonError::NullKey { .. } => code::NULL_VALUE_NOT_ALLOWED,
        }
    }
}

/// The function, for a session to register.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(JsonBuildObject {
        signature: Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
            Volatility::Immutable,
        ),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuildObject {
    signature: Signature,
}

impl ScalarUDFImpl for JsonBuildObject {
    fn name(&self) -> &str {
        "json_build_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.len() % 2 == 1 {
            return Err(JsonError::OddArguments.into_datafusion());
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.len() % 2 == 1 {
            return Err(JsonError::OddArguments.into_datafusion());
        }
        let rows = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<_>>()?;
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        for row in 0..rows {
            let mut object = String::from("{");
            for (pair, kv) in arrays.chunks(2).enumerate() {
                let [key, value] = kv else {
                    return Err(JsonError::OddArguments.into_datafusion());
                };
                let key = ScalarValue::try_from_array(key, row)?;
                if key.is_null() {
                    return Err(JsonError::NullKey {
                        position: pair * 2 + 1,
                    }
                    .into_datafusion());
                }
                if pair > 0 {
                    object.push_str(", ");
                }
                object.push_str(&json_string(&text_of(&key)));
                object.push_str(" : ");
                object.push_str(&json_value(&ScalarValue::try_from_array(value, row)?));
            }
            object.push('}');
            out.append_value(object);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// A value's text, as a string column would hold it.
fn text_of(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.clone(),
        ScalarValue::Dictionary(_, inner) => text_of(inner),
        other => other.to_string(),
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// One value as JSON.
fn json_value(value: &ScalarValue) -> String {
    if value.is_null() {
        return "null".to_string();
    }
    match value {
        ScalarValue::Boolean(Some(b)) => b.to_string(),
        ScalarValue::Int8(_)
        | ScalarValue::Int16(_)
        | ScalarValue::Int32(_)
        | ScalarValue::Int64(_)
        | ScalarValue::UInt8(_)
        | ScalarValue::UInt16(_)
        | ScalarValue::UInt32(_)
        | ScalarValue::UInt64(_)
        | ScalarValue::Decimal128(..)
        | ScalarValue::Decimal256(..) => value.to_string(),
        // NaN and the infinities are no JSON numbers: PostgreSQL quotes them.
        ScalarValue::Float32(Some(f)) if f.is_finite() => value.to_string(),
        ScalarValue::Float64(Some(f)) if f.is_finite() => value.to_string(),
        ScalarValue::Float32(Some(f)) => json_string(&special_float(f64::from(*f))),
        ScalarValue::Float64(Some(f)) => json_string(&special_float(*f)),
        ScalarValue::Dictionary(_, inner) => json_value(inner),
        other => json_string(&text_of(other)),
    }
}

fn special_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f > 0.0 {
        "Infinity".to_string()
    } else {
        "-Infinity".to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use datafusion::prelude::SessionContext;

    async fn built(sql: &str) -> Result<Vec<Option<String>>> {
        let ctx = SessionContext::new();
        ctx.register_udf(udf());
        let batches = ctx.sql(sql).await?.collect().await?;
        Ok(batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_string::<i32>()
                    .iter()
                    .map(|v| v.map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect())
    }

    #[tokio::test]
    async fn values_are_json_by_type_and_nulls_are_null() {
        let found = built(
            "SELECT json_build_object('always', true, 'start', CAST(1 AS BIGINT), \
             'ratio', 2.5, 'name', 'a \"b\"', 'none', NULL, 'nan', CAST('NaN' AS DOUBLE))",
        )
        .await
        .unwrap();
        assert_eq!(
            found,
            vec![Some(
                r#"{"always" : true, "start" : 1, "ratio" : 2.5, "name" : "a \"b\"", "none" : null, "nan" : "NaN"}"#
                    .to_string()
            )]
        );
        assert_eq!(
            built("SELECT json_build_object()").await.unwrap(),
            vec![Some("{}".to_string())]
        );
        // Per row, keys of any type as text.
        assert_eq!(
            built("SELECT json_build_object(k, v) FROM (VALUES (1, 'x'), (2, NULL)) AS t(k, v)")
                .await
                .unwrap(),
            vec![
                Some(r#"{"1" : "x"}"#.to_string()),
                Some(r#"{"2" : null}"#.to_string())
            ]
        );
    }

    #[tokio::test]
    async fn odd_arguments_and_null_keys_are_errors() {
        let odd = built("SELECT json_build_object('a')").await.unwrap_err();
        assert!(odd.to_string().contains("even number"), "{odd}");
        let null = built("SELECT json_build_object(NULL, 1)")
            .await
            .unwrap_err();
        assert!(
            null.to_string().contains("null value not allowed"),
            "{null}"
        );
    }
}
