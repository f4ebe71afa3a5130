//! `information_schema` as PostgreSQL clients read it.
//!
//! DataFusion's own lacks what Metabase's field sync and SQLAlchemy's
//! inspector select (`columns.udt_name`, `is_identity`, `table_constraints`,
//! `key_column_usage`, …), so the server replaces it with tables built from
//! the session's catalog when the session is prepared; the key tables come
//! from [`super::information_schema_keys`].

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

use super::information_schema_keys;
use crate::engine::{CATALOG, SCHEMA};
use sapa_postgres::catalog::pg_types::pg_type;

/// The schema name.
pub(crate) const INFORMATION_SCHEMA: &str = "information_schema";

/// Text columns, all nullable.
fn text_schema(names: &[&str]) -> Vec<Field> {
    names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect()
}

/// One table of text columns, filled row by row.
struct TextTable {
    fields: Vec<Field>,
    columns: Vec<StringBuilder>,
}

impl TextTable {
    fn new(names: &[&str]) -> TextTable {
        TextTable {
            fields: text_schema(names),
            columns: names.iter().map(|_| StringBuilder::new()).collect(),
        }
    }

    fn push(&mut self, row: &[Option<&str>]) {
        for (builder, value) in self.columns.iter_mut().zip(row) {
            builder.append_option(*value);
        }
    }

    fn finish(mut self) -> Result<Arc<MemTable>> {
        let schema = Arc::new(Schema::new(self.fields));
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

/// The rows of `tables`, `views` and `columns`, relation by relation.
struct Listing {
    tables: TextTable,
    views: TextTable,
    columns: TextTable,
    positions: Int32Builder,
}

impl Listing {
    fn new() -> Listing {
        Listing {
            tables: TextTable::new(&[
                "table_catalog",
                "table_schema",
                "table_name",
                "table_type",
                "is_insertable_into",
                "is_typed",
            ]),
            views: TextTable::new(&[
                "table_catalog",
                "table_schema",
                "table_name",
                "view_definition",
                "check_option",
                "is_updatable",
            ]),
            columns: TextTable::new(&[
                "table_catalog",
                "table_schema",
                "table_name",
                "column_name",
                "column_default",
                "is_nullable",
                "data_type",
                "udt_catalog",
                "udt_schema",
                "udt_name",
                "is_identity",
                "is_generated",
                "is_updatable",
            ]),
            positions: Int32Builder::new(),
        }
    }

    /// Adds relation `name` of `schema`.
    fn describe(&mut self, schema: &str, name: &str, table: &dyn TableProvider) {
        let kind = match table.table_type() {
            TableType::View => "VIEW",
            _ => "BASE TABLE",
        };
        self.tables.push(&[
            Some(CATALOG),
            Some(schema),
            Some(name),
            Some(kind),
            Some("NO"),
            Some("NO"),
        ]);
        if kind == "VIEW" {
            let definition = table.get_table_definition().map(str::to_string);
            self.views.push(&[
                Some(CATALOG),
                Some(schema),
                Some(name),
                definition.as_deref(),
                Some("NONE"),
                Some("NO"),
            ]);
        }
        for (i, field) in table.schema().fields().iter().enumerate() {
            let ty = pg_type(field.data_type());
            self.columns.push(&[
                Some(CATALOG),
                Some(schema),
                Some(name),
                Some(field.name()),
                None,
                Some(if field.is_nullable() { "YES" } else { "NO" }),
                Some(ty.sql_name),
                Some(CATALOG),
                Some("pg_catalog"),
                Some(ty.udt_name),
                Some("NO"),
                Some("NEVER"),
                Some("NO"),
            ]);
            self.positions
                .append_value(i32::try_from(i + 1).unwrap_or(i32::MAX));
        }
    }
}

/// Turns DataFusion's `information_schema` off in `ctx` and registers ours,
/// describing the tables and views of `public` and of every registered
/// snapshot's schema.
pub(crate) async fn register(ctx: &SessionContext) -> Result<()> {
    ctx.state_ref()
        .write()
        .config_mut()
        .options_mut()
        .catalog
        .information_schema = false;
    let catalog = ctx
        .catalog(CATALOG)
        .ok_or_else(|| DataFusionError::Plan(format!("no catalog {CATALOG}")))?;
    // `public`, then the registered snapshots' schemas (`snapshot_2024_10`).
    let mut schemas: Vec<String> = catalog
        .schema_names()
        .into_iter()
        .filter(|n| n != SCHEMA && n != "pg_catalog" && n != INFORMATION_SCHEMA)
        .collect();
    schemas.sort();
    schemas.insert(0, SCHEMA.to_string());

    let mut listing = Listing::new();
    let mut names = Vec::new();
    for schema_name in &schemas {
        let schema = catalog
            .schema(schema_name)
            .ok_or_else(|| DataFusionError::Plan(format!("no schema {schema_name}")))?;
        let mut here = schema.table_names();
        here.sort();
        for name in &here {
            if let Some(table) = schema.table(name).await? {
                listing.describe(schema_name, name, table.as_ref());
            }
        }
        if schema_name == SCHEMA {
            names = here;
        }
    }
    let Listing {
        tables,
        views,
        mut columns,
        mut positions,
    } = listing;
    // ordinal_position is an integer: splice it in after column_name.
    let columns = {
        let mut fields = columns.fields.clone();
        fields.insert(4, Field::new("ordinal_position", DataType::Int32, false));
        let schema = Arc::new(Schema::new(fields));
        let mut arrays: Vec<ArrayRef> = columns
            .columns
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        arrays.insert(4, Arc::new(positions.finish()));
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?)
    };

    let mut schemata = TextTable::new(&["catalog_name", "schema_name", "schema_owner"]);
    for schema in schemas
        .iter()
        .map(String::as_str)
        .chain(["pg_catalog", INFORMATION_SCHEMA])
    {
        schemata.push(&[Some(CATALOG), Some(schema), Some("sapa")]);
    }
    let schema = MemorySchemaProvider::new();
    schema.register_table("tables".into(), tables.finish()?)?;
    schema.register_table("views".into(), views.finish()?)?;
    schema.register_table("columns".into(), columns)?;
    schema.register_table("schemata".into(), schemata.finish()?)?;
    for (name, table) in information_schema_keys::tables(|t| names.iter().any(|n| n == t.name()))? {
        schema.register_table(name.into(), table)?;
    }
    catalog.register_schema(INFORMATION_SCHEMA, Arc::new(schema))?;
    Ok(())
}
