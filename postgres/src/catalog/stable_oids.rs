//! Relation and namespace OIDs that stay the same from one server start to
//! the next, as PostgreSQL's do.
//!
//! Upstream's `pg_catalog` numbers catalogs, schemas and relations from
//! 16384 as it first lists them, and it lists them in the order the catalog
//! list's hash maps yield, which differs with every map made. So `pg_class`
//! gave the same table another OID after a restart, and two scopes' sessions
//! numbered it differently; a client that keeps an OID (psql's `\d NAME`
//! sends it back in its next query) could be answered about another
//! relation. [`setup_pg_catalog`] lists everything in name order, so the
//! same relations get the same OIDs whenever the catalog is first read in
//! the same way.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::CatalogProviderList;
use datafusion::common::plan_err;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::TableType;
use datafusion::prelude::SessionContext;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::{
    PgCatalogSchemaProvider, PgCatalogStaticTables,
};

/// A catalog list as upstream's `pg_catalog` reads it, every name in order.
#[derive(Debug, Clone)]
struct InNameOrder(Arc<dyn CatalogProviderList>);

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort_unstable();
    names
}

#[async_trait]
impl CatalogInfo for InNameOrder {
    async fn catalog_names(&self) -> Result<Vec<String>, DataFusionError> {
        Ok(sorted(CatalogProviderList::catalog_names(self.0.as_ref())))
    }

    async fn schema_names(&self, catalog: &str) -> Result<Option<Vec<String>>, DataFusionError> {
        Ok(self.0.catalog(catalog).map(|c| sorted(c.schema_names())))
    }

    async fn table_names(
        &self,
        catalog: &str,
        schema: &str,
    ) -> Result<Option<Vec<String>>, DataFusionError> {
        Ok(self
            .0
            .catalog(catalog)
            .and_then(|c| c.schema(schema))
            .map(|s| sorted(s.table_names())))
    }

    async fn table_schema(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<SchemaRef>, DataFusionError> {
        self.0.table_schema(catalog, schema, table).await
    }

    async fn table_type(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<TableType>, DataFusionError> {
        self.0.table_type(catalog, schema, table).await
    }
}

/// Upstream's `setup_pg_catalog` (its functions and its `pg_catalog`
/// schema in `catalog`), with the schema reading the catalog list in name
/// order.
///
/// Upstream's own call stays, so its list of functions is not copied here;
/// its schema is then replaced, which decodes the static tables a second
/// time (about 4 ms, once per scope).
pub fn setup_pg_catalog(ctx: &SessionContext, catalog: &str) -> Result<()> {
    datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog(
        ctx,
        catalog,
        EmptyContextProvider,
    )
    .map_err(|e| *e)?;
    let Some(target) = ctx.catalog(catalog) else {
        return plan_err!("no catalog {catalog} to set pg_catalog up in");
    };
    let schema = PgCatalogSchemaProvider::try_new(
        InNameOrder(Arc::clone(ctx.state().catalog_list())),
        Arc::new(PgCatalogStaticTables::try_new()?),
        EmptyContextProvider,
    )?;
    target.register_schema("pg_catalog", Arc::new(schema))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use datafusion::arrow::array::RecordBatch;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::catalog::MemTable;

    use super::*;

    /// A session with `names` registered in this order in `public`, each an
    /// empty table of one column.
    fn session(names: &[String]) -> SessionContext {
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int32, true)]));
        for name in names {
            let table = MemTable::try_new(Arc::clone(&schema), vec![vec![]]).unwrap();
            ctx.register_table(name.as_str(), Arc::new(table)).unwrap();
        }
        ctx
    }

    async fn pg_class(ctx: &SessionContext) -> String {
        let sql = "SELECT n.nspname, c.relname, c.oid, n.oid AS nsp \
                   FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid \
                   WHERE n.nspname = 'public' ORDER BY c.relname";
        let batches: Vec<RecordBatch> = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        pretty_format_batches(&batches).unwrap().to_string()
    }

    /// Two sessions over the same relations, registered in opposite orders
    /// (each catalog list its own hash order): the same OIDs, in name order.
    #[tokio::test]
    async fn the_same_relations_get_the_same_oids_in_name_order() {
        let names: Vec<String> = (0..40).map(|i| format!("t{i:02}")).collect();
        let first = session(&names);
        let reversed: Vec<String> = names.iter().rev().cloned().collect();
        let second = session(&reversed);
        setup_pg_catalog(&first, "datafusion").unwrap();
        setup_pg_catalog(&second, "datafusion").unwrap();
        let (a, b) = (pg_class(&first).await, pg_class(&second).await);
        assert_eq!(a, b);
        let sql = "SELECT c.relname, c.oid FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid \
                   WHERE n.nspname = 'public' ORDER BY c.oid";
        let batches = first.sql(sql).await.unwrap().collect().await.unwrap();
        let ordered = pretty_format_batches(&batches).unwrap().to_string();
        let by_oid: Vec<&str> = ordered
            .lines()
            .filter_map(|l| l.split('|').nth(1).map(str::trim))
            .filter(|name| name.starts_with('t'))
            .collect();
        assert_eq!(by_oid, names.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
