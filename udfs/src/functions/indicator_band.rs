//! `indicator_band(indicator, level, value)`: the band of SPEC §5.3.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, PrimitiveArray, StringBuilder};
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, FieldRef, Float64Type, Int64Type,
};
use datafusion::common::cast::as_primitive_array;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

use super::strings::StrArg;
use super::{SAPA_FUNCTIONS, float64_arg, int64_arg, string_arg};
use crate::band::{Band, BandError, Indicator, Level, Thresholds};

/// `indicator_band(indicator, level, value)` → `low`, `medium` or `high`;
/// `indicator_band(indicator, level, numerator, denominator)` decides on the
/// exact fraction `100·numerator/denominator`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IndicatorBandFunc {
    signature: Signature,
}

impl Default for IndicatorBandFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IndicatorBandFunc {
    /// The function: names of any string type, the value coerced to
    /// `Float64` (or two integers coerced to `Int64`).
    pub fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Coercible(vec![string_arg(), string_arg(), float64_arg()]),
                    TypeSignature::Coercible(vec![
                        string_arg(),
                        string_arg(),
                        int64_arg(),
                        int64_arg(),
                    ]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

/// The thresholds named by an indicator and a level; `None` if either is NULL.
fn thresholds(indicator: Option<&str>, level: Option<&str>) -> Result<Option<Thresholds>> {
    let (Some(indicator), Some(level)) = (indicator, level) else {
        return Ok(None);
    };
    let parsed = indicator
        .parse::<Indicator>()
        .and_then(|i| level.parse::<Level>().map(|l| Thresholds::of(i, l)));
    match parsed {
        Ok(t) => Ok(Some(t)),
        Err(err) => exec_err!("indicator_band: {err}"),
    }
}

/// A numeric argument, constant or column.
enum NumArg<'a, T: ArrowPrimitiveType> {
    Scalar(Option<T::Native>),
    Column(&'a PrimitiveArray<T>),
}

impl<'a, T: ArrowPrimitiveType> NumArg<'a, T> {
    /// Reads `arg`, whose type the signature has coerced to `T`.
    fn new(arg: &'a ColumnarValue) -> Result<Self> {
        match arg {
            ColumnarValue::Array(array) => Ok(NumArg::Column(as_primitive_array::<T>(array)?)),
            ColumnarValue::Scalar(ScalarValue::Null) => Ok(NumArg::Scalar(None)),
            ColumnarValue::Scalar(value) if value.data_type() == T::DATA_TYPE => {
                let one = value.to_array_of_size(1)?;
                let one = as_primitive_array::<T>(&one)?;
                Ok(NumArg::Scalar(one.is_valid(0).then(|| one.value(0))))
            }
            ColumnarValue::Scalar(other) => exec_err!(
                "indicator_band expects {}, got {}",
                T::DATA_TYPE,
                other.data_type()
            ),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> Option<T::Native> {
        match self {
            NumArg::Scalar(value) => *value,
            NumArg::Column(column) => column.is_valid(i).then(|| column.value(i)),
        }
    }
}

/// The value to band: a percentage, or a fraction to decide exactly.
enum Operand<'a> {
    Percentage(NumArg<'a, Float64Type>),
    Fraction(NumArg<'a, Int64Type>, NumArg<'a, Int64Type>),
}

impl Operand<'_> {
    #[inline]
    fn band(&self, i: usize, thresholds: Thresholds) -> Option<Band> {
        match self {
            Operand::Percentage(value) => thresholds.band(value.get(i)?),
            Operand::Fraction(num, den) => thresholds.band_of_fraction(num.get(i)?, den.get(i)?),
        }
    }
}

impl ScalarUDFImpl for IndicatorBandFunc {
    fn name(&self) -> &str {
        "indicator_band"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    /// Rejects a constant unknown indicator or level while planning.
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        for (position, value) in args.scalar_arguments.iter().take(2).enumerate() {
            // Only a constant string can be checked now; columns are checked per row.
            let name = match value {
                Some(
                    ScalarValue::Utf8(Some(name))
                    | ScalarValue::LargeUtf8(Some(name))
                    | ScalarValue::Utf8View(Some(name)),
                ) => name,
                _ => continue,
            };
            let checked: Result<(), BandError> = if position == 0 {
                name.parse::<Indicator>().map(|_| ())
            } else {
                name.parse::<Level>().map(|_| ())
            };
            if let Err(err) = checked {
                return plan_err!("indicator_band: {err}");
            }
        }
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (indicator, level, operand) = match args.args.as_slice() {
            [indicator, level, value] => {
                (indicator, level, Operand::Percentage(NumArg::new(value)?))
            }
            [indicator, level, num, den] => (
                indicator,
                level,
                Operand::Fraction(NumArg::new(num)?, NumArg::new(den)?),
            ),
            other => {
                return exec_err!("indicator_band takes 3 or 4 arguments, got {}", other.len());
            }
        };
        let all_scalar = args
            .args
            .iter()
            .all(|arg| matches!(arg, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let indicator = StrArg::new(indicator, self.name())?;
        let level = StrArg::new(level, self.name())?;
        // Constant names, the usual case, are parsed once for the batch.
        let fixed = match (&indicator, &level) {
            (StrArg::Scalar(i), StrArg::Scalar(l)) => Some(thresholds(*i, *l)?),
            _ => None,
        };
        let mut builder = StringBuilder::with_capacity(rows, rows * 6);
        for i in 0..rows {
            let row_thresholds = match fixed {
                Some(t) => t,
                None => thresholds(indicator.get(i), level.get(i))?,
            };
            let band = row_thresholds.and_then(|t| operand.band(i, t));
            builder.append_option(band.map(Band::as_str));
        }
        let array: ArrayRef = Arc::new(builder.finish());
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(array))
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCUMENTATION: LazyLock<Documentation> =
            LazyLock::new(|| {
                Documentation::builder(
                SAPA_FUNCTIONS,
                "The band (`low`, `medium`, `high`) of an indicator value (SPEC §5.3). Bands are \
                 half-open on the exact value. Performance: low < 50 ≤ medium < 95 ≤ high at \
                 every level. Quality: low < 30 ≤ medium < 40 ≤ high for a school; low < 40 ≤ \
                 medium < 86 ≤ high for a district, region or country. A value meets the \
                 required level exactly when its band is `high`. A NULL value (or a NULL \
                 argument) gives NULL, as does NaN. The four-argument form decides on the \
                 exact fraction 100·numerator/denominator in integer arithmetic and gives \
                 NULL for a zero denominator; with a percentage, compute it as \
                 `100.0 * numerator / denominator`. Names are case-insensitive; an unknown \
                 indicator or level is an error naming it.",
                "indicator_band(indicator, level, value)",
            )
            .with_alternative_syntax("indicator_band(indicator, level, numerator, denominator)")
            .with_sql_example(
                r#"```sql
> SELECT indicator_band('quality', 'school', 40.0), indicator_band('quality', 'district', 40.0),
         indicator_band('performance', 'school', 19, 20);
+------+--------+------+
| high | medium | high |
+------+--------+------+
```"#,
            )
            .with_argument("indicator", "`performance` or `quality`.")
            .with_argument("level", "`school`, `district`, `region` or `country`.")
            .with_argument("value", "The indicator value, a percentage (any numeric type).")
            .with_argument("numerator", "Four-argument form: the formula's numerator (integer).")
            .with_argument("denominator", "Four-argument form: its denominator (integer).")
            .build()
            });
        Some(&DOCUMENTATION)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_strings, invoke};
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray, StringViewArray};

    fn utf8(s: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(s.to_string())))
    }

    fn call(args: Vec<ColumnarValue>) -> Result<ColumnarValue> {
        invoke(&IndicatorBandFunc::new(), args)
    }

    fn scalar_band(indicator: &str, level: &str, value: Option<f64>) -> Result<Option<String>> {
        let out = call(vec![
            utf8(indicator),
            utf8(level),
            ColumnarValue::Scalar(ScalarValue::Float64(value)),
        ])?;
        match out {
            ColumnarValue::Scalar(ScalarValue::Utf8(band)) => Ok(band),
            other => panic!("not a Utf8 scalar: {other:?}"),
        }
    }

    #[test]
    fn scalar_edges() -> Result<()> {
        let cases = [
            ("quality", "school", 39.99, "medium"),
            ("quality", "school", 40.0, "high"),
            ("quality", "school", 29.99, "low"),
            ("quality", "district", 40.0, "medium"),
            ("quality", "Country", 85.99, "medium"),
            ("quality", "region", 86.0, "high"),
            ("performance", "school", 94.99, "medium"),
            ("PERFORMANCE", "school", 95.0, "high"),
            ("performance", "district", 49.99, "low"),
            ("performance", " region ", 50.0, "medium"),
        ];
        for (indicator, level, value, expected) in cases {
            let got = scalar_band(indicator, level, Some(value))?;
            assert_eq!(
                got.as_deref(),
                Some(expected),
                "{indicator} {level} {value}"
            );
        }
        assert_eq!(scalar_band("quality", "school", None)?, None);
        assert_eq!(scalar_band("quality", "school", Some(f64::NAN))?, None);
        Ok(())
    }

    #[test]
    fn constant_names_over_a_value_column() -> Result<()> {
        let values = Float64Array::from(vec![Some(0.0), None, Some(30.0), Some(40.0), Some(100.0)]);
        let out = call(vec![
            utf8("quality"),
            utf8("school"),
            ColumnarValue::Array(Arc::new(values)),
        ])?;
        assert_strings(
            out,
            &[
                Some("low"),
                None,
                Some("medium"),
                Some("high"),
                Some("high"),
            ],
        );
        Ok(())
    }

    #[test]
    fn name_columns_of_any_string_type() -> Result<()> {
        let indicators = StringViewArray::from(vec![
            Some("quality"),
            Some("quality"),
            None,
            Some("performance"),
        ]);
        let levels =
            StringArray::from(vec![Some("school"), Some("district"), Some("school"), None]);
        let values = Float64Array::from(vec![40.0, 40.0, 40.0, 40.0]);
        let out = call(vec![
            ColumnarValue::Array(Arc::new(indicators)),
            ColumnarValue::Array(Arc::new(levels)),
            ColumnarValue::Array(Arc::new(values)),
        ])?;
        assert_strings(out, &[Some("high"), Some("medium"), None, None]);
        Ok(())
    }

    #[test]
    fn fractions_are_decided_exactly() -> Result<()> {
        let nums = Int64Array::from(vec![Some(2), Some(19), Some(1999), Some(3), None]);
        let dens = Int64Array::from(vec![Some(5), Some(20), Some(5000), Some(0), Some(4)]);
        let out = call(vec![
            utf8("quality"),
            utf8("school"),
            ColumnarValue::Array(Arc::new(nums)),
            ColumnarValue::Array(Arc::new(dens)),
        ])?;
        // 40 %, 95 %, 39.98 %, no denominator, NULL numerator.
        assert_strings(
            out,
            &[Some("high"), Some("high"), Some("medium"), None, None],
        );
        Ok(())
    }

    fn plan(scalars: [Option<ScalarValue>; 3]) -> Result<FieldRef> {
        let fields: Vec<FieldRef> = [DataType::Utf8, DataType::Utf8, DataType::Float64]
            .into_iter()
            .map(|t| Arc::new(Field::new("a", t, true)))
            .collect();
        let scalar_arguments: Vec<Option<&ScalarValue>> =
            scalars.iter().map(Option::as_ref).collect();
        IndicatorBandFunc::new().return_field_from_args(ReturnFieldArgs {
            arg_fields: &fields,
            scalar_arguments: &scalar_arguments,
        })
    }

    #[test]
    fn constant_names_are_checked_while_planning() {
        let text = |s: &str| Some(ScalarValue::Utf8(Some(s.to_string())));
        assert!(plan([text("quality"), text("school"), None]).is_ok());
        // A column indicator, then a constant level: each in its own place.
        assert!(plan([None, text("school"), None]).is_ok());
        assert!(plan([Some(ScalarValue::Utf8(None)), text("district"), None]).is_ok());
        let err = plan([None, text("oblast"), None]).expect_err("oblast");
        assert!(
            err.to_string().contains("unknown level \"oblast\""),
            "{err}"
        );
        let err = plan([text("school"), None, None]).expect_err("school is no indicator");
        assert!(
            err.to_string().contains("unknown indicator \"school\""),
            "{err}"
        );
    }

    #[test]
    fn unknown_names_are_errors_naming_them() {
        let err = scalar_band("perf", "school", Some(1.0)).expect_err("perf");
        assert!(
            err.to_string().contains("unknown indicator \"perf\""),
            "{err}"
        );
        let err = scalar_band("quality", "oblast", Some(1.0)).expect_err("oblast");
        assert!(
            err.to_string().contains("unknown level \"oblast\""),
            "{err}"
        );
        let levels = StringArray::from(vec!["school", "raion"]);
        let err = call(vec![
            utf8("quality"),
            ColumnarValue::Array(Arc::new(levels)),
            ColumnarValue::Array(Arc::new(Float64Array::from(vec![1.0, 2.0]))),
        ])
        .expect_err("raion");
        assert!(err.to_string().contains("\"raion\""), "{err}");
    }
}
