//! Cookie consent over HTTP: the banner's decision kept and read back by its id, refused when
//! malformed or oversized, exported as JSON-LD for staff; `/.well-known/gpc.json`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{LEGAL, SUPPORT, TestServer, problem};

fn decision(version: &str) -> Value {
    json!({
        "visitor": "q3Zk1o9VbH2mX0cW7yTn4A",
        "banner_version": version,
        "text_hash": "ab".repeat(32),
        "lang": "sv",
        "choices": {"preferences": false, "statistics": false},
        "gpc": true,
        "page": "https://smart-telematik.se/?q=1"
    })
}

pub async fn story(server: &TestServer) {
    let gpc = server.public("/.well-known/gpc.json").send().await.unwrap();
    assert_eq!(gpc.status(), StatusCode::OK);
    assert!(
        gpc.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let gpc: Value = gpc.json().await.unwrap();
    assert_eq!(gpc["gpc"], true);
    assert_eq!(gpc["lastUpdate"].as_str().unwrap().len(), 10);

    let kept = server
        .client
        .post(format!("{}/consent", server.base))
        .json(&decision("5f0c2a9e4b1d7c3a"))
        .send()
        .await
        .unwrap();
    assert_eq!(kept.status(), StatusCode::CREATED);
    assert!(kept.headers().get("set-cookie").is_none());
    let kept: Value = kept.json().await.unwrap();
    assert_eq!(kept["status"], "refused");
    assert_eq!(kept["gpc"], true);
    assert_eq!(kept["page"], "https://smart-telematik.se/");
    let id = kept["id"].as_str().unwrap();
    let read: Value = server
        .public(&format!("/consent/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, kept);
    problem(
        server
            .public("/consent/01890a5d-ac96-774b-bcce-b302099a8057")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // Malformed and oversized decisions are refused with what to do.
    let mut bad = decision("5f0c2a9e4b1d7c3a");
    bad["choices"]["necessary"] = json!(false);
    let refused = server
        .client
        .post(format!("{}/consent", server.base))
        .json(&bad)
        .send()
        .await
        .unwrap();
    let body = problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "choices.necessary");
    let mut huge = decision("5f0c2a9e4b1d7c3a");
    huge["page"] = json!(format!("https://smart-telematik.se/{}", "a".repeat(5_000)));
    let oversized = server
        .client
        .post(format!("{}/consent", server.base))
        .json(&huge)
        .send()
        .await
        .unwrap();
    problem(oversized, StatusCode::PAYLOAD_TOO_LARGE).await;

    let export = server
        .get("/api/v1/consent/records?since=2026-01-01", LEGAL)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(export.headers()["content-type"], "application/ld+json");
    let export: Value = export.json().await.unwrap();
    assert_eq!(
        export["@graph"][0]["dpv:hasConsentStatus"],
        "dpv:ConsentRefused"
    );
    assert_eq!(export["@graph"][0]["integritet:globalPrivacyControl"], true);
    problem(
        server
            .get("/api/v1/consent/records", SUPPORT)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn consent_over_sqlite() {
    story(&TestServer::sqlite().await).await;
}
