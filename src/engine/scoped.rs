//! The tables and views of one scope (SPEC §8): what a user of that scope
//! may query, and nothing else.
//!
//! Every relation of the SQL surface becomes a read-only view over the full
//! relation of the engine's session, filtered to the units of the scope —
//! and, for researchers, with `student_id` replaced by a keyed pseudonym.
//! The full relations are reachable only through those views' plans, never
//! by name, so no SQL a user writes can widen the scope: a session built
//! from [`scoped_relations`] simply has nothing else to read.

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, Int64Array};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunctionImpl, TableProvider};
use datafusion::datasource::{TableType, ViewTable};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use super::pseudonym::PSEUDONYM_UDF;
use super::views::as_of;
use super::views::modo_draw::{self, ModoDraw};
use super::{EngineError, Scope};
use crate::storage::StoredTable;

/// The units a scope sees: `None` means every unit of that level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Units {
    /// Visible regions.
    pub regions: Option<Vec<i64>>,
    /// Visible districts.
    pub districts: Option<Vec<i64>>,
    /// Visible schools.
    pub schools: Option<Vec<i64>>,
}

impl Units {
    /// Looks up the units of `scope` in `ctx`'s `regions`, `districts` and
    /// `schools`; a scope naming a unit that does not exist is an error.
    pub async fn of(ctx: &SessionContext, scope: Scope) -> Result<Units, EngineError> {
        let ids = |sql: String| async move { ids(ctx, &sql).await };
        let units = match scope {
            Scope::Ministry | Scope::Researcher => Units {
                regions: None,
                districts: None,
                schools: None,
            },
            Scope::Region(id) => {
                let regions = ids(format!(
                    "SELECT region_id FROM regions WHERE region_id = {id}"
                ));
                let districts = ids(format!(
                    "SELECT district_id FROM districts WHERE region_id = {id}"
                ));
                let schools = ids(format!(
                    "SELECT s.school_id FROM schools s JOIN districts d \
                     ON s.district_id = d.district_id WHERE d.region_id = {id}"
                ));
                Units {
                    regions: Some(regions.await?),
                    districts: Some(districts.await?),
                    schools: Some(schools.await?),
                }
            }
            Scope::District(id) => Units {
                regions: Some(Vec::new()),
                districts: Some(
                    ids(format!(
                        "SELECT district_id FROM districts WHERE district_id = {id}"
                    ))
                    .await?,
                ),
                schools: Some(
                    ids(format!(
                        "SELECT school_id FROM schools WHERE district_id = {id}"
                    ))
                    .await?,
                ),
            },
            Scope::School(id) => Units {
                regions: Some(Vec::new()),
                districts: Some(Vec::new()),
                schools: Some(
                    ids(format!(
                        "SELECT school_id FROM schools WHERE school_id = {id}"
                    ))
                    .await?,
                ),
            },
        };
        let own = match scope {
            Scope::Region(_) => &units.regions,
            Scope::District(_) => &units.districts,
            Scope::School(_) => &units.schools,
            Scope::Ministry | Scope::Researcher => return Ok(units),
        };
        if own.as_ref().is_some_and(Vec::is_empty) {
            return Err(EngineError::UnknownUnit(scope));
        }
        Ok(units)
    }

    /// Whether the scope sees the whole country.
    fn all(&self) -> bool {
        self.regions.is_none()
    }
}

/// The ids a one-column query returns, sorted.
async fn ids(ctx: &SessionContext, sql: &str) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let column = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| DataFusionError::Internal(format!("ids of {sql}: not Int64")))?;
        out.extend(column.iter().flatten());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// `column IN (ids)`, or TRUE/FALSE for every/no unit.
pub(crate) fn member(column: &str, ids: &Option<Vec<i64>>) -> Cow<'static, str> {
    match ids {
        None => "TRUE".into(),
        Some(ids) if ids.is_empty() => "FALSE".into(),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!("{column} IN ({})", list.join(", ")).into()
        }
    }
}

/// The row filter of a relation for `scope`.
fn row_filter(relation: &str, scope: Scope, units: &Units) -> Cow<'static, str> {
    // The marks and statuses carry their school's district and region:
    // the most specific column keeps the Parquet pruning by row group.
    let placed = || -> Cow<'static, str> {
        match scope {
            Scope::Region(id) => format!("region_id = {id}").into(),
            Scope::District(id) => format!("district_id = {id}").into(),
            Scope::School(id) => format!("school_id = {id}").into(),
            Scope::Ministry | Scope::Researcher => "TRUE".into(),
        }
    };
    match relation {
        "regions" => member("region_id", &units.regions),
        "districts" => member("district_id", &units.districts),
        "schools" | "classes" | "modo" => member("school_id", &units.schools),
        "enrollments" => match &units.schools {
            None => "TRUE".into(),
            Some(_) => format!(
                "class_id IN (SELECT class_id FROM classes WHERE {})",
                member("school_id", &units.schools)
            )
            .into(),
        },
        "marks" | "marks_history" | "student_status" | "school_counts" | "earlier_statuses"
        | "report_by_school" | "mark_audit" => placed(),
        // A unit outside the scope is invisible, aggregates above it
        // included: a district sees its own row, not its region's.
        "indicators" | "modo_results" | "modo_inflation" => format!(
            "(level = 'school' AND {}) OR (level = 'district' AND {}) \
             OR (level = 'region' AND {}) OR (level = 'country' AND {})",
            member("unit_id", &units.schools),
            member("unit_id", &units.districts),
            member("unit_id", &units.regions),
            units.all()
        )
        .into(),
        // Reference tables every role sees: subjects, calendar.
        _ => "TRUE".into(),
    }
}

/// Where `indicators.sql` reads the per-school counts.
const COUNTS_SOURCE: &str = "FROM school_counts";

/// `indicators` rolled up from only the school rows a visible unit pools:
/// every row whose region, district or school is one the scope sees. A
/// visible unit's row pools exactly the rows whose column of its level is
/// that unit, all of which pass, so the rows the scope's filter keeps are
/// the same as over the whole country — and a district's query rolls up
/// its few dozen schools, not the country's thousands. `None` for a scope
/// that sees everything (or if the view stops reading the counts where it
/// is expected to: then the whole rollup, filtered, as for any view).
fn pooled_indicators(units: &Units) -> Option<String> {
    if units.regions.is_none() && units.districts.is_none() && units.schools.is_none() {
        return None;
    }
    let (_, query) = super::views::VIEWS
        .iter()
        .find(|(name, _)| *name == "indicators")?;
    if query.matches(COUNTS_SOURCE).count() != 1 {
        return None;
    }
    let pooled = format!(
        "{} OR {} OR {}",
        member("region_id", &units.regions),
        member("district_id", &units.districts),
        member("school_id", &units.schools)
    );
    let query = query.replacen(
        COUNTS_SOURCE,
        &format!("FROM (SELECT * FROM school_counts WHERE {pooled}) AS school_counts"),
        1,
    );
    Some(format!("({query}\n) AS indicators"))
}

/// The relations of the SQL surface: the stored tables and the views.
fn relations() -> Vec<(&'static str, TableType)> {
    let mut all: Vec<(&'static str, TableType)> = StoredTable::ALL
        .iter()
        .filter(|t| !t.internal())
        .map(|t| (t.name(), TableType::Base))
        .collect();
    all.extend(
        super::views::VIEWS
            .iter()
            .map(|(name, _)| (*name, TableType::View)),
    );
    all
}

/// Every relation of the SQL surface as `scope` sees it, built over the
/// full relations of `base` (which must hold the tables, the views and
/// Sapa's functions). `units` are the scope's [`Units`].
pub async fn scoped_relations(
    base: &SessionContext,
    scope: Scope,
    units: &Units,
) -> Result<Vec<(String, Arc<dyn TableProvider>)>> {
    let builder = pseudonym_builder(base);
    let mut out = Vec::new();
    for (name, kind) in relations() {
        // A dataset written before a derived table existed has none.
        if !builder.table_exist(name)? {
            continue;
        }
        let schema = builder.table_provider(name).await?.schema();
        let source = match name {
            "indicators" => pooled_indicators(units),
            _ => None,
        };
        let sql = scoped_select(
            &schema,
            source.as_deref().unwrap_or(name),
            name,
            scope,
            units,
        );
        let plan = builder.sql(&sql).await?.into_unoptimized_plan();
        let provider: Arc<dyn TableProvider> = Arc::new(ScopedRelation {
            view: ViewTable::new(plan, None),
            kind,
        });
        out.push((name.to_string(), provider));
    }
    Ok(out)
}

/// Every table function as `scope` sees it. An "as of" function
/// ([`as_of`]): the function's rows computed over the full relations of
/// `base`, then filtered like the relation it is the dated form of (and
/// pseudonymised for researchers) — so a district sees its own rows of
/// `indicators_as_of(D)` exactly as it sees its rows of `indicators`.
/// `modo_draw`: the whole country's draw, its drawn schools among the
/// scope's.
pub async fn scoped_functions(
    base: &SessionContext,
    scope: Scope,
    units: &Units,
) -> Result<Vec<(&'static str, Arc<dyn TableFunctionImpl>)>> {
    let builder = pseudonym_builder(base);
    let calendar = Arc::new(as_of::quarter_ends(base).await?);
    let dated = as_of::DatedStatuses::of(base)?;
    let mut out = Vec::new();
    for def in as_of::AS_OF_FUNCTIONS {
        let source = format!("({}\n) AS dated", def.sql(dated));
        let schema = builder.table_provider(def.relation).await?.schema();
        let sql = scoped_select(&schema, &source, def.relation, scope, units);
        let template = builder.sql(&sql).await?.into_unoptimized_plan();
        out.push((
            def.name,
            as_of::AsOfFunction::new(def, template, &calendar) as Arc<dyn TableFunctionImpl>,
        ));
    }
    let schools = member("school_id", &units.schools);
    out.push((modo_draw::NAME, ModoDraw::filtered(base, &schools).await?));
    Ok(out)
}

/// A copy of `base` that alone knows the pseudonym function: users never
/// can call it (a callable one would re-identify students by guessing ids).
fn pseudonym_builder(base: &SessionContext) -> SessionContext {
    let builder = SessionContext::new_with_state(base.state());
    builder.register_udf(PSEUDONYM_UDF.as_ref().clone());
    builder
}

/// `SELECT` of every column of `schema` from `source`, with the row filter
/// of `relation` for `scope` (and pseudonyms for a researcher).
fn scoped_select(
    schema: &SchemaRef,
    source: &str,
    relation: &str,
    scope: Scope,
    units: &Units,
) -> String {
    let pseudonym = PSEUDONYM_UDF.name();
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            let quoted = format!("\"{}\"", f.name());
            if scope == Scope::Researcher && f.name() == "student_id" {
                format!("{pseudonym}({quoted}) AS {quoted}")
            } else {
                quoted
            }
        })
        .collect();
    format!(
        "SELECT {} FROM {source} WHERE {}",
        columns.join(", "),
        row_filter(relation, scope, units)
    )
}

/// A relation of a scope: a view over the full relation that still says
/// whether it is a table or a view, so catalogs (`\dt`, `\dv`) list it as
/// clients expect. It cannot be written to.
#[derive(Debug)]
struct ScopedRelation {
    view: ViewTable,
    kind: TableType,
}

#[async_trait]
impl TableProvider for ScopedRelation {
    fn schema(&self) -> SchemaRef {
        self.view.schema()
    }

    fn table_type(&self) -> TableType {
        self.kind
    }

    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        self.view.get_logical_plan()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.view.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.view.scan(state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_of_every_none_and_some_units() {
        assert_eq!(member("school_id", &None), "TRUE");
        assert_eq!(member("school_id", &Some(vec![])), "FALSE");
        assert_eq!(
            member("school_id", &Some(vec![3, 5])),
            "school_id IN (3, 5)"
        );
    }

    #[test]
    fn a_scoped_indicators_pools_only_the_rows_of_its_visible_units() {
        let district = Units {
            regions: Some(Vec::new()),
            districts: Some(vec![3]),
            schools: Some(vec![31, 32]),
        };
        let sql = pooled_indicators(&district).expect("the view reads school_counts once");
        assert!(
            sql.contains(
                "FROM (SELECT * FROM school_counts WHERE FALSE OR district_id IN (3) \
                 OR school_id IN (31, 32)) AS school_counts"
            ),
            "{sql}"
        );
        let everything = Units {
            regions: None,
            districts: None,
            schools: None,
        };
        assert_eq!(pooled_indicators(&everything), None);
    }

    /// The default arm of `row_filter` lets everything through: only the
    /// reference tables every role sees may fall into it, so a relation
    /// added to the surface without a filter fails here.
    #[test]
    fn every_relation_but_the_shared_references_is_filtered() {
        let units = Units {
            regions: Some(Vec::new()),
            districts: Some(Vec::new()),
            schools: Some(vec![7]),
        };
        for (name, _) in relations() {
            let filter = row_filter(name, Scope::School(7), &units);
            let shared = matches!(name, "subjects" | "calendar");
            assert_eq!(filter == "TRUE", shared, "{name}: {filter}");
        }
        assert_eq!(
            row_filter("mark_audit", Scope::District(3), &units),
            "district_id = 3"
        );
    }
}
