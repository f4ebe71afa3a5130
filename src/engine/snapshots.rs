//! Registered snapshots as schemas of the `sapa` catalog.
//!
//! Each snapshot ([`crate::storage::snapshot`]) is opened as an engine over
//! its own manifest, with the views of SPEC §11, and its relations
//! are registered in a schema named for it: `snapshot_2024_10.marks`,
//! `snapshot_2024_10.indicators`, … For the server, those relations are
//! first scoped ([`scoped_relations`]) exactly like the current ones, with
//! the scope's units looked up in the snapshot's own data: a district user
//! sees its schools as they were registered.

use std::sync::Arc;

use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use super::scoped::{Units, scoped_relations};
use super::{CATALOG, Engine, EngineError, EngineOptions, Scope};
use crate::storage::{DataLocation, Snapshot, StoredTable, snapshot};

/// A registered snapshot, opened: its record and a session over its
/// version holding the tables, the views and Sapa's functions.
#[derive(Clone)]
pub struct OpenSnapshot {
    /// The snapshot's record.
    pub snapshot: Snapshot,
    /// The full (unscoped) relations of its version.
    pub base: SessionContext,
}

impl std::fmt::Debug for OpenSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSnapshot")
            .field("snapshot", &self.snapshot)
            .field("session_id", &self.base.session_id())
            .finish()
    }
}

/// Opens every snapshot registered at `location`.
pub async fn open(
    location: &DataLocation,
    options: &EngineOptions,
) -> Result<Vec<OpenSnapshot>, EngineError> {
    let mut out = Vec::new();
    for (snapshot, manifest) in snapshot::list_with_manifests(location).await? {
        let base = Engine::at(location, manifest)
            .with_options(options.clone())
            .sql_session()
            .await?;
        out.push(OpenSnapshot { snapshot, base });
    }
    Ok(out)
}

/// The names of the relations of the SQL surface: the stored tables, then
/// the views.
fn relation_names() -> impl Iterator<Item = &'static str> {
    StoredTable::ALL
        .iter()
        .filter(|t| !t.internal())
        .map(|t| t.name())
        .chain(super::views::VIEWS.iter().map(|(name, _)| *name))
}

/// Registers `relations` as schema `schema` of `ctx`'s `sapa` catalog.
fn register_schema(
    ctx: &SessionContext,
    schema: &str,
    relations: Vec<(String, Arc<dyn TableProvider>)>,
) -> Result<(), EngineError> {
    let catalog = ctx
        .catalog(CATALOG)
        .ok_or_else(|| DataFusionError::Plan(format!("no catalog {CATALOG}")))?;
    let provider = MemorySchemaProvider::new();
    for (name, table) in relations {
        provider.register_table(name, table)?;
    }
    catalog.register_schema(schema, Arc::new(provider))?;
    Ok(())
}

/// Registers every snapshot's full relations in `ctx` (`sapa query`: the
/// ministry's view, nothing filtered).
pub async fn register_unscoped(
    ctx: &SessionContext,
    snapshots: &[OpenSnapshot],
) -> Result<(), EngineError> {
    for open in snapshots {
        let mut relations = Vec::new();
        for name in relation_names() {
            // A snapshot older than a derived table has none.
            if open.base.table_exist(name)? {
                relations.push((name.to_string(), open.base.table_provider(name).await?));
            }
        }
        register_schema(ctx, &open.snapshot.schema, relations)?;
    }
    Ok(())
}

/// Registers every snapshot's relations as `scope` sees them in `ctx` (a
/// scope's session of the server): the same row filters and pseudonyms as
/// the current relations, over the units the snapshot's data holds. A
/// unit the snapshot does not hold (registered before the unit existed)
/// sees empty relations there, not an error.
pub async fn register_scoped(
    ctx: &SessionContext,
    snapshots: &[OpenSnapshot],
    scope: Scope,
) -> Result<(), EngineError> {
    for open in snapshots {
        let units = match Units::of(&open.base, scope).await {
            Ok(units) => units,
            Err(EngineError::UnknownUnit(_)) => Units {
                regions: Some(Vec::new()),
                districts: Some(Vec::new()),
                schools: Some(Vec::new()),
            },
            Err(e) => return Err(e),
        };
        let relations = scoped_relations(&open.base, scope, &units).await?;
        register_schema(ctx, &open.snapshot.schema, relations)?;
    }
    Ok(())
}
