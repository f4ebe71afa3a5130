//! The jobs this front end sent to a cluster lately, and where each ended
//! up: which job of the scheduler's log a query was, and whether a
//! cancelled query's job was cancelled on the cluster too.

/// Where a job this process submitted ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Submitted, its result not yet wanted or not yet complete.
    Running,
    /// Its result was computed.
    Finished,
    /// It failed on the cluster.
    Failed,
    /// Nobody wanted its result any more (a cancel, a `statement_timeout`,
    /// a client gone) and the scheduler accepted its cancellation.
    Cancelled,
    /// Its cancellation could not be sent (the scheduler is gone).
    CancelFailed,
}

/// A job this process submitted to a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// The scheduler it went to, `df://HOST:PORT`.
    pub scheduler: String,
    /// The scheduler's id of the job (as its logs name it).
    pub job_id: String,
    /// Where it ended up.
    pub state: JobState,
}

/// How many jobs [`recent_jobs`] remembers.
const REMEMBERED_JOBS: usize = 64;

static RECENT: std::sync::Mutex<std::collections::VecDeque<JobRecord>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());

/// The last jobs this process submitted, oldest first: which job of the
/// scheduler's log a query was, and whether a cancelled query's job was
/// cancelled on the cluster too.
pub fn recent_jobs() -> Vec<JobRecord> {
    RECENT
        .lock()
        .map(|jobs| jobs.iter().cloned().collect())
        .unwrap_or_default()
}

pub(super) fn record(scheduler: &str, job_id: &str, state: JobState) {
    let Ok(mut jobs) = RECENT.lock() else {
        return;
    };
    match jobs
        .iter_mut()
        .find(|j| j.job_id == job_id && j.scheduler == scheduler)
    {
        Some(job) => job.state = state,
        None => {
            if jobs.len() == REMEMBERED_JOBS {
                jobs.pop_front();
            }
            jobs.push_back(JobRecord {
                scheduler: scheduler.to_string(),
                job_id: job_id.to_string(),
                state,
            });
        }
    }
}
