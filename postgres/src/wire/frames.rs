//! Every message a client sends is checked whole before pgwire decodes it.
//!
//! pgwire trusts the lengths and counts inside a message: a Bind whose
//! length is 4, or whose parameter count runs past its end, panics its
//! decoder, and a length field near 1 GiB makes it wait for (and buffer)
//! that much. [`Guarded`] sits between the socket and pgwire's framing: it
//! reads one frame at a time, refuses a frame whose type, length or
//! structure is wrong before any byte of it reaches pgwire (the connection
//! then ends with SQLSTATE 08P01, as PostgreSQL's does), and buffers no
//! more than the largest frame it allows. Query text that is not UTF-8
//! passes on, noted in [`Seen`], so the statement is refused with 22021
//! instead of being decoded with replacement characters.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::frame_checks::{
    GSS_REQUEST, MAX_STARTUP, SSL_REQUEST, Violation, check_typed, check_untyped, limit_of, name_of,
};

/// What the frames let through carried that the statement path must know,
/// and what the server answered that its log must know.
#[derive(Debug, Default)]
pub struct Seen {
    /// Numbers of the frames (counted from the first after TLS
    /// negotiation) whose query text is not valid UTF-8.
    not_utf8: Mutex<VecDeque<u64>>,
    /// Rows the CommandComplete messages sent since last asked counted.
    rows: AtomicU64,
    /// CommandComplete messages sent since last asked.
    completed: AtomicU64,
}

impl Seen {
    /// Whether frame `index` held text that is not UTF-8 (each index is
    /// asked about once, in order).
    pub fn not_utf8(&self, index: u64) -> bool {
        let mut marked = self.not_utf8.lock().unwrap_or_else(|e| e.into_inner());
        while marked.front().is_some_and(|&m| m < index) {
            marked.pop_front();
        }
        if marked.front() == Some(&index) {
            marked.pop_front();
            return true;
        }
        false
    }

    /// The rows the statements answered since last asked, if any
    /// completed (their CommandComplete tags: `SELECT 5`, `FETCH 2`).
    pub fn take_rows(&self) -> Option<u64> {
        let rows = self.rows.swap(0, Ordering::SeqCst);
        (self.completed.swap(0, Ordering::SeqCst) > 0).then_some(rows)
    }

    fn mark_not_utf8(&self, index: u64) {
        self.not_utf8
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(index);
    }
}

/// Where the server's answer stands, read as it is written: the header
/// of the next message, then its body (kept only for CommandComplete).
#[derive(Debug, Default)]
struct Outgoing {
    header: Vec<u8>,
    kind: u8,
    remaining: usize,
    tag: Vec<u8>,
}

impl Outgoing {
    fn feed(&mut self, mut bytes: &[u8], seen: &Seen) {
        while !bytes.is_empty() {
            if self.remaining == 0 && self.header.len() < 5 {
                let n = (5 - self.header.len()).min(bytes.len());
                self.header.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
                if self.header.len() == 5 {
                    self.kind = self.header[0];
                    let len = i32::from_be_bytes([
                        self.header[1],
                        self.header[2],
                        self.header[3],
                        self.header[4],
                    ]);
                    self.remaining = usize::try_from(len).unwrap_or(4).saturating_sub(4);
                    self.header.clear();
                    self.tag.clear();
                    if self.remaining == 0 {
                        self.finish(seen);
                    }
                }
                continue;
            }
            let n = self.remaining.min(bytes.len());
            if self.kind == b'C' {
                self.tag.extend_from_slice(&bytes[..n]);
            }
            self.remaining -= n;
            bytes = &bytes[n..];
            if self.remaining == 0 {
                self.finish(seen);
            }
        }
    }

    fn finish(&mut self, seen: &Seen) {
        if self.kind != b'C' {
            return;
        }
        let tag = String::from_utf8_lossy(&self.tag);
        let rows = tag
            .trim_end_matches('\0')
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        seen.rows.fetch_add(rows, Ordering::SeqCst);
        seen.completed.fetch_add(1, Ordering::SeqCst);
    }
}

/// A socket whose reads yield only whole, well-formed frames.
pub struct Guarded<IO> {
    io: IO,
    /// What is being written, for the log's row counts.
    outgoing: Outgoing,
    /// Bytes read from the socket, not yet checked.
    raw: BytesMut,
    /// Checked frames, handed to the reader.
    ready: BytesMut,
    /// Past the startup packet: every frame starts with its type byte.
    typed: bool,
    /// Frames let through so far.
    frames: u64,
    seen: Arc<Seen>,
    eof: bool,
}

impl<IO> Guarded<IO> {
    /// Guards `io`; `buffered` holds bytes already read from it (by the
    /// TLS negotiation), which are checked first.
    pub fn new(io: IO, buffered: BytesMut, seen: Arc<Seen>) -> Guarded<IO> {
        Guarded {
            io,
            outgoing: Outgoing::default(),
            raw: buffered,
            ready: BytesMut::new(),
            typed: false,
            frames: 0,
            seen,
            eof: false,
        }
    }

    /// Moves the next whole frame from `raw` to `ready` if it is there.
    fn next_frame(&mut self) -> Result<bool, Violation> {
        let header = if self.typed { 5 } else { 4 };
        if self.raw.len() < header {
            return Ok(false);
        }
        let kind = self.typed.then(|| self.raw[0]);
        let at = header - 4;
        let len = i32::from_be_bytes([
            self.raw[at],
            self.raw[at + 1],
            self.raw[at + 2],
            self.raw[at + 3],
        ]);
        let limit = match kind {
            None => MAX_STARTUP,
            Some(kind) => limit_of(kind)?,
        };
        let min = if kind.is_none() { 8 } else { 4 };
        let len = usize::try_from(len)
            .ok()
            .filter(|len| (min..=limit).contains(len))
            .ok_or_else(|| {
                Violation(format!(
                    "{} has length {len}; it must be {min} to {limit} bytes",
                    name_of(kind)
                ))
            })?;
        let whole = at + len;
        if self.raw.len() < whole {
            self.raw.reserve(whole - self.raw.len());
            return Ok(false);
        }
        let frame = self.raw.split_to(whole);
        let body = &frame[header..];
        match kind {
            None => {
                let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                check_untyped(code, &body[4..])?;
                // After an SSL or GSS request the startup packet is due still.
                self.typed = !matches!(code, SSL_REQUEST | GSS_REQUEST);
            }
            Some(kind) => {
                if !check_typed(kind, body)? {
                    self.seen.mark_not_utf8(self.frames);
                }
            }
        }
        self.frames += 1;
        self.ready.extend_from_slice(&frame);
        Ok(true)
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Guarded<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let n = buf.remaining().min(this.ready.len());
                buf.put_slice(&this.ready.split_to(n));
                return Poll::Ready(Ok(()));
            }
            match this.next_frame() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(violation) => {
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, violation)));
                }
            }
            if this.eof {
                // A frame cut off by the client's end is dropped with it.
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 16 << 10];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                this.eof = true;
            } else {
                this.raw.extend_from_slice(read.filled());
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Guarded<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = ready!(Pin::new(&mut this.io).poll_write(cx, buf))?;
        this.outgoing.feed(&buf[..written], &this.seen);
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The message of an error from a guarded read, if a frame caused it.
pub fn violation_of(err: &io::Error) -> Option<String> {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<Violation>())
        .map(ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut frame = vec![kind];
        frame.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
        frame.extend_from_slice(body);
        frame
    }

    fn startup() -> Vec<u8> {
        let body = b"\0\x03\0\0user\0sapa\0\0";
        let mut frame = (body.len() as i32 + 4).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        frame
    }

    /// Runs `bytes` through a guard; the frames it let through, or the
    /// violation.
    fn through(bytes: Vec<u8>) -> (Result<Vec<u8>, String>, Arc<Seen>) {
        let seen = Arc::new(Seen::default());
        let mut guard = Guarded::new((), BytesMut::from(&bytes[..]), Arc::clone(&seen));
        let result = loop {
            match guard.next_frame() {
                Ok(true) => continue,
                Ok(false) => break Ok(guard.ready.to_vec()),
                Err(v) => break Err(v.to_string()),
            }
        };
        (result, seen)
    }

    #[test]
    fn well_formed_frames_pass_unchanged() {
        let mut bytes = startup();
        bytes.extend(typed(b'Q', b"SELECT 1\0"));
        bytes.extend(typed(b'P', b"\0SELECT $1\0\0\x01\0\0\0\x17"));
        bytes.extend(typed(
            b'B',
            b"\0\0\0\x01\0\x01\0\x01\0\0\0\x04\0\0\0\x07\0\x01\0\x01",
        ));
        bytes.extend(typed(b'E', b"\0\x7f\xff\xff\xff"));
        bytes.extend(typed(b'S', b""));
        let (passed, seen) = through(bytes.clone());
        assert_eq!(passed.unwrap(), bytes);
        assert!(!(0..6).any(|i| seen.not_utf8(i)));
    }

    #[test]
    fn a_frame_waits_for_its_last_byte() {
        let mut bytes = startup();
        let query = typed(b'Q', b"SELECT 1\0");
        bytes.extend(&query[..query.len() - 1]);
        assert_eq!(through(bytes).0.unwrap(), startup());
    }

    #[test]
    fn lengths_and_counts_that_lie_are_violations() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"B\0\0\0\x04".to_vec(), "ends inside its portal name"),
            (b"E\0\0\0\x04".to_vec(), "ends inside its portal name"),
            (b"Q\0\0\0\x02".to_vec(), "has length 2"),
            (b"Q\x7f\xff\xff\xff".to_vec(), "has length 2147483647"),
            (b"Z\0\0\0\x04".to_vec(), "unknown message type"),
            (
                typed(b'B', b"\0\0\0\0\0\x01\xff\xff\xff\xfe\0\0"),
                "length -2",
            ),
            (
                typed(b'B', b"\0\0\0\0\x7f\xff"),
                "ends inside its parameter length",
            ),
            (
                typed(b'B', b"\0\0\xff\xff"),
                "negative parameter format count",
            ),
            (
                typed(b'P', b"\0SELECT 1\0\0\x05"),
                "ends inside its parameter types",
            ),
            (typed(b'D', b"X\0"), "must be 'S' or 'P'"),
            (typed(b'S', b"x"), "1 bytes past its end"),
        ];
        for (frame, expected) in cases {
            let mut bytes = startup();
            bytes.extend(&frame);
            let err = through(bytes).0.unwrap_err();
            assert!(err.contains(expected), "{frame:?}: {err}");
        }
        let mut huge = 20_000i32.to_be_bytes().to_vec();
        huge.extend([0u8; 8]);
        assert!(through(huge).0.unwrap_err().contains("startup packet"));
    }

    #[test]
    fn query_text_that_is_not_utf8_is_noted_not_refused() {
        let mut bytes = startup();
        bytes.extend(typed(b'Q', b"SELECT 1\0"));
        bytes.extend(typed(b'Q', b"SELECT '\xff'\0"));
        bytes.extend(typed(b'P', b"\0SELECT '\xc3'\0\0\0"));
        let (passed, seen) = through(bytes.clone());
        assert_eq!(passed.unwrap(), bytes);
        assert_eq!(
            (0..4).map(|i| seen.not_utf8(i)).collect::<Vec<_>>(),
            [false, false, true, true]
        );
    }

    #[test]
    fn rows_are_counted_from_the_tags_written_whatever_the_pieces() {
        let seen = Seen::default();
        let mut out = Outgoing::default();
        let mut bytes = typed(b'T', b"\0\x01x\0");
        bytes.extend(typed(b'D', b"\0\x01\0\0\0\x011"));
        bytes.extend(typed(b'C', b"SELECT 12\0"));
        bytes.extend(typed(b'C', b"FETCH 3\0"));
        bytes.extend(typed(b'C', b"SET\0"));
        bytes.extend(typed(b'Z', b"I"));
        // Written a byte at a time, then whole.
        for b in &bytes {
            out.feed(std::slice::from_ref(b), &seen);
        }
        assert_eq!(seen.take_rows(), Some(15));
        assert_eq!(seen.take_rows(), None);
        out.feed(&bytes, &seen);
        assert_eq!(seen.take_rows(), Some(15));
    }

    #[test]
    fn an_ssl_request_leaves_the_startup_packet_due() {
        let mut bytes = 8i32.to_be_bytes().to_vec();
        bytes.extend(SSL_REQUEST.to_be_bytes());
        bytes.extend(startup());
        bytes.extend(typed(b'S', b""));
        assert_eq!(through(bytes.clone()).0.unwrap(), bytes);
    }
}
