//! Adding values, the subject's copy (Art. 15), erasure (Art. 17) with the archive, and the
//! policy's public notice and register, over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{LEGAL, MARKETING, SUPPORT, TestServer, problem};

/// The story every backend must pass.
pub async fn story(server: &TestServer) {
    let id = server.create("greta@example.se").await;

    // Add a phone number: 201 with the new id, and the value is there for its purpose.
    let added = server
        .post(
            &format!("/api/v1/subjects/{id}/values"),
            SUPPORT,
            &json!({"values": [
                {"category": "phone", "value": "070-123 45 67", "purposes": ["purchase"]}
            ]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let ids: Value = added.json().await.unwrap();
    let phone_id = ids["ids"][0].as_str().unwrap().to_owned();
    assert_eq!(ids["ids"].as_array().unwrap().len(), 1);
    let read: Value = server
        .get(&format!("/api/v1/subjects/{id}?purpose=purchase"), SUPPORT)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let phone = read["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["category"] == "phone")
        .unwrap();
    assert_eq!(phone["id"], phone_id.as_str());
    assert_eq!(phone["value"], "+46701234567", "normalised to E.164");

    // The subject's own copy: every value, no purpose, as an attachment.
    let export = server
        .get(&format!("/api/v1/subjects/{id}/export"), LEGAL)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    assert!(
        export
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment")),
    );
    let copy: Value = export.json().await.unwrap();
    assert_eq!(copy["id"], id.as_str());
    assert_eq!(copy["purpose"], Value::Null);
    let mut categories: Vec<&str> = copy["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["category"].as_str().unwrap())
        .collect();
    categories.sort_unstable();
    assert_eq!(categories, ["customer_number", "email", "name", "phone"]);

    // Erasure: what bookkeeping still holds goes to the archive, the rest is destroyed.
    let erased = server
        .delete(&format!("/api/v1/subjects/{id}"), LEGAL)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), StatusCode::OK);
    let outcome: Value = erased.json().await.unwrap();
    assert_eq!(outcome["subject"], id.as_str());
    assert_eq!(outcome["reason"], "request");
    assert_eq!(outcome["erased"], json!(["email", "name", "phone"]));
    assert_eq!(outcome["archived"], json!(["customer_number"]));
    let entry = &outcome["archive"][0];
    assert_eq!(entry["reference"], outcome["archive_references"][0]);
    assert_eq!(entry["categories"], json!(["customer_number"]));
    assert_eq!(entry["kept_for"][0]["purpose"], "bookkeeping", "{outcome}");
    assert!(
        entry["kept_for"][0]["law"]
            .as_str()
            .is_some_and(|law| law.contains("Bokföringslagen")),
        "{outcome}"
    );
    assert_eq!(entry["kept_for"].as_array().unwrap().len(), 1, "{outcome}");
    // Bookkeeping keeps to the end of the seventh year after the year of the last purchase.
    assert!(
        entry["shred_after"].as_str().unwrap().ends_with("-12-31"),
        "{outcome}"
    );
    let reference = outcome["archive_references"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reference.starts_with("ar_"));

    // Gone from the live store …
    let read = server
        .get(&format!("/api/v1/subjects/{id}?purpose=purchase"), SUPPORT)
        .send()
        .await
        .unwrap();
    problem(read, StatusCode::NOT_FOUND).await;
    let export = server
        .get(&format!("/api/v1/subjects/{id}/export"), LEGAL)
        .send()
        .await
        .unwrap();
    problem(export, StatusCode::NOT_FOUND).await;
    let again = server
        .delete(&format!("/api/v1/subjects/{id}"), LEGAL)
        .send()
        .await
        .unwrap();
    problem(again, StatusCode::NOT_FOUND).await;

    // A reason is written to the audit log: control characters are refused as input (PostgreSQL
    // cannot store NUL in text, so this was a 500 there).
    let response = server
        .post(
            &format!("/api/v1/archive/{reference}/read"),
            LEGAL,
            &json!({"reason": "Skatteverket audit \u{0} of the books"}),
        )
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "reason", "{body}");

    // … but the archive opens by reference and reason.
    let archived = server
        .post(
            &format!("/api/v1/archive/{reference}/read"),
            LEGAL,
            &json!({"reason": "Skatteverket audit of the 2026 books"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(archived.status(), StatusCode::OK);
    let entry: Value = archived.json().await.unwrap();
    assert_eq!(entry["subject"], id.as_str());
    assert_eq!(entry["values"][0]["category"], "customer_number");
    assert_eq!(entry["values"][0]["value"], "KUND-778812");
}

#[tokio::test]
async fn add_export_erase_over_sqlite() {
    let server = TestServer::sqlite().await;
    story(&server).await;
}

#[tokio::test]
async fn adding_values_checks_its_input() {
    let server = TestServer::sqlite().await;
    let id = server.create("hugo@example.se").await;
    let url = format!("/api/v1/subjects/{id}/values");
    let cases = [
        (json!({"values": []}), "no_values", "values"),
        (
            json!({"values": [{"category": "shoe_size", "value": "43", "purposes": ["purchase"]}]}),
            "unknown_category",
            "values[0].category",
        ),
        (
            json!({"values": [{"category": "email", "value": "hugo-at-example.se", "purposes": ["purchase"]}]}),
            "invalid_email",
            "values[0].value",
        ),
    ];
    for (body, code, field) in cases {
        let response = server.post(&url, SUPPORT, &body).send().await.unwrap();
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["field"], field, "{body}");
        if code != "invalid_email" {
            assert_eq!(body["code"], code, "{body}");
        }
        assert!(!body.to_string().contains("hugo-at"), "echoed: {body}");
    }
    // Times the stores cannot hold are refused as input, on every endpoint that takes them.
    let response = server
        .post(
            &url,
            SUPPORT,
            &json!({"values": [{"category": "name", "value": "Hugo", "purposes": ["purchase"],
                "collected_at": "1600-01-01T00:00:00Z"}]}),
        )
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "values[0].collected_at", "{body}");
    let mut old = crate::customer("hugo.old@example.se");
    old["activities"][0]["at"] = json!("1500-06-01T12:00:00Z");
    let response = server
        .post("/api/v1/subjects", SUPPORT, &old)
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "activities[0].at", "{body}");
    let response = server
        .post(
            &format!("/api/v1/subjects/{id}/activities"),
            SUPPORT,
            &json!([{"kind": "purchase", "at": "2026-01-01T00:00:00Z"}, {"kind": "purchase", "at": "0001-01-01T00:00:00Z"}]),
        )
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "activities[1].at", "{body}");

    // Values as a bare list are not the shape this endpoint takes.
    let response = server
        .post(&url, SUPPORT, &json!([{"category": "email"}]))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = server
        .post(
            "/api/v1/subjects/00000000-0000-7000-8000-000000000000/values",
            SUPPORT,
            &json!({"values": [{"category": "email", "value": "x@example.se", "purposes": ["purchase"]}]}),
        )
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn erasure_and_export_need_a_role_that_handles_requests() {
    let server = TestServer::sqlite().await;
    let id = server.create("ingrid@example.se").await;
    for token in [SUPPORT, MARKETING] {
        let response = server
            .delete(&format!("/api/v1/subjects/{id}"), token)
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::FORBIDDEN).await;
        let response = server
            .get(&format!("/api/v1/subjects/{id}/export"), token)
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::FORBIDDEN).await;
    }
    // The subject is untouched.
    let response = server
        .get(&format!("/api/v1/subjects/{id}?purpose=purchase"), SUPPORT)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    for path in [
        "/api/v1/subjects/not-a-uuid",
        "/api/v1/subjects/not-a-uuid/export",
    ] {
        let response = if path.ends_with("export") {
            server.get(path, LEGAL).send().await.unwrap()
        } else {
            server.delete(path, LEGAL).send().await.unwrap()
        };
        problem(response, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn the_notice_is_public_in_both_languages_and_formats() {
    let server = TestServer::sqlite().await;
    let cases = [
        ("", "text/html; charset=utf-8", "sv", "<html"),
        ("?lang=en", "text/html; charset=utf-8", "en", "Privacy"),
        (
            "?lang=sv&format=md",
            "text/markdown; charset=utf-8",
            "sv",
            "# ",
        ),
        (
            "?format=md&lang=en",
            "text/markdown; charset=utf-8",
            "en",
            "# ",
        ),
    ];
    for base in ["/notice", "/api/v1/policy/notice"] {
        for (query, content_type, lang, needle) in cases {
            let response = server
                .public(&format!("{base}{query}"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{base}{query}");
            assert_eq!(response.headers()["content-type"], content_type);
            assert_eq!(response.headers()["content-language"], lang);
            let text = response.text().await.unwrap();
            assert!(text.contains(needle), "{base}{query}: {}", &text[..200]);
        }
    }
    let sv = server.public("/notice?format=md").send().await.unwrap();
    let sv = sv.text().await.unwrap();
    let en = server
        .public("/notice?format=md&lang=en")
        .send()
        .await
        .unwrap();
    let en = en.text().await.unwrap();
    assert_ne!(sv, en);
    for bad in ["?lang=de", "?format=pdf", "?colour=blue"] {
        let response = server
            .public(&format!("/notice{bad}"))
            .send()
            .await
            .unwrap();
        problem(response, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn the_register_needs_a_token_and_comes_as_json_or_csv() {
    let server = TestServer::sqlite().await;
    let response = server
        .public("/api/v1/policy/register")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;

    let json: Value = server
        .get("/api/v1/policy/register", SUPPORT)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = json["records"].as_array().unwrap();
    assert!(
        records.iter().any(|r| r["purpose"]["id"] == "bookkeeping"),
        "{json}"
    );
    let policy: Value = server
        .get("/api/v1/policy", SUPPORT)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["policy_version"], policy["version"]);

    let csv = server
        .get("/api/v1/policy/register?format=csv", SUPPORT)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    // A header line and one row per purpose.
    assert!(csv.lines().count() > records.len(), "{csv}");
    assert!(csv.contains("bookkeeping"));

    let response = server
        .get("/api/v1/policy/register?format=xlsx", SUPPORT)
        .send()
        .await
        .unwrap();
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["code"], "bad_query");
}

/// A data subject's request over HTTP: registered, proven, extended, answered; refused for a
/// role that does not handle requests; bad input a 422 that echoes nothing; a closed request
/// refuses further steps.
pub async fn requests_story(server: &TestServer) {
    let greta = server.create("greta@example.se").await;
    let created = server
        .post(
            "/api/v1/requests",
            LEGAL,
            &json!({
                "kind": {"type": "erasure"},
                "channel": "email",
                "identifiers": [
                    {"kind": "email", "value": "greta@example.se"},
                    {"kind": "phone", "value": "070-123 45 67"}
                ]
            }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let request: Value = created.json().await.unwrap();
    let id = request["id"].as_str().unwrap().to_owned();
    assert_eq!(request["state"], "received");
    assert!(!request.to_string().contains("greta"), "{request}");

    let gauge = |text: &str, deadline: &str| -> Option<String> {
        text.lines()
            .find(|l| l.starts_with(&format!("integritet_requests{{deadline=\"{deadline}\"}}")))
            .map(|l| l.rsplit(' ').next().unwrap_or_default().to_owned())
    };
    let metrics = server
        .public("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(gauge(&metrics, "open").as_deref(), Some("1"), "{metrics}");
    assert_eq!(gauge(&metrics, "due_soon").as_deref(), Some("0"));
    assert_eq!(gauge(&metrics, "overdue").as_deref(), Some("0"));

    let forbidden = server
        .get("/api/v1/requests", SUPPORT)
        .send()
        .await
        .unwrap();
    problem(forbidden, StatusCode::FORBIDDEN).await;
    let listed: Value = server
        .get("/api/v1/requests?due_within_days=40", LEGAL)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str())
    );

    let early = server
        .post(
            &format!("/api/v1/requests/{id}/complete"),
            LEGAL,
            &json!({"delivery": "email"}),
        )
        .send()
        .await
        .unwrap();
    let body = problem(early, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        body["detail"].as_str().unwrap().contains("not verified"),
        "{body}"
    );
    let bad = server
        .post(
            &format!("/api/v1/requests/{id}/verify"),
            LEGAL,
            &json!({"method": "email_code", "identifiers": [{"kind": "email", "value": "inte-en-adress"}]}),
        )
        .send()
        .await
        .unwrap();
    let body = problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(!body.to_string().contains("inte-en-adress"), "{body}");

    for (path, body) in [
        (
            "verify",
            json!({"method": "email_code", "identifiers": [{"kind": "email", "value": "Greta@Example.se"}]}),
        ),
        (
            "extend",
            json!({"months": 1, "reason": "archived orders to collect", "told_by": "email"}),
        ),
        ("start", json!({})),
        ("carry-out", json!({})),
        (
            "complete",
            json!({"delivery": "email", "address": "greta@example.se"}),
        ),
    ] {
        let response = server
            .post(&format!("/api/v1/requests/{id}/{path}"), LEGAL, &body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let done: Value = server
        .get(&format!("/api/v1/requests/{id}"), LEGAL)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["state"], "completed");
    // Carried out: Greta is erased.
    let gone = server
        .get(
            &format!("/api/v1/subjects/{greta}?purpose=purchase"),
            SUPPORT,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let metrics = server
        .public("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(gauge(&metrics, "open").as_deref(), Some("0"), "{metrics}");
    assert_eq!(done["extension"]["months"], 1);
    assert_eq!(done["verification"]["covers"].as_array().unwrap().len(), 1);
    let late = server
        .post(
            &format!("/api/v1/requests/{id}/refuse"),
            LEGAL,
            &json!({"reason": "x"}),
        )
        .send()
        .await
        .unwrap();
    problem(late, StatusCode::UNPROCESSABLE_ENTITY).await;
    let missing = server
        .get(
            "/api/v1/requests/0193c2f4-0000-7000-8000-000000000000",
            LEGAL,
        )
        .send()
        .await
        .unwrap();
    problem(missing, StatusCode::NOT_FOUND).await;
    every_right_story(server).await;
}

/// A postal request for `email`, registered and proven by an ID document.
async fn proven_request(server: &TestServer, kind: Value, email: &str) -> String {
    let created: Value = server
        .post(
            "/api/v1/requests",
            LEGAL,
            &json!({"kind": kind, "channel": "post", "identifiers": [{"kind": "email", "value": email}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let verified = server
        .post(
            &format!("/api/v1/requests/{id}/verify"),
            LEGAL,
            &json!({"method": "id_document_checked", "identifiers": [{"kind": "email", "value": email}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    id
}

async fn carried_out(server: &TestServer, id: &str, path: &str, body: Value) -> Value {
    let response = server
        .post(&format!("/api/v1/requests/{id}/{path}"), LEGAL, &body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// Every right the system carries out, end to end over HTTP, and a refused request.
async fn every_right_story(server: &TestServer) {
    let hanna = server.create("hanna@example.se").await;
    let id = proven_request(server, json!({"type": "access"}), "hanna@example.se").await;
    let done = carried_out(server, &id, "carry-out", json!({})).await;
    assert_eq!(done["result"]["type"], "reports", "{done}");
    assert_eq!(done["result"]["reports"][0]["subject"], hanna.as_str());
    assert!(done.to_string().contains("hanna@example.se"));
    let page = server
        .get(
            &format!("/api/v1/subjects/{hanna}/access-report?lang=sv&format=html"),
            LEGAL,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page = page.text().await.unwrap();
    assert!(page.contains("Registerutdrag") && page.contains("hanna@example.se"));

    let id = proven_request(server, json!({"type": "portability"}), "hanna@example.se").await;
    let done = carried_out(server, &id, "carry-out", json!({})).await;
    assert_eq!(done["result"]["type"], "portable", "{done}");

    let id = proven_request(server, json!({"type": "rectification"}), "hanna@example.se").await;
    let done = carried_out(
        server,
        &id,
        "rectify",
        json!({"corrections": [{"category": "email", "value": "hanna.ny@example.se"}]}),
    )
    .await;
    assert_eq!(done["result"]["type"], "rectified", "{done}");
    assert_eq!(done["result"]["rectified"].as_array().unwrap().len(), 1);

    let id = proven_request(
        server,
        json!({"type": "objection", "to": {"marketing": "email"}}),
        "hanna.ny@example.se",
    )
    .await;
    let done = carried_out(server, &id, "carry-out", json!({})).await;
    assert_eq!(done["result"]["type"], "objected", "{done}");

    let id = proven_request(
        server,
        json!({"type": "restriction"}),
        "hanna.ny@example.se",
    )
    .await;
    let done = carried_out(server, &id, "carry-out", json!({})).await;
    assert_eq!(done["result"]["type"], "restricted", "{done}");

    // Refused within the first month, with the reason the person is told.
    let id = proven_request(server, json!({"type": "erasure"}), "hanna.ny@example.se").await;
    let refused = carried_out(
        server,
        &id,
        "refuse",
        json!({"reason": "the data is needed to defend a legal claim (Art. 17(3)(e))"}),
    )
    .await;
    assert_eq!(refused["state"], "refused", "{refused}");
}

#[tokio::test]
async fn requests_over_sqlite() {
    requests_story(&TestServer::sqlite().await).await;
}
