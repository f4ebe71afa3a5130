//! Registers a manifest's tables in a session.
//!
//! Each table is a listing table over the manifest's explicit file list
//! (never a directory listing, so files of uncommitted versions are never
//! seen), with the declared schema, so opening a dataset reads no footer;
//! a partitioned table first keeps the files of the partitions a query
//! asks for ([`PartitionedTable`]).

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::Result;
use datafusion::prelude::{SessionContext, col};

use super::partitioned::PartitionedTable;
use crate::storage::{DataLocation, Manifest, StoredTable};

/// Registers every stored table of `manifest` in `ctx` — but a table of
/// [`StoredTable::DERIVED_LATER`] the manifest predates (no entry at all):
/// `crate::engine::views::register` then derives `school_counts` from the
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
        let files = manifest.files(table);
        let provider: Arc<dyn TableProvider> = if table.partitioned() && !files.is_empty() {
            Arc::new(PartitionedTable::new(
                location.clone(),
                table.schema(),
                files.to_vec(),
            ))
        } else {
            let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
            listing_table(location, &paths, table.schema())?
        };
        ctx.register_table(table.name(), provider)?;
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
    sorted_listing_table(location, paths, schema, &[])
}

/// [`listing_table`] whose every file is sorted by `order` (ascending,
/// nulls last), which the plan may then rely on instead of sorting: say so
/// only of files written in that order, one file per table unless the
/// files' ranges do not overlap.
pub(crate) fn sorted_listing_table(
    location: &DataLocation,
    paths: &[String],
    schema: SchemaRef,
    order: &[&str],
) -> Result<Arc<dyn TableProvider>> {
    if paths.is_empty() {
        return Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?));
    }
    let urls = paths
        .iter()
        .map(|p| ListingTableUrl::parse(location.url_of(p)))
        .collect::<Result<Vec<_>>>()?;
    let mut options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    if !order.is_empty() {
        options = options.with_file_sort_order(vec![
            order.iter().map(|c| col(*c).sort(true, false)).collect(),
        ]);
    }
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}
