use serde_json::{Value, json};

use super::super::server::{MockConfig, MockServer, start, test_client};
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

// ------------------------------------------------------------ over real HTTP

const KEY: &str = "conform-mock-ledger-key";

async fn serve(faults: Vec<Fault>) -> MockServer {
    let config = MockConfig { port: 0, faults };
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
