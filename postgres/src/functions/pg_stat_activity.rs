//! `pg_stat_activity`, `pg_backend_pid()` and `pg_cancel_backend(pid)`
//! over the server's [`Activity`]: one row per logged-in connection, read
//! as each statement plans, showing a session only what its [`Viewer`]
//! may see.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use datafusion::arrow::array::{AsArray, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{MemTable, Session, TableProvider};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TableType,
    Volatility,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::sql::sqlparser::ast::{
    Ident, ObjectName, ObjectNamePart, Statement, visit_relations_mut,
};
use sapa_sqlstate::{SqlState, code};

use crate::activity::{Activity, Backend, NotCancelled, Viewer};
use crate::catalog::pg_overrides::rows;

/// `pg_cancel_backend` of another user's connection outside the ministry
/// scope (SQLSTATE 42501).
#[derive(Debug, thiserror::Error)]
#[error(
    "permission denied to cancel the query of PID {pid}: only the ministry scope may cancel \
     another user's statements"
)]
pub(crate) struct CancelRefused {
    pid: i32,
}

impl SqlState for CancelRefused {
    fn sqlstate(&self) -> &'static str {
        code::INSUFFICIENT_PRIVILEGE
    }
}

/// Names a relation Sapa adds to `pg_catalog` when it is written without
/// a schema (`pg_catalog` is first on PostgreSQL's search path; upstream's
/// rule qualifies only its own relations).
pub(crate) fn qualify(mut statement: Statement) -> Statement {
    let _ = visit_relations_mut(&mut statement, |name: &mut ObjectName| {
        if let [ObjectNamePart::Identifier(ident)] = name.0.as_slice()
            && ident.value.eq_ignore_ascii_case(NAME)
        {
            name.0
                .insert(0, ObjectNamePart::Identifier(Ident::new("pg_catalog")));
        }
        ControlFlow::<()>::Continue(())
    });
    statement
}

/// The view's name.
pub const NAME: &str = "pg_stat_activity";

/// PostgreSQL 16's columns, with `name`, `inet` and `xid` as text.
fn schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let int = |name: &str| Field::new(name, DataType::Int32, true);
    let time = |name: &str| {
        Field::new(
            name,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        )
    };
    Arc::new(Schema::new(vec![
        int("datid"),
        text("datname"),
        int("pid"),
        int("leader_pid"),
        int("usesysid"),
        text("usename"),
        text("application_name"),
        text("client_addr"),
        text("client_hostname"),
        int("client_port"),
        time("backend_start"),
        time("xact_start"),
        time("query_start"),
        time("state_change"),
        text("wait_event_type"),
        text("wait_event"),
        text("state"),
        text("backend_xid"),
        text("backend_xmin"),
        Field::new("query_id", DataType::Int64, true),
        text("query"),
        text("backend_type"),
    ]))
}

/// The `pg_stat_activity` view of one server's connections.
#[derive(Debug)]
pub struct StatActivity {
    activity: Arc<Activity>,
    /// The served database: its name and `pg_database` oid.
    database: (String, i32),
    schema: SchemaRef,
}

impl StatActivity {
    pub fn new(activity: Arc<Activity>, database: (String, i32)) -> StatActivity {
        StatActivity {
            activity,
            database,
            schema: schema(),
        }
    }

    fn value(&self, backend: &Backend, column: &str) -> Option<ScalarValue> {
        let time = |t: SystemTime| {
            let micros = t.duration_since(UNIX_EPOCH).ok()?.as_micros();
            Some(ScalarValue::TimestampMicrosecond(
                Some(i64::try_from(micros).ok()?),
                Some("UTC".into()),
            ))
        };
        let text = |s: &str| Some(ScalarValue::from(s));
        match column {
            "datid" => Some(ScalarValue::from(self.database.1)),
            "datname" => text(&self.database.0),
            "pid" => Some(ScalarValue::from(backend.pid)),
            "usename" => text(&backend.user),
            "application_name" => text(&backend.application_name),
            "client_addr" => text(&backend.peer.ip().to_string()),
            "client_port" => Some(ScalarValue::from(i32::from(backend.peer.port()))),
            "backend_start" => time(backend.backend_start),
            "xact_start" => backend.xact_start.and_then(time),
            "query_start" => backend.query_start.and_then(time),
            "state_change" => time(backend.state_change),
            // A connection waiting for its client, as PostgreSQL names it.
            "wait_event_type" if backend.state != "active" => text("Client"),
            "wait_event" if backend.state != "active" => text("ClientRead"),
            "state" => text(backend.state),
            "query" => text(&backend.query),
            "backend_type" => text("client backend"),
            _ => None,
        }
    }
}

#[async_trait]
impl TableProvider for StatActivity {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // A session without a viewer (not logged in) sees no one.
        let backends = match state.config().get_extension::<Viewer>() {
            Some(viewer) => self.activity.visible_to(&viewer),
            None => Vec::new(),
        };
        let batch = rows(&self.schema, backends.len(), |column, row| {
            self.value(backends.get(row)?, column)
        })?;
        let table = MemTable::try_new(Arc::clone(&self.schema), vec![vec![batch]])?;
        table.scan(state, projection, filters, limit).await
    }
}

/// `pg_backend_pid()`: the connection's backend pid (registered as its
/// login completes, in place of upstream's constant).
pub fn backend_pid(pid: i32) -> ScalarUDF {
    super::pg_functions::constant("pg_backend_pid", ScalarValue::from(pid))
}

/// `pg_cancel_backend(pid)`: cancels connection `pid`'s running statement,
/// for the ministry scope (any connection) or the connection's own user.
#[derive(Debug)]
pub struct CancelBackend {
    activity: Arc<Activity>,
    viewer: Viewer,
    signature: Signature,
}

impl PartialEq for CancelBackend {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.activity, &other.activity) && self.viewer.user == other.viewer.user
    }
}

impl Eq for CancelBackend {}

impl std::hash::Hash for CancelBackend {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.viewer.user.hash(state);
    }
}

impl CancelBackend {
    pub fn udf(activity: Arc<Activity>, viewer: Viewer) -> ScalarUDF {
        ScalarUDF::new_from_impl(CancelBackend {
            activity,
            viewer,
            signature: Signature::uniform(
                1,
                vec![DataType::Int32, DataType::Int64],
                Volatility::Volatile,
            ),
        })
    }

    fn cancel(&self, pid: Option<i32>) -> Result<Option<bool>> {
        let Some(pid) = pid else {
            return Ok(None);
        };
        match self.activity.cancel(&self.viewer, pid) {
            Ok(()) => Ok(Some(true)),
            Err(NotCancelled::NoSuchBackend) => {
                log::info!("pg_cancel_backend: PID {pid} is not a Sapa connection");
                Ok(Some(false))
            }
            Err(NotCancelled::NotAllowed) => Err(CancelRefused { pid }.into_datafusion()),
        }
    }
}

impl ScalarUDFImpl for CancelBackend {
    fn name(&self) -> &str {
        "pg_cancel_backend"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [pids] = arrays.as_slice() else {
            return exec_err!("pg_cancel_backend takes one argument");
        };
        let pids = cast(pids, &DataType::Int64)?;
        let answers = pids
            .as_primitive::<Int64Type>()
            .iter()
            // A pid out of range is no connection's.
            .map(|pid| pid.map(|p| i32::try_from(p).unwrap_or(0)))
            .map(|pid| self.cancel(pid))
            .collect::<Result<BooleanArray>>()?;
        let answers = ColumnarValue::Array(Arc::new(answers));
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &answers.into_array(1)?,
                0,
            )?))
        } else {
            Ok(answers)
        }
    }
}
