//! The dataset in an S3-compatible store (issue 21, part 1): a real
//! `moto_server` on loopback (installed into the clients' virtualenv by
//! `tests/clients/install.sh`), `sapa ingest` and `sapa query` given
//! `s3://` URLs and the `AWS_*` variables, and every stored table, view,
//! "as of" function and canned query answering from S3 exactly as from a
//! local directory ingested from the same files.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use datafusion::prelude::SessionContext;
use sapa::engine::{Engine, EngineOptions};
use sapa::reports;

use super::session;
use sapa::storage::{DataLocation, StorageError, StoredTable, WriterLock};

/// A `moto_server` on a free loopback port, stopped on drop.
pub(crate) struct S3Server {
    child: Child,
    port: u16,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    pub(crate) fn start() -> S3Server {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/clients-venv/bin/moto_server");
        assert!(
            bin.exists(),
            "{} is missing: run tests/clients/install.sh",
            bin.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = S3Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The variables every S3 tool reads, pointing at this server.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", "sapa-test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "sapa-test-secret".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Creates `bucket` (moto takes an unsigned request).
    pub(crate) fn create_bucket(&self, bucket: &str) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    pub(crate) fn location(&self, url: &str) -> DataLocation {
        DataLocation::parse_with_env(url, self.env()).unwrap()
    }

    /// `sapa ARGS` with this server's variables; its output if it succeeded.
    pub(crate) fn sapa(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(env!("CARGO_BIN_EXE_sapa"))
            .args(args)
            .envs(self.env())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!("{stdout}{stderr}"))
        }
    }
}

/// Interchange files of the tiny country, made by the CLI.
fn csv_dir(root: &Path) -> PathBuf {
    let dir = root.join("csv");
    crate::support::generate_tiny("csv", &dir);
    dir
}

/// The tiny country's CSVs ingested by the CLI into `root/local` and into
/// `s3://ministry/marks/kz` (the bucket created): the local directory, the
/// URL and what the S3 ingest printed.
pub(crate) fn ingest_both(s3: &S3Server, root: &Path) -> (PathBuf, &'static str, String) {
    s3.create_bucket("ministry");
    let csv = csv_dir(root);
    let csv = csv.to_str().unwrap();
    let local = root.join("local");
    s3.sapa(&["ingest", "--quiet", "--data", local.to_str().unwrap(), csv])
        .unwrap();
    let url = "s3://ministry/marks/kz";
    let ingested = s3.sapa(&["ingest", "--quiet", "--data", url, csv]).unwrap();
    (local, url, ingested)
}

/// Every stored table, view and "as of" function, and every canned query,
/// as sorted CSV lines under its name.
pub(crate) async fn everything(ctx: &SessionContext) -> Vec<(String, Vec<String>)> {
    let mut sqls: Vec<(String, String)> = StoredTable::ALL
        .iter()
        .map(|t| (t.name().to_string(), format!("SELECT * FROM {}", t.name())))
        .collect();
    for (view, _) in sapa::engine::views::VIEWS {
        sqls.push((view.to_string(), format!("SELECT * FROM {view}")));
    }
    for f in sapa::engine::views::as_of::AS_OF_FUNCTIONS {
        for date in ["2023-10-29", "2024-10-20", "2025-06-01"] {
            sqls.push((
                format!("{}({date})", f.name),
                format!("SELECT * FROM {}('{date}')", f.name),
            ));
        }
    }
    let mut all = Vec::new();
    for (name, sql) in sqls {
        let frame = ctx
            .sql(&sql)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let schema = frame.schema().as_arrow().clone();
        let batches = frame.collect().await.unwrap();
        all.push((name, sorted_lines(&super::render(&schema, &batches))));
    }
    for query in reports::canned_queries().unwrap() {
        let (text, _, _) = super::run(ctx, query).await;
        all.push((query.name.to_string(), sorted_lines(&text)));
    }
    all
}

/// What a user of one district (the first, unless `district` is given)
/// sees in the views, as sorted rows, with the district's id; the engine
/// made with `options` (a cluster's, or the defaults).
pub(crate) async fn scoped_rows(
    location: &DataLocation,
    options: EngineOptions,
    district: Option<i64>,
) -> (i64, Vec<String>) {
    use sapa::engine::{MemoryBudget, Scope};
    let engine = Engine::open(location).await.unwrap().with_options(options);
    let district = match district {
        Some(d) => d,
        None => {
            let ctx = session(location).await;
            let batches = ctx
                .sql("SELECT min(district_id) FROM districts")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap();
            let col = batches[0].column(0);
            datafusion::arrow::compute::cast(col, &datafusion::arrow::datatypes::DataType::Int64)
                .unwrap()
                .as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .unwrap()
                .value(0)
        }
    };
    let factory = sapa::server::SessionFactory::new(&engine, MemoryBudget::new(1 << 30, 1 << 30))
        .await
        .unwrap();
    let ctx = factory.session();
    factory
        .log_in(&ctx, "aigul", Scope::District(district))
        .await
        .unwrap();
    let mut rows = Vec::new();
    for sql in [
        "SELECT * FROM indicators",
        "SELECT * FROM report_by_school",
        "SELECT * FROM student_status",
        "SELECT * FROM indicators_as_of('2024-10-20')",
    ] {
        let frame = ctx.sql(sql).await.unwrap();
        let schema = frame.schema().as_arrow().clone();
        let batches = frame.collect().await.unwrap();
        rows.push(format!("-- {sql}"));
        rows.extend(sorted_lines(&super::render(&schema, &batches)));
    }
    (district, rows)
}

/// The version `CURRENT` names.
async fn current_version(loc: &DataLocation) -> u64 {
    sapa::storage::manifest::read_current(loc)
        .await
        .unwrap()
        .unwrap()
        .version
}

pub(crate) fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.sort();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataset_ingested_into_s3_answers_as_the_local_one_does() {
    let s3 = S3Server::start();
    let root = tempfile::tempdir().unwrap();
    let (local, url, ingested) = ingest_both(&s3, root.path());
    assert!(ingested.contains("version 1"), "{ingested}");

    let from_disk = everything(&session(&DataLocation::local(&local).unwrap()).await).await;
    let from_s3 = everything(&session(&s3.location(url)).await).await;
    assert_eq!(from_disk.len(), from_s3.len());
    for ((name, disk), (_, remote)) in from_disk.iter().zip(&from_s3) {
        assert!(
            disk.len() > 1 || name.contains("modo"),
            "{name}: no rows to compare"
        );
        assert_eq!(disk, remote, "{name}: S3 answers differently");
    }

    // Scopes hold: a district's session sees the same rows from S3.
    let district = scoped_rows(
        &DataLocation::local(&local).unwrap(),
        EngineOptions::default(),
        None,
    )
    .await;
    let district_id = district.0;
    let from_s3_scoped = scoped_rows(
        &s3.location(url),
        EngineOptions::default(),
        Some(district_id),
    )
    .await;
    assert!(!district.1.is_empty());
    assert_eq!(
        district.1, from_s3_scoped.1,
        "district {district_id}: S3 differs"
    );

    // The CLI's query command reads the same URL.
    let count = s3
        .sapa(&[
            "query",
            "--data",
            url,
            "--format",
            "csv",
            "SELECT count(*) AS n FROM marks",
        ])
        .unwrap();
    let rows = from_disk
        .iter()
        .find(|(n, _)| n == "marks")
        .map(|(_, lines)| lines.len() - 1)
        .unwrap();
    assert!(count.contains(&rows.to_string()), "{count} vs {rows}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_s3_one_writer_wins_and_a_failed_ingest_changes_nothing() {
    let s3 = S3Server::start();
    s3.create_bucket("ministry");
    let root = tempfile::tempdir().unwrap();
    let csv = csv_dir(root.path());
    let url = "s3://ministry/kz";
    s3.sapa(&["ingest", "--quiet", "--data", url, csv.to_str().unwrap()])
        .unwrap();
    let loc = s3.location(url);

    // The writer lock: a second writer is refused, naming the first.
    let first = WriterLock::acquire(&loc, "ingest of week-49/")
        .await
        .unwrap();
    let refused = s3
        .sapa(&["ingest", "--quiet", "--data", url, csv.to_str().unwrap()])
        .unwrap_err();
    assert!(refused.contains("ingest of week-49/"), "{refused}");
    assert!(
        refused.contains("being written by another command"),
        "{refused}"
    );
    first.release().await;

    // Two commits of version 2 over version 1: the second loses, and a
    // commit built on a version that is no longer current loses too.
    let v1 = sapa::storage::manifest::read_current(&loc)
        .await
        .unwrap()
        .unwrap();
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.parent = Some(1);
    sapa::storage::manifest::commit(&loc, &v2, &[])
        .await
        .unwrap();
    let again = sapa::storage::manifest::commit(&loc, &v2, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            StorageError::Conflict {
                ours: 2,
                theirs: 2,
                ..
            }
        ),
        "{again}"
    );
    let mut stale = v1.clone();
    stale.version = 3;
    stale.parent = Some(1);
    let lost = sapa::storage::manifest::commit(&loc, &stale, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            lost,
            StorageError::Conflict {
                ours: 3,
                theirs: 2,
                ..
            }
        ),
        "{lost}"
    );
    assert!(
        lost.to_string()
            .contains("nothing of this command is visible"),
        "{lost}"
    );
    assert_eq!(current_version(&loc).await, 2);

    // A failed ingest (a mark outside the scale) leaves version 2 as it was.
    let before = everything(&session(&loc).await).await;
    let bad = root.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    let marks = std::fs::read_to_string(csv.join("marks.csv")).unwrap();
    let lines: Vec<&str> = marks.lines().collect();
    let header = lines[0];
    let columns: Vec<&str> = header.split(',').collect();
    let mark_col = columns.iter().position(|c| *c == "mark").unwrap();
    let mut fields: Vec<String> = lines[1].split(',').map(String::from).collect();
    fields[mark_col] = "11".into();
    let text = format!("{header}\n{}\n", fields.join(","));
    std::fs::write(bad.join("marks.csv"), text).unwrap();
    let failed = s3
        .sapa(&["ingest", "--quiet", "--data", url, bad.to_str().unwrap()])
        .unwrap_err();
    assert!(failed.contains("marks.csv"), "{failed}");
    assert_eq!(current_version(&loc).await, 2);
    assert_eq!(everything(&session(&loc).await).await, before);

    // A killed ingest: version 2 stays readable as it was, and its lock
    // (no kernel to release it) refuses the next writer until it expires.
    let mut ingest = Command::new(env!("CARGO_BIN_EXE_sapa"))
        .args(["ingest", "--quiet", "--data", url, csv.to_str().unwrap()])
        .envs(s3.env())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = loc.path(sapa::storage::lock::LOCK_FILE);
    while object_store::ObjectStoreExt::head(loc.store(), &lock)
        .await
        .is_err()
    {
        assert!(
            ingest.try_wait().unwrap().is_none(),
            "the ingest ended before it was killed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    ingest.kill().unwrap();
    ingest.wait().unwrap();
    assert_eq!(current_version(&loc).await, 2);
    assert_eq!(everything(&session(&loc).await).await, before);
    let refused = s3
        .sapa(&["ingest", "--quiet", "--data", url, csv.to_str().unwrap()])
        .unwrap_err();
    assert!(
        refused.contains("being written by another command"),
        "{refused}"
    );
    assert!(refused.contains("ingest of"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_goes_wrong_with_a_store_is_said_plainly() {
    let s3 = S3Server::start();
    s3.create_bucket("ministry");
    let endpoint = s3.endpoint();

    let missing = s3
        .sapa(&["query", "--data", "s3://no-such-bucket/kz", "SELECT 1"])
        .unwrap_err();
    assert!(
        missing.contains(&format!(
            "bucket no-such-bucket does not exist at {endpoint}"
        )),
        "{missing}"
    );

    let empty = s3
        .sapa(&["query", "--data", "s3://ministry/nothing/here", "SELECT 1"])
        .unwrap_err();
    assert!(
        empty.contains("no Sapa dataset at s3://ministry/nothing/here"),
        "{empty}"
    );

    // Nothing listens on the port of a server that was stopped.
    let gone = S3Server::start();
    let gone_endpoint = gone.endpoint();
    drop(gone);
    let out = Command::new(env!("CARGO_BIN_EXE_sapa"))
        .args(["query", "--data", "s3://ministry/kz", "SELECT 1"])
        .envs(s3.env())
        .env("AWS_ENDPOINT_URL", &gone_endpoint)
        .output()
        .unwrap();
    let unreachable = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(
        unreachable.contains(&format!("endpoint {gone_endpoint} cannot be reached")),
        "{unreachable}"
    );

    let denied = sapa::storage::remote::classify(
        &s3.location("s3://ministry/kz"),
        &object_store::Error::PermissionDenied {
            path: "kz/_sapa/CURRENT".into(),
            source: "403 Forbidden: AccessDenied".into(),
        },
    );
    assert_eq!(
        denied,
        Some(sapa::storage::remote::RemoteProblem::AccessDenied)
    );
}
