//! A Ballista cluster for tests: a scheduler and executors, each a
//! `sapa cluster …` child process on loopback, killed when the test ends.
//! Shared by the server tests (`tests/server/cluster.rs`: the wire,
//! scopes, lost processes, cancel) and the engine tests
//! (`tests/engine/canned_queries/cluster.rs`: every relation over `s3://`).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sapa::cluster::SchedulerUrl;
use sapa::cluster::client::ClusterOptions;
use sapa::engine::EngineOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// `sapa ARGS`; with `SAPA_TEST_CLUSTER_LOGS=DIR` set, its log at `info`
/// goes to a file in DIR named for its role and port (to see what a
/// scheduler did when a test fails).
fn sapa(args: &[&str], env: &[(String, String)]) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sapa"));
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(dir) = std::env::var_os("SAPA_TEST_CLUSTER_LOGS") {
        let listen = args[args.iter().position(|a| *a == "--listen").unwrap() + 1];
        let name = format!("{}-{}.log", args[1], listen.replace(':', "_"));
        let path = std::path::Path::new(&dir).join(name);
        command
            .args(["--log-format", "text", "--log-file"])
            .arg(path);
    }
    Process(command.spawn().unwrap())
}

/// A scheduler and its executors.
pub(crate) struct Cluster {
    port: u16,
    /// How long the scheduler waits for a silent executor, in seconds.
    executor_timeout: u64,
    /// The variables executors start with (`AWS_*` for a dataset in S3).
    env: Vec<(String, String)>,
    scheduler: Option<Process>,
    executors: Vec<Process>,
}

impl Cluster {
    /// A scheduler and `executors` executors of two task slots each, all
    /// registered. The scheduler gives up on an executor silent for 30 s:
    /// the tests of a binary run at once on two cores, and a starved
    /// executor must not be dropped while it is merely slow.
    #[allow(dead_code)] // each test binary uses some of these
    pub(crate) async fn start(executors: usize) -> Cluster {
        Cluster::start_with(executors, Vec::new(), 30).await
    }

    /// As [`Cluster::start`], the executors started with `env`.
    #[allow(dead_code)]
    pub(crate) async fn start_with_env(executors: usize, env: Vec<(String, String)>) -> Cluster {
        Cluster::start_with(executors, env, 30).await
    }

    /// As [`Cluster::start_with_env`], the scheduler giving up on a silent
    /// executor after `executor_timeout` seconds (a test that kills one).
    pub(crate) async fn start_with(
        executors: usize,
        env: Vec<(String, String)>,
        executor_timeout: u64,
    ) -> Cluster {
        let mut cluster = Cluster {
            port: free_port(),
            executor_timeout,
            env,
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
        let timeout = self.executor_timeout.to_string();
        let args = [
            "cluster",
            "scheduler",
            "--listen",
            &listen,
            "--executor-timeout",
            &timeout,
        ];
        self.scheduler = Some(sapa(&args, &self.env));
    }

    #[allow(dead_code)]
    pub(crate) fn stop_scheduler(&mut self) {
        self.scheduler = None;
    }

    pub(crate) fn add_executor(&mut self) {
        let listen = format!("127.0.0.1:{}", free_port());
        let scheduler = self.url().to_string();
        let args = [
            "cluster",
            "executor",
            "--scheduler",
            &scheduler,
            "--listen",
            &listen,
            "--concurrency",
            "2",
        ];
        self.executors.push(sapa(&args, &self.env));
    }

    /// Kills the executor started first (SIGKILL: no goodbye to the
    /// scheduler).
    #[allow(dead_code)]
    pub(crate) fn kill_executor(&mut self) {
        self.executors.remove(0);
    }

    pub(crate) fn url(&self) -> SchedulerUrl {
        SchedulerUrl::parse(&format!("df://127.0.0.1:{}", self.port)).unwrap()
    }

    /// Waits (at most 120 s) until the scheduler's `/readyz` counts `n`
    /// executors.
    pub(crate) async fn wait_for(&self, n: usize) {
        self.wait_until(&format!("ready: {n} executors registered"))
            .await;
    }

    /// Waits (at most 120 s) until `/readyz` answers with `want` in it.
    pub(crate) async fn wait_until(&self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
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
