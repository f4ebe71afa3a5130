//! `COPY (query) TO STDOUT` — what psql's `\copy (…) to 'file.csv' csv
//! header` sends — streamed as CSV or PostgreSQL's text format. A COPY that
//! would read or write a file or program on the server is refused (42501):
//! the server's files are not the client's to touch.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Statement,
};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::api::results::{CopyResponse, Response};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::copy::CopyData;
use futures::StreamExt;

use crate::sqlstate::{code, user_error};

/// The COPY hook.
#[derive(Debug)]
pub struct CopyHook;

/// How rows are written.
#[derive(Debug, Clone, PartialEq)]
struct CopyFormat {
    csv: bool,
    header: bool,
    delimiter: char,
    null: String,
}

impl CopyFormat {
    fn text() -> CopyFormat {
        CopyFormat {
            csv: false,
            header: false,
            delimiter: '\t',
            null: "\\N".to_string(),
        }
    }

    fn from_options(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> CopyFormat {
        let mut format = CopyFormat::text();
        let mut delimiter = None;
        let mut null = None;
        for option in options {
            match option {
                CopyOption::Format(name) if name.value.eq_ignore_ascii_case("csv") => {
                    format.csv = true;
                }
                CopyOption::Header(on) => format.header = *on,
                CopyOption::Delimiter(c) => delimiter = Some(*c),
                CopyOption::Null(s) => null = Some(s.clone()),
                _ => {}
            }
        }
        for option in legacy {
            match option {
                CopyLegacyOption::Csv(csv_options) => {
                    format.csv = true;
                    if csv_options
                        .iter()
                        .any(|o| matches!(o, CopyLegacyCsvOption::Header))
                    {
                        format.header = true;
                    }
                }
                CopyLegacyOption::Header => format.header = true,
                CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
                CopyLegacyOption::Null(s) => null = Some(s.clone()),
                _ => {}
            }
        }
        if format.csv {
            format.delimiter = ',';
            format.null = String::new();
        }
        if let Some(d) = delimiter {
            format.delimiter = d;
        }
        if let Some(n) = null {
            format.null = n;
        }
        format
    }

    /// One field, quoted or escaped as the format wants.
    fn field(&self, value: &str, out: &mut String) {
        if self.csv {
            let needs_quotes = value.is_empty()
                || value.contains(self.delimiter)
                || value.contains(['"', '\n', '\r'])
                || value == self.null;
            if needs_quotes {
                out.push('"');
                out.push_str(&value.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(value);
            }
        } else {
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == self.delimiter => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
        }
    }

    fn line<'a>(&self, fields: impl Iterator<Item = Option<&'a str>>) -> CopyData {
        let mut out = String::new();
        for (i, value) in fields.enumerate() {
            if i > 0 {
                out.push(self.delimiter);
            }
            match value {
                Some(v) => self.field(v, &mut out),
                None => out.push_str(&self.null),
            }
        }
        out.push('\n');
        CopyData::new(Bytes::from(out))
    }
}

/// The lines of one batch.
fn batch_lines(format: &CopyFormat, batch: &RecordBatch) -> PgWireResult<Vec<CopyData>> {
    let options = FormatOptions::default()
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f%:z"));
    let formatters = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
    let mut lines = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let values: Vec<Option<String>> = batch
            .columns()
            .iter()
            .zip(&formatters)
            .map(|(col, f)| (!col.is_null(row)).then(|| f.value(row).to_string()))
            .collect();
        lines.push(format.line(values.iter().map(|v| v.as_deref())));
    }
    Ok(lines)
}

async fn copy_out(statement: &Statement, ctx: &SessionContext) -> Option<PgWireResult<Response>> {
    let Statement::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        ..
    } = statement
    else {
        return None;
    };
    if !*to || !matches!(target, CopyTarget::Stdout) {
        return Some(Err(user_error(
            code::INSUFFICIENT_PRIVILEGE,
            "COPY may only write to the client (COPY … TO STDOUT, or psql's \\copy); \
             reading or writing files or programs on the server is not allowed",
        )));
    }
    let query = match source {
        CopySource::Query(query) => query.to_string(),
        CopySource::Table {
            table_name,
            columns,
        } => {
            let columns = if columns.is_empty() {
                "*".to_string()
            } else {
                columns
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!("SELECT {columns} FROM {table_name}")
        }
    };
    let format = CopyFormat::from_options(options, legacy_options);
    Some(run(ctx, &query, format).await)
}

async fn run(ctx: &SessionContext, query: &str, format: CopyFormat) -> PgWireResult<Response> {
    let api = |e: datafusion::error::DataFusionError| PgWireError::ApiError(Box::new(e));
    let df = ctx.sql(query).await.map_err(api)?;
    let columns = df.schema().fields().len();
    let header = format.header.then(|| {
        let names: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        format.line(names.iter().map(|n| Some(n.as_str())))
    });
    let batches = df.execute_stream().await.map_err(api)?;
    let format = Arc::new(format);
    let rows = batches.flat_map(move |batch| {
        let lines = batch.map_err(api).and_then(|b| batch_lines(&format, &b));
        let items: Vec<PgWireResult<CopyData>> = match lines {
            Ok(lines) => lines.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        futures::stream::iter(items)
    });
    Ok(Response::CopyOut(CopyResponse::new(
        0,
        columns,
        with_header(header, rows),
    )))
}

/// `rows` with `header` in front, in the first row's message: pgwire's
/// `COPY n` tag counts messages, and a header of its own made it one more
/// than the rows. (With no rows the header goes alone and is counted.)
fn with_header(
    header: Option<CopyData>,
    rows: impl futures::Stream<Item = PgWireResult<CopyData>> + Send + 'static,
) -> impl futures::Stream<Item = PgWireResult<CopyData>> + Send + 'static {
    let rows = Box::pin(rows);
    futures::stream::unfold(
        (header, rows, false),
        |(header, mut rows, done)| async move {
            if done {
                return None;
            }
            match (header, rows.next().await) {
                (Some(header), Some(Ok(first))) => {
                    let mut joined = header.data.to_vec();
                    joined.extend_from_slice(&first.data);
                    Some((Ok(CopyData::new(joined.into())), (None, rows, false)))
                }
                (Some(header), None) => Some((Ok(header), (None, rows, true))),
                (_, Some(item)) => Some((item, (None, rows, false))),
                (None, None) => None,
            }
        },
    )
}

#[async_trait]
impl QueryHook for CopyHook {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        session_context: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        copy_out(statement, session_context).await
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _session_context: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        matches!(statement, Statement::Copy { .. }).then(|| {
            Err(user_error(
                code::FEATURE_NOT_SUPPORTED,
                "COPY is served over the simple query protocol only",
            ))
        })
    }

    async fn handle_extended_query(
        &self,
        _statement: &Statement,
        _logical_plan: &LogicalPlan,
        _params: &ParamValues,
        _session_context: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_text_escapes() {
        let csv = CopyFormat::from_options(&[], &[CopyLegacyOption::Csv(vec![])]);
        let line = csv.line([Some("a,b"), None, Some("say \"hi\""), Some("")].into_iter());
        assert_eq!(&line.data[..], b"\"a,b\",,\"say \"\"hi\"\"\",\"\"\n");
        let text = CopyFormat::text();
        let line = text.line([Some("a\tb"), None, Some("x\\y")].into_iter());
        assert_eq!(&line.data[..], b"a\\tb\t\\N\tx\\\\y\n");
    }

    #[test]
    fn header_and_format_options_are_read() {
        let f = CopyFormat::from_options(
            &[CopyOption::Format("csv".into()), CopyOption::Header(true)],
            &[],
        );
        assert!(f.csv && f.header);
        assert_eq!(f.delimiter, ',');
        let legacy = CopyFormat::from_options(
            &[],
            &[CopyLegacyOption::Csv(vec![CopyLegacyCsvOption::Header])],
        );
        assert!(legacy.csv && legacy.header);
    }
}
