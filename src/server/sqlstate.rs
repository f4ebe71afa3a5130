//! Errors as PostgreSQL reports them: an error coming out of DataFusion
//! gets its SQLSTATE from [`sapa_sqlstate::of`] (errors of ours carry
//! theirs; DataFusion's are told apart there), so clients see `42P01` for a
//! missing table and not `XX000`.

use datafusion::error::DataFusionError;
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError};

pub(crate) use sapa_sqlstate::code;

/// The SQLSTATE of a DataFusion error.
pub fn sqlstate_of(err: &DataFusionError) -> &'static str {
    sapa_sqlstate::of(err)
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
