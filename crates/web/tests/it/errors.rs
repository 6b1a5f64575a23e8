//! Every failure is a problem document with the right status.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{MARKETING, SUPPORT, TestServer, customer, problem};

async fn created(server: &TestServer) -> String {
    let response = server
        .post("/api/v1/subjects", SUPPORT, &customer("cecilia@example.se"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn without_a_valid_token_nothing_is_told() {
    let server = TestServer::sqlite().await;
    let id = created(&server).await;
    let lookup = json!({"kind": "email", "value": "cecilia@example.se", "purpose": "purchase"});
    let url = |path: &str| format!("{}{path}", server.base);
    let requests = [
        server
            .client
            .post(url("/api/v1/subjects/lookup"))
            .json(&lookup),
        server
            .client
            .post(url("/api/v1/subjects/lookup"))
            .bearer_auth("not-a-token")
            .json(&lookup),
        server
            .client
            .get(url(&format!("/api/v1/subjects/{id}?purpose=purchase"))),
        server
            .client
            .get(url(
                "/api/v1/subjects/00000000-0000-7000-8000-000000000000?purpose=purchase",
            ))
            .bearer_auth("not-a-token"),
        server.client.get(url("/api/v1/policy")),
        // Even a body that is too large or malformed: the token is checked first.
        server
            .client
            .post(url("/api/v1/subjects"))
            .header("content-type", "application/json")
            .body("{"),
    ];
    let mut bodies = Vec::new();
    for request in requests {
        let response = request.send().await.unwrap();
        assert_eq!(
            response.headers().get("www-authenticate").unwrap(),
            "Bearer"
        );
        bodies.push(problem(response, StatusCode::UNAUTHORIZED).await);
    }
    // Known and unknown people get the same answer.
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
}

#[tokio::test]
async fn marketing_may_not_read_for_purchase() {
    let server = TestServer::sqlite().await;
    let id = created(&server).await;
    let response = server
        .get(
            &format!("/api/v1/subjects/{id}?purpose=purchase"),
            MARKETING,
        )
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn unknown_subject_and_route_are_404() {
    let server = TestServer::sqlite().await;
    let response = server
        .get(
            "/api/v1/subjects/00000000-0000-7000-8000-000000000000?purpose=purchase",
            SUPPORT,
        )
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND).await;
    for path in ["/api/v1/nothing", "/nothing", "/api/v2/subjects"] {
        let response = server.get(path, SUPPORT).send().await.unwrap();
        problem(response, StatusCode::NOT_FOUND).await;
    }
    let response = server
        .client
        .delete(format!("{}/api/v1/policy", server.base))
        .bearer_auth(SUPPORT)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn invalid_email_names_field_and_code() {
    let server = TestServer::sqlite().await;
    let response = server
        .post("/api/v1/subjects", SUPPORT, &customer("not an e-mail"))
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "values[1].value", "{body}");
    assert!(
        body["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_json_is_400() {
    let server = TestServer::sqlite().await;
    let response = server
        .client
        .post(format!("{}/api/v1/subjects", server.base))
        .bearer_auth(SUPPORT)
        .header("content-type", "application/json")
        .body(r#"{"kind": "person", "values": ["#)
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["code"], "malformed_json");
}

#[tokio::test]
async fn oversized_body_is_413() {
    let server = TestServer::sqlite().await;
    let mut big = customer("dan@example.se");
    big["values"][0]["value"] = Value::String("x".repeat(300 * 1024));
    let response = server
        .post("/api/v1/subjects", SUPPORT, &big)
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(body["code"], "too_large");
}

#[tokio::test]
async fn unknown_fields_are_rejected() {
    let server = TestServer::sqlite().await;
    let mut with_extra = customer("eva@example.se");
    with_extra["values"][0]["colour"] = json!("blue");
    let response = server
        .post("/api/v1/subjects", SUPPORT, &with_extra)
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Where, and what is allowed there; not the caller's key, which may be anything.
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("values[0]: unknown field, expected one of `category`"),
        "{body}"
    );
    assert!(!detail.contains("colour"), "{body}");
    let response = server
        .post(
            "/api/v1/subjects/lookup",
            SUPPORT,
            &json!({"kind": "email", "value": "eva@example.se", "purpose": "purchase", "x": 1}),
        )
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn bad_paths_queries_and_purposes_are_problems() {
    let server = TestServer::sqlite().await;
    let id = created(&server).await;
    let cases = [
        (
            "/api/v1/subjects/not-a-uuid?purpose=purchase",
            StatusCode::BAD_REQUEST,
        ),
        (&*format!("/api/v1/subjects/{id}"), StatusCode::BAD_REQUEST),
        (
            &*format!("/api/v1/subjects/{id}?purpose=gossip"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (path, status) in cases {
        let response = server.get(path, SUPPORT).send().await.unwrap();
        problem(response, status).await;
    }
    let response = server
        .post(
            "/api/v1/archive/nope/read",
            SUPPORT,
            &json!({"reason": "audit"}),
        )
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST).await;
    let response = server
        .post(
            "/api/v1/archive/ar_00000000000000000000000000000000/read",
            SUPPORT,
            &json!({"reason": "authority request 2026-17"}),
        )
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND).await;
}

/// Personal data put where it does not belong — in a field of the wrong type, as a name, a
/// kind, a purpose, a field name or an id — never comes back in the error.
#[tokio::test]
async fn no_error_repeats_what_the_caller_sent() {
    let server = TestServer::sqlite().await;
    let id = created(&server).await;
    let email = "astrid.lindqvist@example.se";
    let number = "19811228-9874";
    let value = |category: Value, value: Value, purposes: Value, provenance: Value| {
        json!({"kind": "person", "values": [{
            "category": category, "value": value, "purposes": purposes, "provenance": provenance
        }]})
    };
    let ok_value = || {
        value(
            json!("email"),
            json!(email),
            json!(["purchase"]),
            json!("provided"),
        )
    };
    let mut bodies: Vec<(&str, Value)> = vec![
        ("kind", json!({"kind": email, "values": []})),
        (
            "category",
            value(
                json!(number),
                json!(email),
                json!(["purchase"]),
                json!("provided"),
            ),
        ),
        (
            "purposes",
            value(
                json!("email"),
                json!(email),
                json!([number]),
                json!("provided"),
            ),
        ),
        (
            "provenance",
            value(
                json!("email"),
                json!(email),
                json!(["purchase"]),
                json!(email),
            ),
        ),
        (
            "phone as a number",
            value(
                json!("phone"),
                json!(701_112_233),
                json!(["purchase"]),
                json!("provided"),
            ),
        ),
        (
            "value as a list",
            value(
                json!("email"),
                json!([email]),
                json!(["purchase"]),
                json!("provided"),
            ),
        ),
    ];
    let mut unknown_field = ok_value();
    unknown_field[email] = json!(1);
    bodies.push(("unknown field", unknown_field));
    let mut bad_time = ok_value();
    bad_time["activities"] = json!([{"kind": "purchase", "at": number}]);
    bodies.push(("activity time", bad_time));
    let mut texts = Vec::new();
    for (what, body) in &bodies {
        let response = server
            .post("/api/v1/subjects", SUPPORT, body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_client_error(), "{what}: {status} {text}");
        texts.push((what.to_string(), text));
    }
    for (what, body) in [
        (
            "lookup kind",
            json!({"kind": email, "value": email, "purpose": "purchase"}),
        ),
        (
            "lookup purpose",
            json!({"kind": "email", "value": email, "purpose": number}),
        ),
        (
            "lookup value",
            json!({"kind": "identity_number", "value": "19811228-9875", "purpose": "purchase"}),
        ),
    ] {
        let response = server
            .post("/api/v1/subjects/lookup", SUPPORT, &body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{what}");
        texts.push((what.to_owned(), response.text().await.unwrap()));
    }
    for (what, path) in [
        (
            "path id",
            format!("/api/v1/subjects/{email}?purpose=purchase"),
        ),
        (
            "query purpose",
            format!("/api/v1/subjects/{id}?purpose={number}"),
        ),
    ] {
        let response = server.get(&path, SUPPORT).send().await.unwrap();
        assert!(response.status().is_client_error(), "{what}");
        texts.push((what.to_owned(), response.text().await.unwrap()));
    }
    for (what, text) in texts {
        for secret in [email, number, "701112233", "19811228-9875", "astrid"] {
            assert!(!text.contains(secret), "{what}: {secret} in {text}");
        }
    }
}
