//! Ctrl-C and SIGTERM during a run: in-flight requests are cancelled, cleanup
//! steps of started cases still run, the reports are written with unfinished
//! cases marked, and the exit code is 130. A stale report never survives.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::TempSuite;

const CASES: &str = r#"cases:
  - name: slow
    steps:
      - request: { method: POST, path: /things }
        expect: { status: 200 }
        capture: { id: $.id }
      - request: { method: GET, path: /slow }
        expect: { status: 200 }
    cleanup:
      - request: { method: DELETE, path: "/things/{{id}}" }
        expect: { status: 200 }
  - name: later one
    steps:
      - request: { method: GET, path: /slow }
        expect: { status: 200 }
"#;

async fn interrupted_by(signal: i32) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/things"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"id":"t1"}"#, "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/things/t1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let suite = TempSuite::new(&server.uri(), CASES);
    let junit = suite.dir.path().join("reports/junit.xml");
    std::fs::create_dir_all(junit.parent().unwrap()).unwrap();
    std::fs::write(&junit, "<stale green report/>").unwrap();

    let child = suite
        .conform_run(&["--jobs", "1", "--timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, signal) };
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains("stale"), "{xml}");
    assert!(xml.contains("interrupted (Ctrl-C or SIGTERM)"), "{xml}");
    assert!(
        xml.contains(r#"<testcase name="slow""#) && xml.contains(r#"<testcase name="later one""#),
        "{xml}"
    );
    assert!(xml.contains("not run: the run was interrupted"), "{xml}");
    // `expect(1)` on the cleanup DELETE is verified when the server drops.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_cancels_requests_runs_cleanup_and_writes_marked_reports() {
    interrupted_by(libc::SIGINT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_does_the_same() {
    interrupted_by(libc::SIGTERM).await;
}

#[test]
fn a_failed_load_leaves_no_stale_report() {
    let suite = TempSuite::new("http://127.0.0.1:9", "cases:\n  - name: [broken\n");
    let junit = suite.dir.path().join("reports/junit.xml");
    std::fs::create_dir_all(junit.parent().unwrap()).unwrap();
    std::fs::write(&junit, "<testsuites tests=\"1\" failures=\"0\"/>").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["run", "--cases", "cases", "--target", "srv"])
        .current_dir(suite.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !junit.exists(),
        "the previous run's report survived a failed run"
    );
}

/// In a log that takes stdout and stderr together (a CI log), the notice of an
/// interruption reads after the lines of the cases that finished before it,
/// though those lines are gathered and written in batches. At most the case in
/// flight when the signal came may still pass and print after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interrupt_notice_comes_after_the_lines_of_finished_cases() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/d"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(5)))
        .mount(&server)
        .await;
    let mut cases = String::from("cases:\n");
    for i in 0..2000 {
        cases.push_str(&format!(
            "  - name: c{i}\n    steps:\n      - request: {{ method: GET, path: /d }}\n        expect: {{ status: 200 }}\n"
        ));
    }
    let suite = TempSuite::new(&server.uri(), &cases);
    let log_path = suite.dir.path().join("log.txt");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = suite
        .conform_run(&["--jobs", "1"])
        .env("CI", "1")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    // Cases finish every few milliseconds: when the signal comes, some lines
    // have been gathered and not yet written.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(out.status.code(), Some(130), "{log}");
    let (before, after) = log
        .split_once("interrupted: cancelling")
        .unwrap_or_else(|| panic!("no interrupt notice: {log}"));
    let passed_before = before.lines().filter(|l| l.starts_with("PASS")).count();
    let passed_after: Vec<&str> = after.lines().filter(|l| l.starts_with("PASS")).collect();
    assert!(passed_before > 0, "no case had finished: {log}");
    assert!(
        passed_after.len() <= 1,
        "lines of cases that finished before the signal came after its notice: {passed_after:?}"
    );
}
