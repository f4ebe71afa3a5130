//! The functions a cluster knows by name: DataFusion's and Ballista's
//! defaults, every function of `sapa-udfs`, `checked_sum` and the checked
//! arithmetic operators the analyzer puts into plans.
//!
//! Table functions (`marks_as_of`, `modo_draw`, …) are not here: they run
//! on the front end while it plans, and what reaches the cluster is the
//! scan they planned. Server functions (`current_setting`, `pg_*`) are not
//! here either: a plan calling them fails the round trip of `rule.rs` and
//! runs on the front end.

use std::sync::Arc;

use ballista_core::extension::{ballista_aggregate_functions, ballista_scalar_functions};
use ballista_core::registry::BallistaFunctionRegistry;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionConfig;

use crate::engine::{checked, checked_sum};

/// Every scalar function a plan sent to the cluster may call by name.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let mut all = ballista_scalar_functions();
    all.extend(sapa_udfs::scalar_functions());
    all.extend(checked::functions());
    all
}

/// Every aggregate function a plan sent to the cluster may call by name.
pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    let mut all = ballista_aggregate_functions();
    all.extend(sapa_udfs::aggregate_functions());
    all.push(Arc::new(checked_sum::checked_sum()));
    all
}

/// The registry executors decode task plans with.
pub fn registry() -> BallistaFunctionRegistry {
    let mut registry = BallistaFunctionRegistry::default();
    for f in scalar_functions() {
        registry.scalar_functions.insert(f.name().to_string(), f);
    }
    for f in aggregate_functions() {
        registry.aggregate_functions.insert(f.name().to_string(), f);
    }
    registry
}

/// A session state that knows every function above: the scheduler decodes
/// job plans with it, and `rule.rs` checks with it that a plan will decode.
pub fn session_state(config: SessionConfig, runtime: Arc<RuntimeEnv>) -> SessionState {
    SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_scalar_functions(scalar_functions())
        .with_aggregate_functions(aggregate_functions())
        .build()
}
