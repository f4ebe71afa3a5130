//! The sessions connections query through.
//!
//! One base session is prepared when the server starts: the stored tables,
//! the report views, Sapa's functions, `pg_catalog` and the PostgreSQL
//! functions clients call. Each connection gets a copy of its state — its
//! own settings and functions, the same tables and the same memory pool —
//! so a `SET` stays in the connection that ran it.

use std::sync::Arc;

use datafusion::prelude::SessionContext;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog;

use super::{information_schema, pg_functions};
use crate::engine::{CATALOG, Engine, EngineError};

/// Makes the per-connection sessions of one served dataset.
#[derive(Clone)]
pub struct SessionFactory {
    base: SessionContext,
}

impl std::fmt::Debug for SessionFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionFactory")
            .field("session_id", &self.base.session_id())
            .finish()
    }
}

impl SessionFactory {
    /// Prepares the base session over `engine`'s current version.
    pub async fn new(engine: &Engine) -> Result<SessionFactory, EngineError> {
        let base = engine.session_context()?;
        crate::views::register(&base).await?;
        information_schema::register(&base).await?;
        setup_pg_catalog(&base, CATALOG, EmptyContextProvider).map_err(|e| *e)?;
        pg_functions::register(&base);
        Ok(SessionFactory { base })
    }

    /// A new session for a connection: a copy of the base session's state
    /// (its own settings and functions; the same tables and memory pool).
    /// Login registers the user's functions in it
    /// ([`SessionFactory::log_in`]).
    pub fn session(&self) -> Arc<SessionContext> {
        Arc::new(SessionContext::new_with_state(self.base.state()))
    }

    /// Makes `current_user`/`session_user` of `session` answer `user`.
    pub fn log_in(session: &SessionContext, user: &str) {
        pg_functions::register_for_user(session, user);
    }
}
