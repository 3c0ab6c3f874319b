//! Palisade request and response bodies: rpcStatus errors, `v2User` and
//! `v2UserInfo` rendering (where the body-shape faults apply), and request
//! field validation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::super::faults::Fault;
use super::super::server::Reply;
use super::{PALISADE_ORG_ID, ROLES, User};

pub(super) fn now() -> SystemTime {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    UNIX_EPOCH + Duration::new(d.as_secs(), d.subsec_millis() * 1_000_000)
}

/// A time strictly later than `prev` at millisecond resolution: now, or
/// `prev` + 1 ms if the clock has not moved on.
pub(super) fn later_than(prev: SystemTime) -> SystemTime {
    let now = now();
    if now > prev {
        now
    } else {
        prev.checked_add(Duration::from_millis(1)).unwrap_or(prev)
    }
}

pub(super) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// An `rpcStatus` error body.
pub(super) fn error(status: StatusCode, code: i32, message: impl Into<String>) -> Reply {
    let body = json!({
        "code": code,
        "message": message.into(),
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "PAL000.000",
                "domain": "palisade",
            },
            {
                "@type": "type.googleapis.com/google.rpc.RequestInfo",
                "requestId": uuid::Uuid::new_v4().to_string(),
            },
        ],
    });
    Reply::json(status, body)
}

pub(super) fn invalid(message: impl Into<String>) -> Reply {
    error(StatusCode::BAD_REQUEST, 3, message)
}

pub(super) fn not_found(id: &str) -> Reply {
    error(StatusCode::NOT_FOUND, 5, format!("user {id} not found"))
}

pub(super) fn unauthenticated() -> Reply {
    error(
        StatusCode::UNAUTHORIZED,
        16,
        "missing or invalid API key or access token in the Authorization header",
    )
}

/// A successful reply whose body carries users.
pub(super) fn user_reply(status: StatusCode, body: Value, faults: &[Fault]) -> Reply {
    let mut reply = Reply::json(status, body);
    if faults.contains(&Fault::PalisadeWrongContentType) {
        reply.content_type = "text/plain; charset=utf-8";
    }
    reply
}

/// A `v2User` body.
pub(super) fn user_json(u: &User, faults: &[Fault]) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(u.id));
    m.insert("organizationId".into(), json!(PALISADE_ORG_ID));
    m.insert("firstName".into(), json!(u.first_name));
    m.insert("lastName".into(), json!(u.last_name));
    m.insert("email".into(), json!(u.email));
    let roles = if faults.contains(&Fault::PalisadeUserWrongType) {
        json!(u.roles.join(","))
    } else {
        json!(u.roles)
    };
    m.insert("roles".into(), roles);
    m.insert("createdBy".into(), json!(u.created_by));
    let created_at = if faults.contains(&Fault::PalisadeUserBadDatetime) {
        "29/03/2022 10:22".to_owned()
    } else {
        rfc3339(u.created_at)
    };
    m.insert("createdAt".into(), json!(created_at));
    m.insert("updatedBy".into(), json!(u.updated_by));
    m.insert("updatedAt".into(), json!(rfc3339(u.updated_at)));
    let status = if faults.contains(&Fault::PalisadeUserBadEnum) {
        "ENABLED"
    } else {
        u.status.as_str()
    };
    m.insert("status".into(), json!(status));
    if let Some(v) = &u.blocked_by {
        m.insert("blockedBy".into(), json!(v));
    }
    if let Some(v) = &u.blocked_reason {
        m.insert("blockedReason".into(), json!(v));
    }
    if let Some(n) = u.auth_login_count {
        let n = if faults.contains(&Fault::PalisadeUserWrongType) {
            json!(n.to_string())
        } else {
            json!(n)
        };
        m.insert("authLoginCount".into(), n);
    }
    if let Some(t) = u.auth_last_login {
        m.insert("authLastLogin".into(), json!(rfc3339(t)));
    }
    if let Some(t) = u.auth_last_password_reset {
        m.insert("authLastPasswordReset".into(), json!(rfc3339(t)));
    }
    if let Some(v) = &u.auth_last_ip {
        m.insert("authLastIp".into(), json!(v));
    }
    Value::Object(m)
}

/// A `v2UserInfo` body.
pub(super) fn user_info_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "organizationId": PALISADE_ORG_ID,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "email": u.email,
    })
}

pub(super) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid("request body must be a JSON object")),
        Err(e) => Err(invalid(format!("malformed JSON body: {e}"))),
    }
}

/// A required, non-empty string field (proto3 cannot tell `""` from unset).
/// With `missing_ok`, an absent field reads as `""`.
pub(super) fn string_field(
    m: &Map<String, Value>,
    field: &str,
    missing_ok: bool,
) -> Result<String, Reply> {
    match m.get(field) {
        Some(Value::String(s)) if !s.is_empty() || missing_ok => Ok(s.clone()),
        None | Some(Value::Null) if missing_ok => Ok(String::new()),
        None | Some(Value::Null) => Err(invalid(format!("{field}: value is required"))),
        Some(Value::String(_)) => Err(invalid(format!("{field}: value must not be empty"))),
        Some(_) => Err(invalid(format!("{field}: value must be a string"))),
    }
}

/// A required, non-empty array of `v2Role` values. With `missing_ok` an
/// absent or empty array passes; with `any_value` unknown roles pass.
pub(super) fn roles_field(
    m: &Map<String, Value>,
    missing_ok: bool,
    any_value: bool,
) -> Result<Vec<String>, Reply> {
    let items = match m.get("roles") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) if missing_ok => return Ok(Vec::new()),
        None | Some(Value::Null) => return Err(invalid("roles: value is required")),
        Some(_) => return Err(invalid("roles: value must be an array of v2Role")),
    };
    if items.is_empty() && !missing_ok {
        return Err(invalid("roles: value must contain at least 1 item"));
    }
    let mut roles = Vec::with_capacity(items.len());
    for item in items {
        match item.as_str() {
            Some(r) if any_value || ROLES.contains(&r) => roles.push(r.to_owned()),
            _ => return Err(invalid(format!("roles: {item} is not a v2Role value"))),
        }
    }
    Ok(roles)
}
