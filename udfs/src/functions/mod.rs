//! The SQL functions of SPEC §11, one per file, in DataFusion's style: a
//! struct holding its [`Signature`](datafusion::logical_expr::Signature),
//! the `ScalarUDFImpl` / `AggregateUDFImpl`, its [`Documentation`] and tests
//! over scalar and array inputs and NULLs.
//!
//! [`scalar_functions`] and [`aggregate_functions`] are the registry.
//!
//! [`Documentation`]: datafusion::logical_expr::Documentation

mod annual_mark;
mod dates;
mod indicator_band;
mod mark_bits;
mod mark_class;
mod modo_band;
mod modo_cluster;
mod modo_draw_key;
mod modo_exclusion;
mod modo_quota;
mod normalize_mark;
mod publication_sunday;
mod rows;
mod strings;
mod student_status;
mod update_sunday;

use std::sync::{Arc, LazyLock};

use datafusion::common::types::{NativeType, logical_float64, logical_int64, logical_string};
use datafusion::logical_expr::{AggregateUDF, Coercion, DocSection, ScalarUDF, TypeSignatureClass};

pub use annual_mark::AnnualMarkFunc;
pub use indicator_band::IndicatorBandFunc;
pub use mark_class::MarkClassFunc;
pub use modo_band::ModoBandFunc;
pub use modo_cluster::ModoClusterFunc;
pub use modo_draw_key::ModoDrawKeyFunc;
pub use modo_exclusion::ModoExclusionFunc;
pub use modo_quota::ModoQuotaFunc;
pub use normalize_mark::NormalizeMarkFunc;
pub use publication_sunday::PublicationSundayFunc;
pub use student_status::StudentStatusFunc;
pub use update_sunday::UpdateSundayFunc;

/// The documentation section of Sapa's scalar functions.
const SAPA_FUNCTIONS: DocSection = DocSection {
    include: true,
    label: "Sapa Functions",
    description: Some("Domain rules of Kazakhstan's school final grades (SPEC §2–§7)."),
};

/// The documentation section of Sapa's aggregate functions.
const SAPA_AGGREGATES: DocSection = DocSection {
    include: true,
    label: "Sapa Aggregate Functions",
    description: Some("Aggregates over a student's marks (SPEC §3)."),
};

/// A string argument of any string type (`Utf8`, `LargeUtf8`, `Utf8View`;
/// NULL is cast to `Utf8`), passed through without a cast.
fn string_arg() -> Coercion {
    Coercion::new_exact(TypeSignatureClass::Native(logical_string()))
}

/// A number coerced to `Float64` (integers and decimals are cast).
fn float64_arg() -> Coercion {
    Coercion::new_implicit(
        TypeSignatureClass::Native(logical_float64()),
        vec![TypeSignatureClass::Numeric],
        NativeType::Float64,
    )
}

/// An integer coerced to `Int64`.
fn int64_arg() -> Coercion {
    Coercion::new_implicit(
        TypeSignatureClass::Native(logical_int64()),
        vec![TypeSignatureClass::Integer],
        NativeType::Int64,
    )
}

/// Defines a function returning the shared instance of a scalar UDF.
macro_rules! scalar_singleton {
    ($(#[$doc:meta])* $name:ident, $impl:ty) => {
        $(#[$doc])*
        pub fn $name() -> Arc<ScalarUDF> {
            static UDF: LazyLock<Arc<ScalarUDF>> =
                LazyLock::new(|| Arc::new(ScalarUDF::new_from_impl(<$impl>::new())));
            Arc::clone(&UDF)
        }
    };
}

scalar_singleton!(
    /// `mark_class(mark)`.
    mark_class,
    MarkClassFunc
);
scalar_singleton!(
    /// `normalize_mark(text)`.
    normalize_mark,
    NormalizeMarkFunc
);
scalar_singleton!(
    /// `indicator_band(indicator, level, value)`.
    indicator_band,
    IndicatorBandFunc
);
scalar_singleton!(
    /// `annual_mark(final_mark, year_mark)`.
    annual_mark,
    AnnualMarkFunc
);
scalar_singleton!(
    /// `publication_sunday(date)`.
    publication_sunday,
    PublicationSundayFunc
);
scalar_singleton!(
    /// `update_sunday(date)`.
    update_sunday,
    UpdateSundayFunc
);
scalar_singleton!(
    /// `modo_band(score, max_score)`.
    modo_band,
    ModoBandFunc
);
scalar_singleton!(
    /// `modo_exclusion(school_type, students_4_9, internet_mbps)`.
    modo_exclusion,
    ModoExclusionFunc
);
scalar_singleton!(
    /// `modo_cluster(locality, school_type, language, students)`.
    modo_cluster,
    ModoClusterFunc
);
scalar_singleton!(
    /// `modo_draw_key(seed, school_id)`.
    modo_draw_key,
    ModoDrawKeyFunc
);
scalar_singleton!(
    /// `modo_quota(schools)`.
    modo_quota,
    ModoQuotaFunc
);

/// Aggregate `student_status(mark)`.
pub fn student_status() -> Arc<AggregateUDF> {
    static UDAF: LazyLock<Arc<AggregateUDF>> =
        LazyLock::new(|| Arc::new(AggregateUDF::new_from_impl(StudentStatusFunc::new())));
    Arc::clone(&UDAF)
}

/// Every scalar function of the crate.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        mark_class(),
        normalize_mark(),
        indicator_band(),
        annual_mark(),
        publication_sunday(),
        update_sunday(),
        modo_band(),
        modo_exclusion(),
        modo_cluster(),
        modo_draw_key(),
        modo_quota(),
    ]
}

/// Every aggregate function of the crate.
pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![student_status()]
}

#[cfg(test)]
mod test_util {
    use std::sync::Arc;

    use datafusion::arrow::array::Array;
    use datafusion::arrow::datatypes::Field;
    use datafusion::common::Result;
    use datafusion::common::cast::as_string_array;
    use datafusion::config::ConfigOptions;
    use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl};

    /// Calls `udf` the way the engine does, on arguments of their own types.
    pub(super) fn invoke(
        udf: &dyn ScalarUDFImpl,
        args: Vec<ColumnarValue>,
    ) -> Result<ColumnarValue> {
        let number_rows = args
            .iter()
            .find_map(|arg| match arg {
                ColumnarValue::Array(array) => Some(array.len()),
                ColumnarValue::Scalar(_) => None,
            })
            .unwrap_or(1);
        let types: Vec<_> = args.iter().map(ColumnarValue::data_type).collect();
        let arg_fields = types
            .iter()
            .enumerate()
            .map(|(i, t)| Arc::new(Field::new(format!("a{i}"), t.clone(), true)))
            .collect();
        let return_field = Arc::new(Field::new("out", udf.return_type(&types)?, true));
        udf.invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows,
            return_field,
            config_options: Arc::new(ConfigOptions::default()),
        })
    }

    /// Asserts a `Utf8` array result.
    pub(super) fn assert_strings(out: ColumnarValue, expected: &[Option<&str>]) {
        let array = out.into_array(expected.len()).expect("array");
        let strings = as_string_array(&array).expect("Utf8 result");
        let got: Vec<Option<&str>> = strings.iter().collect();
        assert_eq!(got, expected);
    }
}
