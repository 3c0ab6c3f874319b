//! The shipped suites: green against the embedded mock, red against every
//! fault switch (the harness's mutation score), and the docs' examples valid.

use std::path::Path;

use conform::app::{self, RunOptions};
use conform::cli::{CasesArg, SelectArgs};
use conform::mock::Fault;
use conform::result::{Outcome, Totals};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn select(suite: Option<&str>) -> SelectArgs {
    SelectArgs {
        cases: CasesArg {
            cases: repo().join("cases"),
        },
        suites: suite.map(|s| vec![s.to_owned()]).unwrap_or_default(),
        filter: None,
        tags: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_suites_pass_against_the_embedded_mock() {
    let results = app::run(
        &repo().join("cases"),
        &select(None),
        &RunOptions::default(),
        &|_| None,
        |_| {},
    )
    .await
    .expect("the shipped cases load");
    let bad: Vec<String> = results
        .iter()
        .filter(|r| r.outcome != Outcome::Passed)
        .map(conform::report::human::failure_detail)
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let per_suite = |s: &str| results.iter().filter(|r| &*r.id.suite == s).count();
    assert!(
        per_suite("palisade") >= 30,
        "palisade has {} cases",
        per_suite("palisade")
    );
    assert!(
        per_suite("ledger-enterprise") >= 12,
        "ledger has {} cases",
        per_suite("ledger-enterprise")
    );
}

/// Every fault switch must make at least one shipped case fail: the harness's
/// own mutation score, which must stay at 100%.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mock_fault_is_caught_by_the_shipped_suites() {
    // Availability faults (rate limits, 503s) serve the retry tests; they break no contract.
    let faults: Vec<Fault> = Fault::all()
        .iter()
        .copied()
        .filter(|f| f.is_contract_violation())
        .collect();
    assert!(
        faults.len() >= 15,
        "at least 15 faults, have {}",
        faults.len()
    );
    let mut missed = Vec::new();
    let mut table = Vec::new();
    for fault in &faults {
        let opts = RunOptions {
            mock_faults: vec![*fault],
            ..RunOptions::default()
        };
        let results = app::run(
            &repo().join("cases"),
            &select(Some(fault.api().name())),
            &opts,
            &|_| None,
            |_| {},
        )
        .await
        .expect("the shipped cases load");
        let failed: Vec<String> = results
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .map(|r| r.id.to_string())
            .collect();
        let errored = results
            .iter()
            .filter(|r| r.outcome == Outcome::Errored)
            .count();
        assert_eq!(
            errored,
            0,
            "fault {} caused transport errors, not contract failures",
            fault.name()
        );
        if failed.is_empty() {
            missed.push(fault.name());
        } else {
            assert_eq!(
                Totals::of(&results).exit_code(),
                conform::error::exit::CONTRACT
            );
        }
        table.push(format!(
            "{:<34} {:>3} failing, e.g. {}",
            fault.name(),
            failed.len(),
            failed.first().map_or("-", |s| s.as_str())
        ));
    }
    println!("{}", table.join("\n"));
    assert!(missed.is_empty(), "faults no case caught: {missed:?}");
}

/// Every example body in the published docs validates against its schema.
#[test]
fn every_doc_example_validates_against_its_schema() {
    let root = repo().join("tests/fixtures/doc-examples");
    let mut checked = 0;
    for suite in ["palisade", "ledger-enterprise"] {
        let mut diags = conform::case::Diagnostics::default();
        let reg = conform::schema::SchemaRegistry::load(
            suite,
            &repo().join("schemas").join(suite),
            &mut diags,
        );
        assert!(diags.is_empty(), "{diags}");
        let mut files: Vec<_> = std::fs::read_dir(root.join(suite))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let stem = f.file_stem().unwrap().to_str().unwrap();
            let schema = stem.split("--").next().unwrap();
            let body: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let v = reg.validate(schema, &body);
            assert!(v.is_empty(), "{}: {v:?}", f.display());
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} examples checked");
}

/// The schemas are not vacuous: documented deviations fail them.
#[test]
fn schemas_reject_documented_deviations() {
    let mut diags = conform::case::Diagnostics::default();
    let reg = conform::schema::SchemaRegistry::load(
        "palisade",
        &repo().join("schemas/palisade"),
        &mut diags,
    );
    let good: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            repo().join("tests/fixtures/doc-examples/palisade/v2User--get.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let with = |k: &str, v: serde_json::Value| {
        let mut u = good.clone();
        u[k] = v;
        u
    };
    let without = |k: &str| {
        let mut u = good.clone();
        u.as_object_mut().unwrap().remove(k);
        u
    };
    for (what, body, path) in [
        ("bad enum", with("status", "ENABLED".into()), "/status"),
        (
            "bad date-time",
            with("createdAt", "29/03/2022".into()),
            "/createdAt",
        ),
        (
            "wrong type",
            with("authLoginCount", "10".into()),
            "/authLoginCount",
        ),
        (
            "bad role",
            with("roles", serde_json::json!(["ROOT"])),
            "/roles/0",
        ),
        ("missing email", without("email"), ""),
    ] {
        let v = reg.validate("v2User", &body);
        assert!(v.iter().any(|x| x.instance_path == path), "{what}: {v:?}");
    }
    // Values one published version allows are not failures.
    assert!(
        reg.validate("v2User", &with("status", "UNBLOCK_APPROVAL_PENDING".into()))
            .is_empty()
    );
    assert!(
        reg.validate("v2User", &without("organizationId"))
            .is_empty()
    );

    let mut diags = conform::case::Diagnostics::default();
    let ledger = conform::schema::SchemaRegistry::load(
        "ledger-enterprise",
        &repo().join("schemas/ledger-enterprise"),
        &mut diags,
    );
    assert!(
        ledger
            .validate(
                "CreateApiUserRequest",
                &serde_json::json!({"name": "a".repeat(20)})
            )
            .is_empty()
    );
    assert!(
        !ledger
            .validate(
                "CreateApiUserRequest",
                &serde_json::json!({"name": "a".repeat(21)})
            )
            .is_empty()
    );
    assert!(
        !ledger
            .validate(
                "CreateApiUserRequest",
                &serde_json::json!({"name": "bad-name"})
            )
            .is_empty()
    );
}

/// `--generate-negative`: the derived invalid bodies pass against the reference
/// mock (no false alarm) and catch the mock's input-validation faults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_negative_cases_pass_on_the_mock_and_catch_validation_faults() {
    let load = || {
        let mut suites = app::load_and_plan(&repo().join("cases")).expect("the shipped cases load");
        let n = conform::negative::expand(&mut suites);
        assert!(n >= 20, "only {n} negative cases");
        suites
    };
    let run = |faults: Vec<Fault>| {
        let suites = load();
        async move {
            let opts = RunOptions {
                mock_faults: faults,
                jobs: 2,
                ..RunOptions::default()
            };
            let mut prepared = app::prepare(suites, &opts, &|_| None).await.unwrap();
            app::execute(
                &mut prepared,
                app::context(&opts).unwrap(),
                opts.jobs,
                |_| {},
            )
            .await
        }
    };
    let clean = run(vec![]).await;
    let bad: Vec<String> = clean
        .iter()
        .filter(|r| r.outcome != Outcome::Passed)
        .map(conform::report::human::failure_detail)
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    for name in [
        "palisade-missing-field-accepted",
        "palisade-invalid-role-accepted",
        "ledger-pattern-not-enforced",
    ] {
        let results = run(vec![Fault::from_name(name).unwrap()]).await;
        let caught: Vec<&str> = results
            .iter()
            .filter(|r| r.outcome == Outcome::Failed && r.tags.iter().any(|t| t == "generated"))
            .map(|r| r.id.name.as_str())
            .collect();
        assert!(
            !caught.is_empty(),
            "no generated negative case caught {name}"
        );
        assert!(
            caught.iter().all(|n| n.contains("[negative: ")),
            "{caught:?}"
        );
    }
}

/// A step whose `expect:` repeats the one before takes its compiled checks,
/// but never its silence: a problem in the repeated block is reported at each
/// place, and a block that uses a variable is judged with each case's own
/// variables.
#[test]
fn repeated_expectations_are_each_checked_for_problems() {
    use conform::error::ExpectedError;
    let step = |expect: &str| {
        format!(
            "    steps:\n      - request: {{ method: GET, path: /x }}\n        expect: {expect}\n"
        )
    };
    let bad_regex = "{ status: 200, jsonpath: [ { path: $.s, matches: '(' } ] }";
    let with_var = "{ status: 200, jsonpath: [ { path: $.s, equals: '{{x}}' } ] }";
    let plain = "{ status: 200, jsonpath: [ { path: $.s, equals: A } ], schema: User }";
    let cases = [
        format!("cases:\n  - name: r1\n{}", step(bad_regex)),
        format!("  - name: r2\n{}", step(bad_regex)),
        format!(
            "  - name: v1\n    variables: {{ x: one }}\n{}",
            step(with_var)
        ),
        format!("  - name: v2\n{}", step(with_var)),
        format!("  - name: p1\n{}", step(plain)),
        format!("  - name: p2\n{}", step(plain)),
    ]
    .concat();
    let suite = crate::common::TempSuite::new("http://127.0.0.1:9", &cases);
    let diags = match conform::app::load_and_plan(&suite.cases_dir()) {
        Err(ExpectedError::Load(d)) => d,
        other => panic!("expected load problems, got {:?}", other.map(|s| s.len())),
    };
    let text = diags.to_string();
    let lines = |needle: &str| -> Vec<usize> {
        diags
            .0
            .iter()
            .filter(|d| d.message.contains(needle))
            .map(|d| d.pos.line)
            .collect()
    };
    assert_eq!(lines("invalid regex"), vec![5, 9], "{text}");
    assert_eq!(lines("undefined variable `x`"), vec![18], "{text}");
    assert_eq!(diags.0.len(), 3, "{text}");

    // Without problems, the repeated block plans to the same checks.
    let ok = [
        format!("cases:\n  - name: p1\n{}", step(plain)),
        format!(
            "  - name: p2\n{}",
            step(&plain.replace(", schema: User", ",\n                  schema: User"))
        ),
    ]
    .concat();
    let suite = crate::common::TempSuite::new("http://127.0.0.1:9", &ok);
    let planned = conform::app::load_and_plan(&suite.cases_dir()).unwrap();
    let cases = &planned[0].cases;
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].steps[0].checks, cases[1].steps[0].checks);
}
