//! Replacing tables of upstream's `pg_catalog` with Sapa's own: the schema
//! that answers them, the lookups their rows need (namespace and relation
//! oids as upstream allocates them), and a builder of rows that names only
//! the columns it knows.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type, SchemaRef};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

/// Upstream's `pg_catalog` schema with some tables answered by others.
#[derive(Debug)]
struct Overridden {
    inner: Arc<dyn SchemaProvider>,
    tables: HashMap<String, Arc<dyn TableProvider>>,
}

#[async_trait]
impl SchemaProvider for Overridden {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        for name in self.tables.keys() {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if let Some(table) = self.tables.get(&name.to_ascii_lowercase()) {
            return Ok(Some(Arc::clone(table)));
        }
        self.inner.table(name).await
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.contains_key(&name.to_ascii_lowercase()) || self.inner.table_exist(name)
    }
}

/// Answers the named tables of `catalog`'s `pg_catalog` with `tables`; the
/// others as before. Call after `setup_pg_catalog` and before the catalog
/// is frozen.
pub fn replace(
    ctx: &SessionContext,
    catalog: &str,
    tables: Vec<(&str, Arc<dyn TableProvider>)>,
) -> Result<()> {
    let Some(catalog) = ctx.catalog(catalog) else {
        return plan_err!("no catalog {catalog} to replace pg_catalog tables in");
    };
    let Some(inner) = catalog.schema("pg_catalog") else {
        return plan_err!("pg_catalog is not set up");
    };
    let tables = tables
        .into_iter()
        .map(|(name, table)| (name.to_string(), table))
        .collect();
    catalog.register_schema("pg_catalog", Arc::new(Overridden { inner, tables }))?;
    Ok(())
}

/// The first column of `sql`'s rows as `i32`s (oids), in order.
async fn oids(ctx: &SessionContext, sql: &str) -> Result<Vec<i32>> {
    let mut out = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let column = cast(batch.column(0), &DataType::Int32)?;
        out.extend(column.as_primitive::<Int32Type>().iter().flatten());
    }
    Ok(out)
}

/// The oid of the `public` namespace. Upstream allocates it as
/// `pg_namespace` is first listed and keeps it from then on, so this is the
/// oid clients join on.
pub async fn public_namespace(ctx: &SessionContext) -> Result<i32> {
    let found = oids(
        ctx,
        "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public'",
    )
    .await?;
    match found.first() {
        Some(oid) => Ok(*oid),
        None => plan_err!("pg_namespace has no public schema"),
    }
}

/// The `pg_database` oid of database `name`.
pub async fn database(ctx: &SessionContext, name: &str) -> Result<i32> {
    let sql = format!(
        "SELECT oid FROM pg_catalog.pg_database WHERE datname = '{}'",
        name.replace('\'', "''")
    );
    match oids(ctx, &sql).await?.first() {
        Some(oid) => Ok(*oid),
        None => plan_err!("pg_database has no database {name}"),
    }
}

/// The oid of each relation of `public`, by name.
pub async fn public_relations(ctx: &SessionContext) -> Result<HashMap<String, i32>> {
    let sql = "SELECT c.oid, c.relname FROM pg_catalog.pg_class c \
               JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid \
               WHERE n.nspname = 'public'";
    let mut out = HashMap::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let oids = cast(batch.column(0), &DataType::Int32)?;
        let names = cast(batch.column(1), &DataType::Utf8)?;
        for (oid, name) in oids
            .as_primitive::<Int32Type>()
            .iter()
            .zip(names.as_string::<i32>().iter())
        {
            if let (Some(oid), Some(name)) = (oid, name) {
                out.insert(name.to_string(), oid);
            }
        }
    }
    Ok(out)
}

/// `count` rows of `schema`: `value(column, row)` for the columns it
/// answers, the others NULL, or their type's default where the column may
/// not be NULL.
pub fn rows(
    schema: &SchemaRef,
    count: usize,
    value: impl Fn(&str, usize) -> Option<ScalarValue>,
) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let mut values = Vec::with_capacity(count);
        for row in 0..count {
            let value = match value(field.name(), row) {
                Some(v) => v,
                None if field.is_nullable() => ScalarValue::try_from(field.data_type())?,
                None => ScalarValue::new_default(field.data_type())?,
            };
            values.push(value.cast_to(field.data_type())?);
        }
        columns.push(if values.is_empty() {
            datafusion::arrow::array::new_empty_array(field.data_type())
        } else {
            ScalarValue::iter_to_array(values)?
        });
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// One row, by column; the columns it lacks are NULL or their default.
pub type Row = HashMap<&'static str, ScalarValue>;

/// A table of `schema` holding `data`.
pub fn table_of(schema: &SchemaRef, data: &[Row]) -> Result<Arc<dyn TableProvider>> {
    let batch = rows(schema, data.len(), |column, row| {
        data.get(row).and_then(|r| r.get(column)).cloned()
    })?;
    Ok(Arc::new(MemTable::try_new(
        Arc::clone(schema),
        vec![vec![batch]],
    )?))
}

/// Upstream's `pg_settings` with a row for each of the server's fixed
/// settings it lacks, valued as `current_setting` answers.
pub async fn settings(ctx: &SessionContext) -> Result<Arc<dyn TableProvider>> {
    let upstream = ctx.table("pg_catalog.pg_settings").await?.collect().await?;
    let Some(schema) = upstream.first().map(RecordBatch::schema) else {
        return plan_err!("pg_catalog.pg_settings is empty");
    };
    let mut listed = Vec::new();
    for batch in &upstream {
        let names = cast(batch.column(0), &DataType::Utf8)?;
        listed.extend(
            names
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_string),
        );
    }
    let missing: Vec<(&str, String)> = crate::settings::FIXED_SETTINGS
        .iter()
        .filter(|name| !listed.iter().any(|l| l.eq_ignore_ascii_case(name)))
        .filter_map(|name| crate::settings::setting(name).map(|v| (*name, v)))
        .collect();
    let mut batches = upstream;
    batches.push(rows(&schema, missing.len(), |column, row| {
        let (name, value) = missing.get(row)?;
        match column {
            "name" => Some(ScalarValue::from(*name)),
            "setting" | "reset_val" | "boot_val" => Some(ScalarValue::from(value.as_str())),
            "context" => Some(ScalarValue::from("internal")),
            "source" => Some(ScalarValue::from("default")),
            _ => None,
        }
    })?);
    Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
}
