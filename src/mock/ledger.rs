//! Ledger Enterprise API v1 API users: the state machine as plain functions
//! from (`ApiUsers`, faults, request data) to a reply (status, JSON body,
//! content type), and the axum routes that call them.
//!
//! Errors use the wider API's `{"message", "name", "status_code"}` body with
//! the messages the API users pages document ("user name does not exist",
//! "User already exists"). The store is capped with FIFO eviction because
//! the API has no delete endpoint (see `store.rs`).

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::faults::Fault;
use super::server::{Api, Reply};
use super::store::{MAX_ENTRIES, Store};

/// Name of the seeded API user, the docs' example.
pub const LEDGER_SEED_USER: &str = "api_lam_user";
/// Device id of the seeded API user, the docs' example.
pub const LEDGER_SEED_DEVICE_ID: &str = "1a24480566ce42c2";
/// The header that carries the API key.
pub const LEDGER_API_KEY_HEADER: &str = "X-Ledger-API-Key";

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

/// Whether `headers` carry the mock key in `X-Ledger-API-Key`.
pub(super) fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(LEDGER_API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == Api::LedgerEnterprise.api_key())
}

// ---------------------------------------------------------------- axum glue

#[derive(Clone)]
struct AppState {
    users: Arc<Mutex<ApiUsers>>,
    faults: Arc<[Fault]>,
}

impl AppState {
    /// Runs `f` under the lock; never held across an `.await`.
    fn with<R>(&self, f: impl FnOnce(&mut ApiUsers, &[Fault]) -> R) -> R {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut users, &self.faults)
    }
}

/// The API users routes with fresh seeded state, auth, and JSON 404/405.
pub(super) fn routes(faults: Arc<[Fault]>) -> Router {
    let state = AppState {
        users: Arc::new(Mutex::new(ApiUsers::seeded())),
        faults,
    };
    Router::new()
        .route("/api_users", get(h_list).post(h_create))
        .route("/api_users/{name}", get(h_get))
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "Method Not Allowed",
            )
        })
        .route_layer(middleware::from_fn_with_state(state.clone(), auth))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "NotFound", "Not Found") })
        .with_state(state)
}

async fn auth(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if s.faults.contains(&Fault::LedgerAuthNotEnforced) || authorized(req.headers()) {
        next.run(req).await
    } else {
        let message = format!("missing or invalid {LEDGER_API_KEY_HEADER} header");
        error(StatusCode::UNAUTHORIZED, "Unauthorized", message).into_response()
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
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            error(e.status(), "PayloadTooLarge", e.body_text())
        }
        Err(e) => error(e.status(), "BadRequest", e.body_text()),
    }
}

#[cfg(test)]
mod tests;
