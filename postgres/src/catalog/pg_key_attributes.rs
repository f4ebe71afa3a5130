//! The columns of each primary-key index in `pg_attribute`, as PostgreSQL
//! lists an index's columns: a row per key column with the index's oid as
//! `attrelid` and its place in the key as `attnum`. psqlODBC's
//! `SQLPrimaryKeys` finds a key's columns by joining them
//! (`ia.attrelid = i.indexrelid AND ta.attnum = i.indkey[ia.attnum - 1]`).
//!
//! `attrelid` and `atttypid` are `oid`s, as in PostgreSQL (upstream marks
//! them `regclass`/`regtype`): a parameter compared with them is an oid a
//! client binds from an integer (node-postgres' `attrelid = $1` was
//! refused with 22023).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, Int16Array, Int32Array, RecordBatch, UInt32Array,
};
use datafusion::arrow::compute::{cast, concat_batches, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Int16Type, Int32Type, Schema, SchemaRef};
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use datafusion_postgres::arrow_pg::datatypes::PG_OID_ALIAS_KEY;

/// A primary-key index: its oid, its table's, and the table's `attnum` of
/// each key column in key order.
pub struct KeyIndex {
    pub index: i32,
    pub table: i32,
    pub attnums: Vec<i16>,
}

/// `schema` with its `reg*` columns plain `oid`s.
fn as_oids(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| {
            let mut metadata = field.metadata().clone();
            if let Some(kind) = metadata.get_mut(PG_OID_ALIAS_KEY)
                && kind.starts_with("reg")
            {
                *kind = "oid".to_string();
            }
            field.as_ref().clone().with_metadata(metadata)
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Upstream's `pg_attribute` as it is now, with the columns of `indexes`.
pub async fn attributes(
    ctx: &SessionContext,
    indexes: &[KeyIndex],
) -> Result<Arc<dyn TableProvider>> {
    let upstream = ctx.table("pg_catalog.pg_attribute").await?;
    let theirs = Arc::new(upstream.schema().as_arrow().clone());
    let batches = upstream.collect().await?;
    let schema = as_oids(&theirs);
    let all = RecordBatch::try_new(
        Arc::clone(&schema),
        concat_batches(&theirs, &batches)?.columns().to_vec(),
    )?;
    let column = |name: &str| -> Result<ArrayRef> {
        match schema.index_of(name) {
            Ok(i) => Ok(Arc::clone(all.column(i))),
            Err(_) => plan_err!("pg_attribute has no column {name}"),
        }
    };
    let relids = cast(&column("attrelid")?, &DataType::Int32)?;
    let relids = relids.as_primitive::<Int32Type>();
    let attnums = cast(&column("attnum")?, &DataType::Int16)?;
    let attnums = attnums.as_primitive::<Int16Type>();
    let (mut rows, mut new_relids, mut new_attnums) = (Vec::new(), Vec::new(), Vec::new());
    for key in indexes {
        for (place, attnum) in (1i16..).zip(&key.attnums) {
            let found = (0..all.num_rows())
                .find(|&r| relids.value(r) == key.table && attnums.value(r) == *attnum);
            if let Some(row) = found {
                rows.push(u32::try_from(row).unwrap_or(u32::MAX));
                new_relids.push(key.index);
                new_attnums.push(place);
            }
        }
    }
    let taken = take_record_batch(&all, &UInt32Array::from(rows))?;
    let mut columns: Vec<ArrayRef> = taken.columns().to_vec();
    for (name, values) in [
        (
            "attrelid",
            Arc::new(Int32Array::from(new_relids)) as ArrayRef,
        ),
        (
            "attnum",
            Arc::new(Int16Array::from(new_attnums)) as ArrayRef,
        ),
    ] {
        let i = schema.index_of(name)?;
        columns[i] = cast(&values, schema.field(i).data_type())?;
    }
    let added = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![all, added]])?))
}
