//! Palisade API 2.0 users: the state machine as plain functions from
//! (`Users`, faults, request data) to a reply (status, JSON body, content
//! type). Bodies are rendered and validated in `palisade/body.rs`; the axum
//! routes that call these functions are in `palisade/http.rs`.
//!
//! Conventions follow the reference pages and FACTS.md: grpc-gateway
//! `rpcStatus` errors (400 → code 3, 401 → 16, 404 → 5, 405 → 12), proto3-style
//! bodies that leave unset optional fields out, RFC 3339 times with
//! milliseconds. Requests are validated before the id is looked up, as a
//! validating gRPC interceptor would. The caller is always the seeded
//! administrator [`PALISADE_SEED_USER_ID`].
//!
//! Auth: the users endpoints take the static key
//! ([`Api::api_key`](super::Api::api_key), raw or as `Bearer <key>`) or
//! `Bearer <accessToken>`, a token from the OAuth 2.0 client-credentials
//! endpoint [`PALISADE_TOKEN_PATH`] (see `palisade/auth.rs`). The fault
//! switches for availability (429, 503) are at the end of this file.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use super::faults::Fault;
use super::server::Reply;
use super::store::{MAX_ENTRIES, Store};

use self::body::{
    error, invalid, later_than, not_found, now, parse_object, rfc3339, roles_field, string_field,
    user_info_json, user_json, user_reply,
};

mod auth;
mod body;
mod http;

pub(super) use self::http::routes;

/// Id of the seeded administrator, the docs' example id. Every write is made
/// by this user (`createdBy`, `updatedBy`, `blockedBy`).
pub const PALISADE_SEED_USER_ID: &str = "ce4918bf-a199-4ce2-85a3-d0d296855384";
/// The mock organization's id, the `organizationId` of every user.
pub const PALISADE_ORG_ID: &str = "6c3b8d2e-0b6a-4f4e-9a51-3f1e6d2c7a90";
/// The seeded administrator's email; creating another user with it is a 400.
pub const PALISADE_SEED_EMAIL: &str = "jbloggs@gmail.com";
/// The OAuth 2.0 client-credentials token endpoint (`POST`, no auth).
pub const PALISADE_TOKEN_PATH: &str = "/v2/credentials/oauth/token";
/// The mock's API credential: the `clientId` its token endpoint accepts.
pub const PALISADE_CLIENT_ID: &str = "conform-mock-client";
/// The `clientSecret` that goes with [`PALISADE_CLIENT_ID`]. It is not a
/// secret; it only lets cases exercise the token flow.
pub const PALISADE_CLIENT_SECRET: &str = "conform-mock-client-secret";
/// How long an access token lasts unless
/// [`MockConfig::token_ttl`](super::MockConfig::token_ttl) says otherwise:
/// one hour, as documented.
pub const PALISADE_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// Under `palisade-rate-limited`, every this-many-th users request is a 429.
const RATE_LIMIT_EVERY: u64 = 3;

/// The `v2Role` values.
const ROLES: [&str; 6] = [
    "ADMINISTRATOR",
    "APPROVER",
    "AUDITOR",
    "OWNER",
    "PROPOSER",
    "VIEWER",
];
/// The `v2UserStatus` values: the reference pages' ten plus the five that
/// newer descriptions add (FACTS.md).
const STATUSES: [&str; 15] = [
    "CREATED",
    "INVITED",
    "ACTIVATED",
    "BLOCKED",
    "REJECTED",
    "DELETED",
    "ERROR",
    "CREATION_APPROVAL_PENDING",
    "CREATION_APPROVAL_COMPLETE",
    "BLOCK_APPROVAL_PENDING",
    "BLOCK_APPROVAL_COMPLETE",
    "UNBLOCK_APPROVAL_PENDING",
    "UNBLOCK_APPROVAL_COMPLETE",
    "MODIFICATION_APPROVAL_PENDING",
    "MODIFICATION_APPROVAL_COMPLETE",
];
/// The docs' example time, 2022-03-29T10:22:22.420Z, used for the seed so
/// its body is the same on every run.
const SEED_TIME_MILLIS: u64 = 1_648_549_342_420;

/// One MFA authentication method.
#[derive(Debug, Clone)]
struct AuthMethod {
    id: String,
    kind: String,
    name: String,
    created_at: SystemTime,
    last_authed_at: SystemTime,
}

/// One stored user; `None` fields are left out of bodies.
#[derive(Debug, Clone)]
struct User {
    id: String,
    first_name: String,
    last_name: String,
    email: String,
    roles: Vec<String>,
    created_by: String,
    created_at: SystemTime,
    updated_by: String,
    updated_at: SystemTime,
    status: String,
    blocked_by: Option<String>,
    blocked_reason: Option<String>,
    auth_login_count: Option<i32>,
    auth_last_login: Option<SystemTime>,
    auth_last_password_reset: Option<SystemTime>,
    auth_last_ip: Option<String>,
    mfa: Vec<AuthMethod>,
}

/// The users of the mock organization, capped (see `store.rs`).
#[derive(Debug)]
pub(super) struct Users {
    store: Store<User>,
    /// Lower-cased email → id, so duplicate checks stay `O(1)`.
    emails: HashMap<String, String>,
    /// Under `palisade-flaky-get`, the ids already fetched once (capped too).
    fetched: Store<()>,
}

impl Users {
    /// The state at start: the seeded administrator "Joe Bloggs".
    pub(super) fn seeded() -> Users {
        let t = UNIX_EPOCH + Duration::from_millis(SEED_TIME_MILLIS);
        let seed = User {
            id: PALISADE_SEED_USER_ID.into(),
            first_name: "Joe".into(),
            last_name: "Bloggs".into(),
            email: PALISADE_SEED_EMAIL.into(),
            roles: vec!["ADMINISTRATOR".into()],
            created_by: PALISADE_SEED_USER_ID.into(),
            created_at: t,
            updated_by: PALISADE_SEED_USER_ID.into(),
            updated_at: t,
            status: "ACTIVATED".into(),
            blocked_by: None,
            blocked_reason: None,
            auth_login_count: Some(10),
            auth_last_login: Some(t),
            auth_last_password_reset: None,
            auth_last_ip: Some("192.168.0.1".into()),
            mfa: vec![AuthMethod {
                id: "webauthn-roaming|dev_o8x1jtp0FTt7b35V".into(),
                kind: "webauthn-roaming".into(),
                name: "My first key".into(),
                created_at: t,
                last_authed_at: t,
            }],
        };
        let mut users = Users {
            store: Store::new(MAX_ENTRIES),
            emails: HashMap::new(),
            fetched: Store::new(MAX_ENTRIES),
        };
        users.insert(seed, true);
        users
    }

    fn insert(&mut self, user: User, pinned: bool) {
        if !user.email.is_empty() {
            self.emails
                .insert(user.email.to_lowercase(), user.id.clone());
        }
        if let Some(evicted) = self.store.insert(user.id.clone(), user, pinned) {
            self.forget_email(&evicted);
        }
    }

    fn forget_email(&mut self, user: &User) {
        let key = user.email.to_lowercase();
        if self.emails.get(&key) == Some(&user.id) {
            self.emails.remove(&key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.store.len()
    }
}

/// `POST /v2/users`: create an INVITED user.
pub(super) fn create_user(users: &mut Users, faults: &[Fault], body: &[u8]) -> Reply {
    let missing_ok = faults.contains(&Fault::PalisadeMissingFieldAccepted);
    let any_role = faults.contains(&Fault::PalisadeInvalidRoleAccepted);
    let fields = parse_object(body).and_then(|m| {
        Ok((
            string_field(&m, "firstName", missing_ok)?,
            string_field(&m, "lastName", missing_ok)?,
            string_field(&m, "email", missing_ok)?,
            roles_field(&m, missing_ok, any_role)?,
        ))
    });
    let (first_name, last_name, email, roles) = match fields {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    if !email.is_empty() && users.emails.contains_key(&email.to_lowercase()) {
        return invalid(format!("email: a user with email {email} already exists"));
    }
    let t = now();
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        first_name,
        last_name,
        email,
        roles,
        created_by: PALISADE_SEED_USER_ID.into(),
        created_at: t,
        updated_by: PALISADE_SEED_USER_ID.into(),
        updated_at: t,
        status: "INVITED".into(),
        blocked_by: None,
        blocked_reason: None,
        auth_login_count: None,
        auth_last_login: None,
        auth_last_password_reset: None,
        auth_last_ip: None,
        mfa: Vec::new(),
    };
    let body = user_json(&user, faults);
    users.insert(user, false);
    let status = if faults.contains(&Fault::PalisadeCreate201) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    user_reply(status, body, faults)
}

/// `GET /v2/users?role=`: every user, or those holding `role`.
pub(super) fn list_users(users: &Users, faults: &[Fault], role: Option<&str>) -> Reply {
    let role = role.filter(|r| !r.is_empty());
    if let Some(r) = role.filter(|r| !ROLES.contains(r)) {
        return invalid(format!("role: {r:?} is not a v2Role value"));
    }
    let role = role.filter(|_| !faults.contains(&Fault::PalisadeRoleFilterIgnored));
    let list: Vec<Value> = users
        .store
        .values()
        .filter(|u| role.is_none_or(|r| u.roles.iter().any(|have| have == r)))
        .map(|u| user_json(u, faults))
        .collect();
    user_reply(StatusCode::OK, json!({ "users": list }), faults)
}

/// `GET /v2/users/info`.
pub(super) fn list_user_info(users: &Users) -> Reply {
    let list: Vec<Value> = users.store.values().map(user_info_json).collect();
    Reply::json(StatusCode::OK, json!({ "users": list }))
}

/// `GET /v2/users/{id}`.
pub(super) fn get_user(users: &Users, faults: &[Fault], id: &str) -> Reply {
    let found = users.store.get(id).or_else(|| {
        faults
            .contains(&Fault::PalisadeBenchAnyId)
            .then(|| users.store.get(PALISADE_SEED_USER_ID))
            .flatten()
    });
    let Some(user) = found else {
        if faults.contains(&Fault::PalisadeUnknownId200) {
            return Reply::json(StatusCode::OK, json!({}));
        }
        return not_found(id);
    };
    let mut body = user_json(user, faults);
    if let Some(m) = body
        .as_object_mut()
        .filter(|_| faults.contains(&Fault::PalisadeUserMissingRequired))
    {
        m.remove("email");
    }
    user_reply(StatusCode::OK, body, faults)
}

/// `GET /v2/users/{id}/info`.
pub(super) fn get_user_info(users: &Users, id: &str) -> Reply {
    match users.store.get(id) {
        Some(u) => Reply::json(StatusCode::OK, user_info_json(u)),
        None => not_found(id),
    }
}

/// Applies `change` to a copy of user `id`, bumps `updatedAt`, answers the
/// changed user and stores it only if `persist`.
fn modify(
    users: &mut Users,
    faults: &[Fault],
    id: &str,
    persist: bool,
    change: impl FnOnce(&mut User),
) -> Reply {
    let Some(stored) = users.store.get_mut(id) else {
        return not_found(id);
    };
    let mut user = stored.clone();
    change(&mut user);
    user.updated_by = PALISADE_SEED_USER_ID.into();
    if !faults.contains(&Fault::PalisadeUpdatedAtNotBumped) {
        user.updated_at = later_than(user.updated_at);
    }
    let body = user_json(&user, faults);
    if persist {
        *stored = user;
    }
    user_reply(StatusCode::OK, body, faults)
}

/// `PUT /v2/users/{id}` with `{firstName, lastName}`.
pub(super) fn update_user(users: &mut Users, faults: &[Fault], id: &str, body: &[u8]) -> Reply {
    let names = parse_object(body).and_then(|m| {
        Ok((
            string_field(&m, "firstName", false)?,
            string_field(&m, "lastName", false)?,
        ))
    });
    let (first, last) = match names {
        Ok(names) => names,
        Err(reply) => return reply,
    };
    let persist = !faults.contains(&Fault::PalisadeUpdateNotPersisted);
    modify(users, faults, id, persist, |u| {
        u.first_name = first;
        u.last_name = last;
    })
}

/// `PUT /v2/users/{id}/role` with `{roles}`.
pub(super) fn update_role(users: &mut Users, faults: &[Fault], id: &str, body: &[u8]) -> Reply {
    let roles = match parse_object(body).and_then(|m| roles_field(&m, false, false)) {
        Ok(roles) => roles,
        Err(reply) => return reply,
    };
    let persist = !faults.contains(&Fault::PalisadeRoleNotPersisted);
    modify(users, faults, id, persist, |u| u.roles = roles)
}

/// `PUT /v2/users/{id}/status` with `{status, reason?}`. Blocking records
/// `blockedBy` (the caller) and `blockedReason`; any other status clears them.
pub(super) fn update_status(users: &mut Users, faults: &[Fault], id: &str, body: &[u8]) -> Reply {
    let parsed = parse_object(body).and_then(|m| {
        let status = string_field(&m, "status", false)?;
        if !STATUSES.contains(&status.as_str()) {
            return Err(invalid(format!(
                "status: {status:?} is not a v2UserStatus value"
            )));
        }
        let reason = match m.get("reason") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
            Some(_) => return Err(invalid("reason: value must be a string")),
        };
        Ok((status, reason))
    });
    let (status, reason) = match parsed {
        Ok(parsed) => parsed,
        Err(reply) => return reply,
    };
    let persist = !faults.contains(&Fault::PalisadeStatusNotPersisted);
    let drop_reason = faults.contains(&Fault::PalisadeBlockedReasonDropped);
    modify(users, faults, id, persist, |u| {
        if status == "BLOCKED" {
            u.blocked_by = Some(PALISADE_SEED_USER_ID.into());
            u.blocked_reason = if drop_reason { None } else { reason };
        } else {
            u.blocked_by = None;
            u.blocked_reason = None;
        }
        u.status = status;
    })
}

/// `DELETE /v2/users/{id}`: answers `{}`.
pub(super) fn delete_user(users: &mut Users, faults: &[Fault], id: &str) -> Reply {
    if !users.store.contains(id) {
        return not_found(id);
    }
    if faults.contains(&Fault::PalisadeDeleteNotRemoved) {
        return Reply::json(StatusCode::OK, json!({}));
    }
    if let Some(user) = users.store.remove(id) {
        users.forget_email(&user);
    }
    Reply::json(StatusCode::OK, json!({}))
}

/// `POST /v2/users/{id}/password`: records `authLastPasswordReset`, answers `{}`.
pub(super) fn reset_password(users: &mut Users, id: &str) -> Reply {
    match users.store.get_mut(id) {
        Some(u) => {
            u.auth_last_password_reset = Some(now());
            Reply::json(StatusCode::OK, json!({}))
        }
        None => not_found(id),
    }
}

/// `GET /v2/users/{id}/mfa`: a JSON array of auth methods.
pub(super) fn list_mfa(users: &Users, faults: &[Fault], id: &str) -> Reply {
    let Some(u) = users.store.get(id) else {
        return not_found(id);
    };
    let methods: Vec<Value> = u
        .mfa
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "type": a.kind,
                "name": a.name,
                "createdAt": rfc3339(a.created_at),
                "lastAuthedAt": rfc3339(a.last_authed_at),
            })
        })
        .collect();
    let body = if faults.contains(&Fault::PalisadeMfaNotArray) {
        json!({ "methods": methods })
    } else {
        Value::Array(methods)
    };
    Reply::json(StatusCode::OK, body)
}

/// `DELETE /v2/users/{id}/mfa`: clears the auth methods, answers `{}`.
pub(super) fn delete_mfa(users: &mut Users, id: &str) -> Reply {
    match users.store.get_mut(id) {
        Some(u) => {
            u.mfa.clear();
            Reply::json(StatusCode::OK, json!({}))
        }
        None => not_found(id),
    }
}

// ------------------------------------------------- availability fault switches

/// A 503 UNAVAILABLE (code 14) telling the client to retry after `secs`.
pub(super) fn unavailable(secs: u64) -> Reply {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        14,
        "the service is temporarily unavailable",
    )
    .with_header(header::RETRY_AFTER, secs)
}

/// Under `palisade-rate-limited`, the `n`th request to a users endpoint
/// (counting from 1, authenticated or not: the limiter sits in front of auth,
/// as a gateway's does) answers 429 RESOURCE_EXHAUSTED (code 8) with
/// `Retry-After: 1` when `n` is a multiple of 3.
pub(super) fn rate_limited(faults: &[Fault], n: u64) -> Option<Reply> {
    if !faults.contains(&Fault::PalisadeRateLimited) || !n.is_multiple_of(RATE_LIMIT_EVERY) {
        return None;
    }
    let reply = error(
        StatusCode::TOO_MANY_REQUESTS,
        8,
        "rate limit exceeded, retry after 1 s",
    );
    Some(reply.with_header(header::RETRY_AFTER, 1u64))
}

/// Under `palisade-flaky-get`, the first `GET /v2/users/{id}` of each id
/// (known or not) answers 503 with `Retry-After: 0`; later ones are served.
pub(super) fn flaky_get(users: &mut Users, faults: &[Fault], id: &str) -> Option<Reply> {
    if !faults.contains(&Fault::PalisadeFlakyGet) || users.fetched.contains(id) {
        return None;
    }
    users.fetched.insert(id.to_owned(), (), false);
    Some(unavailable(0))
}

#[cfg(test)]
mod tests;
