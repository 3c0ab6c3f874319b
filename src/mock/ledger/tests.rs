use std::sync::atomic::AtomicU64;

use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::super::server::{Api, MockConfig, MockServer, start, test_client};
use super::super::tokens::MAX_TOKENS;
use super::auth::{Credentials, authenticate, issue_token, refresh_token};
use super::*;

const NONE: &[Fault] = &[];

fn body(name: &str) -> Vec<u8> {
    json!({ "name": name }).to_string().into_bytes()
}

fn assert_error(reply: &Reply, status: u16, name: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.body["status_code"], status);
    assert_eq!(reply.body["name"], name);
    assert!(reply.body["message"].is_string());
}

fn seed_json() -> Value {
    json!({
        "device_id": "1a24480566ce42c2",
        "name": "api_lam_user",
        "role": "OPERATOR",
        "type_": "SOFT_PSD",
        "workspace": "crypstocks",
    })
}

#[test]
fn seed_matches_the_reference_examples() {
    let users = ApiUsers::seeded();
    assert_eq!(get_user(&users, NONE, LEDGER_SEED_USER).body, seed_json());
    assert_eq!(
        list_users(&users, NONE).body,
        json!({ "api_users": [seed_json()] })
    );
    let reply = get_user(&users, NONE, "nobody");
    assert_error(&reply, 404, "NotFound");
    assert_eq!(reply.body["message"], "user name does not exist");
}

#[test]
fn create_then_get_and_reject_duplicates() {
    let mut users = ApiUsers::seeded();
    let reply = create_user(&mut users, NONE, &body("new_user_1"));
    assert_eq!(reply.status, StatusCode::OK);
    let device_id = reply.body["device_id"].as_str().unwrap_or_default();
    assert_eq!(device_id.len(), 16);
    assert!(
        device_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(reply.body["workspace"], "crypstocks");
    assert_eq!(get_user(&users, NONE, "new_user_1").body, reply.body);
    let dup = create_user(&mut users, NONE, &body("new_user_1"));
    assert_error(&dup, 400, "BadRequest");
    assert_eq!(dup.body["message"], "User already exists");
    assert_eq!(
        list_users(&users, NONE).body["api_users"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn names_must_match_the_documented_pattern() {
    let mut users = ApiUsers::seeded();
    for ok in ["a", "A_1", "abcdefghij0123456789"] {
        assert_eq!(
            create_user(&mut users, NONE, &body(ok)).status,
            StatusCode::OK,
            "{ok}"
        );
    }
    for bad in ["", "abcdefghij0123456789x", "a-b", "a b", "é", "a/b"] {
        assert_error(
            &create_user(&mut users, NONE, &body(bad)),
            400,
            "BadRequest",
        );
    }
    let bodies: [&[u8]; 5] = [
        b"not json",
        b"[]",
        b"{}",
        br#"{"name": 7}"#,
        br#"{"name": null}"#,
    ];
    for b in bodies {
        assert_error(&create_user(&mut users, NONE, b), 400, "BadRequest");
    }
}

#[test]
fn creating_past_the_cap_evicts_oldest_and_keeps_the_seed() {
    let mut users = ApiUsers::seeded();
    for i in 0..10_050 {
        let reply = create_user(&mut users, NONE, &body(&format!("u{i}")));
        assert_eq!(reply.status, StatusCode::OK);
    }
    assert_eq!(users.len(), MAX_ENTRIES);
    assert_eq!(get_user(&users, NONE, LEDGER_SEED_USER).body, seed_json());
    assert_eq!(get_user(&users, NONE, "u0").status, StatusCode::NOT_FOUND);
    assert_eq!(get_user(&users, NONE, "u10049").status, StatusCode::OK);
    let listed = list_users(&users, NONE).body;
    assert_eq!(listed["api_users"][0]["name"], LEDGER_SEED_USER);
}

#[test]
fn faults_change_exactly_their_behaviour() {
    let on = |f: Fault| (ApiUsers::seeded(), vec![f]);

    let (u, f) = on(Fault::LedgerMissingField);
    assert!(
        get_user(&u, &f, LEDGER_SEED_USER)
            .body
            .get("workspace")
            .is_none()
    );
    let (mut u, f) = on(Fault::LedgerDuplicateAccepted);
    assert_eq!(
        create_user(&mut u, &f, &body(LEDGER_SEED_USER)).status,
        StatusCode::OK
    );
    let (mut u, f) = on(Fault::LedgerPatternNotEnforced);
    assert_eq!(
        create_user(&mut u, &f, &body("abcdefghij0123456789x")).status,
        StatusCode::OK
    );
    assert_eq!(
        create_user(&mut u, &f, &body("a-b!")).status,
        StatusCode::OK
    );
    let (mut u, f) = on(Fault::LedgerBoundaryOffByOne);
    assert_error(
        &create_user(&mut u, &f, &body("abcdefghij0123456789")),
        400,
        "BadRequest",
    );
    assert_eq!(
        create_user(&mut u, &f, &body("abcdefghij012345678")).status,
        StatusCode::OK
    );
    let (u, f) = on(Fault::LedgerUnknown200);
    assert_eq!(get_user(&u, &f, "nobody").body, seed_json());
    let (u, f) = on(Fault::LedgerListBareArray);
    assert_eq!(list_users(&u, &f).body, json!([seed_json()]));
    let (mut u, f) = on(Fault::LedgerCreateNotPersisted);
    assert_eq!(
        create_user(&mut u, &f, &body("ghost")).status,
        StatusCode::OK
    );
    assert_eq!(get_user(&u, &f, "ghost").status, StatusCode::NOT_FOUND);
}

// ------------------------------------------------------------ tokens

fn credentials(ttl: Duration) -> Credentials {
    Credentials::new(ttl, Arc::default())
}

fn key_body(id: &str, secret: &str) -> Vec<u8> {
    json!({ "api_key_id": id, "api_key_secret": secret })
        .to_string()
        .into_bytes()
}

fn refresh_body(token: &Value) -> Vec<u8> {
    json!({ "refresh_token": token }).to_string().into_bytes()
}

/// A token pair from the mock credentials.
fn pair(creds: &mut Credentials, now: Instant) -> Value {
    let reply = issue_token(
        creds,
        &key_body(LEDGER_API_KEY_ID, LEDGER_API_KEY_SECRET),
        now,
    );
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

fn bearer(token: &Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let value = format!("Bearer {}", token.as_str().unwrap_or_default());
    headers.insert(header::AUTHORIZATION, value.parse().expect("valid header"));
    headers
}

#[test]
fn token_endpoint_answers_the_documented_shape_and_counts() {
    let issued = Arc::new(AtomicU64::new(0));
    let mut creds = Credentials::new(LEDGER_TOKEN_TTL, Arc::clone(&issued));
    let body = pair(&mut creds, Instant::now());
    let keys: Vec<&String> = body
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "session_state",
            "token_type"
        ]
    );
    assert_eq!(
        (body["expires_in"].clone(), body["token_type"].clone()),
        (json!(300), json!("Bearer"))
    );
    assert_ne!(body["access_token"], body["refresh_token"]);
    let session = body["session_state"].as_str().unwrap_or_default();
    assert!(uuid::Uuid::parse_str(session).is_ok());
    assert_eq!(issued.load(Ordering::Relaxed), 1);
}

#[test]
fn token_endpoint_rejects_wrong_credentials_and_bad_bodies() {
    let issued = Arc::new(AtomicU64::new(0));
    let mut creds = Credentials::new(LEDGER_TOKEN_TTL, Arc::clone(&issued));
    let now = Instant::now();
    for body in [
        key_body(LEDGER_API_KEY_ID, "wrong-secret"),
        key_body("wrong-id", LEDGER_API_KEY_SECRET),
    ] {
        assert_error(&issue_token(&mut creds, &body, now), 401, "Unauthorized");
    }
    let bad: [&[u8]; 4] = [
        b"{",
        b"[]",
        br#"{"api_key_id": "conform-mock-key-id"}"#,
        br#"{"api_key_id": 1, "api_key_secret": "x"}"#,
    ];
    for body in bad {
        assert_error(&issue_token(&mut creds, body, now), 400, "BadRequest");
        assert_error(&refresh_token(&mut creds, body, now), 400, "BadRequest");
    }
    assert_eq!(issued.load(Ordering::Relaxed), 0);
    assert_eq!(creds.live_tokens(), (0, 0));
}

#[test]
fn refresh_rotates_the_refresh_token_and_keeps_the_session() {
    let issued = Arc::new(AtomicU64::new(0));
    let mut creds = Credentials::new(LEDGER_TOKEN_TTL, Arc::clone(&issued));
    let t0 = Instant::now();
    let first = pair(&mut creds, t0);
    let reply = refresh_token(&mut creds, &refresh_body(&first["refresh_token"]), t0);
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let second = reply.body;
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["session_state"], first["session_state"]);
    assert_eq!(issued.load(Ordering::Relaxed), 2);
    // The old refresh token is used up; the new one works once.
    let reused = refresh_token(&mut creds, &refresh_body(&first["refresh_token"]), t0);
    assert_error(&reused, 401, "Unauthorized");
    let third = refresh_token(&mut creds, &refresh_body(&second["refresh_token"]), t0);
    assert_eq!(third.status, StatusCode::OK);
    // Both access tokens work until they expire.
    for access in [&first["access_token"], &second["access_token"]] {
        assert!(authenticate(&bearer(access), &creds, t0).is_ok());
    }
    let unknown = refresh_token(&mut creds, &refresh_body(&json!("f00d")), t0);
    assert_error(&unknown, 401, "Unauthorized");
    assert_eq!(issued.load(Ordering::Relaxed), 3);
}

#[test]
fn an_access_token_works_as_bearer_until_it_expires() {
    let ttl = Duration::from_secs(1);
    let mut creds = credentials(ttl);
    let t0 = Instant::now();
    let body = pair(&mut creds, t0);
    assert_eq!(body["expires_in"], 1);
    let access = &body["access_token"];
    assert!(authenticate(&bearer(access), &creds, t0 + ttl / 2).is_ok());
    let expired = authenticate(&bearer(access), &creds, t0 + ttl).err();
    let expired = expired.expect("an expired token is a 401");
    assert_error(&expired, 401, "Unauthorized");
    assert!(
        expired.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired"))
    );
    // The refresh token outlives the access token.
    let reply = refresh_token(
        &mut creds,
        &refresh_body(&body["refresh_token"]),
        t0 + ttl * 2,
    );
    assert_eq!(reply.status, StatusCode::OK);

    let mut key = HeaderMap::new();
    key.insert(LEDGER_API_KEY_HEADER, KEY.parse().expect("valid header"));
    assert!(authenticate(&key, &creds, t0 + ttl).is_ok());
    assert!(authenticate(&HeaderMap::new(), &creds, t0).is_err());
    assert!(authenticate(&bearer(&json!("0123")), &creds, t0).is_err());
    // The access token is not an API key.
    let mut as_key = HeaderMap::new();
    let raw = access.as_str().unwrap_or_default();
    as_key.insert(LEDGER_API_KEY_HEADER, raw.parse().expect("valid header"));
    assert!(authenticate(&as_key, &creds, t0).is_err());
}

#[test]
fn issued_tokens_stay_bounded() {
    let mut creds = credentials(LEDGER_TOKEN_TTL);
    let now = Instant::now();
    for _ in 0..MAX_TOKENS + 50 {
        pair(&mut creds, now);
    }
    let (access, refresh) = creds.live_tokens();
    assert!(
        access <= MAX_TOKENS && refresh <= MAX_TOKENS,
        "{access} / {refresh}"
    );
}

#[test]
fn rate_limited_answers_every_third_request_420_with_headers() {
    let on = [Fault::LedgerRateLimited];
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let limited: Vec<u64> = (1..=9)
        .filter(|n| rate_limited(&on, *n, now).is_some())
        .collect();
    assert_eq!(limited, [3, 6, 9]);
    let reply = rate_limited(&on, 6, now).expect("the 6th request is limited");
    assert_error(&reply, 420, "RateLimitExceeded");
    assert_eq!(reply.header("X-RateLimit-Limit"), Some("2"));
    assert_eq!(reply.header("X-RateLimit-Remaining"), Some("0"));
    assert_eq!(reply.header("X-RateLimit-Reset"), Some("1700000001"));
    assert_eq!(reply.header("Retry-After"), Some("1"));
    assert!((1..=9).all(|n| rate_limited(NONE, n, now).is_none()));
}

// ------------------------------------------------------------ over real HTTP

const KEY: &str = "conform-mock-ledger-key";

async fn serve(faults: Vec<Fault>) -> MockServer {
    serve_with(MockConfig {
        faults,
        ..MockConfig::default()
    })
    .await
}

async fn serve_with(config: MockConfig) -> MockServer {
    start(Api::LedgerEnterprise, config)
        .await
        .expect("mock binds 127.0.0.1:0")
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.expect("mock answers");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body is readable");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn http_auth_and_error_shapes() {
    let server = serve(vec![]).await;
    let client = test_client();
    let url = format!("{}/api_users", server.base_url());

    let (status, body) = send(client.get(&url)).await;
    assert_eq!(status, 401);
    assert_eq!(
        (body["name"].clone(), body["status_code"].clone()),
        (json!("Unauthorized"), json!(401))
    );
    let (status, _) = send(client.get(&url).header(LEDGER_API_KEY_HEADER, "nope")).await;
    assert_eq!(status, 401);
    let (status, body) = send(client.get(&url).header(LEDGER_API_KEY_HEADER, KEY)).await;
    assert_eq!((status, body), (200, json!({ "api_users": [seed_json()] })));

    let (status, body) = send(
        client
            .get(format!("{url}/ghost"))
            .header(LEDGER_API_KEY_HEADER, KEY),
    )
    .await;
    assert_eq!(
        (status, body["message"].clone()),
        (404, json!("user name does not exist"))
    );
    let (status, body) = send(client.get(format!("{}/nothing", server.base_url()))).await;
    assert_eq!((status, body["name"].clone()), (404, json!("NotFound")));
    let (status, body) = send(client.delete(&url).header(LEDGER_API_KEY_HEADER, KEY)).await;
    assert_eq!((status, body["status_code"].clone()), (405, json!(405)));
}

#[tokio::test]
async fn http_create_then_get() {
    let server = serve(vec![]).await;
    let client = test_client();
    let url = format!("{}/api_users", server.base_url());
    let post = || client.post(&url).header(LEDGER_API_KEY_HEADER, KEY);

    let (status, created) = send(post().json(&json!({"name": "bot_7"}))).await;
    assert_eq!((status, created["name"].clone()), (200, json!("bot_7")));
    let (status, got) = send(
        client
            .get(format!("{url}/bot_7"))
            .header(LEDGER_API_KEY_HEADER, KEY),
    )
    .await;
    assert_eq!((status, &got), (200, &created));
    let (status, body) = send(post().json(&json!({"name": "bot_7"}))).await;
    assert_eq!(
        (status, body["message"].clone()),
        (400, json!("User already exists"))
    );
    let (status, _) = send(post().body("{")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn http_faults_bare_array_and_no_auth() {
    let server = serve(vec![
        Fault::LedgerListBareArray,
        Fault::LedgerAuthNotEnforced,
    ])
    .await;
    let (status, body) = send(test_client().get(format!("{}/api_users", server.base_url()))).await;
    assert_eq!((status, body), (200, json!([seed_json()])));
}

#[tokio::test]
async fn http_token_use_expiry_and_refresh() {
    let server = serve_with(MockConfig {
        token_ttl: Some(Duration::from_secs(1)),
        ..MockConfig::default()
    })
    .await;
    let client = test_client();
    let base = server.base_url();
    let users = format!("{base}/api_users");
    let credentials =
        json!({"api_key_id": LEDGER_API_KEY_ID, "api_key_secret": LEDGER_API_KEY_SECRET});

    let (status, first) = send(
        client
            .post(format!("{base}{LEDGER_TOKEN_PATH}"))
            .json(&credentials),
    )
    .await;
    assert_eq!((status, first["expires_in"].clone()), (200, json!(1)));
    let bearer = |body: &Value| {
        format!(
            "Bearer {}",
            body["access_token"].as_str().unwrap_or_default()
        )
    };
    for _ in 0..3 {
        let (status, _) = send(client.get(&users).header("Authorization", bearer(&first))).await;
        assert_eq!(status, 200);
    }
    assert_eq!(server.tokens_issued(), 1);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = send(client.get(&users).header("Authorization", bearer(&first))).await;
    assert_eq!((status, body["name"].clone()), (401, json!("Unauthorized")));

    let refresh = format!("{base}{LEDGER_REFRESH_PATH}");
    let old = json!({"refresh_token": first["refresh_token"]});
    let (status, second) = send(client.post(&refresh).json(&old)).await;
    assert_eq!(status, 200);
    let (status, _) = send(client.get(&users).header("Authorization", bearer(&second))).await;
    assert_eq!(status, 200);
    let (status, body) = send(client.post(&refresh).json(&old)).await;
    assert_eq!((status, body["status_code"].clone()), (401, json!(401)));
    assert_eq!(server.tokens_issued(), 2);

    let wrong = json!({"api_key_id": LEDGER_API_KEY_ID, "api_key_secret": "nope"});
    let (status, _) = send(
        client
            .post(format!("{base}{LEDGER_TOKEN_PATH}"))
            .json(&wrong),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = send(client.get(&refresh)).await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn http_rate_limited_every_third_api_users_request() {
    let server = serve(vec![Fault::LedgerRateLimited]).await;
    let client = test_client();
    let users = format!("{}/api_users", server.base_url());
    let token_url = format!("{}{LEDGER_TOKEN_PATH}", server.base_url());
    let credentials =
        json!({"api_key_id": LEDGER_API_KEY_ID, "api_key_secret": LEDGER_API_KEY_SECRET});
    let mut seen = Vec::new();
    for _ in 0..6 {
        // Token requests in between are neither limited nor counted.
        let (status, _) = send(client.post(&token_url).json(&credentials)).await;
        assert_eq!(status, 200);
        let resp = client
            .get(&users)
            .header(LEDGER_API_KEY_HEADER, KEY)
            .send()
            .await
            .expect("mock answers");
        let status = resp.status().as_u16();
        if status == 420 {
            let h = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            assert_eq!(h("x-ratelimit-limit").as_deref(), Some("2"));
            assert_eq!(h("x-ratelimit-remaining").as_deref(), Some("0"));
            assert_eq!(h("retry-after").as_deref(), Some("1"));
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let reset: u64 = h("x-ratelimit-reset")
                .and_then(|v| v.parse().ok())
                .unwrap_or_default();
            assert!((now..=now + 2).contains(&reset), "reset {reset}, now {now}");
            let body: Value = resp.json().await.expect("a JSON body");
            assert_eq!(body["status_code"], 420);
        }
        seen.push(status);
    }
    assert_eq!(seen, [200, 200, 420, 200, 200, 420]);
}
