//! Hostile servers: a conformance harness meets broken servers by definition.
//! It must report them, never hang, crash or lose the run's results.
//!
//! Each row is one test with its own small server on 127.0.0.1: a raw tokio
//! TCP server ([`Raw`]) writing exactly the bytes the row chooses, or an HTTPS
//! stand-in (`common::Https`, shared with `tls.rs`). Every run holds two cases: `hostile`
//! (`GET /hostile`, `timeout: 2s`, expecting a 200 JSON `User`) and `healthy`
//! (`GET /healthy` on the same server, or in a second suite `h` of the same run
//! when the hostile server cannot answer anything: TLS, close on accept, token
//! flow). [`Ran::assert_row`] checks, for every row: the hostile case's outcome
//! and that its message (step error and one-line `first_problem`, also the
//! JUnit message) names what happened; the run ended within 2 s + 3 s; the
//! healthy case passed; the JUnit XML parses back (quick-junit) with one
//! testcase per case, `<failure type="contract">` or `<error type="transport">`
//! and no control character; the terminal summary ends `1 passed, 1 failed`;
//! summary.json round-trips and summary.md names the case; and
//! `Totals::exit_code()` is 3 (any error) or 4 (contract failures only).
//! Server tasks stop when the test ends (aborted on drop, each bounded to 15 s).
//!
//! | row | outcome | message fragment asserted |
//! |---|---|---|
//! | no answer at all | Errored | `timed out after 2s` (not retried) |
//! | headers sent, then the body stalls | Errored | `timed out after 2s` |
//! | body drips one byte a second | Errored | `timed out after 2s` |
//! | 100 MB body (default 10 MB cap) | Failed | `body size`; < 3 s, server sent < 50 MB, preview < 16 KB |
//! | chunked body that never ends (fast) | Failed | `body size` (the cap, not the timeout); server stops streaming |
//! | chunked body that never ends (one byte / 100 ms) | Errored | `timed out after 2s` |
//! | truncated JSON | Failed | `not JSON` (schema `User`) |
//! | invalid UTF-8 in JSON | Failed | `not JSON` … `unicode` |
//! | control bytes and `]]>`/`</failure>` in a body | Failed | `not JSON`; XML valid, no control chars |
//! | wrong Content-Type (`text/html; charset="<&]]>"`) | Failed | ``header `Content-Type` equals`` … `text/html` |
//! | missing Content-Type | Failed | ``header `Content-Type` equals`` … `absent` |
//! | non-UTF-8 header value | Failed | ``header `Content-Type` equals`` … U+FFFD |
//! | 300 KB header value | Failed | ``header `Content-Type` equals``; JUnit < 200 KB (texts cut at 64 KB) |
//! | Content-Length larger than the body, then close | Errored | `invalid HTTP response` … `end of file before message length reached` (retried once) |
//! | conflicting Content-Length headers | Errored | `invalid HTTP response` … `invalid content-length` |
//! | malformed chunk size | Errored | `invalid HTTP response` … `chunk` |
//! | connection reset (RST) mid-response | Errored | `invalid HTTP response` … `Connection reset by peer` (retried once) |
//! | close right after the request, not a byte | Errored | `invalid HTTP response` … `connection closed before message completed` (retried once) |
//! | close on accept | Errored | `invalid HTTP response` … `connection closed before message completed` (2 connections) |
//! | HTTP/0.9 answer (no status line) | Errored | `invalid HTTP response` … `invalid HTTP version parsed` |
//! | garbage status line | Errored | `invalid HTTP response` … `invalid HTTP status-code parsed` |
//! | header section that never ends | Errored | `invalid HTTP response` … `message head is too large` |
//! | 101 Switching Protocols nobody asked for | Failed | `status: expected 200, got 101` |
//! | a second response smuggled after the body (keep-alive) | Failed | ``schema `User` ``; the healthy case gets its own answer |
//! | JSON nested 100 000 deep | Failed | `not JSON` … `recursion limit` (no stack overflow) |
//! | JSON nested 127 deep | Failed | ``schema `User`: expected a body valid against `User` `` |
//! | redirect loop (302 to itself) | Failed | `status` … `got 302`; one request, not followed |
//! | 3xx (307) to another host | Failed | `status` … `got 307`; the other host accepted nothing |
//! | 5xx storm (503, no Retry-After) | Failed | `status` … `got 503`; one request, no notes |
//! | 503 with `Retry-After: 0` forever | Errored | `rate-limited` (`status 503 after 3 retries`, 4 requests) |
//! | 429 with `Retry-After: 999999999999` | Errored | `rate-limited` … `asked to wait`; < 2 s, one request |
//! | 420 with a Retry-After date in year 9999 | Errored | `rate-limited` … `asked to wait`; < 2 s, one request |
//! | TLS: expired certificate (trusted CA) | Errored | `TLS error` … `certificate expired` |
//! | TLS: self-signed, untrusted | Errored | `TLS error` … `UnknownIssuer` |
//! | TLS: certificate for another host (trusted CA) | Errored | `TLS error` … `not valid for name` |
//! | TLS: TCP accepted, handshake never completes | Errored | `timed out after 2s` |
//! | plain HTTP on an `https://` URL | Errored | `corrupt message` … `InvalidContentType` |
//! | a TLS server on an `http://` URL | Errored | `invalid HTTP response` … `invalid HTTP version parsed` |
//! | token endpoint answers 500 | Errored | `cannot obtain a token` … `status 500` … its body; no case request sent |
//! | binary: truncated JSON / no answer / garbage status | exit 4 / 3 / 3 | `reports/junit.xml` parses, 2 testcases, hostile's kind and message |
//!
//! Rows that first found harness bugs, fixed since (each test now passes):
//!
//! | row | outcome now |
//! |---|---|
//! | garbage status line on `GET /v1/certificates` | Errored `invalid HTTP response`, retried once (errors are judged by their causes, not the URL) |
//! | plain HTTP on an `https://` URL | Errored `TLS error` (`corrupt message` counts as TLS) |
//! | 100 MB token answer | Errored at the 64 KB token-answer cap |
//! | silent token endpoint, 2 cases | each errors within its step timeout, saying `timed out`; the failure is remembered for 5 s |

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conform::app::RunOptions;
use conform::error::exit;
use conform::report::human::{self, failure_detail, first_problem};
use conform::report::summary::{RunMeta, Summary};
use conform::report::{junit, markdown};
use conform::result::{CaseResult, Outcome, StepOutcome, Totals};
use conform::target::TargetChoice;
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::common::{Cert, GOOD_USER, Https, STATUS_SCHEMA, TempSuite, USER_SCHEMA, run_with};

// ---------------------------------------------------------------------------
// A raw TCP server that writes exactly the bytes a test chooses
// ---------------------------------------------------------------------------

/// The longest any server task lives; every sleep and loop below is cut here.
const MAX_LIFE: Duration = Duration::from_secs(15);

/// The hostile step's timeout (`timeout: 2s` in the case file).
const STEP_TIMEOUT: Duration = Duration::from_secs(2);

/// Upper bound of a whole run: the step timeout plus 3 s.
const RUN_BOUND: Duration = Duration::from_secs(STEP_TIMEOUT.as_secs() + 3);

type BoxFut = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;
type Handler = Arc<dyn Fn(Conn) -> BoxFut + Send + Sync>;

/// One accepted connection, handed to the test's closure.
struct Conn {
    s: TcpStream,
    /// Where request paths are logged.
    log: Arc<Mutex<Vec<String>>>,
}

impl Conn {
    /// Reads the next request head (a GET has no body) and logs its path;
    /// `None` when the client closed the connection or sent 64 KB of nonsense.
    async fn next_request(&mut self) -> io::Result<Option<String>> {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        // Byte by byte, so nothing of a following request is swallowed.
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() > 64 * 1024 || self.s.read(&mut byte).await? == 0 {
                return Ok(None);
            }
            head.push(byte[0]);
        }
        let line = String::from_utf8_lossy(&head);
        let path = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        self.log.lock().unwrap().push(path.clone());
        Ok(Some(path))
    }

    async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.s.write_all(bytes).await?;
        self.s.flush().await
    }

    /// Keeps the connection open without a word, until the server stops.
    async fn hold(&mut self) -> io::Result<()> {
        tokio::time::sleep(MAX_LIFE).await;
        Ok(())
    }
}

/// A TCP server on 127.0.0.1 running a closure per connection. Dropping it
/// aborts the accept loop, and with it (its `JoinSet`) every connection task.
struct Raw {
    addr: SocketAddr,
    /// Request paths read, in order.
    log: Arc<Mutex<Vec<String>>>,
    /// Connections accepted.
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Raw {
    /// Reads each request head first: `GET /healthy` gets a valid `200` User;
    /// any other path goes to `f`.
    async fn http<F, Fut>(f: F) -> Raw
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        Raw::start(true, Arc::new(move |c| Box::pin(f(c)) as BoxFut)).await
    }

    /// Hands every connection to `f` as accepted, before reading anything.
    async fn tcp<F, Fut>(f: F) -> Raw
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        Raw::start(false, Arc::new(move |c| Box::pin(f(c)) as BoxFut)).await
    }

    /// A server that only answers `/healthy` (anything else: `404`).
    async fn healthy() -> Raw {
        Raw::http(|mut c| async move { c.send(&response("404 Not Found", &[], b"")).await }).await
    }

    async fn start(read_head: bool, handler: Handler) -> Raw {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (log2, accepted2) = (log.clone(), accepted.clone());
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((s, _)) = listener.accept().await {
                accepted2.fetch_add(1, Ordering::SeqCst);
                let (h, log) = (handler.clone(), log2.clone());
                conns.spawn(async move {
                    let _ = tokio::time::timeout(MAX_LIFE, serve(s, read_head, h, log)).await;
                });
                while conns.try_join_next().is_some() {}
            }
        });
        Raw {
            addr,
            log,
            accepted,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// Requests seen for `path`.
    fn hits(&self, path: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }
}

async fn serve(
    s: TcpStream,
    read_head: bool,
    handler: Handler,
    log: Arc<Mutex<Vec<String>>>,
) -> io::Result<()> {
    let mut c = Conn { s, log };
    if read_head {
        let Some(path) = c.next_request().await? else {
            return Ok(());
        };
        if path == "/healthy" {
            return c.send(&healthy_response(true)).await;
        }
    }
    handler(c).await
}

/// The healthy answer: `200`, JSON, a valid `User`.
fn healthy_response(close: bool) -> Vec<u8> {
    response_with(
        "200 OK",
        &[("content-type", "application/json")],
        GOOD_USER.as_bytes(),
        close,
    )
}

/// A complete response: status line, the headers, `content-length`, `connection: close`, body.
fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    response_with(status, headers, body, true)
}

/// A complete response, with `connection: close` or kept alive.
fn response_with(status: &str, headers: &[(&str, &str)], body: &[u8], close: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n", body.len()));
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

// ---------------------------------------------------------------------------
// Running a row: the hostile case and a healthy one, in one run
// ---------------------------------------------------------------------------

/// Every hostile case asks for the same: a 200 JSON `User`.
const HOSTILE: &str = "  - name: hostile
    steps:
      - name: get
        request: { method: GET, path: /hostile, timeout: 2s }
        expect:
          status: 200
          headers: { Content-Type: application/json }
          schema: User
";

const HEALTHY: &str = "  - name: healthy
    steps:
      - name: get
        request: { method: GET, path: /healthy, timeout: 2s }
        expect:
          status: 200
          headers: { Content-Type: application/json }
          schema: User
";

/// Where the healthy case runs.
enum Layout<'a> {
    /// Beside the hostile case, in suite `t`, on the same server (`GET /healthy`).
    Same,
    /// In a second suite `h` of the same run, against this URL (when the
    /// hostile server cannot answer anything: TLS, a close on accept).
    Second(&'a str),
}

/// Writes the cases for `url` (and the second suite when asked for).
fn write_cases(url: &str, layout: &Layout<'_>) -> TempSuite {
    match layout {
        Layout::Same => TempSuite::new(url, &format!("cases:\n{HOSTILE}{HEALTHY}")),
        Layout::Second(healthy_url) => {
            let suite = TempSuite::new(url, &format!("cases:\n{HOSTILE}"));
            let root = suite.dir.path();
            std::fs::create_dir_all(root.join("cases/h")).unwrap();
            std::fs::create_dir_all(root.join("schemas/h")).unwrap();
            std::fs::write(
                root.join("cases/h/suite.yaml"),
                format!(
                    "name: h\nauth: {{ header: X-Key, env: TEST_KEY }}\ntargets:\n  srv: {{ url: \"{healthy_url}\" }}\n"
                ),
            )
            .unwrap();
            std::fs::write(root.join("cases/h/c.yaml"), format!("cases:\n{HEALTHY}")).unwrap();
            std::fs::write(root.join("schemas/h/User.json"), USER_SCHEMA).unwrap();
            std::fs::write(root.join("schemas/h/Status.json"), STATUS_SCHEMA).unwrap();
            suite
        }
    }
}

fn opts() -> RunOptions {
    RunOptions {
        target: TargetChoice::Named("srv".into()),
        timeout: Duration::from_secs(5),
        // One at a time: the healthy case runs on the same client after (or
        // before) the hostile one, never hidden by parallelism.
        jobs: 1,
        ..RunOptions::default()
    }
}

/// A finished run.
struct Ran {
    results: Vec<CaseResult>,
    elapsed: Duration,
}

async fn run_row(url: &str, layout: Layout<'_>) -> Ran {
    run_row_with(url, layout, opts()).await
}

async fn run_row_with(url: &str, layout: Layout<'_>, opts: RunOptions) -> Ran {
    let suite = write_cases(url, &layout);
    let started = Instant::now();
    let results = tokio::time::timeout(Duration::from_secs(30), run_with(&suite, opts))
        .await
        .expect("the run ends (it hung for 30 s)")
        .expect("the suite loads and runs");
    Ran {
        results,
        elapsed: started.elapsed(),
    }
}

impl Ran {
    fn case(&self, name: &str) -> &CaseResult {
        self.results
            .iter()
            .find(|r| r.id.name == name)
            .unwrap_or_else(|| panic!("no case `{name}`: {:#?}", self.results))
    }

    /// The row's verdict: the hostile case ends as `outcome` with `fragment` in its
    /// message, in time; the healthy case passed; every report is complete and
    /// valid; the exit code is as documented. Returns the hostile case.
    fn assert_row(&self, outcome: Outcome, fragment: &str) -> &CaseResult {
        assert_eq!(self.results.len(), 2, "{:#?}", self.results);
        let r = self.case("hostile");
        let detail = failure_detail(r);
        assert_eq!(r.outcome, outcome, "{detail}");
        let step = &r.steps[0];
        match (&outcome, &step.outcome) {
            (Outcome::Errored, StepOutcome::Errored(e)) => {
                assert!(e.contains(fragment), "{fragment:?} not in: {e}")
            }
            (Outcome::Failed, StepOutcome::Failed) => {}
            (_, other) => panic!("step outcome {other:?}: {detail}"),
        }
        let message = first_problem(r);
        assert!(message.contains(fragment), "{fragment:?} not in: {message}");
        assert!(
            self.elapsed < RUN_BOUND,
            "the run took {:?}: {detail}",
            self.elapsed
        );
        assert!(r.duration < RUN_BOUND, "{:?}", r.duration);

        let healthy = self.case("healthy");
        assert_eq!(
            healthy.outcome,
            Outcome::Passed,
            "{}",
            failure_detail(healthy)
        );

        let want_exit = if outcome == Outcome::Errored {
            exit::RUNTIME
        } else {
            exit::CONTRACT
        };
        assert_eq!(Totals::of(&self.results).exit_code(), want_exit);
        assert_eq!(want_exit, if outcome == Outcome::Errored { 3 } else { 4 });

        let xml = junit::render(&junit::build(&self.results)).expect("JUnit serialises");
        assert_junit(&xml, &outcome, fragment);
        assert_other_reports(&self.results);
        r
    }
}

/// The JUnit XML parses back, holds one testcase per case (the hostile one a
/// failure or error carrying the fragment), and no character XML 1.0 forbids.
fn assert_junit(xml: &str, outcome: &Outcome, fragment: &str) {
    assert!(
        !xml.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
        "a control character in the XML: {xml}"
    );
    let report = Report::deserialize_from_str(xml)
        .unwrap_or_else(|e| panic!("the JUnit XML does not parse: {e}\n{xml}"));
    let cases: Vec<_> = report
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .collect();
    assert_eq!(cases.len(), 2, "{xml}");
    assert_eq!(report.tests, 2, "{xml}");
    for tc in cases {
        match (tc.name.as_str(), &tc.status) {
            ("healthy", TestCaseStatus::Success { .. }) => {}
            (
                "hostile",
                TestCaseStatus::NonSuccess {
                    kind, message, ty, ..
                },
            ) => {
                let (want_kind, want_ty) = if *outcome == Outcome::Errored {
                    (NonSuccessKind::Error, "transport")
                } else {
                    (NonSuccessKind::Failure, "contract")
                };
                assert_eq!(*kind, want_kind, "{xml}");
                assert_eq!(ty.as_ref().map(|t| t.as_str()), Some(want_ty), "{xml}");
                let m = message.as_ref().map(|m| m.as_str()).unwrap_or_default();
                assert!(m.contains(fragment), "{fragment:?} not in {m:?}");
            }
            (name, status) => panic!("unexpected testcase {name}: {status:?}"),
        }
    }
    assert_eq!(report.errors + report.failures, 1, "{xml}");
}

/// The terminal summary, summary.json (round trip) and summary.md hold every case.
fn assert_other_reports(results: &[CaseResult]) {
    let text = human::summary(results, human::Style { color: false });
    assert!(
        text.trim_end().ends_with("1 passed, 1 failed"),
        "last line: {text}"
    );
    let meta = RunMeta {
        conform_version: "test".into(),
        target: "srv".into(),
        base_url: None,
        started_at: "2025-01-01T00:00:00Z".into(),
        git_commit: None,
        shard: None,
    };
    let summary = Summary::build(results, meta, None);
    let json = summary.to_json();
    let back = Summary::from_json(&json).expect("summary.json reads back");
    assert_eq!(back.cases.len(), 2);
    assert_eq!(back, summary);
    let md = markdown::render(&summary, None);
    assert!(md.contains("hostile"), "{md}");
}

// ---------------------------------------------------------------------------
// Rows: no answer, stalls, slow and endless bodies
// ---------------------------------------------------------------------------

#[tokio::test]
async fn no_answer_at_all_times_out() {
    let server = Raw::http(|mut c| async move { c.hold().await }).await;
    let ran = run_row(&server.url(), Layout::Same).await;
    ran.assert_row(Outcome::Errored, "timed out after 2s");
    assert_eq!(server.hits("/hostile"), 1, "a timeout is not retried");
}

#[tokio::test]
async fn headers_then_a_stalled_body_times_out() {
    let server = Raw::http(|mut c| async move {
        c.send(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n")
            .await?;
        c.hold().await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    ran.assert_row(Outcome::Errored, "timed out after 2s");
}

#[tokio::test]
async fn a_body_dripping_one_byte_a_second_times_out() {
    let server = Raw::http(|mut c| async move {
        let body = GOOD_USER.as_bytes();
        c.send(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await?;
        for b in body {
            c.send(&[*b]).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Ok(())
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    ran.assert_row(Outcome::Errored, "timed out after 2s");
}

#[tokio::test]
async fn a_100_mb_body_stops_at_the_cap() {
    const SIZE: usize = 100 * 1024 * 1024;
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = Raw::http(move |mut c| {
        let sent = counter.clone();
        async move {
            c.send(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {SIZE}\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
            let chunk = vec![b' '; 64 * 1024];
            while sent.load(Ordering::SeqCst) < SIZE {
                c.send(&chunk).await?;
                sent.fetch_add(chunk.len(), Ordering::SeqCst);
            }
            Ok(())
        }
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    assert_eq!(
        opts().client.max_body_bytes,
        10 * 1024 * 1024,
        "the default cap"
    );
    let r = ran.assert_row(Outcome::Failed, "body size");
    assert!(
        ran.elapsed < Duration::from_secs(3),
        "took {:?}",
        ran.elapsed
    );
    // Reading stopped at the cap: the client hung up long before 100 MB.
    assert!(
        sent.load(Ordering::SeqCst) < SIZE / 2,
        "{}",
        sent.load(Ordering::SeqCst)
    );
    // And nothing of the body is kept but a short preview.
    let preview = r.steps[0].body_preview().unwrap_or_default();
    assert!(preview.len() < 16 * 1024, "{}", preview.len());
    assert!(failure_detail(r).len() < 64 * 1024);
}

#[tokio::test]
async fn a_chunked_body_that_never_ends_stops_at_the_cap() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = Raw::http(move |mut c| {
        let sent = counter.clone();
        async move {
            c.send(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
                .await?;
            let mut chunk = b"4000\r\n".to_vec();
            chunk.extend_from_slice(&[b' '; 0x4000]);
            chunk.extend_from_slice(b"\r\n");
            let until = Instant::now() + MAX_LIFE;
            // Until the client hangs up (a write fails) or the bound.
            while Instant::now() < until {
                c.send(&chunk).await?;
                sent.fetch_add(0x4000, Ordering::SeqCst);
            }
            Ok(())
        }
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    // Fast chunks reach the 10 MB cap before the 2 s timeout: a contract failure.
    ran.assert_row(Outcome::Failed, "body size");
    // The client hung up: the server's writes fail soon after.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let now = sent.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sent.load(Ordering::SeqCst), now, "the server still streams");
}

#[tokio::test]
async fn a_slow_chunked_body_that_never_ends_times_out() {
    let server = Raw::http(|mut c| async move {
        c.send(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
            .await?;
        let until = Instant::now() + MAX_LIFE;
        while Instant::now() < until {
            c.send(b"1\r\n \r\n").await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    ran.assert_row(Outcome::Errored, "timed out after 2s");
}

// ---------------------------------------------------------------------------
// Rows: complete HTTP, broken contract
// ---------------------------------------------------------------------------

#[tokio::test]
async fn truncated_json_is_a_contract_failure() {
    let server = Raw::http(|mut c| async move {
        let body = &GOOD_USER.as_bytes()[..30];
        c.send(&response(
            "200 OK",
            &[("content-type", "application/json")],
            body,
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    ran.assert_row(Outcome::Failed, "not JSON");
    let msg = first_problem(ran.case("hostile"));
    assert!(msg.contains("schema `User`"), "{msg}");
}

#[tokio::test]
async fn invalid_utf8_is_a_contract_failure() {
    let server = Raw::http(|mut c| async move {
        let body = b"{\"id\":\"u1\",\"name\":\"Jo\xff\xfe\xc3\",\"status\":\"ACTIVE\",\"createdAt\":\"2022-03-29T10:22:22.420Z\"}";
        c.send(&response(
            "200 OK",
            &[("content-type", "application/json")],
            body,
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Failed, "not JSON");
    assert!(first_problem(r).contains("unicode"), "{}", first_problem(r));
}

#[tokio::test]
async fn control_bytes_and_xml_markup_in_a_body_keep_the_xml_valid() {
    let server = Raw::http(|mut c| async move {
        let body = b"\x00\x1b[31mboom\x07\x0c\x08 </failure>]]><![CDATA[ &amp; \"'";
        c.send(&response(
            "200 OK",
            &[("content-type", "application/json")],
            body,
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    // assert_row also finds no control character in the JUnit XML and parses it back.
    let r = ran.assert_row(Outcome::Failed, "not JSON");
    let detail = failure_detail(r);
    assert!(
        !detail.contains('\u{0}') && !detail.contains('\u{1b}') && !detail.contains('\u{7}'),
        "{detail:?}"
    );
    assert!(detail.contains("</failure>]]>"), "{detail}");
}

#[tokio::test]
async fn a_wrong_content_type_is_a_contract_failure() {
    let server = Raw::http(|mut c| async move {
        c.send(&response(
            "200 OK",
            &[("content-type", "text/html; charset=\"<&]]>\"")],
            GOOD_USER.as_bytes(),
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Failed, "header `Content-Type` equals");
    assert!(
        first_problem(r).contains("text/html"),
        "{}",
        first_problem(r)
    );
}

#[tokio::test]
async fn a_missing_content_type_is_a_contract_failure() {
    let server =
        Raw::http(
            |mut c| async move { c.send(&response("200 OK", &[], GOOD_USER.as_bytes())).await },
        )
        .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Failed, "header `Content-Type` equals");
    assert!(first_problem(r).contains("absent"), "{}", first_problem(r));
}

// ---------------------------------------------------------------------------
// Rows: broken HTTP
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_content_length_larger_than_the_body_is_a_transport_error() {
    let server = Raw::http(|mut c| async move {
        c.send(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{GOOD_USER}"
            )
            .as_bytes(),
        )
        .await
        // then the connection closes, 400-odd bytes short
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    let StepOutcome::Errored(e) = &r.steps[0].outcome else {
        unreachable!()
    };
    assert!(
        e.contains("end of file before message length reached"),
        "{e}"
    );
    assert_retried_once(r, &server);
}

#[tokio::test]
async fn a_connection_reset_mid_response_is_a_transport_error() {
    let server = Raw::http(|mut c| async move {
        c.send(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{}",
                &GOOD_USER[..20]
            )
            .as_bytes(),
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.s.set_zero_linger()?;
        drop(c); // RST
        Ok(())
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_step_error(r, "Connection reset by peer");
    assert_retried_once(r, &server);
}

#[tokio::test]
async fn a_close_without_a_byte_after_the_request_is_a_transport_error() {
    let server = Raw::http(|c| async move {
        drop(c);
        Ok(())
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_step_error(r, "connection closed before message completed");
    assert_retried_once(r, &server);
}

#[tokio::test]
async fn a_close_on_accept_is_a_transport_error() {
    let server = Raw::tcp(|c| async move {
        drop(c);
        Ok(())
    })
    .await;
    let healthy = Raw::healthy().await;
    let ran = run_row(&server.url(), Layout::Second(&healthy.url())).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_step_error(r, "connection closed before message completed");
    // The GET was tried twice (one transport retry), each on a new connection.
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_http_0_9_response_is_a_transport_error() {
    let server = Raw::http(|mut c| async move { c.send(GOOD_USER.as_bytes()).await }).await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_step_error(r, "invalid HTTP version parsed");
}

#[tokio::test]
async fn a_garbage_status_line_is_a_transport_error() {
    let server = Raw::http(|mut c| async move {
        c.send(b"HTTP/1.1 abc Banana\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_step_error(r, "invalid HTTP status-code parsed");
}

#[tokio::test]
async fn a_header_section_that_never_ends_is_a_transport_error() {
    let server = Raw::http(|mut c| async move {
        c.send(b"HTTP/1.1 200 OK\r\n").await?;
        let until = Instant::now() + MAX_LIFE;
        let mut i = 0u64;
        while Instant::now() < until {
            c.send(format!("x-junk-{i}: {}\r\n", "a".repeat(100)).as_bytes())
                .await?;
            i += 1;
        }
        Ok(())
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_step_error(r, "message head is too large");
}

#[tokio::test]
async fn a_101_switching_protocols_nobody_asked_for_is_a_contract_failure() {
    let server = Raw::http(|mut c| async move {
        c.send(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n")
            .await?;
        c.hold().await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    ran.assert_row(Outcome::Failed, "status: expected 200, got 101");
}

#[tokio::test]
async fn conflicting_content_lengths_are_a_transport_error() {
    let server = Raw::http(|mut c| async move {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{GOOD_USER}",
            GOOD_USER.len()
        );
        c.send(head.as_bytes()).await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_step_error(r, "invalid content-length");
}

#[tokio::test]
async fn a_malformed_chunk_size_is_a_transport_error() {
    let server = Raw::http(|mut c| async move {
        c.send(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n")
            .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_step_error(r, "chunk");
}

#[tokio::test]
async fn a_response_smuggled_after_the_body_does_not_reach_the_next_case() {
    // Keep-alive: one connection may carry several requests.
    let server = Raw::tcp(|mut c| async move {
        while let Some(path) = c.next_request().await? {
            if path == "/healthy" {
                c.send(&healthy_response(false)).await?;
            } else {
                // A 200 `{}` (not a User), then a whole second response nobody asked for.
                let mut bytes = response_with(
                    "200 OK",
                    &[("content-type", "application/json")],
                    b"{}",
                    false,
                );
                bytes.extend_from_slice(
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 17\r\n\r\n{\"smuggled\":true}",
                );
                c.send(&bytes).await?;
            }
        }
        Ok(())
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    // The healthy case (asserted passed) got its own answer, not the smuggled 500.
    ran.assert_row(Outcome::Failed, "schema `User`");
    assert_eq!(server.hits("/hostile"), 1);
    assert_eq!(server.hits("/healthy"), 1);
}

#[tokio::test]
async fn a_300_kb_header_value_keeps_the_junit_bounded() {
    let server = Raw::http(|mut c| async move {
        let big = format!("text/{}", "x".repeat(300 * 1024));
        c.send(&response(
            "200 OK",
            &[("content-type", &big)],
            GOOD_USER.as_bytes(),
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    ran.assert_row(Outcome::Failed, "header `Content-Type` equals");
    // JUnit texts are cut at 64 KB each (message and description).
    let xml = junit::render(&junit::build(&ran.results)).unwrap();
    assert!(xml.len() < 200 * 1024, "{} bytes of XML", xml.len());
    assert!(xml.contains("(cut at 65536 bytes)"));
}

#[tokio::test]
async fn a_non_utf8_header_value_is_a_contract_failure() {
    let server = Raw::http(|mut c| async move {
        let mut bytes =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/\xff\xfejson\r\nconnection: close\r\n"
                .to_vec();
        bytes.extend_from_slice(
            format!("content-length: {}\r\n\r\n{GOOD_USER}", GOOD_USER.len()).as_bytes(),
        );
        c.send(&bytes).await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Failed, "header `Content-Type` equals");
    assert!(
        first_problem(r).contains("application/\u{fffd}\u{fffd}json"),
        "{}",
        first_problem(r)
    );
}

#[tokio::test]
async fn json_nested_100_000_deep_is_a_contract_failure_not_a_stack_overflow() {
    let server = Raw::http(|mut c| async move {
        let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        c.send(&response(
            "200 OK",
            &[("content-type", "application/json")],
            body.as_bytes(),
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Failed, "not JSON");
    assert!(
        first_problem(r).contains("recursion limit"),
        "{}",
        first_problem(r)
    );
}

#[tokio::test]
async fn json_nested_just_under_the_parser_limit_is_checked_without_overflow() {
    let server = Raw::http(|mut c| async move {
        let body = format!("{}{}", "[".repeat(127), "]".repeat(127));
        c.send(&response(
            "200 OK",
            &[("content-type", "application/json")],
            body.as_bytes(),
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    ran.assert_row(
        Outcome::Failed,
        "schema `User`: expected a body valid against `User`",
    );
}

#[tokio::test]
async fn an_error_on_a_path_naming_certificates_is_still_an_http_error() {
    // The same garbage status line as above, on a path a custody API may well
    // have: the error must still say "invalid HTTP response" (and be retried
    // once), not "TLS error".
    let server = Raw::http(|mut c| async move {
        c.send(b"HTTP/1.1 abc Banana\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            .await
    })
    .await;
    let suite = TempSuite::new(
        &server.url(),
        &format!(
            "cases:\n{}{HEALTHY}",
            HOSTILE.replace("path: /hostile", "path: /v1/certificates")
        ),
    );
    let started = Instant::now();
    let results = run_with(&suite, opts()).await.unwrap();
    let ran = Ran {
        results,
        elapsed: started.elapsed(),
    };
    ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_eq!(server.hits("/v1/certificates"), 2, "retried once");
}

/// A server answering plain HTTP on the port of an `https://` URL.
async fn plain_http_server() -> Raw {
    Raw::tcp(|mut c| async move {
        let mut buf = [0u8; 1024];
        let _ = c.s.read(&mut buf).await?;
        c.send(&response(
            "200 OK",
            &[("content-type", "application/json")],
            GOOD_USER.as_bytes(),
        ))
        .await
    })
    .await
}

#[tokio::test]
async fn plain_http_on_an_https_url_is_a_transport_error() {
    let server = plain_http_server().await;
    let url = format!("https://127.0.0.1:{}", server.addr.port());
    let healthy = Raw::healthy().await;
    let ran = run_row(&url, Layout::Second(&healthy.url())).await;
    let r = ran.assert_row(Outcome::Errored, "corrupt message");
    assert_step_error(r, "InvalidContentType");
}

#[tokio::test]
async fn plain_http_on_an_https_url_is_named_a_tls_error() {
    let server = plain_http_server().await;
    let url = format!("https://127.0.0.1:{}", server.addr.port());
    let healthy = Raw::healthy().await;
    let ran = run_row(&url, Layout::Second(&healthy.url())).await;
    ran.assert_row(Outcome::Errored, "TLS error");
}

#[tokio::test]
async fn a_tls_server_on_an_http_url_is_a_transport_error() {
    let server = Https::start(Cert::SelfSigned);
    let url = format!("http://127.0.0.1:{}", server.addr.port());
    let healthy = Raw::healthy().await;
    let ran = run_row(&url, Layout::Second(&healthy.url())).await;
    let r = ran.assert_row(Outcome::Errored, "invalid HTTP response");
    assert_step_error(r, "invalid HTTP version parsed");
}

/// The hostile step's error contains `fragment`.
fn assert_step_error(r: &CaseResult, fragment: &str) {
    let StepOutcome::Errored(e) = &r.steps[0].outcome else {
        panic!("{:?}", r.steps[0].outcome)
    };
    assert!(e.contains(fragment), "{fragment:?} not in: {e}");
}

/// The step's notes show one transport retry, and the server saw the request twice.
fn assert_retried_once(r: &CaseResult, server: &Raw) {
    let notes = r.steps[0].notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("retried (GET is idempotent)"),
        "{notes:?}"
    );
    assert_eq!(server.hits("/hostile"), 2);
}

// ---------------------------------------------------------------------------
// Rows: redirects, 5xx, rate limits
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_redirect_loop_is_seen_not_followed() {
    let server = Raw::http(|mut c| async move {
        c.send(&response("302 Found", &[("location", "/hostile")], b""))
            .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Failed, "status");
    assert_eq!(r.steps[0].status, Some(302));
    assert!(first_problem(r).contains("got 302"), "{}", first_problem(r));
    assert_eq!(server.hits("/hostile"), 1, "the redirect was followed");
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let other = Raw::tcp(|c| async move {
        drop(c);
        Ok(())
    })
    .await;
    let location = format!("{}/stolen", other.url());
    let server = Raw::http(move |mut c| {
        let location = location.clone();
        async move {
            c.send(&response(
                "307 Temporary Redirect",
                &[("location", &location)],
                b"",
            ))
            .await
        }
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Failed, "status");
    assert!(first_problem(r).contains("got 307"), "{}", first_problem(r));
    assert_eq!(
        other.accepted.load(Ordering::SeqCst),
        0,
        "the other host was contacted"
    );
}

#[tokio::test]
async fn a_5xx_storm_without_retry_after_is_a_contract_failure_not_retried() {
    let server = Raw::http(|mut c| async move {
        c.send(&response(
            "503 Service Unavailable",
            &[("content-type", "application/json")],
            br#"{"error":"unavailable"}"#,
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Failed, "status");
    assert!(first_problem(r).contains("got 503"), "{}", first_problem(r));
    assert_eq!(server.hits("/hostile"), 1, "a bare 503 is not a rate limit");
    assert!(r.steps[0].notes().is_empty(), "{:?}", r.steps[0].notes());
}

#[tokio::test]
async fn a_503_with_retry_after_0_forever_is_rate_limited_after_3_retries() {
    let server = Raw::http(|mut c| async move {
        c.send(&response(
            "503 Service Unavailable",
            &[("retry-after", "0")],
            b"",
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "rate-limited");
    assert_eq!(server.hits("/hostile"), 4, "one request and 3 retries");
    assert_eq!(r.steps[0].notes().len(), 4, "{:?}", r.steps[0].notes());
}

#[tokio::test]
async fn a_429_with_an_absurd_retry_after_errors_at_once() {
    let server = Raw::http(|mut c| async move {
        c.send(&response(
            "429 Too Many Requests",
            &[("retry-after", "999999999999")],
            b"",
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "rate-limited");
    let StepOutcome::Errored(e) = &r.steps[0].outcome else {
        unreachable!()
    };
    assert!(e.contains("asked to wait"), "{e}");
    assert!(ran.elapsed < Duration::from_secs(2), "{:?}", ran.elapsed);
    assert_eq!(server.hits("/hostile"), 1);
}

#[tokio::test]
async fn a_420_with_a_retry_after_date_in_year_9999_errors_at_once() {
    let server = Raw::http(|mut c| async move {
        c.send(&response(
            "420 Enhance Your Calm",
            &[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")],
            b"",
        ))
        .await
    })
    .await;
    let ran = run_row(&server.url(), Layout::Same).await;
    let r = ran.assert_row(Outcome::Errored, "rate-limited");
    let StepOutcome::Errored(e) = &r.steps[0].outcome else {
        unreachable!()
    };
    assert!(e.contains("asked to wait"), "{e}");
    assert!(ran.elapsed < Duration::from_secs(2), "{:?}", ran.elapsed);
    assert_eq!(server.hits("/hostile"), 1);
}

// ---------------------------------------------------------------------------
// Rows: TLS
// ---------------------------------------------------------------------------

fn trusting(pem: &Path) -> RunOptions {
    let mut o = opts();
    o.client.ca_certs = vec![pem.to_path_buf()];
    o
}

#[tokio::test]
async fn an_expired_certificate_is_a_tls_error() {
    let server = Https::start(Cert::Expired);
    let healthy = Raw::healthy().await;
    let ran = run_row_with(
        &server.url(),
        Layout::Second(&healthy.url()),
        trusting(&server.pem),
    )
    .await;
    ran.assert_row(Outcome::Errored, "TLS error");
    ran.assert_row(Outcome::Errored, "certificate expired");
}

#[tokio::test]
async fn a_self_signed_certificate_is_a_tls_error() {
    let server = Https::start(Cert::SelfSigned);
    let healthy = Raw::healthy().await;
    let ran = run_row(&server.url(), Layout::Second(&healthy.url())).await;
    ran.assert_row(Outcome::Errored, "TLS error");
    ran.assert_row(Outcome::Errored, "UnknownIssuer");
}

#[tokio::test]
async fn a_certificate_for_another_host_is_a_tls_error() {
    let server = Https::start(Cert::WrongHost);
    let healthy = Raw::healthy().await;
    let ran = run_row_with(
        &server.url(),
        Layout::Second(&healthy.url()),
        trusting(&server.pem),
    )
    .await;
    ran.assert_row(Outcome::Errored, "TLS error");
    ran.assert_row(Outcome::Errored, "not valid for name");
}

#[tokio::test]
async fn a_tls_handshake_that_never_completes_times_out() {
    let server = Raw::tcp(|mut c| async move { c.hold().await }).await;
    let url = format!("https://127.0.0.1:{}", server.addr.port());
    let healthy = Raw::healthy().await;
    let ran = run_row(&url, Layout::Second(&healthy.url())).await;
    ran.assert_row(Outcome::Errored, "timed out after 2s");
}

// ---------------------------------------------------------------------------
// Rows: a hostile token endpoint (OAuth client-credentials flow)
// ---------------------------------------------------------------------------

/// Suite `t` (token flow, `POST /token` on `url`) with `n` hostile cases, and
/// suite `h` (static key) with the healthy case on `healthy_url`.
fn token_cases(url: &str, healthy_url: &str, n: usize) -> TempSuite {
    let mut cases = String::from("cases:\n");
    for i in 1..=n {
        let name = if i == 1 {
            "hostile".to_owned()
        } else {
            format!("hostile {i}")
        };
        cases.push_str(&HOSTILE.replace("name: hostile", &format!("name: {name}")));
    }
    let suite = write_cases(url, &Layout::Second(healthy_url));
    let root = suite.dir.path();
    std::fs::write(
        root.join("cases/t/suite.yaml"),
        format!(
            "name: t\nauth:\n  header: Authorization\n  env: T_KEY\n  token: {{ flow: oauth-client-credentials, path: /token, id_env: T_ID, secret_env: T_SECRET }}\ntargets:\n  srv: {{ url: \"{url}\" }}\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join("cases/t/c.yaml"), cases).unwrap();
    suite
}

/// Runs every suite with the token flow's id and secret (and `TEST_KEY` for `h`).
async fn run_token_row(suite: &TempSuite, guard: Duration) -> Ran {
    let env = |k: &str| match k {
        "TEST_KEY" => Some("test-secret".to_owned()),
        "T_ID" => Some("client-id".to_owned()),
        "T_SECRET" => Some("client-secret".to_owned()),
        _ => None,
    };
    let dir = suite.cases_dir();
    let sel = crate::common::select_all(&dir);
    let o = RunOptions { jobs: 2, ..opts() };
    let started = Instant::now();
    let run = conform::app::run(&dir, &sel, &o, &env, |_| {});
    let results = tokio::time::timeout(guard, run)
        .await
        .unwrap_or_else(|_| panic!("the run did not end within {guard:?}"))
        .expect("the suites load and run");
    Ran {
        results,
        elapsed: started.elapsed(),
    }
}

#[tokio::test]
async fn a_token_endpoint_answering_500_errors_the_case() {
    let server = Raw::http(|mut c| async move {
        c.send(&response(
            "500 Internal Server Error",
            &[("content-type", "text/plain")],
            b"token service down",
        ))
        .await
    })
    .await;
    let healthy = Raw::healthy().await;
    let suite = token_cases(&server.url(), &healthy.url(), 1);
    let ran = run_token_row(&suite, Duration::from_secs(30)).await;
    let r = ran.assert_row(Outcome::Errored, "cannot obtain a token");
    assert_step_error(r, "status 500");
    assert_step_error(r, "token service down");
    assert_eq!(server.hits("/hostile"), 0, "no request without a token");
}

#[tokio::test]

async fn a_100_mb_token_answer_stops_at_the_cap() {
    const SIZE: usize = 100 * 1024 * 1024;
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = Raw::http(move |mut c| {
        let sent = counter.clone();
        async move {
            c.send(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {SIZE}\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
            let chunk = vec![b' '; 64 * 1024];
            while sent.load(Ordering::SeqCst) < SIZE {
                c.send(&chunk).await?;
                sent.fetch_add(chunk.len(), Ordering::SeqCst);
            }
            Ok(())
        }
    })
    .await;
    let healthy = Raw::healthy().await;
    let suite = token_cases(&server.url(), &healthy.url(), 1);
    let ran = run_token_row(&suite, Duration::from_secs(60)).await;
    ran.assert_row(Outcome::Errored, "cannot obtain a token");
    assert!(
        sent.load(Ordering::SeqCst) < SIZE / 2,
        "the whole {} bytes were read",
        sent.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn a_silent_token_endpoint_errors_each_case_within_its_timeout() {
    let server = Raw::http(|mut c| async move { c.hold().await }).await;
    let healthy = Raw::healthy().await;
    let suite = token_cases(&server.url(), &healthy.url(), 2);
    let ran = run_token_row(&suite, Duration::from_secs(120)).await;
    assert!(
        ran.elapsed < RUN_BOUND,
        "two cases waiting on a silent token endpoint took {:?}",
        ran.elapsed
    );
    for r in ran.results.iter().filter(|r| &*r.id.suite == "t") {
        assert_eq!(r.outcome, Outcome::Errored, "{}", failure_detail(r));
        assert_step_error(r, "cannot obtain a token");
        assert_step_error(r, "timed out");
    }
}

// ---------------------------------------------------------------------------
// Through the binary: exit code and reports/junit.xml
// ---------------------------------------------------------------------------

/// Runs `conform run` in `dir` (output to files, killed after 30 s); the exit code.
fn conform_run(dir: &Path) -> Option<i32> {
    let out = std::fs::File::create(dir.join("stdout.txt")).unwrap();
    let err = std::fs::File::create(dir.join("stderr.txt")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["run", "--cases", "cases", "--target", "srv", "--jobs", "1"])
        .current_dir(dir)
        .env("TEST_KEY", "k-1234")
        .env("NO_COLOR", "1")
        .env_remove("CONFORM_CA_CERT")
        .env_remove("CONFORM_CONFIG")
        .env_remove("CONFORM_JUNIT")
        .env_remove("CONFORM_TIMEOUT")
        .env_remove("CONFORM_TARGET")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary did not end within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_three_hostile_rows_with_documented_exit_codes() {
    let truncated = Raw::http(|mut c| async move {
        c.send(&response(
            "200 OK",
            &[("content-type", "application/json")],
            &GOOD_USER.as_bytes()[..30],
        ))
        .await
    })
    .await;
    let silent = Raw::http(|mut c| async move { c.hold().await }).await;
    let garbage =
        Raw::http(|mut c| async move { c.send(b"HTTX/1.1 2OO OK\r\n\r\n{}").await }).await;
    let rows = [
        (truncated.url(), 4, NonSuccessKind::Failure, "not JSON"),
        (silent.url(), 3, NonSuccessKind::Error, "timed out after 2s"),
        (
            garbage.url(),
            3,
            NonSuccessKind::Error,
            "invalid HTTP response",
        ),
    ];
    for (url, code, kind, fragment) in rows {
        let suite = write_cases(&url, &Layout::Same);
        let dir = suite.dir.path().to_path_buf();
        let started = Instant::now();
        let got = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || conform_run(&dir)
        })
        .await
        .unwrap();
        let elapsed = started.elapsed();
        let stdout = std::fs::read_to_string(dir.join("stdout.txt")).unwrap();
        let stderr = std::fs::read_to_string(dir.join("stderr.txt")).unwrap();
        assert_eq!(got, Some(code), "{url}: {stdout}{stderr}");
        assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
        assert!(
            stdout.trim_end().ends_with("1 passed, 1 failed")
                || stdout.contains("1 passed, 1 failed"),
            "{stdout}"
        );
        let xml = std::fs::read_to_string(dir.join("reports/junit.xml"))
            .expect("reports/junit.xml exists");
        let report = Report::deserialize_from_str(&xml)
            .unwrap_or_else(|e| panic!("junit.xml does not parse: {e}\n{xml}"));
        let cases: Vec<_> = report
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .collect();
        assert_eq!(cases.len(), 2, "{xml}");
        let hostile = cases
            .iter()
            .find(|c| c.name.as_str() == "hostile")
            .expect("the hostile testcase");
        let TestCaseStatus::NonSuccess {
            kind: k, message, ..
        } = &hostile.status
        else {
            panic!("{xml}")
        };
        assert_eq!(*k, kind, "{xml}");
        assert!(
            message.as_ref().unwrap().as_str().contains(fragment),
            "{xml}"
        );
        let healthy = cases
            .iter()
            .find(|c| c.name.as_str() == "healthy")
            .expect("the healthy testcase");
        assert!(
            matches!(healthy.status, TestCaseStatus::Success { .. }),
            "{xml}"
        );
    }
}
