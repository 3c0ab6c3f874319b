//! The HTTP client: reqwest with rustls (ring), one client per run, redirects
//! not followed (a 3xx is seen and checked), a connect timeout, a body cap.

use std::error::Error as _;
use std::time::{Duration, Instant};

use reqwest::redirect::Policy;

use super::exchange::{Exchange, RequestRecord, ResponseRecord};

/// Client settings for a run.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Largest response body read; a larger one is an error, not an out-of-memory.
    pub max_body_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Why a request got no usable response: a transport or runtime problem,
/// distinct from a contract failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// Nothing answered.
    #[error("connection failed: {0}")]
    Connect(String),
    /// No complete response in time.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The TLS handshake failed.
    #[error("TLS error: {0}")]
    Tls(String),
    /// The server did not speak valid HTTP, or the connection broke mid-response.
    #[error("invalid HTTP response: {0}")]
    Protocol(String),
    /// The body was larger than the cap.
    #[error("response body exceeds {0} bytes; not read further")]
    BodyTooLarge(usize),
    /// The request could not be built (bad URL, header).
    #[error("cannot build the request: {0}")]
    Request(String),
}

/// Installs rustls' ring provider once; reqwest is built without a provider.
fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Builds the run's one client.
pub fn build_client(opts: &ClientOptions) -> Result<reqwest::Client, String> {
    install_crypto();
    reqwest::Client::builder()
        .redirect(Policy::none())
        .connect_timeout(opts.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("conform/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", chain(&e)))
}

/// Sends one request and reads the whole response (up to the cap) within `timeout`.
pub async fn send(
    client: &reqwest::Client,
    record: RequestRecord,
    real_headers: Vec<(String, String)>,
    timeout: Duration,
    opts: &ClientOptions,
) -> (RequestRecord, Result<Exchange, ExecError>) {
    let method = match reqwest::Method::from_bytes(record.method.as_bytes()) {
        Ok(m) => m,
        Err(e) => return (record, Err(ExecError::Request(e.to_string()))),
    };
    let mut req = client.request(method, &record.url).timeout(timeout);
    for (k, v) in &real_headers {
        req = req.header(k, v);
    }
    if let Some(b) = &record.body {
        req = req.body(b.clone());
    }
    let started = Instant::now();
    let fut = async {
        let resp = req.send().await.map_err(|e| classify(&e, timeout))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, timeout))? {
            if body.len() + chunk.len() > opts.max_body_bytes {
                return Err(ExecError::BodyTooLarge(opts.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ResponseRecord::new(status, headers, body))
    };
    // reqwest's own timeout covers the body too; this is a second fence.
    let result = match tokio::time::timeout(timeout + Duration::from_millis(250), fut).await {
        Ok(r) => r,
        Err(_) => Err(ExecError::Timeout(timeout)),
    };
    let duration = started.elapsed();
    let out = result.map(|response| Exchange {
        request: record.clone(),
        response,
        duration,
    });
    (record, out)
}

fn classify(e: &reqwest::Error, timeout: Duration) -> ExecError {
    let text = chain(e);
    let lower = text.to_ascii_lowercase();
    if e.is_timeout() {
        ExecError::Timeout(timeout)
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        ExecError::Tls(text)
    } else if e.is_connect() {
        ExecError::Connect(text)
    } else if e.is_builder() {
        ExecError::Request(text)
    } else {
        ExecError::Protocol(text)
    }
}

/// An error and its causes, joined with ": ".
fn chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}
