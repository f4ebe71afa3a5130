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
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use datafusion::prelude::SessionConfig;
use datafusion_proto::physical_plan::AsExecutionPlan;
use datafusion_proto::protobuf::PhysicalPlanNode;
use object_store::ObjectStore;
use url::Url;

use super::client::ClusterOptions;
use super::codec::SapaCodec;
use super::exec::ClusterExec;
use super::{functions, stable};

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
        // Decoding a scan looks its store up by URL. Which stores an
        // executor can open is the executor's business (its `AWS_*`
        // variables, its mounts), not this check's: any URL decodes here.
        let runtime = RuntimeEnvBuilder::new()
            .with_object_store_registry(Arc::new(AnyStore::default()))
            .build_arc()
            .unwrap_or_else(|_| Arc::new(RuntimeEnv::default()));
        let state = functions::session_state(SessionConfig::new(), runtime);
        RunOnCluster {
            options,
            remote: state.task_ctx(),
        }
    }

    /// `plan` as the other side decodes it; the reason if it cannot.
    fn round_trip(
        &self,
        plan: &Arc<dyn ExecutionPlan>,
    ) -> std::result::Result<Arc<dyn ExecutionPlan>, String> {
        let bytes = ClusterExec::encode(plan).map_err(|e| e.to_string())?;
        let node = PhysicalPlanNode::try_decode(&bytes).map_err(|e| e.to_string())?;
        node.try_into_physical_plan(&self.remote, &SapaCodec::default())
            .map_err(|e| e.to_string())
    }

    /// The plan to send for `plan`: as decoded once, with its unions made
    /// durable ([`stable`]), and checked to decode into itself again. A
    /// scheduler and its executors each decode the plan; were it to change
    /// on the way, Ballista would refuse the executors' task reports and
    /// the job would never end, so such a plan stays on the front end.
    fn travelling(
        &self,
        plan: &Arc<dyn ExecutionPlan>,
    ) -> std::result::Result<Arc<dyn ExecutionPlan>, String> {
        let decoded = self.round_trip(plan)?;
        let sent = stable::stable_unions(decoded).map_err(|e| e.to_string())?;
        let again = self.round_trip(&sent)?;
        let shape = |p: &Arc<dyn ExecutionPlan>| displayable(p.as_ref()).indent(true).to_string();
        if shape(&again) != shape(&sent) {
            return Err(format!(
                "the plan changes when decoded:\n{}\nbecomes\n{}",
                shape(&sent),
                shape(&again)
            ));
        }
        Ok(sent)
    }
}

/// A registry with a store for every URL: an empty one, as the round trip
/// only decodes the plan and reads nothing.
#[derive(Debug, Default)]
struct AnyStore {
    empty: Arc<object_store::memory::InMemory>,
}

impl ObjectStoreRegistry for AnyStore {
    fn register_store(
        &self,
        _url: &Url,
        _store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        None
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        Err(datafusion::error::DataFusionError::Execution(format!(
            "no object store for {url}"
        )))
    }

    fn get_store(&self, _url: &Url) -> Result<Arc<dyn ObjectStore>> {
        Ok(Arc::clone(&self.empty) as Arc<dyn ObjectStore>)
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
        match self.travelling(&plan) {
            Ok(sent) => Ok(Arc::new(ClusterExec::new(sent, self.options.clone()))),
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
