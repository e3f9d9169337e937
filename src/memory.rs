//! The allocator, and giving memory back to the system after a burst.
//!
//! On Linux with glibc, the hub's own allocations go to jemalloc. An idle connection is mostly
//! small blocks that live as long as it does; a join allocates more of them between short-lived
//! ones (the role read, the answer with the room's presence, the presence packets of the
//! others' joins). glibc's allocator leaves the holes of the short-lived blocks inside pages
//! that stay resident, where jemalloc's size classes keep the long-lived ones together. On
//! 19,000 connections that joined rooms of 100: 13.4 KiB per connection, against 15.0 with
//! glibc's (BENCHMARKS.md, "Idle connections and memory"). jemalloc's background thread
//! returns the pages freed by a burst about 10 s after it.
//!
//! The embedded SQLite still allocates through glibc, whose arenas keep the pages of freed
//! blocks: [`spawn_trimmer`] asks glibc every [`TRIM_EVERY`] to return its free pages
//! (`malloc_trim`). A trim takes about a millisecond; see BENCHMARKS.md, "Memory under abuse".
//! Elsewhere than glibc it does nothing.

use std::time::Duration;

/// The allocator of every Rust allocation of the hub (its tests included).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// How often free pages are returned to the system.
pub const TRIM_EVERY: Duration = Duration::from_secs(10);

/// Starts the trimming thread (a no-op where the allocator is not glibc's).
pub fn spawn_trimmer() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("malloc-trim".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(TRIM_EVERY);
                    let started = std::time::Instant::now();
                    // SAFETY: malloc_trim only releases free memory held by the allocator; it
                    // takes the allocator's own locks and touches no live allocation.
                    let released = unsafe { libc::malloc_trim(0) };
                    metrics::histogram!("hub_malloc_trim_seconds")
                        .record(started.elapsed().as_secs_f64());
                    if released != 0 {
                        metrics::counter!("hub_malloc_trims_released_total").increment(1);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the memory trimming thread");
        }
    }
}
