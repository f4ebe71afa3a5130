//! Catalog lookups clients run while connecting: `to_regtype(name)`, which
//! psycopg (under SQLAlchemy) calls to look up `hstore` and friends, and
//! `pg_function_is_visible(oid)`, which psql's `\df` filters on.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, Int32Builder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_postgres::pgwire::api::Type;

/// The functions of this module, for a session to register.
pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(ToRegtype {
            signature: Signature::any(1, Volatility::Stable),
        }),
        ScalarUDF::new_from_impl(FunctionIsVisible {
            signature: Signature::any(1, Volatility::Stable),
        }),
    ]
}

/// Built-in type names (`int4`, `_int4`, …) and the SQL spellings
/// PostgreSQL also accepts (`integer`, `character varying`, …) to OIDs.
static TYPE_OIDS: LazyLock<HashMap<String, i32>> = LazyLock::new(|| {
    let mut names = HashMap::new();
    // Every built-in OID is below 10 000.
    for oid in 0..10_000u32 {
        if let (Some(ty), Ok(signed)) = (Type::from_oid(oid), i32::try_from(oid)) {
            names.insert(ty.name().to_string(), signed);
        }
    }
    let aliases = [
        ("boolean", "bool"),
        ("smallint", "int2"),
        ("integer", "int4"),
        ("int", "int4"),
        ("bigint", "int8"),
        ("real", "float4"),
        ("double precision", "float8"),
        ("decimal", "numeric"),
        ("character varying", "varchar"),
        ("character", "bpchar"),
        ("char", "bpchar"),
        ("timestamp without time zone", "timestamp"),
        ("timestamp with time zone", "timestamptz"),
        ("time without time zone", "time"),
        ("time with time zone", "timetz"),
    ];
    for (alias, name) in aliases {
        if let Some(oid) = names.get(name).copied() {
            names.insert(alias.to_string(), oid);
        }
    }
    names
});

/// The OID `to_regtype` answers for a type name, `None` for an unknown one.
pub(crate) fn regtype(name: &str) -> Option<i32> {
    let name = name.trim().to_ascii_lowercase();
    let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
    let name = name.trim_matches('"');
    match name.strip_suffix("[]") {
        Some(element) => {
            let element_name = TYPE_OIDS.get(element.trim()).and_then(|oid| {
                u32::try_from(*oid)
                    .ok()
                    .and_then(Type::from_oid)
                    .map(|t| t.name().to_string())
            })?;
            TYPE_OIDS.get(&format!("_{element_name}")).copied()
        }
        None => TYPE_OIDS.get(name).copied(),
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ToRegtype {
    signature: Signature,
}

impl ScalarUDFImpl for ToRegtype {
    fn name(&self) -> &str {
        "to_regtype"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let names = match args.args.first() {
            Some(arg) => cast(&arg.to_array(rows)?, &DataType::Utf8)?,
            None => return datafusion::common::plan_err!("to_regtype takes a type name"),
        };
        let mut out = Int32Builder::with_capacity(rows);
        for name in names.as_string::<i32>().iter() {
            out.append_option(name.and_then(regtype));
        }
        let array: ArrayRef = Arc::new(out.finish());
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?));
        }
        Ok(ColumnarValue::Array(array))
    }
}

/// Every function is on the search path: Sapa has one schema of its own.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FunctionIsVisible {
    signature: Signature,
}

impl ScalarUDFImpl for FunctionIsVisible {
    fn name(&self) -> &str {
        "pg_function_is_visible"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match args.args.first() {
            Some(ColumnarValue::Array(oids)) => Ok(ColumnarValue::Array(Arc::new(
                BooleanArray::from(vec![true; oids.len()]),
            ))),
            _ => Ok(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::regtype;

    #[test]
    fn type_names_and_aliases_resolve_to_postgres_oids() {
        assert_eq!(regtype("int4"), Some(23));
        assert_eq!(regtype("integer"), Some(23));
        assert_eq!(regtype("pg_catalog.text"), Some(25));
        assert_eq!(regtype("character varying"), Some(1043));
        assert_eq!(regtype("integer[]"), Some(1007));
        assert_eq!(regtype("hstore"), None);
        assert_eq!(regtype(""), None);
    }
}
