//! `/metrics` counts requests by matched route and status, store calls and audit entries, and
//! never shows what a caller sent.

use reqwest::StatusCode;
use serde_json::json;

use crate::{SUPPORT, TestServer};

/// The value of the sample `name{labels}` in a Prometheus text exposition, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

pub async fn story(server: &TestServer) {
    let id = server.create("jonas@example.se").await;
    for _ in 0..2 {
        let response = server
            .get(&format!("/api/v1/subjects/{id}?purpose=purchase"), SUPPORT)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let missing = server
        .get(
            "/api/v1/subjects/00000000-0000-7000-8000-000000000000?purpose=purchase",
            SUPPORT,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let lookup = server
        .post(
            "/api/v1/subjects/lookup",
            SUPPORT,
            &json!({"kind": "email", "value": "jonas@example.se", "purpose": "purchase"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), StatusCode::OK);
    let unrouted = server
        .get("/api/v1/people/jonas@example.se", SUPPORT)
        .send()
        .await
        .unwrap();
    assert_eq!(unrouted.status(), StatusCode::NOT_FOUND);

    let response = server.public("/metrics").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let requests = |route: &str, method: &str, status: u16| {
        sample(
            &text,
            &format!(
                r#"integritet_http_requests_total{{method="{method}",route="{route}",status="{status}"}}"#
            ),
        )
    };
    assert_eq!(
        requests("/api/v1/subjects", "POST", 201),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests("/api/v1/subjects/{id}", "GET", 200),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        requests("/api/v1/subjects/{id}", "GET", 404),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests("/api/v1/subjects/lookup", "POST", 200),
        Some(1.0),
        "{text}"
    );
    assert_eq!(requests("unmatched", "GET", 404), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"integritet_http_request_duration_seconds_count{method="GET",route="/api/v1/subjects/{id}",status="200"}"#
        ),
        Some(2.0),
        "{text}"
    );
    // Store calls by operation: one insert, four subject reads (two found, one not, and the
    // lookup's check of its match for restriction and objections), and the audit entries of
    // the create, two reads and a lookup.
    let store = |operation: &str| {
        sample(
            &text,
            &format!(
                r#"integritet_store_operation_duration_seconds_count{{operation="{operation}",outcome="ok"}}"#
            ),
        )
    };
    assert_eq!(store("insert_subjects"), Some(1.0), "{text}");
    assert_eq!(store("subject"), Some(4.0), "{text}");
    assert_eq!(store("lookup"), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "integritet_audit_entries_written_total"),
        Some(4.0),
        "{text}"
    );
    // Matched routes only: no id, no e-mail, no query string.
    for leak in [id.as_str(), "jonas", "purpose="] {
        assert!(!text.contains(leak), "{leak} in\n{text}");
    }
}

#[tokio::test]
async fn metrics_over_sqlite() {
    let server = TestServer::sqlite().await;
    story(&server).await;
}

#[tokio::test]
async fn metrics_beyond_loopback_are_for_the_administrator() {
    let server = TestServer::sqlite_with_metrics_behind_token().await;
    let anyone = server.public("/metrics").send().await.unwrap();
    assert_eq!(anyone.status(), StatusCode::UNAUTHORIZED);
    let support = server.get("/metrics", SUPPORT).send().await.unwrap();
    assert_eq!(support.status(), StatusCode::FORBIDDEN);
    let admin = server.get("/metrics", crate::ADMIN).send().await.unwrap();
    assert_eq!(admin.status(), StatusCode::OK);
    let text = admin.text().await.unwrap();
    assert!(text.contains("integritet_http_requests_total"), "{text}");
    // On loopback (every other test server) anyone on this host may read them.
    let local = TestServer::sqlite().await;
    assert_eq!(
        local.public("/metrics").send().await.unwrap().status(),
        StatusCode::OK
    );
}
