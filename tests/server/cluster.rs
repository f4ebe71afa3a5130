//! The same SQL on a Ballista cluster (issue 21 §2): a scheduler and two
//! executors, each a `sapa cluster …` child process on loopback, and a
//! front end that sends them its plans. Every answer is compared with the
//! answer of the same engine without the cluster.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use datafusion::prelude::SessionContext;
use sapa::engine::{Engine, EngineOptions};
use sapa::storage::DataLocation;

use crate::cluster_support::Cluster;
use crate::support::{dataset, rows_of};

/// The engine over the tiny dataset with the report views, on `options`.
pub(crate) async fn context(options: EngineOptions) -> SessionContext {
    let data = dataset().await;
    let engine = Engine::open(&DataLocation::local(&data).unwrap())
        .await
        .unwrap()
        .with_options(options);
    engine.sql_session().await.unwrap()
}

/// The plan `ctx` makes for `sql`, as `EXPLAIN` shows it.
async fn physical_plan(ctx: &SessionContext, sql: &str) -> String {
    let rows = rows_of(ctx, &format!("EXPLAIN {sql}")).await;
    rows.into_iter()
        .filter(|row| row[0] == "physical_plan")
        .map(|row| row[1].clone())
        .collect()
}

#[tokio::test]
async fn a_query_calling_a_sapa_function_runs_on_the_cluster_and_answers_as_locally() {
    let cluster = Cluster::start(2).await;
    let local = context(EngineOptions::default()).await;
    let remote = context(cluster.engine_options()).await;
    let sql = "SELECT mark_class(mark) AS class, count(*) AS n, sum(CAST(student_id AS BIGINT)) AS s \
               FROM marks GROUP BY 1 ORDER BY 1";
    let plan = physical_plan(&remote, sql).await;
    assert!(plan.starts_with("ClusterExec"), "{plan}");
    assert!(plan.contains("DataSourceExec"), "{plan}");
    assert!(!physical_plan(&local, sql).await.contains("ClusterExec"));
    let expected = rows_of(&local, sql).await;
    assert!(expected.len() > 1, "{expected:?}");
    assert_eq!(rows_of(&remote, sql).await, expected);
    // A query that reads no Parquet stays on the front end.
    assert!(
        !physical_plan(&remote, "SELECT 1")
            .await
            .contains("ClusterExec")
    );
}

/// A server over the tiny dataset whose plans run on `cluster`.
async fn serve_on(
    cluster: &Cluster,
    users: Option<std::sync::Arc<sapa::server::Users>>,
) -> SocketAddr {
    let data = dataset().await;
    let engine = Engine::open(&DataLocation::local(&data).unwrap())
        .await
        .unwrap()
        .with_options(cluster.engine_options());
    let server = sapa::server::Server::bind(
        engine,
        sapa::server::ServerOptions {
            listen: "127.0.0.1:0".to_string(),
            statement_timeout: Some(Duration::from_secs(60)),
            users,
            ..sapa::server::ServerOptions::default()
        },
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.run());
    addr
}

async fn wire_rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    let messages = client.simple_query(sql).await.unwrap();
    let mut rows = Vec::new();
    for message in messages {
        if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
            rows.push(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL").to_string())
                    .collect(),
            );
        }
    }
    rows
}

#[tokio::test]
async fn a_district_user_sees_through_the_cluster_what_it_sees_locally() {
    let cluster = Cluster::start(2).await;
    let (users, _) = crate::support::ministry_and_district().await;
    let password = "district secret";
    let local = crate::support::start_with_users(&users, password).await;
    let remote = serve_on(
        &cluster,
        Some(std::sync::Arc::new(crate::support::users_of(
            &users, password,
        ))),
    )
    .await;
    let district = "aigul";
    let here = crate::support::log_in(local, district, password)
        .await
        .unwrap();
    let there = crate::support::log_in(remote, district, password)
        .await
        .unwrap();
    // Rows compared as sets: `ORDER BY 1, …, 5` leaves ties in any order.
    for sql in [
        "SELECT school_id, count(*) FROM marks GROUP BY school_id ORDER BY school_id",
        "SELECT * FROM report_by_school ORDER BY 1, 2, 3, 4, 5",
        "SELECT count(*), count(DISTINCT district_id) FROM student_status",
    ] {
        let mut expected = wire_rows(&here, sql).await;
        assert!(!expected.is_empty(), "{sql}");
        let mut answer = wire_rows(&there, sql).await;
        expected.sort();
        answer.sort();
        assert_eq!(answer, expected, "{sql}");
    }
    let plan = wire_rows(&there, "EXPLAIN SELECT count(*) FROM marks").await;
    assert!(
        plan.iter().any(|row| row[1].starts_with("ClusterExec")),
        "{plan:?}"
    );
}

/// Billions of pairs: minutes of work on the cluster, all of it in the
/// stream of rows.
const MINUTES_LONG: &str = "SELECT count(*) FROM marks a CROSS JOIN marks b \
                            WHERE a.student_id + b.student_id = 7";

#[tokio::test]
async fn a_lost_executor_or_scheduler_is_a_clear_error_and_the_cluster_recovers() {
    // The scheduler gives up on the killed executor after 2 s.
    let mut cluster = Cluster::start_with(1, Vec::new(), 2).await;
    let addr = serve_on(&cluster, None).await;
    let client = crate::support::connect(addr).await;
    // Its executor dies while it runs.
    let slow = MINUTES_LONG;
    let count = "SELECT count(*) FROM marks";
    let expected = wire_rows(&client, count).await;
    let newest = || jobs_on(&cluster).last().map(|job| job.job_id.clone());
    let before = newest();
    let running = {
        let client = crate::support::connect(addr).await;
        tokio::spawn(async move { client.simple_query(slow).await.map(|_| ()) })
    };
    // Killed once its job is on the cluster.
    let deadline = Instant::now() + Duration::from_secs(30);
    while newest() == before {
        assert!(Instant::now() < deadline, "the slow query was not sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    cluster.kill_executor();
    let err = running
        .await
        .unwrap()
        .expect_err("its only executor died mid-query");
    let state = crate::support::sqlstate(&err);
    assert!(state == "58000" || state == "08006", "{state}: {err:?}");
    // Within the scheduler's 2 s executor timeout and grace, not minutes.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // With no executor left (the scheduler notices in 2 s), a new query
    // says so at once.
    cluster.wait_until("not ready: 0/1").await;
    let err = client.simple_query(count).await.unwrap_err();
    assert_eq!(crate::support::sqlstate(&err), "58000", "{err:?}");
    assert!(format!("{err:?}").contains("no executor"), "{err:?}");
    // An executor back: the same server answers again.
    cluster.add_executor();
    cluster.wait_for(1).await;
    assert_eq!(wire_rows(&client, count).await, expected);
    // The scheduler gone: 08006 naming it, within the connect timeout.
    cluster.stop_scheduler();
    let started = Instant::now();
    let err = client.simple_query(count).await.unwrap_err();
    assert_eq!(crate::support::sqlstate(&err), "08006", "{err:?}");
    assert!(format!("{err:?}").contains("scheduler"), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Local relations still answer on the front end.
    assert_eq!(
        wire_rows(&client, "SELECT 1").await,
        vec![vec!["1".to_string()]]
    );
    // The scheduler back: the executor finds it again, and so does the server.
    cluster.start_scheduler();
    cluster.wait_for(1).await;
    assert_eq!(wire_rows(&client, count).await, expected);
}

/// The jobs this process sent to `cluster`, as the front end recorded them.
fn jobs_on(cluster: &Cluster) -> Vec<sapa::cluster::jobs::JobRecord> {
    let url = cluster.url().to_string();
    sapa::cluster::jobs::recent_jobs()
        .into_iter()
        .filter(|job| job.scheduler == url)
        .collect()
}

/// Waits (at most 30 s) until the newest job sent to `cluster` is in
/// `state`; that job's record.
async fn newest_job_becomes(
    cluster: &Cluster,
    state: sapa::cluster::jobs::JobState,
) -> sapa::cluster::jobs::JobRecord {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let jobs = jobs_on(cluster);
        match jobs.last() {
            Some(job) if job.state == state => return job.clone(),
            last => assert!(Instant::now() < deadline, "{state:?}? {last:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_or_cancelled_query_cancels_its_cluster_job() {
    use sapa::cluster::jobs::JobState;
    let cluster = Cluster::start(2).await;
    let addr = serve_on(&cluster, None).await;
    let client = crate::support::connect(addr).await;
    let long = MINUTES_LONG;
    let count = "SELECT count(*) FROM marks";
    let expected = wire_rows(&client, count).await;
    assert_eq!(
        newest_job_becomes(&cluster, JobState::Finished).await.state,
        JobState::Finished
    );

    // statement_timeout: the client gets 57014, the scheduler the cancel.
    client
        .simple_query("SET statement_timeout = '1s'")
        .await
        .unwrap();
    let err = client.simple_query(long).await.unwrap_err();
    assert_eq!(crate::support::sqlstate(&err), "57014", "{err:?}");
    let timed_out = newest_job_becomes(&cluster, JobState::Cancelled).await;
    client
        .simple_query("SET statement_timeout = '60s'")
        .await
        .unwrap();

    // A cancel request: the same.
    let token = client.cancel_token();
    let running = client.simple_query(long);
    let cancel = async {
        // The job is submitted when its record appears.
        let deadline = Instant::now() + Duration::from_secs(30);
        while jobs_on(&cluster).last().map(|j| &j.job_id) == Some(&timed_out.job_id) {
            assert!(Instant::now() < deadline, "the second job was not sent");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    };
    let (result, ()) = tokio::join!(running, cancel);
    let err = result.unwrap_err();
    assert_eq!(crate::support::sqlstate(&err), "57014", "{err:?}");
    let cancelled = newest_job_becomes(&cluster, JobState::Cancelled).await;
    assert_ne!(cancelled.job_id, timed_out.job_id);

    // Both jobs gave their task slots back: a query answers at once, not
    // after minutes of cancelled work.
    let answer = tokio::time::timeout(Duration::from_secs(30), wire_rows(&client, count))
        .await
        .expect("the cluster is still busy with cancelled jobs");
    assert_eq!(answer, expected);
}
