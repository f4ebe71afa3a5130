//! `sapa generate`: a deterministic synthetic dataset.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sapa::ingest::{IngestOptions, ingest_dir};
use sapa::storage::DataLocation;
use sapa_datasets::csv_sink::CsvDirSink;
use sapa_datasets::generate::{GenerateOptions, GenerateSummary, Progress, Scale, generate};

use super::CliError;

/// What `sapa generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A Sapa dataset, ready to serve and query.
    Parquet,
    /// The SPEC §10 interchange CSVs, as `sapa ingest` reads them.
    Csv,
}

/// Arguments of `sapa generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// How much of the country: tiny (tests, a second), region (~250k students) or national.
    #[arg(long, default_value = "tiny")]
    scale: Scale,
    /// Academic years by start year, `2021..2025` or one year `2024`.
    #[arg(long, default_value = "2021..2025", value_parser = parse_years)]
    years: RangeInclusive<i32>,
    /// The seed: the same seed gives byte-identical output.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to write (a directory).
    #[arg(long)]
    out: PathBuf,
    /// Parquet (a dataset) or CSV (interchange files).
    #[arg(long, value_enum, default_value_t = Format::Parquet)]
    format: Format,
    /// Print no progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// Parses `2021..2025`, `2021..=2025` or `2024`.
fn parse_years(text: &str) -> Result<RangeInclusive<i32>, String> {
    let year = |s: &str| {
        s.trim()
            .parse::<i32>()
            .map_err(|_| format!("{s:?} is not a year (expected e.g. 2021..2025)"))
    };
    let (from, to) = match text.split_once("..") {
        Some((a, b)) => (year(a)?, year(b.trim_start_matches('='))?),
        None => (year(text)?, year(text)?),
    };
    if from > to {
        return Err(format!("{text:?}: the first year comes after the last"));
    }
    Ok(from..=to)
}

pub(crate) async fn run(args: GenerateArgs) -> Result<(), CliError> {
    let opts = GenerateOptions {
        scale: args.scale,
        years: args.years.clone(),
        seed: args.seed,
    };
    let started = Instant::now();
    match args.format {
        Format::Csv => {
            let summary = write_csv(&opts, &args.out, args.quiet)?;
            report(&summary, &args.out, started);
        }
        Format::Parquet => {
            // The dataset goes through the same validated commit as any
            // ingest: generate the interchange files beside it, then ingest.
            let staging = args.out.join("_sapa_generate_csv");
            let summary = write_csv(&opts, &staging, args.quiet)?;
            report(&summary, &staging, started);
            let location = DataLocation::local(&args.out)?;
            let result = ingest_dir(&staging, &location, &IngestOptions::default()).await;
            let removed = std::fs::remove_dir_all(&staging);
            let ingest = result?;
            removed?;
            println!(
                "dataset version {} at {} in {:.1}s",
                ingest.version,
                args.out.display(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

fn write_csv(opts: &GenerateOptions, dir: &Path, quiet: bool) -> Result<GenerateSummary, CliError> {
    let mut sink = CsvDirSink::create(dir)?;
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = generate(opts, &mut sink, &mut |p: &Progress| {
        bar.set_length(p.rows_expected.max(p.rows));
        bar.set_position(p.rows);
        bar.set_message(p.table.name());
    })?;
    sink.finish()?;
    bar.finish_and_clear();
    Ok(summary)
}

fn report(summary: &GenerateSummary, dir: &Path, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    let rows: u64 = summary.rows.values().sum();
    let bytes: u64 = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "generated {rows} rows ({:.0} rows/s), {bytes} bytes in {}",
        rows as f64 / secs.max(1e-9),
        dir.display()
    );
    for (table, n) in &summary.rows {
        println!("  {:<12} {n:>12}", table.name());
    }
}

#[cfg(test)]
mod tests {
    use super::parse_years;

    #[test]
    fn years_parse() {
        assert_eq!(parse_years("2021..2025"), Ok(2021..=2025));
        assert_eq!(parse_years("2021..=2025"), Ok(2021..=2025));
        assert_eq!(parse_years("2024"), Ok(2024..=2024));
        assert!(parse_years("2025..2021").is_err());
        assert!(parse_years("twenty").unwrap_err().contains("\"twenty\""));
    }
}
