//! Who may connect (SPEC §12): the startup and login ([`startup`]),
//! SCRAM-SHA-256 ([`scram`]), the users file ([`users`]) and TLS ([`tls`]).

pub(crate) mod scram;
pub(crate) mod startup;
pub(crate) mod tls;
pub(crate) mod users;
