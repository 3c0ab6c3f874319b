//! Snapshots of what a person reads: the terminal failure text, a load
//! diagnostic and the JUnit file. Ports, temp paths and durations are redacted.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{TempSuite, run_suite};

const CASES: &str = r#"cases:
  - name: get a user
    steps:
      - name: create
        request: { method: POST, path: /users, json: { name: Joe } }
        expect: { status: 200 }
        capture: { id: $.id }
      - name: get
        request: { method: GET, path: "/users/{{id}}" }
        expect:
          status: 200
          headers: { Content-Type: application/json }
          schema: User
          jsonpath:
            - { path: $.name, equals: Joe }
    cleanup:
      - name: delete
        request: { method: DELETE, path: "/users/{{id}}" }
        expect: { status: [200, 404] }
  - name: list users
    steps:
      - request: { method: GET, path: /users }
        expect: { status: 200, body: [] }
"#;

async fn server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"id":"u1"}"#, "application/json"))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/users/u1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"id":"u1","name":"Jo\u001b[31me","status":"ENABLED","createdAt":"29/03/2022"}"#,
            "application/json",
        ))
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/users/u1"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s)
        .await;
    // Raw ESC and NUL bytes: the XML must stay valid and the text readable.
    Mock::given(method("GET"))
        .and(path("/users"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("\u{1b}[31mnot json\u{0}", "text/plain"),
        )
        .mount(&s)
        .await;
    s
}

fn settings(tmp: &std::path::Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    s.add_filter(&regex_escape(&tmp.display().to_string()), "[TMP]");
    s.add_filter(r#"time="[0-9.]+""#, r#"time="[TIME]""#);
    s.add_filter(r#"timestamp="[^"]+""#, r#"timestamp="[TIMESTAMP]""#);
    s.set_prepend_module_to_snapshot(false);
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[tokio::test]
async fn terminal_failure_output() {
    let s = server().await;
    let suite = TempSuite::new(&s.uri(), CASES);
    let results = run_suite(&suite).await.unwrap();
    let text = conform::report::human::failure_detail(&results[0]);
    settings(suite.dir.path()).bind(|| insta::assert_snapshot!("terminal_failure_output", text));
}

#[tokio::test]
async fn junit_report() {
    let s = server().await;
    let suite = TempSuite::new(&s.uri(), CASES);
    let results = run_suite(&suite).await.unwrap();
    let xml = conform::report::junit::render(&conform::report::junit::build(&results)).unwrap();
    // The raw control bytes the server sent must not reach the XML.
    assert!(!xml.contains('\u{1b}') && !xml.contains('\u{0}'));
    settings(suite.dir.path()).bind(|| insta::assert_snapshot!("junit_report", xml));
}

#[test]
fn load_diagnostic() {
    let suite = TempSuite::new(
        "http://127.0.0.1:9",
        "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: /x }\n        expect: { status: 200, schema: Usre }\n",
    );
    let err = conform::app::load_and_plan(&suite.cases_dir())
        .unwrap_err()
        .to_string();
    settings(suite.dir.path()).bind(|| insta::assert_snapshot!("load_diagnostic", err));
}
