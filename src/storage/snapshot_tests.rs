//! Snapshots in a real (local) store: the as-of choice, the refusal of a
//! second registration, and the clean-up keeping what snapshots pin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::storage::{DataFile, cleanup};

/// A manifest of `version` naming one (fake) file of its own directory.
fn manifest_with_file(version: u64, created_at: &str) -> (Manifest, String) {
    let mut m = Manifest::new(version, version.checked_sub(1).filter(|v| *v > 0));
    m.created_at = created_at.to_string();
    let path = format!("tables/regions/v{version:06}/part-00000.parquet");
    m.tables.insert(
        "regions".into(),
        vec![DataFile {
            path: path.clone(),
            rows: 1,
            bytes: 4,
            academic_year: None,
            period: None,
        }],
    );
    (m, path)
}

async fn commit_fake(loc: &DataLocation, version: u64, created_at: &str) -> String {
    let (m, path) = manifest_with_file(version, created_at);
    loc.store()
        .put(&loc.path(&path), PutPayload::from(b"PAR1".to_vec()))
        .await
        .unwrap();
    manifest::commit(loc, &m, std::slice::from_ref(&path))
        .await
        .unwrap();
    path
}

#[tokio::test]
async fn as_of_picks_the_version_current_at_the_end_of_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let loc = DataLocation::local(dir.path()).unwrap();
    let day = |d: u32| NaiveDate::from_ymd_opt(2024, 10, d).unwrap();
    assert!(matches!(
        version_as_of(&loc, day(1)).await.unwrap_err(),
        SnapshotError::NoDataset(_)
    ));
    commit_fake(&loc, 1, "2024-10-05T10:00:00+00:00").await;
    commit_fake(&loc, 2, "2024-10-12T23:59:59.900+00:00").await;
    commit_fake(&loc, 3, "2024-10-13T00:00:00+00:00").await;
    let err = version_as_of(&loc, day(4)).await.unwrap_err();
    assert!(
        err.to_string().contains("end of 2024-10-04")
            && err
                .to_string()
                .contains("v1, was committed at 2024-10-05T10:00:00"),
        "{err}"
    );
    assert_eq!(version_as_of(&loc, day(5)).await.unwrap().version, 1);
    assert_eq!(version_as_of(&loc, day(11)).await.unwrap().version, 1);
    assert_eq!(version_as_of(&loc, day(12)).await.unwrap().version, 2);
    assert_eq!(version_as_of(&loc, day(13)).await.unwrap().version, 3);
    // A manifest newer than CURRENT (a failed ingest's) is no version.
    let (m4, _) = manifest_with_file(4, "2024-10-14T00:00:00+00:00");
    let json = serde_json::to_vec(&m4).unwrap();
    loc.store()
        .put(&loc.path(&Manifest::rel_path(4)), PutPayload::from(json))
        .await
        .unwrap();
    assert_eq!(version_as_of(&loc, day(20)).await.unwrap().version, 3);
}

#[tokio::test]
async fn a_cleanup_keeps_what_a_snapshot_references() {
    let dir = tempfile::tempdir().unwrap();
    let loc = DataLocation::local(dir.path()).unwrap();
    commit_fake(&loc, 1, "2024-10-05T10:00:00+00:00").await;
    let v2_file = commit_fake(&loc, 2, "2024-10-06T10:00:00+00:00").await;
    let snapshot = register(&loc, "2024-10", None).await.unwrap();
    assert_eq!(
        (snapshot.version, snapshot.schema.as_str()),
        (2, "snapshot_2024_10")
    );
    // An operator sets CURRENT back to version 1: version 2's manifest
    // and files now look uncommitted, but the snapshot pins them.
    let pointer = manifest::CurrentPointer {
        format: FORMAT_VERSION,
        version: 1,
        manifest: Manifest::rel_path(1),
    };
    loc.store()
        .put(
            &loc.path(manifest::CURRENT),
            PutPayload::from(serde_json::to_vec(&pointer).unwrap()),
        )
        .await
        .unwrap();
    let stray = "tables/regions/v000002/part-00001.parquet";
    loc.store()
        .put(&loc.path(stray), PutPayload::from(b"x".to_vec()))
        .await
        .unwrap();
    let current = manifest::read_current(&loc).await.unwrap().unwrap();
    assert_eq!(current.version, 1);
    let removed = cleanup::remove_uncommitted(&loc, Some(&current))
        .await
        .unwrap();
    assert_eq!(removed, 1, "only the stray file goes");
    for kept in [v2_file.as_str(), "_sapa/manifests/v000002.json"] {
        assert!(dir.path().join(kept).is_file(), "{kept} removed");
    }
    assert!(!dir.path().join(stray).exists());
    assert_eq!(list(&loc).await.unwrap(), vec![snapshot]);
}

#[tokio::test]
async fn a_second_registration_of_a_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let loc = DataLocation::local(dir.path()).unwrap();
    assert!(matches!(
        register(&loc, "2024-10", None).await.unwrap_err(),
        SnapshotError::NoDataset(_)
    ));
    commit_fake(&loc, 1, "2024-10-05T10:00:00+00:00").await;
    register(&loc, "2024-10", None).await.unwrap();
    let before = std::fs::read(dir.path().join("_sapa/snapshots/snapshot_2024_10.json")).unwrap();
    commit_fake(&loc, 2, "2024-10-06T10:00:00+00:00").await;
    for name in ["2024-10", "2024_10", "2024-10".to_uppercase().as_str()] {
        let err = register(&loc, name, None).await.unwrap_err().to_string();
        assert!(
            err.contains("a snapshot \"2024-10\" (schema snapshot_2024_10, version 1"),
            "{err}"
        );
        assert_eq!(
            err.contains("would have the same schema"),
            name != "2024-10",
            "{err}"
        );
    }
    let after = std::fs::read(dir.path().join("_sapa/snapshots/snapshot_2024_10.json")).unwrap();
    assert_eq!(before, after);
    assert_eq!(list(&loc).await.unwrap().len(), 1);
}
