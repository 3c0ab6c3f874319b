//! Giving freed memory back to the operating system during a long run.
//!
//! A run frees each case's plan once the case has run, but the results are
//! allocated on the runtime's worker threads, which glibc serves from other
//! arenas than the one the plans came from: without help the freed plan pages
//! stay resident next to the new results, and peak RSS is plans plus results.
//! `malloc_trim(0)` returns every free page of every arena (not only the top
//! of the main heap); it costs about a millisecond, so only a long run (of
//! [`TRIM_EVERY`] cases or more) calls it: after planning, every
//! [`TRIM_EVERY`] cases, and after the reports are built.

/// Cases between two trims.
pub const TRIM_EVERY: usize = 1024;

/// In a run of `cases` cases, [`release_free_memory`] if the run is long
/// enough for it to be worth its millisecond.
pub fn release_free_memory_in_run_of(cases: usize) {
    if cases >= TRIM_EVERY {
        release_free_memory();
    }
}

/// Returns free heap pages to the OS where the allocator can (glibc); a no-op elsewhere.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has no
    // preconditions and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
