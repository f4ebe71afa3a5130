//! Reading string arguments of any Arrow string type.
//!
//! The signatures accept `Utf8`, `LargeUtf8` and `Utf8View` as they come
//! (Parquet columns arrive as `Utf8View`, literals as `Utf8`), so the
//! functions read them through one small enum instead of casting.

use datafusion::arrow::array::{
    Array, ArrayRef, LargeStringArray, StringArray, StringBuilder, StringViewArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_large_string_array, as_string_array, as_string_view_array};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ColumnarValue;
use std::sync::Arc;

/// A string column of one of Arrow's three string layouts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StrColumn<'a> {
    /// `Utf8`.
    Utf8(&'a StringArray),
    /// `LargeUtf8`.
    Large(&'a LargeStringArray),
    /// `Utf8View`.
    View(&'a StringViewArray),
    /// An untyped NULL column of this length.
    Null(usize),
}

impl<'a> StrColumn<'a> {
    /// Wraps `array`, or fails naming `function` when it holds no strings.
    pub(crate) fn try_new(array: &'a ArrayRef, function: &str) -> Result<Self> {
        Ok(match array.data_type() {
            DataType::Utf8 => StrColumn::Utf8(as_string_array(array)?),
            DataType::LargeUtf8 => StrColumn::Large(as_large_string_array(array)?),
            DataType::Utf8View => StrColumn::View(as_string_view_array(array)?),
            DataType::Null => StrColumn::Null(array.len()),
            other => return exec_err!("{function} expects a string argument, got {other}"),
        })
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        match self {
            StrColumn::Utf8(a) => a.len(),
            StrColumn::Large(a) => a.len(),
            StrColumn::View(a) => a.len(),
            StrColumn::Null(len) => *len,
        }
    }

    /// The value of row `i`, `None` when NULL.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrColumn::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            StrColumn::Large(a) => a.is_valid(i).then(|| a.value(i)),
            StrColumn::View(a) => a.is_valid(i).then(|| a.value(i)),
            StrColumn::Null(_) => None,
        }
    }
}

/// The string held by a scalar argument, `None` when NULL.
pub(crate) fn scalar_str<'a>(value: &'a ScalarValue, function: &str) -> Result<Option<&'a str>> {
    match value {
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => {
            Ok(s.as_deref())
        }
        ScalarValue::Null => Ok(None),
        other => exec_err!(
            "{function} expects a string argument, got {}",
            other.data_type()
        ),
    }
}

/// Applies `f` to every non-NULL string of a one-argument call, giving a
/// `Utf8` result that is NULL where the input is NULL or `f` gives `None`.
pub(crate) fn map_strings<F>(arg: &ColumnarValue, function: &str, mut f: F) -> Result<ColumnarValue>
where
    F: FnMut(&str) -> Result<Option<&'static str>>,
{
    match arg {
        ColumnarValue::Scalar(value) => {
            let out = match scalar_str(value, function)? {
                Some(s) => f(s)?,
                None => None,
            };
            Ok(ColumnarValue::Scalar(ScalarValue::Utf8(
                out.map(str::to_string),
            )))
        }
        ColumnarValue::Array(array) => {
            let column = StrColumn::try_new(array, function)?;
            let mut builder = StringBuilder::with_capacity(column.len(), column.len() * 8);
            for i in 0..column.len() {
                match column.get(i) {
                    Some(s) => builder.append_option(f(s)?),
                    None => builder.append_null(),
                }
            }
            Ok(ColumnarValue::Array(Arc::new(builder.finish())))
        }
    }
}

/// A string argument: a constant or a column.
pub(crate) enum StrArg<'a> {
    /// The same value for every row.
    Scalar(Option<&'a str>),
    /// One value per row.
    Column(StrColumn<'a>),
}

impl<'a> StrArg<'a> {
    /// Reads `arg`, failing naming `function` when it holds no strings.
    pub(crate) fn new(arg: &'a ColumnarValue, function: &str) -> Result<Self> {
        Ok(match arg {
            ColumnarValue::Scalar(value) => StrArg::Scalar(scalar_str(value, function)?),
            ColumnarValue::Array(array) => StrArg::Column(StrColumn::try_new(array, function)?),
        })
    }

    /// The value for row `i`, `None` when NULL.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrArg::Scalar(value) => *value,
            StrArg::Column(column) => column.get(i),
        }
    }
}
