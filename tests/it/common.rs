//! Helpers: a throw-away suite on disk, pointed at a test server, and a way to run it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use conform::app::{self, RunOptions};
use conform::cli::{CasesArg, SelectArgs};
use conform::error::ExpectedError;
use conform::result::{CaseResult, StepOutcome};
use conform::target::TargetChoice;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A `User` schema for tests: id, name, status enum, createdAt date-time.
pub const USER_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["id", "name", "status", "createdAt"],
  "properties": {
    "id": {"type": "string"},
    "name": {"type": "string"},
    "status": {"$ref": "Status.json"},
    "createdAt": {"type": "string", "format": "date-time"}
  }
}"#;

/// The status enum the `User` schema refers to.
pub const STATUS_SCHEMA: &str = r#"{"type": "string", "enum": ["ACTIVE", "BLOCKED"]}"#;

/// A valid `User` body.
pub const GOOD_USER: &str =
    r#"{"id":"u1","name":"Joe","status":"ACTIVE","createdAt":"2022-03-29T10:22:22.420Z"}"#;

/// A suite `t` in a temp folder: `cases/t/suite.yaml` with target `srv` at `base_url`
/// (auth header `X-Key` from `$TEST_KEY`), the case file `cases/t/c.yaml`, and
/// schemas `User` and `Status` in `schemas/t/`.
pub struct TempSuite {
    pub dir: TempDir,
}

impl TempSuite {
    pub fn new(base_url: &str, cases_yaml: &str) -> TempSuite {
        let dir = tempfile::tempdir().expect("temp dir");
        let cases = dir.path().join("cases/t");
        let schemas = dir.path().join("schemas/t");
        std::fs::create_dir_all(&cases).unwrap();
        std::fs::create_dir_all(&schemas).unwrap();
        std::fs::write(
            cases.join("suite.yaml"),
            format!(
                "name: t\nauth: {{ header: X-Key, env: TEST_KEY }}\ntargets:\n  srv: {{ url: \"{base_url}\" }}\n"
            ),
        )
        .unwrap();
        std::fs::write(cases.join("c.yaml"), cases_yaml).unwrap();
        std::fs::write(schemas.join("User.json"), USER_SCHEMA).unwrap();
        std::fs::write(schemas.join("Status.json"), STATUS_SCHEMA).unwrap();
        TempSuite { dir }
    }

    /// `conform run` of this suite against its `srv` target, with `extra`
    /// arguments, its key set and colours off, to be spawned by the caller.
    pub fn conform_run(&self, extra: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_conform"));
        cmd.args(["run", "--cases", "cases", "--target", "srv"])
            .args(extra)
            .current_dir(self.dir.path())
            .env("TEST_KEY", "k")
            .env("NO_COLOR", "1");
        cmd
    }

    pub fn cases_dir(&self) -> PathBuf {
        self.dir.path().join("cases")
    }

    pub fn case_file(&self) -> PathBuf {
        self.dir.path().join("cases/t/c.yaml")
    }
}

/// Selection of every case under `dir`.
pub fn select_all(dir: &Path) -> SelectArgs {
    SelectArgs {
        cases: CasesArg {
            cases: dir.to_path_buf(),
        },
        suites: vec![],
        filter: None,
        tags: vec![],
    }
}

/// Runs every case of the temp suite against target `srv`, with `TEST_KEY=test-secret`.
pub async fn run_suite(suite: &TempSuite) -> Result<Vec<CaseResult>, ExpectedError> {
    run_with(
        suite,
        RunOptions {
            target: TargetChoice::Named("srv".into()),
            timeout: Duration::from_secs(5),
            ..RunOptions::default()
        },
    )
    .await
}

/// Runs with explicit options.
pub async fn run_with(
    suite: &TempSuite,
    opts: RunOptions,
) -> Result<Vec<CaseResult>, ExpectedError> {
    run_reporting(suite, opts, |_| {}).await
}

/// Runs with explicit options; `on_done` sees each result as the run reports it.
pub async fn run_reporting(
    suite: &TempSuite,
    opts: RunOptions,
    on_done: impl FnMut(&CaseResult),
) -> Result<Vec<CaseResult>, ExpectedError> {
    let env = |k: &str| (k == "TEST_KEY").then(|| "test-secret".to_owned());
    app::run(
        &suite.cases_dir(),
        &select_all(&suite.cases_dir()),
        &opts,
        &env,
        on_done,
    )
    .await
}

/// The first step that did not pass, with its failed checks' labels and texts.
pub fn first_bad_step(r: &CaseResult) -> (&conform::result::StepResult, String) {
    let s = r
        .steps
        .iter()
        .find(|s| !matches!(s.outcome, StepOutcome::Passed))
        .expect("a step that did not pass");
    let text = conform::report::human::failure_detail(r);
    (s, text)
}

// ---------------------------------------------------------------------------
// An HTTPS stand-in (tls.rs, hostile.rs): an rcgen certificate (self-signed, so
// trusting it as a CA trusts exactly it) served with tokio-rustls on 127.0.0.1;
// it reads one request head and answers `200 {}`.
// ---------------------------------------------------------------------------

/// Longest a connection of the HTTPS stand-in lives (the server: twice that).
pub const HTTPS_MAX_LIFE: Duration = Duration::from_secs(15);

/// Which certificate the stand-in serves.
#[derive(Debug, Clone, Copy)]
pub enum Cert {
    /// Valid now, for `localhost` and 127.0.0.1 (untrusted unless its PEM is given as a CA).
    SelfSigned,
    /// For `localhost` and 127.0.0.1, but expired in 2001.
    Expired,
    /// Valid now, but only for `other.invalid`.
    WrongHost,
}

/// An HTTPS server on 127.0.0.1, on its own thread and runtime (so a test may
/// block on the binary meanwhile). Dropping it stops it.
pub struct Https {
    pub addr: SocketAddr,
    /// The served certificate as PEM, in a temp file.
    pub pem: PathBuf,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Https {
    pub fn start(kind: Cert) -> Https {
        conform::exec::install_crypto();
        let names: Vec<String> = match kind {
            Cert::SelfSigned | Cert::Expired => vec!["localhost".into(), "127.0.0.1".into()],
            Cert::WrongHost => vec!["other.invalid".into()],
        };
        let mut params = rcgen::CertificateParams::new(names).expect("certificate params");
        if let Cert::Expired = kind {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let key = rcgen::KeyPair::generate().expect("key pair");
        let cert = params.self_signed(&key).expect("self-signed certificate");
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("ca.pem");
        std::fs::write(&pem, cert.pem()).unwrap();

        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        on_own_thread(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            // Bounded, so a test that leaks the server never leaks a thread for long.
            let deadline = tokio::time::sleep(HTTPS_MAX_LIFE * 2);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    _ = &mut deadline => break,
                    accepted = listener.accept() => {
                        let Ok((tcp, _)) = accepted else { continue };
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            // A refused handshake is the client's verdict; nothing to do.
                            let served = async {
                                if let Ok(mut tls) = acceptor.accept(tcp).await {
                                    let _ = serve_one(&mut tls).await;
                                }
                            };
                            let _ = tokio::time::timeout(HTTPS_MAX_LIFE, served).await;
                        });
                    }
                }
            }
        });
        Https {
            addr,
            pem,
            _dir: dir,
            stop: Some(tx),
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }
}

impl Drop for Https {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs `server` on a thread of its own with a one-thread runtime, so a test
/// may block its own thread (on the binary, or inside `on_done`) while the
/// server still answers.
pub fn on_own_thread(server: impl std::future::Future<Output = ()> + Send + 'static) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(server)
    });
}

/// Reads a request head (up to `\r\n\r\n`) and answers `200 {}`.
async fn serve_one<S: AsyncReadExt + AsyncWriteExt + Unpin>(s: &mut S) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    s.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    )
    .await?;
    s.flush().await?;
    s.shutdown().await
}
