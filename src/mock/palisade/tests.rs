use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::super::server::{Api, MockConfig, MockServer, start, test_client};
use super::super::tokens::MAX_TOKENS;
use super::auth::{Credentials, authenticate, issue_token};
use super::*;

const SEED: &str = PALISADE_SEED_USER_ID;
const NONE: &[Fault] = &[];

fn new_user_body(email: &str) -> Vec<u8> {
    json!({"firstName": "Ada", "lastName": "Lovelace", "email": email, "roles": ["VIEWER"]})
        .to_string()
        .into_bytes()
}

/// Creates a user and returns its id.
fn create(users: &mut Users, email: &str) -> String {
    let reply = create_user(users, NONE, &new_user_body(email));
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["id"].as_str().unwrap_or_default().to_owned()
}

fn assert_rpc_error(reply: &Reply, status: u16, code: i64) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(reply.body["code"], code);
    assert!(reply.body["message"].is_string());
    let details = &reply.body["details"];
    assert_eq!(
        details[0]["@type"],
        "type.googleapis.com/google.rpc.ErrorInfo"
    );
    assert!(
        details[0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("PAL"))
    );
    assert_eq!(
        details[1]["@type"],
        "type.googleapis.com/google.rpc.RequestInfo"
    );
    let request_id = details[1]["requestId"].as_str().unwrap_or_default();
    assert!(uuid::Uuid::parse_str(request_id).is_ok());
}

#[test]
fn seed_user_matches_the_reference_example() {
    let users = Users::seeded();
    let reply = get_user(&users, NONE, SEED);
    assert_eq!(reply.status, StatusCode::OK);
    let u = &reply.body;
    assert_eq!(u["id"], SEED);
    assert_eq!(u["organizationId"], PALISADE_ORG_ID);
    assert_eq!(u["firstName"], "Joe");
    assert_eq!(u["lastName"], "Bloggs");
    assert_eq!(u["email"], "jbloggs@gmail.com");
    assert_eq!(u["roles"], json!(["ADMINISTRATOR"]));
    assert_eq!(u["status"], "ACTIVATED");
    assert_eq!(u["createdAt"], "2022-03-29T10:22:22.420Z");
    assert_eq!(u["createdBy"], SEED);
    assert_eq!(u["authLoginCount"], 10);
    assert!(u.get("blockedBy").is_none() && u.get("blockedReason").is_none());
    let mfa = list_mfa(&users, NONE, SEED).body;
    assert_eq!(mfa[0]["id"], "webauthn-roaming|dev_o8x1jtp0FTt7b35V");
    assert_eq!(mfa[0]["type"], "webauthn-roaming");
    assert_eq!(mfa[0]["name"], "My first key");
    let info = get_user_info(&users, SEED).body;
    let keys: Vec<&String> = info
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["id", "organizationId", "firstName", "lastName", "email"]
    );
}

#[test]
fn create_answers_an_invited_user_and_stores_it() {
    let mut users = Users::seeded();
    let reply = create_user(&mut users, NONE, &new_user_body("ada@example.com"));
    assert_eq!(reply.status, StatusCode::OK);
    let u = &reply.body;
    let id = u["id"].as_str().unwrap_or_default();
    assert_eq!(
        uuid::Uuid::parse_str(id).map(|u| u.get_version_num()),
        Ok(4)
    );
    assert_eq!(u["status"], "INVITED");
    assert_eq!(u["createdBy"], SEED);
    assert_eq!(u["updatedBy"], SEED);
    assert_eq!(u["createdAt"], u["updatedAt"]);
    assert!(humantime::parse_rfc3339(u["createdAt"].as_str().unwrap_or_default()).is_ok());
    assert!(
        u.get("authLoginCount").is_none(),
        "unset optionals are omitted"
    );
    assert_eq!(get_user(&users, NONE, id).body, reply.body);
    assert_eq!(list_mfa(&users, NONE, id).body, json!([]));
}

#[test]
fn create_rejects_invalid_bodies_with_400_code_3() {
    let mut users = Users::seeded();
    let bodies = [
        "not json",
        "[1]",
        r#"{"firstName":"A","lastName":"B","roles":["VIEWER"]}"#,
        r#"{"firstName":"A","lastName":"B","email":"","roles":["VIEWER"]}"#,
        r#"{"firstName":"A","lastName":"B","email":5,"roles":["VIEWER"]}"#,
        r#"{"firstName":"A","lastName":"B","email":"a@b.c","roles":[]}"#,
        r#"{"firstName":"A","lastName":"B","email":"a@b.c","roles":["GOD"]}"#,
        r#"{"firstName":"A","lastName":"B","email":"a@b.c","roles":"VIEWER"}"#,
        r#"{"firstName":"A","lastName":"B","email":"JBloggs@gmail.com","roles":["VIEWER"]}"#,
    ];
    for body in bodies {
        assert_rpc_error(&create_user(&mut users, NONE, body.as_bytes()), 400, 3);
    }
    assert_eq!(users.len(), 1);
}

#[test]
fn list_filters_by_role_and_rejects_unknown_roles() {
    let mut users = Users::seeded();
    create(&mut users, "v@example.com");
    let all = list_users(&users, NONE, None).body;
    assert_eq!(all["users"].as_array().map(Vec::len), Some(2));
    let admins = list_users(&users, NONE, Some("ADMINISTRATOR")).body;
    assert_eq!(admins["users"].as_array().map(Vec::len), Some(1));
    assert_eq!(admins["users"][0]["id"], SEED);
    let owners = list_users(&users, NONE, Some("OWNER")).body;
    assert_eq!(owners, json!({"users": []}));
    assert_rpc_error(&list_users(&users, NONE, Some("admin")), 400, 3);
    let info = list_user_info(&users).body;
    assert_eq!(info["users"][1]["email"], "v@example.com");
}

#[test]
fn updates_bump_updated_at_strictly_and_persist() {
    let mut users = Users::seeded();
    let id = create(&mut users, "u@example.com");
    let mut last = get_user(&users, NONE, &id).body["updatedAt"].clone();
    for _ in 0..3 {
        let body = br#"{"firstName":"Grace","lastName":"Hopper"}"#;
        let reply = update_user(&mut users, NONE, &id, body);
        assert_eq!(reply.status, StatusCode::OK);
        let at = reply.body["updatedAt"].clone();
        assert!(at.as_str() > last.as_str(), "{at} should be after {last}");
        last = at;
    }
    let u = get_user(&users, NONE, &id).body;
    assert_eq!(
        (u["firstName"].clone(), u["updatedAt"].clone()),
        (json!("Grace"), last)
    );
    let reply = update_role(&mut users, NONE, &id, br#"{"roles":["AUDITOR","OWNER"]}"#);
    assert_eq!(reply.body["roles"], json!(["AUDITOR", "OWNER"]));
    assert_eq!(
        get_user(&users, NONE, &id).body["roles"],
        json!(["AUDITOR", "OWNER"])
    );
    assert_rpc_error(
        &update_user(&mut users, NONE, &id, br#"{"firstName":"A"}"#),
        400,
        3,
    );
    assert_rpc_error(
        &update_role(&mut users, NONE, &id, br#"{"roles":["X"]}"#),
        400,
        3,
    );
}

#[test]
fn blocking_records_reason_and_unblocking_clears_it() {
    let mut users = Users::seeded();
    let id = create(&mut users, "b@example.com");
    let body = br#"{"status":"BLOCKED","reason":"Lost device"}"#;
    let u = update_status(&mut users, NONE, &id, body).body;
    assert_eq!(
        (u["status"].clone(), u["blockedReason"].clone()),
        (json!("BLOCKED"), json!("Lost device"))
    );
    assert_eq!(get_user(&users, NONE, &id).body["blockedBy"], SEED);
    let u = update_status(
        &mut users,
        NONE,
        &id,
        br#"{"status":"UNBLOCK_APPROVAL_PENDING"}"#,
    )
    .body;
    assert_eq!(u["status"], "UNBLOCK_APPROVAL_PENDING");
    assert!(u.get("blockedBy").is_none() && u.get("blockedReason").is_none());
    assert_rpc_error(
        &update_status(&mut users, NONE, &id, br#"{"status":"ENABLED"}"#),
        400,
        3,
    );
    assert_rpc_error(
        &update_status(&mut users, NONE, &id, br#"{"status":"BLOCKED","reason":1}"#),
        400,
        3,
    );
}

#[test]
fn delete_mfa_and_password_reset() {
    let mut users = Users::seeded();
    let id = create(&mut users, "d@example.com");
    assert_eq!(reset_password(&mut users, SEED).body, json!({}));
    assert!(get_user(&users, NONE, SEED).body["authLastPasswordReset"].is_string());
    assert_eq!(delete_mfa(&mut users, SEED).body, json!({}));
    assert_eq!(list_mfa(&users, NONE, SEED).body, json!([]));
    assert_eq!(delete_user(&mut users, NONE, &id).body, json!({}));
    assert_rpc_error(&get_user(&users, NONE, &id), 404, 5);
    // The email is free again once its user is gone.
    create(&mut users, "d@example.com");
}

#[test]
fn every_id_operation_answers_404_for_an_unknown_id() {
    let mut users = Users::seeded();
    let id = "00000000-0000-4000-8000-000000000000";
    let replies = [
        get_user(&users, NONE, id),
        get_user_info(&users, id),
        list_mfa(&users, NONE, id),
        update_user(&mut users, NONE, id, br#"{"firstName":"A","lastName":"B"}"#),
        update_role(&mut users, NONE, id, br#"{"roles":["VIEWER"]}"#),
        update_status(&mut users, NONE, id, br#"{"status":"BLOCKED"}"#),
        reset_password(&mut users, id),
        delete_mfa(&mut users, id),
        delete_user(&mut users, NONE, id),
    ];
    for reply in &replies {
        assert_rpc_error(reply, 404, 5);
    }
}

#[test]
fn user_count_is_capped_and_the_seed_survives() {
    let mut users = Users::seeded();
    for i in 0..MAX_ENTRIES + 5 {
        create(&mut users, &format!("user{i}@example.com"));
    }
    assert_eq!(users.len(), MAX_ENTRIES);
    assert_eq!(get_user(&users, NONE, SEED).status, StatusCode::OK);
    assert!(users.emails.len() <= MAX_ENTRIES);
    // The oldest created user was evicted, so its email can be used again.
    create(&mut users, "user0@example.com");
}

fn headers(authorization: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(v) = authorization {
        headers.insert(
            header::AUTHORIZATION,
            v.parse().expect("test header is valid"),
        );
    }
    headers
}

fn credentials(ttl: Duration) -> Credentials {
    Credentials::new(ttl, Arc::default())
}

fn client_body(id: &str, secret: &str) -> Vec<u8> {
    json!({ "clientId": id, "clientSecret": secret })
        .to_string()
        .into_bytes()
}

/// Issues a token with the mock credentials and returns it.
fn token(creds: &mut Credentials, now: Instant) -> String {
    let body = client_body(PALISADE_CLIENT_ID, PALISADE_CLIENT_SECRET);
    let reply = issue_token(creds, &body, now);
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn authenticate_accepts_the_static_key_raw_or_bearer() {
    let creds = credentials(PALISADE_TOKEN_TTL);
    let now = Instant::now();
    let check = |value: Option<&str>| authenticate(&headers(value), &creds, now).is_ok();
    assert!(check(Some("conform-mock-palisade-key")));
    assert!(check(Some("Bearer conform-mock-palisade-key")));
    assert!(check(Some("bearer conform-mock-palisade-key")));
    assert!(!check(Some("Bearer wrong")));
    assert!(!check(Some("Basic conform-mock-palisade-key")));
    assert!(!check(None));
    let err = authenticate(&headers(None), &creds, now).err();
    assert_rpc_error(&err.expect("no header is a 401"), 401, 16);
}

#[test]
fn token_endpoint_answers_the_documented_shape_and_counts() {
    let issued = Arc::new(AtomicU64::new(0));
    let mut creds = Credentials::new(PALISADE_TOKEN_TTL, Arc::clone(&issued));
    let body = client_body(PALISADE_CLIENT_ID, PALISADE_CLIENT_SECRET);
    let reply = issue_token(&mut creds, &body, Instant::now());
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type, "application/json");
    let keys: Vec<&String> = reply
        .body
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["accessToken", "scope", "expiresIn", "tokenType"]);
    assert_eq!(reply.body["expiresIn"], 3600);
    assert_eq!(reply.body["tokenType"], "Bearer");
    assert!(reply.body["scope"].is_string());
    assert_eq!(reply.body["accessToken"].as_str().map(str::len), Some(64));
    assert_eq!(issued.load(Ordering::Relaxed), 1);
    let again = issue_token(&mut creds, &body, Instant::now());
    assert_ne!(again.body["accessToken"], reply.body["accessToken"]);
    assert_eq!(issued.load(Ordering::Relaxed), 2);
}

#[test]
fn token_endpoint_rejects_wrong_credentials_and_bad_bodies() {
    let issued = Arc::new(AtomicU64::new(0));
    let mut creds = Credentials::new(PALISADE_TOKEN_TTL, Arc::clone(&issued));
    let now = Instant::now();
    let wrong = [
        client_body(PALISADE_CLIENT_ID, "not-the-secret"),
        client_body("someone-else", PALISADE_CLIENT_SECRET),
    ];
    for body in wrong {
        assert_rpc_error(&issue_token(&mut creds, &body, now), 401, 16);
    }
    let bad: [&[u8]; 4] = [
        b"not json",
        b"[]",
        br#"{"clientId": "conform-mock-client"}"#,
        br#"{"clientId": "conform-mock-client", "clientSecret": 7}"#,
    ];
    for body in bad {
        assert_rpc_error(&issue_token(&mut creds, body, now), 400, 3);
    }
    assert_eq!(issued.load(Ordering::Relaxed), 0);
    assert_eq!(creds.live_tokens(), 0);
}

#[test]
fn an_access_token_works_as_bearer_until_it_expires() {
    let ttl = Duration::from_secs(1);
    let mut creds = credentials(ttl);
    let t0 = Instant::now();
    let token = token(&mut creds, t0);
    let bearer = format!("Bearer {token}");
    assert!(authenticate(&headers(Some(&bearer)), &creds, t0).is_ok());
    assert!(authenticate(&headers(Some(&bearer)), &creds, t0 + ttl / 2).is_ok());
    // The token is a bearer credential only, not a raw key.
    assert!(authenticate(&headers(Some(&token)), &creds, t0).is_err());
    let expired = authenticate(&headers(Some(&bearer)), &creds, t0 + ttl).err();
    let expired = expired.expect("an expired token is a 401");
    assert_rpc_error(&expired, 401, 16);
    assert!(
        expired.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired"))
    );
    let unknown = authenticate(&headers(Some("Bearer 00ff")), &creds, t0).err();
    assert_rpc_error(&unknown.expect("an unknown token is a 401"), 401, 16);
}

#[test]
fn issued_tokens_stay_bounded() {
    let mut creds = credentials(PALISADE_TOKEN_TTL);
    let now = Instant::now();
    let first = token(&mut creds, now);
    let mut last = String::new();
    for _ in 1..MAX_TOKENS + 50 {
        last = token(&mut creds, now);
    }
    assert!(
        creds.live_tokens() <= MAX_TOKENS,
        "{} live tokens",
        creds.live_tokens()
    );
    let bearer = |t: &str| headers(Some(&format!("Bearer {t}")));
    assert!(authenticate(&bearer(&last), &creds, now).is_ok());
    assert!(
        authenticate(&bearer(&first), &creds, now).is_err(),
        "oldest evicted"
    );
}

#[test]
fn rate_limited_answers_every_third_request_429() {
    let on = [Fault::PalisadeRateLimited];
    let limited: Vec<u64> = (1..=9)
        .filter(|n| rate_limited(&on, *n).is_some())
        .collect();
    assert_eq!(limited, [3, 6, 9]);
    let reply = rate_limited(&on, 3).expect("the 3rd request is limited");
    assert_rpc_error(&reply, 429, 8);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!((1..=9).all(|n| rate_limited(NONE, n).is_none()));
}

#[test]
fn flaky_get_fails_the_first_get_of_each_id_once() {
    let on = vec![Fault::PalisadeFlakyGet];
    let mut users = Users::seeded();
    let other = create(&mut users, "f@example.com");
    let unknown = "00000000-0000-4000-8000-000000000000";
    for id in [SEED, other.as_str(), unknown] {
        let first = flaky_get(&mut users, &on, id).expect("the first GET is a 503");
        assert_rpc_error(&first, 503, 14);
        assert_eq!(first.header("Retry-After"), Some("0"));
        assert!(flaky_get(&mut users, &on, id).is_none(), "{id}");
    }
    assert!(flaky_get(&mut Users::seeded(), NONE, SEED).is_none());
    let reply = unavailable(1);
    assert_rpc_error(&reply, 503, 14);
    assert_eq!(reply.header("retry-after"), Some("1"));
}

/// Each body fault, applied to a fresh state: (fault, what to check).
#[test]
fn body_faults_change_exactly_their_behaviour() {
    let on = |f: Fault| -> (Users, Vec<Fault>) { (Users::seeded(), vec![f]) };

    let (u, f) = on(Fault::PalisadeUserMissingRequired);
    assert!(get_user(&u, &f, SEED).body.get("email").is_none());
    let (u, f) = on(Fault::PalisadeUserBadEnum);
    assert_eq!(get_user(&u, &f, SEED).body["status"], "ENABLED");
    let (u, f) = on(Fault::PalisadeUserBadDatetime);
    assert_eq!(
        list_users(&u, &f, None).body["users"][0]["createdAt"],
        "29/03/2022 10:22"
    );
    let (u, f) = on(Fault::PalisadeUserWrongType);
    let body = get_user(&u, &f, SEED).body;
    assert_eq!(
        (body["authLoginCount"].clone(), body["roles"].clone()),
        (json!("10"), json!("ADMINISTRATOR"))
    );
    let (u, f) = on(Fault::PalisadeUnknownId200);
    let reply = get_user(&u, &f, "nope");
    assert_eq!((reply.status, reply.body), (StatusCode::OK, json!({})));
    let (u, f) = on(Fault::PalisadeWrongContentType);
    assert!(
        get_user(&u, &f, SEED)
            .content_type
            .starts_with("text/plain")
    );
    let (u, f) = on(Fault::PalisadeRoleFilterIgnored);
    assert_eq!(
        list_users(&u, &f, Some("OWNER")).body["users"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let (u, f) = on(Fault::PalisadeMfaNotArray);
    assert!(list_mfa(&u, &f, SEED).body["methods"].is_array());
}

#[test]
fn write_faults_change_exactly_their_behaviour() {
    let on = |f: Fault| -> (Users, Vec<Fault>) { (Users::seeded(), vec![f]) };

    let (mut u, f) = on(Fault::PalisadeCreate201);
    assert_eq!(
        create_user(&mut u, &f, &new_user_body("x@example.com")).status,
        StatusCode::CREATED
    );
    let (mut u, f) = on(Fault::PalisadeInvalidRoleAccepted);
    let body = br#"{"firstName":"A","lastName":"B","email":"a@b.c","roles":["GOD"]}"#;
    assert_eq!(create_user(&mut u, &f, body).body["roles"], json!(["GOD"]));
    let (mut u, f) = on(Fault::PalisadeMissingFieldAccepted);
    let body = br#"{"firstName":"A","lastName":"B","roles":["VIEWER"]}"#;
    assert_eq!(create_user(&mut u, &f, body).status, StatusCode::OK);

    let (mut u, f) = on(Fault::PalisadeUpdateNotPersisted);
    let reply = update_user(
        &mut u,
        &f,
        SEED,
        br#"{"firstName":"New","lastName":"Name"}"#,
    );
    assert_eq!(reply.body["firstName"], "New");
    assert_eq!(get_user(&u, &f, SEED).body["firstName"], "Joe");
    let (mut u, f) = on(Fault::PalisadeRoleNotPersisted);
    update_role(&mut u, &f, SEED, br#"{"roles":["VIEWER"]}"#);
    assert_eq!(
        get_user(&u, &f, SEED).body["roles"],
        json!(["ADMINISTRATOR"])
    );
    let (mut u, f) = on(Fault::PalisadeStatusNotPersisted);
    update_status(&mut u, &f, SEED, br#"{"status":"BLOCKED"}"#);
    assert_eq!(get_user(&u, &f, SEED).body["status"], "ACTIVATED");
    let (mut u, f) = on(Fault::PalisadeBlockedReasonDropped);
    let reply = update_status(&mut u, &f, SEED, br#"{"status":"BLOCKED","reason":"Lost"}"#);
    assert!(reply.body.get("blockedReason").is_none());
    let (mut u, f) = on(Fault::PalisadeUpdatedAtNotBumped);
    let reply = update_user(&mut u, &f, SEED, br#"{"firstName":"A","lastName":"B"}"#);
    assert_eq!(reply.body["updatedAt"], "2022-03-29T10:22:22.420Z");
    let (mut u, f) = on(Fault::PalisadeDeleteNotRemoved);
    assert_eq!(delete_user(&mut u, &f, SEED).body, json!({}));
    assert_eq!(get_user(&u, &f, SEED).status, StatusCode::OK);
}

// ------------------------------------------------------------ over real HTTP

const KEY: &str = "conform-mock-palisade-key";

async fn serve(faults: Vec<Fault>) -> MockServer {
    serve_with(MockConfig {
        faults,
        ..MockConfig::default()
    })
    .await
}

async fn serve_with(config: MockConfig) -> MockServer {
    start(Api::Palisade, config)
        .await
        .expect("mock binds 127.0.0.1:0")
}

async fn send(req: reqwest::RequestBuilder) -> (u16, String, Value) {
    let (status, ct, _, body) = send_full(req).await;
    (status, ct, body)
}

/// Status, content type, `Retry-After` and JSON body.
async fn send_full(req: reqwest::RequestBuilder) -> (u16, String, Option<String>, Value) {
    let resp = req.send().await.expect("mock answers");
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.expect("body is readable");
    (
        status,
        ct,
        retry_after,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn http_auth_404_405_and_413_answer_rpc_status() {
    let server = serve(vec![]).await;
    let client = test_client();
    let url = format!("{}/v2/users", server.base_url());

    let (status, ct, body) = send(client.get(&url)).await;
    assert_eq!(
        (status, ct.as_str(), body["code"].clone()),
        (401, "application/json", json!(16))
    );
    let (status, ..) = send(client.get(&url).header("Authorization", "wrong")).await;
    assert_eq!(status, 401);
    let (status, _, body) = send(
        client
            .get(&url)
            .header("Authorization", format!("Bearer {KEY}")),
    )
    .await;
    assert_eq!((status, body["users"][0]["id"].clone()), (200, json!(SEED)));

    let (status, _, body) = send(client.get(format!("{}/v3/nothing", server.base_url()))).await;
    assert_eq!((status, body["code"].clone()), (404, json!(5)));
    let (status, _, body) = send(client.patch(&url).header("Authorization", KEY)).await;
    assert_eq!((status, body["code"].clone()), (405, json!(12)));

    let huge = vec![b' '; super::super::server::MAX_BODY_BYTES + 1];
    let (status, ct, body) = send(client.post(&url).header("Authorization", KEY).body(huge)).await;
    assert_eq!(
        (status, ct.as_str(), body["code"].clone()),
        (413, "application/json", json!(3))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn http_create_get_delete_flow() {
    let server = serve(vec![]).await;
    let client = test_client();
    let base = format!("{}/v2/users", server.base_url());
    let new = json!({"firstName": "Ada", "lastName": "L", "email": "ada@example.com", "roles": ["VIEWER"]});

    let (status, ct, user) = send(client.post(&base).header("Authorization", KEY).json(&new)).await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let id = user["id"].as_str().unwrap_or_default().to_owned();
    let one = format!("{base}/{id}");
    let (status, _, got) = send(client.get(&one).header("Authorization", KEY)).await;
    assert_eq!((status, &got), (200, &user));
    let (status, _, body) = send(client.delete(&one).header("Authorization", KEY)).await;
    assert_eq!((status, body), (200, json!({})));
    let (status, _, body) = send(client.get(&one).header("Authorization", KEY)).await;
    assert_eq!((status, body["code"].clone()), (404, json!(5)));
    let (status, ..) = send(
        client
            .get(format!("{one}/mfa"))
            .header("Authorization", KEY),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn http_faults_change_status_content_type_and_auth() {
    let faults = vec![
        Fault::PalisadeCreate201,
        Fault::PalisadeWrongContentType,
        Fault::PalisadeAuthNotEnforced,
    ];
    let server = serve(faults).await;
    let client = test_client();
    let base = format!("{}/v2/users", server.base_url());
    let new =
        json!({"firstName": "A", "lastName": "B", "email": "a@example.com", "roles": ["OWNER"]});
    let (status, ct, _) = send(client.post(&base).json(&new)).await;
    assert_eq!(status, 201);
    assert!(ct.starts_with("text/plain"), "{ct}");
}

#[tokio::test]
async fn http_token_issue_use_expiry_and_renewal() {
    let server = serve_with(MockConfig {
        token_ttl: Some(Duration::from_secs(1)),
        ..MockConfig::default()
    })
    .await;
    let client = test_client();
    let token_url = format!("{}{PALISADE_TOKEN_PATH}", server.base_url());
    let users = format!("{}/v2/users", server.base_url());
    let credentials =
        json!({"clientId": PALISADE_CLIENT_ID, "clientSecret": PALISADE_CLIENT_SECRET});

    // No auth is needed on the token endpoint.
    let (status, ct, body) = send(client.post(&token_url).json(&credentials)).await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(
        (body["expiresIn"].clone(), body["tokenType"].clone()),
        (json!(1), json!("Bearer"))
    );
    let token = body["accessToken"].as_str().unwrap_or_default().to_owned();
    let bearer = format!("Bearer {token}");
    for _ in 0..3 {
        let (status, ..) = send(client.get(&users).header("Authorization", &bearer)).await;
        assert_eq!(status, 200);
    }
    assert_eq!(server.tokens_issued(), 1);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, body) = send(client.get(&users).header("Authorization", &bearer)).await;
    assert_eq!((status, body["code"].clone()), (401, json!(16)));
    // The static key still works, and a fresh token does too.
    let (status, ..) = send(client.get(&users).header("Authorization", KEY)).await;
    assert_eq!(status, 200);
    let (_, _, body) = send(client.post(&token_url).json(&credentials)).await;
    let renewed = format!(
        "Bearer {}",
        body["accessToken"].as_str().unwrap_or_default()
    );
    let (status, ..) = send(client.get(&users).header("Authorization", &renewed)).await;
    assert_eq!(status, 200);
    assert_eq!(server.tokens_issued(), 2);

    let wrong = json!({"clientId": PALISADE_CLIENT_ID, "clientSecret": "nope"});
    let (status, _, body) = send(client.post(&token_url).json(&wrong)).await;
    assert_eq!((status, body["code"].clone()), (401, json!(16)));
    let (status, _, body) = send(client.get(&token_url)).await;
    assert_eq!((status, body["code"].clone()), (405, json!(12)));
    assert_eq!(server.tokens_issued(), 2);
}

#[tokio::test]
async fn http_rate_limited_every_third_users_request() {
    let server = serve(vec![Fault::PalisadeRateLimited]).await;
    let client = test_client();
    let users = format!("{}/v2/users", server.base_url());
    let token_url = format!("{}{PALISADE_TOKEN_PATH}", server.base_url());
    let credentials =
        json!({"clientId": PALISADE_CLIENT_ID, "clientSecret": PALISADE_CLIENT_SECRET});
    let mut seen = Vec::new();
    for i in 0..6 {
        // Token requests in between are neither limited nor counted.
        let (status, ..) = send(client.post(&token_url).json(&credentials)).await;
        assert_eq!(status, 200, "token request {i}");
        let (status, _, retry_after, body) =
            send_full(client.get(&users).header("Authorization", KEY)).await;
        if status == 429 {
            assert_eq!(
                (retry_after.as_deref(), body["code"].clone()),
                (Some("1"), json!(8))
            );
        }
        seen.push(status);
    }
    assert_eq!(seen, [200, 200, 429, 200, 200, 429]);
}

#[tokio::test]
async fn http_flaky_get_and_unavailable() {
    let server = serve(vec![Fault::PalisadeFlakyGet]).await;
    let client = test_client();
    let one = format!("{}/v2/users/{SEED}", server.base_url());
    let (status, _, retry_after, body) =
        send_full(client.get(&one).header("Authorization", KEY)).await;
    assert_eq!(
        (status, retry_after.as_deref(), body["code"].clone()),
        (503, Some("0"), json!(14))
    );
    let (status, _, _, body) = send_full(client.get(&one).header("Authorization", KEY)).await;
    assert_eq!((status, body["id"].clone()), (200, json!(SEED)));
    // Other endpoints are not affected.
    let (status, ..) = send(
        client
            .get(format!("{one}/info"))
            .header("Authorization", KEY),
    )
    .await;
    assert_eq!(status, 200);

    let server = serve(vec![Fault::PalisadeUnavailable]).await;
    let base = server.base_url();
    let requests = [
        client
            .get(format!("{base}/v2/users"))
            .header("Authorization", KEY),
        client
            .get(format!("{base}/v2/users/{SEED}"))
            .header("Authorization", KEY),
        client
            .post(format!("{base}{PALISADE_TOKEN_PATH}"))
            .json(&json!({})),
        client.get(format!("{base}/elsewhere")),
    ];
    for req in requests {
        let (status, ct, retry_after, body) = send_full(req).await;
        assert_eq!((status, ct.as_str()), (503, "application/json"));
        assert_eq!(
            (retry_after.as_deref(), body["code"].clone()),
            (Some("1"), json!(14))
        );
    }
}
