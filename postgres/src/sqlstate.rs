//! Errors as PostgreSQL reports them: an error coming out of DataFusion
//! gets its SQLSTATE from [`sapa_sqlstate::of`] (errors of ours carry
//! theirs; DataFusion's are told apart there), so clients see `42P01` for a
//! missing table and not `XX000`.

use datafusion::error::DataFusionError;
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError};

pub use sapa_sqlstate::code;

/// The SQLSTATE of a DataFusion error.
pub fn sqlstate_of(err: &DataFusionError) -> &'static str {
    sapa_sqlstate::of(err)
}

/// A PostgreSQL `ERROR` with `code` and `message`.
pub fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message.into(),
    )))
}

/// A `FATAL` error that ends the connection (login failures).
pub fn fatal_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        code.to_string(),
        message.into(),
    )))
}

/// Gives an error coming out of `datafusion-postgres` its SQLSTATE: a
/// DataFusion error inside an `ApiError` is classified by
/// [`sqlstate_of`]; errors that already carry a code keep it.
pub fn classify(err: PgWireError) -> PgWireError {
    match err {
        PgWireError::ApiError(inner) => {
            let code = sapa_sqlstate::of_error(inner.as_ref());
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
