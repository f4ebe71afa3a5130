//! Catalogs that cannot be changed from SQL.
//!
//! The sessions of a scope share one catalog; `CREATE VIEW`, `CREATE
//! EXTERNAL TABLE`, `DROP` and the like would change it for every session
//! (or reach past the scope). The server refuses such statements before
//! they are planned; these wrappers make the catalog itself refuse too.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result};

fn refused(what: &str) -> DataFusionError {
    DataFusionError::Plan(format!("Sapa is read-only: cannot {what}"))
}

/// A catalog list whose catalogs cannot be added or replaced.
#[derive(Debug)]
pub struct ReadOnlyCatalogList {
    inner: Arc<dyn CatalogProviderList>,
}

impl ReadOnlyCatalogList {
    /// `inner`, with every catalog and schema in it made read-only.
    pub fn wrap(inner: Arc<dyn CatalogProviderList>) -> Result<Arc<ReadOnlyCatalogList>> {
        for name in inner.catalog_names() {
            if let Some(catalog) = inner.catalog(&name) {
                let frozen = ReadOnlyCatalog::wrap(catalog)?;
                inner.register_catalog(name, frozen);
            }
        }
        Ok(Arc::new(ReadOnlyCatalogList { inner }))
    }
}

impl CatalogProviderList for ReadOnlyCatalogList {
    fn register_catalog(
        &self,
        _name: String,
        _catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        // The trait gives no way to refuse: the catalog is simply not added.
        None
    }

    fn catalog_names(&self) -> Vec<String> {
        self.inner.catalog_names()
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        self.inner.catalog(name)
    }
}

/// A catalog whose schemas cannot be added, replaced or dropped.
#[derive(Debug)]
struct ReadOnlyCatalog {
    inner: Arc<dyn CatalogProvider>,
}

impl ReadOnlyCatalog {
    fn wrap(inner: Arc<dyn CatalogProvider>) -> Result<Arc<dyn CatalogProvider>> {
        for name in inner.schema_names() {
            if let Some(schema) = inner.schema(&name) {
                inner.register_schema(&name, Arc::new(ReadOnlySchema { inner: schema }))?;
            }
        }
        Ok(Arc::new(ReadOnlyCatalog { inner }))
    }
}

impl CatalogProvider for ReadOnlyCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.inner.schema_names()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.inner.schema(name)
    }

    fn register_schema(
        &self,
        name: &str,
        _schema: Arc<dyn SchemaProvider>,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        Err(refused(&format!("create schema {name}")))
    }

    fn deregister_schema(
        &self,
        name: &str,
        _cascade: bool,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        Err(refused(&format!("drop schema {name}")))
    }
}

/// A schema whose tables cannot be added, replaced or dropped.
#[derive(Debug)]
struct ReadOnlySchema {
    inner: Arc<dyn SchemaProvider>,
}

#[async_trait]
impl SchemaProvider for ReadOnlySchema {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        self.inner.table(name).await
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }

    fn register_table(
        &self,
        name: String,
        _table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        Err(refused(&format!("create table {name}")))
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Err(refused(&format!("drop table {name}")))
    }
}
