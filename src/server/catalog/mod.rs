//! The session's catalog, describing only the relations a scope sees:
//! Sapa's functions in `pg_proc` ([`pg_proc`]), the declared keys
//! ([`pg_keys`], [`information_schema_keys`]) and `information_schema`
//! itself ([`information_schema`]), over `sapa_postgres::catalog`.

pub(crate) mod information_schema;
pub(crate) mod information_schema_keys;
pub(crate) mod pg_keys;
pub(crate) mod pg_proc;
