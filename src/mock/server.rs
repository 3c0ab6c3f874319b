//! Serving the mock: which API, which faults, and the axum server on
//! 127.0.0.1 that runs on the caller's tokio runtime.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
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
    let app = router(api, &config.faults);
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
    })
}

/// The axum router for `api` with fresh (seeded) state; faults belonging to
/// the other API are ignored. Useful to drive the mock without a socket.
pub fn router(api: Api, faults: &[Fault]) -> Router {
    let faults: Arc<[Fault]> = faults.iter().copied().filter(|f| f.api() == api).collect();
    let routes = match api {
        Api::Palisade => palisade::routes(faults),
        Api::LedgerEnterprise => ledger::routes(faults),
    };
    routes.layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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
}

impl Reply {
    /// A JSON reply.
    pub(super) fn json(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body,
            content_type: "application/json",
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, self.content_type)],
            self.body.to_string(),
        )
            .into_response()
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
            port: 0,
            faults: vec![Fault::LedgerUnknown200],
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
        let addr = server.addr();
        server.shutdown().await;
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
