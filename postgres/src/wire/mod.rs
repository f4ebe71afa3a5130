//! One statement's path, from frame to rows: the checks every frame passes
//! first ([`frames`], [`frame_checks`]); the session service the
//! connection's handlers talk to ([`service`]); how SQL text becomes
//! statements ([`parse`], [`param_types`], [`limits`]); the query runtime
//! ([`executor`]), row limits of Execute ([`portal_rows`]), cancel and
//! `statement_timeout` ([`cancel`], [`cancel_requests`]), a client gone
//! ([`peer`]), and the plans kept for the slow-query log ([`plans`]).

pub mod cancel;
pub mod cancel_requests;
pub mod executor;
pub mod frame_checks;
pub mod frames;
pub mod limits;
pub mod param_types;
pub mod parse;
pub mod peer;
pub mod plans;
pub mod portal_rows;
pub mod service;
