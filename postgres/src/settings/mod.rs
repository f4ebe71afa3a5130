//! The settings a session holds, as `SET`, `RESET`, `set_config` and
//! `current_setting` see them (the functions: [`crate::functions::setting_functions`]),
//! and the fixed settings the server answers with ([`FIXED_SETTINGS`], [`PG_VERSION`]).
//!
//! `SET` is `datafusion-postgres`'s: it keeps each value in the
//! connection's metadata. Functions cannot reach that metadata, so each
//! session has a [`SessionSettings`]: `set_config` writes there (the value
//! holds at once for the rest of its statement) and leaves the change for
//! the connection loop, which applies it to the metadata after the message
//! and mirrors the metadata back, so `current_setting` answers what `SET`
//! set too. `RESET` restores the value the session logged in with.
//!
//! Sapa has no JIT: `jit` is `off`, and setting it changes nothing.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use datafusion_postgres::pgwire::api::ClientInfo;
use sapa_sqlstate::SqlState;

use crate::sqlstate::code;
use crate::wire::cancel::STATEMENT_TIMEOUT_KEY;

/// The PostgreSQL version the server presents itself as (pgjdbc, Metabase
/// and psql adapt their catalog queries to it).
pub const PG_VERSION: &str = "16.6";

/// The server's fixed settings as `pg_settings` names them (pgjdbc reads
/// `max_index_keys` there); `current_setting` answers each.
pub const FIXED_SETTINGS: &[&str] = &[
    "block_size",
    "client_encoding",
    "DateStyle",
    "default_transaction_isolation",
    "default_transaction_read_only",
    "integer_datetimes",
    "IntervalStyle",
    "lc_collate",
    "lc_ctype",
    "max_identifier_length",
    "max_index_keys",
    "search_path",
    "server_encoding",
    "server_version",
    "server_version_num",
    "standard_conforming_strings",
    "TimeZone",
    "transaction_isolation",
    "transaction_read_only",
];

/// The settings `current_setting` answers, as PostgreSQL spells them.
pub fn setting(name: &str) -> Option<String> {
    let value = match name.to_ascii_lowercase().as_str() {
        "server_version" => PG_VERSION.to_string(),
        "server_version_num" => "160006".to_string(),
        "server_encoding" | "client_encoding" => "UTF8".to_string(),
        "search_path" => "public".to_string(),
        "timezone" => "UTC".to_string(),
        "datestyle" => "ISO, MDY".to_string(),
        "intervalstyle" => "postgres".to_string(),
        "standard_conforming_strings" | "integer_datetimes" => "on".to_string(),
        "default_transaction_read_only" | "transaction_read_only" => "on".to_string(),
        "transaction_isolation" | "default_transaction_isolation" => "read committed".to_string(),
        "max_identifier_length" => "63".to_string(),
        "max_index_keys" => "32".to_string(),
        "block_size" => "8192".to_string(),
        "lc_collate" | "lc_ctype" => "C.UTF-8".to_string(),
        "application_name" => String::new(),
        "statement_timeout" => "0".to_string(),
        _ => return None,
    };
    Some(value)
}

/// The settings a session may change, by PostgreSQL name, with the
/// metadata key each is kept under.
const SETTABLE: &[(&str, &str)] = &[
    ("statement_timeout", STATEMENT_TIMEOUT_KEY),
    ("application_name", "application_name"),
    ("datestyle", "datestyle"),
    ("intervalstyle", "intervalstyle"),
    ("extra_float_digits", "extra_float_digits"),
    ("bytea_output", "bytea_output"),
    ("timezone", "timezone"),
];

/// Why a setting cannot be read or set.
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    #[error("unrecognized configuration parameter \"{0}\"")]
    Unknown(String),
    #[error("parameter \"{0}\" cannot be changed")]
    CannotChange(String),
    #[error("set_config cannot change \"{0}\": use SET TIME ZONE")]
    UseSet(String),
    #[error("invalid value for parameter \"{0}\": \"{1}\"")]
    BadValue(String, String),
}

impl SqlState for SettingError {
    fn sqlstate(&self) -> &'static str {
        match self {
            SettingError::Unknown(_) => code::UNDEFINED_OBJECT,
            SettingError::CannotChange(_) => code::CANT_CHANGE_RUNTIME_PARAM,
            SettingError::UseSet(_) => code::FEATURE_NOT_SUPPORTED,
            SettingError::BadValue(..) => code::INVALID_PARAMETER_VALUE,
        }
    }
}

fn metadata_key(name: &str) -> Option<&'static str> {
    SETTABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, key)| *key)
}

/// A custom setting (`myapp.page_size`), which PostgreSQL lets any
/// session hold.
fn is_custom(name: &str) -> bool {
    name.contains('.') && !name.starts_with("datafusion.")
}

/// `statement_timeout` as written (`5s`, `500ms`, `2min`, `0`, plain
/// milliseconds) in milliseconds.
fn timeout_ms(value: &str) -> Option<u64> {
    let v = value.trim().to_ascii_lowercase();
    let (digits, factor) = if let Some(d) = v.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = v.strip_suffix("min") {
        (d, 60_000)
    } else if let Some(d) = v.strip_suffix('s') {
        (d, 1000)
    } else if let Some(d) = v.strip_suffix('h') {
        (d, 3_600_000)
    } else {
        (v.as_str(), 1)
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(factor)
}

/// Applies the settings a client sent at startup — as parameters of their
/// own (node-postgres sends `statement_timeout` so) or as libpq's
/// `options` (`-c statement_timeout=5s`, `PGOPTIONS`) — to the
/// connection, as PostgreSQL does; names it cannot set are left alone.
pub fn apply_startup(client: &mut dyn ClientInfo) {
    let metadata = client.metadata_mut();
    let mut asked: Vec<(String, String)> = Vec::new();
    if let Some(options) = metadata.get("options") {
        let mut words = options.split_whitespace();
        while let Some(word) = words.next() {
            let pair = match word {
                "-c" => words.next(),
                other => other
                    .strip_prefix("-c")
                    .or_else(|| other.strip_prefix("--")),
            };
            if let Some((name, value)) = pair.and_then(|p| p.split_once('=')) {
                asked.push((
                    name.to_ascii_lowercase().replace('-', "_"),
                    value.to_string(),
                ));
            }
        }
    }
    if let Some(timeout) = metadata.get("statement_timeout") {
        asked.push(("statement_timeout".to_string(), timeout.clone()));
    }
    for (name, value) in asked {
        match (name.as_str(), metadata_key(&name)) {
            ("statement_timeout", Some(key)) => match timeout_ms(&value) {
                Some(0) => {
                    metadata.remove(key);
                }
                Some(ms) => {
                    metadata.insert(key.to_string(), ms.to_string());
                }
                None => log::info!("startup statement_timeout {value:?} is not a duration"),
            },
            // The time zone is the session's DataFusion setting too: only
            // through SET TIME ZONE.
            ("timezone", _) | (_, None) => {}
            (_, Some(key)) => {
                metadata.insert(key.to_string(), value);
            }
        }
    }
}

/// A duration in milliseconds as PostgreSQL shows a setting: in the
/// largest unit that holds it whole (`5s`, `300ms`, `2min`, `1h`, `0`).
pub(crate) fn pg_duration(ms: u64) -> String {
    if ms == 0 {
        return "0".to_string();
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// One session's settings, shared by its functions and its connection.
#[derive(Debug, Default)]
pub struct SessionSettings {
    /// Current values by PostgreSQL name (lower-case).
    values: Mutex<HashMap<String, String>>,
    /// What `set_config` changed, for the connection to apply.
    pending: Mutex<Vec<(String, String)>>,
    /// The metadata the session logged in with (what `RESET` restores).
    login: HashMap<String, String>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl SessionSettings {
    /// The settings of a session that logged in as `client` is now.
    pub fn at_login(client: &dyn ClientInfo) -> SessionSettings {
        let settings = SessionSettings {
            login: client.metadata().clone(),
            ..SessionSettings::default()
        };
        settings.mirror(client);
        settings
    }

    /// `name`'s value as `current_setting` answers it.
    pub fn get(&self, name: &str) -> Result<Option<String>, SettingError> {
        let name = name.to_ascii_lowercase();
        if name == "jit" {
            return Ok(Some("off".to_string()));
        }
        if let Some(value) = lock(&self.values).get(&name) {
            return Ok(Some(value.clone()));
        }
        if name == "statement_timeout" {
            return Ok(Some("0".to_string()));
        }
        match setting(&name) {
            Some(value) => Ok(Some(value)),
            None => Err(SettingError::Unknown(name)),
        }
    }

    /// `set_config(name, value, is_local)`: the value holds for the rest
    /// of the statement; unless `is_local`, for the session after it.
    pub fn set(&self, name: &str, value: &str, is_local: bool) -> Result<String, SettingError> {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "jit" => return Ok(value.to_string()),
            "timezone" => return Err(SettingError::UseSet(name)),
            "statement_timeout" if timeout_ms(value).is_none() => {
                return Err(SettingError::BadValue(name, value.to_string()));
            }
            _ if metadata_key(&name).is_some() || is_custom(&name) => {}
            _ if setting(&name).is_some() => return Err(SettingError::CannotChange(name)),
            _ => return Err(SettingError::Unknown(name)),
        }
        lock(&self.values).insert(name.clone(), value.to_string());
        if !is_local {
            lock(&self.pending).push((name, value.to_string()));
        }
        Ok(value.to_string())
    }

    /// Applies what `set_config` changed to the connection's metadata, then
    /// takes the metadata's values (what `SET` and `RESET` changed).
    pub fn sync(&self, client: &mut dyn ClientInfo) {
        let pending = std::mem::take(&mut *lock(&self.pending));
        for (name, value) in pending {
            let metadata = client.metadata_mut();
            match (name.as_str(), metadata_key(&name)) {
                ("statement_timeout", Some(key)) => match timeout_ms(&value) {
                    Some(0) | None => {
                        metadata.remove(key);
                    }
                    Some(ms) => {
                        metadata.insert(key.to_string(), ms.to_string());
                    }
                },
                (_, Some(key)) => {
                    metadata.insert(key.to_string(), value);
                }
                (custom, None) => {
                    metadata.insert(custom.to_string(), value);
                }
            }
        }
        self.mirror(client);
    }

    /// Takes the metadata's values of the settable settings.
    fn mirror(&self, client: &dyn ClientInfo) {
        let metadata = client.metadata();
        let mut values = lock(&self.values);
        for (name, key) in SETTABLE {
            match metadata.get(*key) {
                Some(ms) if *name == "statement_timeout" => {
                    let shown = ms.parse().map_or_else(|_| ms.clone(), pg_duration);
                    values.insert(name.to_string(), shown);
                }
                Some(value) => {
                    values.insert(name.to_string(), value.clone());
                }
                None => {
                    values.remove(*name);
                }
            }
        }
        values.retain(|name, _| metadata_key(name).is_some() || metadata.contains_key(name));
    }

    /// `RESET name` (`None`: `RESET ALL`): the values the session logged
    /// in with.
    pub(crate) fn reset(
        &self,
        client: &mut dyn ClientInfo,
        name: Option<&str>,
    ) -> Result<(), SettingError> {
        let names: Vec<String> = match name {
            Some(name) => {
                let name = name.to_ascii_lowercase();
                let known = name == "jit"
                    || metadata_key(&name).is_some()
                    || is_custom(&name)
                    || setting(&name).is_some();
                if !known {
                    return Err(SettingError::Unknown(name));
                }
                vec![name]
            }
            None => {
                let mut all: Vec<String> = SETTABLE.iter().map(|(n, _)| n.to_string()).collect();
                all.extend(lock(&self.values).keys().filter(|n| is_custom(n)).cloned());
                all
            }
        };
        let metadata = client.metadata_mut();
        for name in names {
            let key = metadata_key(&name).map_or(name.clone(), str::to_string);
            if metadata_key(&name).is_none() && !is_custom(&name) {
                // Fixed settings and jit: nothing a session changed.
                continue;
            }
            match self.login.get(&key) {
                Some(value) => {
                    metadata.insert(key, value.clone());
                }
                None => {
                    metadata.remove(&key);
                }
            }
        }
        self.mirror(client);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
