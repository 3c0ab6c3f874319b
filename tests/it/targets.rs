//! Real targets, run safely: read-only policy (and how `--base-url` and URL
//! targets keep it), settings layers through the binary, token flows against
//! the embedded mock, rate-limit waits, transport retries, `--retries` and
//! flaky cases, the body cap, and secrets kept out of every output.
//!
//! Every server here is on 127.0.0.1: wiremock, the embedded mock, or a port
//! where nothing listens. Targets with other URLs are never contacted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use conform::app::{self, RunOptions};
use conform::cli::{CasesArg, SelectArgs};
use conform::error::{ExpectedError, exit};
use conform::mock::{self, Api, Fault, MockConfig};
use conform::report::human::failure_detail;
use conform::report::junit;
use conform::result::{CaseResult, Outcome, StepOutcome, Totals};
use conform::target::TargetChoice;
use tempfile::TempDir;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{TempSuite, run_with, select_all};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A suite `name` in a temp folder: `cases/<name>/suite.yaml` (`name: <name>` then
/// `suite_rest`), the case file `cases/<name>/c.yaml` and an empty `schemas/<name>/`.
fn write_suite(name: &str, suite_rest: &str, cases_yaml: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = dir.path().join("cases").join(name);
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::create_dir_all(dir.path().join("schemas").join(name)).unwrap();
    std::fs::write(
        cases.join("suite.yaml"),
        format!("name: {name}\n{suite_rest}"),
    )
    .unwrap();
    std::fs::write(cases.join("c.yaml"), cases_yaml).unwrap();
    dir
}

/// Runs every case under `dir/cases` with `opts` and exactly the variables `env`.
async fn run_dir(
    dir: &Path,
    opts: &RunOptions,
    env: &[(&str, &str)],
) -> Result<Vec<CaseResult>, ExpectedError> {
    let vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let get = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let cases = dir.join("cases");
    app::run(&cases, &select_all(&cases), opts, &get, |_| {}).await
}

/// Options for target `name`, a 5 s timeout, everything else default.
fn named(name: &str) -> RunOptions {
    RunOptions {
        target: TargetChoice::Named(name.into()),
        timeout: Duration::from_secs(5),
        ..RunOptions::default()
    }
}

/// The result of the case named `name`.
fn case<'a>(results: &'a [CaseResult], name: &str) -> &'a CaseResult {
    results
        .iter()
        .find(|r| r.id.name == name)
        .unwrap_or_else(|| panic!("no case `{name}` in {results:#?}"))
}

/// The methods wiremock received, in order.
async fn methods(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .iter()
        .map(|r| r.method.to_string())
        .collect()
}

fn is_write(m: &str) -> bool {
    matches!(m, "POST" | "PUT" | "PATCH" | "DELETE")
}

/// A JSON response.
fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

/// Answers 200 `{}` to anything.
async fn ok_to_anything(server: &MockServer) {
    Mock::given(any())
        .respond_with(json(200, "{}"))
        .mount(server)
        .await;
}

/// A port on 127.0.0.1 where nothing listens.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A one-step case `name` sending `method /thing` and expecting 200.
fn one_step(name: &str, method: &str) -> String {
    format!(
        "cases:\n  - name: {name}\n    steps:\n      - request: {{ method: {method}, path: /thing }}\n        expect: {{ status: 200 }}\n"
    )
}

/// The first step's error text, or a panic showing the case.
fn step_error(r: &CaseResult) -> &str {
    match &r.steps[0].outcome {
        StepOutcome::Errored(e) => e,
        other => panic!(
            "expected an errored step, got {other:?}\n{}",
            failure_detail(r)
        ),
    }
}

fn junit_xml(results: &[CaseResult]) -> String {
    junit::build(results).to_string().expect("JUnit serializes")
}

// ---------------------------------------------------------------------------
// 1. Live safety: a read-only target never receives a write
// ---------------------------------------------------------------------------

/// A read, each kind of write, and a read whose only write is in cleanup.
const READ_AND_WRITES: &str = r#"
cases:
  - name: read
    steps:
      - request: { method: GET, path: /things }
        expect: { status: 200 }
  - name: create
    steps:
      - request: { method: POST, path: /things, json: { a: 1 } }
        expect: { status: 200 }
  - name: replace
    steps:
      - request: { method: PUT, path: /things/1, json: { a: 2 } }
        expect: { status: 200 }
  - name: patch
    steps:
      - request: { method: PATCH, path: /things/1, json: { a: 3 } }
        expect: { status: 200 }
  - name: remove
    steps:
      - request: { method: DELETE, path: /things/1 }
        expect: { status: 200 }
  - name: read with a write cleanup
    steps:
      - request: { method: GET, path: /things/1 }
        expect: { status: 200 }
    cleanup:
      - request: { method: DELETE, path: /things/1 }
        expect: { status: 200 }
"#;

const WRITE_CASES: [&str; 5] = [
    "create",
    "replace",
    "patch",
    "remove",
    "read with a write cleanup",
];

fn live_suite(live_url: &str) -> TempDir {
    write_suite(
        "t",
        &format!(
            "auth: {{ header: X-Key, env: TEST_KEY }}\ntargets:\n  live: {{ url: \"{live_url}\", read_only: true }}\n"
        ),
        READ_AND_WRITES,
    )
}

/// Asserts that every write case was skipped naming `target` and `--allow-writes`,
/// the read passed, and the server saw exactly one request: the read's GET.
async fn assert_writes_skipped(server: &MockServer, results: &[CaseResult], target: &str) {
    assert_eq!(case(results, "read").outcome, Outcome::Passed);
    for name in WRITE_CASES {
        let r = case(results, name);
        let Outcome::Skipped(why) = &r.outcome else {
            panic!("`{name}` should be skipped: {:?}", r.outcome);
        };
        assert!(why.contains(&format!("`{target}`")), "{why}");
        assert!(why.contains("--allow-writes"), "{why}");
        assert!(r.steps.is_empty(), "nothing of a skipped case runs");
    }
    let seen = methods(server).await;
    assert!(
        !seen.iter().any(|m| is_write(m)),
        "writes arrived: {seen:?}"
    );
    assert_eq!(seen, ["GET"], "only the read case's GET");
    assert_eq!(Totals::of(results).exit_code(), exit::SUCCESS);
}

#[tokio::test]
async fn a_read_only_target_never_receives_a_write() {
    let server = MockServer::start().await;
    ok_to_anything(&server).await;
    let suite = live_suite(&server.uri());
    let results = run_dir(suite.path(), &named("live"), &[("TEST_KEY", "k-1234")])
        .await
        .unwrap();
    assert_writes_skipped(&server, &results, "live").await;
}

#[tokio::test]
async fn allow_writes_sends_them_to_a_read_only_target() {
    let server = MockServer::start().await;
    ok_to_anything(&server).await;
    let suite = live_suite(&server.uri());
    let opts = RunOptions {
        allow_writes: true,
        ..named("live")
    };
    let results = run_dir(suite.path(), &opts, &[("TEST_KEY", "k-1234")])
        .await
        .unwrap();
    for r in &results {
        assert_eq!(r.outcome, Outcome::Passed, "{}", failure_detail(r));
    }
    let seen = methods(&server).await;
    for m in ["POST", "PUT", "PATCH", "DELETE"] {
        assert!(seen.iter().any(|s| s == m), "{m} missing from {seen:?}");
    }
}

#[tokio::test]
async fn base_url_moves_a_read_only_target_and_keeps_it_read_only() {
    let server = MockServer::start().await;
    ok_to_anything(&server).await;
    // The suite's own URL is never contacted: `.invalid` cannot resolve.
    let suite = live_suite("https://api.example.invalid");
    let opts = RunOptions {
        base_url: Some(server.uri()),
        ..named("live")
    };
    let results = run_dir(suite.path(), &opts, &[("TEST_KEY", "k-1234")])
        .await
        .unwrap();
    // The read went to the new URL...
    assert!(
        case(&results, "read").base_url.starts_with(&server.uri()),
        "{}",
        case(&results, "read").base_url
    );
    // ...and the writes were not sent anywhere.
    assert_writes_skipped(&server, &results, "live").await;
}

#[tokio::test]
async fn a_url_target_on_the_host_of_a_read_only_target_is_read_only() {
    // The read-only target is on 127.0.0.1 (another port, never contacted);
    // the URL target is wiremock on 127.0.0.1: same host, so read-only.
    let server = MockServer::start().await;
    ok_to_anything(&server).await;
    let suite = live_suite(&format!("https://127.0.0.1:{}", dead_port()));
    let opts = RunOptions {
        target: TargetChoice::Url(server.uri()),
        ..named("unused")
    };
    let results = run_dir(suite.path(), &opts, &[("TEST_KEY", "k-1234")])
        .await
        .unwrap();
    let target = server.uri();
    assert_writes_skipped(&server, &results, &target).await;

    // Control: when no read-only target shares the host, the same URL target is read-write.
    let other = MockServer::start().await;
    ok_to_anything(&other).await;
    let suite = live_suite("https://api.example.invalid");
    let opts = RunOptions {
        target: TargetChoice::Url(other.uri()),
        ..named("unused")
    };
    let results = run_dir(suite.path(), &opts, &[("TEST_KEY", "k-1234")])
        .await
        .unwrap();
    assert!(results.iter().all(|r| r.outcome == Outcome::Passed));
    assert!(methods(&other).await.iter().any(|m| is_write(m)));
}

// ---------------------------------------------------------------------------
// 2. Settings layers through the binary: conform.yaml, environment, auth column
// ---------------------------------------------------------------------------

/// The binary in `cwd` with `env` set and every variable that could change the
/// outcome removed first.
fn conform(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_conform"));
    c.args(args).current_dir(cwd).env("NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("CONFORM_") || k == "TEST_KEY" || k.to_ascii_lowercase().contains("proxy")
        {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Suite `t` (auth `X-Key` from `$TEST_KEY`, target `srv`) and a `conform.yaml`
/// adding target `staging`.
fn config_suite() -> TempDir {
    let dir = write_suite(
        "t",
        "auth: { header: X-Key, env: TEST_KEY }\ntargets:\n  srv: { url: \"http://127.0.0.1:9\" }\n",
        &one_step("a", "GET"),
    );
    std::fs::write(
        dir.path().join("conform.yaml"),
        "suites:\n  t:\n    targets:\n      staging: { url: \"http://127.0.0.1:2\" }\n",
    )
    .unwrap();
    dir
}

/// The `conform targets` row of target `name` (with `(default)` and padding).
fn row<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no row for `{name}` in:\n{out}"))
}

#[test]
fn targets_lists_a_config_file_target_with_its_origin_and_missing_auth() {
    let dir = config_suite();
    let o = conform(&["targets", "--cases", "cases"], dir.path(), &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let staging = row(&out, "staging");
    assert!(staging.contains("http://127.0.0.1:2"), "{staging}");
    assert!(staging.contains("config file"), "{staging}");
    assert!(staging.contains("read-write"), "{staging}");
    assert!(staging.contains("missing: set $TEST_KEY"), "{staging}");
    assert!(row(&out, "srv").contains("suite file"), "{out}");
}

#[test]
fn the_environment_moves_a_suite_file_target_and_names_the_variable() {
    let dir = config_suite();
    let o = conform(
        &["targets", "--cases", "cases"],
        dir.path(),
        &[("CONFORM_TARGET_T_SRV_URL", "http://127.0.0.1:3")],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let srv = row(&out, "srv");
    assert!(srv.contains("http://127.0.0.1:3"), "{srv}");
    assert!(srv.contains("$CONFORM_TARGET_T_SRV_URL"), "{srv}");
}

#[test]
fn the_environment_moves_a_config_file_target_and_names_the_variable() {
    let dir = config_suite();
    let o = conform(
        &["targets", "--cases", "cases"],
        dir.path(),
        &[("CONFORM_TARGET_T_STAGING_URL", "http://127.0.0.1:1")],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let staging = row(&out, "staging");
    assert!(staging.contains("http://127.0.0.1:1 "), "{staging}");
    assert!(
        staging.contains("$CONFORM_TARGET_T_STAGING_URL"),
        "{staging}"
    );
}

#[test]
fn the_auth_column_names_the_variable_and_never_its_value() {
    let dir = config_suite();
    let secret = "tk-3b9f0c61-unique-value-never-printed";
    let o = conform(
        &["targets", "--cases", "cases"],
        dir.path(),
        &[("TEST_KEY", secret)],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let staging = row(&out, "staging");
    assert!(staging.contains("$TEST_KEY (X-Key)"), "{staging}");
    assert!(!out.contains(secret) && !err.contains(secret), "{out}{err}");
}

#[test]
fn a_missing_config_file_given_by_flag_is_exit_2() {
    let dir = config_suite();
    let o = conform(
        &[
            "run",
            "--cases",
            "cases",
            "--target",
            "srv",
            "--config",
            "missing.yaml",
        ],
        dir.path(),
        &[("TEST_KEY", "k-1234")],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("missing.yaml"), "{err}");
    assert!(!dir.path().join("reports/junit.xml").exists());
}

// ---------------------------------------------------------------------------
// 3–4. Token flows against the embedded mock; missing credentials
// ---------------------------------------------------------------------------

/// Four one-step cases GETting `path`, each waiting 600 ms first.
fn four_delayed_gets(path: &str) -> String {
    let mut y = String::from("cases:\n");
    for i in 1..=4 {
        y.push_str(&format!(
            "  - name: get {i}\n    steps:\n      - request: {{ method: GET, path: {path} }}\n        expect: {{ status: 200 }}\n        delay: 600ms\n"
        ));
    }
    y
}

fn palisade_token_suite(base_url: &str) -> TempDir {
    write_suite(
        "p",
        &format!(
            "auth:\n  header: Authorization\n  env: P_KEY\n  token: {{ flow: oauth-client-credentials, path: /v2/credentials/oauth/token, id_env: P_ID, secret_env: P_SECRET }}\ntargets:\n  srv: {{ url: \"{base_url}\" }}\n"
        ),
        &four_delayed_gets("/v2/users"),
    )
}

fn one_second_tokens() -> MockConfig {
    MockConfig {
        port: 0,
        faults: vec![],
        token_ttl: Some(Duration::from_secs(1)),
    }
}

/// Runs the four cases one at a time; the run outlives a 1 s token.
async fn run_token_suite(dir: &Path, env: &[(&str, &str)]) -> Vec<CaseResult> {
    let opts = RunOptions {
        jobs: 1,
        ..named("srv")
    };
    run_dir(dir, &opts, env).await.expect("the suite runs")
}

/// Every case passed, the run took longer than one token lifetime, and the
/// token was renewed (≥ 2) but not fetched per request (< 4).
fn assert_renewed_not_per_request(results: &[CaseResult], started: Instant, issued: u64) {
    assert_eq!(results.len(), 4);
    for r in results {
        assert_eq!(r.outcome, Outcome::Passed, "{}", failure_detail(r));
    }
    assert!(started.elapsed() > Duration::from_millis(2000));
    // 4 requests at ~0.6 s intervals with 1 s tokens renewed 0.2 s before expiry: 2 tokens
    // (3 on a slow machine); one per request would be 4.
    assert!((2..=3).contains(&issued), "tokens issued: {issued}");
}

#[tokio::test]
async fn palisade_oauth_tokens_are_fetched_once_and_renewed() {
    let server = mock::start(Api::Palisade, one_second_tokens())
        .await
        .unwrap();
    let suite = palisade_token_suite(&server.base_url());
    let started = Instant::now();
    let results = run_token_suite(
        suite.path(),
        &[
            ("P_ID", mock::PALISADE_CLIENT_ID),
            ("P_SECRET", mock::PALISADE_CLIENT_SECRET),
        ],
    )
    .await;
    assert_renewed_not_per_request(&results, started, server.tokens_issued());
}

#[tokio::test]
async fn ledger_tokens_are_fetched_once_and_renewed() {
    let server = mock::start(Api::LedgerEnterprise, one_second_tokens())
        .await
        .unwrap();
    let suite = write_suite(
        "l",
        &format!(
            "auth:\n  header: X-Ledger-API-Key\n  env: L_KEY\n  token: {{ flow: ledger, path: /auth/token, refresh_path: /auth/token/refresh, id_env: L_ID, secret_env: L_SECRET }}\ntargets:\n  srv: {{ url: \"{}\" }}\n",
            server.base_url()
        ),
        &four_delayed_gets("/api_users"),
    );
    let started = Instant::now();
    let results = run_token_suite(
        suite.path(),
        &[
            ("L_ID", mock::LEDGER_API_KEY_ID),
            ("L_SECRET", mock::LEDGER_API_KEY_SECRET),
        ],
    )
    .await;
    assert_renewed_not_per_request(&results, started, server.tokens_issued());
}

#[tokio::test]
async fn a_wrong_client_secret_errors_every_case_without_printing_it() {
    let server = mock::start(Api::Palisade, one_second_tokens())
        .await
        .unwrap();
    let suite = palisade_token_suite(&server.base_url());
    let wrong = "wrong-client-secret-8c2d7e19";
    let opts = RunOptions {
        jobs: 2,
        ..named("srv")
    };
    let results = run_dir(
        suite.path(),
        &opts,
        &[("P_ID", mock::PALISADE_CLIENT_ID), ("P_SECRET", wrong)],
    )
    .await
    .unwrap();
    assert_eq!(results.len(), 4);
    for r in &results {
        assert_eq!(r.outcome, Outcome::Errored, "{}", failure_detail(r));
        let e = step_error(r);
        assert!(e.contains("cannot obtain a token"), "{e}");
        assert!(!e.contains(wrong), "{e}");
        assert!(!failure_detail(r).contains(wrong));
    }
    assert!(!junit_xml(&results).contains(wrong));
    assert_eq!(server.tokens_issued(), 0);
    assert_eq!(Totals::of(&results).exit_code(), exit::RUNTIME);
}

#[tokio::test]
async fn no_key_and_no_token_credentials_stop_the_run_naming_every_variable() {
    // Nothing is sent: the run stops while resolving the target.
    let suite = palisade_token_suite(&format!("http://127.0.0.1:{}", dead_port()));
    let err = run_dir(suite.path(), &named("srv"), &[("P_ID", "only-the-id")])
        .await
        .expect_err("a missing credential stops the run");
    let ExpectedError::Setup(msg) = &err else {
        panic!("expected a setup error, got {err:?}");
    };
    for var in ["P_KEY", "P_ID", "P_SECRET"] {
        assert!(msg.contains(var), "{var} not named in: {msg}");
    }
    assert_eq!(err.exit_code(), exit::BAD_INPUT);
}

// ---------------------------------------------------------------------------
// 5. Rate limits: bounded waits, then a transport error
// ---------------------------------------------------------------------------

async fn run_thing(server: &MockServer, opts: RunOptions) -> Vec<CaseResult> {
    let suite = TempSuite::new(&server.uri(), &one_step("a", "GET"));
    run_with(&suite, opts).await.expect("the suite runs")
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_noted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(json(200, "{}"))
        .mount(&server)
        .await;
    let results = run_thing(&server, named("srv")).await;
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Passed, "{}", failure_detail(r));
    let notes = r.steps[0].notes();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes
            .iter()
            .all(|n| n.contains("429") && n.contains("waited")),
        "{notes:?}"
    );
    assert_eq!(methods(&server).await.len(), 3);
}

#[tokio::test]
async fn a_ledger_420_with_a_reset_time_is_waited_out() {
    let server = MockServer::start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(
            ResponseTemplate::new(420).insert_header("X-RateLimit-Reset", now.to_string()),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(json(200, "{}"))
        .mount(&server)
        .await;
    let results = run_thing(&server, named("srv")).await;
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Passed, "{}", failure_detail(r));
    let notes = r.steps[0].notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("420"), "{notes:?}");
}

#[tokio::test]
async fn an_absurd_retry_after_is_a_quick_transport_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1000000"))
        .mount(&server)
        .await;
    let started = Instant::now();
    let results = run_thing(&server, named("srv")).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Errored, "{}", failure_detail(r));
    assert!(step_error(r).contains("rate-limited"), "{}", step_error(r));
    assert_eq!(Totals::of(&results).exit_code(), exit::RUNTIME);
    let xml = junit_xml(&results);
    assert!(
        xml.contains("<error") && xml.contains("type=\"transport\""),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
}

#[tokio::test]
async fn a_lasting_429_errors_after_the_allowed_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .mount(&server)
        .await;
    let opts = named("srv");
    assert_eq!(opts.client.rate_limit_retries, 3);
    let results = run_thing(&server, opts).await;
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Errored, "{}", failure_detail(r));
    assert!(step_error(r).contains("rate-limited"), "{}", step_error(r));
    // The first try and 3 retries.
    assert_eq!(methods(&server).await.len(), 4);
}

// ---------------------------------------------------------------------------
// 6. Transport retries: idempotent methods only
// ---------------------------------------------------------------------------

async fn run_dead(method: &str) -> CaseResult {
    let suite = TempSuite::new(
        &format!("http://127.0.0.1:{}", dead_port()),
        &one_step("a", method),
    );
    let mut results = run_with(&suite, named("srv")).await.unwrap();
    results.remove(0)
}

#[tokio::test]
async fn a_refused_get_is_retried_once_and_noted() {
    let r = run_dead("GET").await;
    assert_eq!(r.outcome, Outcome::Errored, "{}", failure_detail(&r));
    let notes = r.steps[0].notes();
    assert!(notes.iter().any(|n| n.contains("retried")), "{notes:?}");
}

#[tokio::test]
async fn a_refused_post_is_not_retried() {
    let r = run_dead("POST").await;
    assert_eq!(r.outcome, Outcome::Errored, "{}", failure_detail(&r));
    assert!(r.steps[0].notes().is_empty(), "{:?}", r.steps[0].notes());
}

// ---------------------------------------------------------------------------
// 7. --retries and flaky cases
// ---------------------------------------------------------------------------

async fn fails_once(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(json(500, r#"{"error":"transient"}"#))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(json(200, "{}"))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_case_passing_on_a_rerun_is_flaky_and_keeps_its_failure() {
    let server = MockServer::start().await;
    fails_once(&server).await;
    let opts = RunOptions {
        retries: 1,
        ..named("srv")
    };
    let results = run_thing(&server, opts).await;
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Flaky, "{}", failure_detail(r));
    assert_eq!(r.attempts, 2);
    assert_eq!(r.earlier.len(), 1);
    assert_eq!(r.earlier[0].outcome, Outcome::Failed);
    assert!(
        r.earlier[0].detail.contains("500"),
        "{}",
        r.earlier[0].detail
    );
    let xml = junit_xml(&results);
    assert!(xml.contains("<flakyFailure"), "{xml}");
    assert!(
        !xml.contains("<failure") && !xml.contains("<error"),
        "{xml}"
    );
    assert_eq!(Totals::of(&results).exit_code(), exit::SUCCESS);
}

#[tokio::test]
async fn without_retries_the_same_case_fails() {
    let server = MockServer::start().await;
    fails_once(&server).await;
    let results = run_thing(&server, named("srv")).await;
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Failed, "{}", failure_detail(r));
    assert_eq!(r.attempts, 1);
    assert!(r.earlier.is_empty());
    assert_eq!(Totals::of(&results).exit_code(), exit::CONTRACT);
}

fn repo_cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

#[tokio::test]
async fn the_palisade_suite_rides_out_a_flaky_get_without_retries() {
    let sel = SelectArgs {
        cases: CasesArg {
            cases: repo_cases(),
        },
        suites: vec!["palisade".into()],
        filter: None,
        tags: vec![],
    };
    let opts = RunOptions {
        jobs: 2,
        mock_faults: vec![Fault::PalisadeFlakyGet],
        retries: 0,
        ..named("mock")
    };
    let results = app::run(&repo_cases(), &sel, &opts, &|_| None, |_| {})
        .await
        .unwrap();
    assert!(results.len() > 10);
    let bad: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::Errored))
        .map(failure_detail)
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The fault was live: some step waited on a 503.
    assert!(
        results
            .iter()
            .flat_map(|r| &r.steps)
            .flat_map(|s| s.notes())
            .any(|n| n.contains("503")),
        "no step waited on a 503"
    );
}

// ---------------------------------------------------------------------------
// 8. Body cap
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_body_over_the_cap_is_a_contract_failure() {
    let server = MockServer::start().await;
    let big = format!(r#"{{"data":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
    Mock::given(method("GET"))
        .and(path("/thing"))
        .respond_with(json(200, &big))
        .mount(&server)
        .await;
    let mut opts = named("srv");
    opts.client.max_body_bytes = 1024 * 1024;
    let results = run_thing(&server, opts).await;
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Failed, "{}", failure_detail(r));
    let failed: Vec<&str> = r.steps[0]
        .checks()
        .iter()
        .filter(|c| !c.passed())
        .map(|c| c.label.as_str())
        .collect();
    assert!(failed.contains(&"body size"), "{failed:?}");
    assert_eq!(Totals::of(&results).exit_code(), exit::CONTRACT);
}

// ---------------------------------------------------------------------------
// 9. Secrets never leak: stdout, stderr, every report file
// ---------------------------------------------------------------------------

/// Echoes the `X-Key` it received as `{"token", "echo"}`; 500 on `/boom`.
struct EchoKey;

impl Respond for EchoKey {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let key = request
            .headers
            .get("x-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let body = serde_json::json!({ "token": key, "echo": key }).to_string();
        let status = if request.url.path() == "/boom" {
            500
        } else {
            200
        };
        json(status, &body)
    }
}

const LEAKY_CASES: &str = r#"
cases:
  - name: a captured secret fails an equals
    steps:
      - name: log in
        request: { method: GET, path: /echo }
        expect: { status: 200 }
        capture:
          tok: { jsonpath: $.token, secret: true }
      - request: { method: GET, path: "/items/{{tok}}" }
        expect:
          status: 200
          jsonpath:
            - { path: $.echo, equals: "{{tok}}-not" }
  - name: a server error echoes the key
    steps:
      - request: { method: GET, path: /boom }
        expect: { status: 200 }
"#;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_appear_in_no_output_and_no_report() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(EchoKey)
        .mount(&server)
        .await;
    let suite = TempSuite::new(&server.uri(), LEAKY_CASES);
    // Characters that a path percent-encodes, so the encoded form is checked too.
    let secret = "Sk-7f3a9c2e/unique+secret q41";
    let encoded = "Sk-7f3a9c2e%2Funique%2Bsecret%20q41";
    let dir = suite.dir.path().to_path_buf();
    let o = tokio::task::spawn_blocking(move || {
        conform(
            &[
                "run",
                "--cases",
                "cases",
                "--target",
                "srv",
                "--junit",
                "reports/junit.xml",
            ],
            &dir,
            &[("TEST_KEY", secret)],
        )
    })
    .await
    .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}{err}");
    // The server did see the secret, in the header and in the encoded path.
    let seen = server.received_requests().await.unwrap();
    assert!(
        seen.iter().any(|r| r.url.path().contains(encoded)),
        "{seen:?}"
    );

    let mut texts = vec![("stdout".to_owned(), out), ("stderr".to_owned(), err)];
    let reports = files_under(&suite.dir.path().join("reports"));
    assert!(!reports.is_empty());
    for p in reports {
        let bytes = std::fs::read(&p).unwrap();
        texts.push((
            p.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    for (name, t) in &texts {
        for form in [secret, encoded] {
            assert!(!t.contains(form), "{form:?} leaked into {name}:\n{t}");
        }
    }
    assert!(
        texts.iter().any(|(_, t)| t.contains("[REDACTED]")),
        "nothing was redacted: the test would be vacuous"
    );
}

/// Every form of `secret` is absent from everything the case result carries.
fn assert_no_secret_in_result(r: &CaseResult, secret: &str, encoded: &str) {
    let all = format!("{r:?}");
    for form in [secret, encoded] {
        assert!(
            !all.contains(form),
            "{form:?} is in the case result:\n{all}"
        );
    }
    assert!(all.contains("[REDACTED]"), "nothing was redacted:\n{all}");
}

#[tokio::test]
async fn a_retry_note_carries_no_secret() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // First connection: 200 with a token. Every later one: the request is read, then the
    // connection is closed without an answer (invalid HTTP, retried for a GET).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let secret = "Sk-5e1b7d/retry+secret q88";
    let encoded = "Sk-5e1b7d%2Fretry%2Bsecret%20q88";
    let body = serde_json::json!({ "token": secret }).to_string();
    let server = tokio::spawn(async move {
        let mut first = true;
        while let Ok((mut s, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            if first {
                first = false;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
                let _ = s.shutdown().await;
            }
        }
    });
    let suite = TempSuite::new(
        &format!("http://127.0.0.1:{port}"),
        r#"
cases:
  - name: a
    steps:
      - request: { method: GET, path: /login }
        expect: { status: 200 }
        capture:
          tok: { jsonpath: $.token, secret: true }
      - request: { method: GET, path: "/items/{{tok}}" }
        expect: { status: 200 }
"#,
    );
    let results = run_with(&suite, named("srv")).await.unwrap();
    server.abort();
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Errored, "{}", failure_detail(r));
    assert!(
        r.steps[1].notes().iter().any(|n| n.contains("retried")),
        "{:?}",
        r.steps[1].notes()
    );
    assert_no_secret_in_result(r, secret, encoded);
}

#[tokio::test]
async fn a_response_shape_carries_no_secret() {
    let server = MockServer::start().await;
    let secret = "SK_LIVE_7F3A9C2E_SHAPE";
    Mock::given(method("GET"))
        .and(path("/login"))
        .respond_with(json(200, &format!(r#"{{"token":"{secret}"}}"#)))
        .mount(&server)
        .await;
    let suite = TempSuite::new(
        &server.uri(),
        r#"
cases:
  - name: a
    steps:
      - request: { method: GET, path: /login }
        expect:
          status: 200
          jsonpath:
            - { path: $.token, equals: nope }
        capture:
          tok: { jsonpath: $.token, secret: true }
"#,
    );
    let results = run_with(&suite, named("srv")).await.unwrap();
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Failed, "{}", failure_detail(r));
    assert_no_secret_in_result(r, secret, secret);
}
