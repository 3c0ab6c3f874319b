//! The allocator, and giving freed memory back to the operating system
//! during a long run.
//!
//! conform allocates with mimalloc. A run makes a few hundred small
//! allocations a case (the request, the response and its JSON, the checks,
//! the result); with glibc's malloc, allocating and freeing took about a
//! seventh of the process's CPU time (`malloc`, `_int_free`,
//! `malloc_consolidate`, … in `perf`). Measured on workload W, 1,000 cases
//! against nginx on the same CPU (`hyperfine`, 30–40 runs each): 60.0 ms ±
//! 0.8 with glibc, 55.0 ms ± 1.0 with mimalloc (user CPU 40.2 → 33.9 ms) in
//! a build without LTO; 54.6 ± 1.8 → 51.0 ± 0.5 ms in the release build.
//!
//! mimalloc is told to commit arena memory as it is used and to return freed
//! pages at once ([`configure_allocator`]): by default it keeps freed pages
//! for a second and commits arenas eagerly, which put the peak RSS of 10,000
//! cases at 44–49 MB instead of 25–27 MB (without LTO), for no measurable
//! speed. The release build peaks at 22.4–22.7 MB (`--jobs 1`) and
//! 23.5–23.7 MB (`--jobs 2`) there, against 21.6–24.8 MB with glibc.
//!
//! A run frees each case's plan once the case has run, while the results of
//! the cases are allocated: [`release_free_memory`] asks the allocator to
//! return every free page, after planning, every [`TRIM_EVERY`] cases and
//! after the reports are built, in runs of [`TRIM_EVERY`] cases or more.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option numbers (its `mi_option_e`), which the bindings do not name.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets the allocator's options before the first allocation: arena
/// commitment is decided when the first arena is reserved, which happens
/// before `main` (measured: set from `main`, the peak RSS of 10,000 cases
/// stayed at 33–35 MB; set here, 25–27 MB). glibc runs `.init_array` entries
/// before Rust's runtime allocates anything.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static CONFIGURE_ALLOCATOR: extern "C" fn() = {
    extern "C" fn configure() {
        configure_allocator();
    }
    configure
};

/// Sets the allocator's options (see [`CONFIGURE_ALLOCATOR`]); `main` calls
/// it too, for systems without `.init_array`, where it comes later.
pub fn configure_allocator() {
    // SAFETY: setting options is not thread-safe; this runs on the main thread
    // before any other thread is started.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

/// Cases between two trims.
pub const TRIM_EVERY: usize = 1024;

/// In a run of `cases` cases, [`release_free_memory`] if the run is long
/// enough for it to be worth its millisecond.
pub fn release_free_memory_in_run_of(cases: usize) {
    if cases >= TRIM_EVERY {
        release_free_memory();
    }
}

/// Returns free pages to the OS: mimalloc's own, and glibc's (which C code
/// linked in may still use).
pub fn release_free_memory() {
    // SAFETY: mi_collect only walks the allocator's own free lists and is
    // thread-safe; it collects the calling thread's heap and the shared arenas.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it has no
    // preconditions and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
