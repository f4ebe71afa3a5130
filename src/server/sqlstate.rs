//! Errors as PostgreSQL reports them: the one place where a DataFusion
//! error gets its SQLSTATE, so clients see `42P01` for a missing table and
//! not `XX000`.

use datafusion::arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError};

/// SQLSTATE classes used by the server.
pub(crate) mod code {
    pub(crate) const SYNTAX_ERROR: &str = "42601";
    pub(crate) const UNDEFINED_TABLE: &str = "42P01";
    pub(crate) const UNDEFINED_COLUMN: &str = "42703";
    pub(crate) const UNDEFINED_FUNCTION: &str = "42883";
    pub(crate) const UNDEFINED_OBJECT: &str = "42704";
    pub(crate) const AMBIGUOUS_COLUMN: &str = "42702";
    pub(crate) const DUPLICATE_OBJECT: &str = "42710";
    pub(crate) const DATATYPE_MISMATCH: &str = "42804";
    pub(crate) const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    pub(crate) const DIVISION_BY_ZERO: &str = "22012";
    pub(crate) const NUMERIC_OUT_OF_RANGE: &str = "22003";
    pub(crate) const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
    pub(crate) const INVALID_REGULAR_EXPRESSION: &str = "2201B";
    pub(crate) const DATA_EXCEPTION: &str = "22000";
    pub(crate) const NULL_VALUE_NOT_ALLOWED: &str = "22004";
    pub(crate) const INVALID_PARAMETER_VALUE: &str = "22023";
    pub(crate) const CARDINALITY_VIOLATION: &str = "21000";
    pub(crate) const FEATURE_NOT_SUPPORTED: &str = "0A000";
    pub(crate) const OUT_OF_MEMORY: &str = "53200";
    pub(crate) const TOO_MANY_CONNECTIONS: &str = "53300";
    pub(crate) const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
    pub(crate) const STATEMENT_TOO_COMPLEX: &str = "54001";
    pub(crate) const TOO_MANY_COLUMNS: &str = "54011";
    pub(crate) const INSUFFICIENT_PRIVILEGE: &str = "42501";
    pub(crate) const INVALID_AUTHORIZATION: &str = "28000";
    pub(crate) const INVALID_PASSWORD: &str = "28P01";
    pub(crate) const PROTOCOL_VIOLATION: &str = "08P01";
    pub(crate) const CONNECTION_FAILURE: &str = "08006";
    pub(crate) const NO_ACTIVE_TRANSACTION: &str = "25P01";
    pub(crate) const IN_FAILED_TRANSACTION: &str = "25P02";
    pub(crate) const INVALID_SAVEPOINT: &str = "3B001";
    pub(crate) const QUERY_CANCELED: &str = "57014";
    pub(crate) const INVALID_CURSOR_NAME: &str = "34000";
    pub(crate) const INVALID_ESCAPE_SEQUENCE: &str = "22025";
    pub(crate) const CANT_CHANGE_RUNTIME_PARAM: &str = "55P02";
    pub(crate) const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";
    pub(crate) const SYSTEM_ERROR: &str = "58000";
    pub(crate) const INTERNAL: &str = "XX000";
}

/// The SQLSTATE of a DataFusion error.
pub fn sqlstate_of(err: &DataFusionError) -> &'static str {
    match err {
        DataFusionError::Context(context, _) if context == "Invalid regex" => {
            code::INVALID_REGULAR_EXPRESSION
        }
        DataFusionError::Context(_, inner) => sqlstate_of(inner),
        DataFusionError::Shared(inner) => sqlstate_of(inner),
        DataFusionError::Diagnostic(_, inner) => sqlstate_of(inner),
        DataFusionError::Collection(errs) => errs.first().map_or(code::INTERNAL, sqlstate_of),
        DataFusionError::SQL(..) => code::SYNTAX_ERROR,
        DataFusionError::SchemaError(schema, _) => match schema.as_ref() {
            SchemaError::FieldNotFound { .. } => code::UNDEFINED_COLUMN,
            SchemaError::AmbiguousReference { .. } => code::AMBIGUOUS_COLUMN,
            SchemaError::DuplicateQualifiedField { .. }
            | SchemaError::DuplicateUnqualifiedField { .. } => code::DUPLICATE_OBJECT,
        },
        DataFusionError::ArrowError(arrow, _) => arrow_sqlstate(arrow),
        DataFusionError::ResourcesExhausted(_) => code::OUT_OF_MEMORY,
        DataFusionError::NotImplemented(_) => code::FEATURE_NOT_SUPPORTED,
        DataFusionError::Plan(msg) => plan_sqlstate(msg),
        DataFusionError::Execution(msg) => execution_sqlstate(msg),
        DataFusionError::External(inner) => external_sqlstate(inner.as_ref()),
        DataFusionError::ExecutionJoin(_)
        | DataFusionError::Internal(_)
        | DataFusionError::IoError(_)
        | DataFusionError::ParquetError(_)
        | DataFusionError::ObjectStore(_)
        | DataFusionError::Configuration(_)
        | DataFusionError::Substrait(_) => code::INTERNAL,
        #[allow(unreachable_patterns)]
        _ => code::INTERNAL,
    }
}

fn arrow_sqlstate(err: &ArrowError) -> &'static str {
    match err {
        ArrowError::DivideByZero => code::DIVISION_BY_ZERO,
        // A number too big for the type cast to, not text that is no number.
        ArrowError::CastError(msg) if msg.contains("Can't cast value") => {
            code::NUMERIC_OUT_OF_RANGE
        }
        ArrowError::CastError(_) | ArrowError::ParseError(_) => code::INVALID_TEXT_REPRESENTATION,
        ArrowError::ComputeError(msg) if is_regex_error(msg) => code::INVALID_REGULAR_EXPRESSION,
        ArrowError::ArithmeticOverflow(_) => code::NUMERIC_OUT_OF_RANGE,
        ArrowError::ExternalError(inner) => external_sqlstate(inner.as_ref()),
        _ => code::INTERNAL,
    }
}

/// A cluster that cannot be reached is a lost connection (08006); a job
/// that failed on it keeps the SQLSTATE its message tells (a division by
/// zero on an executor is 22012, as here), else it is the cluster's own
/// failure (58000).
#[cfg(feature = "cluster")]
fn cluster_sqlstate(err: &crate::cluster::ClusterError) -> &'static str {
    use crate::cluster::ClusterError;
    if crate::cluster::is_connection_failure(err) {
        return code::CONNECTION_FAILURE;
    }
    match err {
        ClusterError::JobFailed(msg) => match execution_sqlstate(msg) {
            code::DATA_EXCEPTION if msg.to_ascii_lowercase().contains("overflow") => {
                code::NUMERIC_OUT_OF_RANGE
            }
            code::DATA_EXCEPTION => code::SYSTEM_ERROR,
            state => state,
        },
        _ => code::SYSTEM_ERROR,
    }
}

/// Planning errors are one variant with many causes; DataFusion's messages
/// are stable enough to tell them apart.
fn plan_sqlstate(msg: &str) -> &'static str {
    let lower = msg.to_ascii_lowercase();
    if lower.contains("table '") && lower.contains("not found")
        || lower.contains("table not found")
        || lower.contains("no table named")
    {
        code::UNDEFINED_TABLE
    } else if lower.contains("invalid function")
        || lower.contains("function") && lower.contains("not found")
        || lower.contains("no function matches")
    {
        code::UNDEFINED_FUNCTION
    } else if lower.contains("no field named")
        || lower.contains("column") && lower.contains("not found")
    {
        code::UNDEFINED_COLUMN
    } else if lower.contains("failed to coerce")
        || lower.contains("cannot infer common")
        || lower.contains("does not support")
        || lower.contains("cannot be cast")
    {
        code::DATATYPE_MISMATCH
    } else if lower.contains("unsupported") || lower.contains("not supported") {
        code::FEATURE_NOT_SUPPORTED
    } else {
        code::SYNTAX_ERROR
    }
}

/// A pattern that does not compile, or compiles too big (`~`, `regexp_*`).
fn is_regex_error(msg: &str) -> bool {
    let lower = msg.to_ascii_lowercase();
    lower.contains("regular expression") || lower.contains("regex parse error")
}

fn execution_sqlstate(msg: &str) -> &'static str {
    let lower = msg.to_ascii_lowercase();
    if lower.contains("divide by zero") || lower.contains("division by zero") {
        code::DIVISION_BY_ZERO
    } else if is_regex_error(msg) {
        code::INVALID_REGULAR_EXPRESSION
    } else if lower.contains("can't cast value") {
        code::NUMERIC_OUT_OF_RANGE
    } else if lower.contains("cannot cast")
        || lower.contains("cast error")
        || lower.contains("invalid input syntax")
        || lower.contains("can't parse")
        || lower.contains("unknown mark code")
    {
        code::INVALID_TEXT_REPRESENTATION
    } else if lower.contains("unrecognized configuration parameter") {
        code::UNDEFINED_OBJECT
    } else if lower.contains("scalar subquery returned more than one row") {
        code::CARDINALITY_VIOLATION
    } else {
        code::DATA_EXCEPTION
    }
}

fn external_sqlstate(err: &(dyn std::error::Error + Send + Sync + 'static)) -> &'static str {
    if let Some(df) = err.downcast_ref::<DataFusionError>() {
        return sqlstate_of(df);
    }
    #[cfg(feature = "cluster")]
    if let Some(cluster) = err.downcast_ref::<crate::cluster::ClusterError>() {
        return cluster_sqlstate(cluster);
    }
    if err
        .downcast_ref::<datafusion::sql::sqlparser::parser::ParserError>()
        .is_some()
    {
        return code::SYNTAX_ERROR;
    }
    if let Some(arrow) = err.downcast_ref::<ArrowError>() {
        return arrow_sqlstate(arrow);
    }
    // A mark code no rule knows (`mark_class('7')`) is bad input text.
    if err.downcast_ref::<sapa_udfs::mark::UnknownMark>().is_some() {
        return code::INVALID_TEXT_REPRESENTATION;
    }
    if let Some(json) = err.downcast_ref::<super::pg_json::JsonError>() {
        return match json {
            super::pg_json::JsonError::OddArguments => code::INVALID_PARAMETER_VALUE,
            super::pg_json::JsonError::NullKey { .. } => code::NULL_VALUE_NOT_ALLOWED,
        };
    }
    if let Some(super::int_vectors::VectorError::NotAnInteger(_)) = err.downcast_ref() {
        return code::INVALID_TEXT_REPRESENTATION;
    }
    if let Some(super::subquery_value::SubqueryError::MoreThanOneRow) = err.downcast_ref() {
        return code::CARDINALITY_VIOLATION;
    }
    if err
        .downcast_ref::<crate::engine::literals::InvalidBoolean>()
        .is_some()
    {
        return code::INVALID_TEXT_REPRESENTATION;
    }
    if err
        .downcast_ref::<super::pg_spellings::EscapeAtEnd>()
        .is_some()
    {
        return code::INVALID_ESCAPE_SEQUENCE;
    }
    if let Some(setting) = err.downcast_ref::<super::settings::SettingError>() {
        return setting.sqlstate();
    }
    if err
        .downcast_ref::<super::pg_stat_activity::CancelRefused>()
        .is_some()
    {
        return code::INSUFFICIENT_PRIVILEGE;
    }
    if is_regex_error(&err.to_string()) {
        return code::INVALID_REGULAR_EXPRESSION;
    }
    code::INTERNAL
}

/// A PostgreSQL `ERROR` with `code` and `message`.
pub(crate) fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message.into(),
    )))
}

/// A `FATAL` error that ends the connection (login failures).
pub(crate) fn fatal_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        code.to_string(),
        message.into(),
    )))
}

/// Gives an error coming out of `datafusion-postgres` its SQLSTATE: a
/// DataFusion error inside an `ApiError` is classified by
/// [`sqlstate_of`]; errors that already carry a code keep it.
pub(crate) fn classify(err: PgWireError) -> PgWireError {
    match err {
        PgWireError::ApiError(inner) => {
            let code = match inner.downcast_ref::<DataFusionError>() {
                Some(df) => sqlstate_of(df),
                None => external_sqlstate(inner.as_ref()),
            };
            user_error(code, message_of(inner.as_ref()))
        }
        other => other,
    }
}

/// The message a person reads: DataFusion's text without its variant
/// prefixes ("Error during planning: ").
fn message_of(err: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    let text = match err.downcast_ref::<DataFusionError>() {
        Some(df) => df.message().to_string(),
        None => err.to_string(),
    };
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn state_of(sql: &str) -> &'static str {
        let ctx = SessionContext::new();
        sapa_udfs::register_all(&ctx);
        let result = match ctx.sql(sql).await {
            Ok(df) => df.collect().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => "ok",
            Err(e) => sqlstate_of(&e),
        }
    }

    #[tokio::test]
    async fn user_mistakes_get_their_postgres_sqlstate() {
        assert_eq!(state_of("SELEC 1").await, "42601");
        assert_eq!(state_of("SELECT * FROM no_such_table").await, "42P01");
        assert_eq!(
            state_of("SELECT no_such_column FROM (SELECT 1 AS a)").await,
            "42703"
        );
        assert_eq!(state_of("SELECT no_such_function(1)").await, "42883");
        assert_eq!(state_of("SELECT 1 / 0").await, "22012");
        assert_eq!(state_of("SELECT CAST('abc' AS INT)").await, "22P02");
        assert_eq!(state_of("SELECT mark_class('7')").await, "22P02");
        assert_eq!(
            state_of("SELECT (SELECT a FROM (VALUES (1), (2)) AS t(a))").await,
            "21000"
        );
        assert_eq!(state_of("SELECT 1").await, "ok");
    }
}
