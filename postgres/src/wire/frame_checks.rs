//! What makes a frontend message well formed: its type, the bounds of its
//! length, and the counts and lengths inside it, checked against its bytes
//! before any decoder trusts them (see [`super::frames`]).

use bytes::Buf;

/// The largest startup packet (PostgreSQL's `MAX_STARTUP_PACKET_LENGTH`).
pub(super) const MAX_STARTUP: usize = 10_000;
/// The largest message whose body is a few names and numbers (PostgreSQL's
/// `PQ_SMALL_MESSAGE_LIMIT`).
const MAX_SMALL: usize = 10_000;
/// The largest Query, Parse, Bind, COPY data or password message.
const MAX_MESSAGE: usize = 64 << 20;

/// Codes of the untyped packets a client may send before its startup.
pub(super) const SSL_REQUEST: u32 = 80_877_103;
pub(super) const GSS_REQUEST: u32 = 80_877_104;
const CANCEL_REQUEST: u32 = 80_877_102;

/// Why a frame ends its connection (SQLSTATE 08P01).
#[derive(Debug, thiserror::Error)]
#[error("invalid frontend message: {0}")]
pub(crate) struct Violation(pub(super) String);

/// The most bytes a frame of `kind` may have, or why `kind` is no message.
pub(super) fn limit_of(kind: u8) -> Result<usize, Violation> {
    match kind {
        b'Q' | b'P' | b'B' | b'd' | b'p' => Ok(MAX_MESSAGE),
        b'E' | b'D' | b'C' | b'S' | b'H' | b'X' | b'c' | b'f' => Ok(MAX_SMALL),
        other => Err(Violation(format!(
            "unknown message type {:?} (0x{other:02x})",
            char::from(other)
        ))),
    }
}

pub(super) fn name_of(kind: Option<u8>) -> String {
    match kind {
        None => "the startup packet".to_string(),
        Some(kind) => format!("message {:?}", char::from(kind)),
    }
}

/// Reads a body's parts, failing on a part that runs past its end.
struct Body<'a> {
    kind: u8,
    rest: &'a [u8],
}

impl<'a> Body<'a> {
    fn short(&self, what: &str) -> Violation {
        Violation(format!(
            "message {:?} ends inside its {what}",
            char::from(self.kind)
        ))
    }

    fn cstring(&mut self, what: &str) -> Result<&'a [u8], Violation> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.short(what))?;
        let text = &self.rest[..end];
        self.rest = &self.rest[end + 1..];
        Ok(text)
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], Violation> {
        if self.rest.len() < n {
            return Err(self.short(what));
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    fn i16(&mut self, what: &str) -> Result<i16, Violation> {
        let mut b = self.bytes(2, what)?;
        Ok(b.get_i16())
    }

    fn i32(&mut self, what: &str) -> Result<i32, Violation> {
        let mut b = self.bytes(4, what)?;
        Ok(b.get_i32())
    }

    /// A count, which may not be negative.
    fn count(&mut self, what: &str) -> Result<usize, Violation> {
        let n = self.i16(what)?;
        usize::try_from(n).map_err(|_| {
            Violation(format!(
                "message {:?} has a negative {what} ({n})",
                char::from(self.kind)
            ))
        })
    }

    fn end(&self) -> Result<(), Violation> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Violation(format!(
                "message {:?} has {} bytes past its end",
                char::from(self.kind),
                self.rest.len()
            )))
        }
    }
}

/// Checks a typed frame's body; `Ok(false)`: well formed, but its query
/// text is not UTF-8.
pub(super) fn check_typed(kind: u8, body: &[u8]) -> Result<bool, Violation> {
    let mut b = Body { kind, rest: body };
    let mut utf8 = true;
    match kind {
        b'Q' => {
            utf8 = std::str::from_utf8(b.cstring("query text")?).is_ok();
            b.end()?;
        }
        b'P' => {
            let name = b.cstring("statement name")?;
            let query = b.cstring("query text")?;
            utf8 = std::str::from_utf8(name).is_ok() && std::str::from_utf8(query).is_ok();
            let types = b.count("parameter type count")?;
            b.bytes(types * 4, "parameter types")?;
            b.end()?;
        }
        b'B' => {
            b.cstring("portal name")?;
            b.cstring("statement name")?;
            let formats = b.count("parameter format count")?;
            b.bytes(formats * 2, "parameter formats")?;
            for _ in 0..b.count("parameter count")? {
                let len = b.i32("parameter length")?;
                if len < -1 {
                    return Err(Violation(format!(
                        "message 'B' has a parameter of length {len}"
                    )));
                }
                b.bytes(usize::try_from(len).unwrap_or(0), "parameter value")?;
            }
            let results = b.count("result format count")?;
            b.bytes(results * 2, "result formats")?;
            b.end()?;
        }
        b'E' => {
            b.cstring("portal name")?;
            b.i32("row limit")?;
            b.end()?;
        }
        b'D' | b'C' => {
            let target = b.bytes(1, "target")?[0];
            if !matches!(target, b'S' | b'P') {
                return Err(Violation(format!(
                    "message {:?} names target {:?}; it must be 'S' or 'P'",
                    char::from(kind),
                    char::from(target)
                )));
            }
            b.cstring("name")?;
            b.end()?;
        }
        b'f' => {
            b.cstring("reason")?;
            b.end()?;
        }
        b'S' | b'H' | b'X' | b'c' => b.end()?,
        // COPY data and password/SASL messages are read by their handlers.
        _ => {}
    }
    Ok(utf8)
}

/// Checks the startup phase's packet with `code` and `rest` after it.
pub(super) fn check_untyped(code: u32, rest: &[u8]) -> Result<(), Violation> {
    match code {
        SSL_REQUEST | GSS_REQUEST if rest.is_empty() => Ok(()),
        CANCEL_REQUEST if (8..=260).contains(&rest.len()) => Ok(()),
        SSL_REQUEST | GSS_REQUEST | CANCEL_REQUEST => Err(Violation(format!(
            "request code {code} with {} bytes after it",
            rest.len()
        ))),
        _ if code >> 16 == 3 => {
            // Name/value pairs, each a C string, and a closing zero byte.
            let mut b = Body { kind: b'0', rest };
            loop {
                if b.cstring("startup parameters")?.is_empty() {
                    break;
                }
                b.cstring("startup parameter value")?;
            }
            b.end()
        }
        _ => Err(Violation(format!(
            "unsupported protocol {}.{}",
            code >> 16,
            code & 0xffff
        ))),
    }
}
