//! Who may connect (SPEC §12): the startup and login ([`startup`]) and the
//! users file ([`users`]), over `sapa_postgres`'s SCRAM-SHA-256 and TLS.

pub(crate) mod startup;
pub(crate) mod users;
