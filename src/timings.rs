//! `CONFORM_TIMINGS=1`: the time each stage of a run took, on stderr, for
//! profiling (`conform bench` and the README's "Benchmark" section say where
//! a run's time goes). Off, a mark costs one relaxed atomic load.

use std::sync::OnceLock;
use std::time::Instant;

struct Clock {
    start: Instant,
    last: std::sync::Mutex<Instant>,
}

fn clock() -> Option<&'static Clock> {
    static CLOCK: OnceLock<Option<Clock>> = OnceLock::new();
    CLOCK
        .get_or_init(|| {
            std::env::var_os("CONFORM_TIMINGS")
                .is_some_and(|v| !v.is_empty() && v != "0")
                .then(|| {
                    let now = Instant::now();
                    Clock {
                        start: now,
                        last: std::sync::Mutex::new(now),
                    }
                })
        })
        .as_ref()
}

/// Starts the clock (call first thing); a no-op unless `CONFORM_TIMINGS` is set.
pub fn start() {
    let _ = clock();
}

/// Prints how long the stage that ends here took, and the time since start.
pub fn mark(stage: &str) {
    if let Some(c) = clock() {
        let now = Instant::now();
        let mut last = c.last.lock().unwrap_or_else(|e| e.into_inner());
        crate::errln!(
            "timing: {stage:<28} {:>9.3} ms  (at {:>9.3} ms){}",
            (now - *last).as_secs_f64() * 1e3,
            (now - c.start).as_secs_f64() * 1e3,
            memory()
        );
        *last = now;
    }
}

/// `  RSS r MB, peak p MB` from `/proc/self/status` (Linux), or nothing.
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    match (kb("VmRSS:"), kb("VmHWM:")) {
        (Some(rss), Some(peak)) => format!(
            "  RSS {:.1} MB, peak {:.1} MB",
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn memory_reads_rss_and_peak_from_proc() {
        let m = super::memory();
        let nums: Vec<f64> = m
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .filter_map(|t| t.parse().ok())
            .collect();
        assert!(m.starts_with("  RSS ") && m.contains(", peak "), "{m:?}");
        assert_eq!(nums.len(), 2, "{m:?}");
        assert!(nums[0] > 0.0 && nums[0] <= nums[1], "{m:?}");
    }
}
