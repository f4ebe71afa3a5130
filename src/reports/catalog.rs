//! The canned queries of `queries/`, embedded in the binary so that
//! `sapa report` works from any directory, and the parser of their comment
//! header.
//!
//! Each file opens with `-- key: value` lines, then free comment text, then
//! one SQL statement:
//!
//! ```sql
//! -- title: Quarterly performance report
//! -- title_kk: Тоқсан бойынша үлгерім есебі
//! -- title_ru: Отчёт об успеваемости за четверть
//! -- answers: per school × parallel, the statuses of the students …
//! -- for: national-report authors, governing bodies
//! -- params: year period unit
//! -- Anything after the first line that is not `key: value` is description.
//! SELECT …
//! ```
//!
//! A header line whose text after `--` starts with two or more spaces (or a
//! tab) continues the previous key's value. `title` and `params` are
//! required (`params` may be empty); `title_kk`/`title_ru` default to
//! `title`. The placeholders the SQL uses must be exactly those of the
//! declared params (see [`Param::placeholders`]), so that a flag is never
//! silently ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::{Param, ReportError};

/// The embedded `queries/*.sql` files, by name (the file name without
/// `.sql`), sorted. Adding a query is one line here; a unit test checks this
/// list against the directory.
const SOURCES: &[(&str, &str)] = &[
    (
        "annual_report",
        include_str!("../../queries/annual_report.sql"),
    ),
    ("breakdowns", include_str!("../../queries/breakdowns.sql")),
    (
        "grading_completeness",
        include_str!("../../queries/grading_completeness.sql"),
    ),
    (
        "indicator_blocks",
        include_str!("../../queries/indicator_blocks.sql"),
    ),
    (
        "indicator_dynamics",
        include_str!("../../queries/indicator_dynamics.sql"),
    ),
    (
        "late_and_changed_marks",
        include_str!("../../queries/late_and_changed_marks.sql"),
    ),
    (
        "national_statistics",
        include_str!("../../queries/national_statistics.sql"),
    ),
    (
        "period_comparison",
        include_str!("../../queries/period_comparison.sql"),
    ),
    (
        "quarterly_report",
        include_str!("../../queries/quarterly_report.sql"),
    ),
    ("rankings", include_str!("../../queries/rankings.sql")),
    (
        "schools_below_level",
        include_str!("../../queries/schools_below_level.sql"),
    ),
    (
        "status_transitions",
        include_str!("../../queries/status_transitions.sql"),
    ),
];

/// One canned query of `queries/`, with its parsed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedQuery {
    /// The name `sapa report` takes: the file name without `.sql`.
    pub name: &'static str,
    /// The English title (`-- title:`).
    pub title: String,
    /// The Kazakh title (`-- title_kk:`; the English one if absent).
    pub title_kk: String,
    /// The Russian title (`-- title_ru:`; the English one if absent).
    pub title_ru: String,
    /// What the query answers (`-- answers:`; empty if absent).
    pub answers: String,
    /// Whom it is for (`-- for:`; empty if absent).
    pub audience: String,
    /// The parameters it takes (`-- params:`), in [`Param::ALL`] order.
    pub params: Vec<Param>,
    /// The free comment text after the header lines, one line per line.
    pub description: String,
    /// The whole file as one SQL statement (comments included, a trailing
    /// `;` removed).
    pub sql: &'static str,
}

impl CannedQuery {
    /// Parses the file `queries/{name}.sql` whose text is `text`.
    pub fn parse(name: &'static str, text: &'static str) -> Result<CannedQuery, ReportError> {
        let file = format!("{name}.sql");
        let header = Header::parse(&file, text)?;
        let title = header
            .get("title")
            .ok_or_else(|| ReportError::header(&file, "missing the `-- title:` header line"))?;
        let params_line = header
            .get("params")
            .ok_or_else(|| ReportError::header(&file, "missing the `-- params:` header line"))?;
        let params = parse_params(&file, &params_line)?;
        check_placeholders(&file, text, &params)?;
        let or_title = |key: &str| header.get(key).unwrap_or_else(|| title.clone());
        Ok(CannedQuery {
            name,
            title_kk: or_title("title_kk"),
            title_ru: or_title("title_ru"),
            answers: header.get("answers").unwrap_or_default(),
            audience: header.get("for").unwrap_or_default(),
            params,
            description: header.description.join("\n"),
            sql: text.trim().trim_end_matches(';'),
            title,
        })
    }

    /// Whether the query declares `param`.
    pub fn takes(&self, param: Param) -> bool {
        self.params.contains(&param)
    }

    /// The declared parameters' names, space-separated (`(none)` if none).
    pub fn params_text(&self) -> String {
        if self.params.is_empty() {
            return "(none)".to_string();
        }
        let names: Vec<&str> = self.params.iter().map(|p| p.name()).collect();
        names.join(" ")
    }
}

/// Every canned query, sorted by name. Fails only if an embedded file's
/// header is malformed (a unit test guards against that).
pub fn canned_queries() -> Result<&'static [CannedQuery], ReportError> {
    // Parsed once: the texts are compiled in, so the answer never changes.
    static PARSED: OnceLock<Result<Vec<CannedQuery>, (String, String)>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        SOURCES
            .iter()
            .map(|&(name, text)| CannedQuery::parse(name, text))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| match err {
                ReportError::Header { file, message } => (file, message),
                other => (String::from("?"), other.to_string()),
            })
    });
    match parsed {
        Ok(queries) => Ok(queries),
        Err((file, message)) => Err(ReportError::Header {
            file: file.clone(),
            message: message.clone(),
        }),
    }
}

/// The canned query called `name`, or an error listing the known names.
pub fn find(name: &str) -> Result<&'static CannedQuery, ReportError> {
    let queries = canned_queries()?;
    queries
        .iter()
        .find(|q| q.name == name)
        .ok_or_else(|| ReportError::UnknownReport {
            name: name.to_string(),
            known: queries
                .iter()
                .map(|q| q.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The `key: value` lines and the free text of a file's leading comment.
struct Header {
    values: BTreeMap<String, String>,
    description: Vec<String>,
}

impl Header {
    fn parse(file: &str, text: &str) -> Result<Header, ReportError> {
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let mut description = Vec::new();
        let mut last_key: Option<String> = None;
        let mut in_keys = true;
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some(body) = line.strip_prefix("--") else {
                break; // the SQL starts
            };
            if in_keys {
                if let Some((key, value)) = key_value(body) {
                    if values.insert(key.clone(), value).is_some() {
                        return Err(ReportError::header(
                            file,
                            format!("the `-- {key}:` header line appears twice"),
                        ));
                    }
                    last_key = Some(key);
                    continue;
                }
                let indented = body.starts_with("  ") || body.starts_with('\t');
                if indented && let Some(value) = last_key.as_ref().and_then(|k| values.get_mut(k)) {
                    value.push(' ');
                    value.push_str(body.trim());
                    continue;
                }
                in_keys = false;
            }
            description.push(body.trim().to_string());
        }
        Ok(Header {
            values,
            description,
        })
    }

    fn get(&self, key: &str) -> Option<String> {
        self.values.get(key).cloned()
    }
}

/// `key: value` if `body` (a comment without its `--`) is a header line:
/// a key of ASCII letters, digits and `_`, a colon, a value.
fn key_value(body: &str) -> Option<(String, String)> {
    let (key, value) = body.trim_start().split_once(':')?;
    let is_key = !key.is_empty()
        && key.len() <= 32
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_key.then(|| (key.to_ascii_lowercase(), value.trim().to_string()))
}

/// The `-- params:` value: names from [`Param`], separated by spaces or
/// commas, each at most once.
fn parse_params(file: &str, line: &str) -> Result<Vec<Param>, ReportError> {
    let mut params = BTreeSet::new();
    for word in line.split(|c: char| c.is_whitespace() || c == ',') {
        if word.is_empty() {
            continue;
        }
        let param = Param::from_name(word).ok_or_else(|| {
            ReportError::header(
                file,
                format!(
                    "unknown parameter {word:?} in `-- params:` (known: year period from unit)"
                ),
            )
        })?;
        if !params.insert(param) {
            return Err(ReportError::header(
                file,
                format!("parameter {word:?} is listed twice in `-- params:`"),
            ));
        }
    }
    Ok(params.into_iter().collect())
}

/// Checks that the SQL's placeholders are exactly those of `params`.
fn check_placeholders(file: &str, text: &str, params: &[Param]) -> Result<(), ReportError> {
    let used = placeholders(text);
    for name in &used {
        match Param::of_placeholder(name) {
            None => {
                return Err(ReportError::header(
                    file,
                    format!("${name} is not a placeholder the runner binds"),
                ));
            }
            Some(param) if !params.contains(&param) => {
                return Err(ReportError::header(
                    file,
                    format!("the SQL uses ${name} but `-- params:` does not declare `{param}`"),
                ));
            }
            Some(_) => {}
        }
    }
    for param in params {
        if !param.placeholders().iter().any(|p| used.contains(*p)) {
            let names: Vec<String> = param
                .placeholders()
                .iter()
                .map(|p| format!("${p}"))
                .collect();
            return Err(ReportError::header(
                file,
                format!(
                    "`-- params:` declares `{param}` but the SQL uses none of {}",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The names of the `$name` placeholders in `sql`, outside comments and
/// quoted strings or identifiers.
fn placeholders(sql: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            // A doubled quote inside a string ends it and reopens it at
            // once, which this loop handles without special casing.
            '\'' | '"' => {
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                }
            }
            '$' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if !(n.is_ascii_alphanumeric() || n == '_') {
                        break;
                    }
                    name.push(n);
                    chars.next();
                }
                if !name.is_empty() {
                    found.insert(name);
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests;
