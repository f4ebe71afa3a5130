//! The functions clients read keys and indexes with:
//! `information_schema._pg_expandarray` (pgjdbc's `getPrimaryKeys` and
//! `getIndexInfo`), `pg_get_indexdef` and `pg_get_constraintdef` (psql's
//! `\d`, pgjdbc's `getIndexInfo`).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Builder, ListArray, StringBuilder, StructArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Int64Type};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::prelude::SessionContext;

use crate::server::catalog::pg_keys::DEFINITIONS;

/// Registers the functions, replacing upstream's `pg_get_constraintdef`
/// (which answers '' for every constraint).
pub(crate) fn register(ctx: &SessionContext) {
    for udf in [
        ScalarUDF::new_from_impl(ExpandArray::new()),
        KeyText::udf("pg_get_indexdef", 1..=3),
        KeyText::udf("pg_get_constraintdef", 1..=2),
    ] {
        ctx.deregister_udf(udf.name());
        ctx.register_udf(udf);
    }
}

/// `_pg_expandarray(array)`: each element `x` with its position `n` (from
/// 1). PostgreSQL's returns a set of `(x, n)` records; this one returns
/// the list of them, and the statement rewrite (`sapa_postgres::sql::rewrite`) wraps
/// every call in `unnest`, so a select list gets one row per element, in
/// step with the other calls of the list — as in PostgreSQL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ExpandArray {
    signature: Signature,
}

impl ExpandArray {
    fn new() -> ExpandArray {
        ExpandArray {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }

    fn fields(element: &DataType) -> Fields {
        Fields::from(vec![
            Field::new("x", element.clone(), true),
            Field::new("n", DataType::Int32, false),
        ])
    }

    fn element(arg: &DataType) -> Result<&DataType> {
        match arg {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                Ok(f.data_type())
            }
            DataType::Null => Ok(&DataType::Null),
            other => plan_err!("_pg_expandarray takes an array, not {other}"),
        }
    }

    fn item(element: &DataType) -> Arc<Field> {
        Arc::new(Field::new_list_field(
            DataType::Struct(Self::fields(element)),
            true,
        ))
    }
}

impl ScalarUDFImpl for ExpandArray {
    fn name(&self) -> &str {
        "_pg_expandarray"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let Some(arg) = args.first() else {
            return plan_err!("_pg_expandarray takes one array");
        };
        Ok(DataType::List(Self::item(Self::element(arg)?)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return plan_err!("_pg_expandarray takes one array");
        };
        let input = arg.to_array(args.number_rows)?;
        let element = Self::element(input.data_type())?.clone();
        let as_list = DataType::List(Arc::new(Field::new_list_field(element.clone(), true)));
        let input = cast(&input, &as_list)?;
        let Some(lists) = input.as_list_opt::<i32>() else {
            return exec_err!("_pg_expandarray: {} is not a list", input.data_type());
        };
        let offsets = lists.offsets();
        let (start, end) = match (offsets.first(), offsets.last()) {
            (Some(s), Some(e)) => (*s, *e),
            _ => (0, 0),
        };
        let values = lists
            .values()
            .slice(to_usize(start)?, to_usize(end - start)?);
        let mut positions = Int32Builder::with_capacity(values.len());
        for pair in offsets.windows(2) {
            for n in 1..=(pair[1] - pair[0]) {
                positions.append_value(n);
            }
        }
        let records = StructArray::try_new(
            Self::fields(&element),
            vec![values, Arc::new(positions.finish()) as ArrayRef],
            None,
        )?;
        let rebased = OffsetBuffer::new(offsets.iter().map(|o| o - start).collect());
        let out = ListArray::try_new(
            Self::item(&element),
            rebased,
            Arc::new(records),
            lists.nulls().cloned(),
        )?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

fn to_usize(offset: i32) -> Result<usize> {
    match usize::try_from(offset) {
        Ok(n) => Ok(n),
        Err(_) => exec_err!("negative list offset {offset}"),
    }
}

/// `pg_get_indexdef(oid [, column, pretty])` / `pg_get_constraintdef(oid
/// [, pretty])` for the declared keys ([`DEFINITIONS`]); NULL for any other
/// oid, as PostgreSQL answers for an oid that names nothing.
#[derive(Debug, PartialEq, Eq, Hash)]
struct KeyText {
    name: &'static str,
    signature: Signature,
}

impl KeyText {
    fn udf(name: &'static str, arity: std::ops::RangeInclusive<usize>) -> ScalarUDF {
        let signatures = arity.map(TypeSignature::Any).collect();
        ScalarUDF::new_from_impl(KeyText {
            name,
            signature: Signature::one_of(signatures, Volatility::Stable),
        })
    }

    /// The text of `oid`; for an index, of its `column`-th column (from 1)
    /// or, with column 0, the whole definition.
    fn text(&self, oid: i64, column: Option<i64>) -> Option<String> {
        if self.name == "pg_get_constraintdef" {
            return DEFINITIONS.constraints.get(&oid).cloned();
        }
        let (definition, columns) = DEFINITIONS.indexes.get(&oid)?;
        match column {
            None | Some(0) => Some(definition.clone()),
            Some(n) => usize::try_from(n - 1)
                .ok()
                .and_then(|i| columns.get(i))
                .map(|c| c.to_string()),
        }
    }
}

impl ScalarUDFImpl for KeyText {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let int_arg = |i: usize| -> Result<Option<ArrayRef>> {
            match args.args.get(i) {
                Some(a) => Ok(Some(cast(&a.to_array(rows)?, &DataType::Int64)?)),
                None => Ok(None),
            }
        };
        let Some(oids) = int_arg(0)? else {
            return plan_err!("{} takes an oid", self.name);
        };
        let columns = if self.name == "pg_get_indexdef" {
            int_arg(1)?
        } else {
            None
        };
        let oids = oids.as_primitive::<Int64Type>();
        let columns = columns.as_ref().map(|c| c.as_primitive::<Int64Type>());
        let mut out = StringBuilder::new();
        for row in 0..rows {
            let column = columns.map(|c| c.is_valid(row).then(|| c.value(row)));
            let text = match column {
                // A NULL column number: NULL, as PostgreSQL's strict function.
                Some(None) => None,
                Some(Some(n)) => oids
                    .is_valid(row)
                    .then(|| self.text(oids.value(row), Some(n)))
                    .flatten(),
                None => oids
                    .is_valid(row)
                    .then(|| self.text(oids.value(row), None))
                    .flatten(),
            };
            out.append_option(text);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int16Array;
    use datafusion::arrow::datatypes::Int16Type;

    #[test]
    fn expandarray_pairs_each_element_with_its_position() {
        let input = ListArray::from_iter_primitive::<Int16Type, _, _>(vec![
            Some(vec![Some(3), Some(1)]),
            None,
            Some(vec![Some(7)]),
        ])
        .slice(0, 3);
        let f = ExpandArray::new();
        let ret = f.return_type(&[input.data_type().clone()]).unwrap();
        let out = f
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![ColumnarValue::Array(Arc::new(input.clone()))],
                arg_fields: vec![Arc::new(Field::new("a", input.data_type().clone(), true))],
                number_rows: 3,
                return_field: Arc::new(Field::new("r", ret.clone(), true)),
                config_options: Arc::new(Default::default()),
            })
            .unwrap()
            .to_array(3)
            .unwrap();
        assert_eq!(out.data_type(), &ret);
        let lists = out.as_list::<i32>();
        assert!(lists.is_null(1));
        let first = lists.value(0);
        let first = first.as_struct();
        let xs = first
            .column(0)
            .as_any()
            .downcast_ref::<Int16Array>()
            .unwrap();
        assert_eq!(xs.values(), &[3, 1]);
        assert_eq!(
            first
                .column(1)
                .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
                .values(),
            &[1, 2]
        );
        assert_eq!(lists.value(2).len(), 1);
    }

    #[test]
    fn index_text_names_a_column_or_the_whole_index() {
        let (oid, (definition, columns)) = DEFINITIONS.indexes.iter().next().unwrap();
        let f = KeyText {
            name: "pg_get_indexdef",
            signature: Signature::any(1, Volatility::Stable),
        };
        assert_eq!(f.text(*oid, None).as_ref(), Some(definition));
        assert_eq!(f.text(*oid, Some(1)).as_deref(), Some(columns[0]));
        assert_eq!(f.text(*oid, Some(99)), None);
        assert_eq!(f.text(1, Some(0)), None);
    }
}
