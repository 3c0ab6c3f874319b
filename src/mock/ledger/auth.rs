//! Ledger auth: the API-key token flow and the check the API users endpoints
//! run on `X-Ledger-API-Key` / `Authorization`.
//!
//! `POST /auth/token` takes `{"api_key_id", "api_key_secret"}` without auth
//! and answers `{"access_token", "expires_in", "refresh_token",
//! "session_state", "token_type": "Bearer"}` (FACTS.md).
//! `POST /auth/token/refresh` takes `{"refresh_token"}` and answers a new
//! pair in the same session: the refresh token is single-use, so the old one
//! is then rejected, while the old access token keeps working until it
//! expires, as with most OAuth servers. Refresh tokens last a day (or the
//! access token lifetime, if longer). Wrong credentials or a used, expired
//! or unknown refresh token are a 401; a body without the fields is a 400.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use super::super::server::{Api, Reply};
use super::super::tokens::{Lookup, MAX_TOKENS, Tokens, whole_secs};
use super::{LEDGER_API_KEY_HEADER, LEDGER_API_KEY_ID, LEDGER_API_KEY_SECRET, bad_request, error};

/// The shortest refresh token lifetime.
const REFRESH_TTL: Duration = Duration::from_secs(24 * 3600);

/// The issued tokens and the server-wide issuance counter.
#[derive(Debug)]
pub(super) struct Credentials {
    access: Tokens,
    /// Refresh token → the `session_state` it continues.
    refresh: Tokens<String>,
    issued: Arc<AtomicU64>,
}

impl Credentials {
    /// No tokens yet; access tokens will last `ttl`; `issued` counts pairs.
    pub(super) fn new(ttl: Duration, issued: Arc<AtomicU64>) -> Credentials {
        Credentials {
            access: Tokens::new(ttl, MAX_TOKENS),
            refresh: Tokens::new(ttl.max(REFRESH_TTL), MAX_TOKENS),
            issued,
        }
    }

    #[cfg(test)]
    pub(super) fn live_tokens(&self) -> (usize, usize) {
        (self.access.len(), self.refresh.len())
    }

    /// Issues an access and a refresh token for `session` and answers them.
    fn grant(&mut self, session: String, now: Instant) -> Reply {
        let access = self.access.issue(now, ());
        let refresh = self.refresh.issue(now, session.clone());
        self.issued.fetch_add(1, Ordering::Relaxed);
        Reply::json(
            StatusCode::OK,
            json!({
                "access_token": access,
                "expires_in": whole_secs(self.access.ttl()),
                "refresh_token": refresh,
                "session_state": session,
                "token_type": "Bearer",
            }),
        )
    }
}

fn unauthorized(message: &str) -> Reply {
    error(StatusCode::UNAUTHORIZED, "Unauthorized", message)
}

/// The required string `fields` of a JSON object body, in order.
fn string_fields<const N: usize>(body: &[u8], fields: [&str; N]) -> Result<[String; N], Reply> {
    let m = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err(bad_request("request body must be a JSON object")),
        Err(e) => return Err(bad_request(format!("malformed JSON body: {e}"))),
    };
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (slot, field) in out.iter_mut().zip(fields) {
        *slot = match m.get(field) {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(bad_request(format!("{field} must be a string"))),
            None => return Err(bad_request(format!("{field} is required"))),
        };
    }
    Ok(out)
}

/// `POST /auth/token` with `{api_key_id, api_key_secret}`: a new session.
pub(super) fn issue_token(creds: &mut Credentials, body: &[u8], now: Instant) -> Reply {
    let [id, secret] = match string_fields(body, ["api_key_id", "api_key_secret"]) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    if id != LEDGER_API_KEY_ID || secret != LEDGER_API_KEY_SECRET {
        return unauthorized("invalid api_key_id or api_key_secret");
    }
    creds.grant(uuid::Uuid::new_v4().to_string(), now)
}

/// `POST /auth/token/refresh` with `{refresh_token}`: a new pair in the same
/// session; the refresh token presented is used up.
pub(super) fn refresh_token(creds: &mut Credentials, body: &[u8], now: Instant) -> Reply {
    let [token] = match string_fields(body, ["refresh_token"]) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    match creds.refresh.take(&token, now) {
        Lookup::Live(session) => creds.grant(session, now),
        Lookup::Expired => unauthorized("the refresh token has expired"),
        Lookup::Unknown => unauthorized("invalid refresh token"),
    }
}

/// Checks the static key in `X-Ledger-API-Key`, else
/// `Authorization: Bearer <access_token>` for a token not expired at `now`.
pub(super) fn authenticate(
    headers: &HeaderMap,
    creds: &Credentials,
    now: Instant,
) -> Result<(), Reply> {
    let key_ok = headers
        .get(LEDGER_API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == Api::LedgerEnterprise.api_key());
    if key_ok {
        return Ok(());
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match bearer.map(|token| creds.access.check(token, now)) {
        Some(Lookup::Live(())) => Ok(()),
        Some(Lookup::Expired) => Err(unauthorized("the access token has expired")),
        _ => Err(unauthorized(&format!(
            "missing or invalid {LEDGER_API_KEY_HEADER} header or bearer token"
        ))),
    }
}
