//! PostgreSQL over DataFusion: what `datafusion-postgres` leaves open for a
//! server that real clients (psql, pgjdbc and Metabase, psycopg and
//! SQLAlchemy, asyncpg, node-postgres, psqlODBC) talk to as to PostgreSQL.
//!
//! Nothing here knows of Sapa's data: the server (`sapa::server`) brings
//! the engine, the scopes and the session's catalog, and builds its
//! connections from these rooms (each opens with what it holds):
//!
//! - [`wire`]: one statement's path, from frame to rows: frame checks,
//!   parsing, the query runtime, cancel and `statement_timeout`, row limits;
//! - [`auth`]: SCRAM-SHA-256 and TLS;
//! - [`hooks`]: statements answered before planning: `SHOW`, the read-only
//!   policy, transactions and savepoints, cursors, `COPY … TO STDOUT`;
//! - [`sql`]: what clients send, made plannable;
//! - [`catalog`]: `pg_catalog` tables as clients read them;
//! - [`functions`]: the PostgreSQL functions clients call;
//! - [`settings`]: every setting a session holds;
//! - [`activity`]: what each connection is doing (`pg_stat_activity`);
//! - [`sqlstate`]: errors as PostgreSQL reports them.

pub mod activity;
pub mod auth;
pub mod catalog;
pub mod functions;
pub mod hooks;
pub mod settings;
pub mod sql;
pub mod sqlstate;
pub mod wire;
