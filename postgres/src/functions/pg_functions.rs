//! PostgreSQL functions that clients call while connecting and syncing
//! (psql's `\conninfo`, pgjdbc's `DatabaseMetaData`, Metabase's sync) and
//! that neither DataFusion nor `datafusion-pg-catalog` provides: `version()`,
//! `current_user`/`session_user` answering the logged-in user,
//! `current_setting`, `pg_typeof`, `col_description`/`obj_description`, and
//! PostgreSQL's `format`.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::prelude::SessionContext;

use super::setting_functions;
use crate::catalog::pg_types::pg_type;
use crate::settings::PG_VERSION;
use crate::settings::SessionSettings;

/// `version()`: PostgreSQL's form, so version-sniffing clients parse it,
/// naming Sapa.
pub(crate) fn version_string() -> String {
    format!(
        "PostgreSQL {PG_VERSION} (Sapa {} on Apache DataFusion), 64-bit",
        env!("CARGO_PKG_VERSION")
    )
}

/// Registers `udf` in place of any function of the same name, together
/// with that function's aliases: a left-over alias (theirs `format` is also
/// `sprintf`) would bring the replaced function back whenever the session
/// state is rebuilt, whichever of the two the rebuild registers last.
fn replace(ctx: &SessionContext, udf: ScalarUDF) {
    ctx.deregister_udf(udf.name());
    ctx.register_udf(udf);
}

/// Registers the functions that are the same for every connection.
pub fn register(ctx: &SessionContext) {
    replace(ctx, Constant::udf("version", Some(version_string()), 0..=0));
    // No comments are stored on tables or columns: NULL, as PostgreSQL
    // answers for an object without one.
    replace(ctx, Constant::udf("col_description", None, 2..=2));
    replace(ctx, Constant::udf("obj_description", None, 1..=2));
    replace(ctx, Constant::udf("shobj_description", None, 2..=2));
    // No column owns a sequence: NULL, as PostgreSQL answers for such a
    // column (SQLAlchemy's column reflection asks for every column).
    replace(ctx, Constant::udf("pg_get_serial_sequence", None, 2..=2));
    // The definition of one index column: clients (SQLAlchemy's index
    // reflection) ask only for expression columns, and Sapa's indexes have
    // none. (The whole-index forms are not provided.)
    replace(ctx, Constant::udf("pg_get_indexdef", None, 3..=3));
    // A read-only server takes no advisory locks, so there are none to
    // release: asyncpg's pool sends it whenever a connection is returned.
    replace(ctx, Constant::udf("pg_advisory_unlock_all", None, 0..=0));
    replace(ctx, crate::sql::pg_spellings::like_pattern_udf());
    replace(ctx, super::pg_json::udf());
    ctx.register_udaf(crate::sql::subquery_value::udaf());
    for udf in crate::sql::int_vectors::udfs() {
        replace(ctx, udf);
    }
    replace(ctx, ScalarUDF::new_from_impl(PgTypeof::new()));
    // `current_setting` over the defaults, for a session that never logs
    // in over the wire; a login registers its own (and `set_config`).
    let [current_setting, _] = setting_functions::udfs(&Arc::new(SessionSettings::default()));
    replace(ctx, current_setting);
    let mut registry = ctx.clone();
    datafusion_pg_functions::string::register(&mut registry);
    // Ours replaces theirs, which answers `format('%I', …)` with ''.
    replace(ctx, super::pg_format::udf());
    for udf in super::pg_lookup::udfs() {
        replace(ctx, udf);
    }
}

/// Registers the functions that answer the connection's user.
pub fn register_for_user(ctx: &SessionContext, user: &str) {
    for name in ["current_user", "session_user", "user", "current_role"] {
        replace(ctx, Constant::udf(name, Some(user.to_string()), 0..=0));
    }
}

/// A function of fixed arity that answers one value whatever its arguments.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Constant {
    name: &'static str,
    value: ScalarValue,
    signature: Signature,
}

/// A function of no arguments answering `value`.
pub fn constant(name: &'static str, value: ScalarValue) -> ScalarUDF {
    Constant::scalar(name, value, 0..=0)
}

impl Constant {
    fn udf(
        name: &'static str,
        value: Option<String>,
        arity: std::ops::RangeInclusive<usize>,
    ) -> ScalarUDF {
        Constant::scalar(name, ScalarValue::Utf8(value), arity)
    }

    fn scalar(
        name: &'static str,
        value: ScalarValue,
        arity: std::ops::RangeInclusive<usize>,
    ) -> ScalarUDF {
        let signatures = arity
            .map(|n| {
                if n == 0 {
                    TypeSignature::Nullary
                } else {
                    TypeSignature::Any(n)
                }
            })
            .collect();
        ScalarUDF::new_from_impl(Constant {
            name,
            value,
            signature: Signature::one_of(signatures, Volatility::Stable),
        })
    }
}

impl ScalarUDFImpl for Constant {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.value.data_type())
    }
    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value.clone()))
    }
}

/// `pg_typeof(any)`: the PostgreSQL name of the argument's type.
#[derive(Debug, PartialEq, Eq, Hash)]
struct PgTypeof {
    signature: Signature,
}

impl PgTypeof {
    fn new() -> PgTypeof {
        PgTypeof {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for PgTypeof {
    fn name(&self) -> &str {
        "pg_typeof"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(field) = args.arg_fields.first() else {
            return plan_err!("pg_typeof takes one argument");
        };
        let name = pg_type(field.data_type()).sql_name;
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
            name.to_string(),
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_postgres_and_sapa() {
        let v = version_string();
        assert!(v.starts_with("PostgreSQL 16.6 "), "{v}");
        assert!(v.contains("Sapa"), "{v}");
    }
}
