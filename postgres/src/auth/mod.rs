//! Who may connect: SCRAM-SHA-256 ([`scram`]) and TLS ([`tls`]). The
//! startup and the users file, which know Sapa's scopes, are the server's.

pub mod scram;
pub mod tls;
