//! An ordered parallel map: items are produced on worker threads and
//! consumed on the calling thread strictly in index order, with at most
//! `window` items in flight, so memory stays bounded and output order (and
//! bytes) never depend on the number of threads.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Condvar, Mutex};

/// Runs `produce(i)` for `i in 0..n` on `threads` workers and `consume`s the
/// results in order on the calling thread. Stops at the first error.
pub(crate) fn ordered_map<T, E>(
    n: usize,
    threads: usize,
    window: usize,
    produce: &(dyn Fn(usize) -> Result<T, E> + Sync),
    consume: &mut dyn FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    E: Send,
{
    if threads <= 1 || n <= 1 {
        for i in 0..n {
            consume(produce(i)?)?;
        }
        return Ok(());
    }
    let window = window.max(threads);
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    // The index of the next item to consume; workers wait until theirs is
    // within `window` of it.
    let consumed = Mutex::new(0usize);
    let advanced = Condvar::new();
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<(usize, Result<T, E>)>(window);
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, abort, consumed, advanced) = (&next, &abort, &consumed, &advanced);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    {
                        let mut done = match consumed.lock() {
                            Ok(g) => g,
                            Err(_) => return,
                        };
                        while i >= *done + window && !abort.load(Ordering::Relaxed) {
                            done = match advanced.wait(done) {
                                Ok(g) => g,
                                Err(_) => return,
                            };
                        }
                    }
                    if abort.load(Ordering::Relaxed) {
                        return;
                    }
                    if tx.send((i, produce(i))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let result = (|| {
            let mut pending: BTreeMap<usize, Result<T, E>> = BTreeMap::new();
            let mut expected = 0usize;
            for (i, item) in rx.iter() {
                pending.insert(i, item);
                while let Some(item) = pending.remove(&expected) {
                    consume(item?)?;
                    expected += 1;
                    if let Ok(mut done) = consumed.lock() {
                        *done = expected;
                    }
                    advanced.notify_all();
                }
                if expected == n {
                    break;
                }
            }
            Ok(())
        })();
        abort.store(true, Ordering::Relaxed);
        advanced.notify_all();
        // Dropping the receiver unblocks any worker waiting to send.
        drop(rx);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_order_whatever_the_thread_count() {
        for threads in [1, 2, 4] {
            let mut got = Vec::new();
            let produce = |i: usize| -> Result<usize, String> {
                // Uneven work so that workers finish out of order.
                std::thread::sleep(std::time::Duration::from_micros(
                    ((i * 7919) % 13) as u64 * 50,
                ));
                Ok(i * i)
            };
            ordered_map(50, threads, 4, &produce, &mut |x| {
                got.push(x);
                Ok(())
            })
            .unwrap();
            assert_eq!(
                got,
                (0..50).map(|i| i * i).collect::<Vec<_>>(),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn the_first_error_stops_the_run() {
        let produce = |i: usize| {
            if i == 7 {
                Err(format!("bad {i}"))
            } else {
                Ok(i)
            }
        };
        let mut seen = 0;
        let err = ordered_map(100, 3, 4, &produce, &mut |_| {
            seen += 1;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err, "bad 7");
        assert_eq!(seen, 7);
        let mut count = 0;
        let err = ordered_map(100, 3, 4, &|i| Ok::<usize, String>(i), &mut |i| {
            count += 1;
            if i == 3 {
                Err("stop".to_string())
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert_eq!((err.as_str(), count), ("stop", 4));
    }
}
