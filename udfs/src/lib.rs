//! Sapa's domain rules (SPEC §2–§7) as Apache DataFusion functions.
//!
//! Every rule of the specification lives here once: mark spellings
//! ([`mark`]), a student's status ([`status`]), indicator bands ([`mod@band`]),
//! the annual mark ([`mod@annual`]), the publication calendar ([`calendar`])
//! the period a "current indicator" shows ([`current`]), and MODO's result
//! bands and school draw ([`modo`]).
//! The SQL functions in [`functions`] wrap them; ingest and the engine call
//! them directly. Nothing here knows of storage or of the wire.

pub mod annual;
pub mod band;
pub mod calendar;
pub mod current;
pub mod functions;
pub mod mark;
pub mod modo;
pub mod status;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

pub use annual::annual_mark;
pub use band::{Band, BandError, Indicator, Level, band, band_of_fraction};
pub use calendar::{CalendarError, publication_sunday, update_sunday};
pub use current::{QuarterEnd, ReportPeriod, period_in_force};
pub use mark::{Mark, MarkClass, Spelling, UnknownMark, lookup_mark, parse_mark};
pub use modo::ModoBand;
pub use status::{Status, StatusBits, status_of};

/// Registers every SQL function of SPEC §11 with `ctx`: `mark_class`,
/// `normalize_mark`, `indicator_band`, `annual_mark`, `publication_sunday`,
/// `update_sunday`, the MODO rules (`modo_band`, `modo_exclusion`,
/// `modo_cluster`, `modo_draw_key`, `modo_quota`) and the aggregate
/// `student_status`.
pub fn register_all(ctx: &SessionContext) {
    for udf in scalar_functions() {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udaf in aggregate_functions() {
        ctx.register_udaf(udaf.as_ref().clone());
    }
}

/// Every scalar function, for an engine that builds its own session state.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    functions::scalar_functions()
}

/// Every aggregate function, for an engine that builds its own session state.
pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    functions::aggregate_functions()
}
