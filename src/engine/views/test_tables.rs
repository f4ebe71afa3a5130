//! Hand-made tables for tests: rows written as SQL `VALUES`, stored with
//! the exact schema of the stored table they stand for.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::storage::StoredTable;

/// Registers `table` in `ctx` holding `values` (the rows of an SQL
/// `VALUES` list, in the table's column order), split into `partitions`
/// partitions; an empty `values` gives an empty table.
pub(crate) async fn put(ctx: &SessionContext, table: StoredTable, values: &str, partitions: usize) {
    let schema = table.schema();
    let mut batches = Vec::new();
    if !values.trim().is_empty() {
        let scratch = SessionContext::new();
        let rows = scratch
            .sql(&format!("VALUES {values}"))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", table.name()))
            .collect()
            .await
            .unwrap();
        for batch in rows {
            let columns = batch
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(c, f)| cast(c, f.data_type()).unwrap())
                .collect();
            batches.push(RecordBatch::try_new(Arc::clone(&schema), columns).unwrap());
        }
    }
    // Round-robin rows into partitions, so plans run in parallel.
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions.max(1)];
    let mut next = 0;
    for batch in batches {
        let step = batch.num_rows().div_ceil(parts.len()).max(1);
        let mut offset = 0;
        while offset < batch.num_rows() {
            let len = step.min(batch.num_rows() - offset);
            let count = parts.len();
            parts[next % count].push(batch.slice(offset, len));
            next += 1;
            offset += len;
        }
    }
    let mem = MemTable::try_new(schema, parts).unwrap();
    ctx.register_table(table.name(), Arc::new(mem)).unwrap();
}

/// Registers every stored table not yet in `ctx`, empty — but
/// `school_counts`, which the views derive from the statuses.
pub(crate) async fn put_rest_empty(ctx: &SessionContext) {
    for table in StoredTable::ALL {
        if !matches!(
            table,
            StoredTable::SchoolCounts | StoredTable::MarkAudit | StoredTable::RecordedMarks
        ) && !ctx.table_exist(table.name()).unwrap()
        {
            put(ctx, table, "", 1).await;
        }
    }
}
