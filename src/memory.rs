//! Giving memory back to the system after a burst.
//!
//! glibc's allocator keeps the pages of freed blocks in its arenas: after a flood of
//! connections that the hub then closed (refused handshakes, stalled readers), the resident
//! size stays at the flood's peak although almost nothing is live. [`spawn_trimmer`] asks
//! glibc every [`TRIM_EVERY`] to return its free pages (`malloc_trim`), so the resident size
//! follows the live connections. Measured on 19,000 idle connections, a trim takes about a
//! millisecond; see BENCHMARKS.md, "Memory under abuse". Elsewhere than glibc it does nothing.

use std::time::Duration;

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
