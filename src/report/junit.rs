//! The JUnit XML report, written with quick-junit: one `<testsuite>` per
//! suite, one `<testcase>` per case (`classname` = `<suite>.<file>`), contract
//! failures as `<failure>`, transport errors as `<error>`. The XML stays
//! valid whatever the server sent: quick-junit drops characters XML cannot
//! hold, and long texts are cut.

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
    let mut by_suite: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        by_suite.entry(r.id.suite.as_str()).or_default().push(r);
    }
    let mut report = Report::new("conform");
    for (suite, mut cases) in by_suite {
        cases.sort_by(|a, b| a.id.cmp(&b.id));
        let mut ts = TestSuite::new(suite);
        if let Some(first) = cases.first() {
            ts.add_property(Property::new("target", first.target.as_str()));
            ts.add_property(Property::new("base_url", first.base_url.as_str()));
        }
        for r in cases {
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
                            rerun.set_description(cut(e.detail.clone()));
                            rerun.set_time(e.duration);
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
            tc.extra.insert("file".into(), relative(&r.file).into());
            ts.add_test_case(tc);
        }
        report.add_test_suite(ts);
    }
    report
}

/// The path relative to the working directory when it lies below it, with `/` separators.
fn relative(p: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| p.to_path_buf());
    rel.display().to_string().replace('\\', "/")
}

/// Writes the report to `path` atomically (a temporary file, then rename), so a
/// reader never sees half a file.
pub fn write(results: &[CaseResult], path: &Path) -> std::io::Result<()> {
    let xml = build(results).to_string().map_err(std::io::Error::other)?;
    write_atomic(path, xml.as_bytes())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
