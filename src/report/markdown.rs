//! `reports/summary.md`: a Markdown digest of a [`Summary`] for people —
//! totals, every failure with its expected/actual and diff, and the coverage
//! table — also appended to `$GITHUB_STEP_SUMMARY` when that is set.
//!
//! Whatever a server sent is fenced or put in code spans, never interpreted
//! as Markdown, and the digest stays well below GitHub's 1 MiB per step.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use super::drift::{CaseChange, Drift, run_label};
use super::summary::{CaseOutcome, CaseRecord, StepWord, Summary};
use crate::coverage::Coverage;

/// Failing cases shown in full; the rest are listed by id.
pub const MAX_DETAILED: usize = 50;
/// Longest text kept in one block.
pub const MAX_BLOCK: usize = 4096;

/// The digest of a run.
pub fn render(summary: &Summary, coverage: Option<&Coverage>) -> String {
    let mut out = String::new();
    let t = &summary.totals;
    let bad = t.fail + t.error;
    let verdict = if bad == 0 {
        format!("all {} cases passed", t.pass + t.flaky)
    } else {
        format!("{bad} of {} cases did not pass", t.cases)
    };
    let verdict = if t.skip > 0 {
        format!("{verdict} ({} skipped)", t.skip)
    } else {
        verdict
    };
    let _ = writeln!(out, "# conform: {verdict}\n");
    let r = &summary.run;
    let mut meta = vec![
        format!("target {}", code(&r.target)),
        format!("started {}", r.started_at),
        format!("conform {}", r.conform_version),
    ];
    if let Some(c) = &r.git_commit {
        meta.push(format!("cases at {}", code(&c[..c.len().min(12)])));
    }
    let _ = writeln!(out, "{}\n", meta.join(" · "));
    let _ = writeln!(out, "| outcome | cases |\n|---|---:|");
    for (word, n) in [
        ("pass", t.pass),
        ("fail", t.fail),
        ("error", t.error),
        ("skip", t.skip),
        ("flaky", t.flaky),
    ] {
        if n > 0 || matches!(word, "pass" | "fail" | "error") {
            let _ = writeln!(out, "| {word} | {n} |");
        }
    }
    let _ = writeln!(out, "| **total** | **{}** |\n", t.cases);
    if !summary.suites.is_empty() {
        let _ = writeln!(
            out,
            "| suite | cases | target | base URL |\n|---|---:|---|---|"
        );
        for s in &summary.suites {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&s.name),
                s.cases,
                cell(&s.target),
                cell(&code(&s.base_url))
            );
        }
        out.push('\n');
    }

    let failing: Vec<&CaseRecord> = summary
        .cases
        .iter()
        .filter(|c| c.outcome.is_bad())
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "## Failures\n");
        for c in failing.iter().take(MAX_DETAILED) {
            failure(&mut out, c);
        }
        if failing.len() > MAX_DETAILED {
            let _ = writeln!(
                out,
                "… and {} more (see `summary.json`):\n",
                failing.len() - MAX_DETAILED
            );
            for c in &failing[MAX_DETAILED..] {
                let _ = writeln!(out, "- {} {}", c.outcome.word().to_uppercase(), code(&c.id));
            }
            out.push('\n');
        }
    }
    let flaky: Vec<&CaseRecord> = summary
        .cases
        .iter()
        .filter(|c| c.outcome == CaseOutcome::Flaky)
        .collect();
    if !flaky.is_empty() {
        let _ = writeln!(out, "## Flaky\n");
        for c in flaky {
            let _ = writeln!(out, "- {} passed on attempt {}", code(&c.id), c.attempts);
            for e in &c.earlier_attempts {
                let _ = writeln!(out, "  - {}: {}", e.outcome.word(), code(&e.message));
            }
        }
        out.push('\n');
    }
    if let Some(cov) = coverage {
        coverage_section(&mut out, cov);
    }
    out
}

fn failure(out: &mut String, c: &CaseRecord) {
    let _ = writeln!(
        out,
        "### {} {}\n",
        c.outcome.word().to_uppercase(),
        code(&c.id)
    );
    let _ = writeln!(out, "File {} · target {}\n", code(&c.file), code(&c.target));
    if let Some(e) = &c.error {
        let _ = writeln!(out, "**Error:**\n");
        fence(out, "text", e);
    }
    for f in &c.failures {
        let _ = writeln!(out, "**{}**: {}\n", escape(&f.step), code(&f.label));
        let inline = |t: &str| !t.contains('\n') && t.len() <= 120;
        if inline(&f.expected) && inline(&f.actual) {
            let _ = writeln!(out, "- expected: {}", code(&f.expected));
            let _ = writeln!(out, "- actual: {}\n", code(&f.actual));
        } else {
            let _ = writeln!(out, "expected:\n");
            fence(out, "text", &f.expected);
            let _ = writeln!(out, "actual:\n");
            fence(out, "text", &f.actual);
        }
        if let Some(d) = &f.detail {
            let lang = if d.starts_with("--- ") || d.contains("\n@@") {
                "diff"
            } else {
                "text"
            };
            fence(out, lang, d);
        }
    }
    for s in &c.steps {
        if let Some(body) = &s.body_preview
            && matches!(s.outcome, StepWord::Fail | StepWord::Error)
        {
            let title = format!(
                "{} {} \"{}\"",
                if s.cleanup { "cleanup" } else { "step" },
                s.index,
                s.name
            );
            let _ = writeln!(
                out,
                "<details><summary>response body of {} (first 2 KB)</summary>\n",
                escape_html(&title)
            );
            fence(out, "text", body);
            let _ = writeln!(out, "</details>\n");
        }
    }
}

fn coverage_section(out: &mut String, cov: &Coverage) {
    let _ = writeln!(out, "## Coverage\n");
    let _ = writeln!(
        out,
        "Operations exercised: **{}** · documented statuses seen: **{}**\n",
        cov.operations.text(),
        cov.statuses.text()
    );
    for s in &cov.suites {
        let _ = writeln!(
            out,
            "### {}: operations {}, statuses {}\n",
            escape(&s.suite),
            s.operations.text(),
            s.statuses.text()
        );
        let _ = writeln!(
            out,
            "| operation | responses | documented | seen | not seen |\n|---|---:|---|---|---|"
        );
        for o in &s.operation_list {
            let seen: Vec<String> = o
                .seen
                .iter()
                .map(|c| {
                    if o.unlisted.contains(c) {
                        format!("{c}\\*")
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            let responses = if o.exercised {
                o.requests.to_string()
            } else {
                "**0**".to_owned()
            };
            let _ = writeln!(
                out,
                "| {} | {responses} | {} | {} | {} |",
                cell(&code(&format!("{} {}", o.method, o.path))),
                list(&o.documented),
                if seen.is_empty() {
                    "–".to_owned()
                } else {
                    seen.join(", ")
                },
                if o.missing.is_empty() {
                    String::new()
                } else {
                    format!("**{}**", list(&o.missing))
                },
            );
        }
        out.push('\n');
        if s.operation_list.iter().any(|o| !o.unlisted.is_empty()) {
            let _ = writeln!(
                out,
                "\\* unlisted: neither documented nor known from elsewhere for that operation.\n"
            );
        }
        if !s.unmatched.is_empty() {
            let _ = writeln!(out, "Requests matching no declared operation:\n");
            for u in &s.unmatched {
                let _ = writeln!(
                    out,
                    "- {} ({} case{})",
                    code(&format!("{} {}", u.method, u.path_template)),
                    u.cases.len(),
                    if u.cases.len() == 1 { "" } else { "s" }
                );
            }
            out.push('\n');
        }
    }
    if !cov.suites_without_operations.is_empty() {
        let _ = writeln!(
            out,
            "Not counted (no `operations.yaml`): {}\n",
            cov.suites_without_operations
                .iter()
                .map(|s| code(s))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// A `## Drift` section to append to [`render`]'s output in a run with `--baseline`.
pub fn drift_section(d: &Drift) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Drift\n\nBaseline {} → this run {}\n",
        run_label(&d.old_run),
        run_label(&d.new_run)
    );
    if d.is_empty() {
        let _ = writeln!(out, "No drift.\n");
    }
    let w = |o: Option<CaseOutcome>| o.map_or("absent", CaseOutcome::word);
    let change = |c: &CaseChange| format!("{} → {}", w(c.old), w(c.new));
    let mut cases = |title: &str, list: &[CaseChange], how: &dyn Fn(&CaseChange) -> String| {
        if list.is_empty() {
            return;
        }
        let _ = writeln!(out, "**{title}** ({}):\n", list.len());
        for c in list {
            let _ = writeln!(out, "- {} ({})", code(&c.id), how(c));
        }
        out.push('\n');
    };
    cases("Newly failing", &d.newly_failing, &change);
    cases("Newly passing", &d.newly_passing, &change);
    cases("Newly flaky", &d.newly_flaky, &change);
    cases("New cases", &d.new_cases, &|c| w(c.new).to_owned());
    cases("Vanished cases", &d.vanished_cases, &|c| {
        format!("was {}", w(c.old))
    });
    cases(
        "Still failing, as in the baseline",
        &d.still_failing,
        &|c| w(c.new).to_owned(),
    );
    if !d.responses.is_empty() {
        let _ = writeln!(out, "**Response drift** ({}):\n", d.responses.len());
        for r in &d.responses {
            let _ = writeln!(out, "- {}", code(&r.heading()));
            for line in r.lines() {
                let _ = writeln!(out, "  - {}", code(&line));
            }
        }
        out.push('\n');
    }
    out
}

/// Appends `markdown` to the file `$GITHUB_STEP_SUMMARY` names, when it is set
/// and not empty; returns that file. `env` is injected so tests never touch the
/// process environment.
pub fn append_to_step_summary(
    markdown: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::io::Result<Option<PathBuf>> {
    let Some(path) = env("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(path);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    f.write_all(markdown.as_bytes())?;
    if !markdown.ends_with('\n') {
        f.write_all(b"\n")?;
    }
    Ok(Some(path))
}

fn list(codes: &[u16]) -> String {
    codes
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text cut to [`MAX_BLOCK`] bytes at a character boundary.
fn cut(s: &str) -> String {
    if s.len() <= MAX_BLOCK {
        return s.to_owned();
    }
    let mut end = MAX_BLOCK;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… (cut at {MAX_BLOCK} bytes)", &s[..end])
}

/// Longest run of backticks in `s`.
fn longest_ticks(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A fenced block whose fence no line of `text` can close.
fn fence(out: &mut String, lang: &str, text: &str) {
    let text = cut(text);
    let ticks = "`".repeat(longest_ticks(&text).max(2) + 1);
    let _ = writeln!(
        out,
        "{ticks}{lang}\n{}\n{ticks}\n",
        text.trim_end_matches('\n')
    );
}

/// An inline code span holding `s` on one line, whatever backticks it contains.
fn code(s: &str) -> String {
    let one_line: String = cut(s).replace(['\n', '\r'], " ");
    let ticks = "`".repeat(longest_ticks(&one_line) + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{one_line}{pad}{ticks}")
}

/// Text safe in a table cell: `|` escaped (also inside code spans, as GFM requires).
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Markdown punctuation escaped in inline text (never at the start of a line,
/// where `#`, `-` or `1.` would matter too).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_[]<>|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_and_fences_survive_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("two\nlines"), "`two lines`");
        let mut out = String::new();
        fence(&mut out, "text", "has ``` inside\n");
        assert!(
            out.starts_with("````text\n") && out.ends_with("\n````\n\n"),
            "{out}"
        );
    }

    #[test]
    fn escapes_markdown_in_plain_text_and_cells() {
        assert_eq!(escape("step 1 \"a_b\""), "step 1 \"a\\_b\"");
        assert_eq!(cell("`a|b`"), "`a\\|b`");
        assert_eq!(escape_html("<b>&"), "&lt;b&gt;&amp;");
    }

    #[test]
    fn long_blocks_are_cut() {
        let long = "é".repeat(MAX_BLOCK);
        let c = cut(&long);
        assert!(c.len() < MAX_BLOCK + 40 && c.ends_with("bytes)"));
    }

    #[test]
    fn appends_to_the_step_summary_only_when_set() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("step.md");
        std::fs::write(&file, "before\n").unwrap();
        let f = file.display().to_string();
        let env = |k: &str| (k == "GITHUB_STEP_SUMMARY").then(|| f.clone());
        assert_eq!(
            append_to_step_summary("# hi", &env).unwrap(),
            Some(file.clone())
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "before\n# hi\n");
        assert_eq!(append_to_step_summary("# hi", &|_| None).unwrap(), None);
        let empty = |_: &str| Some(String::new());
        assert_eq!(append_to_step_summary("# hi", &empty).unwrap(), None);
    }
}
