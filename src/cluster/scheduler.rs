//! A Ballista scheduler that decodes Sapa's plans: `sapa cluster scheduler`.

use std::sync::Arc;
use std::time::Duration;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::extension::SessionConfigExt;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use tokio::net::TcpListener;

use super::codec::SapaCodec;
use super::{ClusterError, functions};
use crate::storage::stores;

/// How a scheduler watches its executors.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// An executor silent this long is gone: its tasks run elsewhere.
    pub executor_timeout: Duration,
    /// With every executor gone this long, running jobs fail with the
    /// reason instead of waiting.
    pub no_executors_grace: Duration,
}

impl Default for SchedulerOptions {
    /// 30 s, as heartbeats come every few seconds in pull mode.
    fn default() -> Self {
        SchedulerOptions {
            executor_timeout: Duration::from_secs(30),
            no_executors_grace: Duration::from_secs(30),
        }
    }
}

/// The session options every job starts from: Ballista's (no round-robin
/// repartitioning, no dynamic filters across stages).
pub(crate) fn base_config() -> SessionConfig {
    SessionConfig::new_with_ballista()
}

/// Serves a scheduler on `listener` until the future is dropped or fails.
/// Executors pull their tasks (Ballista's pull-staged policy), so an
/// executor needs one open port, its Flight port, and none for the
/// scheduler to call.
pub async fn serve(listener: TcpListener, options: SchedulerOptions) -> Result<(), ClusterError> {
    let addr = listener.local_addr()?;
    let expire_every = (options.executor_timeout / 3).max(Duration::from_secs(1));
    let config = SchedulerConfig {
        bind_host: addr.ip().to_string(),
        external_host: addr.ip().to_string(),
        bind_port: addr.port(),
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        executor_timeout_seconds: options.executor_timeout.as_secs().max(1),
        expire_dead_executor_interval_seconds: expire_every.as_secs(),
        no_executors_grace_period_seconds: options.no_executors_grace.as_secs(),
        // `/readyz` answers 503 with no executor: the front end asks it
        // before submitting a job (`client.rs`).
        min_ready_executors: 1,
        override_config_producer: Some(Arc::new(base_config)),
        override_session_builder: Some(Arc::new(|config: SessionConfig| {
            let runtime = stores::runtime_env(None)?;
            Ok(functions::session_state(config, runtime))
        })),
        override_physical_codec: Some(Arc::new(SapaCodec::default())),
        ..SchedulerConfig::default()
    };
    config.validate()?;
    let cluster = BallistaCluster::new_from_config(&config).await?;
    let scheduler =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config)).await?;
    start_grpc_service_with_listener(listener, scheduler).await?;
    Ok(())
}
