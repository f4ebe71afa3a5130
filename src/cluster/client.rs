//! One job on the cluster, seen from the front end: submit a serialized
//! physical plan to the scheduler, wait for it, stream its result from the
//! executors — and cancel it on the scheduler when nobody wants the result
//! any more (a cancel, a `statement_timeout`, a client gone).
//!
//! Ballista's own client (`DistributedQueryExec`) neither returns the job
//! id nor cancels a job whose stream is dropped, and it reports every
//! failure as one string; this one keeps the job id in a guard that
//! cancels on drop and tells an unreachable scheduler or executor (08006)
//! from a failed query.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use ballista_core::client::BallistaClient;
use ballista_core::serde::protobuf::execute_query_params::Query;
use ballista_core::serde::protobuf::execute_query_result;
use ballista_core::serde::protobuf::job_status::Status;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::{
    CancelJobParams, ExecuteQueryParams, GetJobStatusParams, KeyValuePair, PartitionLocation,
};
use ballista_core::utils::{GrpcClientConfig, create_grpc_client_endpoint};
use datafusion::arrow::array::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use tonic::transport::Channel;

use super::jobs::{JobState, record};
use super::{ClusterError, SchedulerUrl};

/// How the front end talks to a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The scheduler.
    pub scheduler: SchedulerUrl,
    /// How long connecting to the scheduler or an executor may take.
    pub connect_timeout: Duration,
    /// The largest gRPC message (a plan, a batch).
    pub max_message_size: usize,
}

impl ClusterOptions {
    /// Defaults for a scheduler: a 5 s connect timeout, 64 MiB messages.
    pub fn new(scheduler: SchedulerUrl) -> ClusterOptions {
        ClusterOptions {
            scheduler,
            connect_timeout: Duration::from_secs(5),
            max_message_size: 64 << 20,
        }
    }

    fn grpc(&self) -> GrpcClientConfig {
        let secs = self.connect_timeout.as_secs().max(1);
        GrpcClientConfig {
            connect_timeout_seconds: secs,
            // A status poll or a fetch that hangs this long has lost its peer.
            timeout_seconds: secs.max(20),
            max_message_size: self.max_message_size,
            // One try: a dead executor is reported now, not after retries.
            io_retries_times: 1,
            io_retry_wait_time_ms: 100,
            ..GrpcClientConfig::default()
        }
    }
}

/// A submitted job: cancelled on the scheduler when dropped before it
/// finished.
struct JobGuard {
    scheduler: SchedulerGrpcClient<Channel>,
    url: String,
    job_id: String,
    finished: bool,
}

impl JobGuard {
    fn ended(&mut self, state: JobState) {
        self.finished = true;
        record(&self.url, &self.job_id, state);
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut scheduler = self.scheduler.clone();
        let url = std::mem::take(&mut self.url);
        let job_id = std::mem::take(&mut self.job_id);
        runtime.spawn(async move {
            let params = CancelJobParams {
                job_id: job_id.clone(),
            };
            match scheduler.cancel_job(params).await {
                Ok(_) => {
                    log::info!("cancelled cluster job {job_id} on {url}");
                    record(&url, &job_id, JobState::Cancelled);
                }
                Err(e) => {
                    log::warn!("cancelling cluster job {job_id} on {url}: {e}");
                    record(&url, &job_id, JobState::CancelFailed);
                }
            }
        });
    }
}

/// Runs the serialized physical plan `plan` as one job and streams its
/// result. `settings` are the session's options, as the scheduler plans
/// stages with them.
pub async fn run(
    options: ClusterOptions,
    session_id: String,
    plan: Vec<u8>,
    settings: Vec<KeyValuePair>,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let url = options.scheduler.to_string();
    let unreachable = |reason: String| ClusterError::SchedulerUnreachable {
        url: url.clone(),
        reason,
    };
    check_ready(&options).await?;
    let grpc = options.grpc();
    let endpoint = create_grpc_client_endpoint(options.scheduler.grpc(), Some(&grpc))
        .map_err(|e| unreachable(e.to_string()))?;
    let channel = tokio::time::timeout(options.connect_timeout, endpoint.connect())
        .await
        .map_err(|_| unreachable(format!("no answer in {:?}", options.connect_timeout)))?
        .map_err(|e| unreachable(error_chain(&e)))?;
    let mut scheduler = SchedulerGrpcClient::new(channel)
        .max_encoding_message_size(options.max_message_size)
        .max_decoding_message_size(options.max_message_size);

    let mut request = tonic::Request::new(ExecuteQueryParams {
        session_id,
        settings,
        operation_id: uuid::Uuid::new_v4().to_string(),
        query: Some(Query::PhysicalPlan(plan)),
    });
    ballista_core::version::insert_version_header(request.metadata_mut());
    let answer = scheduler
        .execute_query(request)
        .await
        .map_err(|e| unreachable(e.message().to_string()))?
        .into_inner();
    let job_id = match answer.result {
        Some(execute_query_result::Result::Success(ok)) => ok.job_id,
        Some(execute_query_result::Result::Failure(failure)) => {
            return Err(ClusterError::Refused {
                url,
                reason: format!("{:?}", failure.failure),
            }
            .into());
        }
        None => {
            return Err(ClusterError::Refused {
                url,
                reason: "an empty answer".to_string(),
            }
            .into());
        }
    };
    record(&url, &job_id, JobState::Running);
    let mut job = JobGuard {
        scheduler: scheduler.clone(),
        url,
        job_id,
        finished: false,
    };
    let locations = wait(&mut job, &options).await?;
    job.ended(JobState::Finished);
    Ok(fetch_all(locations, options).boxed())
}

/// Asks the scheduler's `/readyz` whether it has an executor: a job
/// submitted to a scheduler without one would wait for one forever (the
/// scheduler fails only the jobs whose executors it lost).
async fn check_ready(options: &ClusterOptions) -> Result<(), ClusterError> {
    let url = options.scheduler.to_string();
    let unreachable = |reason: String| ClusterError::SchedulerUnreachable {
        url: url.clone(),
        reason,
    };
    let host = options.scheduler.host();
    let ask = async {
        let mut socket = TcpStream::connect((host, options.scheduler.port())).await?;
        let request = format!("GET /readyz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        socket.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        socket.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(options.connect_timeout, ask)
        .await
        .map_err(|_| unreachable(format!("no answer in {:?}", options.connect_timeout)))?
        .map_err(|e| unreachable(e.to_string()))?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split_whitespace().nth(1).unwrap_or_default();
    if status == "503" {
        // The body may come chunked: its one line of text is the reason.
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let reason = body
            .lines()
            .find(|line| line.contains("ready"))
            .unwrap_or("not ready");
        return Err(ClusterError::NoExecutors {
            url,
            reason: reason.trim().to_string(),
        });
    }
    Ok(())
}

/// Polls the job until it ends; its result's locations.
async fn wait(job: &mut JobGuard, options: &ClusterOptions) -> Result<Vec<PartitionLocation>> {
    let url = options.scheduler.to_string();
    let mut pause = Duration::from_millis(5);
    loop {
        let status = job
            .scheduler
            .get_job_status(GetJobStatusParams {
                job_id: job.job_id.clone(),
            })
            .await
            .map_err(|e| ClusterError::SchedulerUnreachable {
                url: url.clone(),
                reason: e.message().to_string(),
            })?
            .into_inner()
            .status
            .and_then(|s| s.status);
        match status {
            Some(Status::Successful(done)) => return Ok(done.partition_location),
            Some(Status::Failed(failed)) => {
                job.ended(JobState::Failed);
                return Err(ClusterError::JobFailed(failed.error).into());
            }
            // Queued or running. An executor lost on the way is the
            // scheduler's to handle: it reruns the tasks elsewhere, or fails
            // the job when none is left (`SchedulerOptions`).
            _ => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// The result partitions, one after another.
fn fetch_all(
    locations: Vec<PartitionLocation>,
    options: ClusterOptions,
) -> impl futures::Stream<Item = Result<RecordBatch>> + Send + 'static {
    futures::stream::iter(locations)
        .then(move |location| fetch(location, options.clone()))
        .try_flatten()
}

async fn fetch(
    location: PartitionLocation,
    options: ClusterOptions,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let layout = location.layout();
    let (Some(executor), Some(partition)) = (location.executor_meta, location.partition_id) else {
        return Err(DataFusionError::Internal(
            "a result location without its executor or partition".to_string(),
        ));
    };
    let host = executor.host.clone();
    let port = executor.port as u16;
    let unreachable = |reason: String| ClusterError::ExecutorUnreachable {
        host: host.clone(),
        port,
        reason,
    };
    let grpc = options.grpc();
    let mut client = BallistaClient::try_new(
        &host,
        port,
        options.max_message_size,
        false,
        None,
        grpc.io_retries_times,
        grpc.io_retry_wait_time_ms,
        grpc.initial_connection_window_size,
        grpc.initial_stream_window_size,
    )
    .await
    .map_err(|e| unreachable(e.to_string()))?;
    let stream = client
        .fetch_partition(
            &executor.id,
            &partition.into(),
            location.file_id,
            layout,
            true,
        )
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    Ok(stream.boxed())
}

/// An error with its causes, as tonic's transport errors say little at the
/// top ("transport error") and the reason below.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
