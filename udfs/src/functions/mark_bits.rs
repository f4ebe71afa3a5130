//! Mark look-up tuned for columns of stored marks.
//!
//! Stored data holds canonical codes (ingest normalises every alias), so the
//! hot paths first compare the raw bytes with the eleven canonical codes and
//! only then fall back to [`crate::parse_mark`] for other spellings. Nothing here
//! allocates per row.

use std::sync::LazyLock;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, GenericStringArray, OffsetSizeTrait, StringViewArray, make_view,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_large_string_array, as_string_array, as_string_view_array};
use datafusion::common::{DataFusionError, Result, exec_err};

use sapa_sqlstate::SqlState;

use super::strings::StrColumn;
use crate::mark::{Mark, UnknownMark, lookup_mark};
use crate::status::StatusBits;

/// An unknown mark met by a SQL function, which names itself.
#[derive(Debug, thiserror::Error)]
#[error("{function}: {mark}")]
struct UnknownMarkIn {
    function: String,
    mark: UnknownMark,
}

impl SqlState for UnknownMarkIn {
    fn sqlstate(&self) -> &'static str {
        self.mark.sqlstate()
    }
}

/// The error a SQL function reports for an unknown mark (SQLSTATE 22P02).
pub(crate) fn unknown_mark_error(function: &str, mark: UnknownMark) -> DataFusionError {
    UnknownMarkIn {
        function: function.to_string(),
        mark,
    }
    .into_datafusion()
}

/// The [`StatusBits`] bit of a mark's class.
#[inline]
pub(crate) fn class_bit(mark: Mark) -> u8 {
    StatusBits::EMPTY.add(mark).bits()
}

/// The status bit of one raw mark value; 0 for an empty one.
#[inline]
fn bits_of(raw: &str, function: &str) -> Result<u8> {
    match lookup_mark(raw) {
        Ok(Some(mark)) => Ok(class_bit(mark)),
        Ok(None) => Ok(0),
        Err(err) => Err(unknown_mark_error(function, err)),
    }
}

/// Canonical codes as `Utf8View` views, with their class bits: every code
/// is at most 12 bytes, so the whole value sits inline in the view and one
/// `u128` compare matches it.
static CANONICAL_VIEWS: LazyLock<[(u128, u8); Mark::ALL.len()]> = LazyLock::new(|| {
    Mark::ALL.map(|mark| (make_view(mark.code().as_bytes(), 0, 0), class_bit(mark)))
});

/// Writes the status bit of every row of a mark column into `out` (cleared
/// first): 0 for NULL or empty, the class bit of [`StatusBits`] otherwise.
///
/// Accepts `Utf8`, `LargeUtf8`, `Utf8View` and dictionaries of them; a
/// dictionary's values are classified once per batch, and only those the
/// keys use (an unused bad value is no error).
pub(crate) fn classify_into(array: &ArrayRef, function: &str, out: &mut Vec<u8>) -> Result<()> {
    out.clear();
    out.reserve(array.len());
    match array.data_type() {
        DataType::Utf8View => classify_view(as_string_view_array(array)?, function, out),
        DataType::Utf8 => classify_offsets(as_string_array(array)?, function, out),
        DataType::LargeUtf8 => classify_offsets(as_large_string_array(array)?, function, out),
        DataType::Dictionary(_, _) => classify_dictionary(array, function, out),
        DataType::Null => {
            out.resize(array.len(), 0);
            Ok(())
        }
        other => exec_err!("{function} expects a string argument, got {other}"),
    }
}

/// `Utf8` and `LargeUtf8`: each value goes through [`lookup_mark`].
fn classify_offsets<O: OffsetSizeTrait>(
    strings: &GenericStringArray<O>,
    function: &str,
    out: &mut Vec<u8>,
) -> Result<()> {
    for i in 0..strings.len() {
        out.push(if strings.is_valid(i) {
            bits_of(strings.value(i), function)?
        } else {
            0
        });
    }
    Ok(())
}

/// The `Utf8View` hot path: short values are matched on their view alone.
fn classify_view(strings: &StringViewArray, function: &str, out: &mut Vec<u8>) -> Result<()> {
    let canonical = &*CANONICAL_VIEWS;
    let nulls = strings.logical_nulls();
    for (i, &view) in strings.views().iter().enumerate() {
        if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            out.push(0);
            continue;
        }
        let bits = match canonical.iter().find(|(v, _)| *v == view) {
            Some(&(_, bits)) => bits,
            None => bits_of(strings.value(i), function)?,
        };
        out.push(bits);
    }
    Ok(())
}

/// Dictionary input: classify each value once per batch, then look keys up.
fn classify_dictionary(array: &ArrayRef, function: &str, out: &mut Vec<u8>) -> Result<()> {
    let Some(dictionary) = array.as_any_dictionary_opt() else {
        return exec_err!(
            "{function}: expected a dictionary, got {}",
            array.data_type()
        );
    };
    let values = dictionary.values();
    if values.is_empty() {
        // No values: every key is NULL.
        out.resize(array.len(), 0);
        return Ok(());
    }
    // Errors are kept per value, so only a value some row uses can fail.
    let column = StrColumn::try_new(values, function)?;
    let value_bits: Vec<Result<u8, UnknownMark>> = (0..column.len())
        .map(|i| match column.get(i) {
            None => Ok(0),
            Some(raw) => lookup_mark(raw).map(|mark| mark.map_or(0, class_bit)),
        })
        .collect();
    let keys = dictionary.keys();
    for (i, key) in dictionary.normalized_keys().into_iter().enumerate() {
        if keys.is_null(i) {
            out.push(0);
            continue;
        }
        match &value_bits[key] {
            Ok(bits) => out.push(*bits),
            Err(err) => return Err(unknown_mark_error(function, err.clone())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use datafusion::arrow::array::{
        DictionaryArray, LargeStringArray, StringArray, StringViewArray,
    };
    use datafusion::arrow::datatypes::Int16Type;
    use std::sync::Arc;

    fn status(bits: u8) -> Status {
        StatusBits::from_bits(bits).status()
    }

    #[test]
    fn canonical_codes_take_the_fast_path_to_the_same_mark() {
        for mark in Mark::ALL {
            assert_eq!(lookup_mark(mark.code()), Ok(Some(mark)));
            for alias in mark.aliases() {
                assert_eq!(lookup_mark(alias), Ok(Some(mark)), "{alias}");
            }
        }
        assert_eq!(lookup_mark("A/O"), Ok(Some(Mark::NotAttested)));
        assert_eq!(lookup_mark(" "), Ok(None));
        assert!(lookup_mark("6").is_err());
    }

    fn marks() -> Vec<Option<&'static str>> {
        vec![
            Some("5"),
            None,
            Some(""),
            Some("ЕСП"),
            Some("зачёт"),
            Some("УА/Ө"),
            Some("БОС"),
            Some("a long alias-free value that is bad"),
        ]
    }

    fn check_all_layouts(array: ArrayRef) {
        let mut out = Vec::new();
        let err = classify_into(&array, "f", &mut out).expect_err("last value is bad");
        assert!(err.to_string().contains("a long alias-free value"), "{err}");
        let good = array.slice(0, 7);
        classify_into(&good, "f", &mut out).expect("good marks");
        let statuses: Vec<Status> = out.iter().map(|b| status(*b)).collect();
        use Status::*;
        assert_eq!(
            statuses,
            [
                Excellent, Ungraded, Ungraded, Excellent, Excellent, Low, Exempt
            ]
        );
    }

    #[test]
    fn every_string_layout_classifies_alike() {
        check_all_layouts(Arc::new(StringArray::from(marks())));
        check_all_layouts(Arc::new(LargeStringArray::from(marks())));
        check_all_layouts(Arc::new(StringViewArray::from(marks())));
        let dict: DictionaryArray<Int16Type> = marks().into_iter().collect();
        check_all_layouts(Arc::new(dict));
    }

    #[test]
    fn unused_bad_dictionary_value_is_no_error() {
        let dict: DictionaryArray<Int16Type> = vec![Some("4"), Some("bad"), Some("4"), None]
            .into_iter()
            .collect();
        // Keep rows 2 and 3: "bad" stays in the values but no key uses it.
        let array: ArrayRef = Arc::new(dict.slice(2, 2));
        let mut out = Vec::new();
        classify_into(&array, "f", &mut out).expect("unused value");
        assert_eq!(out, [class_bit(Mark::Four), 0]);
    }
}
