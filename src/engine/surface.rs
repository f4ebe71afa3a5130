//! The SQL surface users query (SPEC §11), as the engine hands it out.
//!
//! [`SqlSurface::open`] prepares, once, the full relations of a dataset's
//! current version and of every registered snapshot, each with the views,
//! the "as of" functions and `modo_draw` registered. From it come the
//! sessions callers query: [`SqlSurface::unscoped`], the ministry's
//! (`sapa query`, reports), and [`SqlSurface::scoped`], a new session with
//! the relations and functions one scope (SPEC §8) sees, in `public` and in
//! each snapshot's schema. What a PostgreSQL client needs besides
//! (`pg_catalog`, settings, a frozen catalog) is the server's to add.

use datafusion::prelude::SessionContext;

use super::checked_sum::checked_sum;
use super::scoped::{Units, scoped_functions, scoped_relations};
use super::snapshots::{self, OpenSnapshot};
use super::{Engine, EngineError, Scope};

/// The full relations of a dataset's current version and its snapshots.
pub struct SqlSurface {
    base: SessionContext,
    snapshots: Vec<OpenSnapshot>,
}

impl std::fmt::Debug for SqlSurface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlSurface")
            .field("session_id", &self.base.session_id())
            .field("snapshots", &self.snapshots)
            .finish()
    }
}

impl SqlSurface {
    /// The surface of `engine`'s version and of every snapshot registered
    /// at its location.
    pub async fn open(engine: &Engine) -> Result<SqlSurface, EngineError> {
        let base = engine.sql_session().await?;
        let snapshots = snapshots::open(engine.location(), engine.options()).await?;
        Ok(SqlSurface { base, snapshots })
    }

    /// The ministry's session: the full relations, and every snapshot's as
    /// a schema of its own (`snapshot_2024_10`).
    pub async fn unscoped(self) -> Result<SessionContext, EngineError> {
        snapshots::register_unscoped(&self.base, &self.snapshots).await?;
        Ok(self.base)
    }

    /// A new session with what `scope` sees: the relations filtered to its
    /// units (and pseudonymised for researchers), the "as of" functions and
    /// `modo_draw` likewise, each snapshot's relations in its schema, and
    /// Sapa's functions. Fails if the scope names a unit the data does not
    /// hold.
    pub async fn scoped(&self, scope: Scope) -> Result<SessionContext, EngineError> {
        let units = Units::of(&self.base, scope).await?;
        let relations = scoped_relations(&self.base, scope, &units).await?;
        let config = self.base.state().config().clone();
        let ctx = SessionContext::new_with_config_rt(config, self.base.runtime_env());
        for (name, provider) in relations {
            ctx.register_table(name.as_str(), provider)?;
        }
        for (name, function) in scoped_functions(&self.base, scope, &units).await? {
            ctx.register_udtf(name, function);
        }
        snapshots::register_scoped(&ctx, &self.snapshots, scope).await?;
        sapa_udfs::register_all(&ctx);
        ctx.register_udaf(checked_sum());
        Ok(ctx)
    }
}
