//! wiremock plays a server breaking ONE contract rule at a time; the harness
//! must fail with the right kind (contract failure or transport error), naming
//! the case, the step and the difference.
//!
//! Every test starts its own `MockServer` on 127.0.0.1, writes a throw-away
//! suite `t` with the case file `c.yaml`, and runs the library pipeline.

use std::time::{Duration, Instant};

use conform::check::CheckResult;
use conform::check::result::CheckFailure;
use conform::error::exit;
use conform::report::human::failure_detail;
use conform::result::{CaseResult, Outcome, StepOutcome, StepResult, Totals};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use crate::common::{GOOD_USER, TempSuite, run_suite};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Runs the case file against `server` and returns every case result.
async fn run(server: &MockServer, yaml: &str) -> Vec<CaseResult> {
    let suite = TempSuite::new(&server.uri(), yaml);
    run_suite(&suite).await.expect("the suite loads and runs")
}

/// Mounts `GET <p>` answering `t`.
async fn get(server: &MockServer, p: &str, t: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(t)
        .mount(server)
        .await;
}

/// A JSON response with `Content-Type: application/json`.
fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

/// One contract failure, located: the case, its failing step, the one failed check
/// and the human report of the case.
struct Failure<'a> {
    step: &'a StepResult,
    check: &'a CheckResult,
    fail: &'a CheckFailure,
    detail: String,
}

/// Asserts that the run is a contract failure (exit 4) of case `t::c::<case>` at
/// `step_title`, with exactly one failed check, and that the human report names
/// the case and the step.
fn contract_failure<'a>(results: &'a [CaseResult], case: &str, step_title: &str) -> Failure<'a> {
    let r = results
        .iter()
        .find(|r| r.id.name == case)
        .unwrap_or_else(|| panic!("no result for case `{case}`: {results:#?}"));
    assert_eq!(r.outcome, Outcome::Failed, "{}", failure_detail(r));
    assert_eq!(r.id.to_string(), format!("t::c::{case}"));
    assert_eq!(Totals::of(results).exit_code(), exit::CONTRACT);
    let step = r
        .steps
        .iter()
        .find(|s| s.outcome != StepOutcome::Passed)
        .expect("a step that did not pass");
    assert_eq!(step.title(), step_title, "{}", failure_detail(r));
    assert_eq!(step.outcome, StepOutcome::Failed);
    let failed: Vec<&CheckResult> = step.checks().iter().filter(|c| !c.passed()).collect();
    assert_eq!(failed.len(), 1, "exactly one failed check: {failed:#?}");
    let check = failed[0];
    let detail = failure_detail(r);
    assert!(detail.contains(&format!("FAIL t::c::{case}")), "{detail}");
    assert!(detail.contains(step_title), "{detail}");
    assert!(
        detail.contains(&format!("check failed: {}", check.label)),
        "{detail}"
    );
    Failure {
        step,
        check,
        fail: check.failure.as_ref().expect("a failure"),
        detail,
    }
}

/// Asserts that `f` failed with this label, expected and actual, and that the
/// report shows expected and actual.
fn assert_check(f: &Failure<'_>, label: &str, expected: &str, actual: &str) {
    assert_eq!(f.check.label, label);
    assert_eq!(f.fail.expected, expected);
    assert_eq!(f.fail.actual, actual);
    assert!(
        f.detail.contains(&format!("expected: {expected}")),
        "{}",
        f.detail
    );
    assert!(
        f.detail.contains(&format!("actual:   {actual}")),
        "{}",
        f.detail
    );
}

/// A one-step case named `case` that GETs `/thing` and expects `expect` (YAML flow or block
/// lines, indented for the `expect:` key).
fn one_step(case: &str, expect: &str) -> String {
    format!(
        "cases:\n  - name: {case}\n    steps:\n      - name: get\n        request: {{ method: GET, path: /thing }}\n        expect:\n{expect}"
    )
}

/// Matches requests that do NOT carry header `name`.
struct WithoutHeader(&'static str);

impl Match for WithoutHeader {
    fn matches(&self, request: &Request) -> bool {
        !request.headers.contains_key(self.0)
    }
}

// ---------------------------------------------------------------------------
// 1. status
// ---------------------------------------------------------------------------

#[tokio::test]
async fn wrong_status_is_a_contract_failure_naming_case_and_step() {
    let server = MockServer::start().await;
    get(&server, "/users", json(200, r#"[{"id":"1"}]"#)).await;
    get(&server, "/users/1", json(500, r#"{"error":"boom"}"#)).await;
    let yaml = r#"
cases:
  - name: read a user
    steps:
      - name: list
        request: { method: GET, path: /users }
        expect: { status: 200 }
      - name: get
        request: { method: GET, path: /users/1 }
        expect: { status: 200 }
"#;
    let results = run(&server, yaml).await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].steps[0].outcome, StepOutcome::Passed);
    let f = contract_failure(&results, "read a user", r#"step 2 "get""#);
    assert_check(&f, "status", "200", "500");
    assert_eq!(f.step.status, Some(500));
    assert!(f.detail.contains("/users/1 -> 500: FAILED"), "{}", f.detail);
    // The body that came back is shown.
    assert!(f.detail.contains(r#"{"error":"boom"}"#), "{}", f.detail);
}

// ---------------------------------------------------------------------------
// 2. status lists and classes; redirects are not followed
// ---------------------------------------------------------------------------

#[tokio::test]
async fn status_outside_a_list_names_every_accepted_code() {
    let server = MockServer::start().await;
    get(&server, "/thing", json(404, r#"{"error":"not found"}"#)).await;
    let results = run(
        &server,
        &one_step("listed", "          status: [200, 201]\n"),
    )
    .await;
    let f = contract_failure(&results, "listed", r#"step 1 "get""#);
    assert_check(&f, "status", "one of 200, 201", "404");
}

#[tokio::test]
async fn redirect_is_not_followed_and_fails_a_2xx_class() {
    let server = MockServer::start().await;
    get(
        &server,
        "/thing",
        ResponseTemplate::new(302).insert_header("Location", format!("{}/elsewhere", server.uri())),
    )
    .await;
    // Following the redirect would land here and pass; it must never be asked.
    Mock::given(method("GET"))
        .and(path("/elsewhere"))
        .respond_with(json(200, "{}"))
        .expect(0)
        .mount(&server)
        .await;
    let results = run(&server, &one_step("redirected", "          status: 2xx\n")).await;
    let f = contract_failure(&results, "redirected", r#"step 1 "get""#);
    assert_check(&f, "status", "2xx", "302");
    assert_eq!(f.step.status, Some(302));
    assert!(f.detail.contains("/thing -> 302: FAILED"), "{}", f.detail);
    let received = server.received_requests().await.unwrap();
    assert!(received.iter().all(|r| r.url.path() != "/elsewhere"));
}

// ---------------------------------------------------------------------------
// 3–4. headers
// ---------------------------------------------------------------------------

#[tokio::test]
async fn missing_header_is_reported_absent() {
    let server = MockServer::start().await;
    get(&server, "/thing", json(200, "{}")).await;
    let expect = "          status: 200\n          headers: { X-Request-Id: { present: true } }\n";
    let results = run(&server, &one_step("request id", expect)).await;
    let f = contract_failure(&results, "request id", r#"step 1 "get""#);
    assert_check(&f, "header `X-Request-Id` present", "present", "(absent)");
}

#[tokio::test]
async fn wrong_content_type_names_both_media_types() {
    let server = MockServer::start().await;
    get(
        &server,
        "/thing",
        ResponseTemplate::new(200).set_body_raw(b"hello".to_vec(), "text/plain"),
    )
    .await;
    let expect = "          status: 200\n          headers: { Content-Type: application/json }\n";
    let results = run(&server, &one_step("json please", expect)).await;
    let f = contract_failure(&results, "json please", r#"step 1 "get""#);
    assert_check(
        &f,
        "header `Content-Type` equals",
        "application/json",
        "text/plain",
    );
}

#[tokio::test]
async fn content_type_with_a_charset_parameter_passes() {
    let server = MockServer::start().await;
    get(
        &server,
        "/thing",
        ResponseTemplate::new(200).set_body_raw(b"{}".to_vec(), "application/json; charset=utf-8"),
    )
    .await;
    let expect = "          status: 200\n          headers: { Content-Type: application/json }\n";
    let results = run(&server, &one_step("charset", expect)).await;
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0].outcome,
        Outcome::Passed,
        "{}",
        failure_detail(&results[0])
    );
    assert!(results[0].steps[0].checks().iter().all(CheckResult::passed));
    assert_eq!(Totals::of(&results).exit_code(), exit::SUCCESS);
}

// ---------------------------------------------------------------------------
// 5. whole-body expectations
// ---------------------------------------------------------------------------

#[tokio::test]
async fn exact_body_difference_is_a_unified_diff() {
    let server = MockServer::start().await;
    get(&server, "/thing", json(200, r#"{"id":"u1","name":"Jim"}"#)).await;
    let expect = "          status: 200\n          body: { id: u1, name: Joe }\n";
    let results = run(&server, &one_step("exact body", expect)).await;
    let f = contract_failure(&results, "exact body", r#"step 1 "get""#);
    assert_check(
        &f,
        "body equals",
        r#"{"id":"u1","name":"Joe"}"#,
        r#"{"id":"u1","name":"Jim"}"#,
    );
    let diff = f.fail.detail.as_deref().expect("a diff");
    assert!(diff.contains("--- expected"), "{diff}");
    assert!(diff.contains("+++ actual"), "{diff}");
    assert!(diff.contains(r#"-  "name": "Joe""#), "{diff}");
    assert!(diff.contains(r#"+  "name": "Jim""#), "{diff}");
    // The unchanged field is context, not a change.
    assert!(!diff.contains(r#"-  "id""#), "{diff}");
    assert!(f.detail.contains(r#"-  "name": "Joe""#), "{}", f.detail);
    assert!(f.detail.contains(r#"+  "name": "Jim""#), "{}", f.detail);
}

#[tokio::test]
async fn body_subset_difference_names_the_json_pointer() {
    let server = MockServer::start().await;
    get(
        &server,
        "/thing",
        json(200, r#"{"id":"u1","name":"Joe","address":{"city":"Lyon"}}"#),
    )
    .await;
    let expect =
        "          status: 200\n          body_subset: { name: Joe, address: { city: Paris } }\n";
    let results = run(&server, &one_step("subset", expect)).await;
    let f = contract_failure(&results, "subset", r#"step 1 "get""#);
    assert_check(
        &f,
        "body contains",
        r#"{"name":"Joe","address":{"city":"Paris"}}"#,
        r#"{"id":"u1","name":"Joe","address":{"city":"Lyon"}}"#,
    );
    let detail = f.fail.detail.as_deref().expect("a detail");
    assert!(
        detail.contains(r#"/address/city: expected "Paris", got "Lyon""#),
        "{detail}"
    );
    // The extra field `id` is allowed and not mentioned as a problem.
    assert!(!detail.contains("/id"), "{detail}");
    assert!(
        f.detail
            .contains(r#"/address/city: expected "Paris", got "Lyon""#),
        "{}",
        f.detail
    );
}

// ---------------------------------------------------------------------------
// 6. jsonpath operators
// ---------------------------------------------------------------------------

/// One jsonpath assertion against `body`; returns the results.
async fn jsonpath_case(case: &str, body: &str, assertion: &str) -> Vec<CaseResult> {
    let server = MockServer::start().await;
    get(&server, "/thing", json(200, body)).await;
    let expect = format!("          status: 200\n          jsonpath:\n            - {assertion}\n");
    run(&server, &one_step(case, &expect)).await
}

#[tokio::test]
async fn jsonpath_equals_shows_expected_and_actual_values() {
    let results = jsonpath_case(
        "equals",
        r#"{"name":"Jim"}"#,
        "{ path: $.name, equals: Joe }",
    )
    .await;
    let f = contract_failure(&results, "equals", r#"step 1 "get""#);
    assert_check(&f, "jsonpath `$.name` equals", r#""Joe""#, r#""Jim""#);
}

#[tokio::test]
async fn jsonpath_exists_on_an_absent_field_says_no_match() {
    let results = jsonpath_case(
        "exists",
        r#"{"name":"Jim"}"#,
        "{ path: $.email, exists: true }",
    )
    .await;
    let f = contract_failure(&results, "exists", r#"step 1 "get""#);
    assert_check(
        &f,
        "jsonpath `$.email` exists",
        "at least one match",
        "no match",
    );
}

#[tokio::test]
async fn jsonpath_equals_on_an_absent_field_says_the_path_selects_nothing() {
    let results = jsonpath_case(
        "equals absent",
        r#"{"name":"Jim"}"#,
        "{ path: $.email, equals: a@b.c }",
    )
    .await;
    let f = contract_failure(&results, "equals absent", r#"step 1 "get""#);
    assert_check(
        &f,
        "jsonpath `$.email` equals",
        r#""a@b.c""#,
        "no match (the path selects nothing)",
    );
}

#[tokio::test]
async fn jsonpath_matches_shows_the_regex_and_the_value() {
    let results = jsonpath_case(
        "matches",
        r#"{"id":"abc"}"#,
        r"{ path: $.id, matches: '^u-\d+$' }",
    )
    .await;
    let f = contract_failure(&results, "matches", r#"step 1 "get""#);
    assert_check(
        &f,
        "jsonpath `$.id` matches",
        r"a string matching /^u-\d+$/",
        r#""abc""#,
    );
}

#[tokio::test]
async fn jsonpath_type_shows_the_wanted_type_and_the_value() {
    let results = jsonpath_case("type", r#"{"age":"42"}"#, "{ path: $.age, type: integer }").await;
    let f = contract_failure(&results, "type", r#"step 1 "get""#);
    assert_check(
        &f,
        "jsonpath `$.age` type",
        "a value of type integer",
        r#""42""#,
    );
}

#[tokio::test]
async fn jsonpath_length_shows_both_lengths() {
    let results = jsonpath_case(
        "length",
        r#"{"roles":["VIEWER"]}"#,
        "{ path: $.roles, length: 2 }",
    )
    .await;
    let f = contract_failure(&results, "length", r#"step 1 "get""#);
    assert_check(
        &f,
        "jsonpath `$.roles` length",
        "length 2 (got length 1)",
        r#"["VIEWER"]"#,
    );
}

#[tokio::test]
async fn jsonpath_contains_shows_the_missing_element() {
    let results = jsonpath_case(
        "contains",
        r#"{"users":[{"id":"a"},{"id":"b"}]}"#,
        r#"{ path: "$.users[*].id", contains: c }"#,
    )
    .await;
    let f = contract_failure(&results, "contains", r#"step 1 "get""#);
    assert_check(
        &f,
        "jsonpath `$.users[*].id` contains",
        r#"a value containing "c""#,
        r#"["a","b"]"#,
    );
}

// ---------------------------------------------------------------------------
// 7. schema
// ---------------------------------------------------------------------------

/// A `schema: User` case against `body`.
async fn schema_case(case: &str, body: &str) -> Vec<CaseResult> {
    let server = MockServer::start().await;
    get(&server, "/thing", json(200, body)).await;
    run(
        &server,
        &one_step(case, "          status: 200\n          schema: User\n"),
    )
    .await
}

#[tokio::test]
async fn schema_accepts_a_good_user() {
    let results = schema_case("good user", GOOD_USER).await;
    assert_eq!(
        results[0].outcome,
        Outcome::Passed,
        "{}",
        failure_detail(&results[0])
    );
    assert_eq!(Totals::of(&results).exit_code(), exit::SUCCESS);
}

#[tokio::test]
async fn schema_missing_required_field_is_a_violation_at_the_root() {
    let results = schema_case(
        "missing name",
        r#"{"id":"u1","status":"ACTIVE","createdAt":"2022-03-29T10:22:22.420Z"}"#,
    )
    .await;
    let f = contract_failure(&results, "missing name", r#"step 1 "get""#);
    assert_check(
        &f,
        "schema `User`",
        "a body valid against `User`",
        "1 violation",
    );
    let d = f.fail.detail.as_deref().expect("violations");
    assert!(d.contains("at (root):"), "{d}");
    assert!(d.contains("\"name\""), "{d}");
    assert!(d.contains("/required"), "{d}");
    assert!(f.detail.contains("at (root):"), "{}", f.detail);
}

#[tokio::test]
async fn schema_wrong_type_is_a_violation_at_its_path() {
    let results = schema_case(
        "wrong type",
        r#"{"id":7,"name":"Joe","status":"ACTIVE","createdAt":"2022-03-29T10:22:22.420Z"}"#,
    )
    .await;
    let f = contract_failure(&results, "wrong type", r#"step 1 "get""#);
    assert_check(
        &f,
        "schema `User`",
        "a body valid against `User`",
        "1 violation",
    );
    let d = f.fail.detail.as_deref().expect("violations");
    assert!(d.contains("at /id:"), "{d}");
    assert!(d.contains("string"), "{d}");
    assert!(f.detail.contains("at /id:"), "{}", f.detail);
}

#[tokio::test]
async fn schema_bad_enum_value_is_a_violation_at_its_path() {
    let results = schema_case(
        "bad enum",
        r#"{"id":"u1","name":"Joe","status":"ENABLED","createdAt":"2022-03-29T10:22:22.420Z"}"#,
    )
    .await;
    let f = contract_failure(&results, "bad enum", r#"step 1 "get""#);
    assert_check(
        &f,
        "schema `User`",
        "a body valid against `User`",
        "1 violation",
    );
    let d = f.fail.detail.as_deref().expect("violations");
    assert!(d.contains("at /status:"), "{d}");
    assert!(d.contains(r#""ACTIVE" or "BLOCKED""#), "{d}");
    // The offending value is in the response body shown under the failure.
    assert!(f.detail.contains(r#""status":"ENABLED""#), "{}", f.detail);
    assert!(f.detail.contains("at /status:"), "{}", f.detail);
}

#[tokio::test]
async fn schema_bad_date_time_is_a_violation_at_its_path() {
    let results = schema_case(
        "bad date",
        r#"{"id":"u1","name":"Joe","status":"ACTIVE","createdAt":"29/03/2022"}"#,
    )
    .await;
    let f = contract_failure(&results, "bad date", r#"step 1 "get""#);
    assert_check(
        &f,
        "schema `User`",
        "a body valid against `User`",
        "1 violation",
    );
    let d = f.fail.detail.as_deref().expect("violations");
    assert!(d.contains("at /createdAt:"), "{d}");
    assert!(d.contains("date-time"), "{d}");
    assert!(
        f.detail.contains(r#""createdAt":"29/03/2022""#),
        "{}",
        f.detail
    );
    assert!(f.detail.contains("at /createdAt:"), "{}", f.detail);
}

#[tokio::test]
async fn schema_lists_every_violation_with_its_instance_path() {
    let results = schema_case(
        "all wrong",
        r#"{"id":7,"status":"ENABLED","createdAt":"29/03/2022"}"#,
    )
    .await;
    let f = contract_failure(&results, "all wrong", r#"step 1 "get""#);
    assert_check(
        &f,
        "schema `User`",
        "a body valid against `User`",
        "4 violations",
    );
    let d = f.fail.detail.as_deref().expect("violations");
    for at in ["at (root):", "at /id:", "at /status:", "at /createdAt:"] {
        assert!(d.contains(at), "{at} missing from:\n{d}");
        assert!(f.detail.contains(at), "{at} missing from:\n{}", f.detail);
    }
}

// ---------------------------------------------------------------------------
// 8. a body that is not JSON
// ---------------------------------------------------------------------------

#[tokio::test]
async fn invalid_json_body_is_shown_as_not_json() {
    let server = MockServer::start().await;
    get(&server, "/thing", json(200, r#"{"id": "#)).await;
    let expect =
        "          status: 200\n          jsonpath:\n            - { path: $.id, exists: true }\n";
    let results = run(&server, &one_step("truncated", expect)).await;
    let f = contract_failure(&results, "truncated", r#"step 1 "get""#);
    assert_eq!(f.check.label, "jsonpath `$.id` exists");
    assert_eq!(f.fail.expected, "at least one match");
    assert!(
        f.fail.actual.starts_with("a body that is not JSON ("),
        "{}",
        f.fail.actual
    );
    assert!(f.fail.actual.ends_with(r#"{"id": "#), "{}", f.fail.actual);
    assert!(f.detail.contains("a body that is not JSON"), "{}", f.detail);
    assert_eq!(f.step.body_preview(), Some(r#"{"id": "#));
}

// ---------------------------------------------------------------------------
// 9–10. transport errors
// ---------------------------------------------------------------------------

#[tokio::test]
async fn timeout_is_an_error_not_a_failure_and_does_not_wait_for_the_server() {
    let server = MockServer::start().await;
    get(
        &server,
        "/slow",
        json(200, "{}").set_delay(Duration::from_secs(3)),
    )
    .await;
    let yaml = r#"
cases:
  - name: slow server
    steps:
      - name: slow
        request: { method: GET, path: /slow, timeout: 500ms }
        expect: { status: 200 }
"#;
    let suite = TempSuite::new(&server.uri(), yaml);
    let started = Instant::now();
    let results = run_suite(&suite).await.expect("the suite runs");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2500), "the run took {took:?}");
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Errored);
    assert_eq!(Totals::of(&results).exit_code(), exit::RUNTIME);
    let s = &r.steps[0];
    assert_eq!(s.title(), r#"step 1 "slow""#);
    let StepOutcome::Errored(msg) = &s.outcome else {
        panic!("expected an error, got {:?}", s.outcome);
    };
    assert!(msg.contains("timed out"), "{msg}");
    assert!(msg.contains("500ms"), "{msg}");
    assert_eq!(s.status, None);
    let detail = failure_detail(r);
    assert!(detail.contains("ERROR t::c::slow server"), "{detail}");
    assert!(detail.contains(r#"step 1 "slow""#), "{detail}");
    assert!(detail.contains("timed out"), "{detail}");
}

#[tokio::test]
async fn refused_connection_is_an_error_naming_the_connection() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().unwrap().port()
    };
    let yaml = r#"
cases:
  - name: nobody home
    steps:
      - name: knock
        request: { method: GET, path: /thing }
        expect: { status: 200 }
"#;
    let suite = TempSuite::new(&format!("http://127.0.0.1:{port}"), yaml);
    let results = run_suite(&suite).await.expect("the suite runs");
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Errored);
    assert_eq!(Totals::of(&results).exit_code(), exit::RUNTIME);
    let s = &r.steps[0];
    assert_eq!(s.title(), r#"step 1 "knock""#);
    let StepOutcome::Errored(msg) = &s.outcome else {
        panic!("expected an error, got {:?}", s.outcome);
    };
    assert!(msg.to_lowercase().contains("connection"), "{msg}");
    let detail = failure_detail(r);
    assert!(detail.contains("ERROR t::c::nobody home"), "{detail}");
    assert!(detail.contains(r#"step 1 "knock""#), "{detail}");
    assert!(
        detail.contains(&format!("127.0.0.1:{port}/thing")),
        "{detail}"
    );
    assert!(detail.to_lowercase().contains("connection"), "{detail}");
}

#[tokio::test]
async fn an_error_outranks_a_contract_failure_in_the_exit_code() {
    let server = MockServer::start().await;
    get(&server, "/thing", json(500, "{}")).await;
    get(
        &server,
        "/slow",
        json(200, "{}").set_delay(Duration::from_secs(3)),
    )
    .await;
    let yaml = r#"
cases:
  - name: fails
    steps:
      - request: { method: GET, path: /thing }
        expect: { status: 200 }
  - name: errors
    steps:
      - request: { method: GET, path: /slow, timeout: 300ms }
        expect: { status: 200 }
"#;
    let results = run(&server, yaml).await;
    assert_eq!(results.len(), 2);
    let by = |n: &str| results.iter().find(|r| r.id.name == n).unwrap();
    assert_eq!(by("fails").outcome, Outcome::Failed);
    assert_eq!(by("errors").outcome, Outcome::Errored);
    assert_eq!(Totals::of(&results).exit_code(), exit::RUNTIME);
}

// ---------------------------------------------------------------------------
// 11. cleanup
// ---------------------------------------------------------------------------

#[tokio::test]
async fn cleanup_runs_after_a_failed_step_and_later_steps_are_skipped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users"))
        .respond_with(json(500, r#"{"error":"boom"}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/users/u1"))
        .respond_with(json(200, GOOD_USER))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/users/u1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let yaml = r#"
cases:
  - name: create then read
    steps:
      - name: create
        request: { method: POST, path: /users, json: { name: Joe } }
        expect: { status: 201 }
      - name: read
        request: { method: GET, path: /users/u1 }
        expect: { status: 200 }
    cleanup:
      - name: delete
        request: { method: DELETE, path: /users/u1 }
        expect: { status: [204, 404] }
"#;
    let results = run(&server, yaml).await;
    let f = contract_failure(&results, "create then read", r#"step 1 "create""#);
    assert_check(&f, "status", "201", "500");
    let r = &results[0];
    assert_eq!(r.steps.len(), 3);
    assert_eq!(r.steps[1].title(), r#"step 2 "read""#);
    assert!(
        matches!(&r.steps[1].outcome, StepOutcome::Skipped(why) if why.contains("earlier step")),
        "{:?}",
        r.steps[1].outcome
    );
    assert_eq!(r.steps[1].request_line, None);
    assert_eq!(r.steps[2].title(), r#"cleanup 1 "delete""#);
    assert_eq!(r.steps[2].outcome, StepOutcome::Passed);
    assert_eq!(r.steps[2].status, Some(204));
    assert!(f.detail.contains(r#"step 2 "read""#), "{}", f.detail);
    assert!(f.detail.contains("skipped"), "{}", f.detail);
    assert!(f.detail.contains(r#"cleanup 1 "delete""#), "{}", f.detail);
    let received = server.received_requests().await.unwrap();
    let deletes = received
        .iter()
        .filter(|q| q.method.as_str() == "DELETE" && q.url.path() == "/users/u1")
        .count();
    assert_eq!(deletes, 1);
    server.verify().await;
}

// ---------------------------------------------------------------------------
// 12. captures
// ---------------------------------------------------------------------------

#[tokio::test]
async fn captured_value_is_used_in_a_later_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users"))
        .respond_with(json(201, r#"{"id":"abc"}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/users/abc"))
        .respond_with(json(200, r#"{"id":"abc","name":"Joe"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let yaml = r#"
cases:
  - name: create and read back
    steps:
      - name: create
        request: { method: POST, path: /users, json: { name: Joe } }
        expect: { status: 201 }
        capture: { id: $.id }
      - name: get
        request: { method: GET, path: "/users/{{id}}" }
        expect:
          status: 200
          jsonpath:
            - { path: $.id, equals: "{{id}}" }
"#;
    let results = run(&server, yaml).await;
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Passed, "{}", failure_detail(r));
    assert_eq!(Totals::of(&results).exit_code(), exit::SUCCESS);
    let line = r.steps[1].request_line.as_deref().unwrap();
    assert!(line.starts_with("GET "), "{line}");
    assert!(line.ends_with("/users/abc"), "{line}");
    server.verify().await;
}

#[tokio::test]
async fn capture_that_finds_nothing_fails_its_step_and_skips_the_rest() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users"))
        .respond_with(json(201, r#"{"name":"Joe"}"#))
        .mount(&server)
        .await;
    let yaml = r#"
cases:
  - name: no id
    steps:
      - name: create
        request: { method: POST, path: /users, json: { name: Joe } }
        expect: { status: 201 }
        capture: { id: $.id }
      - name: get
        request: { method: GET, path: "/users/{{id}}" }
        expect: { status: 200 }
"#;
    let results = run(&server, yaml).await;
    let f = contract_failure(&results, "no id", r#"step 1 "create""#);
    assert_check(&f, "capture `id`", "a value at $.id", "no match");
    assert!(matches!(
        results[0].steps[1].outcome,
        StepOutcome::Skipped(_)
    ));
    // Only the POST was sent.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------
// 13. auth
// ---------------------------------------------------------------------------

#[tokio::test]
async fn auth_header_is_sent_by_default_omitted_with_none_and_never_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/keyed"))
        .and(header("X-Key", "test-secret"))
        .respond_with(json(200, r#"{"ok":true}"#))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/open"))
        .and(WithoutHeader("x-key"))
        .respond_with(json(200, r#"{"ok":true}"#))
        .mount(&server)
        .await;
    let yaml = r#"
cases:
  - name: auth modes
    steps:
      - name: with the key
        request: { method: GET, path: /keyed }
        expect: { status: 200 }
      - name: without a key
        request: { method: GET, path: /open, auth: none }
        expect: { status: 200 }
      - name: keyed but wrong expectation
        request: { method: GET, path: /keyed }
        expect: { status: 201 }
"#;
    let results = run(&server, yaml).await;
    let f = contract_failure(
        &results,
        "auth modes",
        r#"step 3 "keyed but wrong expectation""#,
    );
    assert_check(&f, "status", "201", "200");
    let r = &results[0];
    // Wiremock answers 404 to anything unmatched: 200 proves the header matchers held.
    assert_eq!(r.steps[0].status, Some(200));
    assert_eq!(r.steps[1].status, Some(200));

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    let key = |q: &Request| {
        q.headers
            .get("x-key")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(key(&received[0]).as_deref(), Some("test-secret"));
    assert_eq!(key(&received[1]), None);
    assert_eq!(key(&received[2]).as_deref(), Some("test-secret"));

    // The secret never reaches a report or the recorded results.
    assert!(!f.detail.contains("test-secret"), "{}", f.detail);
    let dump = format!("{results:?}");
    assert!(!dump.contains("test-secret"), "{dump}");
}

#[tokio::test]
async fn auth_value_override_is_sent_and_not_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/keyed"))
        .and(header("X-Key", "other-secret"))
        .respond_with(json(403, r#"{"error":"nope"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let yaml = r#"
cases:
  - name: other key
    steps:
      - name: wrong key
        request: { method: GET, path: /keyed, auth: { value: other-secret } }
        expect: { status: 200 }
"#;
    let results = run(&server, yaml).await;
    let f = contract_failure(&results, "other key", r#"step 1 "wrong key""#);
    assert_check(&f, "status", "200", "403");
    assert!(!f.detail.contains("other-secret"), "{}", f.detail);
    assert!(!f.detail.contains("test-secret"), "{}", f.detail);
    assert!(!format!("{results:?}").contains("other-secret"));
    server.verify().await;
}

#[tokio::test]

async fn secret_capture_is_redacted_in_reports() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sessions"))
        .respond_with(json(201, r#"{"token":"tok-s3cr3t"}"#))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/sessions/tok-s3cr3t"))
        .respond_with(json(200, r#"{"owner":"someone-else"}"#))
        .mount(&server)
        .await;
    let yaml = r#"
cases:
  - name: session
    steps:
      - name: open
        request: { method: POST, path: /sessions }
        expect: { status: 201 }
        capture: { token: { jsonpath: $.token, secret: true } }
      - name: read
        request: { method: GET, path: "/sessions/{{token}}" }
        expect:
          status: 200
          jsonpath:
            - { path: $.owner, equals: "{{token}}" }
"#;
    let results = run(&server, yaml).await;
    let f = contract_failure(&results, "session", r#"step 2 "read""#);
    assert_eq!(f.check.label, "jsonpath `$.owner` equals");
    assert!(!f.detail.contains("tok-s3cr3t"), "{}", f.detail);
    assert!(f.detail.contains("[REDACTED]"), "{}", f.detail);
}

// ---------------------------------------------------------------------------
// 14. cases are independent
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_failing_case_does_not_stop_the_others() {
    let server = MockServer::start().await;
    get(&server, "/bad", json(500, "{}")).await;
    Mock::given(method("GET"))
        .and(path("/good"))
        .respond_with(json(200, GOOD_USER))
        .expect(1)
        .mount(&server)
        .await;
    let yaml = r#"
cases:
  - name: broken
    steps:
      - name: bad
        request: { method: GET, path: /bad }
        expect: { status: 200 }
  - name: healthy
    steps:
      - name: good
        request: { method: GET, path: /good }
        expect: { status: 200, schema: User }
"#;
    let results = run(&server, yaml).await;
    assert_eq!(results.len(), 2);
    let f = contract_failure(&results, "broken", r#"step 1 "bad""#);
    assert_check(&f, "status", "200", "500");
    let healthy = results.iter().find(|r| r.id.name == "healthy").unwrap();
    assert_eq!(
        healthy.outcome,
        Outcome::Passed,
        "{}",
        failure_detail(healthy)
    );
    assert_eq!(healthy.steps[0].outcome, StepOutcome::Passed);
    let t = Totals::of(&results);
    assert_eq!((t.passed, t.failed, t.errored, t.skipped), (1, 1, 0, 0));
    assert!(!f.detail.contains("healthy"), "{}", f.detail);
    server.verify().await;
}
