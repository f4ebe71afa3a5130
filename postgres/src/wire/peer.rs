//! Whether the client at the other end of a connection is still there.
//!
//! pgwire reads a connection's socket only between statements, so a client
//! that hangs up while its statement computes is noticed only when rows
//! are written: a `GROUP BY` over the country would run to its end for
//! nobody. Like PostgreSQL's `client_connection_check_interval`, a
//! statement's row stream asks the socket now and then whether the peer
//! has hung up (`POLLRDHUP`: its FIN has arrived, whatever it sent before)
//! and stops the work if so.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// What a hung-up peer raises: its FIN (`POLLRDHUP`, Linux), both ways
/// closed, or an error on the socket.
#[cfg(any(target_os = "linux", target_os = "android"))]
const HUNG_UP: libc::c_short = libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const HUNG_UP: libc::c_short = libc::POLLHUP | libc::POLLERR;

/// How often a running statement checks its client.
const EVERY: Duration = Duration::from_millis(200);

/// The client's end of a connection, as seen from the server.
#[derive(Debug)]
pub struct Peer {
    /// A duplicate of the connection's socket descriptor: polling it reads
    /// nothing, so pgwire's reads are untouched.
    fd: OwnedFd,
}

impl Peer {
    /// The peer of `socket`, if its descriptor can be duplicated.
    pub fn of(socket: &impl AsFd) -> Option<Peer> {
        match socket.as_fd().try_clone_to_owned() {
            Ok(fd) => Some(Peer { fd }),
            Err(err) => {
                log::warn!(
                    "cannot watch a client socket ({err}): its statements run on if it hangs up"
                );
                None
            }
        }
    }

    /// Whether the client has hung up (or the connection broke), now.
    pub(crate) fn is_gone(&self) -> bool {
        let mut fds = [libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: HUNG_UP,
            revents: 0,
        }];
        // SAFETY: `fds` is one valid `pollfd` over a descriptor this
        // `Peer` owns, so it stays open for the call; a zero timeout never
        // blocks.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) };
        // Below zero is EINTR and the like: ask again next time.
        ready > 0 && fds[0].revents & (HUNG_UP | libc::POLLNVAL) != 0
    }

    /// Resolves once the client has hung up.
    pub(crate) async fn hung_up(&self) {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if self.is_gone() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};

    use super::*;

    #[test]
    fn a_peer_is_gone_once_it_closes_even_with_bytes_unread() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let peer = Peer::of(&server).unwrap();
        assert!(!peer.is_gone(), "a connected client is there");
        client.write_all(b"Q\0\0\0\x05x").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(!peer.is_gone(), "sending is not hanging up");
        drop(client);
        let mut gone = false;
        for _ in 0..100 {
            if peer.is_gone() {
                gone = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone, "a closed client is seen gone, its bytes still unread");
    }
}
