//! The physical plans of the statement a connection is running, kept so
//! that a slow statement can be logged with its plan and the metrics its
//! operators gathered (`EXPLAIN ANALYZE`-style; `sapa serve --log-slow`);
//! and an unordered scan of one relation planned on one partition, so it
//! answers the same rows in the same order every time (`one_partition`).
//!
//! Every session's query planner is [`RecordingPlanner`]: DataFusion's own,
//! which then hands each plan it makes to the session's [`StatementPlans`]
//! (set at login in the session's configuration). The connection loop
//! takes them after each message, so no plan — and no hash table a join
//! built — outlives its statement.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::display::DisplayableExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

/// At most this many plans are kept per message (a Query of many
/// statements); the first ones, as the work ran in that order.
const KEPT: usize = 16;

/// The plans made for the statement under way on one connection.
#[derive(Debug, Default)]
pub struct StatementPlans {
    plans: Mutex<Vec<Arc<dyn ExecutionPlan>>>,
}

impl StatementPlans {
    fn record(&self, plan: &Arc<dyn ExecutionPlan>) {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if plans.len() < KEPT {
            plans.push(Arc::clone(plan));
        }
    }

    /// The plans recorded since the last take.
    pub fn take(&self) -> Vec<Arc<dyn ExecutionPlan>> {
        std::mem::take(&mut *self.plans.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// `plans` as `EXPLAIN ANALYZE` shows them: each operator with its metrics.
pub fn render(plans: &[Arc<dyn ExecutionPlan>]) -> String {
    plans
        .iter()
        .map(|plan| {
            DisplayableExecutionPlan::with_metrics(plan.as_ref())
                .indent(true)
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `plan` reads one stored relation with no order asked for: only
/// projections, filters and limits over one table scan.
fn is_unordered_scan(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::TableScan(_) => true,
        LogicalPlan::Projection(_)
        | LogicalPlan::Filter(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::SubqueryAlias(_) => match plan.inputs().as_slice() {
            [input] => is_unordered_scan(input),
            _ => false,
        },
        _ => false,
    }
}

/// The session to plan `plan` in when it is an unordered scan of one
/// relation: the same with one partition, so its rows come in the order
/// they are stored, the same on every execution (as PostgreSQL's and
/// DuckDB's do; with two partitions a `LIMIT 2000` preview changed rows on
/// every refresh). Other plans keep their parallelism.
fn one_partition(plan: &LogicalPlan, session: &dyn Session) -> Option<SessionState> {
    if !is_unordered_scan(plan) || session.config().target_partitions() <= 1 {
        return None;
    }
    let mut state = session.as_any().downcast_ref::<SessionState>()?.clone();
    state.config_mut().options_mut().execution.target_partitions = 1;
    Some(state)
}

/// DataFusion's physical planner, recording what it plans in the session's
/// [`StatementPlans`] (if it has them).
#[derive(Debug)]
pub struct RecordingPlanner;

#[async_trait]
impl QueryPlanner for RecordingPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let planner = DefaultPhysicalPlanner::default();
        let plan = match one_partition(logical_plan, session) {
            Some(state) => planner.create_physical_plan(logical_plan, &state).await?,
            None => planner.create_physical_plan(logical_plan, session).await?,
        };
        if let Some(plans) = session.config().get_extension::<StatementPlans>() {
            plans.record(&plan);
        }
        Ok(plan)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use datafusion::execution::SessionStateBuilder;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use super::*;

    #[tokio::test]
    async fn plans_are_recorded_with_their_metrics_and_taken_once() {
        let plans = Arc::new(StatementPlans::default());
        let config = SessionConfig::new().with_extension(Arc::clone(&plans));
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_query_planner(Arc::new(RecordingPlanner))
            .build();
        let ctx = SessionContext::new_with_state(state);
        let batches = ctx
            .sql("SELECT count(*) FROM (VALUES (1), (2), (3)) AS t(x) WHERE x > 1")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(batches[0].num_rows(), 1);
        let taken = plans.take();
        assert_eq!(taken.len(), 1);
        let text = render(&taken);
        assert!(text.contains("AggregateExec"), "{text}");
        assert!(text.contains("output_rows=2"), "{text}");
        assert!(plans.take().is_empty());
    }
}
