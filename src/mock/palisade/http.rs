//! The axum glue for the Palisade routes (users and the token endpoint):
//! extraction, auth, rate limiting, locking, and rpcStatus answers for
//! rejections, unknown paths and methods.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;

use super::super::faults::Fault;
use super::super::server::{Reply, Setup};
use super::auth::{Credentials, authenticate, issue_token};
use super::body::{error, invalid};
use super::{
    PALISADE_TOKEN_PATH, PALISADE_TOKEN_TTL, Users, create_user, delete_mfa, delete_user,
    flaky_get, get_user, get_user_info, list_mfa, list_user_info, list_users, rate_limited,
    reset_password, unavailable, update_role, update_status, update_user,
};

#[derive(Clone)]
struct AppState {
    users: Arc<Mutex<Users>>,
    credentials: Arc<Mutex<Credentials>>,
    faults: Arc<[Fault]>,
    /// Requests to users endpoints so far, for `palisade-rate-limited`.
    requests: Arc<AtomicU64>,
}

impl AppState {
    /// Runs `f` under the lock; never held across an `.await`.
    fn with<R>(&self, f: impl FnOnce(&mut Users, &[Fault]) -> R) -> R {
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

type IdPath = Result<Path<String>, PathRejection>;
type Body = Result<Bytes, BytesRejection>;

/// Unwraps the extracted id and body or answers the rejection as rpcStatus.
fn inputs(id: IdPath, body: Option<Body>) -> Result<(String, Bytes), Reply> {
    let Path(id) = id.map_err(|e| invalid(format!("id: {}", e.body_text())))?;
    let body = match body {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return Err(error(e.status(), 3, e.body_text())),
        None => Bytes::new(),
    };
    Ok((id, body))
}

/// The users routes with fresh seeded state, auth and rate limiting, the
/// token endpoint, and rpcStatus 404/405.
pub(in super::super) fn routes(setup: Setup) -> Router {
    if setup.faults.contains(&Fault::PalisadeUnavailable) {
        return Router::new().fallback(|| async { unavailable(1) });
    }
    let ttl = setup.token_ttl.unwrap_or(PALISADE_TOKEN_TTL);
    let state = AppState {
        users: Arc::new(Mutex::new(Users::seeded())),
        credentials: Arc::new(Mutex::new(Credentials::new(ttl, setup.tokens_issued))),
        faults: setup.faults,
        requests: Arc::default(),
    };
    let token = Router::new()
        .route(PALISADE_TOKEN_PATH, post(h_token))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .route("/v2/users", get(h_list).post(h_create))
        .route("/v2/users/info", get(h_list_info))
        .route("/v2/users/{id}", get(h_get).put(h_update).delete(h_delete))
        .route("/v2/users/{id}/info", get(h_info))
        .route("/v2/users/{id}/role", put(h_role))
        .route("/v2/users/{id}/status", put(h_status))
        .route("/v2/users/{id}/password", post(h_password))
        .route("/v2/users/{id}/mfa", get(h_mfa).delete(h_delete_mfa))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(state.clone(), auth))
        // Added last, so it runs first: the limiter is in front of auth.
        .route_layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .merge(token)
        .fallback(|| async { error(StatusCode::NOT_FOUND, 5, "Not Found") })
        .with_state(state)
}

async fn method_not_allowed() -> Reply {
    error(StatusCode::METHOD_NOT_ALLOWED, 12, "Method Not Allowed")
}

async fn auth(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if s.faults.contains(&Fault::PalisadeAuthNotEnforced) {
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
    match rate_limited(&s.faults, n) {
        Some(reply) => reply.into_response(),
        None => next.run(req).await,
    }
}

async fn h_token(State(s): State<AppState>, body: Body) -> Reply {
    match body {
        Ok(body) => s.credentials(|c| issue_token(c, &body, Instant::now())),
        Err(e) => error(e.status(), 3, e.body_text()),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    role: Option<String>,
}

async fn h_list(State(s): State<AppState>, q: Result<Query<ListQuery>, QueryRejection>) -> Reply {
    match q {
        Ok(Query(q)) => s.with(|u, f| list_users(u, f, q.role.as_deref())),
        Err(e) => invalid(e.body_text()),
    }
}

async fn h_create(State(s): State<AppState>, body: Body) -> Reply {
    match body {
        Ok(body) => s.with(|u, f| create_user(u, f, &body)),
        Err(e) => error(e.status(), 3, e.body_text()),
    }
}

async fn h_list_info(State(s): State<AppState>) -> Reply {
    s.with(|u, _| list_user_info(u))
}

/// Defines a handler taking the `{id}` path (and a body when marked `body`).
macro_rules! id_handler {
    ($name:ident, |$u:ident, $f:ident, $id:ident| $call:expr) => {
        async fn $name(State(s): State<AppState>, id: IdPath) -> Reply {
            match inputs(id, None) {
                Ok(($id, _)) => s.with(|$u, $f| $call),
                Err(reply) => reply,
            }
        }
    };
    ($name:ident, body, |$u:ident, $f:ident, $id:ident, $body:ident| $call:expr) => {
        async fn $name(State(s): State<AppState>, id: IdPath, body: Body) -> Reply {
            match inputs(id, Some(body)) {
                Ok(($id, $body)) => s.with(|$u, $f| $call),
                Err(reply) => reply,
            }
        }
    };
}

id_handler!(h_get, |u, f, id| {
    flaky_get(u, f, &id).unwrap_or_else(|| get_user(u, f, &id))
});
id_handler!(h_info, |u, _f, id| get_user_info(u, &id));
id_handler!(h_delete, |u, f, id| delete_user(u, f, &id));
id_handler!(h_password, |u, _f, id| reset_password(u, &id));
id_handler!(h_mfa, |u, f, id| list_mfa(u, f, &id));
id_handler!(h_delete_mfa, |u, _f, id| delete_mfa(u, &id));
id_handler!(h_update, body, |u, f, id, b| update_user(u, f, &id, &b));
id_handler!(h_role, body, |u, f, id, b| update_role(u, f, &id, &b));
id_handler!(h_status, body, |u, f, id, b| update_status(u, f, &id, &b));
