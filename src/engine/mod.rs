//! The query engine over a stored dataset: a DataFusion `SessionContext`
//! with a bounded, spilling memory pool, Sapa's functions, and every table
//! of the current version registered ([`Engine::session_context`]); with
//! the whole SQL surface of SPEC §11 — the views, "as of" functions and
//! `modo_draw` of [`views`] — registered too ([`Engine::sql_session`]).
//!
//! What lives here: the catalog of stored tables (`catalog`), the status
//! queries materialised at ingest (`status`, `earlier_statuses`, `audit`),
//! scopes and what each sees (`scope`, `scoped`, `pseudonym`, `snapshots`),
//! the sessions handed out per scope ([`surface`]), and the rules every
//! session plans with (`literals`, `checked`, `checked_sum`, `memory`,
//! `read_only`, `yielding`, `partitioned`). It knows nothing of the wire.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use sapa::engine::Engine;
//! use sapa::storage::DataLocation;
//!
//! let engine = Engine::open(&DataLocation::local("data")?).await?;
//! let ctx = engine.sql_session().await?;
//! ctx.sql("SELECT status, count(*) FROM student_status GROUP BY status").await?.show().await?;
//! # Ok(()) }
//! ```

pub mod audit;
pub(crate) mod catalog;
pub mod checked;
pub mod checked_sum;
pub mod earlier_statuses;
pub mod keys;
pub mod literals;
pub mod memory;
mod partitioned;
pub(crate) mod pseudonym;
pub mod read_only;
pub mod scope;
pub mod scoped;
pub mod snapshots;
pub mod status;
pub mod surface;
pub mod views;
pub mod yielding;

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::storage::{DataLocation, Manifest, StorageError, manifest};

pub use memory::MemoryBudget;
pub use scope::{Scope, ScopeParseError};
pub use status::{SCHOOL_COUNT_CHANGES_SQL, SCHOOL_COUNTS_SQL, STUDENT_STATUS_SQL};

/// The catalog every table and view lives in (PostgreSQL's database name).
pub const CATALOG: &str = "sapa";
/// The schema every table and view lives in.
pub const SCHEMA: &str = "public";

/// Default memory a session may use before operators spill to disk.
pub const DEFAULT_MEMORY_LIMIT: usize = 2 << 30;

/// What can go wrong opening or querying a dataset.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The location holds no committed dataset.
    #[error("no Sapa dataset at {0} (run `sapa ingest` or `sapa generate` first)")]
    NoDataset(String),
    /// Reading the dataset's metadata failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A scope names a region, district or school the data does not hold.
    #[error("the scope {0} names a unit the data does not hold")]
    UnknownUnit(Scope),
    /// DataFusion failed.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
}

/// How sessions are set up.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Bytes of memory a session may use; operators that can spill (sorts,
    /// aggregations, joins that support it) spill beyond it.
    pub memory_limit: usize,
    /// Where spill files go (the OS temporary directory if `None`).
    pub spill_dir: Option<PathBuf>,
    /// Parallelism of a query (DataFusion's default, the CPU count, if `None`).
    pub target_partitions: Option<usize>,
    /// Where plans run when not here (`--cluster`): `None` runs every plan
    /// in this process.
    pub remote: Option<RemoteExecution>,
}

/// Running plans elsewhere: a last physical optimizer rule that hands the
/// plans it picks to another engine, and the session options such plans
/// need (set before planning, so every plan is made with them).
#[derive(Debug, Clone)]
pub struct RemoteExecution {
    /// The rule, run after every other physical optimizer rule.
    pub rule: Arc<dyn PhysicalOptimizerRule + Send + Sync>,
    /// `(key, value)` session options, as `SET key = value` would.
    pub settings: Vec<(String, String)>,
}

impl EngineOptions {
    /// `config` with the options of [`EngineOptions::remote`].
    pub fn configure(&self, mut config: SessionConfig) -> Result<SessionConfig, EngineError> {
        if let Some(remote) = &self.remote {
            for (key, value) in &remote.settings {
                config.options_mut().set(key, value)?;
            }
        }
        Ok(config)
    }

    /// The physical optimizer rules Sapa adds after DataFusion's.
    pub fn physical_rules(&self) -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
        let mut rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> =
            vec![Arc::new(yielding::YieldingJoins)];
        if let Some(remote) = &self.remote {
            rules.push(Arc::clone(&remote.rule));
        }
        rules
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            memory_limit: DEFAULT_MEMORY_LIMIT,
            spill_dir: None,
            target_partitions: None,
            remote: None,
        }
    }
}

/// One version of a dataset, ready to be queried.
#[derive(Debug, Clone)]
pub struct Engine {
    location: DataLocation,
    manifest: Manifest,
    options: EngineOptions,
}

impl Engine {
    /// Opens the current version of the dataset at `location`.
    pub async fn open(location: &DataLocation) -> Result<Engine, EngineError> {
        match manifest::read_current(location).await? {
            Some(manifest) => Ok(Engine::at(location, manifest)),
            None => Err(EngineError::NoDataset(location.display())),
        }
    }

    /// The engine over a given manifest (committed or about to be).
    pub fn at(location: &DataLocation, manifest: Manifest) -> Engine {
        Engine {
            location: location.clone(),
            manifest,
            options: EngineOptions::default(),
        }
    }

    /// Replaces the session options.
    pub fn with_options(mut self, options: EngineOptions) -> Engine {
        self.options = options;
        self
    }

    /// The version's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The dataset's location.
    pub fn location(&self) -> &DataLocation {
        &self.location
    }

    /// The session options.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// A fresh session: bounded memory pool with spilling, Sapa's functions
    /// (`sapa_udfs::register_all`), and every stored table registered under
    /// its SQL name (`regions`, …, `marks`, `marks_history`, `student_status`).
    pub fn session_context(&self) -> Result<SessionContext, EngineError> {
        let mut disk = DiskManagerBuilder::default();
        if let Some(dir) = &self.options.spill_dir {
            disk = disk.with_mode(DiskManagerMode::Directories(vec![dir.clone()]));
        }
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(self.options.memory_limit)))
            .with_disk_manager_builder(disk)
            .build_arc()?;
        runtime.register_object_store(
            self.location.store_url().as_ref(),
            Arc::clone(self.location.store()),
        );
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema(CATALOG, SCHEMA);
        if let Some(n) = self.options.target_partitions {
            config = config.with_target_partitions(n.max(1));
        }
        let config = self.options.configure(config)?;
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_analyzer_rules(literals::analyzer_rules());
        for rule in self.options.physical_rules() {
            state = state.with_physical_optimizer_rule(rule);
        }
        let state = state.build();
        let ctx = SessionContext::new_with_state(state);
        sapa_udfs::register_all(&ctx);
        ctx.register_udaf(checked_sum::checked_sum());
        catalog::register_tables(&ctx, &self.location, &self.manifest)?;
        Ok(ctx)
    }

    /// [`Engine::session_context`] with the rest of the SQL surface of
    /// SPEC §11 registered: the views, the "as of" functions and
    /// `modo_draw` ([`views::register`]); the full relations, unscoped.
    pub async fn sql_session(&self) -> Result<SessionContext, EngineError> {
        let ctx = self.session_context()?;
        views::register(&ctx).await?;
        Ok(ctx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::storage::StoredTable;

    #[tokio::test]
    async fn an_empty_location_has_no_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let loc = DataLocation::local(dir.path()).unwrap();
        let err = Engine::open(&loc).await.unwrap_err();
        assert!(matches!(err, EngineError::NoDataset(_)), "{err}");
    }

    #[tokio::test]
    async fn every_table_is_registered_and_the_status_query_has_the_stored_columns() {
        let dir = tempfile::tempdir().unwrap();
        let loc = DataLocation::local(dir.path()).unwrap();
        let ctx = Engine::at(&loc, Manifest::new(0, None))
            .session_context()
            .unwrap();
        for table in StoredTable::ALL {
            if StoredTable::DERIVED_LATER.contains(&table) {
                // Not in an empty manifest (the views derive school_counts,
                // checked below).
                assert!(!ctx.table_exist(table.name()).unwrap());
                continue;
            }
            let df = ctx.table(table.name()).await.unwrap();
            let names: Vec<&String> = df.schema().fields().iter().map(|f| f.name()).collect();
            let expected = table.schema();
            let expected: Vec<&String> = expected.fields().iter().map(|f| f.name()).collect();
            assert_eq!(names, expected, "{}", table.name());
        }
        let df = ctx.sql(STUDENT_STATUS_SQL).await.unwrap();
        let names: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let stored: Vec<String> = StoredTable::StudentStatus
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, stored);
        assert_eq!(df.count().await.unwrap(), 0);
        let counts = ctx.sql(SCHOOL_COUNTS_SQL).await.unwrap();
        let names: Vec<&String> = counts.schema().fields().iter().map(|f| f.name()).collect();
        let expected = StoredTable::SchoolCounts.schema();
        let expected: Vec<&String> = expected.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, expected);
    }
}
