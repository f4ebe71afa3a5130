//! How Arrow types are named in PostgreSQL's catalogs: the SQL name
//! (`information_schema.columns.data_type`, `pg_typeof`) and the internal
//! `udt_name` Metabase and SQLAlchemy map to their own types; and the
//! catalog's vector columns described as PostgreSQL's vector types
//! ([`vector_types`]).

use datafusion::arrow::datatypes::DataType;
use datafusion_postgres::pgwire::api::Type;
use datafusion_postgres::pgwire::api::results::{FieldFormat, FieldInfo};

/// A PostgreSQL type: its SQL name and its `pg_type.typname`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgType {
    /// `bigint`, `text`, `timestamp without time zone`, …
    pub sql_name: &'static str,
    /// `int8`, `text`, `timestamp`, …
    pub udt_name: &'static str,
}

const fn t(sql_name: &'static str, udt_name: &'static str) -> PgType {
    PgType { sql_name, udt_name }
}

/// The PostgreSQL type an Arrow type is served as.
pub fn pg_type(data_type: &DataType) -> PgType {
    match data_type {
        DataType::Null => t("unknown", "unknown"),
        DataType::Boolean => t("boolean", "bool"),
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => t("smallint", "int2"),
        DataType::Int32 | DataType::UInt16 => t("integer", "int4"),
        DataType::Int64 | DataType::UInt32 => t("bigint", "int8"),
        DataType::UInt64
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => t("numeric", "numeric"),
        DataType::Float16 | DataType::Float32 => t("real", "float4"),
        DataType::Float64 => t("double precision", "float8"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => t("text", "text"),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => t("bytea", "bytea"),
        DataType::Date32 | DataType::Date64 => t("date", "date"),
        DataType::Time32(_) | DataType::Time64(_) => t("time without time zone", "time"),
        DataType::Timestamp(_, None) => t("timestamp without time zone", "timestamp"),
        DataType::Timestamp(_, Some(_)) => t("timestamp with time zone", "timestamptz"),
        DataType::Interval(_) | DataType::Duration(_) => t("interval", "interval"),
        DataType::Dictionary(_, value) => pg_type(value),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            t("ARRAY", "_text")
        }
        _ => t("unknown", "unknown"),
    }
}

/// `fields` with each vector column that `sql::int_vectors` selected as
/// text described as PostgreSQL's `int2vector` or `oidvector` (text results
/// only: the text is theirs). psqlODBC parses the elements of a column of
/// those types only; a `text` `indkey` it copied raw into its array of
/// key columns and read past what was sent.
pub fn vector_types(fields: Vec<FieldInfo>) -> Vec<FieldInfo> {
    fields
        .into_iter()
        .map(|field| {
            let vector = match field.name() {
                "indkey" | "indoption" => Type::INT2_VECTOR,
                "indclass" | "indcollation" | "proargtypes" => Type::OID_VECTOR,
                _ => return field,
            };
            if *field.datatype() != Type::TEXT || field.format() != FieldFormat::Text {
                return field;
            }
            FieldInfo::new(
                field.name().to_string(),
                field.table_id(),
                field.column_id(),
                vector,
                FieldFormat::Text,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::TimeUnit;

    #[test]
    fn stored_column_types_have_their_postgres_names() {
        assert_eq!(pg_type(&DataType::Int64), t("bigint", "int8"));
        assert_eq!(pg_type(&DataType::Int32), t("integer", "int4"));
        assert_eq!(pg_type(&DataType::Float64), t("double precision", "float8"));
        assert_eq!(pg_type(&DataType::Utf8View), t("text", "text"));
        assert_eq!(pg_type(&DataType::Date32), t("date", "date"));
        assert_eq!(
            pg_type(&DataType::Timestamp(TimeUnit::Microsecond, None)),
            t("timestamp without time zone", "timestamp")
        );
        assert_eq!(
            pg_type(&DataType::Dictionary(
                Box::new(DataType::Int32),
                Box::new(DataType::Utf8)
            )),
            t("text", "text")
        );
    }
    #[test]
    fn vector_columns_are_described_as_vectors() {
        let text = |name: &str| {
            FieldInfo::new(name.to_string(), None, None, Type::TEXT, FieldFormat::Text)
        };
        let described = vector_types(vec![text("indkey"), text("indclass"), text("relname")]);
        let types: Vec<&Type> = described.iter().map(FieldInfo::datatype).collect();
        assert_eq!(types, [&Type::INT2_VECTOR, &Type::OID_VECTOR, &Type::TEXT]);
    }
}
