//! `pg_catalog` and `information_schema` as PostgreSQL clients read
//! them, describing only the relations a scope sees: upstream's tables
//! replaced where clients need more ([`pg_overrides`]), Sapa's functions in
//! `pg_proc` ([`pg_proc`]), the declared keys ([`pg_keys`],
//! [`pg_key_attributes`], [`information_schema_keys`]), type names
//! ([`pg_types`]) and `information_schema` itself ([`information_schema`]).

pub(crate) mod information_schema;
pub(crate) mod information_schema_keys;
pub(crate) mod pg_key_attributes;
pub(crate) mod pg_keys;
pub(crate) mod pg_overrides;
pub(crate) mod pg_proc;
pub(crate) mod pg_types;
