//! `--jobs 1`: requests go strictly in turn (one outstanding at a time, a
//! case's steps never interleaved with another case's), while the next case's
//! first request is already sent when the last response of a case is checked.
//!
//! The server runs on a thread of its own, so a test may hold the run's thread
//! (in `on_done`) and still see what has reached the server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use conform::app::RunOptions;
use conform::result::Outcome;
use conform::target::TargetChoice;

use crate::common::{TempSuite, on_own_thread, run_reporting, run_with};

/// What the server saw: each path as it arrived, with how many requests were
/// then already being answered.
#[derive(Default)]
struct Seen {
    log: Mutex<Vec<(String, usize)>>,
    arrived: Condvar,
    in_flight: AtomicUsize,
    /// Paths answered once with 500 before they answer 200.
    fail_once: Mutex<Vec<String>>,
    delay: Duration,
}

impl Seen {
    fn paths(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Waits up to `limit` for `path` to arrive; true when it has.
    fn wait_for(&self, path: &str, limit: Duration) -> bool {
        let log = self.log.lock().unwrap();
        let (log, _) = self
            .arrived
            .wait_timeout_while(log, limit, |l| !l.iter().any(|(p, _)| p == path))
            .unwrap();
        log.iter().any(|(p, _)| p == path)
    }
}

async fn answer(State(seen): State<Arc<Seen>>, uri: Uri) -> (StatusCode, String) {
    let path = uri.path().to_owned();
    let before = seen.in_flight.fetch_add(1, Ordering::SeqCst);
    seen.log.lock().unwrap().push((path.clone(), before));
    seen.arrived.notify_all();
    tokio::time::sleep(seen.delay).await;
    let fail = {
        let mut once = seen.fail_once.lock().unwrap();
        let hit = once.iter().position(|p| *p == path);
        hit.map(|i| once.remove(i)).is_some()
    };
    // Down before the answer leaves, so a request sent after it sees 0.
    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    let status = if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    (status, format!(r#"{{"ok":true,"path":"{path}"}}"#))
}

/// Starts the server on its own thread, for a minute at most; returns its base URL.
fn serve(seen: Arc<Seen>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    on_own_thread(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let app = axum::Router::new().fallback(answer).with_state(seen);
        // Bounded, so the server's thread does not outlive the test for long.
        let _ = tokio::time::timeout(Duration::from_secs(60), axum::serve(listener, app)).await;
    });
    format!("http://{addr}")
}

fn options(retries: u32) -> RunOptions {
    RunOptions {
        target: TargetChoice::Named("srv".into()),
        timeout: Duration::from_secs(10),
        jobs: 1,
        retries,
        ..RunOptions::default()
    }
}

fn step(path: &str, status: u16) -> String {
    format!(
        "      - request: {{ method: GET, path: {path} }}\n        expect:\n          status: {status}\n          jsonpath: [ {{ path: $.ok, equals: true }} ]\n"
    )
}

#[tokio::test]
async fn one_request_at_a_time_and_a_case_steps_together() {
    let seen = Arc::new(Seen {
        delay: Duration::from_millis(5),
        ..Seen::default()
    });
    let url = serve(seen.clone());
    // Three steps; every fourth case fails its second step (its third is then
    // skipped); every third has a cleanup step, which always runs.
    let mut yaml = String::from("cases:\n");
    let mut expected = Vec::new();
    for i in 0..12 {
        let fails = i % 4 == 1;
        yaml.push_str(&format!("  - name: case {i:02}\n    steps:\n"));
        yaml.push_str(&step(&format!("/c{i}/s1"), 200));
        yaml.push_str(&step(&format!("/c{i}/s2"), if fails { 201 } else { 200 }));
        yaml.push_str(&step(&format!("/c{i}/s3"), 200));
        expected.push(format!("/c{i}/s1"));
        expected.push(format!("/c{i}/s2"));
        if !fails {
            expected.push(format!("/c{i}/s3"));
        }
        if i % 3 == 0 {
            yaml.push_str("    cleanup:\n");
            yaml.push_str(&step(&format!("/c{i}/cleanup"), 200));
            expected.push(format!("/c{i}/cleanup"));
        }
    }
    let suite = TempSuite::new(&url, &yaml);
    let mut order = Vec::new();
    let results = run_reporting(&suite, options(0), |r| order.push(r.id.to_string()))
        .await
        .unwrap();

    assert_eq!(seen.paths(), expected, "requests out of turn");
    let overlapping: Vec<_> = seen
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, before)| *before > 0)
        .cloned()
        .collect();
    assert!(
        overlapping.is_empty(),
        "sent while another request was outstanding: {overlapping:?}"
    );
    let outcomes: Vec<bool> = results
        .iter()
        .map(|r| r.outcome == Outcome::Passed)
        .collect();
    let wanted: Vec<bool> = (0..12).map(|i| i % 4 != 1).collect();
    assert_eq!(outcomes, wanted);
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "results reported out of file order");
}

#[tokio::test]
async fn the_next_case_is_sent_before_the_last_response_is_checked() {
    let seen = Arc::new(Seen::default());
    let url = serve(seen.clone());
    let mut yaml = String::from("cases:\n");
    for i in 0..3 {
        yaml.push_str(&format!("  - name: case {i}\n    steps:\n"));
        yaml.push_str(&step(&format!("/c{i}"), 200));
    }
    let suite = TempSuite::new(&url, &yaml);
    let mut reached = Vec::new();
    // Holds the run's one thread in each case's `on_done`: the next case's
    // request can reach the server then only if it was sent before.
    let results = run_reporting(&suite, options(0), |r| {
        let n = reached.len() + 1;
        if n < 3 {
            let next = format!("/c{n}");
            reached.push((
                r.id.to_string(),
                seen.wait_for(&next, Duration::from_secs(5)),
            ));
        }
    })
    .await
    .unwrap();
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r.outcome == Outcome::Passed));
    assert!(
        reached.iter().all(|(_, sent)| *sent),
        "the next case's request was not on its way when a case was reported: {reached:?}"
    );
}

#[tokio::test]
async fn with_reruns_the_next_case_waits_for_the_last_attempt() {
    let seen = Arc::new(Seen {
        delay: Duration::from_millis(20),
        fail_once: Mutex::new(vec!["/c0".into()]),
        ..Seen::default()
    });
    let url = serve(seen.clone());
    let mut yaml = String::from("cases:\n");
    for i in 0..2 {
        yaml.push_str(&format!("  - name: case {i}\n    steps:\n"));
        yaml.push_str(&step(&format!("/c{i}"), 200));
    }
    let suite = TempSuite::new(&url, &yaml);
    let results = run_with(&suite, options(1)).await.unwrap();
    // Case 0 fails once, passes on its rerun (flaky); case 1 only then.
    assert_eq!(seen.paths(), ["/c0", "/c0", "/c1"]);
    assert!(
        seen.log
            .lock()
            .unwrap()
            .iter()
            .all(|(_, before)| *before == 0)
    );
    assert_eq!(results[0].outcome, Outcome::Flaky);
    assert_eq!(results[1].outcome, Outcome::Passed);
}
