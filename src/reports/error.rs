//! What can go wrong finding, parameterising, running or writing a canned
//! report.

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use rust_xlsxwriter::XlsxError;

/// Any failure of the report runner. Messages name the offending report,
/// file, flag or value so that a command-line user can act on them.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No canned query has this name.
    #[error("unknown report {name:?}; known reports: {known}")]
    UnknownReport {
        /// The name asked for.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// A `queries/*.sql` file's comment header is malformed or incomplete.
    #[error("queries/{file}: {message}")]
    Header {
        /// The file name (`NAME.sql`).
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// A parameter was given that the report does not take.
    #[error("report {report} does not take {flag} (its parameters: {declared})")]
    UndeclaredParam {
        /// The report's name.
        report: String,
        /// The command-line flag, e.g. `--period`.
        flag: &'static str,
        /// The parameters the report does take, space-separated.
        declared: String,
    },
    /// A period is not `Q1`..`Q4` or `YEAR`.
    #[error("unknown period {0:?} (expected Q1, Q2, Q3, Q4 or YEAR)")]
    BadPeriod(String),
    /// A `--from` value is not `YEAR:PERIOD`.
    #[error("bad base period {0:?} (expected YEAR:PERIOD, e.g. 2023:Q4)")]
    BadFrom(String),
    /// A `--unit` value is not `country` or `region|district|school:ID`.
    #[error(
        "unknown unit {0:?} (expected country, region:ID, district:ID or school:ID with a positive integer ID, or region:* for every region)"
    )]
    BadUnit(String),
    /// The unit's id is not in its reference table.
    #[error("no {level} with id {id} in the data")]
    UnknownUnit {
        /// `region`, `district` or `school`.
        level: &'static str,
        /// The id asked for.
        id: i64,
    },
    /// `--unit region:*` asked of an output that has no sheets.
    #[error("--unit region:* writes one sheet per region and needs --format xlsx (not {format})")]
    EveryRegionNeedsWorkbook {
        /// The output format asked for.
        format: String,
    },
    /// The data holds nothing for the year or period asked for.
    #[error("the data holds nothing for {asked} (it holds {held})")]
    NoData {
        /// `year 2031`, `2024 Q4`.
        asked: String,
        /// What it does hold, e.g. `years: 2023, 2024`.
        held: String,
    },
    /// A default could not be chosen because the data holds no such period.
    #[error("cannot choose a default {what}: {why}")]
    NoDefault {
        /// Which parameter (`--year`, `--period`).
        what: &'static str,
        /// Why, e.g. "student_status is empty".
        why: String,
    },
    /// The result does not fit in one worksheet.
    #[error("{rows} rows do not fit in one worksheet (at most {max})")]
    TooManyRows {
        /// Rows of the result.
        rows: usize,
        /// Data rows a worksheet can hold below the two header rows.
        max: usize,
    },
    /// DataFusion failed planning or running the query.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// An Arrow conversion of a result column failed.
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    /// Writing the workbook failed.
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] XlsxError),
}

impl ReportError {
    /// A [`ReportError::Header`] for `file`.
    pub(crate) fn header(file: &str, message: impl Into<String>) -> ReportError {
        ReportError::Header {
            file: file.to_string(),
            message: message.into(),
        }
    }
}
