//! `sapa user hash`: a password, read on stdin, as the SCRAM-SHA-256
//! verifier the users file holds (SPEC §12).

use std::io::{BufRead, IsTerminal, Write};

use clap::{Args, Subcommand};
use sapa::server::{MIN_ITERATIONS, Verifier};

use super::CliError;

/// Arguments of `sapa user`.
#[derive(Debug, Args)]
pub(crate) struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Read a password on stdin (one line) and print its SCRAM-SHA-256
    /// verifier for the users file's `password` field.
    Hash(HashArgs),
}

#[derive(Debug, Args)]
struct HashArgs {
    /// PBKDF2 iterations (at least 4096, PostgreSQL's default).
    #[arg(long, default_value_t = MIN_ITERATIONS, value_parser = clap::value_parser!(u32).range(i64::from(MIN_ITERATIONS)..))]
    iterations: u32,
}

pub(crate) fn run(args: UserArgs) -> Result<(), CliError> {
    match args.command {
        UserCommand::Hash(hash) => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                // The password is echoed: say so rather than hide it badly.
                eprintln!("password (one line; it is shown as you type):");
            }
            let verifier = hash_line(&mut stdin.lock(), hash.iterations)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{verifier}")?;
            Ok(())
        }
    }
}

/// Reads one line from `input` (the trailing newline, and a CR before it,
/// are not part of the password) and makes its verifier.
fn hash_line(input: &mut impl BufRead, iterations: u32) -> Result<Verifier, CliError> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    if password.is_empty() {
        return Err("empty password: give the password on stdin, e.g. \
                    `printf '%s\\n' \"$PASSWORD\" | sapa user hash`"
            .into());
    }
    Verifier::generate(password, iterations)
        .map_err(|_| "no randomness for the salt".to_string().into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_line_is_the_password_and_empty_is_refused() {
        let v = hash_line(&mut "pencil\r\nsecond line\n".as_bytes(), 4096).unwrap();
        let text = v.to_string();
        assert!(text.starts_with("SCRAM-SHA-256$4096:"), "{text}");
        assert_eq!(text.parse::<Verifier>().unwrap(), v);
        for empty in ["", "\n", "\r\n"] {
            let err = hash_line(&mut empty.as_bytes(), 4096).unwrap_err();
            assert!(err.to_string().contains("empty password"), "{err}");
        }
    }
}
