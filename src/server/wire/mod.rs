//! One connection's statement path, from its socket to its rows: the
//! message loop ([`socket`]) and the checks every frame passes first
//! ([`frames`], [`frame_checks`]); the handlers of a connection
//! ([`connection`]) and the session service they talk to ([`service`]);
//! how SQL text becomes statements ([`parse`], [`param_types`], [`limits`]);
//! the query runtime ([`executor`]), row limits of Execute
//! ([`portal_rows`]), cancel and `statement_timeout` ([`cancel`],
//! [`cancel_requests`]), a client gone ([`peer`]), and the plans kept for
//! the slow-query log ([`plans`]).

pub(crate) mod cancel;
pub(crate) mod cancel_requests;
pub(crate) mod connection;
pub(crate) mod executor;
pub(crate) mod frame_checks;
pub(crate) mod frames;
pub(crate) mod limits;
pub(crate) mod param_types;
pub(crate) mod parse;
pub(crate) mod peer;
pub(crate) mod plans;
pub(crate) mod portal_rows;
pub(crate) mod service;
pub(crate) mod socket;
