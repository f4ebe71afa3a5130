//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL does it: verifiers in
//! PostgreSQL's stored format, and the server side of the exchange.
//!
//! pgwire's SCRAM wants the salted password; a PostgreSQL verifier holds only
//! StoredKey and ServerKey, so the exchange here checks the client's proof
//! against StoredKey (RFC 5802 §3): ClientKey = ClientProof XOR
//! HMAC(StoredKey, AuthMessage), accepted iff SHA-256(ClientKey) = StoredKey.
//! Everything here is pure (no I/O, randomness passed in or drawn in one
//! place) so the wire handler stays a thin shell around it.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac, pbkdf2};

/// The SASL mechanism name, the only one the server offers (no `-PLUS`:
/// channel binding is not supported).
pub const MECHANISM: &str = "SCRAM-SHA-256";

/// The fewest PBKDF2 iterations a new verifier gets (PostgreSQL's default).
pub const MIN_ITERATIONS: u32 = 4096;

/// Bytes of random salt in a new verifier (PostgreSQL uses 16).
const SALT_LEN: usize = 16;

/// Bytes of randomness in a server nonce (PostgreSQL uses 18).
const NONCE_LEN: usize = 18;

/// A SCRAM-SHA-256 verifier: what the server keeps instead of a password.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: [u8; 32],
    server_key: [u8; 32],
}

// Keys stay out of logs and panics: a verifier allows offline guessing.
impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// Why a verifier string is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "malformed SCRAM-SHA-256 verifier: {0} (expected \
     SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, as printed by `sapa user hash`)"
)]
pub struct VerifierError(String);

impl Verifier {
    /// The verifier of `password` with `salt` and `iterations`. The password
    /// is SASLprep-normalised as clients do; like PostgreSQL, one that
    /// SASLprep rejects is used as it is.
    pub fn new(password: &str, salt: &[u8], iterations: u32) -> Verifier {
        // PBKDF2 needs at least one round; 0 never comes from the CLI.
        let iterations = iterations.max(1);
        let salted = salted_password(password, salt, iterations);
        let client_key = hmac_sha256(&salted, b"Client Key");
        Verifier {
            iterations,
            salt: salt.to_vec(),
            stored_key: sha256(&client_key),
            server_key: hmac_sha256(&salted, b"Server Key"),
        }
    }

    /// A verifier of `password` with a fresh random salt.
    pub fn generate(password: &str, iterations: u32) -> Result<Verifier, ring::error::Unspecified> {
        let mut salt = [0u8; SALT_LEN];
        SystemRandom::new().fill(&mut salt)?;
        Ok(Verifier::new(password, &salt, iterations))
    }

    /// A verifier no password matches, with a salt that depends only on
    /// `seed`: unknown users get the same exchange as known ones, and the
    /// same salt each time, so the server's answers do not tell them apart.
    pub fn mock(secret: &[u8], seed: &str) -> Verifier {
        let mac = hmac_sha256(secret, seed.as_bytes());
        Verifier {
            iterations: MIN_ITERATIONS,
            salt: mac[..SALT_LEN].to_vec(),
            stored_key: hmac_sha256(&mac, b"Stored Key"),
            server_key: hmac_sha256(&mac, b"Server Key"),
        }
    }

    /// The PBKDF2 iteration count.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }
}

impl FromStr for Verifier {
    type Err = VerifierError;

    fn from_str(text: &str) -> Result<Verifier, VerifierError> {
        let bad = |why: &str| VerifierError(why.to_string());
        let rest = text
            .strip_prefix("SCRAM-SHA-256$")
            .ok_or_else(|| bad("it does not start with SCRAM-SHA-256$"))?;
        let (params, keys) = rest
            .split_once('$')
            .ok_or_else(|| bad("no $ between the parameters and the keys"))?;
        let (iterations, salt) = params
            .split_once(':')
            .ok_or_else(|| bad("no : between the iteration count and the salt"))?;
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| bad(&format!("iteration count {iterations:?} is not a number")))?;
        if iterations == 0 {
            return Err(bad("iteration count is 0"));
        }
        let salt = B64
            .decode(salt)
            .map_err(|_| bad("the salt is not base64"))?;
        if salt.is_empty() {
            return Err(bad("the salt is empty"));
        }
        let (stored, server) = keys
            .split_once(':')
            .ok_or_else(|| bad("no : between StoredKey and ServerKey"))?;
        let key = |name: &str, b64: &str| -> Result<[u8; 32], VerifierError> {
            let bytes = B64
                .decode(b64)
                .map_err(|_| bad(&format!("{name} is not base64")))?;
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| bad(&format!("{name} is {} bytes, not 32", bytes.len())))
        };
        Ok(Verifier {
            iterations,
            salt,
            stored_key: key("StoredKey", stored)?,
            server_key: key("ServerKey", server)?,
        })
    }
}

/// PostgreSQL's stored format, `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`.
impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }
}

/// How an exchange fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    /// A message the client sent does not follow RFC 5802 (or asks for
    /// something the server does not do, like channel binding).
    #[error("malformed SCRAM message: {0}")]
    Protocol(String),
    /// The client's proof does not match: wrong password.
    #[error("the client proof does not match")]
    WrongProof,
}

fn protocol(why: impl Into<String>) -> ScramError {
    ScramError::Protocol(why.into())
}

/// A fresh random server nonce (printable, no commas: base64).
pub fn server_nonce() -> Result<String, ring::error::Unspecified> {
    let mut raw = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut raw)?;
    Ok(B64.encode(raw))
}

/// The server's side of an exchange after it answered the client-first
/// message: what it needs to check the client-final message.
#[derive(Debug)]
pub struct AwaitingFinal {
    verifier: Verifier,
    /// The gs2 header as the client sent it; `c=` must be its base64.
    gs2_header: String,
    /// client-nonce + server-nonce.
    nonce: String,
    /// client-first-message-bare "," server-first-message.
    auth_prefix: String,
}

/// Reads the client-first message and answers it with the server-first
/// message. `server_nonce` is appended to the client's nonce (random on the
/// wire, fixed in tests).
pub fn server_first(
    verifier: &Verifier,
    client_first: &[u8],
    server_nonce: &str,
) -> Result<(AwaitingFinal, String), ScramError> {
    let text = std::str::from_utf8(client_first)
        .map_err(|_| protocol("client-first-message is not UTF-8"))?;
    // gs2-header = gs2-cbind-flag "," [authzid] ","
    let (flag, rest) = text
        .split_once(',')
        .ok_or_else(|| protocol("no gs2 header in client-first-message"))?;
    match flag {
        // "y": the client could bind the channel but thinks the server cannot,
        // which is true here (no -PLUS offered).
        "n" | "y" => {}
        f if f.starts_with("p=") => {
            return Err(protocol(
                "channel binding (SCRAM-SHA-256-PLUS) is not supported",
            ));
        }
        f => return Err(protocol(format!("unknown gs2 channel-binding flag {f:?}"))),
    }
    let (authzid, bare) = rest
        .split_once(',')
        .ok_or_else(|| protocol("gs2 header is not terminated by ','"))?;
    if !authzid.is_empty() {
        return Err(protocol("authorization identities (a=) are not supported"));
    }
    let gs2_header = format!("{flag},{authzid},");
    // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
    let mut attrs = bare.split(',');
    let user = attrs.next().unwrap_or_default();
    if user.starts_with("m=") {
        return Err(protocol("mandatory extensions (m=) are not supported"));
    }
    if !user.starts_with("n=") {
        return Err(protocol("client-first-message lacks the user name (n=)"));
    }
    // The user name was given in the startup message; n= is ignored, as
    // PostgreSQL does (libpq sends it empty).
    let client_nonce = attrs
        .next()
        .and_then(|a| a.strip_prefix("r="))
        .ok_or_else(|| protocol("client-first-message lacks the nonce (r=)"))?;
    if client_nonce.is_empty() || !is_printable(client_nonce) {
        return Err(protocol("the client nonce is empty or not printable"));
    }
    let nonce = format!("{client_nonce}{server_nonce}");
    let server_first = format!(
        "r={nonce},s={},i={}",
        B64.encode(&verifier.salt),
        verifier.iterations
    );
    let state = AwaitingFinal {
        verifier: verifier.clone(),
        gs2_header,
        nonce,
        auth_prefix: format!("{bare},{server_first}"),
    };
    Ok((state, server_first))
}

impl AwaitingFinal {
    /// Checks the client-final message; on success, the server-final
    /// message (`v=<ServerSignature>`) that proves the server knew the
    /// verifier too.
    pub fn finish(self, client_final: &[u8]) -> Result<String, ScramError> {
        let text = std::str::from_utf8(client_final)
            .map_err(|_| protocol("client-final-message is not UTF-8"))?;
        // client-final-message-without-proof "," "p=" proof, proof last.
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| protocol("client-final-message lacks the proof (p=)"))?;
        let mut attrs = without_proof.split(',');
        let binding = attrs
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .ok_or_else(|| protocol("client-final-message lacks the channel binding (c=)"))?;
        if binding != B64.encode(&self.gs2_header) {
            return Err(protocol(
                "the channel binding (c=) does not match the gs2 header",
            ));
        }
        let nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or_else(|| protocol("client-final-message lacks the nonce (r=)"))?;
        if nonce != self.nonce {
            return Err(protocol("the nonce does not match"));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| protocol("the proof is not base64"))?;
        if proof.len() != 32 {
            return Err(protocol("the proof is not 32 bytes"));
        }
        let auth_message = format!("{},{without_proof}", self.auth_prefix);
        let signature = hmac_sha256(&self.verifier.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(signature).map(|(p, s)| p ^ s).collect();
        if !constant_time_eq(&sha256(&client_key), &self.verifier.stored_key) {
            return Err(ScramError::WrongProof);
        }
        let server_signature = hmac_sha256(&self.verifier.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

/// RFC 5802's `printable`: %x21-2B / %x2D-7E (no comma).
fn is_printable(text: &str) -> bool {
    text.bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// Compares without an early exit, so the time taken says nothing about
/// where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let normalized = stringprep::saslprep(password)
        .map(|p| p.into_owned())
        .unwrap_or_else(|_| password.to_string());
    let mut out = [0u8; 32];
    let rounds = std::num::NonZeroU32::new(iterations).unwrap_or(std::num::NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        normalized.as_bytes(),
        &mut out,
    );
    out
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // RFC 7677 §3.
    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
    const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

    fn rfc_verifier() -> Verifier {
        Verifier::new("pencil", &B64.decode(SALT).unwrap(), 4096)
    }

    #[test]
    fn rfc7677_exchange_is_accepted_and_signed() {
        let (state, first) =
            server_first(&rfc_verifier(), CLIENT_FIRST.as_bytes(), SERVER_NONCE).unwrap();
        assert_eq!(
            first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let last = state.finish(CLIENT_FINAL.as_bytes()).unwrap();
        assert_eq!(last, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    #[test]
    fn a_wrong_password_or_tampered_exchange_is_refused() {
        let wrong = Verifier::new("pencil2", &B64.decode(SALT).unwrap(), 4096);
        let (state, _) = server_first(&wrong, CLIENT_FIRST.as_bytes(), SERVER_NONCE).unwrap();
        assert_eq!(
            state.finish(CLIENT_FINAL.as_bytes()),
            Err(ScramError::WrongProof)
        );
        let verifier = rfc_verifier();
        let run = |first: &str, last: &str| {
            let (state, _) = server_first(&verifier, first.as_bytes(), SERVER_NONCE)?;
            state.finish(last.as_bytes())
        };
        // Another server nonce: the client's final message does not match.
        let other = CLIENT_FINAL.replace("k0,", "k1,");
        assert!(
            matches!(run(CLIENT_FIRST, &other), Err(ScramError::Protocol(m)) if m.contains("nonce"))
        );
        // c= must be the base64 of the gs2 header the client sent ("y,," here).
        let y_first = CLIENT_FIRST.replacen('n', "y", 1);
        assert!(
            matches!(run(&y_first, CLIENT_FINAL), Err(ScramError::Protocol(m)) if m.contains("c="))
        );
        // With the right c= for "y,,", the exchange verifies again.
        let y_final = CLIENT_FINAL.replace("c=biws", "c=eSws");
        assert!(matches!(
            run(&y_first, &y_final),
            Err(ScramError::WrongProof)
        ));
    }

    #[test]
    fn malformed_client_messages_are_protocol_errors() {
        let v = rfc_verifier();
        for bad in [
            "",
            "p=tls-server-end-point,,n=user,r=abc",
            "x,,n=user,r=abc",
            "n,a=admin,n=user,r=abc",
            "n,,m=ext,n=user,r=abc",
            "n,,n=user",
            "n,,n=user,r=",
            "n,,r=abc",
        ] {
            let err = server_first(&v, bad.as_bytes(), SERVER_NONCE).unwrap_err();
            assert!(matches!(err, ScramError::Protocol(_)), "{bad:?}: {err:?}");
        }
        let (state, _) = server_first(&v, CLIENT_FIRST.as_bytes(), SERVER_NONCE).unwrap();
        assert!(matches!(
            state.finish(b"c=biws,r=x"),
            Err(ScramError::Protocol(_))
        ));
    }

    #[test]
    fn verifiers_round_trip_through_the_stored_format() {
        let v = rfc_verifier();
        let text = v.to_string();
        assert!(
            text.starts_with("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"),
            "{text}"
        );
        assert_eq!(text.parse::<Verifier>().unwrap(), v);
        let generated = Verifier::generate("pencil", 5000).unwrap();
        assert_eq!(generated.iterations(), 5000);
        assert_ne!(generated, Verifier::generate("pencil", 5000).unwrap());
        assert!(!format!("{v:?}").contains(&B64.encode(v.stored_key)));
    }

    #[test]
    fn malformed_verifiers_say_what_is_wrong() {
        let good = rfc_verifier().to_string();
        let (head, keys) = good.rsplit_once('$').unwrap();
        let (stored, _) = keys.split_once(':').unwrap();
        for (bad, why) in [
            ("md5abcdef", "does not start"),
            ("SCRAM-SHA-256$4096:c2FsdA==", "no $"),
            ("SCRAM-SHA-256$4096$a:b", "no : between the iteration"),
            (
                "SCRAM-SHA-256$many:c2FsdA==$a:b",
                "\"many\" is not a number",
            ),
            ("SCRAM-SHA-256$0:c2FsdA==$a:b", "is 0"),
            ("SCRAM-SHA-256$4096:!!$a:b", "salt is not base64"),
            (&format!("{head}${stored}"), "no : between StoredKey"),
            (&format!("{head}${stored}:c2FsdA=="), "ServerKey is 4 bytes"),
            (&format!("{head}$%:{stored}"), "StoredKey is not base64"),
        ] {
            let err = bad.parse::<Verifier>().unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn saslprep_normalises_like_clients_and_mock_verifiers_are_stable() {
        // U+00A0 (no-break space) maps to a space under SASLprep.
        assert_eq!(
            Verifier::new("a\u{a0}b", b"salt", 4096),
            Verifier::new("a b", b"salt", 4096)
        );
        assert_eq!(Verifier::mock(b"k", "ghost"), Verifier::mock(b"k", "ghost"));
        assert_ne!(
            Verifier::mock(b"k", "ghost").salt,
            Verifier::mock(b"k", "other").salt
        );
        assert_eq!(server_nonce().unwrap().len(), 24);
    }
}
