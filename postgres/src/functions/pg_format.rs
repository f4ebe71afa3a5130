//! PostgreSQL's `format(formatstr, args…)`: `%s`, `%I` (quoted identifier),
//! `%L` (quoted literal), `%%`, positions (`%2$s`) and widths (`%-10s`).
//! Metabase builds its describe-fields queries with `format('%I.%I', …)`;
//! the `format` of `datafusion-pg-functions` answers those with empty text.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The `format` function, to register over any other of that name.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Format {
        signature: Signature::variadic_any(Volatility::Stable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Format {
    signature: Signature,
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let texts: Vec<StringArray> = args
            .args
            .iter()
            .map(|arg| {
                let array = arg.to_array(rows)?;
                Ok(cast(&array, &DataType::Utf8)?.as_string::<i32>().clone())
            })
            .collect::<Result<_>>()?;
        let Some((template, values)) = texts.split_first() else {
            return exec_err!("format takes a format string");
        };
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        let mut row_values = Vec::with_capacity(values.len());
        for row in 0..rows {
            if template.is_null(row) {
                out.append_null();
                continue;
            }
            row_values.clear();
            row_values.extend(values.iter().map(|v| v.is_valid(row).then(|| v.value(row))));
            match render(template.value(row), &row_values) {
                Ok(text) => out.append_value(text),
                Err(message) => return exec_err!("{message}"),
            }
        }
        let array: ArrayRef = Arc::new(out.finish());
        if args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)))
        {
            return Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&array, 0)?,
            ));
        }
        Ok(ColumnarValue::Array(array))
    }
}

/// Renders one format string with one row's arguments (`None` is NULL).
pub fn render(template: &str, values: &[Option<&str>]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut chars = template.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // `%[n$][-][width]type`
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let mut position = None;
        if !digits.is_empty() && chars.peek() == Some(&'$') {
            chars.next();
            position = Some(parse_number(&digits)?);
            digits.clear();
        }
        let left = digits.is_empty() && chars.peek() == Some(&'-');
        if left {
            chars.next();
        }
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let width = if digits.is_empty() {
            0
        } else {
            parse_number(&digits)?
        };
        let kind = chars
            .next()
            .ok_or_else(|| "unterminated format() type specifier".to_string())?;
        let index = match position {
            Some(0) => {
                return Err(
                    "format specifies argument 0, but arguments are numbered from 1".into(),
                );
            }
            Some(p) => p - 1,
            None => next,
        };
        next = index + 1;
        let value = *values
            .get(index)
            .ok_or_else(|| "too few arguments for format()".to_string())?;
        let piece = match kind {
            's' => value.unwrap_or("").to_string(),
            'I' => match value {
                Some(v) => quote_ident(v),
                None => return Err("null values cannot be formatted as an SQL identifier".into()),
            },
            'L' => value.map_or_else(|| "NULL".to_string(), quote_literal),
            other => return Err(format!("unrecognized format() type specifier \"{other}\"")),
        };
        let pad = width.saturating_sub(piece.chars().count());
        if left {
            out.push_str(&piece);
        }
        out.extend(std::iter::repeat_n(' ', pad));
        if !left {
            out.push_str(&piece);
        }
    }
    Ok(out)
}

fn parse_number(digits: &str) -> Result<usize, String> {
    digits
        .parse()
        .map_err(|_| format!("number {digits} is out of range in format()"))
}

/// `quote_ident`: as is when PostgreSQL would read it back unchanged.
fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `quote_literal`: single quotes doubled; with a backslash, the `E''` form.
fn quote_literal(value: &str) -> String {
    let quoted = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn renders_as_postgres_does() {
        let r = |t: &str, v: &[Option<&str>]| render(t, v).unwrap();
        assert_eq!(
            r("%I.%I", &[Some("public"), Some("schools")]),
            "public.schools"
        );
        assert_eq!(r("%I", &[Some("Mixed Case")]), "\"Mixed Case\"");
        assert_eq!(r("%I", &[Some("a\"b")]), "\"a\"\"b\"");
        assert_eq!(
            r("%L and %L", &[Some("O'Neil"), None]),
            "'O''Neil' and NULL"
        );
        assert_eq!(r("%L", &[Some("a\\b")]), "E'a\\\\b'");
        assert_eq!(r("%s|%s", &[Some("x"), None]), "x|");
        // PostgreSQL's own example: after `%2$s`, a bare `%s` takes the third.
        assert_eq!(
            r(
                "Testing %3$s, %2$s, %s",
                &[Some("one"), Some("two"), Some("three")]
            ),
            "Testing three, two, three"
        );
        assert_eq!(
            r("[%5s][%-5s]", &[Some("ab"), Some("cd")]),
            "[   ab][cd   ]"
        );
        assert_eq!(r("100%%", &[]), "100%");
    }

    #[test]
    fn bad_formats_are_errors() {
        assert!(
            render("%s %s", &[Some("a")])
                .unwrap_err()
                .contains("too few")
        );
        assert!(render("%x", &[Some("a")]).unwrap_err().contains("\"x\""));
        assert!(render("%I", &[None]).unwrap_err().contains("identifier"));
        assert!(render("%0$s", &[Some("a")]).is_err());
        assert!(render("abc %", &[]).is_err());
    }
}
