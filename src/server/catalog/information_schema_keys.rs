//! Sapa's declared keys ([`crate::engine::keys`]) in `information_schema`:
//! `table_constraints` and `key_column_usage` (Metabase's `pk?` in its
//! field sync, SQLAlchemy's inspector), `referential_constraints` and
//! `constraint_column_usage`, as PostgreSQL fills them.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::error::Result;

use crate::engine::keys::{FOREIGN_KEYS, PRIMARY_KEYS, PrimaryKey, primary_key};
use crate::engine::{CATALOG, SCHEMA};
use crate::storage::StoredTable;
use sapa_postgres::catalog::pg_overrides::{Row, table_of};

fn schema(text: &[&str], integers: &[&str]) -> SchemaRef {
    let fields: Vec<Field> = text
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .chain(
            integers
                .iter()
                .map(|n| Field::new(*n, DataType::Int32, true)),
        )
        .collect();
    Arc::new(Schema::new(fields))
}

fn text(value: &str) -> ScalarValue {
    ScalarValue::from(value)
}

fn position(i: usize) -> ScalarValue {
    ScalarValue::from(i32::try_from(i + 1).unwrap_or(i32::MAX))
}

/// `constraint_catalog`, `constraint_schema`, `constraint_name`, and the
/// table's `table_catalog`, `table_schema`, `table_name`.
fn named(constraint: String, table: StoredTable) -> Row {
    HashMap::from([
        ("constraint_catalog", text(CATALOG)),
        ("constraint_schema", text(SCHEMA)),
        ("constraint_name", ScalarValue::from(constraint)),
        ("table_catalog", text(CATALOG)),
        ("table_schema", text(SCHEMA)),
        ("table_name", text(table.name())),
    ])
}

/// The four tables, describing the keys whose relations `present` says
/// the session holds.
pub(crate) fn tables(
    present: impl Fn(StoredTable) -> bool,
) -> Result<Vec<(&'static str, Arc<dyn TableProvider>)>> {
    let mut constraints = Vec::new();
    let mut usage = Vec::new();
    let mut referential = Vec::new();
    let mut column_usage = Vec::new();
    for key in PRIMARY_KEYS.iter().filter(|k| present(k.table)) {
        let mut row = named(key.name(), key.table);
        row.insert("constraint_type", text("PRIMARY KEY"));
        constraints.push(row);
        for (i, column) in key.columns.iter().enumerate() {
            let mut row = named(key.name(), key.table);
            row.insert("column_name", text(column));
            column_usage.push(row.clone());
            row.insert("ordinal_position", position(i));
            usage.push(row);
        }
    }
    for key in FOREIGN_KEYS
        .iter()
        .filter(|k| present(k.table) && present(k.references))
    {
        let mut row = named(key.name(), key.table);
        row.insert("constraint_type", text("FOREIGN KEY"));
        constraints.push(row);
        for (i, column) in key.columns.iter().enumerate() {
            let mut row = named(key.name(), key.table);
            row.insert("column_name", text(column));
            row.insert("ordinal_position", position(i));
            // The referenced columns are the referenced key's, in order.
            row.insert("position_in_unique_constraint", position(i));
            usage.push(row);
        }
        // PostgreSQL lists a foreign key's referenced columns here.
        for column in key.referenced_columns() {
            let mut row = named(key.name(), key.references);
            row.insert("column_name", text(column));
            column_usage.push(row);
        }
        let referenced = primary_key(key.references).map(PrimaryKey::name);
        referential.push(HashMap::from([
            ("constraint_catalog", text(CATALOG)),
            ("constraint_schema", text(SCHEMA)),
            ("constraint_name", ScalarValue::from(key.name())),
            ("unique_constraint_catalog", text(CATALOG)),
            ("unique_constraint_schema", text(SCHEMA)),
            ("unique_constraint_name", ScalarValue::from(referenced)),
            ("match_option", text("NONE")),
            ("update_rule", text("NO ACTION")),
            ("delete_rule", text("NO ACTION")),
        ]));
    }
    for row in &mut constraints {
        row.insert("is_deferrable", text("NO"));
        row.insert("initially_deferred", text("NO"));
        row.insert("enforced", text("YES"));
    }
    let names = [
        "constraint_catalog",
        "constraint_schema",
        "constraint_name",
        "table_catalog",
        "table_schema",
        "table_name",
    ];
    let table_constraints = schema(
        &[
            &names[..],
            &[
                "constraint_type",
                "is_deferrable",
                "initially_deferred",
                "enforced",
            ],
        ]
        .concat(),
        &[],
    );
    let key_column_usage = schema(
        &[&names[..], &["column_name"]].concat(),
        &["ordinal_position", "position_in_unique_constraint"],
    );
    let referential_constraints = schema(
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
        &[],
    );
    let constraint_column_usage = schema(
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
        ],
        &[],
    );
    Ok(vec![
        (
            "table_constraints",
            table_of(&table_constraints, &constraints)?,
        ),
        ("key_column_usage", table_of(&key_column_usage, &usage)?),
        (
            "referential_constraints",
            table_of(&referential_constraints, &referential)?,
        ),
        (
            "constraint_column_usage",
            table_of(&constraint_column_usage, &column_usage)?,
        ),
    ])
}
