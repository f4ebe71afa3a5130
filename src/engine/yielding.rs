//! Joins that give their thread back.
//!
//! A join can compute for a long time from rows it already holds: a cross
//! join pairs each incoming batch with every buffered row, and a nested
//! loop join whose filter keeps nothing loops over such pairs without ever
//! returning. While it does, its task never reaches the scheduler, so a
//! cancelled, timed-out or abandoned statement (its stream dropped, its
//! tasks aborted) kept computing for as long as the whole query would
//! have: measured, a triple cross join ran on for minutes after its
//! `statement_timeout`. DataFusion makes its scans cooperative (they spend
//! tokio's per-task budget); this rule does the same above every join, so
//! the task yields every so many batches and an abort takes effect there.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, PiecewiseMergeJoinExec, SortMergeJoinExec,
    SymmetricHashJoinExec,
};

/// Wraps every join in a [`CooperativeExec`]; runs after DataFusion's own
/// physical rules.
#[derive(Debug, Default)]
pub struct YieldingJoins;

fn is_join(plan: &dyn ExecutionPlan) -> bool {
    plan.is::<CrossJoinExec>()
        || plan.is::<NestedLoopJoinExec>()
        || plan.is::<HashJoinExec>()
        || plan.is::<SortMergeJoinExec>()
        || plan.is::<SymmetricHashJoinExec>()
        || plan.is::<PiecewiseMergeJoinExec>()
}

impl PhysicalOptimizerRule for YieldingJoins {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(if is_join(node.as_ref()) {
                Transformed::yes(Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>)
            } else {
                Transformed::no(node)
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "YieldingJoins"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use datafusion::execution::SessionStateBuilder;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::SessionContext;

    use super::*;

    const THREE_WAY: &str = "SELECT count(*) FROM generate_series(1, 3) a \
        CROSS JOIN generate_series(1, 4) b JOIN generate_series(1, 5) c ON a.value + b.value < c.value";

    #[tokio::test]
    async fn every_join_is_wrapped_and_nothing_else() {
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(YieldingJoins))
            .build();
        let ctx = SessionContext::new_with_state(state);
        let plan = ctx
            .sql(THREE_WAY)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let shown = displayable(plan.as_ref()).indent(false).to_string();
        let lines: Vec<&str> = shown.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("CrossJoinExec") || line.starts_with("NestedLoopJoinExec") {
                assert!(
                    i > 0 && lines[i - 1].starts_with("CooperativeExec"),
                    "{line} is not wrapped:\n{shown}"
                );
            }
        }
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("CooperativeExec"))
                .count(),
            lines.iter().filter(|l| l.contains("JoinExec")).count(),
            "{shown}"
        );
        // The answer is the same: 3 × 4 pairs against 5 values.
        let n = ctx.sql(THREE_WAY).await.unwrap().collect().await.unwrap();
        let n = n[0]
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .value(0);
        // Pairs (a, b) with sum s in 2..=4 and c in s+1..=5: sums 2 (1 pair,
        // 3 c's), 3 (2 pairs, 2 c's), 4 (3 pairs, 1 c) = 3 + 4 + 3.
        assert_eq!(n, 10);
    }
}
