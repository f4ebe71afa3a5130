//! SQLSTATE, the SQL standard's five-character error code, for every
//! error a query can raise in Sapa.
//!
//! An error type of ours says its own code by implementing [`SqlState`] and
//! travels through DataFusion as a [`Coded`] error, so the PostgreSQL front
//! end reads the code instead of guessing it, and a new error type cannot
//! silently become `XX000`. DataFusion's own errors carry no code: [`of`]
//! tells them apart by variant and, where one variant has many causes, by
//! DataFusion's message text (the only place that reads text).
//!
//! This crate sits below the domain functions, the engine and the wire
//! alike; it knows DataFusion's errors and nothing of Sapa.

use std::error::Error;
use std::fmt;

use datafusion::arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;

/// The SQLSTATEs Sapa raises, by their PostgreSQL condition names.
pub mod code {
    pub const SYNTAX_ERROR: &str = "42601";
    pub const UNDEFINED_TABLE: &str = "42P01";
    pub const UNDEFINED_COLUMN: &str = "42703";
    pub const UNDEFINED_FUNCTION: &str = "42883";
    pub const UNDEFINED_OBJECT: &str = "42704";
    pub const AMBIGUOUS_COLUMN: &str = "42702";
    pub const DUPLICATE_OBJECT: &str = "42710";
    pub const DATATYPE_MISMATCH: &str = "42804";
    pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
    pub const DIVISION_BY_ZERO: &str = "22012";
    pub const NUMERIC_OUT_OF_RANGE: &str = "22003";
    pub const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";
    pub const INVALID_REGULAR_EXPRESSION: &str = "2201B";
    pub const DATA_EXCEPTION: &str = "22000";
    pub const NULL_VALUE_NOT_ALLOWED: &str = "22004";
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    pub const CARDINALITY_VIOLATION: &str = "21000";
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    pub const OUT_OF_MEMORY: &str = "53200";
    pub const TOO_MANY_CONNECTIONS: &str = "53300";
    pub const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
    pub const STATEMENT_TOO_COMPLEX: &str = "54001";
    pub const TOO_MANY_COLUMNS: &str = "54011";
    pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
    pub const INVALID_AUTHORIZATION: &str = "28000";
    pub const INVALID_PASSWORD: &str = "28P01";
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    pub const CONNECTION_FAILURE: &str = "08006";
    pub const NO_ACTIVE_TRANSACTION: &str = "25P01";
    pub const IN_FAILED_TRANSACTION: &str = "25P02";
    pub const INVALID_SAVEPOINT: &str = "3B001";
    pub const QUERY_CANCELED: &str = "57014";
    pub const INVALID_CURSOR_NAME: &str = "34000";
    pub const DUPLICATE_CURSOR: &str = "42P03";
    pub const INVALID_ESCAPE_SEQUENCE: &str = "22025";
    pub const CANT_CHANGE_RUNTIME_PARAM: &str = "55P02";
    pub const OBJECT_NOT_IN_PREREQUISITE_STATE: &str = "55000";
    pub const OBJECT_IN_USE: &str = "55006";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const IO_ERROR: &str = "58030";
    pub const SYSTEM_ERROR: &str = "58000";
    pub const INTERNAL: &str = "XX000";
}

/// An error that knows its SQLSTATE.
pub trait SqlState: Error + Send + Sync + Sized + 'static {
    /// The error's SQLSTATE, one of [`code`].
    fn sqlstate(&self) -> &'static str;

    /// The error as DataFusion carries it: [`Coded`], inside
    /// [`DataFusionError::External`].
    fn into_datafusion(self) -> DataFusionError {
        DataFusionError::External(Box::new(Coded::new(self)))
    }
}

/// An error with its SQLSTATE, as it travels inside DataFusion's errors.
/// It reads as the error it holds.
#[derive(Debug)]
pub struct Coded {
    code: &'static str,
    error: Box<dyn Error + Send + Sync>,
}

impl Coded {
    /// `error` with the code it says.
    pub fn new<E: SqlState>(error: E) -> Coded {
        Coded {
            code: error.sqlstate(),
            error: Box::new(error),
        }
    }

    /// The SQLSTATE.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The error held, to downcast to its type.
    pub fn error(&self) -> &(dyn Error + Send + Sync + 'static) {
        self.error.as_ref()
    }
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl Error for Coded {
    // Transparent, as the error held: its Display is already this one's.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error.source()
    }
}

/// The SQLSTATE of a DataFusion error.
pub fn of(err: &DataFusionError) -> &'static str {
    match err {
        DataFusionError::Context(context, _) if context == "Invalid regex" => {
            code::INVALID_REGULAR_EXPRESSION
        }
        DataFusionError::Context(_, inner) => of(inner),
        DataFusionError::Shared(inner) => of(inner),
        DataFusionError::Diagnostic(_, inner) => of(inner),
        DataFusionError::Collection(errs) => errs.first().map_or(code::INTERNAL, of),
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
        DataFusionError::Execution(msg) => of_message(msg),
        DataFusionError::External(inner) => of_error(inner.as_ref()),
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
        ArrowError::ExternalError(inner) => of_error(inner.as_ref()),
        _ => code::INTERNAL,
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

/// The SQLSTATE an execution error's message tells: DataFusion's own, or
/// one that crossed a process boundary as text (a Ballista job's failure).
pub fn of_message(msg: &str) -> &'static str {
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

/// The SQLSTATE of any error a query can end with: one of ours ([`Coded`]),
/// DataFusion's, Arrow's or the SQL parser's.
pub fn of_error(err: &(dyn Error + Send + Sync + 'static)) -> &'static str {
    if let Some(coded) = err.downcast_ref::<Coded>() {
        return coded.code();
    }
    if let Some(df) = err.downcast_ref::<DataFusionError>() {
        return of(df);
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
    if is_regex_error(&err.to_string()) {
        return code::INVALID_REGULAR_EXPRESSION;
    }
    code::INTERNAL
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    async fn state_of(sql: &str) -> &'static str {
        let ctx = SessionContext::new();
        let result = match ctx.sql(sql).await {
            Ok(df) => df.collect().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => "ok",
            Err(e) => of(&e),
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
        assert_eq!(
            state_of("SELECT (SELECT a FROM (VALUES (1), (2)) AS t(a))").await,
            "21000"
        );
        assert_eq!(state_of("SELECT 1").await, "ok");
    }
}
