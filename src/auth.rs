//! Credentials: a static key from the environment, or a token flow whose
//! tokens are fetched once, shared by every case of the run, and renewed
//! before they expire. Secrets never print: [`Secret`] redacts itself.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use url::Url;

use crate::plan::TokenFlow;
use crate::redact::REDACTED;

/// A secret whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Where a target's credential comes from.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A fixed key.
    Static(Secret),
    /// Tokens from a token endpoint.
    Token(std::sync::Arc<TokenManager>),
}

/// The credential a target's requests carry.
#[derive(Debug, Clone)]
pub struct ResolvedAuth {
    /// Header name.
    pub header: String,
    /// Prefix before the secret.
    pub prefix: String,
    /// The credential.
    pub credential: Credential,
    /// Where it came from, for `conform targets` and messages.
    pub source: String,
}

impl ResolvedAuth {
    /// The current secret (fetching or renewing a token when needed).
    pub async fn current(
        &self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<String, String> {
        match &self.credential {
            Credential::Static(s) => Ok(s.expose().to_owned()),
            Credential::Token(t) => t.token(client, timeout).await,
        }
    }

    /// The long-lived secrets behind this credential, for redaction.
    pub fn secrets(&self) -> Vec<String> {
        match &self.credential {
            Credential::Static(s) => vec![s.expose().to_owned()],
            Credential::Token(t) => vec![t.id.expose().to_owned(), t.secret.expose().to_owned()],
        }
    }
}

struct Token {
    access: String,
    refresh: Option<String>,
    expires_at: Instant,
    lifetime: Duration,
}

/// Fetches a token once and renews it before it expires; every case shares it.
pub struct TokenManager {
    flow: TokenFlow,
    token_url: Url,
    refresh_url: Option<Url>,
    id: Secret,
    secret: Secret,
    state: tokio::sync::Mutex<Option<Token>>,
    failed: tokio::sync::Mutex<Option<(Instant, String)>>,
    fetches: AtomicU64,
}

/// How long a failed token fetch answers for itself before the next attempt.
const FAILURE_MEMORY: Duration = Duration::from_secs(5);

/// Largest token answer read.
const MAX_TOKEN_BODY: usize = 64 * 1024;

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("flow", &self.flow)
            .field("token_url", &self.token_url.as_str())
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// How long before expiry a token is renewed: a fifth of its life, at most a minute.
fn margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(Duration::from_secs(60))
}

impl TokenManager {
    /// A manager for `flow` against `token_url`.
    pub fn new(
        flow: TokenFlow,
        token_url: Url,
        refresh_url: Option<Url>,
        id: Secret,
        secret: Secret,
    ) -> Self {
        TokenManager {
            flow,
            token_url,
            refresh_url,
            id,
            secret,
            state: tokio::sync::Mutex::new(None),
            failed: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times a token was fetched or refreshed.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A valid access token; concurrent callers wait for one fetch.
    pub async fn token(
        &self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<String, String> {
        // A failure is remembered briefly, so cases waiting on the lock do not
        // each wait out a dead token endpoint in turn.
        let mut failed = self.failed.lock().await;
        if let Some((at, e)) = failed.as_ref()
            && at.elapsed() < FAILURE_MEMORY
        {
            return Err(e.clone());
        }
        let result = self.token_inner(client, timeout).await;
        *failed = result.as_ref().err().map(|e| (Instant::now(), e.clone()));
        result
    }

    async fn token_inner(
        &self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<String, String> {
        let mut state = self.state.lock().await;
        if let Some(t) = state.as_ref()
            && Instant::now() + margin(t.lifetime) < t.expires_at
        {
            return Ok(t.access.clone());
        }
        let refreshed = match (
            self.flow,
            state.as_ref().and_then(|t| t.refresh.clone()),
            &self.refresh_url,
        ) {
            (TokenFlow::Ledger, Some(rt), Some(url)) => self
                .request(client, url, json!({ "refresh_token": rt }), timeout)
                .await
                .ok(),
            _ => None,
        };
        let token = match refreshed {
            Some(t) => t,
            None => {
                let body = match self.flow {
                    TokenFlow::OAuthClientCredentials => {
                        json!({ "clientId": self.id.expose(), "clientSecret": self.secret.expose() })
                    }
                    TokenFlow::Ledger => {
                        json!({ "api_key_id": self.id.expose(), "api_key_secret": self.secret.expose() })
                    }
                };
                self.request(client, &self.token_url, body, timeout).await?
            }
        };
        let access = token.access.clone();
        *state = Some(token);
        Ok(access)
    }

    async fn request(
        &self,
        client: &reqwest::Client,
        url: &Url,
        body: Value,
        timeout: Duration,
    ) -> Result<Token, String> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fail = |what: String| format!("cannot obtain a token from {url}: {what}");
        let resp = client
            .post(url.clone())
            .json(&body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| fail(describe(&e)))?;
        let status = resp.status();
        let mut resp = resp;
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| fail(describe(&e)))? {
            if bytes.len() + chunk.len() > MAX_TOKEN_BODY {
                return Err(fail(format!(
                    "the answer is larger than {MAX_TOKEN_BODY} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = crate::check::result::preview_bytes(&bytes[..bytes.len().min(512)]);
            let text = text
                .replace(self.secret.expose(), REDACTED)
                .replace(self.id.expose(), REDACTED);
            return Err(fail(format!("status {status}: {text}")));
        }
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| fail(format!("the answer is not JSON: {e}")))?;
        let (access_key, expires_key, refresh_key) = match self.flow {
            TokenFlow::OAuthClientCredentials => ("accessToken", "expiresIn", None),
            TokenFlow::Ledger => ("access_token", "expires_in", Some("refresh_token")),
        };
        let access = v
            .get(access_key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| fail(format!("the answer has no `{access_key}`")))?
            .to_owned();
        let secs = match v.get(expires_key) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.parse::<f64>().ok(),
            _ => None,
        }
        .filter(|s| *s > 0.0 && s.is_finite())
        .unwrap_or(300.0);
        let lifetime = Duration::from_secs_f64(secs.min(86_400.0));
        Ok(Token {
            access,
            refresh: refresh_key
                .and_then(|k| v.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned),
            expires_at: Instant::now() + lifetime,
            lifetime,
        })
    }
}

/// A reqwest error with its cause, saying "timed out" when it did.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    crate::exec::error_chain(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter22");
        assert_eq!(format!("{s} {s:?}"), "[REDACTED] [REDACTED]");
    }

    #[test]
    fn renewal_margin_is_a_fifth_capped_at_a_minute() {
        assert_eq!(margin(Duration::from_secs(1)), Duration::from_millis(200));
        assert_eq!(margin(Duration::from_secs(3600)), Duration::from_secs(60));
    }
}
