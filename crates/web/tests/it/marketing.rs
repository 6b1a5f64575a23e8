//! Marketing over HTTP: the audience, one-click unsubscribe (RFC 8058) in both encodings, the
//! confirm page that changes nothing, links made and revoked, opt-outs recorded by staff.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{LEGAL, MARKETING, SUPPORT, TestServer, problem};

/// A customer whose e-mail address was given for the shop's own marketing.
async fn marketable(server: &TestServer, email: &str) -> String {
    let body = json!({
        "kind": "person",
        "values": [
            {"category": "name", "value": "Kund Kundsson", "purposes": ["purchase"]},
            {"category": "email", "value": email, "purposes": ["purchase", "direct_marketing"]}
        ],
        "activities": [{"kind": "purchase", "at": "2026-03-01T10:00:00Z"}]
    });
    let response = server
        .post("/api/v1/subjects", SUPPORT, &body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn audience(server: &TestServer) -> Vec<Value> {
    let response = server
        .get(
            "/api/v1/marketing/audience?purpose=direct_marketing&channel=email",
            MARKETING,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["contacts"].as_array().unwrap().clone()
}

async fn emails(server: &TestServer) -> Vec<String> {
    let mut found: Vec<String> = audience(server)
        .await
        .iter()
        .map(|c| c["contact"].as_str().unwrap().to_owned())
        .collect();
    found.sort();
    found
}

fn link_of(contacts: &[Value], email: &str) -> (String, String) {
    let contact = contacts
        .iter()
        .find(|c| c["contact"] == email)
        .unwrap_or_else(|| panic!("{email} is in the audience"));
    let link = &contact["unsubscribe"];
    (
        link["url"].as_str().unwrap().to_owned(),
        link["token"].as_str().unwrap().to_owned(),
    )
}

/// A browser's request for a page.
fn html(server: &TestServer, path: &str) -> reqwest::RequestBuilder {
    server
        .public(path)
        .header("accept", "text/html,application/xhtml+xml")
}

pub async fn story(server: &TestServer) {
    let anna = marketable(server, "anna@example.se").await;
    marketable(server, "bo@example.se").await;
    marketable(server, "cia@example.se").await;
    let contacts = audience(server).await;
    assert_eq!(contacts.len(), 3);
    let (anna_url, anna_token) = link_of(&contacts, "anna@example.se");
    assert_eq!(anna_url, format!("http://127.0.0.1:8080/u/{anna_token}"));
    let anna_link = contacts
        .iter()
        .find(|c| c["contact"] == "anna@example.se")
        .unwrap()["unsubscribe"]
        .clone();
    assert_eq!(
        anna_link["list_unsubscribe"],
        format!("<{anna_url}>, <mailto:webbshop@smart-telematik.se?subject=unsubscribe>")
    );
    assert_eq!(
        anna_link["list_unsubscribe_post"],
        "List-Unsubscribe=One-Click"
    );
    let page = format!("/u/{anna_token}");

    // The same as CSV.
    let csv = server
        .get(
            "/api/v1/marketing/audience?purpose=direct_marketing&channel=email&format=csv",
            MARKETING,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("subject,contact,unsubscribe_url,list_unsubscribe\n"));
    assert_eq!(csv.lines().count(), 4);

    // The page changes nothing however often it is opened (mail scanners follow links).
    for _ in 0..3 {
        let response = html(server, &page).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(response.headers().get("set-cookie").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("<html lang=\"sv\">") && html.contains("Avsluta utskicken"));
        assert!(html.contains("Direktmarknadsföring till kunder"));
        assert!(
            !html.contains("anna@example.se"),
            "no personal data on the page"
        );
        assert!(!html.contains("<script") && !html.contains("style="));
    }
    let english = html(server, &page)
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("<html lang=\"en\">") && english.contains("Unsubscribe"));
    assert_eq!(emails(server).await.len(), 3);

    // A body that is not the one-click body changes nothing.
    let wrong = server
        .client
        .post(format!("{}{page}", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=Maybe")
        .send()
        .await
        .unwrap();
    let body = problem(wrong, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["code"], "not_one_click");
    let json_body = server
        .client
        .post(format!("{}{page}", server.base))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(json_body, StatusCode::BAD_REQUEST).await;
    assert_eq!(emails(server).await.len(), 3);

    // One click, form-encoded: 200, an empty body, no redirect, and Anna is gone at once.
    let clicked = server
        .client
        .post(format!("{}{page}", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), StatusCode::OK);
    assert!(clicked.headers().get("set-cookie").is_none());
    assert!(clicked.text().await.unwrap().is_empty());
    assert_eq!(
        emails(server).await,
        vec!["bo@example.se", "cia@example.se"]
    );
    // The link is spent: 410 for the client, a page for the person.
    let again = server
        .client
        .post(format!("{}{page}", server.base))
        .body("List-Unsubscribe=One-Click")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    problem(again, StatusCode::GONE).await;
    let spent = html(server, &page).send().await.unwrap();
    assert_eq!(spent.status(), StatusCode::GONE);
    assert!(spent.text().await.unwrap().contains("redan använts"));
    // A program that reads no pages gets a problem document.
    problem(server.public(&page).send().await.unwrap(), StatusCode::GONE).await;
    // Anna's objection is on record, made by herself.
    let read = server
        .get(
            &format!("/api/v1/subjects/{anna}?purpose=purchase"),
            SUPPORT,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);

    // One click, multipart (RFC 7578), on Bo's link.
    let (_, bo_token) = link_of(&audience(server).await, "bo@example.se");
    let multipart = "--b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b0undary--\r\n";
    let clicked = server
        .client
        .post(format!("{}/u/{bo_token}", server.base))
        .header("content-type", "multipart/form-data; boundary=b0undary")
        .body(multipart)
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), StatusCode::OK);
    assert_eq!(emails(server).await, vec!["cia@example.se"]);

    // The page's own button gets a page back.
    let (_, cia_token) = link_of(&audience(server).await, "cia@example.se");
    let revoked = server
        .post(
            "/api/v1/marketing/unsubscribe-links/revoke",
            MARKETING,
            &json!({"token": cia_token}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(revoked.json::<Value>().await.unwrap()["state"], "revoked");
    let after_revoke = server
        .client
        .post(format!("{}/u/{cia_token}", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(after_revoke.status(), StatusCode::GONE);
    assert_eq!(emails(server).await, vec!["cia@example.se"]);
    let (_, cia_token) = link_of(&audience(server).await, "cia@example.se");
    let done = server
        .client
        .post(format!("{}/u/{cia_token}?lang=en", server.base))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click&page=1")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("You will no longer get")
    );
    assert!(emails(server).await.is_empty());

    // Forged and altered links are nobody's.
    let mut altered = anna_token.clone().into_bytes();
    altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for forged in [altered.as_str(), "AAAAAAAA", "not-a-token"] {
        let page = html(server, &format!("/u/{forged}")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert!(page.text().await.unwrap().contains("Länken fungerar inte"));
        problem(
            server.public(&format!("/u/{forged}")).send().await.unwrap(),
            StatusCode::NOT_FOUND,
        )
        .await;
        let click = server
            .client
            .post(format!("{}/u/{forged}", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        problem(click, StatusCode::NOT_FOUND).await;
    }

    // A link for one recipient, with its headers; support may not make one.
    let made = server
        .post(
            "/api/v1/marketing/unsubscribe-links",
            MARKETING,
            &json!({"subject": anna, "purpose": "direct_marketing", "channel": "email", "campaign": "jul-2026"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    assert!(
        made["list_unsubscribe"]
            .as_str()
            .unwrap()
            .starts_with("<http://127.0.0.1:8080/u/")
    );
    let refused = server
        .post(
            "/api/v1/marketing/unsubscribe-links",
            SUPPORT,
            &json!({"subject": anna, "purpose": "direct_marketing", "channel": "email"}),
        )
        .send()
        .await
        .unwrap();
    problem(refused, StatusCode::FORBIDDEN).await;
    let bad_channel = server
        .get(
            "/api/v1/marketing/audience?purpose=newsletter&channel=phone",
            MARKETING,
        )
        .send()
        .await
        .unwrap();
    let body = problem(bad_channel, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["code"], "not_this_channel");

    // An opt-out by letter for an address the shop does not hold: suppressed for later.
    let opted = server
        .post(
            "/api/v1/marketing/opt-outs",
            LEGAL,
            &json!({"identifier": "email", "value": "Ny@Example.se"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(opted.status(), StatusCode::OK);
    let opted: Value = opted.json().await.unwrap();
    assert_eq!(opted["subjects"], json!([]));
    assert_eq!(opted["suppressed"], true);
    marketable(server, "ny@example.se").await;
    assert!(emails(server).await.is_empty());
}

#[tokio::test]
async fn marketing_over_sqlite() {
    story(&TestServer::sqlite().await).await;
}

#[tokio::test]
async fn the_public_pages_are_rate_limited_per_address() {
    let server = TestServer::sqlite_throttled(integritet_web::throttle::Limits {
        public_per_address: std::num::NonZeroU32::new(5).unwrap(),
        ..integritet_web::throttle::Limits::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(server.public("/u/AAAA").send().await.unwrap().status());
    }
    // A burst of a fifth of the minute's five: one, then a wait.
    assert_eq!(statuses[0], StatusCode::NOT_FOUND);
    let throttled = server.public("/u/AAAA").send().await.unwrap();
    assert!(throttled.headers().contains_key("retry-after"));
    problem(throttled, StatusCode::TOO_MANY_REQUESTS).await;
}
