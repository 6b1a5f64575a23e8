//! `/openapi.json` describes every route, and what it says is what goes over the wire: its
//! examples validate against its schemas, and so do real responses.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{LEGAL, SUPPORT, TestServer, customer};

/// Every route the server has (method, path as documented). Routes added later appear in the
/// document by construction; this list is the floor the test holds it to.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/subjects"),
    ("post", "/api/v1/subjects/lookup"),
    ("get", "/api/v1/subjects/{id}"),
    ("delete", "/api/v1/subjects/{id}"),
    ("get", "/api/v1/subjects/{id}/export"),
    ("post", "/api/v1/subjects/{id}/values"),
    ("put", "/api/v1/subjects/{id}/values/{value_id}"),
    ("post", "/api/v1/subjects/{id}/activities"),
    ("post", "/api/v1/subjects/{id}/disclosures"),
    ("post", "/api/v1/archive/{reference}/read"),
    ("get", "/api/v1/policy"),
    ("get", "/api/v1/policy/notice"),
    ("get", "/api/v1/policy/register"),
    ("get", "/notice"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

/// The API routes anyone may call; every other route under `/api/v1` needs a token.
const PUBLIC_API: &[&str] = &["/api/v1/policy/notice"];

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(server: &TestServer) -> Value {
    let response = server.public("/openapi.json").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// Every (method, path) the document has.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                out.push((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

/// A validator for `schema`, which may `$ref` the document's components.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}\n{schema}"))
}

fn assert_valid(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let validator = validator(doc, schema);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}\ninstance: {instance}\nschema: {schema}",
        errors.join("\n")
    );
}

/// The schema of the JSON response of `method path` with `status`.
fn response_schema(doc: &Value, method: &str, path: &str, status: u16, media: &str) -> Value {
    let mut response = &doc["paths"][path][method]["responses"][status.to_string()];
    if let Some(reference) = response["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        response = &doc["components"]["responses"][name];
    }
    let schema = &response["content"][media]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} documents no {media} body for {status}"
    );
    schema.clone()
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_answers() {
    let server = TestServer::sqlite().await;
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    // The served document is the generated one, with the policy's names where requests take
    // them.
    let generated = serde_json::to_value(integritet_web::openapi()).unwrap();
    let keys = |doc: &Value| {
        doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&doc), keys(&generated));
    let schemas = &doc["components"]["schemas"];
    let names = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let categories = names(&schemas["NewValue"]["properties"]["category"]["enum"]);
    assert!(categories.contains(&"email".to_owned()), "{categories:?}");
    assert!(
        categories.contains(&"customer_number".to_owned()),
        "{categories:?}"
    );
    assert_eq!(
        names(&schemas["NewValue"]["properties"]["purposes"]["items"]["enum"]).len(),
        9
    );
    assert!(
        names(&schemas["NewActivity"]["properties"]["kind"]["enum"])
            .contains(&"purchase".to_owned())
    );
    assert!(
        names(&schemas["DisclosureRequest"]["properties"]["recipient"]["enum"])
            .contains(&"it_suppliers".to_owned())
    );
    let purpose = doc["paths"]["/api/v1/subjects/{id}"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "purpose")
        .unwrap();
    assert!(names(&purpose["schema"]["enum"]).contains(&"bookkeeping".to_owned()));
    // Responses may name what an older policy had, so their schemas stay open.
    assert!(
        schemas["ValueView"]["properties"]["category"]
            .get("enum")
            .is_none()
    );
    let documented = operations(&doc);
    for (method, path) in ROUTES {
        assert!(
            documented.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is not in /openapi.json"
        );
    }

    let id = server.create("lars@example.se").await;
    for (method, path) in &documented {
        let concrete = path
            .replace("{id}", &id)
            .replace("{value_id}", "00000000-0000-7000-8000-000000000000")
            .replace("{reference}", "ar_00000000000000000000000000000000");
        let request = server
            .client
            .request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                format!("{}{concrete}", server.base),
            )
            .bearer_auth(LEGAL)
            .json(&json!({}));
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED && !body.contains("no such resource"),
            "{method} {path} is documented but not routed: {status} {body}"
        );

        // Security: bearer on the API, nothing on the public routes.
        let operation = &doc["paths"][path][method];
        let public = !path.starts_with("/api/v1/") || PUBLIC_API.contains(&path.as_str());
        assert_eq!(
            operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some())),
            !public,
            "{method} {path}: security {}",
            operation["security"]
        );
        assert!(
            public || operation["responses"].get("401").is_some(),
            "{method} {path} needs a token but does not document 401"
        );
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{method} {path} takes a body but does not document {status}"
                );
            }
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "itg_ and 64 hex digits, from `integritet token create`",
            "description": "A staff API token: `Authorization: Bearer itg_…`. It carries one role of the policy."
        })
    );
}

#[tokio::test]
async fn documented_examples_validate() {
    let server = TestServer::sqlite().await;
    let doc = document(&server).await;
    let mut checked = 0;
    // Examples on schemas.
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let examples = schema["examples"]
            .as_array()
            .cloned()
            .into_iter()
            .flatten()
            .chain(schema.get("example").cloned());
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        for example in examples {
            assert_valid(
                &doc,
                &reference,
                &example,
                &format!("the example of {name}"),
            );
            checked += 1;
        }
    }
    // Examples of request bodies.
    for (method, path) in operations(&doc) {
        let body = &doc["paths"][&path][&method]["requestBody"]["content"]["application/json"];
        if let Some(example) = body.get("example") {
            assert_valid(
                &doc,
                &body["schema"],
                example,
                &format!("the request example of {method} {path}"),
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} examples");

    // And an example is accepted by the server: the create example creates a subject.
    let example = doc["paths"]["/api/v1/subjects"]["post"]["requestBody"]["content"]
        ["application/json"]["example"]
        .clone();
    let response = server
        .post("/api/v1/subjects", SUPPORT, &example)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn responses_match_their_schemas() {
    let server = TestServer::sqlite().await;
    let doc = document(&server).await;
    let check = |method: &'static str, path: &'static str, status: u16, body: Value| {
        let schema = response_schema(&doc, method, path, status, "application/json");
        assert_valid(&doc, &schema, &body, &format!("{method} {path} {status}"));
    };
    let problem_of = |method: &'static str, path: &'static str, status: u16, body: Value| {
        let schema = response_schema(&doc, method, path, status, "application/problem+json");
        assert_valid(&doc, &schema, &body, &format!("{method} {path} {status}"));
    };

    let created = server
        .post("/api/v1/subjects", SUPPORT, &customer("maja@example.se"))
        .send()
        .await
        .unwrap();
    let created: Value = created.json().await.unwrap();
    check("post", "/api/v1/subjects", 201, created.clone());
    let id = created["id"].as_str().unwrap().to_owned();

    let get = |path: String, token: &'static str| {
        let request = server.get(&path, token);
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, read) = get(format!("/api/v1/subjects/{id}?purpose=purchase"), SUPPORT).await;
    check("get", "/api/v1/subjects/{id}", status, read);
    let (status, missing) = get(
        "/api/v1/subjects/00000000-0000-7000-8000-000000000000?purpose=purchase".into(),
        SUPPORT,
    )
    .await;
    problem_of("get", "/api/v1/subjects/{id}", status, missing);
    let (status, invalid) = get(format!("/api/v1/subjects/{id}?purpose=gossip"), SUPPORT).await;
    problem_of("get", "/api/v1/subjects/{id}", status, invalid);
    let (status, policy) = get("/api/v1/policy".into(), SUPPORT).await;
    check("get", "/api/v1/policy", status, policy);
    let (status, register) = get("/api/v1/policy/register".into(), SUPPORT).await;
    check("get", "/api/v1/policy/register", status, register);
    let (status, export) = get(format!("/api/v1/subjects/{id}/export"), LEGAL).await;
    check("get", "/api/v1/subjects/{id}/export", status, export);

    let lookup: Value = server
        .post(
            "/api/v1/subjects/lookup",
            SUPPORT,
            &json!({"kind": "email", "value": "maja@example.se", "purpose": "purchase"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check("post", "/api/v1/subjects/lookup", 200, lookup);
    let added: Value = server
        .post(
            &format!("/api/v1/subjects/{id}/values"),
            SUPPORT,
            &json!({"values": [{"category": "phone", "value": "+46701234567", "purposes": ["purchase"]}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check("post", "/api/v1/subjects/{id}/values", 201, added);
    let unauthorized = server
        .client
        .get(format!("{}/api/v1/policy", server.base))
        .send()
        .await
        .unwrap();
    problem_of(
        "get",
        "/api/v1/policy",
        401,
        unauthorized.json().await.unwrap(),
    );

    let erased = server
        .delete(&format!("/api/v1/subjects/{id}"), LEGAL)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), StatusCode::OK);
    let erased: Value = erased.json().await.unwrap();
    check("delete", "/api/v1/subjects/{id}", 200, erased.clone());
    let reference = erased["archive_references"][0].as_str().unwrap();
    let archive: Value = server
        .post(
            &format!("/api/v1/archive/{reference}/read"),
            LEGAL,
            &json!({"reason": "Skatteverket audit of the 2026 books"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check("post", "/api/v1/archive/{reference}/read", 200, archive);
}
