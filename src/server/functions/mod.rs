//! The PostgreSQL functions clients call while connecting, syncing and
//! querying ([`pg_functions`] registers them all): `format`
//! ([`pg_format`]), `json_build_object` ([`pg_json`]), `to_regtype` and
//! friends ([`pg_lookup`]), the key and index functions
//! ([`pg_key_functions`]), `current_setting`/`set_config`
//! ([`setting_functions`]) and `pg_stat_activity`/`pg_cancel_backend`
//! ([`pg_stat_activity`]).

pub(crate) mod pg_format;
pub(crate) mod pg_functions;
pub(crate) mod pg_json;
pub(crate) mod pg_key_functions;
pub(crate) mod pg_lookup;
pub(crate) mod pg_stat_activity;
pub(crate) mod setting_functions;
