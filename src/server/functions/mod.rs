//! The PostgreSQL functions that read the session's catalog: the key and
//! index functions ([`pg_key_functions`]). The rest are
//! `sapa_postgres::functions`.

pub(crate) mod pg_key_functions;
