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
        Progress {
            bar,
            style,
            failed: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Prints a finished case's line and advances the live line.
    pub fn case_done(&self, r: &CaseResult) {
        let line = case_line(r, self.style);
        if matches!(r.outcome, Outcome::Failed | Outcome::Errored) {
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
            None => crate::outln!("{line}"),
        }
    }

    /// Removes the live line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
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
