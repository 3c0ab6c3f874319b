//! Serving the mock: which API, which faults, and the axum server on
//! 127.0.0.1 that runs on the caller's tokio runtime.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::faults::Fault;
use super::{ledger, palisade};

/// Largest request body the mock reads; larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One of the documented APIs the mock implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Api {
    /// Palisade API 2.0, users endpoints (`/v2/users…`).
    Palisade,
    /// Ledger Enterprise API v1, API users endpoints (`/api_users…`).
    LedgerEnterprise,
}

impl Api {
    /// Every API, in a stable order.
    pub fn all() -> &'static [Api] {
        &[Api::Palisade, Api::LedgerEnterprise]
    }

    /// The API's stable name: `palisade` or `ledger-enterprise`.
    pub fn name(&self) -> &'static str {
        match self {
            Api::Palisade => "palisade",
            Api::LedgerEnterprise => "ledger-enterprise",
        }
    }

    /// Looks an API up by its [`name`](Api::name).
    pub fn from_name(name: &str) -> Option<Api> {
        Api::all().iter().copied().find(|api| api.name() == name)
    }

    /// The fixed API key the mock accepts: sent as `Authorization: <key>` or
    /// `Authorization: Bearer <key>` to Palisade, as `X-Ledger-API-Key: <key>`
    /// to Ledger. It is not a secret; it only lets cases exercise auth.
    pub fn api_key(&self) -> &'static str {
        match self {
            Api::Palisade => "conform-mock-palisade-key",
            Api::LedgerEnterprise => "conform-mock-ledger-key",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to start a mock.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// Port on 127.0.0.1; `0` picks a free one.
    pub port: u16,
    /// Deliberate deviations to switch on; each must belong to the started API.
    pub faults: Vec<Fault>,
    /// How long an issued access token lasts; `None` means the documented
    /// lifetime ([`PALISADE_TOKEN_TTL`](super::PALISADE_TOKEN_TTL), one hour;
    /// [`LEDGER_TOKEN_TTL`](super::LEDGER_TOKEN_TTL), five minutes). Token
    /// renewal tests set about a second.
    pub token_ttl: Option<Duration>,
}

/// A running mock server. Dropping it shuts the server down gracefully (in
/// the background); [`MockServer::shutdown`] also waits for it to finish.
///
/// # Best practices
/// Start one mock per test: state (created users) is shared by every request
/// to one server, so tests sharing a server can see each other's writes.
#[derive(Debug)]
pub struct MockServer {
    api: Api,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    tokens_issued: Arc<AtomicU64>,
}

impl MockServer {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The API this server implements.
    pub fn api(&self) -> Api {
        self.api
    }

    /// How many access tokens this server has issued so far: one per
    /// successful answer of a token endpoint (Palisade
    /// `POST /v2/credentials/oauth/token`; Ledger `POST /auth/token` and
    /// `POST /auth/token/refresh`). Lets a test assert that a client fetched
    /// a token once and renewed it, rather than fetching one per request.
    pub fn tokens_issued(&self) -> u64 {
        self.tokens_issued.load(Ordering::Relaxed)
    }

    /// Stops accepting connections and waits until open ones are finished.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `127.0.0.1:config.port` and serves `api` on the current tokio
/// runtime until the returned [`MockServer`] is dropped or shut down.
///
/// Fails with [`io::ErrorKind::InvalidInput`] if a fault belongs to the other
/// API (most likely a typo in the caller's selection), and with the bind
/// error if the port is taken.
pub async fn start(api: Api, config: MockConfig) -> io::Result<MockServer> {
    if let Some(fault) = config.faults.iter().find(|f| f.api() != api) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "fault `{fault}` applies to the {} mock, not {api}",
                fault.api()
            ),
        ));
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
    let addr = listener.local_addr()?;
    let setup = Setup::new(api, &config.faults, config.token_ttl);
    let tokens_issued = Arc::clone(&setup.tokens_issued);
    let app = build(api, setup);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // `axum::serve` only returns once shut down; there is no one to report
        // an error to from here, and the caller sees a dead port anyway.
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(MockServer {
        api,
        addr,
        shutdown: Some(tx),
        task: Some(task),
        tokens_issued,
    })
}

/// The axum router for `api` with fresh (seeded) state and the documented
/// token lifetime; faults belonging to the other API are ignored. Useful to
/// drive the mock without a socket.
pub fn router(api: Api, faults: &[Fault]) -> Router {
    build(api, Setup::new(api, faults, None))
}

fn build(api: Api, setup: Setup) -> Router {
    let routes = match api {
        Api::Palisade => palisade::routes(setup),
        Api::LedgerEnterprise => ledger::routes(setup),
    };
    routes.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// What each API's routes are built from.
#[derive(Debug, Clone)]
pub(super) struct Setup {
    /// The faults that belong to this API.
    pub(super) faults: Arc<[Fault]>,
    /// The access token lifetime, or `None` for the API's documented one.
    pub(super) token_ttl: Option<Duration>,
    /// Counts issued access tokens; read by [`MockServer::tokens_issued`].
    pub(super) tokens_issued: Arc<AtomicU64>,
}

impl Setup {
    fn new(api: Api, faults: &[Fault], token_ttl: Option<Duration>) -> Setup {
        Setup {
            faults: faults.iter().copied().filter(|f| f.api() == api).collect(),
            token_ttl,
            tokens_issued: Arc::default(),
        }
    }
}

/// What a state-machine function answers: status, JSON body, content type.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reply {
    /// The HTTP status.
    pub(super) status: StatusCode,
    /// The JSON body.
    pub(super) body: Value,
    /// The `Content-Type` header; `application/json` unless a fault says otherwise.
    pub(super) content_type: &'static str,
    /// Further headers (`Retry-After`, rate-limit headers), in order.
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    /// A JSON reply.
    pub(super) fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body,
            content_type: "application/json",
            headers: Vec::new(),
        }
    }

    /// The reply with header `name: value` added.
    pub(super) fn with_header(mut self, name: HeaderName, value: impl Into<HeaderValue>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of header `name`, if the reply carries it.
    #[cfg(test)]
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.to_str().ok())
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, self.content_type)],
            self.body.to_string(),
        )
            .into_response();
        response.headers_mut().extend(self.headers);
        response
    }
}

/// A reqwest client for the HTTP tests. conform builds reqwest with
/// `rustls-no-provider`, so building any client (even for plain http) panics
/// unless a process-wide crypto provider is installed first.
#[cfg(test)]
pub(super) fn test_client() -> reqwest::Client {
    // Err only means another test installed it already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_round_trip() {
        for api in Api::all() {
            assert_eq!(Api::from_name(api.name()), Some(*api));
        }
        assert_eq!(Api::from_name("ledger"), None);
        assert_eq!(Api::LedgerEnterprise.to_string(), "ledger-enterprise");
        assert_eq!(Api::Palisade.api_key(), "conform-mock-palisade-key");
        assert_eq!(Api::LedgerEnterprise.api_key(), "conform-mock-ledger-key");
    }

    #[tokio::test]
    async fn start_rejects_a_fault_of_the_other_api() {
        let config = MockConfig {
            faults: vec![Fault::LedgerUnknown200],
            ..MockConfig::default()
        };
        let err = start(Api::Palisade, config).await.err();
        assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::InvalidInput));
    }

    #[tokio::test]
    async fn binds_a_free_port_and_shuts_down() {
        let server = start(Api::Palisade, MockConfig::default()).await;
        let server = server.expect("binding port 0 on 127.0.0.1 works");
        assert_ne!(server.addr().port(), 0);
        assert!(server.base_url().starts_with("http://127.0.0.1:"));
        assert_eq!(server.api(), Api::Palisade);
        assert_eq!(server.tokens_issued(), 0);
        let addr = server.addr();
        server.shutdown().await;
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
