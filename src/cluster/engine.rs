//! The executors' execution engine: Ballista's own, reporting no operator
//! metrics to the scheduler.
//!
//! Ballista's scheduler adds each task's per-operator metrics into its
//! stage's, and refuses a task's whole status report when the number of
//! operators differs from the first task's ("task metrics array size 9
//! does not equal with the stage metrics array size 8"). With DataFusion 55
//! plans, tasks of one stage do report different numbers (seen on the
//! canned queries joining a union of regions, districts and schools); the
//! refused task then never counts as finished, and the job waits forever.
//! Those metrics only feed the scheduler's REST display, which Sapa does
//! not build, so executors send none: an empty report is one the scheduler
//! skips by design. Everything the next stage needs (shuffle locations,
//! runtime statistics, window state, column statistics) is passed on.

use std::fmt;
use std::sync::Arc;

use ballista_core::JobId;
use ballista_core::serde::protobuf::{
    RuntimeStatsReport, ShuffleWritePartition, TaskColumnStats, WindowStateReport,
};
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::prelude::SessionConfig;

/// Ballista's default engine, its stages reporting no operator metrics.
pub struct WithoutMetrics {
    inner: DefaultExecutionEngine,
}

impl Default for WithoutMetrics {
    /// Ballista's engine without a pool of shuffle clients: the pool type
    /// is private to Ballista, and a client per fetch costs one connection
    /// on a network of a few executors.
    fn default() -> Self {
        WithoutMetrics {
            inner: DefaultExecutionEngine::new(),
        }
    }
}

impl ExecutionEngine for WithoutMetrics {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> Result<Arc<dyn QueryStageExecutor>> {
        let stage = self.inner.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )?;
        Ok(Arc::new(Stage(stage)))
    }
}

/// One stage of Ballista's engine, without its metrics.
#[derive(Debug)]
struct Stage(Arc<dyn QueryStageExecutor>);

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[async_trait::async_trait]
impl QueryStageExecutor for Stage {
    async fn execute_query_stage(
        &self,
        task_id: usize,
        context: Arc<TaskContext>,
    ) -> Result<Vec<ShuffleWritePartition>> {
        self.0.execute_query_stage(task_id, context).await
    }

    fn collect_plan_metrics(&self) -> Vec<MetricsSet> {
        Vec::new()
    }

    fn collect_runtime_stats_reports(&self) -> Vec<RuntimeStatsReport> {
        self.0.collect_runtime_stats_reports()
    }

    fn collect_window_state_reports(&self) -> Result<Vec<WindowStateReport>> {
        self.0.collect_window_state_reports()
    }

    fn collect_column_stats(&self) -> Vec<TaskColumnStats> {
        self.0.collect_column_stats()
    }
}
