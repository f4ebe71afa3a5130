//! `sapa ingest`: validate an interchange directory and commit it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sapa::ingest::{IngestOptions, IngestReport, Progress, ingest_dir};
use sapa::storage::DataLocation;

use super::logging::{self, LogArgs};
use super::{CliError, default_data_dir};

/// Arguments of `sapa ingest`.
#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// The directory of SPEC §10 files (`regions.csv` … `marks.csv`, or `.xlsx`).
    input: PathBuf,
    /// The dataset to add them to (a directory; created on first ingest).
    #[arg(long, env = "SAPA_DATA")]
    data: Option<String>,
    /// How many located errors to print (all are counted).
    #[arg(long, default_value_t = 100)]
    max_errors: usize,
    /// Memory the merge may use before it spills to disk, in MiB.
    #[arg(long, default_value_t = 2048)]
    memory_mb: usize,
    /// Print no progress bar.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    log: LogArgs,
}

pub(crate) async fn run(args: IngestArgs) -> Result<(), CliError> {
    if let Some(file) = &args.log.log_file {
        logging::init(args.log.log_format, Some(file))?;
    }
    let data = args
        .data
        .unwrap_or_else(|| default_data_dir().display().to_string());
    let location = DataLocation::parse(&data)?;
    let mut opts = IngestOptions {
        error_limit: args.max_errors,
        ..IngestOptions::default()
    };
    opts.engine.memory_limit = args.memory_mb << 20;
    let bar = (!args.quiet).then(progress_bar);
    if let Some(bar) = &bar {
        let bar = Arc::new(Mutex::new(bar.clone()));
        opts.progress = Some(Arc::new(move |p: &Progress| {
            if let Ok(bar) = bar.lock() {
                show(&bar, p);
            }
        }));
    }
    let result = ingest_dir(&args.input, &location, &opts).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = match result {
        Ok(report) => report,
        Err(err) => {
            logging::ingest_not_committed(&data, &args.input, &err.to_string());
            return Err(err.into());
        }
    };
    if report.committed {
        logging::ingest_committed(
            &data,
            &args.input,
            report.version,
            report.marks_new,
            report.elapsed.as_secs_f64(),
        );
    } else {
        logging::ingest_not_committed(&data, &args.input, "nothing new");
    }
    print_report(&report, &data);
    Ok(())
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn show(bar: &ProgressBar, p: &Progress) {
    match p {
        Progress::Reading {
            file,
            bytes_read,
            bytes_total,
            rows,
        } => {
            bar.set_length(*bytes_total);
            bar.set_position(*bytes_read);
            bar.set_message(format!("reading {file}: {rows} rows"));
        }
        Progress::Read { file, rows } => bar.println(format!("read {file}: {rows} rows")),
        Progress::Merging {
            academic_year,
            period,
            done,
            total,
        } => {
            bar.set_length(*total as u64);
            bar.set_position(*done as u64);
            bar.set_message(format!("merging marks {academic_year} {period}"));
        }
        Progress::Materialising {
            academic_year,
            period,
            done,
            total,
        } => {
            bar.set_length(*total as u64);
            bar.set_position(*done as u64);
            bar.set_message(format!("student statuses {academic_year} {period}"));
        }
        Progress::Committing { version } => bar.set_message(format!("committing v{version}")),
    }
}

fn print_report(report: &IngestReport, data: &str) {
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if report.committed {
        println!(
            "committed version {} of {data} in {:.1}s: {} new mark versions, {} already known, {} look-alike spellings normalised",
            report.version,
            report.elapsed.as_secs_f64(),
            report.marks_new,
            report.marks_duplicate,
            report.look_alikes,
        );
    } else {
        println!(
            "nothing new: version {} of {data} already holds every row ({} mark versions already known)",
            report.version, report.marks_duplicate
        );
    }
    println!(
        "{:<16} {:>12} {:>6} {:>14}",
        "table", "rows", "files", "bytes"
    );
    for (name, size) in &report.tables {
        println!(
            "{:<16} {:>12} {:>6} {:>14}",
            name, size.rows, size.files, size.bytes
        );
    }
}
