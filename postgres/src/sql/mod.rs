//! What SQL clients send that DataFusion cannot plan as written, made
//! plannable before planning: statement rewrites ([`rewrite`]), PostgreSQL
//! spellings ([`pg_spellings`]), scalar subqueries of catalog queries
//! ([`catalog_subqueries`], [`subquery_value`]) and the catalog's vector
//! columns ([`int_vectors`]).

pub mod catalog_subqueries;
pub mod int_vectors;
pub mod integer_literals;
pub mod pg_spellings;
pub mod rewrite;
pub mod subquery_value;
