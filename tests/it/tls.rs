//! TLS against an HTTPS stand-in on loopback: verification on by default,
//! extra CA certificates, expired and wrong-host certificates, `--insecure`,
//! and a server that never finishes the handshake.
//!
//! The stand-in serves a certificate made by rcgen (self-signed, so trusting
//! it as a CA trusts exactly it) with tokio-rustls on 127.0.0.1, reads one
//! request head and answers `200 {}`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use conform::app::RunOptions;
use conform::report::human::failure_detail;
use conform::result::{CaseResult, Outcome, StepOutcome};
use conform::target::TargetChoice;

use crate::common::{Cert, Https, TempSuite, run_with};

const ONE_GET: &str = "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: /thing }\n        expect: { status: 200 }\n";

fn opts() -> RunOptions {
    RunOptions {
        target: TargetChoice::Named("srv".into()),
        timeout: Duration::from_secs(5),
        ..RunOptions::default()
    }
}

/// Runs one GET of `/thing` against `url` with `opts`.
async fn run(url: &str, opts: RunOptions) -> CaseResult {
    let suite = TempSuite::new(url, ONE_GET);
    let mut results = run_with(&suite, opts).await.expect("the suite runs");
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn trusting(pem: &Path) -> RunOptions {
    let mut o = opts();
    o.client.ca_certs = vec![pem.to_path_buf()];
    o
}

/// Asserts an errored case whose message is about TLS or the certificate, and says `why`.
fn assert_tls_error(r: &CaseResult, why: &str) {
    assert_eq!(r.outcome, Outcome::Errored, "{}", failure_detail(r));
    let StepOutcome::Errored(e) = &r.steps[0].outcome else {
        panic!("{:?}", r.steps[0].outcome);
    };
    assert!(
        e.contains("TLS") || e.to_ascii_lowercase().contains("certificate"),
        "{e}"
    );
    assert!(e.contains(why), "{why:?} not in: {e}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error_by_default() {
    let server = Https::start(Cert::SelfSigned);
    assert_tls_error(&run(&server.url(), opts()).await, "UnknownIssuer");
}

#[tokio::test]
async fn a_trusted_ca_certificate_makes_it_pass() {
    let server = Https::start(Cert::SelfSigned);
    let r = run(&server.url(), trusting(&server.pem)).await;
    assert_eq!(r.outcome, Outcome::Passed, "{}", failure_detail(&r));
    // Also by name: `localhost` is in the certificate and resolves to loopback.
    let by_name = format!("https://localhost:{}", server.addr.port());
    let r = run(&by_name, trusting(&server.pem)).await;
    assert_eq!(r.outcome, Outcome::Passed, "{}", failure_detail(&r));
}

#[tokio::test]
async fn an_expired_certificate_fails_even_when_trusted() {
    let server = Https::start(Cert::Expired);
    assert_tls_error(
        &run(&server.url(), trusting(&server.pem)).await,
        "certificate expired",
    );
}

#[tokio::test]
async fn a_certificate_for_another_host_fails_even_when_trusted() {
    let server = Https::start(Cert::WrongHost);
    assert_tls_error(
        &run(&server.url(), trusting(&server.pem)).await,
        "not valid for name",
    );
}

#[tokio::test]
async fn insecure_accepts_an_untrusted_certificate() {
    let server = Https::start(Cert::Expired);
    let mut o = opts();
    o.client.insecure = true;
    let r = run(&server.url(), o).await;
    assert_eq!(r.outcome, Outcome::Passed, "{}", failure_detail(&r));
}

#[test]
fn the_binary_warns_loudly_about_insecure() {
    let server = Https::start(Cert::SelfSigned);
    let suite = TempSuite::new(&server.url(), ONE_GET);
    let o = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["run", "--cases", "cases", "--target", "srv", "--insecure"])
        .current_dir(suite.dir.path())
        .env("TEST_KEY", "k-1234")
        .env("NO_COLOR", "1")
        .env_remove("CONFORM_CA_CERT")
        .output()
        .expect("the binary runs");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        err.lines()
            .any(|l| l.contains("warning") && l.contains("insecure")),
        "{err}"
    );
}

#[tokio::test]
async fn a_handshake_that_never_finishes_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts connections and holds them open without a word.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let suite = TempSuite::new(
        &format!("https://127.0.0.1:{}", addr.port()),
        "cases:\n  - name: a\n    steps:\n      - request: { method: GET, path: /thing, timeout: 1s }\n        expect: { status: 200 }\n",
    );
    let started = Instant::now();
    let mut results = run_with(&suite, opts()).await.unwrap();
    let elapsed = started.elapsed();
    holder.abort();
    let r = results.remove(0);
    assert_eq!(r.outcome, Outcome::Errored, "{}", failure_detail(&r));
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let StepOutcome::Errored(e) = &r.steps[0].outcome else {
        unreachable!()
    };
    assert!(e.contains("timed out"), "{e}");
}
