//! Memory for queries served to many sessions at once.
//!
//! Each session gets its own pool ([`MemoryBudget::session_pool`]) of at
//! most the per-query limit — a session runs one statement at a time — and
//! every session's pool also draws from one budget for the whole server.
//! Operators that can spill do so when either runs out; one that cannot
//! ends its query with "resources exhausted" (SQLSTATE 53200 on the wire),
//! and the server and the other sessions go on.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{
    FairSpillPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation, TrackConsumersPool,
    human_readable_size,
};

/// The memory all sessions of a server share, and what one query may use.
#[derive(Debug)]
pub struct MemoryBudget {
    total: usize,
    per_query: usize,
    used: AtomicUsize,
}

impl MemoryBudget {
    /// A budget of `total` bytes for all sessions, `per_query` for one.
    pub fn new(total: usize, per_query: usize) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget {
            total,
            per_query: per_query.min(total),
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes in use by all sessions' queries now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// A pool for one session.
    pub fn session_pool(self: &Arc<Self>) -> Arc<dyn MemoryPool> {
        let top = NonZeroUsize::new(3).unwrap_or(NonZeroUsize::MIN);
        Arc::new(SessionPool {
            inner: TrackConsumersPool::new(FairSpillPool::new(self.per_query), top),
            budget: Arc::clone(self),
        })
    }

    fn try_take(&self, bytes: usize) -> Result<()> {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let next = used.saturating_add(bytes);
            if next > self.total {
                return Err(DataFusionError::ResourcesExhausted(format!(
                    "the server's memory for queries ({}) is in use by other queries; \
                     this query could not get {} more",
                    human_readable_size(self.total),
                    human_readable_size(bytes)
                )));
            }
            match self
                .used
                .compare_exchange_weak(used, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(now) => used = now,
            }
        }
    }

    fn give_back(&self, bytes: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(bytes))
            });
    }
}

/// One session's pool: the per-query limit, within the server's budget.
#[derive(Debug)]
struct SessionPool {
    inner: TrackConsumersPool<FairSpillPool>,
    budget: Arc<MemoryBudget>,
}

impl std::fmt::Display for SessionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "session pool of {} within {}",
            human_readable_size(self.budget.per_query),
            human_readable_size(self.budget.total)
        )
    }
}

impl MemoryPool for SessionPool {
    fn name(&self) -> &str {
        "sapa-session"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.inner.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.inner.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.budget.used.fetch_add(additional, Ordering::AcqRel);
        self.inner.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.inner.shrink(reservation, shrink);
        self.budget.give_back(shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.budget.try_take(additional)?;
        self.inner.try_grow(reservation, additional).map_err(|err| {
            self.budget.give_back(additional);
            match err {
                DataFusionError::ResourcesExhausted(why) => {
                    DataFusionError::ResourcesExhausted(format!(
                        "the query needs more than the per-query memory limit of {} \
                             (--query-memory): {why}",
                        human_readable_size(self.budget.per_query)
                    ))
                }
                other => other,
            }
        })
    }

    fn reserved(&self) -> usize {
        self.inner.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.budget.per_query)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_query_stops_at_its_limit_and_all_stop_at_the_total() {
        let budget = MemoryBudget::new(1000, 600);
        let a = budget.session_pool();
        let b = budget.session_pool();
        let ra = MemoryConsumer::new("a").register(&a);
        let rb = MemoryConsumer::new("b").register(&b);
        ra.try_grow(500).unwrap();
        let err = ra.try_grow(200).unwrap_err().to_string();
        assert!(err.contains("per-query memory limit"), "{err}");
        assert_eq!(budget.used(), 500, "a refused grow takes nothing");
        rb.try_grow(450).unwrap();
        let err = rb.try_grow(100).unwrap_err().to_string();
        assert!(err.contains("in use by other queries"), "{err}");
        assert_eq!(budget.used(), 950);
        drop(ra);
        assert_eq!(budget.used(), 450, "a finished query gives its memory back");
        rb.try_grow(100).unwrap();
        rb.shrink(50);
        assert_eq!(budget.used(), 500);
    }
}
