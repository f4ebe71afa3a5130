//! The same relations on a Ballista cluster reading `s3://` (issue 21 §2):
//! the tiny country ingested into a local directory and into a real
//! `moto_server`; a scheduler and two executors (child processes on
//! loopback, given the `AWS_*` variables) run every plan of a front end
//! opened on the S3 URL. Every stored table, view, "as of" function and
//! canned query, and a district user's scoped views, answer as locally.

use datafusion::prelude::SessionContext;
use sapa::engine::EngineOptions;
use sapa::storage::DataLocation;

use super::s3::{S3Server, everything, ingest_both, scoped_rows};
use crate::cluster_support::Cluster;

/// Whether `sql` runs on the cluster, as `EXPLAIN` shows it.
async fn runs_on_cluster(ctx: &SessionContext, sql: &str) -> bool {
    let batches = ctx
        .sql(&format!("EXPLAIN {sql}"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    text.contains("ClusterExec")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_reading_s3_every_relation_answers_as_locally() {
    let s3 = S3Server::start();
    let root = tempfile::tempdir().unwrap();
    let (local, url, _) = ingest_both(&s3, root.path());
    let local = DataLocation::local(&local).unwrap();

    let cluster = Cluster::start_with_env(2, s3.env()).await;
    let here = super::session(&local).await;
    let there = super::session_with(&s3.location(url), cluster.engine_options()).await;

    // The plans go to the cluster (the local ones do not).
    for sql in [
        "SELECT * FROM indicators",
        "SELECT * FROM mark_audit",
        "SELECT * FROM modo_inflation",
        "SELECT * FROM indicators_as_of('2024-10-20')",
    ] {
        assert!(
            runs_on_cluster(&there, sql).await,
            "{sql}: not on the cluster"
        );
        assert!(!runs_on_cluster(&here, sql).await, "{sql}");
    }

    let from_disk = everything(&here).await;
    let through_cluster = everything(&there).await;
    assert_eq!(from_disk.len(), through_cluster.len());
    for ((name, disk), (_, remote)) in from_disk.iter().zip(&through_cluster) {
        assert!(
            disk.len() > 1 || name.contains("modo"),
            "{name}: no rows to compare"
        );
        assert_eq!(disk, remote, "{name}: the cluster answers differently");
    }

    // Scopes hold: a district's session sees through the cluster the rows
    // it sees locally.
    let district = scoped_rows(&local, EngineOptions::default(), None).await;
    let remote = scoped_rows(
        &s3.location(url),
        cluster.engine_options(),
        Some(district.0),
    )
    .await;
    assert!(!district.1.is_empty());
    assert_eq!(district.1, remote.1, "district {}", district.0);
}
