//! The operator that runs a plan on the cluster: at the top of a plan the
//! front end made, it sends its input to the scheduler and streams back the
//! rows. `EXPLAIN` shows it, with the plan the cluster runs below it.

use std::fmt;
use std::sync::Arc;

use ballista_core::serde::protobuf::KeyValuePair;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PhysicalExpr,
    PlanProperties,
};
use datafusion_proto::physical_plan::AsExecutionPlan;
use datafusion_proto::protobuf::PhysicalPlanNode;
use futures::TryStreamExt;

use super::ClusterError;
use super::client::{self, ClusterOptions};
use super::codec::SapaCodec;

/// Runs `input` on the cluster as one job; one output partition.
#[derive(Debug)]
pub struct ClusterExec {
    input: Arc<dyn ExecutionPlan>,
    options: ClusterOptions,
    properties: Arc<PlanProperties>,
}

impl ClusterExec {
    /// The operator that runs `input` on the cluster `options` name.
    pub fn new(input: Arc<dyn ExecutionPlan>, options: ClusterOptions) -> ClusterExec {
        // The rows come back partition after partition, in order: a sorted
        // plan's single output partition stays sorted.
        let eq = if input.output_partitioning().partition_count() == 1 {
            input.equivalence_properties().clone()
        } else {
            EquivalenceProperties::new(input.schema())
        };
        let properties = Arc::new(PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        ClusterExec {
            input,
            options,
            properties,
        }
    }

    /// The plan the cluster runs.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    /// The plan as the scheduler receives it.
    pub fn encode(plan: &Arc<dyn ExecutionPlan>) -> Result<Vec<u8>> {
        let node =
            PhysicalPlanNode::try_from_physical_plan(Arc::clone(plan), &SapaCodec::default())
                .map_err(|e| ClusterError::Encode(e.to_string()))?;
        let mut buf = Vec::new();
        node.try_encode(&mut buf)
            .map_err(|e| ClusterError::Encode(e.to_string()))?;
        Ok(buf)
    }
}

impl DisplayAs for ClusterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ClusterExec: scheduler={}", self.options.scheduler)
    }
}

impl ExecutionPlan for ClusterExec {
    fn name(&self) -> &str {
        "ClusterExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    /// The input is a child so that `EXPLAIN` shows it; it is never executed
    /// here.
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match children.as_slice() {
            [input] => Ok(Arc::new(ClusterExec::new(
                Arc::clone(input),
                self.options.clone(),
            ))),
            _ => Err(DataFusionError::Internal(
                "ClusterExec takes one input".to_string(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "ClusterExec has one partition, not {partition}"
            )));
        }
        let plan = ClusterExec::encode(&self.input)?;
        let settings = context
            .session_config()
            .options()
            .entries()
            .into_iter()
            .map(|entry| KeyValuePair {
                key: entry.key,
                value: entry.value,
            })
            .collect();
        let run = client::run(self.options.clone(), context.session_id(), plan, settings);
        let stream = futures::stream::once(run).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.input.schema(),
            stream,
        )))
    }
}
