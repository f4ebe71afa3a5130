//! Which plans run on the cluster: the last physical optimizer rule of a
//! front end started with `--cluster`.
//!
//! A plan goes when it scans the dataset's Parquet files and survives a
//! round trip through the wire format against the functions the cluster
//! knows (`functions.rs`); it is then wrapped whole in a
//! [`ClusterExec`]. Everything else runs on the front end as before: the
//! pg_catalog emulation, `information_schema`, in-memory tables, `SELECT 1`,
//! and a query calling a server function (`current_setting`, `pg_*`), which
//! no executor knows. Scopes, the read-only policy and pseudonyms need no
//! decision here: they are in the plan already.

use std::sync::Arc;

use datafusion::common::tree_node::TreeNode;
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::ParquetSource;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;
use datafusion_proto::physical_plan::AsExecutionPlan;
use datafusion_proto::protobuf::PhysicalPlanNode;

use super::client::ClusterOptions;
use super::codec::SapaCodec;
use super::exec::ClusterExec;
use super::functions;

/// Wraps every plan that scans Parquet, and that the cluster can decode,
/// in a [`ClusterExec`].
#[derive(Debug)]
pub struct RunOnCluster {
    options: ClusterOptions,
    /// What an executor decodes plans with: the round trip is tried here.
    remote: Arc<TaskContext>,
}

impl RunOnCluster {
    /// The rule for the cluster `options` name.
    pub fn new(options: ClusterOptions) -> RunOnCluster {
        let state = functions::session_state(SessionConfig::new(), Arc::new(RuntimeEnv::default()));
        RunOnCluster {
            options,
            remote: state.task_ctx(),
        }
    }

    /// Whether `plan` decodes on the other side as it is here; the reason
    /// if not.
    fn travels(&self, plan: &Arc<dyn ExecutionPlan>) -> std::result::Result<(), String> {
        let bytes = ClusterExec::encode(plan).map_err(|e| e.to_string())?;
        let node = PhysicalPlanNode::try_decode(&bytes).map_err(|e| e.to_string())?;
        node.try_into_physical_plan(&self.remote, &SapaCodec::default())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Whether `plan` reads Parquet files: the dataset's tables and views.
pub fn scans_parquet(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.exists(|node| {
        Ok(node
            .downcast_ref::<DataSourceExec>()
            .and_then(|scan| scan.downcast_to_file_source::<ParquetSource>())
            .is_some())
    })
    .unwrap_or(false)
}

impl PhysicalOptimizerRule for RunOnCluster {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if plan.downcast_ref::<ClusterExec>().is_some() || !scans_parquet(&plan) {
            return Ok(plan);
        }
        match self.travels(&plan) {
            Ok(()) => Ok(Arc::new(ClusterExec::new(plan, self.options.clone()))),
            Err(reason) => {
                log::info!("running on the front end, not the cluster: {reason}");
                Ok(plan)
            }
        }
    }

    fn name(&self) -> &str {
        "RunOnCluster"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
