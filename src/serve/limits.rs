//! The limits every request runs under: a memory budget per instance (`--memory-limit`),
//! a wall-clock deadline enforced by epoch interruption (`--timeout`), and a bound on
//! requests in flight (`--max-concurrency`).

use crate::engine::TABLE_ELEMENTS;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};

/// How often the engine's epoch advances; the deadline is checked (and the guest yields to
/// other requests) once per tick.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Memory a guest may use past `--memory-limit` once it has been refused, to report the
/// failure (CPython imports and formats a traceback for its `MemoryError`).
const ERROR_RESERVE: usize = 16 << 20;

/// Caps the linear memory of one instance, all its memories together, and remembers the
/// first request over the cap. Growth past the cap fails inside the guest (CPython raises
/// `MemoryError`) rather than trapping; after that first refusal the guest may use
/// [`ERROR_RESERVE`] more, so the handler can still format and print its traceback.
#[derive(Debug)]
pub(super) struct MemoryBudget {
    limit: usize,
    used: usize,
    last_grant: usize,
    /// Total bytes the first refused growth asked for.
    pub(super) denied: Option<usize>,
}

impl MemoryBudget {
    /// A budget of `limit` bytes, nothing used yet.
    pub(super) fn new(limit: usize) -> Self {
        MemoryBudget {
            limit,
            used: 0,
            last_grant: 0,
            denied: None,
        }
    }
}

impl ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grant = desired.saturating_sub(current);
        let total = self.used.saturating_add(grant);
        let cap = match self.denied {
            None => self.limit,
            Some(_) => self.limit.saturating_add(ERROR_RESERVE),
        };
        if total > cap {
            self.denied.get_or_insert(total);
            return Ok(false);
        }
        self.used = total;
        self.last_grant = grant;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.used -= std::mem::take(&mut self.last_grant);
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS)
    }
}

/// Interrupt the store's guest at `deadline`; until then let other requests run once per
/// epoch tick.
pub(super) fn stop_at<T: 'static>(store: &mut Store<T>, deadline: Instant) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub(super) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Start ticking `engine`'s epoch on a thread of its own.
    pub(super) fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("pyedge-epoch".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                }
            })
            .ok();
        EpochTicker { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The bound on requests in flight: one permit per request, held until its instance is
/// gone (which may be after its response was sent).
pub(super) struct Concurrency {
    permits: Arc<Semaphore>,
    max: usize,
}

impl Concurrency {
    /// Room for `max` requests at once.
    pub(super) fn new(max: usize) -> Self {
        Concurrency {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// A permit for one more request, or `None` when `max` are already in flight.
    pub(super) fn admit(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Wait until every permit is back, i.e. no request is running.
    pub(super) async fn idle(&self) {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _ = self.permits.acquire_many(all).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_budget_counts_all_memories_and_remembers_a_refusal() {
        const MIB: usize = 1 << 20;
        let mut budget = MemoryBudget::new(100 * MIB);
        assert!(budget.memory_growing(0, 60 * MIB, None).unwrap());
        assert!(budget.memory_growing(0, 30 * MIB, None).unwrap());
        // 60 + 30 + 20 MiB > 100 MiB: refused (the guest sees a failed allocation).
        assert!(!budget.memory_growing(30 * MIB, 50 * MIB, None).unwrap());
        assert_eq!(budget.denied, Some(110 * MIB));
        assert!(budget.memory_growing(60 * MIB, 70 * MIB, None).unwrap());
        assert_eq!(budget.used, 100 * MIB);
        // After a refusal the guest gets a small reserve to report the error.
        let reserve_top = 70 * MIB + ERROR_RESERVE;
        assert!(budget.memory_growing(70 * MIB, reserve_top, None).unwrap());
        // A growth that was allowed but then failed is given back.
        budget
            .memory_grow_failed(wasmtime::format_err!("mmap failed"))
            .unwrap();
        assert_eq!(budget.used, 100 * MIB);
        // Past the reserve: refused again.
        assert!(!budget
            .memory_growing(70 * MIB, reserve_top + 1, None)
            .unwrap());
        assert_eq!(budget.denied, Some(110 * MIB));
    }
}
