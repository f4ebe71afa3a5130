//! Registers a manifest's tables in a session.
//!
//! Each table is a listing table over the manifest's explicit file list
//! (never a directory listing, so files of uncommitted versions are never
//! seen), with the declared schema, so opening a dataset reads no footer.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::storage::{DataLocation, Manifest, StoredTable};

/// Registers every stored table of `manifest` in `ctx` — but a table of
/// [`StoredTable::DERIVED_LATER`] the manifest predates (no entry at all):
/// `crate::views::register` then derives `school_counts` from the
/// statuses, and the "as of" functions recompute instead of reading
/// `earlier_statuses`.
pub(crate) fn register_tables(
    ctx: &SessionContext,
    location: &DataLocation,
    manifest: &Manifest,
) -> Result<()> {
    for table in StoredTable::ALL {
        if StoredTable::DERIVED_LATER.contains(&table)
            && !manifest.tables.contains_key(table.name())
        {
            continue;
        }
        let paths: Vec<String> = manifest
            .files(table)
            .iter()
            .map(|f| f.path.clone())
            .collect();
        ctx.register_table(
            table.name(),
            listing_table(location, &paths, table.schema())?,
        )?;
    }
    Ok(())
}

/// A table over exactly the Parquet files `paths` (relative to the root),
/// with `schema`; an empty table if there are none.
pub(crate) fn listing_table(
    location: &DataLocation,
    paths: &[String],
    schema: SchemaRef,
) -> Result<Arc<dyn TableProvider>> {
    if paths.is_empty() {
        return Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?));
    }
    let urls = paths
        .iter()
        .map(|p| ListingTableUrl::parse(location.url_of(p)))
        .collect::<Result<Vec<_>>>()?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}
