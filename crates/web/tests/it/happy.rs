//! Create → read for a purpose → lookup by e-mail → rectify, over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{FINANCE, SUPPORT, TestServer, customer};

/// The story every backend must pass.
pub async fn story(server: &TestServer) {
    let created = server
        .post("/api/v1/subjects", SUPPORT, &customer("astrid@example.se"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let read = server
        .get(&format!("/api/v1/subjects/{id}?purpose=purchase"), SUPPORT)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let view: Value = read.json().await.unwrap();
    assert_eq!(view["id"], id.as_str());
    assert_eq!(view["purpose"], "purchase");
    let email = view["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["category"] == "email")
        .unwrap();
    assert_eq!(email["value"], "astrid@example.se");
    let value_id = email["id"].as_str().unwrap().to_owned();

    let lookup = |value: &'static str| {
        server
            .post(
                "/api/v1/subjects/lookup",
                SUPPORT,
                &json!({"kind": "email", "value": value, "purpose": "purchase"}),
            )
            .send()
    };
    let found: Value = lookup("Astrid@Example.se")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found, json!({"subjects": [id]}));

    let rectified = server
        .put(
            &format!("/api/v1/subjects/{id}/values/{value_id}"),
            SUPPORT,
            &json!({"value": "astrid.l@example.se"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(rectified.status(), StatusCode::OK);
    let new_id: Value = rectified.json().await.unwrap();
    assert!(new_id["id"].is_string());

    let old: Value = lookup("astrid@example.se")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(old, json!({"subjects": []}));
    let new: Value = lookup("astrid.l@example.se")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(new, json!({"subjects": [id]}));

    // Finance reads for bookkeeping: only what was collected for it.
    let books: Value = server
        .get(
            &format!("/api/v1/subjects/{id}?purpose=bookkeeping"),
            FINANCE,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let categories: Vec<&str> = books["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["category"].as_str().unwrap())
        .collect();
    assert!(!categories.contains(&"email"), "{categories:?}");
}

#[tokio::test]
async fn create_read_lookup_rectify_over_sqlite() {
    let server = TestServer::sqlite().await;
    story(&server).await;
}

#[tokio::test]
async fn health_and_readiness() {
    let server = TestServer::sqlite().await;
    for path in ["/healthz", "/readyz"] {
        let response = server
            .client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key("x-request-id"));
        assert_eq!(response.text().await.unwrap(), "ok");
    }
}

#[tokio::test]
async fn activities_disclosures_and_policy() {
    let server = TestServer::sqlite().await;
    let id = server
        .post("/api/v1/subjects", SUPPORT, &customer("bo@example.se"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let activities = server
        .post(
            &format!("/api/v1/subjects/{id}/activities"),
            SUPPORT,
            &json!([{"kind": "purchase", "at": "2026-02-28T10:00:00Z"}]),
        )
        .send()
        .await
        .unwrap();
    let status = activities.status();
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "{}",
        activities.text().await.unwrap()
    );
    let disclosure = server
        .post(
            &format!("/api/v1/subjects/{id}/disclosures"),
            SUPPORT,
            &json!({"recipient": "it_suppliers", "purpose": "purchase", "categories": ["email"]}),
        )
        .send()
        .await
        .unwrap();
    let status = disclosure.status();
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "{}",
        disclosure.text().await.unwrap()
    );
    let policy: Value = server
        .get("/api/v1/policy", SUPPORT)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(policy["version"].is_string());
    assert!(policy["policy"]["roles"]["support"].is_object());
}

#[tokio::test]
async fn a_given_request_id_is_kept() {
    let server = TestServer::sqlite().await;
    let response = server
        .client
        .get(format!("{}/healthz", server.base))
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers().get("x-request-id").unwrap(), "req-42");
}
