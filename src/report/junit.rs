//! The JUnit XML report, written with quick-junit: one `<testsuite>` per
//! suite, one `<testcase>` per case (`classname` = `<suite>.<file>`), contract
//! failures as `<failure>`, transport errors as `<error>`, earlier failed
//! attempts of a flaky case as `<flakyFailure>`/`<flakyError>`. The XML stays
//! valid whatever the server sent: quick-junit drops characters XML cannot
//! hold, and long texts are cut.
//!
//! The flavour is Jenkins' (xunit-plugin `junit-10.xsd`, the Ant format with
//! surefire's flaky elements), plus one documented extension: a `file`
//! attribute on `<testcase>` (GitLab reads it; older revisions of the same XSD
//! allowed it). [`render`] is the one way reports become text, so nothing
//! outside that flavour is written; `tests/it/junit_xsd.rs` validates the
//! output against the XSD itself.

use std::collections::BTreeMap;
use std::path::Path;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::human::{failure_detail, first_problem};
use crate::result::{CaseResult, Outcome};

/// Longest failure text kept in the XML.
const MAX_TEXT: usize = 64 * 1024;

fn cut(s: String) -> String {
    if s.len() <= MAX_TEXT {
        return s;
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… (cut at {MAX_TEXT} bytes)", &s[..end])
}

/// Builds the report; results in any order, cases sorted by id.
pub fn build(results: &[CaseResult]) -> Report {
    let mut report = skeleton(results);
    let paths = super::Relative::new();
    for ts in &mut report.test_suites {
        // Pushed, not added: the skeleton has counted them already.
        let cases = suite_cases(results, ts.name.as_str()).map(|r| test_case(r, &paths));
        ts.test_cases.extend(cases);
    }
    report
}

/// The report without its test cases: one suite per suite of `results` (by
/// name), with its properties and its counts. Add properties to it, then write
/// it with [`write_streamed`], which builds the cases a batch at a time.
pub fn skeleton(results: &[CaseResult]) -> Report {
    let mut by_suite: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        by_suite.entry(&*r.id.suite).or_default().push(r);
    }
    let mut report = Report::new("conform");
    for (suite, cases) in by_suite {
        let mut ts = TestSuite::new(suite);
        if let Some(first) = cases.iter().min_by(|a, b| a.id.cmp(&b.id)) {
            ts.add_property(Property::new("target", &*first.target));
            ts.add_property(Property::new("base_url", &*first.base_url));
        }
        // The counts `TestSuite::add_test_case` would make.
        for r in cases {
            ts.tests += 1;
            match r.outcome {
                Outcome::Failed => ts.failures += 1,
                Outcome::Errored => ts.errors += 1,
                Outcome::Skipped(_) => ts.skipped += 1,
                Outcome::Passed | Outcome::Flaky => {}
            }
        }
        report.add_test_suite(ts);
    }
    report
}

/// The cases of `suite`, sorted by id.
fn suite_cases<'a>(
    results: &'a [CaseResult],
    suite: &str,
) -> impl Iterator<Item = &'a CaseResult> + use<'a> {
    let mut cases: Vec<&CaseResult> = results.iter().filter(|r| &*r.id.suite == suite).collect();
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    cases.into_iter()
}

fn test_case(r: &CaseResult, paths: &super::Relative) -> TestCase {
    let status = match &r.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Flaky => {
            let mut s = TestCaseStatus::success();
            if let TestCaseStatus::Success { flaky_runs } = &mut s {
                for e in &r.earlier {
                    let kind = if e.outcome == Outcome::Errored {
                        NonSuccessKind::Error
                    } else {
                        NonSuccessKind::Failure
                    };
                    let mut rerun = TestRerun::new(kind);
                    rerun.set_message(cut(e.message.clone()));
                    rerun.set_type(if kind == NonSuccessKind::Error {
                        "transport"
                    } else {
                        "contract"
                    });
                    // No `time`: the XSD's rerun type has only
                    // `message` and `type`; summary.json keeps it.
                    rerun.set_description(cut(e.detail.clone()));
                    flaky_runs.push(rerun);
                }
            }
            s
        }
        Outcome::Skipped(why) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(why.as_str());
            s
        }
        Outcome::Failed | Outcome::Errored => {
            let kind = if r.outcome == Outcome::Failed {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut s = TestCaseStatus::non_success(kind);
            s.set_message(cut(first_problem(r)));
            s.set_type(if r.outcome == Outcome::Failed {
                "contract"
            } else {
                "transport"
            });
            s.set_description(cut(failure_detail(r)));
            s
        }
    };
    let mut tc = TestCase::new(r.id.name.as_str(), status);
    tc.set_classname(format!("{}.{}", r.id.suite, r.id.file));
    tc.set_time(r.duration);
    tc.extra.insert("file".into(), paths.show(&r.file).into());
    tc
}

/// How a suite's element ends in quick-junit's text.
const SUITE_END: &str = "\n    </testsuite>";

/// Cases built and serialized at once by [`write_streamed`].
const BATCH: usize = 256;

/// Writes `skeleton` (from [`skeleton`], with any properties added) with the
/// cases of `results` in place: the same text as [`render`] of the whole
/// report, but no more than [`BATCH`] cases are ever built, so a run of ten
/// thousand cases does not hold ten thousand more objects to write its JUnit.
///
/// Both parts are quick-junit's own text: each batch is serialized as a suite
/// of its own and its `<testcase>` elements are copied out (element text and
/// attributes are escaped, so the tags searched for cannot occur inside them).
pub fn write_streamed(
    skeleton: &Report,
    results: &[CaseResult],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let frame = render(skeleton).map_err(std::io::Error::other)?;
    let paths = super::Relative::new();
    let mut rest = frame.as_str();
    for ts in &skeleton.test_suites {
        // Each suite of the skeleton has properties, so it has an end tag.
        let at = rest
            .find(SUITE_END)
            .ok_or_else(|| std::io::Error::other("the JUnit frame lost a suite's end tag"))?;
        out.write_all(&rest.as_bytes()[..at])?;
        rest = &rest[at + SUITE_END.len()..];
        // Passed cases whose texts need no escaping are written here; the
        // others gather and go through quick-junit a batch at a time, in order.
        let mut batch: Vec<&CaseResult> = Vec::new();
        let mut plain = String::new();
        for r in suite_cases(results, ts.name.as_str()) {
            plain.clear();
            if plain_passed_case(r, &paths.show(&r.file), &mut plain) {
                write_batch(ts.name.as_str(), &batch, &paths, out)?;
                batch.clear();
                out.write_all(plain.as_bytes())?;
            } else {
                batch.push(r);
                if batch.len() == BATCH {
                    write_batch(ts.name.as_str(), &batch, &paths, out)?;
                    batch.clear();
                }
            }
        }
        write_batch(ts.name.as_str(), &batch, &paths, out)?;
        out.write_all(SUITE_END.as_bytes())?;
    }
    out.write_all(rest.as_bytes())
}

/// The `<testcase>` elements of `cases`, rendered by quick-junit.
fn write_batch(
    suite: &str,
    cases: &[&CaseResult],
    paths: &super::Relative,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    if cases.is_empty() {
        return Ok(());
    }
    let mut batch = Report::new("conform");
    let mut part = TestSuite::new(suite);
    part.add_test_cases(cases.iter().map(|r| test_case(r, paths)));
    batch.add_test_suite(part);
    let text = render(&batch).map_err(std::io::Error::other)?;
    let from = text
        .find("\n        <testcase")
        .ok_or_else(|| std::io::Error::other("a JUnit batch has no test case"))?;
    let to = text
        .rfind(SUITE_END)
        .ok_or_else(|| std::io::Error::other("a JUnit batch has no end tag"))?;
    out.write_all(&text.as_bytes()[from..to])
}

/// Text quick-junit would write as it is: printable ASCII without `&`, `<`,
/// `>`, `"` or `'` (no escape, no terminal sequence to strip).
fn is_plain(text: &str) -> bool {
    text.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
}

/// Writes to `out` the element quick-junit writes for a passed case, if its
/// texts are plain ([`is_plain`]): for most cases of a green run, a line
/// built here instead of a `TestCase`, its strings' terminal-sequence pass
/// and quick-xml's escaping (about 1.7 ms for 1,000 cases). The test
/// `plain_passed_cases_are_written_as_quick_junit_writes_them` holds the two
/// to the same bytes.
fn plain_passed_case(r: &CaseResult, file: &str, out: &mut String) -> bool {
    use std::fmt::Write as _;
    let plain = r.outcome == Outcome::Passed
        && is_plain(r.id.name.as_str())
        && is_plain(&r.id.suite)
        && is_plain(&r.id.file)
        && is_plain(file);
    if plain {
        let _ = write!(
            out,
            "\n        <testcase name=\"{}\" classname=\"{}.{}\" time=\"{:.3}\" file=\"{}\"/>",
            r.id.name.as_str(),
            r.id.suite,
            r.id.file,
            r.duration.as_secs_f64(),
            file
        );
    }
    plain
}

/// Serializes a report in the Jenkins flavour: quick-junit's text without the
/// `skipped` count on `<testsuites>`, which that XSD does not allow (each
/// `<testsuite>` keeps its own).
///
/// Characters XML 1.0 cannot hold that quick-junit lets through (U+FFFE,
/// U+FFFF) are dropped too: the markup is ASCII, so this only touches text.
pub fn render(report: &Report) -> Result<String, String> {
    let mut xml = report.to_string().map_err(|e| e.to_string())?;
    xml.retain(is_xml_char);
    Ok(drop_root_skipped(xml))
}

/// XML 1.0's `Char` production.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Removes ` skipped="N"` from the first `<testsuites …>` start tag.
fn drop_root_skipped(mut xml: String) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml;
    };
    let Some(len) = xml[start..].find('>') else {
        return xml;
    };
    let tag = &xml[start..start + len];
    if let Some(at) = tag.find(" skipped=\"") {
        let from = start + at;
        let value_start = from + " skipped=\"".len();
        if let Some(q) = xml[value_start..].find('"') {
            xml.replace_range(from..value_start + q + 1, "");
        }
    }
    xml
}

/// Writes the report to `path` atomically (a temporary file, then rename), so a
/// reader never sees half a file.
pub fn write(results: &[CaseResult], path: &Path) -> std::io::Result<()> {
    let xml = render(&build(results)).map_err(std::io::Error::other)?;
    write_atomic(path, xml.as_bytes())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| std::io::Write::write_all(w, bytes))
}

/// Like [`write_atomic`], the content streamed by `fill` through a buffer; on
/// any error the temporary file is removed and `path` is left as it was.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let result = (|| {
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, std::fs::File::create(&tmp)?);
        fill(&mut w)?;
        w.flush()
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_loses_its_skipped_count_and_suites_keep_theirs() {
        let mut report = Report::new("conform");
        let mut ts = TestSuite::new("s");
        ts.add_test_case(TestCase::new("skip me", TestCaseStatus::skipped()));
        report.add_test_suite(ts);
        let raw = report.to_string().unwrap();
        assert!(
            raw.contains(r#"<testsuites name="conform" tests="1" skipped="1""#),
            "{raw}"
        );
        let xml = render(&report).unwrap();
        assert!(
            xml.contains(r#"<testsuites name="conform" tests="1" failures="0" errors="0">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuite name="s" tests="1" skipped="1""#),
            "{xml}"
        );
        // The text is otherwise untouched.
        assert_eq!(xml.len(), raw.len() - r#" skipped="1""#.len());
    }

    #[test]
    fn characters_xml_cannot_hold_are_dropped_from_every_text() {
        let mut report = Report::new("conform");
        let mut ts = TestSuite::new("s");
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message("a\u{FFFE}b\u{FFFF}c\u{0}d\u{1b}e");
        status.set_description("x\u{FFFF}y");
        ts.add_test_case(TestCase::new("n\u{FFFE}ame", status));
        report.add_test_suite(ts);
        let xml = render(&report).unwrap();
        assert!(
            !xml.contains(['\u{FFFE}', '\u{FFFF}', '\u{0}', '\u{1b}']),
            "{xml:?}"
        );
        assert!(xml.contains(r#"name="name""#), "{xml}");
        assert!(xml.contains("xy"), "{xml}");
        assert!(Report::deserialize_from_str(&xml).is_ok());
    }

    #[test]
    fn a_report_without_a_root_skipped_is_left_alone() {
        let xml = "<?xml version=\"1.0\"?>\n<testsuites name=\"x\" tests=\"0\">\n</testsuites>\n";
        assert_eq!(drop_root_skipped(xml.to_owned()), xml);
        assert_eq!(drop_root_skipped("no tag".to_owned()), "no tag");
    }
}
