//! The HTTP client: reqwest with rustls (ring), one client per run, redirects
//! not followed (a 3xx is seen and checked), a connect timeout, a body cap,
//! bounded waits on rate limits, and retries of transport errors for
//! idempotent methods only.

use std::error::Error as _;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::redirect::Policy;

use super::exchange::{Exchange, RequestRecord, ResponseRecord};

/// Client settings for a run.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Largest response body read; a larger one is a contract failure, not an out-of-memory.
    pub max_body_bytes: usize,
    /// Extra CA certificates (PEM files) trusted besides the system roots.
    pub ca_certs: Vec<PathBuf>,
    /// Accept any certificate.
    pub insecure: bool,
    /// Retries of a rate-limited request (429, 420, or 503 with a retry header).
    pub rate_limit_retries: u32,
    /// Total time a step may spend waiting on rate limits.
    pub rate_limit_max_wait: Duration,
    /// Retries of a transport error, for idempotent methods only.
    pub transport_retries: u32,
    /// Every target is `http://` and no proxy is configured: the client skips
    /// loading the system's root certificates (a few milliseconds at start-up)
    /// and refuses any `https://` URL instead of trusting it.
    pub plain_http_only: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 10 * 1024 * 1024,
            ca_certs: Vec::new(),
            insecure: false,
            rate_limit_retries: 3,
            rate_limit_max_wait: Duration::from_secs(60),
            transport_retries: 1,
            plain_http_only: false,
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
    /// Still rate-limited after the allowed retries or wait.
    #[error("rate-limited: {0}")]
    RateLimited(String),
    /// The request could not be built (bad URL, header).
    #[error("cannot build the request: {0}")]
    Request(String),
    /// The run was interrupted while the request was in flight.
    #[error("interrupted (Ctrl-C or SIGTERM) while the request was in flight")]
    Interrupted,
}

/// Installs rustls' ring provider once; reqwest is built without a provider.
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Builds the run's one client. Proxies come from the standard environment
/// variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`).
pub fn build_client(opts: &ClientOptions) -> Result<reqwest::Client, String> {
    install_crypto();
    let mut certs = Vec::new();
    for path in &opts.ca_certs {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read CA certificate {}: {e}", path.display()))?;
        let found = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{} holds no PEM certificate: {e}", path.display()))?;
        if found.is_empty() {
            return Err(format!("{} holds no PEM certificate", path.display()));
        }
        certs.extend(found);
    }
    let mut b = reqwest::Client::builder()
        .redirect(Policy::none())
        .connect_timeout(opts.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("conform/", env!("CARGO_PKG_VERSION")));
    if !certs.is_empty() {
        b = b.tls_certs_merge(certs);
    }
    if opts.insecure {
        b = b.danger_accept_invalid_certs(true);
    }
    if opts.plain_http_only && opts.ca_certs.is_empty() && !opts.insecure {
        // No root store at all: an https URL, which no target has, fails its handshake.
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        b = b.tls_backend_preconfigured(config);
    }
    b.build()
        .map_err(|e| format!("cannot build the HTTP client: {}", error_chain(&e)))
}

/// True when none of `urls` is `https://` and no proxy variable is set, so
/// [`ClientOptions::plain_http_only`] can skip the root certificates.
pub fn plain_http_only<'a>(
    urls: impl IntoIterator<Item = &'a url::Url>,
    env: &dyn Fn(&str) -> Option<String>,
) -> bool {
    let proxied = [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|k| env(k).is_some_and(|v| !v.is_empty()));
    !proxied && urls.into_iter().all(|u| u.scheme() == "http")
}

/// Sends one request and reads the whole response (up to the cap) within `timeout`
/// per attempt, waiting on rate limits and retrying transport errors of idempotent
/// methods as `opts` allow. `notes` records every wait and retry.
pub async fn send(
    client: &reqwest::Client,
    record: &RequestRecord,
    url: &url::Url,
    real_headers: &[(String, String)],
    timeout: Duration,
    opts: &ClientOptions,
    notes: &mut Vec<String>,
) -> Result<Exchange, ExecError> {
    let idempotent = matches!(
        record.method.as_str(),
        "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS"
    );
    let mut waited = Duration::ZERO;
    let (mut limited, mut transport) = (0, 0);
    loop {
        let result = send_once(client, record, url, real_headers, timeout, opts).await;
        match result {
            Ok(ex) => {
                let status = ex.response.status;
                let Some(wait) = rate_limit_wait(&ex.response) else {
                    return Ok(ex);
                };
                if limited >= opts.rate_limit_retries || waited + wait > opts.rate_limit_max_wait {
                    let why = if limited >= opts.rate_limit_retries {
                        format!("status {status} after {} retries", limited)
                    } else {
                        format!(
                            "status {status}, asked to wait {} but only {} of the {} wait budget remain",
                            humantime::format_duration(wait),
                            humantime::format_duration(
                                opts.rate_limit_max_wait.saturating_sub(waited)
                            ),
                            humantime::format_duration(opts.rate_limit_max_wait)
                        )
                    };
                    notes.push(format!("gave up: {why}"));
                    return Err(ExecError::RateLimited(why));
                }
                limited += 1;
                notes.push(format!(
                    "status {status}: waited {} before retry {limited}",
                    humantime::format_duration(wait)
                ));
                tokio::time::sleep(wait).await;
                waited += wait;
            }
            Err(e @ (ExecError::Connect(_) | ExecError::Protocol(_)))
                if idempotent && transport < opts.transport_retries =>
            {
                transport += 1;
                notes.push(format!("{e}; retried ({} is idempotent)", record.method));
                tokio::time::sleep(Duration::from_millis(100 * (1 << transport.min(5)))).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// How long a rate-limited response asks to wait: 429 and Ledger's 420 always
/// (1 s when they say nothing), 503 only with `Retry-After` or `X-RateLimit-Reset`.
pub fn rate_limit_wait(r: &ResponseRecord) -> Option<Duration> {
    // Headers are only turned into text when read: not for every response.
    if !matches!(r.status, 429 | 420 | 503) {
        return None;
    }
    let told = r
        .header_all("retry-after")
        .next()
        .and_then(parse_retry_after)
        .or_else(|| {
            r.header_all("x-ratelimit-reset")
                .next()
                .and_then(parse_reset)
        });
    match r.status {
        429 | 420 => Some(told.unwrap_or(Duration::from_secs(1))),
        503 => told,
        _ => None,
    }
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = httpdate(v)?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// `X-RateLimit-Reset`: a Unix time when large, else seconds from now.
fn parse_reset(v: &str) -> Option<Duration> {
    let n = v
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| *n >= 0.0 && n.is_finite())?;
    if n > 1_000_000_000.0 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        Some(Duration::from_secs_f64((n - now).max(0.0)))
    } else {
        Some(Duration::from_secs_f64(n))
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate(v: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let [_, day, mon, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| x == mon)? + 1;
    let text = format!("{year}-{m:02}-{:0>2}T{time}Z", day);
    let (secs, _) = crate::check::jsonpath::parse_rfc3339(&text)?;
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

async fn send_once(
    client: &reqwest::Client,
    record: &RequestRecord,
    url: &url::Url,
    real_headers: &[(String, String)],
    timeout: Duration,
    opts: &ClientOptions,
) -> Result<Exchange, ExecError> {
    let method = reqwest::Method::from_bytes(record.method.as_bytes())
        .map_err(|e| ExecError::Request(e.to_string()))?;
    // The URL as parsed when the request was built (`record.url` is its text):
    // handing reqwest the text would parse it again for every request.
    let mut req = client.request(method, url.clone()).timeout(timeout);
    for (k, v) in real_headers {
        req = req.header(k, v);
    }
    if let Some(b) = &record.body {
        req = req.body(b.clone());
    }
    let started = Instant::now();
    let fut = async {
        let mut resp = req.send().await.map_err(|e| classify(&e, timeout))?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, timeout))? {
            if body.len() + chunk.len() > opts.max_body_bytes {
                body.extend_from_slice(&chunk[..opts.max_body_bytes - body.len()]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let mut r = ResponseRecord::from_http(status, headers, body);
        r.truncated = truncated;
        Ok(r)
    };
    // reqwest's own timeout covers the body too; this is a second fence.
    let response = match tokio::time::timeout(timeout + Duration::from_millis(250), fut).await {
        Ok(r) => r?,
        Err(_) => return Err(ExecError::Timeout(timeout)),
    };
    Ok(Exchange {
        response,
        duration: started.elapsed(),
    })
}

fn classify(e: &reqwest::Error, timeout: Duration) -> ExecError {
    let text = error_chain(e);
    // Judge by the causes only: the top-level message holds the URL, and a path
    // such as `/v1/certificates` must not turn a bad status line into a "TLS error".
    let mut causes = String::new();
    let mut src = e.source();
    while let Some(s) = src {
        causes.push_str(&s.to_string().to_ascii_lowercase());
        causes.push('\n');
        src = s.source();
    }
    let tls = [
        "certificate",
        "tls",
        "handshake",
        "corrupt message",
        "invalidcontenttype",
        "unknownissuer",
    ]
    .iter()
    .any(|k| causes.contains(k));
    if e.is_timeout() {
        ExecError::Timeout(timeout)
    } else if tls {
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
pub fn error_chain(e: &reqwest::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_certificates_are_skipped_only_for_plain_http_without_a_proxy() {
        let url = |u: &str| url::Url::parse(u).unwrap();
        let (mock, sandbox) = (url("http://127.0.0.1:4000/"), url("https://sandbox.test/"));
        let none = |_: &str| None;
        assert!(plain_http_only([&mock], &none));
        assert!(plain_http_only([], &none));
        assert!(!plain_http_only([&mock, &sandbox], &none));
        let proxied = |k: &str| (k == "https_proxy").then(|| "http://proxy:3128".to_owned());
        assert!(!plain_http_only([&mock], &proxied));
        let empty = |k: &str| (k == "HTTP_PROXY").then(String::new);
        assert!(plain_http_only([&mock], &empty));
        // Such a client still speaks plain HTTP; it only has no root to trust.
        let opts = ClientOptions {
            plain_http_only: true,
            ..ClientOptions::default()
        };
        assert!(build_client(&opts).is_ok());
    }

    fn resp(status: u16, headers: &[(&str, &str)]) -> ResponseRecord {
        ResponseRecord::new(
            status,
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            vec![],
        )
    }

    #[test]
    fn rate_limit_waits() {
        assert_eq!(
            rate_limit_wait(&resp(429, &[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            rate_limit_wait(&resp(420, &[])),
            Some(Duration::from_secs(1))
        );
        assert_eq!(rate_limit_wait(&resp(503, &[])), None);
        assert_eq!(
            rate_limit_wait(&resp(503, &[("retry-after", "0")])),
            Some(Duration::ZERO)
        );
        assert_eq!(rate_limit_wait(&resp(200, &[("retry-after", "5")])), None);
        let soon = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3)
        .to_string();
        let w = rate_limit_wait(&resp(420, &[("x-ratelimit-reset", &soon)])).unwrap();
        assert!(
            w <= Duration::from_secs(3) && w >= Duration::from_secs(1),
            "{w:?}"
        );
        assert_eq!(
            rate_limit_wait(&resp(
                429,
                &[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]
            )),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("1e30"),
            Some(Duration::from_secs(1_000_000_000))
        );
    }
}
