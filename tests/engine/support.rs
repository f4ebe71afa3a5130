//! Shared helpers of the engine tests: the generated tiny dataset, and
//! running the binary.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The academic year the tests report on.
pub const YEAR: &str = "2024";

/// The tiny dataset (`sapa generate --scale tiny --years 2023..2024
/// --seed 7`), generated once per test process, in a directory of its own.
pub fn data_dir() -> &'static PathBuf {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engine_tiny");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        generate_tiny("parquet", &dir);
        dir
    })
}

/// [`data_dir`] as the string the command line takes.
pub fn data() -> &'static str {
    data_dir().to_str().unwrap()
}

/// `sapa generate --scale tiny --years 2023..2024 --seed 7` into `dir`, as
/// a dataset (`parquet`) or interchange files (`csv`).
pub fn generate_tiny(format: &str, dir: &Path) {
    let out = sapa(&[
        "generate",
        "--scale",
        "tiny",
        "--years",
        "2023..2024",
        "--seed",
        "7",
        "--format",
        format,
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn sapa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sapa"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `sapa` and returns its stdout, failing the test on a failure.
pub fn sapa_ok(args: &[&str]) -> String {
    let out = sapa(args);
    assert!(
        out.status.success(),
        "sapa {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `sapa`, expects a failure, returns its stderr.
pub fn sapa_fails(args: &[&str]) -> String {
    let out = sapa(args);
    assert!(!out.status.success(), "sapa {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

/// A CSV text as its header and rows of fields.
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

pub fn query_csv(sql: &str) -> (Vec<String>, Vec<Vec<String>>) {
    parse_csv(&sapa_ok(&[
        "query",
        "--data",
        data(),
        "--format",
        "csv",
        sql,
    ]))
}
