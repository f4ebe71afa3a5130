//! The users file (SPEC §12): who may log in, with which password
//! verifier, seeing which part of the country.
//!
//! ```toml
//! [[user]]
//! name = "aigerim"
//! scope = "district:301"
//! password = "SCRAM-SHA-256$4096:…$…:…"   # from `sapa user hash`
//! ```
//!
//! A file that is anything but right stops the server from starting: a
//! typo must never leave a user without a scope or with someone else's.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;

use crate::engine::Scope;
use sapa_postgres::auth::scram::Verifier;

/// The users of a server, by name.
pub struct Users {
    by_name: BTreeMap<String, User>,
    /// Keys the mock verifiers of unknown users, so their salts are stable
    /// within a run but not predictable from outside.
    mock_secret: [u8; 32],
}

/// One user of the users file.
#[derive(Clone)]
pub struct User {
    /// The login name.
    pub name: String,
    /// What the user's queries may see (SPEC §8).
    pub scope: Scope,
    verifier: Verifier,
}

impl User {
    /// The user's SCRAM-SHA-256 verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.by_name.values()).finish()
    }
}

/// Why a users file cannot be used. Every variant names the file; those
/// about one entry name it too (its position and, when it has one, its
/// name).
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The file cannot be read.
    #[error("cannot read the users file {}: {source}", file.display())]
    Read {
        /// The users file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not TOML, or not the shape of a users file.
    #[error("users file {}: {reason}", file.display())]
    Syntax {
        /// The users file.
        file: PathBuf,
        /// The parser's message (with the line).
        reason: String,
    },
    /// One `[[user]]` entry is wrong.
    #[error("users file {}: user #{index}{}: {reason}", file.display(), named(name))]
    Entry {
        /// The users file.
        file: PathBuf,
        /// The entry's position, from 1.
        index: usize,
        /// The entry's name, when it has one.
        name: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// The file defines no users: nobody could log in.
    #[error("users file {}: no [[user]] entries, so nobody could log in", file.display())]
    Empty {
        /// The users file.
        file: PathBuf,
    },
}

fn named(name: &Option<String>) -> String {
    name.as_ref()
        .map(|n| format!(" ({n:?})"))
        .unwrap_or_default()
}

/// The file as written; checked into [`Users`] by [`Users::parse`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    user: Vec<EntryShape>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryShape {
    name: String,
    scope: String,
    password: String,
}

impl Users {
    /// Reads and checks the users file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Users, UsersError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Users::parse(&text, path)
    }

    /// Checks the text of a users file; `file` is only used in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Users, UsersError> {
        let shape: FileShape = toml::from_str(text).map_err(|err| UsersError::Syntax {
            file: file.to_path_buf(),
            reason: err.to_string().trim_end().to_string(),
        })?;
        if shape.user.is_empty() {
            return Err(UsersError::Empty {
                file: file.to_path_buf(),
            });
        }
        let mut by_name = BTreeMap::new();
        let mut first_at = BTreeMap::new();
        for (i, entry) in shape.user.into_iter().enumerate() {
            let index = i + 1;
            let wrong = |reason: String| UsersError::Entry {
                file: file.to_path_buf(),
                index,
                name: (!entry.name.trim().is_empty()).then(|| entry.name.clone()),
                reason,
            };
            if entry.name.trim().is_empty() {
                return Err(wrong("the name is empty".to_string()));
            }
            if let Some(first) = first_at.get(&entry.name) {
                return Err(wrong(format!(
                    "duplicate user: already defined as user #{first}"
                )));
            }
            let scope: Scope = entry.scope.parse().map_err(|e| wrong(format!("{e}")))?;
            let verifier: Verifier = entry
                .password
                .trim()
                .parse()
                .map_err(|e| wrong(format!("password: {e}")))?;
            first_at.insert(entry.name.clone(), index);
            by_name.insert(
                entry.name.clone(),
                User {
                    name: entry.name,
                    scope,
                    verifier,
                },
            );
        }
        let mut mock_secret = [0u8; 32];
        // Without randomness the mock salts would still hide which users
        // exist from a single probe; only their stability across restarts
        // would be predictable.
        let _ = SystemRandom::new().fill(&mut mock_secret);
        Ok(Users {
            by_name,
            mock_secret,
        })
    }

    /// The user called `name`.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.by_name.get(name)
    }

    /// Every user, by name.
    pub fn iter(&self) -> impl Iterator<Item = &User> {
        self.by_name.values()
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are none (never, for a loaded file).
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The verifier a login as `name` is checked against: the user's own,
    /// or for an unknown name a mock one no password matches (the exchange
    /// must look the same either way).
    pub(crate) fn verifier_for(&self, name: &str) -> (Verifier, Option<Scope>) {
        match self.get(name) {
            Some(user) => (user.verifier.clone(), Some(user.scope)),
            None => (Verifier::mock(&self.mock_secret, name), None),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn verifier(password: &str) -> String {
        Verifier::new(password, b"0123456789abcdef", 4096).to_string()
    }

    fn parse(text: &str) -> Result<Users, UsersError> {
        Users::parse(text, Path::new("/etc/sapa/users.toml"))
    }

    fn entry(name: &str, scope: &str, password: &str) -> String {
        format!("[[user]]\nname = {name:?}\nscope = {scope:?}\npassword = {password:?}\n")
    }

    #[test]
    fn a_good_file_gives_each_user_a_scope_and_verifier() {
        let text = entry("minister", "ministry", &verifier("a"))
            + &entry("aigerim", "district:301", &verifier("b"));
        let users = parse(&text).unwrap();
        assert_eq!(users.len(), 2);
        let aigerim = users.get("aigerim").unwrap();
        assert_eq!(aigerim.scope, Scope::District(301));
        assert_eq!(aigerim.verifier().to_string(), verifier("b"));
        assert!(users.get("nobody").is_none());
        let (_, scope) = users.verifier_for("nobody");
        assert_eq!(scope, None);
        assert_eq!(users.verifier_for("minister").1, Some(Scope::Ministry));
        assert!(!format!("{users:?}").contains("SCRAM"));
    }

    #[test]
    fn bad_files_name_the_file_the_entry_and_the_problem() {
        let good = verifier("a");
        for (text, wanted) in [
            ("[[user]\nname = 1".to_string(), "users.toml"),
            (
                entry("a", "country", &good),
                "user #1 (\"a\"): unknown scope \"country\"",
            ),
            (
                entry("a", "ministry", "md5deadbeef"),
                "user #1 (\"a\"): password: malformed SCRAM-SHA-256 verifier",
            ),
            (
                entry("a", "ministry", &good) + &entry("a", "school:1", &good),
                "user #2 (\"a\"): duplicate user: already defined as user #1",
            ),
            (entry(" ", "ministry", &good), "user #1: the name is empty"),
            (
                "[[user]]\nname = \"a\"\nscope = \"ministry\"\n".to_string(),
                "password",
            ),
            (entry("a", "ministry", &good) + "passwd = \"x\"\n", "passwd"),
            (String::new(), "no [[user]] entries"),
        ] {
            let err = parse(&text).err().unwrap().to_string();
            assert!(err.contains("/etc/sapa/users.toml"), "{err}");
            assert!(err.contains(wanted), "wanted {wanted:?} in: {err}");
        }
        let missing = Users::load("/nonexistent/users.toml")
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("cannot read the users file /nonexistent/users.toml"),
            "{missing}"
        );
    }
}
