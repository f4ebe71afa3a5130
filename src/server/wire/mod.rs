//! One connection, over `sapa_postgres::wire`'s statement path: the
//! message loop ([`socket`]) and the handlers of a connection
//! ([`connection`]), which know the session's scope and catalog.

pub(crate) mod connection;
pub(crate) mod socket;
