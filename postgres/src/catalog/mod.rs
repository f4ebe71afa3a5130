//! `pg_catalog` tables as PostgreSQL clients read them: upstream's tables
//! replaced where clients need more ([`pg_overrides`]), the attributes of
//! keys and indexes ([`pg_key_attributes`]), type names ([`pg_types`]) and
//! OIDs that survive a restart ([`stable_oids`]).

pub mod pg_key_attributes;
pub mod pg_overrides;
pub mod pg_types;
pub mod stable_oids;
