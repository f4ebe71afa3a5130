//! The PostgreSQL functions clients call while connecting, syncing and
//! querying ([`pg_functions`] registers them): `format` ([`pg_format`]),
//! `json_build_object` ([`pg_json`]), `to_regtype` and friends
//! ([`pg_lookup`]), `current_setting`/`set_config`
//! ([`setting_functions`]) and `pg_stat_activity`/`pg_cancel_backend`
//! ([`pg_stat_activity`]).

pub mod pg_format;
pub mod pg_functions;
pub mod pg_json;
pub mod pg_lookup;
pub mod pg_stat_activity;
pub mod setting_functions;
