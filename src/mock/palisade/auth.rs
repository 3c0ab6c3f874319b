//! Palisade auth: the OAuth 2.0 client-credentials token endpoint and the
//! check the users endpoints run on `Authorization`.
//!
//! The token endpoint takes `{"clientId", "clientSecret"}` without auth and
//! answers `{"accessToken", "scope", "expiresIn", "tokenType": "Bearer"}`
//! (FACTS.md). Wrong credentials are a 401 UNAUTHENTICATED rpcStatus; a body
//! without both fields is a 400 INVALID_ARGUMENT. The users endpoints then
//! take `Authorization: Bearer <accessToken>` until the token expires, and
//! the static key as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::json;

use super::super::server::{Api, Reply};
use super::super::tokens::{Lookup, MAX_TOKENS, Tokens, whole_secs};
use super::body::{error, parse_object, string_field, unauthenticated};
use super::{PALISADE_CLIENT_ID, PALISADE_CLIENT_SECRET};

/// The `scope` every token is granted: the users endpoints are all there is.
const SCOPE: &str = "users:read users:write";

/// The issued access tokens and the server-wide issuance counter.
#[derive(Debug)]
pub(super) struct Credentials {
    access: Tokens,
    issued: Arc<AtomicU64>,
}

impl Credentials {
    /// No tokens yet; each will last `ttl`; `issued` counts them.
    pub(super) fn new(ttl: Duration, issued: Arc<AtomicU64>) -> Credentials {
        Credentials {
            access: Tokens::new(ttl, MAX_TOKENS),
            issued,
        }
    }

    #[cfg(test)]
    pub(super) fn live_tokens(&self) -> usize {
        self.access.len()
    }
}

/// `POST /v2/credentials/oauth/token` with `{clientId, clientSecret}`.
pub(super) fn issue_token(creds: &mut Credentials, body: &[u8], now: Instant) -> Reply {
    let fields = parse_object(body).and_then(|m| {
        Ok((
            string_field(&m, "clientId", false)?,
            string_field(&m, "clientSecret", false)?,
        ))
    });
    let (id, secret) = match fields {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    if id != PALISADE_CLIENT_ID || secret != PALISADE_CLIENT_SECRET {
        return error(StatusCode::UNAUTHORIZED, 16, "invalid client credentials");
    }
    let token = creds.access.issue(now, ());
    creds.issued.fetch_add(1, Ordering::Relaxed);
    Reply::json(
        StatusCode::OK,
        json!({
            "accessToken": token,
            "scope": SCOPE,
            "expiresIn": whole_secs(creds.access.ttl()),
            "tokenType": "Bearer",
        }),
    )
}

/// Checks `Authorization`: the static key (raw or `Bearer <key>`) or
/// `Bearer <accessToken>` for a token that has not expired at `now`.
pub(super) fn authenticate(
    headers: &HeaderMap,
    creds: &Credentials,
    now: Instant,
) -> Result<(), Reply> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthenticated());
    };
    let value = value.trim();
    let (bearer, token) = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => (true, rest.trim()),
        _ => (false, value),
    };
    if token == Api::Palisade.api_key() {
        return Ok(());
    }
    match creds.access.check(token, now) {
        Lookup::Live(()) if bearer => Ok(()),
        Lookup::Expired if bearer => Err(error(
            StatusCode::UNAUTHORIZED,
            16,
            "the access token has expired",
        )),
        _ => Err(unauthenticated()),
    }
}
