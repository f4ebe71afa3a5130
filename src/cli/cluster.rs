//! `sapa cluster scheduler|executor`: the processes of a Ballista cluster
//! that runs Sapa's plans, and `--cluster` for the commands that query.

use std::net::SocketAddr;
use std::time::Duration;

use super::logging::LogArgs;
use clap::{Args, Subcommand};
use sapa::cluster::SchedulerUrl;
use sapa::cluster::client::ClusterOptions;
use sapa::cluster::executor::{self, ExecutorOptions};
use sapa::cluster::scheduler::{self, SchedulerOptions};
use sapa::engine::EngineOptions;

use super::CliError;

/// Arguments of `sapa cluster`.
#[derive(Debug, Args)]
pub(crate) struct ClusterArgs {
    #[command(subcommand)]
    role: Role,
}

#[derive(Debug, Subcommand)]
enum Role {
    /// Run the scheduler: it takes plans from `sapa serve --cluster` and
    /// hands their tasks to executors.
    Scheduler {
        /// Where to listen (gRPC for front ends and executors, `/readyz`).
        #[arg(long, default_value = "127.0.0.1:50050")]
        listen: SocketAddr,
        /// Seconds after which a silent executor counts as gone (its tasks
        /// run elsewhere; with none left, running queries fail).
        #[arg(long, default_value_t = 30)]
        executor_timeout: u64,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Run an executor: it pulls tasks from the scheduler and reads the
    /// dataset from the URL each plan names (a shared directory or s3://).
    Executor {
        /// The scheduler, df://HOST:PORT.
        #[arg(long)]
        scheduler: String,
        /// Where results and shuffles are served (Arrow Flight).
        #[arg(long, default_value = "127.0.0.1:50051")]
        listen: SocketAddr,
        /// The host the front end and other executors reach this one at,
        /// if not the listen address (needed with --listen 0.0.0.0:PORT).
        #[arg(long)]
        advertise: Option<String>,
        /// Tasks run at once (0: one a CPU).
        #[arg(long, default_value_t = 0)]
        concurrency: usize,
        #[command(flatten)]
        log: LogArgs,
    },
}

/// `--cluster df://HOST:PORT` of the commands that query.
#[derive(Debug, Args)]
pub(crate) struct ClusterTarget {
    /// Run the plans that scan the dataset on this Ballista scheduler
    /// (`sapa cluster scheduler`), df://HOST:PORT.
    #[arg(long, env = "SAPA_CLUSTER", value_name = "df://HOST:PORT")]
    cluster: Option<String>,
}

impl ClusterTarget {
    /// `options` with the cluster's rule and settings, if `--cluster` is given.
    pub(crate) fn apply(&self, options: EngineOptions) -> Result<EngineOptions, CliError> {
        let Some(cluster) = &self.cluster else {
            return Ok(options);
        };
        let url = SchedulerUrl::parse(cluster)?;
        Ok(EngineOptions {
            remote: Some(sapa::cluster::remote(ClusterOptions::new(url))),
            ..options
        })
    }
}

pub(crate) async fn run(args: ClusterArgs) -> Result<(), CliError> {
    match args.role {
        Role::Scheduler {
            listen,
            executor_timeout,
            log,
        } => {
            super::logging::init(log.log_format, log.log_file.as_deref())?;
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let addr = listener.local_addr()?;
            let timeout = Duration::from_secs(executor_timeout.max(1));
            let options = SchedulerOptions {
                executor_timeout: timeout,
                no_executors_grace: timeout,
            };
            // Tests read this line for the port of `--listen 127.0.0.1:0`.
            println!("Sapa cluster scheduler listening on df://{addr}");
            tokio::select! {
                result = scheduler::serve(listener, options) => result?,
                _ = tokio::signal::ctrl_c() => println!("stopping"),
            }
            Ok(())
        }
        Role::Executor {
            scheduler,
            listen,
            advertise,
            concurrency,
            log,
        } => {
            super::logging::init(log.log_format, log.log_file.as_deref())?;
            let scheduler = SchedulerUrl::parse(&scheduler)?;
            println!("Sapa cluster executor for {scheduler} serving results on {listen}");
            executor::run(ExecutorOptions {
                scheduler,
                listen,
                advertise,
                concurrency,
            })
            .await?;
            Ok(())
        }
    }
}
