//! The same SQL on an Apache Ballista cluster (issue 21 §2).
//!
//! Three roles, one binary:
//! - a **scheduler** ([`scheduler`]) that takes physical plans, splits them
//!   into stages and hands tasks to executors;
//! - **executors** ([`executor`]) that run the tasks, reading the dataset's
//!   Parquet files straight from its object store;
//! - the **front end** (`sapa serve --cluster`, `sapa query --cluster`) that
//!   plans every statement exactly as it does alone — scopes, the read-only
//!   policy and pseudonyms are in the plan before it leaves — and then, by
//!   the physical optimizer rule of [`rule`], hands the plans that scan the
//!   dataset to the scheduler as one [`exec::ClusterExec`].
//!
//! Everything that crosses a process boundary is a DataFusion physical plan
//! serialized with [`codec::SapaCodec`]; functions travel by name and are
//! found in [`functions::registry`] on the other side, except the keyed
//! pseudonym function, which travels with its key.

pub mod client;
pub mod codec;
pub mod engine;
pub mod exec;
pub mod executor;
pub mod functions;
pub mod jobs;
pub mod rule;
pub mod scheduler;
pub mod stable;

/// What can go wrong between the front end and the cluster. Each variant
/// names the cluster's address and the reason, so that a user reading the
/// error knows which process to look at.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A `--cluster`/`--scheduler` address that is not `df://HOST:PORT`.
    #[error("cluster address {0:?} is not df://HOST:PORT")]
    BadAddress(String),
    /// The scheduler did not answer (not running, wrong address, gone).
    #[error("the cluster scheduler at {url} is unreachable: {reason}")]
    SchedulerUnreachable {
        /// The scheduler's address.
        url: String,
        /// What the connection attempt said.
        reason: String,
    },
    /// An executor holding a part of the result did not answer.
    #[error("the cluster executor at {host}:{port} is unreachable: {reason}")]
    ExecutorUnreachable {
        /// The executor's host.
        host: String,
        /// The executor's Flight port.
        port: u16,
        /// What the fetch said.
        reason: String,
    },
    /// The scheduler has no executor to run a job on.
    #[error(
        "the cluster at {url} has no executor ({reason}): start one with \
         `sapa cluster executor --scheduler {url}`"
    )]
    NoExecutors {
        /// The scheduler's address.
        url: String,
        /// What the scheduler said.
        reason: String,
    },
    /// The scheduler refused the job (it could not decode or plan it).
    #[error("the cluster scheduler at {url} refused the query: {reason}")]
    Refused {
        /// The scheduler's address.
        url: String,
        /// The scheduler's reason.
        reason: String,
    },
    /// The job failed on the cluster; the reason is the executor's error.
    #[error("the query failed on the cluster: {0}")]
    JobFailed(String),
    /// A plan that cannot be sent (an operator or expression protobuf cannot
    /// hold).
    #[error("the plan cannot be sent to the cluster: {0}")]
    Encode(String),
    /// Ballista failed starting a scheduler or an executor.
    #[error("{0}")]
    Ballista(#[from] ballista_core::error::BallistaError),
    /// A socket could not be bound or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The session options a plan for the cluster is made with, from
/// Ballista's own (`ballista_restricted_configuration`): operators whose
/// state cannot cross a stage boundary stay out of the plan.
const CLUSTER_SETTINGS: [(&str, &str); 6] = [
    // Hash joins partitioned on both sides, never `CollectLeft`: a
    // `CollectLeft` left join of a two-partition aggregate with a small
    // table lost the rows of one partition on Ballista 55 (the canned query
    // late_and_changed_marks answered 8 of its 13 rows; its test in
    // tests/engine/canned_queries/cluster.rs shows it). Both sides shuffled by the
    // join key is the plan Ballista distributes as DataFusion means it.
    (
        "datafusion.optimizer.hash_join_single_partition_threshold",
        "0",
    ),
    (
        "datafusion.optimizer.hash_join_single_partition_threshold_rows",
        "0",
    ),
    // Round-robin repartitions do not split into stages well.
    (
        "datafusion.optimizer.enable_round_robin_repartition",
        "false",
    ),
    // A dynamic filter is filled by a join or TopK and read by a scan; in
    // two stages the scan would wait for it forever.
    (
        "datafusion.optimizer.enable_dynamic_filter_pushdown",
        "false",
    ),
    // The subquery's result lives in the process that computed it.
    (
        "datafusion.optimizer.enable_physical_uncorrelated_scalar_subquery",
        "false",
    ),
    // View types make Flight frames too large (Ballista's note).
    (
        "datafusion.execution.parquet.schema_force_view_types",
        "false",
    ),
];

/// Engine options for a front end whose dataset plans run on the cluster
/// `options` names.
pub fn remote(options: client::ClusterOptions) -> crate::engine::RemoteExecution {
    crate::engine::RemoteExecution {
        rule: std::sync::Arc::new(rule::RunOnCluster::new(options)),
        settings: CLUSTER_SETTINGS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// The cluster is unreachable: a lost connection (08006), not a failure of
/// the query.
pub fn is_connection_failure(err: &ClusterError) -> bool {
    matches!(
        err,
        ClusterError::SchedulerUnreachable { .. } | ClusterError::ExecutorUnreachable { .. }
    )
}

/// A cluster that cannot be reached is a lost connection (08006); a job
/// that failed on an executor for a reason in the data keeps the SQLSTATE
/// its message tells (a division by zero there is 22012, as here: the
/// error crossed the process as text); anything else is the cluster's own
/// failure (58000).
impl sapa_sqlstate::SqlState for ClusterError {
    fn sqlstate(&self) -> &'static str {
        use sapa_sqlstate::code;
        if is_connection_failure(self) {
            return code::CONNECTION_FAILURE;
        }
        match self {
            ClusterError::JobFailed(msg) => match sapa_sqlstate::of_message(msg) {
                code::DATA_EXCEPTION if msg.to_ascii_lowercase().contains("overflow") => {
                    code::NUMERIC_OUT_OF_RANGE
                }
                // The UDFs' UnknownMark (22P02), which crossed as its text.
                code::DATA_EXCEPTION if msg.contains("unknown mark code") => {
                    code::INVALID_TEXT_REPRESENTATION
                }
                code::DATA_EXCEPTION => code::SYSTEM_ERROR,
                state => state,
            },
            _ => code::SYSTEM_ERROR,
        }
    }
}

impl From<ClusterError> for datafusion::error::DataFusionError {
    fn from(err: ClusterError) -> Self {
        sapa_sqlstate::SqlState::into_datafusion(err)
    }
}

/// A scheduler's address as users write it, `df://HOST:PORT`, and as gRPC
/// wants it, `http://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerUrl {
    host: String,
    port: u16,
}

impl SchedulerUrl {
    /// Parses `df://HOST:PORT` (or a bare `HOST:PORT`).
    pub fn parse(text: &str) -> Result<SchedulerUrl, ClusterError> {
        let bad = || ClusterError::BadAddress(text.to_string());
        let rest = text.strip_prefix("df://").unwrap_or(text);
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.trim_end_matches('/').parse().map_err(|_| bad())?;
        if host.is_empty() || host.contains('/') {
            return Err(bad());
        }
        Ok(SchedulerUrl {
            host: host.to_string(),
            port,
        })
    }

    /// The address for gRPC clients.
    pub fn grpc(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// The host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl std::fmt::Display for SchedulerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "df://{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_addresses_parse_with_and_without_the_scheme() {
        let url = SchedulerUrl::parse("df://10.0.0.5:50050").unwrap();
        assert_eq!(url.grpc(), "http://10.0.0.5:50050");
        assert_eq!(url.to_string(), "df://10.0.0.5:50050");
        assert_eq!(SchedulerUrl::parse("localhost:7").unwrap().port(), 7);
        for bad in ["df://host", "df://:50050", "df://h:port", "s3://b/x:1"] {
            assert!(SchedulerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
