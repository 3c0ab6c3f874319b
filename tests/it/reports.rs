//! The release-gate and nightly reports: `summary.json`, `summary.md`,
//! `coverage.json` and drift, as snapshots of a fixed, hand-built run
//! (durations and timestamps redacted); the JSON Schemas of the two JSON files;
//! coverage dropping when a case goes; every shipped case calling a declared
//! operation; and drift between two runs of the embedded mock, the second with
//! a fault switched on.

use std::path::Path;
use std::time::Duration;

use conform::app::{self, RunOptions};
use conform::case::Diagnostics;
use conform::check::CheckResult;
use conform::check::result::CheckFailure;
use conform::coverage::{self, Catalog};
use conform::mock::Fault;
use conform::plan::CaseId;
use conform::report::drift::{self, FailOn};
use conform::report::exit;
use conform::report::markdown;
use conform::report::summary::{self, CaseOutcome, RunMeta, Summary};
use conform::result::{CaseResult, EarlierAttempt, Outcome, StepExtra, StepOutcome, StepResult};
use conform::schema::SchemaRegistry;
use serde_json::json;

use crate::common::select_all;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The operations the shipped suites declare.
pub(crate) fn catalog() -> Catalog {
    coverage::load_dir(&repo().join("cases")).expect("the shipped operations.yaml files load")
}

fn meta(started_at: &str) -> RunMeta {
    RunMeta {
        conform_version: "0.1.0".into(),
        target: "mock".into(),
        base_url: None,
        started_at: started_at.into(),
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        shard: None,
    }
}

fn id(suite: &str, file: &str, name: &str) -> CaseId {
    CaseId {
        suite: suite.into(),
        file: file.into(),
        name: name.into(),
    }
}

/// Base URLs of the two embedded mocks in the fixed run.
const P: &str = "http://127.0.0.1:40001/";
const L: &str = "http://127.0.0.1:40002/";

fn case(id: CaseId, outcome: Outcome, steps: Vec<StepResult>) -> CaseResult {
    let base = if &*id.suite == "palisade" { P } else { L };
    CaseResult {
        file: std::path::PathBuf::from(format!("cases/{}/{}.yaml", id.suite, id.file)).into(),
        id,
        tags: vec!["read".into()],
        target: "mock".into(),
        base_url: base.into(),
        outcome,
        steps,
        duration: Duration::from_millis(42),
        attempts: 1,
        earlier: Vec::new(),
    }
}

struct Step {
    index: usize,
    name: &'static str,
    method: &'static str,
    template: &'static str,
    path: &'static str,
}

fn step(
    base: &str,
    s: Step,
    status: Option<u16>,
    body: Option<serde_json::Value>,
    checks: Vec<CheckResult>,
    outcome: StepOutcome,
) -> StepResult {
    let failed = checks.iter().any(|c| !c.passed());
    StepResult {
        index: s.index,
        cleanup: false,
        name: s.name.into(),
        method: s.method.into(),
        path_template: s.template.into(),
        path: Some(s.path.into()),
        request_line: Some(format!("{} {base}{}", s.method, &s.path[1..])),
        shape: body.as_ref().map(conform::shape::interned),
        status,
        outcome,
        duration: Duration::from_millis(7),
        extra: Some(Box::new(StepExtra {
            body_preview: if failed {
                body.as_ref().map(|b| b.to_string())
            } else {
                None
            },
            checks,
            notes: Vec::new(),
        })),
    }
}

fn user(first_name: &str, status: &str) -> serde_json::Value {
    json!({"id": "u1", "firstName": first_name, "roles": ["ADMINISTRATOR"], "status": status})
}

/// A fixed run: passes, a contract failure with a diff, a transport error, a
/// skip, both suites, and statuses documented, known-elsewhere and unlisted.
pub(crate) fn fixed_results() -> Vec<CaseResult> {
    let ok = || CheckResult::pass("status");
    let diff =
        conform::check::body::json_diff(&json!({"firstName": "Joe"}), &json!({"firstName": "Bob"}));
    vec![
        case(
            id("palisade", "users-create", "create then get a user"),
            Outcome::Passed,
            vec![
                step(
                    P,
                    Step { index: 1, name: "create", method: "POST", template: "/v2/users", path: "/v2/users" },
                    Some(200),
                    Some(user("Joe", "CREATED")),
                    vec![ok()],
                    StepOutcome::Passed,
                ),
                step(
                    P,
                    Step { index: 2, name: "get", method: "GET", template: "/v2/users/{{user_id}}", path: "/v2/users/u1" },
                    Some(200),
                    Some(user("Joe", "CREATED")),
                    vec![ok()],
                    StepOutcome::Passed,
                ),
                StepResult {
                    cleanup: true,
                    ..step(
                        P,
                        Step { index: 1, name: "delete", method: "DELETE", template: "/v2/users/{{user_id}}", path: "/v2/users/u1" },
                        Some(200),
                        Some(json!({})),
                        vec![ok()],
                        StepOutcome::Passed,
                    )
                },
            ],
        ),
        case(
            id("palisade", "users-update", "renaming a user is stored"),
            Outcome::Failed,
            vec![step(
                P,
                Step { index: 1, name: "get the renamed user", method: "GET", template: "/v2/users/{{user_id}}", path: "/v2/users/u1" },
                Some(200),
                Some(user("Bob", "ACTIVATED")),
                vec![
                    ok(),
                    CheckResult {
                        label: "jsonpath `$.firstName` equals".into(),
                        failure: Some(CheckFailure {
                            expected: "\"Joe\"".into(),
                            actual: "\"Bob\"".into(),
                            detail: None,
                        }),
                    },
                    CheckResult::fail("body_subset", "a body containing {\"firstName\":\"Joe\"}", "{\"firstName\":\"Bob\"}")
                        .with_detail(Some(diff)),
                ],
                StepOutcome::Failed,
            )],
        ),
        case(
            id("palisade", "errors-unknown-id", "an unknown id is 404"),
            Outcome::Passed,
            vec![step(
                P,
                Step { index: 1, name: "get", method: "GET", template: "/v2/users/{{missing_id}}", path: "/v2/users/00000000-0000-4000-8000-000000000000" },
                Some(404),
                Some(json!({"code": 5, "message": "not found", "details": []})),
                vec![ok()],
                StepOutcome::Passed,
            )],
        ),
        case(
            id("palisade", "users-info", "list user info"),
            Outcome::Errored,
            vec![step(
                P,
                Step { index: 1, name: "list", method: "GET", template: "/v2/users/info", path: "/v2/users/info" },
                None,
                None,
                vec![],
                StepOutcome::Errored("connection refused (is the target up?)".into()),
            )],
        ),
        case(
            id("palisade", "users-delete", "deleting mfa methods empties the list"),
            Outcome::Skipped("writes to read-only target `live`; pass --allow-writes".into()),
            vec![],
        ),
        case(
            id("palisade", "errors-auth", "listing users without a key is refused"),
            Outcome::Passed,
            vec![step(
                P,
                Step { index: 1, name: "list", method: "GET", template: "/v2/users", path: "/v2/users" },
                Some(401),
                Some(json!({"code": 16, "message": "unauthenticated"})),
                vec![ok()],
                StepOutcome::Passed,
            )],
        ),
        case(
            id("palisade", "platform", "platform info is public"),
            Outcome::Passed,
            vec![step(
                P,
                Step { index: 1, name: "info", method: "GET", template: "/v2/platform/info", path: "/v2/platform/info" },
                Some(200),
                Some(json!({"version": "2.0"})),
                vec![ok()],
                StepOutcome::Passed,
            )],
        ),
        case(
            id("ledger-enterprise", "api-users-auth", "listing without a key is refused"),
            Outcome::Passed,
            vec![step(
                L,
                Step { index: 1, name: "list", method: "GET", template: "/api_users", path: "/api_users" },
                Some(401),
                Some(json!({"message": "Unauthorized", "status_code": 401})),
                vec![ok()],
                StepOutcome::Passed,
            )],
        ),
        CaseResult {
            attempts: 2,
            earlier: vec![EarlierAttempt {
                outcome: Outcome::Errored,
                message: "step 1 \"list\": timed out after 10s".into(),
                detail: "--- ERROR ledger-enterprise::api-users-read::list api users under a rate limit\n  step 1 \"list\": timed out after 10s\n".into(),
                duration: Duration::from_secs(10),
            }],
            ..case(
                id("ledger-enterprise", "api-users-read", "list api users under a rate limit"),
                Outcome::Flaky,
                vec![{
                    let mut s = step(
                        L,
                        Step { index: 1, name: "list", method: "GET", template: "/api_users", path: "/api_users" },
                        Some(200),
                        Some(json!({"api_users": []})),
                        vec![CheckResult::pass("status")],
                        StepOutcome::Passed,
                    );
                    s.extra_mut().notes = vec!["rate limited (420): waited 1s (Retry-After)".into()];
                    s
                }],
            )
        },
        case(
            id("ledger-enterprise", "api-users-read", "list api users"),
            Outcome::Passed,
            vec![step(
                L,
                Step { index: 1, name: "list", method: "GET", template: "/api_users", path: "/api_users" },
                Some(200),
                Some(json!({"api_users": [{"name": "api_lam_user", "role": "OPERATOR"}]})),
                vec![ok()],
                StepOutcome::Passed,
            )],
        ),
        case(
            id("ledger-enterprise", "api-users-create", "creating a name twice is refused"),
            Outcome::Passed,
            vec![step(
                L,
                Step { index: 1, name: "create again", method: "POST", template: "/api_users", path: "/api_users" },
                Some(400),
                Some(json!({"message": "User already exists"})),
                vec![ok()],
                StepOutcome::Passed,
            )],
        ),
    ]
}

fn fixed_summary() -> Summary {
    Summary::build(
        &fixed_results(),
        meta("2025-01-31T02:00:00Z"),
        Some(&catalog()),
    )
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(
        r#""duration_seconds": [0-9.]+"#,
        r#""duration_seconds": "[DURATION]""#,
    );
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIMESTAMP]");
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn summary_json_snapshot() {
    let json = fixed_summary().to_json();
    settings().bind(|| insta::assert_snapshot!("report_summary_json", json));
}

#[test]
fn summary_markdown_snapshot() {
    let s = fixed_summary();
    let cov = coverage::compute(&fixed_results(), &catalog());
    let md = markdown::render(&s, Some(&cov));
    settings().bind(|| insta::assert_snapshot!("report_summary_md", md));
}

#[test]
fn coverage_json_and_text_snapshot() {
    let cov = coverage::compute(&fixed_results(), &catalog());
    let text = format!("{}\n{}", cov.render_text(), cov.to_json());
    settings().bind(|| insta::assert_snapshot!("report_coverage", text));
}

/// The fixed run, then the same run where the update case passes, a new enum
/// value and field appear, a case vanishes and a new one fails.
#[test]
fn drift_rendering_snapshot() {
    let old = fixed_summary();
    let mut results = fixed_results();
    results.retain(|r| r.id.name != "an unknown id is 404");
    for r in &mut results {
        if r.id.name == "renaming a user is stored" {
            r.outcome = Outcome::Passed;
        }
        if r.id.name == "create then get a user" {
            r.outcome = Outcome::Failed;
            r.steps[1].shape = Some(conform::shape::interned(
                &json!({"id": "u1", "firstName": "Joe", "roles": "ADMINISTRATOR", "status": "ENABLED", "mfa": true}),
            ));
        }
    }
    let mut fresh = fixed_results().remove(1);
    fresh.id.name = "renaming twice is stored".into();
    results.push(fresh);
    let new = Summary::build(&results, meta("2025-02-01T02:00:00Z"), Some(&catalog()));
    let d = drift::diff(&old, &new);
    assert_eq!(d.new_failures(), 2);
    assert_eq!(d.exit_code(FailOn::NewFailures), exit::DRIFT);
    let text = format!("{}\n{}", d.render_text(), markdown::drift_section(&d));
    settings().bind(|| insta::assert_snapshot!("report_drift", text));
}

fn conform_schemas() -> SchemaRegistry {
    let mut diags = Diagnostics::default();
    let reg = SchemaRegistry::load("conform", &repo().join("schemas/conform"), &mut diags);
    assert!(diags.is_empty(), "{diags}");
    reg
}

#[test]
fn summary_and_coverage_validate_against_their_schemas() {
    let reg = conform_schemas();
    let summary: serde_json::Value = serde_json::from_str(&fixed_summary().to_json()).unwrap();
    assert_eq!(reg.validate("summary", &summary), vec![]);
    let empty = Summary::build(&[], meta("2025-01-31T02:00:00Z"), None);
    let empty: serde_json::Value = serde_json::from_str(&empty.to_json()).unwrap();
    assert_eq!(reg.validate("summary", &empty), vec![]);
    let cov = coverage::compute(&fixed_results(), &catalog());
    let cov: serde_json::Value = serde_json::from_str(&cov.to_json()).unwrap();
    assert_eq!(reg.validate("coverage", &cov), vec![]);

    // The schemas are strict enough to catch a wrong outcome or an undocumented field.
    let mut bad = summary.clone();
    bad["cases"][0]["outcome"] = json!("passed");
    bad["cases"][0]["steps"][0]["surprise"] = json!(1);
    let paths: Vec<String> = reg
        .validate("summary", &bad)
        .into_iter()
        .map(|v| v.instance_path)
        .collect();
    assert_eq!(paths, ["/cases/0/outcome", "/cases/0/steps/0"], "{paths:?}");
}

#[test]
fn summary_file_round_trips_through_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("reports/summary.json");
    let s = fixed_summary();
    s.write(&path).unwrap();
    assert_eq!(summary::read(&path).unwrap(), s);
}

#[test]
fn removing_a_case_lowers_coverage() {
    let cat = catalog();
    let all = fixed_results();
    let before = coverage::compute(&all, &cat);
    let mut fewer = all.clone();
    fewer.retain(|r| r.id.name != "creating a name twice is refused");
    let after = coverage::compute(&fewer, &cat);
    assert_eq!(after.operations.covered, before.operations.covered - 1);
    assert_eq!(after.statuses.covered, before.statuses.covered - 1);
    assert!(after.operations.percent < before.operations.percent);
    assert_eq!(after.operations.total, before.operations.total);
    let min = before.operations.percent.unwrap();
    assert!(before.require(min).is_ok());
    let err = after.require(min).unwrap_err();
    assert!(err.contains("ledger-enterprise POST /api_users"), "{err}");
}

/// Every step of every shipped case calls an operation its suite declares in
/// `operations.yaml`, so the file and the cases stay in step with the docs.
#[test]
fn every_shipped_case_calls_a_declared_operation() {
    let suites = app::load_and_plan(&repo().join("cases")).expect("the shipped cases load");
    let cat = catalog();
    let mut undeclared = Vec::new();
    let mut called = std::collections::BTreeSet::new();
    for s in &suites {
        let ops = cat
            .get(&s.name)
            .unwrap_or_else(|| panic!("suite `{}` has no {}", s.name, coverage::FILE_NAME));
        for c in &s.cases {
            for step in c.steps.iter().chain(&c.cleanup) {
                match ops.operation_for_template(&step.method, &step.path_text) {
                    Some(op) => {
                        called.insert((s.name.clone(), op.key()));
                    }
                    None => undeclared.push(format!(
                        "{}: step {:?} calls {} {}",
                        c.id, step.name, step.method, step.path_text
                    )),
                }
            }
        }
    }
    assert!(
        undeclared.is_empty(),
        "cases call operations their suite's {} does not declare:\n{}",
        coverage::FILE_NAME,
        undeclared.join("\n")
    );
    let never: Vec<String> = cat
        .suites()
        .flat_map(|s| s.operations.iter().map(move |o| (s.suite.clone(), o.key())))
        .filter(|k| !called.contains(k))
        .map(|(s, k)| format!("{s} {k}"))
        .collect();
    assert!(
        never.is_empty(),
        "declared operations no shipped case calls: {never:?}"
    );
}

async fn run_palisade(faults: Vec<Fault>) -> Vec<CaseResult> {
    let mut sel = select_all(&repo().join("cases"));
    sel.suites = vec!["palisade".into()];
    // One case at a time: list responses then hold the same users in every run,
    // so two clean runs have the same shapes (in parallel, a list may or may not
    // catch another case's VIEWER user, which is a value the baseline never saw).
    let opts = RunOptions {
        mock_faults: faults,
        jobs: 1,
        ..RunOptions::default()
    };
    app::run(&repo().join("cases"), &sel, &opts, &|_| None, |_| {})
        .await
        .expect("the shipped cases load")
}

/// Two runs against the embedded mock, the second with a fault that sends a
/// status value outside v2UserStatus: newly failing cases and the new enum
/// value show up as drift, and `--fail-on` decides the exit code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_between_two_mock_runs_shows_the_fault() {
    let cat = catalog();
    let base = run_palisade(vec![]).await;
    let cov = coverage::compute(&base, &cat);
    assert_eq!(cov.operations.percent, Some(100.0), "{}", cov.render_text());
    let old = Summary::build(&base, meta("2025-01-31T02:00:00Z"), Some(&cat));
    assert_eq!(old.totals.pass, old.totals.cases, "the baseline is green");

    let same = Summary::build(
        &run_palisade(vec![]).await,
        meta("2025-01-31T03:00:00Z"),
        Some(&cat),
    );
    let d = drift::diff(&old, &same);
    assert!(d.is_empty(), "two clean runs drift:\n{}", d.render_text());

    let faulty = run_palisade(vec![Fault::PalisadeUserBadEnum]).await;
    let new = Summary::build(&faulty, meta("2025-02-01T02:00:00Z"), Some(&cat));
    let d = drift::diff(&old, &new);
    let text = d.render_text();
    assert!(!d.newly_failing.is_empty(), "{text}");
    assert!(
        d.newly_failing
            .iter()
            .all(|c| c.new == Some(CaseOutcome::Fail)),
        "{text}"
    );
    let enum_drift = d
        .responses
        .iter()
        .find(|r| r.method == "GET" && r.operation == "/v2/users/{id}" && r.status == 200)
        .unwrap_or_else(|| panic!("no drift on GET /v2/users/{{id}}:\n{text}"));
    assert_eq!(
        enum_drift.new_values.get("$.status"),
        Some(&vec!["ENABLED".to_owned()]),
        "{text}"
    );
    assert!(text.contains("new value at $.status: ENABLED"), "{text}");
    assert_eq!(d.exit_code(FailOn::NewFailures), exit::DRIFT);
    assert_eq!(d.exit_code(FailOn::AnyDrift), exit::DRIFT);

    // Against itself, the faulty run's failures are known: no drift, exit 0.
    let again = drift::diff(&new, &new);
    assert!(again.is_empty() && !again.still_failing.is_empty());
    assert_eq!(again.exit_code(FailOn::NewFailures), 0);
}

/// `conform run` writes its JUnit a batch of cases at a time; the text must be
/// exactly the whole report's, whatever the order of the results.
#[test]
fn streamed_junit_is_the_whole_report_text() {
    use conform::report::junit;
    let mut results = Vec::new();
    for copy in 0..120u64 {
        for mut r in fixed_results() {
            // Names, files and times that a passed case's own line must
            // write as quick-junit does: escaped, stripped, rounded.
            let odd = match copy % 8 {
                1 => " & <b> \"q\" 'a'",
                2 => " \x1b[31mred\x1b[0m",
                3 => " café ✓",
                4 => " \u{FFFE}\u{7f}",
                5 => " \ttab",
                _ => "",
            };
            r.id.name = format!("{} #{copy:03}{odd}", r.id.name);
            r.duration = Duration::from_nanos(copy * 1_234_567 + 499_999);
            if copy % 8 == 6 {
                r.id.file = format!("{} & co", r.id.file).into();
                r.file =
                    std::path::PathBuf::from(format!("cases/{}/{}.yaml", r.id.suite, r.id.file))
                        .into();
            }
            results.push(r);
        }
    }
    // Results arrive in completion order, not id order.
    results.reverse();
    let third = results.len() / 3;
    results.rotate_left(third);
    assert!(results.len() > 600, "more than two batches per suite");
    let with_property = |mut report: quick_junit::Report| {
        for ts in &mut report.test_suites {
            ts.add_property(quick_junit::Property::new("coverage.operations", "3/4"));
        }
        report
    };
    let whole = junit::render(&with_property(junit::build(&results))).unwrap();
    let mut streamed = Vec::new();
    junit::write_streamed(
        &with_property(junit::skeleton(&results)),
        &results,
        &mut streamed,
    )
    .unwrap();
    let streamed = String::from_utf8(streamed).unwrap();
    assert!(
        whole == streamed,
        "streamed JUnit differs from the whole report"
    );
    assert_eq!(whole.matches("<testcase ").count(), results.len());
    // Fewer than a batch, and no case at all, too.
    let none: Vec<CaseResult> = Vec::new();
    for few in [&results[..3], &none[..]] {
        let mut out = Vec::new();
        junit::write_streamed(&junit::skeleton(few), few, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            junit::render(&junit::build(few)).unwrap()
        );
    }
}

/// The summary of `results` built whole, after checking that the file
/// written from it is byte for byte the file streamed from the results.
fn whole_equals_streamed(results: &[CaseResult], cat: Option<&Catalog>, dir: &Path) -> Summary {
    let whole = Summary::build(results, meta("2025-01-31T12:00:00Z"), cat);
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    whole.write(&a).unwrap();
    conform::report::summary::write_streamed(results, &meta("2025-01-31T12:00:00Z"), cat, &b)
        .unwrap();
    let (a, b) = (
        std::fs::read_to_string(a).unwrap(),
        std::fs::read_to_string(b).unwrap(),
    );
    assert!(a == b, "streamed summary.json differs:\n{a}\n---\n{b}");
    whole
}

/// `conform run` streams summary.json from its results and builds the Markdown
/// summary from the cases that did not pass: both must say what the whole
/// summary says.
#[test]
fn streamed_summary_and_markdown_are_the_whole_summarys() {
    use conform::report::markdown;
    let mut results = fixed_results();
    results.reverse();
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog();
    for cat in [None, Some(&catalog)] {
        let whole = whole_equals_streamed(&results, cat, dir.path());
        let bad = Summary::build_with(&results, meta("2025-01-31T12:00:00Z"), cat, |r| {
            r.outcome != Outcome::Passed
        });
        assert!(bad.cases.len() < whole.cases.len());
        assert_eq!((&bad.totals, &bad.suites), (&whole.totals, &whole.suites));
        assert_eq!(markdown::render(&bad, None), markdown::render(&whole, None));
    }
}

/// `summary.json` writes each distinct response shape once and copies that
/// text for every later step with the same (interned) shape: the copies must
/// be what writing the shape again would give, wherever the step is.
#[test]
fn a_shape_shared_by_many_steps_reads_as_written_each_time() {
    let mut results = Vec::new();
    for r in fixed_results() {
        for k in 0..3 {
            let mut c = r.clone();
            c.id.name = format!("{} #{k}", c.id.name);
            results.push(c);
        }
    }
    let shared = results
        .iter()
        .flat_map(|r| &r.steps)
        .filter_map(|s| s.shape.as_ref())
        .count();
    assert!(shared >= 6, "the fixture has shapes to share ({shared})");
    let dir = tempfile::tempdir().unwrap();
    let whole = whole_equals_streamed(&results, None, dir.path());
    let streamed = std::fs::read_to_string(dir.path().join("b.json")).unwrap();
    assert_eq!(Summary::from_json(&streamed).unwrap(), whole);
}
