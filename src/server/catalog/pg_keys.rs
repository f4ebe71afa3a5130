//! Sapa's declared keys ([`crate::engine::keys`]) in `pg_catalog`, as
//! PostgreSQL describes a table's primary key (a `pg_constraint` row of
//! type `p` and the unique index behind it: a `pg_index` row and a
//! `pg_class` row of kind `i`) and its foreign keys (`pg_constraint` rows
//! of type `f`). pgjdbc's `getPrimaryKeys`/`getImportedKeys`/
//! `getIndexInfo`, Metabase's foreign-key sync and psql's `\d` read them.
//!
//! Upstream ships PostgreSQL's own system-catalog constraints and indexes
//! in these tables, naming relations its `pg_class` does not hold; they are
//! left out, so every row here joins to the relations a client can see.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::oid_field::{kind, oid_field};

use crate::engine::keys::{FOREIGN_KEYS, PRIMARY_KEYS, PrimaryKey};
use crate::storage::StoredTable;
use sapa_postgres::catalog::pg_key_attributes::{KeyIndex, attributes};
use sapa_postgres::catalog::pg_overrides::{self, Row, rows};

/// Oids of the primary-key indexes (`PRIMARY_KEYS[i]`'s is `+ i`), of
/// their constraints, and of the foreign keys. Above upstream's oids
/// (allocated from 16384) and Sapa's functions' (`pg_proc`, from 1 000 000).
const INDEX_OIDS: i32 = 2_000_000;
const PRIMARY_OIDS: i32 = 2_100_000;
const FOREIGN_OIDS: i32 = 2_200_000;
/// `pg_am`'s `btree`, the access method of every index here.
const BTREE: i32 = 403;

/// The oid of the index of `PRIMARY_KEYS[i]`.
fn index_oid(i: usize) -> i32 {
    INDEX_OIDS + i32::try_from(i).unwrap_or(0)
}

/// The index of `table`'s primary key in `PRIMARY_KEYS`.
fn primary_index(table: StoredTable) -> Option<usize> {
    PRIMARY_KEYS.iter().position(|k| k.table == table)
}

/// What `pg_get_indexdef` and `pg_get_constraintdef` answer, by oid.
pub(crate) struct Definitions {
    /// Index oid → `(CREATE UNIQUE INDEX …, its columns)`.
    pub(crate) indexes: HashMap<i64, (String, Vec<&'static str>)>,
    /// Constraint oid → `PRIMARY KEY (…)` / `FOREIGN KEY (…) REFERENCES …`.
    pub(crate) constraints: HashMap<i64, String>,
}

/// The definitions of every declared key, as PostgreSQL prints them.
pub(crate) static DEFINITIONS: LazyLock<Definitions> = LazyLock::new(|| {
    let mut indexes = HashMap::new();
    let mut constraints = HashMap::new();
    for (i, key) in PRIMARY_KEYS.iter().enumerate() {
        let columns = key.columns.join(", ");
        indexes.insert(
            i64::from(index_oid(i)),
            (
                format!(
                    "CREATE UNIQUE INDEX {} ON public.{} USING btree ({columns})",
                    key.name(),
                    key.table.name()
                ),
                key.columns.to_vec(),
            ),
        );
        constraints.insert(
            i64::from(PRIMARY_OIDS) + i as i64,
            format!("PRIMARY KEY ({columns})"),
        );
    }
    for (j, key) in FOREIGN_KEYS.iter().enumerate() {
        constraints.insert(
            i64::from(FOREIGN_OIDS) + j as i64,
            format!(
                "FOREIGN KEY ({}) REFERENCES {}({})",
                key.columns.join(", "),
                key.references.name(),
                key.referenced_columns().join(", ")
            ),
        );
    }
    Definitions {
        indexes,
        constraints,
    }
});

fn list(values: Vec<ScalarValue>, element: &DataType) -> ScalarValue {
    ScalarValue::List(ScalarValue::new_list_nullable(&values, element))
}

fn int2s(values: &[i16]) -> ScalarValue {
    list(
        values.iter().map(|v| ScalarValue::from(*v)).collect(),
        &DataType::Int16,
    )
}

fn list_field(name: &str, element: DataType) -> Field {
    Field::new(
        name,
        DataType::List(Arc::new(Field::new_list_field(element, true))),
        true,
    )
}

/// `pg_constraint` with PostgreSQL 16's columns; arrays as lists.
fn constraint_schema() -> SchemaRef {
    let text = |n: &str| Field::new(n, DataType::Utf8, false);
    let flag = |n: &str| Field::new(n, DataType::Boolean, false);
    Arc::new(Schema::new(vec![
        oid_field("oid", kind::OID, false),
        text("conname"),
        oid_field("connamespace", kind::OID, false),
        text("contype"),
        flag("condeferrable"),
        flag("condeferred"),
        flag("convalidated"),
        oid_field("conrelid", kind::OID, false),
        oid_field("contypid", kind::OID, false),
        oid_field("conindid", kind::OID, false),
        oid_field("conparentid", kind::OID, false),
        oid_field("confrelid", kind::OID, false),
        text("confupdtype"),
        text("confdeltype"),
        text("confmatchtype"),
        flag("conislocal"),
        Field::new("coninhcount", DataType::Int16, false),
        flag("connoinherit"),
        list_field("conkey", DataType::Int16),
        list_field("confkey", DataType::Int16),
        list_field("conpfeqop", DataType::Int32),
        list_field("conppeqop", DataType::Int32),
        list_field("conffeqop", DataType::Int32),
        list_field("confdelsetcols", DataType::Int16),
        list_field("conexclop", DataType::Int32),
        Field::new("conbin", DataType::Utf8, true),
    ]))
}

/// `pg_index` with PostgreSQL 16's columns; `int2vector`s as lists.
fn index_schema() -> SchemaRef {
    let flag = |n: &str| Field::new(n, DataType::Boolean, false);
    Arc::new(Schema::new(vec![
        oid_field("indexrelid", kind::OID, false),
        oid_field("indrelid", kind::OID, false),
        Field::new("indnatts", DataType::Int16, false),
        Field::new("indnkeyatts", DataType::Int16, false),
        flag("indisunique"),
        flag("indnullsnotdistinct"),
        flag("indisprimary"),
        flag("indisexclusion"),
        flag("indimmediate"),
        flag("indisclustered"),
        flag("indisvalid"),
        flag("indcheckxmin"),
        flag("indisready"),
        flag("indislive"),
        flag("indisreplident"),
        list_field("indkey", DataType::Int16),
        list_field("indcollation", DataType::Int32),
        list_field("indclass", DataType::Int32),
        list_field("indoption", DataType::Int16),
        Field::new("indexprs", DataType::Utf8, true),
        Field::new("indpred", DataType::Utf8, true),
    ]))
}

/// A declared key's relation as the session sees it: its oid and the
/// `attnum` (position from 1) of each column.
struct Relation {
    oid: i32,
    attnums: HashMap<String, i16>,
}

impl Relation {
    fn attnums(&self, columns: &[&str]) -> Result<Vec<i16>> {
        columns
            .iter()
            .map(|c| match self.attnums.get(*c) {
                Some(n) => Ok(*n),
                None => plan_err!("a declared key names {c}, which its relation lacks"),
            })
            .collect()
    }
}

/// The relations of `public` that declared keys name, by table.
async fn relations(ctx: &SessionContext) -> Result<HashMap<StoredTable, Relation>> {
    let oids = pg_overrides::public_relations(ctx).await?;
    let mut out = HashMap::new();
    for table in StoredTable::ALL {
        let Some(oid) = oids.get(table.name()) else {
            continue;
        };
        let schema = ctx.table_provider(table.name()).await?.schema();
        let attnums = schema
            .fields()
            .iter()
            .zip(1i16..)
            .map(|(f, n)| (f.name().clone(), n))
            .collect();
        out.insert(table, Relation { oid: *oid, attnums });
    }
    Ok(out)
}

/// The primary keys whose relation the session holds, with their index
/// in `PRIMARY_KEYS`.
fn present_keys(
    rels: &HashMap<StoredTable, Relation>,
) -> impl Iterator<Item = (usize, &'static PrimaryKey, &Relation)> {
    PRIMARY_KEYS
        .iter()
        .enumerate()
        .filter_map(|(i, k)| rels.get(&k.table).map(|r| (i, k, r)))
}

fn constraint_rows(rels: &HashMap<StoredTable, Relation>, public: i32) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    let common = |oid: i32, name: String, table: &Relation, conkey: &[i16]| -> Row {
        HashMap::from([
            ("oid", ScalarValue::from(oid)),
            ("conname", ScalarValue::from(name)),
            ("connamespace", ScalarValue::from(public)),
            ("conrelid", ScalarValue::from(table.oid)),
            ("convalidated", ScalarValue::from(true)),
            ("conislocal", ScalarValue::from(true)),
            ("connoinherit", ScalarValue::from(true)),
            ("confupdtype", ScalarValue::from(" ")),
            ("confdeltype", ScalarValue::from(" ")),
            ("confmatchtype", ScalarValue::from(" ")),
            ("conkey", int2s(conkey)),
        ])
    };
    for (i, key, table) in present_keys(rels) {
        let mut row = common(
            PRIMARY_OIDS + i32::try_from(i).unwrap_or(0),
            key.name(),
            table,
            &table.attnums(key.columns)?,
        );
        row.insert("contype", ScalarValue::from("p"));
        row.insert("conindid", ScalarValue::from(index_oid(i)));
        out.push(row);
    }
    for (j, key) in FOREIGN_KEYS.iter().enumerate() {
        let (Some(table), Some(referenced), Some(index)) = (
            rels.get(&key.table),
            rels.get(&key.references),
            primary_index(key.references),
        ) else {
            continue;
        };
        let mut row = common(
            FOREIGN_OIDS + i32::try_from(j).unwrap_or(0),
            key.name(),
            table,
            &table.attnums(key.columns)?,
        );
        row.insert("contype", ScalarValue::from("f"));
        row.insert("conindid", ScalarValue::from(index_oid(index)));
        row.insert("confrelid", ScalarValue::from(referenced.oid));
        // NO ACTION on update and delete, MATCH SIMPLE: PostgreSQL's defaults.
        row.insert("confupdtype", ScalarValue::from("a"));
        row.insert("confdeltype", ScalarValue::from("a"));
        row.insert("confmatchtype", ScalarValue::from("s"));
        row.insert(
            "confkey",
            int2s(&referenced.attnums(key.referenced_columns())?),
        );
        out.push(row);
    }
    Ok(out)
}

fn index_rows(rels: &HashMap<StoredTable, Relation>) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for (i, key, table) in present_keys(rels) {
        let attnums = table.attnums(key.columns)?;
        let width = i16::try_from(attnums.len()).unwrap_or(i16::MAX);
        let zeros = vec![0i16; attnums.len()];
        let mut row: Row = HashMap::from([
            ("indexrelid", ScalarValue::from(index_oid(i))),
            ("indrelid", ScalarValue::from(table.oid)),
            ("indnatts", ScalarValue::from(width)),
            ("indnkeyatts", ScalarValue::from(width)),
            ("indkey", int2s(&attnums)),
            ("indoption", int2s(&zeros)),
        ]);
        for flag in [
            "indisunique",
            "indisprimary",
            "indimmediate",
            "indisvalid",
            "indisready",
            "indislive",
        ] {
            row.insert(flag, ScalarValue::from(true));
        }
        out.push(row);
    }
    Ok(out)
}

/// Upstream's `pg_class` as it is now, with a row of kind `i` per
/// primary-key index and `relhasindex` set on the tables that have one.
/// The catalog is frozen after this, so what it lists no longer changes.
async fn class_table(
    ctx: &SessionContext,
    rels: &HashMap<StoredTable, Relation>,
    public: i32,
) -> Result<Arc<dyn TableProvider>> {
    let upstream = ctx.table("pg_catalog.pg_class").await?.collect().await?;
    let Some(schema) = upstream.first().map(RecordBatch::schema) else {
        return plan_err!("pg_catalog.pg_class is empty");
    };
    let indexed: HashSet<i32> = present_keys(rels).map(|(_, _, r)| r.oid).collect();
    let mut batches = Vec::with_capacity(upstream.len() + 1);
    for batch in upstream {
        batches.push(with_indexes_flagged(&batch, &indexed)?);
    }
    let keys: Vec<(usize, &PrimaryKey)> = present_keys(rels).map(|(i, k, _)| (i, k)).collect();
    batches.push(rows(&schema, keys.len(), |column, row| {
        let (i, key) = keys.get(row)?;
        Some(match column {
            "oid" | "relfilenode" => ScalarValue::from(index_oid(*i)),
            "relname" => ScalarValue::from(key.name()),
            "relnamespace" => ScalarValue::from(public),
            "relam" => ScalarValue::from(BTREE),
            "relkind" => ScalarValue::from("i"),
            "relpersistence" => ScalarValue::from("p"),
            "relreplident" => ScalarValue::from("n"),
            "relnatts" => ScalarValue::from(i16::try_from(key.columns.len()).unwrap_or(0)),
            "relpages" => ScalarValue::from(1i32),
            "relispopulated" => ScalarValue::from(true),
            "relpartbound" => ScalarValue::from(""),
            _ => return None,
        })
    })?);
    Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
}

/// `batch` of `pg_class` with `relhasindex` true for the `indexed` oids
/// (psql's `\d` looks for indexes only when it is).
fn with_indexes_flagged(batch: &RecordBatch, indexed: &HashSet<i32>) -> Result<RecordBatch> {
    let schema = batch.schema();
    let (Ok(oid), Ok(flag)) = (schema.index_of("oid"), schema.index_of("relhasindex")) else {
        return plan_err!("pg_class lacks oid or relhasindex");
    };
    let oids = batch.column(oid).as_primitive_opt::<Int32Type>();
    let flags = batch.column(flag).as_boolean_opt();
    let (Some(oids), Some(flags)) = (oids, flags) else {
        return plan_err!("pg_class.oid or relhasindex has an unexpected type");
    };
    let flagged: BooleanArray = (0..batch.num_rows())
        .map(|row| {
            Some(
                (flags.is_valid(row) && flags.value(row))
                    || (oids.is_valid(row) && indexed.contains(&oids.value(row))),
            )
        })
        .collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns[flag] = Arc::new(flagged);
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Replaces `pg_constraint`, `pg_index` and `pg_class` of `catalog`'s
/// `pg_catalog` with tables describing the declared keys of the relations
/// `ctx` holds. Call once every relation and schema is registered, before
/// the catalog is frozen.
pub(crate) async fn register(ctx: &SessionContext, catalog: &str) -> Result<()> {
    let public = pg_overrides::public_namespace(ctx).await?;
    let rels = relations(ctx).await?;
    let constraints =
        pg_overrides::table_of(&constraint_schema(), &constraint_rows(&rels, public)?)?;
    let indexes = pg_overrides::table_of(&index_schema(), &index_rows(&rels)?)?;
    let classes = class_table(ctx, &rels, public).await?;
    let mut keys = Vec::new();
    for (i, key, table) in present_keys(&rels) {
        keys.push(KeyIndex {
            index: index_oid(i),
            table: table.oid,
            attnums: table.attnums(key.columns)?,
        });
    }
    let attributes = attributes(ctx, &keys).await?;
    pg_overrides::replace(
        ctx,
        catalog,
        vec![
            ("pg_constraint", constraints),
            ("pg_index", indexes),
            ("pg_class", classes),
            ("pg_attribute", attributes),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_read_as_postgresql_prints_them() {
        let schools = primary_index(StoredTable::Schools).unwrap_or(0);
        assert_eq!(
            DEFINITIONS.indexes[&i64::from(index_oid(schools))].0,
            "CREATE UNIQUE INDEX schools_pkey ON public.schools USING btree (school_id)"
        );
        let calendar = primary_index(StoredTable::Calendar).unwrap_or(0);
        assert_eq!(
            DEFINITIONS.constraints[&(i64::from(PRIMARY_OIDS) + calendar as i64)],
            "PRIMARY KEY (academic_year, period)"
        );
        assert_eq!(
            DEFINITIONS.constraints[&i64::from(FOREIGN_OIDS)],
            "FOREIGN KEY (region_id) REFERENCES regions(region_id)"
        );
    }

    #[test]
    fn empty_tables_have_their_schemas() {
        for schema in [constraint_schema(), index_schema()] {
            let batch = rows(&schema, 0, |_, _| None).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(batch.num_rows(), 0);
        }
    }
}
