//! Sapa's own SQL functions in `pg_catalog.pg_proc`, so psql's `\df` lists
//! them: `datafusion-pg-catalog` ships PostgreSQL's built-in rows only, and
//! neither it nor DataFusion has the `pg_get_function_result` /
//! `pg_get_function_arguments` that `\df` shows each function's types with.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use sapa_postgres::catalog::pg_overrides::{self, rows};

/// One overload of a Sapa function as PostgreSQL would describe it.
struct Proc {
    name: &'static str,
    /// `pg_proc.prokind`: `f` for a function, `a` for an aggregate.
    kind: &'static str,
    /// `(type name, type oid)` of each argument.
    args: &'static [(&'static str, i32)],
    result: (&'static str, i32),
}

const TEXT: (&str, i32) = ("text", 25);
const FLOAT8: (&str, i32) = ("double precision", 701);
const INT8: (&str, i32) = ("bigint", 20);
const DATE: (&str, i32) = ("date", 1082);
/// A set-returning table function (`proretset`), as `\df` shows one.
const SETOF_RECORD: (&str, i32) = ("SETOF record", 2249);
/// The rows of the table function `modo_draw`, as PostgreSQL spells a
/// `RETURNS TABLE` result (type `record`, oid 2249, and `proretset`).
const MODO_DRAW: (&str, i32) = (
    "TABLE(academic_year integer, school_id bigint, district_id bigint, region_id bigint, \
     cluster_key text, locality text, language text, school_type text, \
     internet_mbps double precision, students bigint, students_4_9 bigint, \
     cluster_schools bigint, cluster_quota bigint, rank_in_cluster bigint, draw_key bigint)",
    2249,
);

/// Sapa's functions (`sapa_udfs::register_all`, and the table function
/// `modo_draw` of `crate::engine::modo_draw`), one row per overload a
/// PostgreSQL user would call. Dates only: PostgreSQL casts a timestamp to
/// a date implicitly, so `(date)` is the signature psql users expect.
const PROCS: &[Proc] = &[
    Proc {
        name: "annual_mark",
        kind: "f",
        args: &[TEXT, TEXT],
        result: TEXT,
    },
    Proc {
        name: "indicator_band",
        kind: "f",
        args: &[TEXT, TEXT, FLOAT8],
        result: TEXT,
    },
    Proc {
        name: "indicator_band",
        kind: "f",
        args: &[TEXT, TEXT, INT8, INT8],
        result: TEXT,
    },
    Proc {
        name: "mark_class",
        kind: "f",
        args: &[TEXT],
        result: TEXT,
    },
    Proc {
        name: "modo_band",
        kind: "f",
        args: &[FLOAT8, FLOAT8],
        result: TEXT,
    },
    Proc {
        name: "modo_cluster",
        kind: "f",
        args: &[TEXT, TEXT, TEXT, INT8],
        result: TEXT,
    },
    Proc {
        name: "modo_draw",
        kind: "f",
        args: &[INT8, INT8],
        result: MODO_DRAW,
    },
    Proc {
        name: "modo_draw",
        kind: "f",
        args: &[INT8, INT8, INT8],
        result: MODO_DRAW,
    },
    Proc {
        name: "modo_draw_key",
        kind: "f",
        args: &[INT8, INT8],
        result: INT8,
    },
    Proc {
        name: "modo_exclusion",
        kind: "f",
        args: &[TEXT, INT8, FLOAT8],
        result: TEXT,
    },
    Proc {
        name: "modo_exclusion",
        kind: "f",
        args: &[TEXT, INT8, FLOAT8, INT8],
        result: TEXT,
    },
    Proc {
        name: "modo_quota",
        kind: "f",
        args: &[INT8],
        result: INT8,
    },
    Proc {
        name: "normalize_mark",
        kind: "f",
        args: &[TEXT],
        result: TEXT,
    },
    Proc {
        name: "publication_sunday",
        kind: "f",
        args: &[DATE],
        result: DATE,
    },
    Proc {
        name: "student_status",
        kind: "a",
        args: &[TEXT],
        result: TEXT,
    },
    Proc {
        name: "update_sunday",
        kind: "f",
        args: &[DATE],
        result: DATE,
    },
    // The "as of" table functions (`crate::engine::views::as_of`).
    Proc {
        name: "indicators_as_of",
        kind: "f",
        args: &[DATE],
        result: SETOF_RECORD,
    },
    Proc {
        name: "indicators_current",
        kind: "f",
        args: &[DATE],
        result: SETOF_RECORD,
    },
    Proc {
        name: "report_by_school_as_of",
        kind: "f",
        args: &[DATE],
        result: SETOF_RECORD,
    },
    Proc {
        name: "student_status_as_of",
        kind: "f",
        args: &[DATE],
        result: SETOF_RECORD,
    },
];

/// The oid of `PROCS[0]`; the others follow. Far above both PostgreSQL's
/// built-in oids (below 16384) and the few hundred `datafusion-pg-catalog`
/// hands out from 16384 for catalogs, schemas and tables.
const FIRST_OID: i32 = 1_000_000;

/// Oid → `(result, arguments)` as `pg_get_function_result` and
/// `pg_get_function_arguments` spell them.
static SIGNATURES: LazyLock<HashMap<i64, (String, String)>> = LazyLock::new(|| {
    (FIRST_OID..)
        .zip(PROCS)
        .map(|(oid, proc)| {
            let args: Vec<&str> = proc.args.iter().map(|(name, _)| *name).collect();
            (i64::from(oid), (proc.result.0.to_string(), args.join(", ")))
        })
        .collect()
});

/// Puts Sapa's functions into the session's `pg_catalog.pg_proc` and
/// registers `pg_get_function_result`/`pg_get_function_arguments`. Call
/// after `setup_pg_catalog` and before the catalog is frozen.
pub(crate) async fn register(ctx: &SessionContext, catalog: &str) -> Result<()> {
    let public = pg_overrides::public_namespace(ctx).await?;
    let builtin = ctx.table("pg_catalog.pg_proc").await?.collect().await?;
    let Some(schema) = builtin.first().map(RecordBatch::schema) else {
        return plan_err!("pg_catalog.pg_proc is empty");
    };
    let mut batches = builtin;
    batches.push(sapa_rows(&schema, public)?);
    let pg_proc = Arc::new(MemTable::try_new(schema, vec![batches])?);
    pg_overrides::replace(ctx, catalog, vec![("pg_proc", pg_proc)])?;
    ctx.register_udf(FunctionText::udf("pg_get_function_result", |s| &s.0));
    ctx.register_udf(FunctionText::udf("pg_get_function_arguments", |s| &s.1));
    Ok(())
}

/// `PROCS` as rows of `schema` (upstream's `pg_proc`) in namespace `public`.
fn sapa_rows(schema: &SchemaRef, public: i32) -> Result<RecordBatch> {
    let oids: Vec<i32> = (FIRST_OID..).take(PROCS.len()).collect();
    rows(schema, PROCS.len(), |column, row| {
        let (oid, proc) = (*oids.get(row)?, PROCS.get(row)?);
        let arg_oids: Vec<String> = proc.args.iter().map(|(_, o)| o.to_string()).collect();
        Some(match column {
            "oid" => ScalarValue::from(oid),
            "proname" | "prosrc" => ScalarValue::from(proc.name),
            "pronamespace" => ScalarValue::from(public),
            // The bootstrap superuser and language `internal`, as for
            // PostgreSQL's own built-in functions.
            "proowner" => ScalarValue::from(10i32),
            "prolang" => ScalarValue::from(12i32),
            "procost" => ScalarValue::from(1.0f32),
            "prokind" => ScalarValue::from(proc.kind),
            "proisstrict" => ScalarValue::from(true),
            // A set-returning (table) function: its rows are `record`s.
            "proretset" => ScalarValue::from(proc.result.1 == SETOF_RECORD.1),
            "provolatile" => ScalarValue::from("i"),
            "proparallel" => ScalarValue::from("s"),
            "pronargs" => ScalarValue::from(i16::try_from(proc.args.len()).unwrap_or(0)),
            "prorettype" => ScalarValue::from(proc.result.1),
            "proargtypes" => ScalarValue::from(arg_oids.join(" ")),
            "prosupport" => ScalarValue::from("-"),
            _ => return None,
        })
    })
}

/// `pg_get_function_result(oid)` / `pg_get_function_arguments(oid)`: the
/// text of Sapa's functions, NULL for any other oid (PostgreSQL answers
/// built-ins too, but `\df` lists only functions outside `pg_catalog`).
#[derive(Debug)]
struct FunctionText {
    name: &'static str,
    part: fn(&(String, String)) -> &String,
    signature: Signature,
}

impl FunctionText {
    fn udf(name: &'static str, part: fn(&(String, String)) -> &String) -> ScalarUDF {
        ScalarUDF::new_from_impl(FunctionText {
            name,
            part,
            signature: Signature::any(1, Volatility::Stable),
        })
    }
}

impl PartialEq for FunctionText {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for FunctionText {}

impl std::hash::Hash for FunctionText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for FunctionText {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return plan_err!("{} takes one argument", self.name);
        };
        let oids = cast(&arg.to_array(args.number_rows)?, &DataType::Int64)?;
        let mut out = StringBuilder::new();
        for oid in oids.as_primitive::<Int64Type>() {
            out.append_option(oid.and_then(|o| SIGNATURES.get(&o)).map(self.part));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sapa_function_has_a_row_and_every_row_a_function() {
        let mut registered: Vec<String> = sapa_udfs::scalar_functions()
            .iter()
            .map(|f| f.name().to_string())
            .chain(
                sapa_udfs::aggregate_functions()
                    .iter()
                    .map(|f| f.name().to_string()),
            )
            .collect();
        registered.extend(
            crate::engine::views::as_of::AS_OF_FUNCTIONS
                .iter()
                .map(|f| f.name.to_string()),
        );
        registered.push(crate::engine::views::modo_draw::NAME.to_string());
        registered.sort();
        let mut listed: Vec<String> = PROCS.iter().map(|p| p.name.to_string()).collect();
        listed.sort();
        listed.dedup();
        assert_eq!(listed, registered);
        let aggregates: Vec<&str> = PROCS
            .iter()
            .filter(|p| p.kind == "a")
            .map(|p| p.name)
            .collect();
        assert_eq!(aggregates, ["student_status"]);
    }

    #[test]
    fn signatures_spell_types_as_postgresql() {
        assert_eq!(
            SIGNATURES.get(&i64::from(FIRST_OID + 1)),
            Some(&(
                "text".to_string(),
                "text, text, double precision".to_string()
            ))
        );
    }
}
