//! Parsing one input value by what its column holds (SPEC §10).
//!
//! Every parser returns either the typed value or what was expected, which
//! the caller turns into a located error.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sapa_datasets::schema::{Table, allowed_values};
use sapa_udfs::mark::{Spelling, parse_mark};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    /// A positive integer identifier (`Int64`).
    Id,
    /// An academic year, named by its start year (`Int32`).
    Year,
    /// An integer in a range (`Int32`).
    Int { min: i32, max: i32 },
    /// Free text; `allow_empty` for columns that may be blank.
    Text { allow_empty: bool },
    /// One of a fixed set of spellings (matched case-insensitively, stored
    /// as listed).
    Enum(&'static [&'static str]),
    /// `true` / `false`.
    Bool,
    /// A non-negative number; `nullable` if it may be empty.
    Number { nullable: bool },
    /// An ISO date; `nullable` if it may be empty.
    Date { nullable: bool },
    /// An ISO date or date-time (`recorded_at`).
    Timestamp,
    /// A mark of SPEC §2, empty allowed (a cleared mark).
    Mark,
}

/// A parsed value, borrowing text from the input row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    /// An empty value of a nullable column.
    Null,
    /// `Int64`.
    I64(i64),
    /// `Int32`.
    I32(i32),
    /// `Utf8` text from the input.
    Text(&'a str),
    /// `Utf8` text normalised to a fixed spelling (enums, marks).
    Static(&'static str),
    /// `Boolean`.
    Bool(bool),
    /// `Float64`.
    F64(f64),
    /// `Date32`: days since 1970-01-01.
    Date(i32),
    /// `Timestamp(µs)`: microseconds since 1970-01-01 00:00.
    Micros(i64),
}

/// The kind of a column of an interchange table.
pub(crate) fn kind_of(table: Table, column: &str) -> Kind {
    if let Some(values) = allowed_values(table, column) {
        return Kind::Enum(values);
    }
    match column {
        c if c.ends_with("_id") => Kind::Id,
        "academic_year" => Kind::Year,
        "parallel" => Kind::Int { min: 0, max: 12 },
        "grade" => Kind::Int { min: 4, max: 9 },
        "letter" => Kind::Text { allow_empty: true },
        "certified" => Kind::Bool,
        "internet_mbps" => Kind::Number { nullable: true },
        "score" | "max_score" => Kind::Number { nullable: false },
        "start_date" | "end_date" | "active_from" => Kind::Date { nullable: false },
        "active_to" => Kind::Date { nullable: true },
        "recorded_at" => Kind::Timestamp,
        "mark" => Kind::Mark,
        _ => Kind::Text { allow_empty: false },
    }
}

/// A parsed value and whether it was a look-alike mark spelling.
pub(crate) type Parsed<'a> = (Value<'a>, bool);

/// Parses `raw` as a value of `kind`, or says what was expected.
pub(crate) fn parse(kind: Kind, raw: &str) -> Result<Parsed<'_>, String> {
    let s = raw.trim();
    match kind {
        Kind::Id => match s.parse::<i64>() {
            Ok(v) if v > 0 => plain(Value::I64(v)),
            _ => Err("expected a positive integer id".into()),
        },
        Kind::Year => match s.parse::<i32>() {
            Ok(v) if (1990..=2200).contains(&v) => plain(Value::I32(v)),
            _ => Err("expected an academic year named by its start year, e.g. 2024".into()),
        },
        Kind::Int { min, max } => match s.parse::<i32>() {
            Ok(v) if (min..=max).contains(&v) => plain(Value::I32(v)),
            _ => Err(format!("expected an integer from {min} to {max}")),
        },
        Kind::Text { allow_empty } => {
            if s.is_empty() && !allow_empty {
                Err("expected a non-empty text".into())
            } else {
                plain(Value::Text(s))
            }
        }
        Kind::Enum(values) => match values.iter().find(|v| v.eq_ignore_ascii_case(s)) {
            Some(v) => plain(Value::Static(v)),
            None => Err(format!("expected one of {}", values.join(", "))),
        },
        Kind::Bool => {
            if s.eq_ignore_ascii_case("true") {
                plain(Value::Bool(true))
            } else if s.eq_ignore_ascii_case("false") {
                plain(Value::Bool(false))
            } else {
                Err("expected true or false".into())
            }
        }
        Kind::Number { nullable } => {
            if s.is_empty() && nullable {
                return plain(Value::Null);
            }
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => plain(Value::F64(v)),
                _ => Err("expected a non-negative number".into()),
            }
        }
        Kind::Date { nullable } => {
            if s.is_empty() && nullable {
                return plain(Value::Null);
            }
            match parse_date(s) {
                Some(d) => plain(Value::Date(days(d))),
                None => Err(if nullable {
                    "expected an ISO date YYYY-MM-DD or empty".into()
                } else {
                    "expected an ISO date YYYY-MM-DD".into()
                }),
            }
        }
        Kind::Timestamp => match parse_timestamp(s) {
            Some(t) => plain(Value::Micros(t.and_utc().timestamp_micros())),
            None => Err(
                "expected an ISO date or date-time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.ffffff])"
                    .into(),
            ),
        },
        Kind::Mark => match parse_mark(s) {
            Ok(None) => plain(Value::Null),
            Ok(Some((mark, spelling))) => {
                Ok((Value::Static(mark.code()), spelling == Spelling::LookAlike))
            }
            Err(_) => Err(
                "unknown mark code; expected one of 5, 4, 3, 2, 1, А/Ө, УА/Ө, ЕСП, ЕСЖ, БОС, \
                 О/Ж or an accepted alias (SPEC §2), or empty"
                    .into(),
            ),
        },
    }
}

fn plain(v: Value<'_>) -> Result<Parsed<'_>, String> {
    Ok((v, false))
}

/// Remembers how each distinct mark spelling parses: a file holds a few
/// dozen spellings over millions of rows, and [`parse_mark`] folds and
/// compares every alias on each call.
#[derive(Debug, Default)]
pub(crate) struct MarkCache {
    known: HashMap<String, Result<Parsed<'static>, String>>,
}

impl MarkCache {
    /// Distinct spellings remembered at most (garbage input stays bounded).
    const LIMIT: usize = 4096;

    /// [`parse`] of a mark, through the cache.
    pub(crate) fn parse(&mut self, raw: &str) -> Result<Parsed<'static>, String> {
        if let Some(known) = self.known.get(raw) {
            return known.clone();
        }
        let parsed = parse_static_mark(raw);
        if self.known.len() < Self::LIMIT {
            self.known.insert(raw.to_string(), parsed.clone());
        }
        parsed
    }
}

fn parse_static_mark(raw: &str) -> Result<Parsed<'static>, String> {
    match parse(Kind::Mark, raw)? {
        (Value::Static(code), look_alike) => Ok((Value::Static(code), look_alike)),
        (_, look_alike) => Ok((Value::Null, look_alike)),
    }
}

/// A strict ISO date (`2024-10-28`). Parsed by hand: it runs for every
/// mark of the country.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// An ISO date (meaning 00:00) or date-time, `T` or space separated, with
/// optional fractional seconds (up to microseconds).
pub(crate) fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    if s.len() == 10 {
        return parse_date(s).map(|d| d.and_time(NaiveTime::MIN));
    }
    let (date, time) = s.split_at_checked(10)?;
    let time = time.strip_prefix(['T', ' '])?.as_bytes();
    let date = parse_date(date)?;
    if time.len() < 8 || time[2] != b':' || time[5] != b':' {
        return None;
    }
    let (h, m, sec) = (
        digits(&time[0..2])?,
        digits(&time[3..5])?,
        digits(&time[6..8])?,
    );
    let micros = match &time[8..] {
        [] => 0,
        [b'.', frac @ ..] if (1..=6).contains(&frac.len()) => {
            digits(frac)? * 10u32.pow(6 - frac.len() as u32)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_micro_opt(h, m, sec, micros)?;
    Some(date.and_time(time))
}

/// The value of a run of ASCII digits.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Days since 1970-01-01, as `Date32` stores them.
pub(crate) fn days(d: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    i32::try_from((d - epoch).num_days()).unwrap_or(i32::MIN)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ok(kind: Kind, raw: &str) -> Value<'_> {
        parse(kind, raw).unwrap().0
    }

    #[test]
    fn ids_and_integers() {
        assert_eq!(ok(Kind::Id, " 42 "), Value::I64(42));
        for bad in ["0", "-3", "12a", "1.0", ""] {
            assert!(parse(Kind::Id, bad).is_err(), "{bad}");
        }
        assert!(parse(Kind::Int { min: 0, max: 12 }, "13").is_err());
        assert_eq!(ok(Kind::Int { min: 0, max: 12 }, "0"), Value::I32(0));
    }

    #[test]
    fn dates_and_timestamps() {
        assert_eq!(
            ok(Kind::Date { nullable: false }, "1970-01-02"),
            Value::Date(1)
        );
        assert_eq!(ok(Kind::Date { nullable: true }, ""), Value::Null);
        for bad in ["2024-13-01", "2024-02-30", "2024-1-05", "05.01.2024", ""] {
            assert!(parse(Kind::Date { nullable: false }, bad).is_err(), "{bad}");
        }
        let day = 86_400_000_000i64;
        assert_eq!(ok(Kind::Timestamp, "1970-01-02"), Value::Micros(day));
        assert_eq!(
            ok(Kind::Timestamp, "1970-01-02T00:00:01.5"),
            Value::Micros(day + 1_500_000)
        );
        assert_eq!(
            ok(Kind::Timestamp, "1970-01-02 00:01:00"),
            Value::Micros(day + 60_000_000)
        );
        for bad in [
            "1970-01-02T25:00:00",
            "1970-01-02T1:00",
            "1970-01-02X00:00:00",
        ] {
            assert!(parse(Kind::Timestamp, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enums_marks_and_text() {
        assert_eq!(
            ok(Kind::Enum(&["Q1", "YEAR"]), "year"),
            Value::Static("YEAR")
        );
        assert!(parse(Kind::Enum(&["Q1"]), "Q5").is_err());
        assert_eq!(
            parse(Kind::Mark, "A/Ө").unwrap(),
            (Value::Static("А/Ө"), true)
        );
        assert_eq!(
            parse(Kind::Mark, "зачёт").unwrap(),
            (Value::Static("ЕСП"), false)
        );
        assert_eq!(ok(Kind::Mark, " "), Value::Null);
        assert!(parse(Kind::Mark, "6").is_err());
        assert!(parse(Kind::Text { allow_empty: false }, "  ").is_err());
        let mut cache = MarkCache::default();
        for _ in 0..2 {
            assert_eq!(cache.parse(" н/а "), Ok((Value::Static("А/Ө"), false)));
            assert_eq!(cache.parse("A/O"), Ok((Value::Static("А/Ө"), true)));
            assert_eq!(cache.parse(""), Ok((Value::Null, false)));
            assert!(cache.parse("6").is_err());
        }
        assert_eq!(ok(Kind::Text { allow_empty: true }, ""), Value::Text(""));
        assert_eq!(ok(Kind::Bool, "TRUE"), Value::Bool(true));
        assert!(parse(Kind::Number { nullable: false }, "-1").is_err());
    }

    #[test]
    fn kinds_follow_the_spec_columns() {
        assert_eq!(
            kind_of(Table::Marks, "period"),
            Kind::Enum(&sapa_datasets::schema::MARK_PERIODS)
        );
        assert_eq!(
            kind_of(Table::Enrollments, "active_to"),
            Kind::Date { nullable: true }
        );
        assert_eq!(
            kind_of(Table::Regions, "name_kk"),
            Kind::Text { allow_empty: false }
        );
        for table in Table::ALL {
            for field in table.schema().fields() {
                // A column may be empty exactly when its schema field is nullable.
                let kind = kind_of(table, field.name());
                let empty_ok = matches!(
                    kind,
                    Kind::Mark | Kind::Date { nullable: true } | Kind::Number { nullable: true }
                );
                assert_eq!(
                    empty_ok,
                    field.is_nullable(),
                    "{}.{}",
                    table.name(),
                    field.name()
                );
            }
        }
    }
}
