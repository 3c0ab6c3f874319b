//! The terminal report: a line per case as it finishes, every failure in
//! full, then `N passed, N failed[, N skipped]`. Colour only on a terminal
//! and never with `NO_COLOR`.

use std::fmt::Write as _;

use crate::result::{CaseResult, Outcome, StepOutcome, Totals};

/// Whether to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours on.
    pub color: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: !no_color && std::io::stdout().is_terminal(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Case lines as cases finish; on a terminal (and not in CI) a live line below
/// them with done/total, failures so far and elapsed time.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    style: Style,
    failed: std::sync::atomic::AtomicUsize,
    /// Case lines bound for a stdout that is not a terminal (a CI log, a
    /// file, a pipe), written a batch at a time.
    batched: Option<std::sync::Arc<Batched>>,
}

/// The batch of case lines and the flag that stops the thread writing it
/// out when cases stall.
struct Batched {
    lines: std::sync::Mutex<LineBatch<std::io::Stdout>>,
    done: std::sync::atomic::AtomicBool,
}

/// The batch of the run in progress, for [`write_pending_lines`].
static CURRENT: std::sync::Mutex<Option<std::sync::Weak<Batched>>> = std::sync::Mutex::new(None);

/// Writes the case lines gathered so far, so that a message printed now (on
/// stderr, as the notice of an interruption) reads after them in a log that
/// takes both streams.
pub fn write_pending_lines() {
    let current = CURRENT.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(b) = current.and_then(|w| w.upgrade()) {
        b.lines().write();
    }
}

impl Batched {
    fn lines(&self) -> std::sync::MutexGuard<'_, LineBatch<std::io::Stdout>> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Lines written together once `max_bytes` have gathered or `max_delay` has
/// passed since the last write, and at the end: a line per `write` call cost
/// a system call per case (1,000 for 1,000 cases), while a reader of a log
/// sees the lines at most `max_delay` late.
pub struct LineBatch<W: std::io::Write> {
    out: W,
    pending: String,
    since: std::time::Instant,
    max_bytes: usize,
    max_delay: std::time::Duration,
}

impl<W: std::io::Write> LineBatch<W> {
    /// A batch writing to `out`.
    pub fn new(out: W, max_bytes: usize, max_delay: std::time::Duration) -> Self {
        LineBatch {
            out,
            pending: String::new(),
            since: std::time::Instant::now(),
            max_bytes,
            max_delay,
        }
    }

    /// Adds `line` (a newline is added), writing the batch if it is due.
    pub fn push(&mut self, line: &str) {
        self.pending.push_str(line);
        self.pending.push('\n');
        if self.pending.len() >= self.max_bytes || self.since.elapsed() >= self.max_delay {
            self.write();
        }
    }

    /// Writes what has gathered if the last write is `max_delay` old.
    pub fn write_if_due(&mut self) {
        if !self.pending.is_empty() && self.since.elapsed() >= self.max_delay {
            self.write();
        }
    }

    /// Writes what has gathered (a write error is ignored, as for every line
    /// conform prints: a closed pipe must not stop a run).
    pub fn write(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.out.write_all(self.pending.as_bytes());
            let _ = self.out.flush();
            self.pending.clear();
        }
        self.since = std::time::Instant::now();
    }

    /// The writer (for tests).
    pub fn get_ref(&self) -> &W {
        &self.out
    }
}

impl<W: std::io::Write> Drop for LineBatch<W> {
    fn drop(&mut self) {
        self.write();
    }
}

impl Progress {
    /// A progress display for `total` cases.
    pub fn new(total: usize, style: Style) -> Progress {
        use std::io::IsTerminal;
        let live = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = live.then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{pos}/{len} cases, {msg} [{elapsed_precise}] {wide_bar}",
                )
                .expect("static template"),
            );
            bar.set_message("0 failed");
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        let batched = (bar.is_none() && !std::io::stdout().is_terminal()).then(|| {
            let delay = std::time::Duration::from_millis(100);
            let batched = std::sync::Arc::new(Batched {
                lines: std::sync::Mutex::new(LineBatch::new(std::io::stdout(), 8 * 1024, delay)),
                done: std::sync::atomic::AtomicBool::new(false),
            });
            // A case that takes long (a timeout, a slow server) must not hold
            // back the lines of the cases before it: they are written once
            // they are `delay` old whether or not another case finishes.
            let ticker = std::sync::Arc::clone(&batched);
            let spawned = std::thread::Builder::new()
                .name("conform-lines".into())
                .spawn(move || {
                    while !ticker.done.load(std::sync::atomic::Ordering::Acquire) {
                        std::thread::park_timeout(delay);
                        ticker.lines().write_if_due();
                    }
                });
            *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(std::sync::Arc::downgrade(&batched));
            if spawned.is_err() {
                // No thread: every line goes at once, as without batching.
                batched.lines().max_bytes = 0;
            }
            batched
        });
        Progress {
            bar,
            style,
            failed: std::sync::atomic::AtomicUsize::new(0),
            batched,
        }
    }

    /// Prints a finished case's line and advances the live line.
    pub fn case_done(&self, r: &CaseResult) {
        let line = case_line(r, self.style);
        let failed = matches!(r.outcome, Outcome::Failed | Outcome::Errored);
        if failed {
            self.failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.set_message(format!(
                    "{} failed",
                    self.failed.load(std::sync::atomic::Ordering::Relaxed)
                ));
                bar.inc(1);
            }
            None => match &self.batched {
                // A failure is written at once, with the lines before it.
                Some(b) if failed => {
                    let mut lines = b.lines();
                    lines.push(&line);
                    lines.write();
                }
                Some(b) => b.lines().push(&line),
                None => crate::outln!("{line}"),
            },
        }
    }

    /// Removes the live line, or writes the case lines still gathered.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.write_gathered();
    }

    /// Stops the writer thread and writes the case lines still gathered.
    fn write_gathered(&self) {
        if let Some(b) = &self.batched {
            b.done.store(true, std::sync::atomic::Ordering::Release);
            b.lines().write();
        }
    }
}

impl Drop for Progress {
    /// Nothing gathered is lost if `finish` was not reached.
    fn drop(&mut self) {
        self.write_gathered();
    }
}

/// `PASS [   0.012s] suite::file::case`.
pub fn case_line(r: &CaseResult, style: Style) -> String {
    let (word, code) = match &r.outcome {
        Outcome::Passed => ("PASS ", "32"),
        Outcome::Failed => ("FAIL ", "31"),
        Outcome::Errored => ("ERROR", "35"),
        Outcome::Skipped(_) => ("SKIP ", "33"),
        Outcome::Flaky => ("FLAKY", "33"),
    };
    let mut line = format!(
        "{} [{:>8.3}s] {}",
        style.paint(code, word),
        r.duration.as_secs_f64(),
        r.id
    );
    if let Outcome::Skipped(why) = &r.outcome {
        let _ = write!(line, " ({why})");
    }
    if r.outcome == Outcome::Flaky {
        let _ = write!(
            line,
            " (passed on attempt {} after: {})",
            r.attempts,
            r.earlier.first().map_or("", |e| e.message.as_str())
        );
    }
    line
}

/// Everything about one case that did not pass: each step, each failed check with
/// expected and actual, diffs and schema violations, and the body that came back.
pub fn failure_detail(r: &CaseResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "--- {} {}", r.outcome.word().to_uppercase(), r.id);
    let _ = writeln!(out, "    file: {}", r.file.display());
    let _ = writeln!(out, "    target: {} ({})", r.target, r.base_url);
    for s in &r.steps {
        let req = s.request_line.as_deref().unwrap_or("(not sent)");
        let status = s.status.map(|c| format!(" -> {c}")).unwrap_or_default();
        let tail = match &s.outcome {
            StepOutcome::Passed => "ok".to_owned(),
            StepOutcome::Failed => "FAILED".to_owned(),
            StepOutcome::Errored(e) => format!("ERROR: {e}"),
            StepOutcome::Skipped(why) => format!("skipped: {why}"),
        };
        let _ = writeln!(out, "  {}: {req}{status}: {tail}", s.title());
        for c in s.checks() {
            let Some(f) = &c.failure else { continue };
            let _ = writeln!(out, "    check failed: {}", c.label);
            let _ = writeln!(out, "      expected: {}", indent_rest(&f.expected, 16));
            let _ = writeln!(out, "      actual:   {}", indent_rest(&f.actual, 16));
            if let Some(d) = &f.detail {
                for line in d.lines() {
                    let _ = writeln!(out, "        {line}");
                }
            }
        }
        if let Some(body) = s.body_preview() {
            let _ = writeln!(out, "    response body (first 2 KB):");
            for line in body.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    out
}

fn indent_rest(s: &str, n: usize) -> String {
    s.replace('\n', &format!("\n{}", " ".repeat(n)))
}

/// The first failed check or error of a case, in one line (for JUnit's `message`).
pub fn first_problem(r: &CaseResult) -> String {
    for s in &r.steps {
        match &s.outcome {
            StepOutcome::Errored(e) => return format!("{}: {e}", s.title()),
            StepOutcome::Failed => {
                if let Some((c, f)) = s
                    .checks()
                    .iter()
                    .find_map(|c| c.failure.as_ref().map(|f| (c, f)))
                {
                    let one = |t: &str| t.lines().next().unwrap_or("").to_owned();
                    return format!(
                        "{}: {}: expected {}, got {}",
                        s.title(),
                        c.label,
                        one(&f.expected),
                        one(&f.actual)
                    );
                }
            }
            _ => {}
        }
    }
    match &r.outcome {
        Outcome::Skipped(why) => why.clone(),
        other => other.word().to_owned(),
    }
}

/// The closing lines: failures in full, then the totals.
pub fn summary(results: &[CaseResult], style: Style) -> String {
    let mut out = String::new();
    let bad: Vec<&CaseResult> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::Errored))
        .collect();
    if !bad.is_empty() {
        let _ = writeln!(out, "\nfailures:\n");
        for r in &bad {
            let _ = writeln!(out, "{}", failure_detail(r));
        }
    }
    let flaky: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Flaky)
        .collect();
    if !flaky.is_empty() {
        let _ = writeln!(out, "\nflaky (passed only on a rerun):\n");
        for r in &flaky {
            let _ = writeln!(out, "--- FLAKY {} (attempts: {})", r.id, r.attempts);
            for (i, e) in r.earlier.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "    attempt {}: {}: {}",
                    i + 1,
                    e.outcome.word(),
                    e.message
                );
            }
        }
    }
    let t = Totals::of(results);
    let _ = writeln!(
        out,
        "{} cases: {} passed ({} flaky), {} failed (contract), {} errors (transport or runtime), {} skipped",
        results.len(),
        style.paint("32", &t.passed.to_string()),
        t.flaky,
        t.failed,
        t.errored,
        t.skipped
    );
    let mut last = format!("{} passed, {} failed", t.passed, t.failed + t.errored);
    if t.skipped > 0 {
        let _ = write!(last, ", {} skipped", t.skipped);
    }
    out.push_str(&last);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::LineBatch;
    use std::time::Duration;

    #[test]
    fn lines_are_written_in_batches_in_order_and_none_is_lost() {
        let hour = Duration::from_secs(3600);
        let mut b = LineBatch::new(Vec::new(), 20, hour);
        b.push("PASS a");
        b.push("PASS b");
        assert!(b.get_ref().is_empty(), "under the size, before the delay");
        b.push("FAIL c");
        assert_eq!(b.get_ref().as_slice(), b"PASS a\nPASS b\nFAIL c\n");
        b.push("PASS d");
        b.write();
        assert_eq!(b.get_ref().as_slice(), b"PASS a\nPASS b\nFAIL c\nPASS d\n");

        // Past the delay, each line goes at once.
        let mut b = LineBatch::new(Vec::new(), 1 << 20, Duration::ZERO);
        b.push("PASS a");
        assert_eq!(b.get_ref().as_slice(), b"PASS a\n");

        // The writer that runs when cases stall: only lines whose batch is due.
        let mut b = LineBatch::new(Vec::new(), 1 << 20, hour);
        b.push("PASS a");
        b.write_if_due();
        assert!(b.get_ref().is_empty(), "not due for an hour");
        let mut b = LineBatch::new(Vec::new(), 1 << 20, Duration::from_millis(1));
        b.write_if_due();
        assert!(b.get_ref().is_empty());
        b.pending.push_str("PASS a\n");
        std::thread::sleep(Duration::from_millis(5));
        b.write_if_due();
        assert_eq!(b.get_ref().as_slice(), b"PASS a\n");

        // Dropped with lines gathered: they are written.
        let mut out = Vec::new();
        {
            let mut b = LineBatch::new(&mut out, 1 << 20, hour);
            b.push("PASS z");
        }
        assert_eq!(out, b"PASS z\n");
    }
}
