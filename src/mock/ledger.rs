//! Ledger Enterprise API v1 API users: the state machine as plain functions
//! from (`ApiUsers`, faults, request data) to a reply (status, JSON body,
//! content type), and the axum routes that call them.
//!
//! Errors use the wider API's `{"message", "name", "status_code"}` body with
//! the messages the API users pages document ("user name does not exist",
//! "User already exists"). The store is capped with FIFO eviction because
//! the API has no delete endpoint (see `store.rs`).
//!
//! Auth: the API users endpoints take the static `X-Ledger-API-Key`
//! ([`Api::api_key`](super::Api::api_key)) or `Authorization: Bearer <access_token>` from the
//! token flow at [`LEDGER_TOKEN_PATH`] and [`LEDGER_REFRESH_PATH`] (see
//! `ledger/auth.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::faults::Fault;
use super::server::{Reply, Setup};
use super::store::{MAX_ENTRIES, Store};

use self::auth::{Credentials, authenticate, issue_token, refresh_token};

mod auth;

/// Name of the seeded API user, the docs' example.
pub const LEDGER_SEED_USER: &str = "api_lam_user";
/// Device id of the seeded API user, the docs' example.
pub const LEDGER_SEED_DEVICE_ID: &str = "1a24480566ce42c2";
/// The header that carries the API key.
pub const LEDGER_API_KEY_HEADER: &str = "X-Ledger-API-Key";
/// The token endpoint (`POST`, no auth): API key id and secret → tokens.
pub const LEDGER_TOKEN_PATH: &str = "/auth/token";
/// The refresh endpoint (`POST`, no auth): refresh token → a new pair.
pub const LEDGER_REFRESH_PATH: &str = "/auth/token/refresh";
/// The mock's API key id, the `api_key_id` its token endpoint accepts.
pub const LEDGER_API_KEY_ID: &str = "conform-mock-key-id";
/// The `api_key_secret` that goes with [`LEDGER_API_KEY_ID`]. It is not a
/// secret; it only lets cases exercise the token flow.
pub const LEDGER_API_KEY_SECRET: &str = "conform-mock-key-secret";
/// How long an access token lasts unless
/// [`MockConfig::token_ttl`](super::MockConfig::token_ttl) says otherwise:
/// five minutes, the documented example.
pub const LEDGER_TOKEN_TTL: Duration = Duration::from_secs(300);

/// Under `ledger-rate-limited`, every this-many-th API users request is a 420.
const RATE_LIMIT_EVERY: u64 = 3;

/// Longest valid name: the documented pattern is `^\w{1,20}$`.
const MAX_NAME_LEN: usize = 20;

/// One stored API user; role, type and workspace are the same for all.
#[derive(Debug, Clone)]
struct ApiUser {
    device_id: String,
    name: String,
}

/// The API users, capped (see `store.rs`).
#[derive(Debug)]
pub(super) struct ApiUsers {
    store: Store<ApiUser>,
}

impl ApiUsers {
    /// The state at start: the docs' example user `api_lam_user`.
    pub(super) fn seeded() -> ApiUsers {
        let mut users = ApiUsers {
            store: Store::new(MAX_ENTRIES),
        };
        let seed = ApiUser {
            device_id: LEDGER_SEED_DEVICE_ID.into(),
            name: LEDGER_SEED_USER.into(),
        };
        users.store.insert(seed.name.clone(), seed, true);
        users
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.store.len()
    }
}

/// An `ApiUser` body.
fn user_json(u: &ApiUser, faults: &[Fault]) -> Value {
    let mut m = Map::new();
    m.insert("device_id".into(), json!(u.device_id));
    m.insert("name".into(), json!(u.name));
    m.insert("role".into(), json!("OPERATOR"));
    m.insert("type_".into(), json!("SOFT_PSD"));
    if !faults.contains(&Fault::LedgerMissingField) {
        m.insert("workspace".into(), json!("crypstocks"));
    }
    Value::Object(m)
}

/// An error body `{"message", "name", "status_code"}`.
fn error(status: StatusCode, name: &str, message: impl Into<String>) -> Reply {
    let body = json!({
        "message": message.into(),
        "name": name,
        "status_code": status.as_u16(),
    });
    Reply::json(status, body)
}

fn bad_request(message: impl Into<String>) -> Reply {
    error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// Whether `name` matches `^\w{1,max}$` with ASCII `\w`.
fn name_matches(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `GET /api_users`: `{"api_users": [...]}` in creation order.
pub(super) fn list_users(users: &ApiUsers, faults: &[Fault]) -> Reply {
    let list: Vec<Value> = users.store.values().map(|u| user_json(u, faults)).collect();
    let body = if faults.contains(&Fault::LedgerListBareArray) {
        Value::Array(list)
    } else {
        json!({ "api_users": list })
    };
    Reply::json(StatusCode::OK, body)
}

/// `GET /api_users/{name}`.
pub(super) fn get_user(users: &ApiUsers, faults: &[Fault], name: &str) -> Reply {
    let found = users.store.get(name).or_else(|| {
        faults
            .contains(&Fault::LedgerUnknown200)
            .then(|| users.store.get(LEDGER_SEED_USER))
            .flatten()
    });
    match found {
        Some(u) => Reply::json(StatusCode::OK, user_json(u, faults)),
        None => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "user name does not exist",
        ),
    }
}

/// `POST /api_users` with `{"name"}`: a new OPERATOR with a random device id.
pub(super) fn create_user(users: &mut ApiUsers, faults: &[Fault], body: &[u8]) -> Reply {
    let name = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => match m.get("name") {
            Some(Value::String(name)) => name.clone(),
            Some(_) => return bad_request("name must be a string"),
            None => return bad_request("name is required"),
        },
        Ok(_) => return bad_request("request body must be a JSON object"),
        Err(e) => return bad_request(format!("malformed JSON body: {e}")),
    };
    let max_len = if faults.contains(&Fault::LedgerBoundaryOffByOne) {
        MAX_NAME_LEN - 1
    } else {
        MAX_NAME_LEN
    };
    if !faults.contains(&Fault::LedgerPatternNotEnforced) && !name_matches(&name, max_len) {
        return bad_request("name must match ^\\w{1,20}$");
    }
    if let Some(existing) = users.store.get(&name) {
        if faults.contains(&Fault::LedgerDuplicateAccepted) {
            return Reply::json(StatusCode::OK, user_json(existing, faults));
        }
        return bad_request("User already exists");
    }
    let user = ApiUser {
        device_id: format!("{:016x}", rand::random::<u64>()),
        name,
    };
    let body = user_json(&user, faults);
    if !faults.contains(&Fault::LedgerCreateNotPersisted) {
        users.store.insert(user.name.clone(), user, false);
    }
    Reply::json(StatusCode::OK, body)
}

/// Under `ledger-rate-limited`, the `n`th request to an API users endpoint
/// (counting from 1, authenticated or not: the limiter sits in front of
/// auth) answers status 420, as Ledger does (FACTS.md), when `n` is a
/// multiple of 3: `X-RateLimit-Limit: 2` (two requests per window),
/// `X-RateLimit-Remaining: 0`, `X-RateLimit-Reset` one second after `now` in
/// unix seconds, and `Retry-After: 1`.
pub(super) fn rate_limited(faults: &[Fault], n: u64, now: SystemTime) -> Option<Reply> {
    if !faults.contains(&Fault::LedgerRateLimited) || !n.is_multiple_of(RATE_LIMIT_EVERY) {
        return None;
    }
    let status = StatusCode::from_u16(420).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    let reset = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() + 1;
    let reply = error(
        status,
        "RateLimitExceeded",
        "rate limit exceeded, retry after 1 s",
    )
    .with_header(
        HeaderName::from_static("x-ratelimit-limit"),
        RATE_LIMIT_EVERY - 1,
    )
    .with_header(HeaderName::from_static("x-ratelimit-remaining"), 0u64)
    .with_header(HeaderName::from_static("x-ratelimit-reset"), reset)
    .with_header(header::RETRY_AFTER, 1u64);
    Some(reply)
}

// ---------------------------------------------------------------- axum glue

#[derive(Clone)]
struct AppState {
    users: Arc<Mutex<ApiUsers>>,
    credentials: Arc<Mutex<Credentials>>,
    faults: Arc<[Fault]>,
    /// Requests to API users endpoints so far, for `ledger-rate-limited`.
    requests: Arc<AtomicU64>,
}

impl AppState {
    /// Runs `f` under the lock; never held across an `.await`.
    fn with<R>(&self, f: impl FnOnce(&mut ApiUsers, &[Fault]) -> R) -> R {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut users, &self.faults)
    }

    /// Runs `f` on the credentials under their lock; never held across an `.await`.
    fn credentials<R>(&self, f: impl FnOnce(&mut Credentials) -> R) -> R {
        let mut creds = self
            .credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut creds)
    }
}

/// The API users routes with fresh seeded state, auth and rate limiting, the
/// token endpoints, and JSON 404/405.
pub(super) fn routes(setup: Setup) -> Router {
    let ttl = setup.token_ttl.unwrap_or(LEDGER_TOKEN_TTL);
    let state = AppState {
        users: Arc::new(Mutex::new(ApiUsers::seeded())),
        credentials: Arc::new(Mutex::new(Credentials::new(ttl, setup.tokens_issued))),
        faults: setup.faults,
        requests: Arc::default(),
    };
    let tokens = Router::new()
        .route(LEDGER_TOKEN_PATH, post(h_token))
        .route(LEDGER_REFRESH_PATH, post(h_refresh))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .route("/api_users", get(h_list).post(h_create))
        .route("/api_users/{name}", get(h_get))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(state.clone(), auth))
        // Added last, so it runs first: the limiter is in front of auth.
        .route_layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .merge(tokens)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "NotFound", "Not Found") })
        .with_state(state)
}

async fn method_not_allowed() -> Reply {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "Method Not Allowed",
    )
}

async fn auth(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if s.faults.contains(&Fault::LedgerAuthNotEnforced) {
        return next.run(req).await;
    }
    let now = Instant::now();
    match s.credentials(|c| authenticate(req.headers(), c, now)) {
        Ok(()) => next.run(req).await,
        Err(reply) => reply.into_response(),
    }
}

async fn rate_limit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let n = s.requests.fetch_add(1, Ordering::Relaxed) + 1;
    match rate_limited(&s.faults, n, SystemTime::now()) {
        Some(reply) => reply.into_response(),
        None => next.run(req).await,
    }
}

/// A body rejection (too large, unreadable) as a Ledger error.
fn rejected(e: BytesRejection) -> Reply {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        error(e.status(), "PayloadTooLarge", e.body_text())
    } else {
        error(e.status(), "BadRequest", e.body_text())
    }
}

async fn h_token(State(s): State<AppState>, body: Result<Bytes, BytesRejection>) -> Reply {
    match body {
        Ok(body) => s.credentials(|c| issue_token(c, &body, Instant::now())),
        Err(e) => rejected(e),
    }
}

async fn h_refresh(State(s): State<AppState>, body: Result<Bytes, BytesRejection>) -> Reply {
    match body {
        Ok(body) => s.credentials(|c| refresh_token(c, &body, Instant::now())),
        Err(e) => rejected(e),
    }
}

async fn h_list(State(s): State<AppState>) -> Reply {
    s.with(|u, f| list_users(u, f))
}

async fn h_get(State(s): State<AppState>, name: Result<Path<String>, PathRejection>) -> Reply {
    match name {
        Ok(Path(name)) => s.with(|u, f| get_user(u, f, &name)),
        Err(e) => bad_request(e.body_text()),
    }
}

async fn h_create(State(s): State<AppState>, body: Result<Bytes, BytesRejection>) -> Reply {
    match body {
        Ok(body) => s.with(|u, f| create_user(u, f, &body)),
        Err(e) => rejected(e),
    }
}

#[cfg(test)]
mod tests;
