//! What SQL clients send that DataFusion cannot plan as written, made
//! plannable before planning: statement rewrites ([`rewrite`]), PostgreSQL
//! spellings ([`pg_spellings`]), scalar subqueries of catalog queries
//! ([`catalog_subqueries`], [`subquery_value`]) and the catalog's vector
//! columns ([`int_vectors`]).

pub(crate) mod catalog_subqueries;
pub(crate) mod int_vectors;
pub(crate) mod pg_spellings;
pub(crate) mod rewrite;
pub(crate) mod subquery_value;
