//! The sessions connections query through.
//!
//! The engine's session over the full data is never handed to a client.
//! For each scope (SPEC §8) a session is prepared once, on first login:
//! the relations as that scope sees them ([`scoped_relations`]), in
//! `public` and in each registered snapshot's schema, Sapa's
//! functions, `pg_catalog` and `information_schema` describing only those
//! relations, the PostgreSQL functions clients call — and a catalog that
//! cannot be changed. At login a connection gets a copy of its scope's
//! state with its own settings, its own memory pool within the server's
//! budget, and `current_user` answering its user; so one client's `SET`
//! never reaches another.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;

use crate::engine::literals::analyzer_rules;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::prelude::SessionContext;
use tokio::sync::Mutex;

use crate::engine::read_only::ReadOnlyCatalogList;
use crate::engine::surface::SqlSurface;
use crate::engine::{CATALOG, Engine, EngineError, MemoryBudget, Scope};
use crate::server::catalog::information_schema;
use crate::server::catalog::pg_keys;
use crate::server::catalog::pg_proc;
use crate::server::functions::pg_key_functions;
use sapa_postgres::activity::{Activity, Viewer};
use sapa_postgres::catalog::{pg_overrides, stable_oids};
use sapa_postgres::functions::pg_functions;
use sapa_postgres::functions::pg_stat_activity::{self, CancelBackend, StatActivity};
use sapa_postgres::wire::plans::{RecordingPlanner, StatementPlans};

/// Makes the per-connection sessions of one served dataset.
pub struct SessionFactory {
    /// The relations and functions of the current version and the
    /// registered snapshots, from which each scope's session is made.
    surface: SqlSurface,
    scopes: Mutex<HashMap<Scope, SessionContext>>,
    memory: Arc<MemoryBudget>,
    /// What the server's connections are doing (`pg_stat_activity`).
    activity: Arc<Activity>,
    /// The physical rules every session adds (joins that yield; the
    /// cluster's rule under `--cluster`).
    physical_rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>>,
}

impl std::fmt::Debug for SessionFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionFactory")
            .field("surface", &self.surface)
            .field("memory", &self.memory)
            .finish()
    }
}

impl SessionFactory {
    /// Prepares the full relations of `engine`'s current version and of
    /// every registered snapshot; sessions draw their query memory from
    /// `memory`.
    pub async fn new(
        engine: &Engine,
        memory: Arc<MemoryBudget>,
    ) -> Result<SessionFactory, EngineError> {
        Ok(SessionFactory {
            surface: SqlSurface::open(engine).await?,
            scopes: Mutex::new(HashMap::new()),
            memory,
            activity: Arc::default(),
            physical_rules: engine.options().physical_rules(),
        })
    }

    /// What the connections of the sessions made here are doing.
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// The prepared session of `scope` (built on first use): fails if the
    /// scope names a unit the data does not hold.
    pub async fn scope(&self, scope: Scope) -> Result<SessionContext, EngineError> {
        let mut scopes = self.scopes.lock().await;
        if let Some(ctx) = scopes.get(&scope) {
            return Ok(ctx.clone());
        }
        let ctx = self.prepare(scope).await?;
        scopes.insert(scope, ctx.clone());
        Ok(ctx)
    }

    async fn prepare(&self, scope: Scope) -> Result<SessionContext, EngineError> {
        // The scope's relations and functions, snapshots included, before
        // the catalogs below that list them.
        let ctx = self.surface.scoped(scope).await?;
        information_schema::register(&ctx).await?;
        // OIDs in name order, so a restart keeps them.
        stable_oids::setup_pg_catalog(&ctx, CATALOG)?;
        pg_functions::register(&ctx);
        pg_key_functions::register(&ctx);
        pg_proc::register(&ctx, CATALOG).await?;
        let settings = pg_overrides::settings(&ctx).await?;
        let database = (
            CATALOG.to_string(),
            pg_overrides::database(&ctx, CATALOG).await?,
        );
        let activity = Arc::new(StatActivity::new(Arc::clone(&self.activity), database));
        pg_overrides::replace(
            &ctx,
            CATALOG,
            vec![
                ("pg_settings", settings),
                (pg_stat_activity::NAME, activity),
            ],
        )?;
        // Last: it fixes `pg_class` as the relations registered by now.
        pg_keys::register(&ctx, CATALOG).await?;
        let frozen = ReadOnlyCatalogList::wrap(Arc::clone(ctx.state().catalog_list()))?;
        let state = SessionStateBuilder::new_from_existing(ctx.state())
            .with_catalog_list(frozen)
            // No `CREATE EXTERNAL TABLE` formats: nothing may be read from
            // a path a user names.
            .with_table_factories(HashMap::new())
            .with_analyzer_rules(analyzer_rules())
            .with_query_planner(Arc::new(RecordingPlanner));
        let state = self
            .physical_rules
            .iter()
            .fold(state, |state, rule| {
                state.with_physical_optimizer_rule(Arc::clone(rule))
            })
            .build();
        Ok(SessionContext::new_with_state(state))
    }

    /// A connection's session before login: it sees nothing.
    pub fn session(&self) -> Arc<SessionContext> {
        Arc::new(SessionContext::new())
    }

    /// Turns `session` into `user`'s session in `scope`: a copy of the
    /// scope's state with its own settings and memory pool,
    /// `current_user`/`session_user` answering `user`, and
    /// `pg_stat_activity`/`pg_cancel_backend` reaching what `user` may see;
    /// the plans its statements make are recorded in the returned
    /// `StatementPlans` (`server/plans.rs`).
    pub async fn log_in(
        &self,
        session: &SessionContext,
        user: &str,
        scope: Scope,
    ) -> Result<Arc<StatementPlans>, EngineError> {
        let prepared = self.scope(scope).await?;
        let runtime = RuntimeEnvBuilder::from_runtime_env(&prepared.runtime_env())
            .with_memory_pool(self.memory.session_pool())
            .build_arc()?;
        let viewer = Viewer {
            user: user.to_string(),
            sees_all: scope == Scope::Ministry,
        };
        let plans = Arc::new(StatementPlans::default());
        let mut config = prepared.state().config().clone();
        config.set_extension(Arc::new(viewer.clone()));
        config.set_extension(Arc::clone(&plans));
        let state = SessionStateBuilder::new_from_existing(prepared.state())
            .with_runtime_env(runtime)
            .with_config(config)
            .build();
        *session.state_ref().write() = state;
        pg_functions::register_for_user(session, user);
        session.register_udf(CancelBackend::udf(Arc::clone(&self.activity), viewer));
        Ok(plans)
    }
}
