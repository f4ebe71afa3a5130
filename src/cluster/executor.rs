//! A Ballista executor that runs Sapa's plans: `sapa cluster executor`.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use datafusion::prelude::SessionConfig;

use super::codec::SapaCodec;
use super::engine::WithoutMetrics;
use super::scheduler::base_config;
use super::{ClusterError, SchedulerUrl, functions};
use crate::storage::stores;

/// Where an executor runs and how much.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler to pull tasks from.
    pub scheduler: SchedulerUrl,
    /// The address the Flight service (results, shuffles) listens on.
    pub listen: SocketAddr,
    /// The host other processes reach `listen` at (the listen address if
    /// `None`; needed when listening on 0.0.0.0).
    pub advertise: Option<String>,
    /// Tasks run at once (the CPU count if 0).
    pub concurrency: usize,
}

/// Runs an executor until the process is told to stop (Ctrl-C, SIGTERM),
/// then tells the scheduler it is gone.
///
/// Its sessions know every function of [`functions::registry`] and read
/// any dataset URL a plan names through [`stores::runtime_env`], so the
/// executor needs no `--data`: the plan says where the files are.
pub async fn run(options: ExecutorOptions) -> Result<(), ClusterError> {
    let host = options
        .advertise
        .clone()
        .unwrap_or_else(|| options.listen.ip().to_string());
    let config = ExecutorProcessConfig {
        bind_host: options.listen.ip().to_string(),
        external_host: Some(host),
        port: options.listen.port(),
        scheduler_host: options.scheduler.host().to_string(),
        scheduler_port: options.scheduler.port(),
        // Wait for a scheduler that is not up yet instead of exiting.
        scheduler_connect_timeout_seconds: 60,
        vcores: options.concurrency,
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        override_function_registry: Some(Arc::new(functions::registry())),
        override_runtime_producer: Some(Arc::new(|_: &SessionConfig| stores::runtime_env(None))),
        override_config_producer: Some(Arc::new(base_config)),
        override_physical_codec: Some(Arc::new(SapaCodec::default())),
        override_execution_engine: Some(Arc::new(WithoutMetrics::default())),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}
