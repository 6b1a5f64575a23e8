//! Every role × endpoint × purpose of the example policy, over HTTP: a role gets only what its
//! purposes allow, each refusal is audited, and no value of a category outside a role's
//! purposes ever appears in any response that role receives. Then the subject's own limits:
//! a restriction (Art. 18) and an objection (Art. 21).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use integritet_app::store::Store;
use integritet_app::vault::{Actor, NewSubjectInput, NewValue, Vault};
use integritet_app::vault_conformance::vault_over;
use integritet_domain::audit::AuditAction;
use integritet_domain::personal::PersonalValue;
use integritet_domain::policy::{Policy, ValueKind};
use integritet_domain::subject::{Provenance, SubjectKind};
use integritet_store_sqlite::SqliteStore;
use integritet_web::{AppState, StaticTokens};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const ADMIN: &str = "admin-token";

/// One plaintext value per category, each valid for its kind.
fn sample(category: &str) -> &'static str {
    match category {
        "name" => "Matrix Testperson",
        "identity_number" => "19121212-1212",
        "postal_address" => "Matrisgatan 7, 702 10 Örebro",
        "phone" => "+46701234567",
        "email" => "matrix.testperson@example.se",
        "payment_details" => "klarna:ord_matrix77",
        "customer_number" => "K-77001",
        "order_history" => "Order matrix-1: tracker ST-9",
        "ip_address" => "192.0.2.77",
        "website_usage" => "viewed page matrix-trackers",
        "geolocation" => "59.27,15.21",
        "device_info" => "device matrix-phone-os",
        "log_info" => "login matrix-log-line",
        "support_case" => "case matrix: no position",
        other => panic!("no sample for category {other}; add one"),
    }
}

fn token_of(role: &str) -> String {
    format!("{role}-token")
}

struct Matrix {
    base: String,
    client: Client,
    vault: Arc<Vault>,
    store: Arc<dyn Store>,
    policy: Policy,
    /// Per role: every plaintext it received, to search for values it must never see.
    received: BTreeMap<String, String>,
    _stop: oneshot::Sender<()>,
}

impl Matrix {
    async fn start(store: Arc<dyn Store>) -> Matrix {
        let (vault, _clock) = vault_over(store.clone());
        let vault = Arc::new(vault);
        let policy = vault.policy().policy.clone();
        let mut tokens = StaticTokens::new().with(ADMIN, "admin", "admin");
        for role in policy.roles.keys() {
            tokens = tokens.with(token_of(role), role, role);
        }
        let state = AppState::new(vault.clone(), Arc::new(tokens));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(integritet_web::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Matrix {
            base: format!("http://{addr}"),
            client: Client::new(),
            vault,
            store,
            policy,
            received: BTreeMap::new(),
            _stop: stop,
        }
    }

    /// A subject with one value in every category, collected for every purpose that lists it.
    async fn full_subject(&self) -> String {
        let values = self
            .policy
            .categories
            .keys()
            .filter_map(|category| {
                let purposes: Vec<String> = self
                    .policy
                    .purposes
                    .iter()
                    .filter(|(_, p)| p.categories.contains(category))
                    .map(|(name, _)| name.clone())
                    .collect();
                (!purposes.is_empty()).then(|| NewValue {
                    category: category.clone(),
                    value: PersonalValue::new(sample(category)),
                    provenance: Provenance::Provided,
                    purposes,
                    collected_at: None,
                })
            })
            .collect();
        let id = self
            .vault
            .create_subject(
                &Actor::system("matrix"),
                NewSubjectInput {
                    kind: SubjectKind::Person,
                    values,
                    activities: vec![],
                },
            )
            .await
            .unwrap();
        id.to_string()
    }

    async fn call(
        &mut self,
        role: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let token = if role == "admin" {
            ADMIN.to_owned()
        } else {
            token_of(role)
        };
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        assert!(
            status.as_u16() < 500,
            "{role} {path}: server error {status}"
        );
        let text = response.text().await.unwrap();
        self.received
            .entry(role.to_owned())
            .or_default()
            .push_str(&text);
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, body)
    }

    fn holds(&self, role: &str, purpose: &str) -> bool {
        self.policy
            .roles
            .get(role)
            .is_some_and(|r| r.purposes.iter().any(|p| p == purpose))
    }

    /// Categories a role may ever see: those of its purposes (all of them for a role that
    /// carries out data subjects' requests, which hands a person their own full copy).
    fn visible(&self, role: &str) -> BTreeSet<String> {
        let Some(entry) = self.policy.roles.get(role) else {
            return BTreeSet::new();
        };
        if entry.handles_requests {
            return self.policy.categories.keys().cloned().collect();
        }
        entry
            .purposes
            .iter()
            .filter_map(|p| self.policy.purposes.get(p))
            .flat_map(|p| p.categories.iter().cloned())
            .collect()
    }

    async fn refusals(&self) -> usize {
        let entries = self
            .store
            .audit_entries(0, u64::MAX, 100_000)
            .await
            .unwrap();
        entries
            .iter()
            .filter(|e| e.draft.action == AuditAction::Refused)
            .count()
    }
}

fn all_roles(policy: &Policy) -> Vec<String> {
    let mut roles: Vec<String> = policy.roles.keys().cloned().collect();
    roles.push("admin".into());
    roles
}

async fn walk(store: Arc<dyn Store>) {
    let mut m = Matrix::start(store).await;
    let subject = m.full_subject().await;
    let roles = all_roles(&m.policy);
    let purposes: Vec<String> = m.policy.purposes.keys().cloned().collect();
    let mut checked = 0usize;

    for role in &roles {
        for purpose in &purposes {
            let allowed = m.holds(role, purpose);
            let before = m.refusals().await;

            // Read for the purpose: exactly the purpose's categories, or refused and audited.
            let (status, body) = m
                .call(
                    role,
                    Method::GET,
                    &format!("/api/v1/subjects/{subject}?purpose={purpose}"),
                    None,
                )
                .await;
            if allowed {
                assert_eq!(status, StatusCode::OK, "{role} reading for {purpose}");
                let listed: BTreeSet<&str> = m.policy.purposes[purpose]
                    .categories
                    .iter()
                    .map(String::as_str)
                    .collect();
                let got: BTreeSet<String> = body["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v["category"].as_str().unwrap().to_owned())
                    .collect();
                let expected: BTreeSet<String> = listed
                    .iter()
                    .filter(|c| m.policy.categories.contains_key(**c))
                    .map(|c| (*c).to_owned())
                    .collect();
                assert_eq!(got, expected, "{role} reading for {purpose}");
                for value in body["values"].as_array().unwrap() {
                    let category = value["category"].as_str().unwrap();
                    assert_eq!(value["value"], sample(category));
                }
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} reading for {purpose}"
                );
                assert_eq!(
                    m.refusals().await,
                    before + 1,
                    "{role} {purpose}: refusal audited"
                );
            }
            checked += 1;

            // Lookup by e-mail for the purpose.
            let (status, _) = m
                .call(
                    role,
                    Method::POST,
                    "/api/v1/subjects/lookup",
                    Some(json!({"kind": "email", "value": sample("email"), "purpose": purpose})),
                )
                .await;
            // A purpose finds people only by the kinds of data it lists.
            let lists_email = m.policy.purposes[purpose]
                .categories
                .iter()
                .any(|c| m.policy.categories[c].kind == ValueKind::Email);
            let want = if allowed && lists_email {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, want, "{role} lookup for {purpose}");
            checked += 1;

            // Disclosures to every recipient declared for the purpose.
            let recipients: Vec<(String, Vec<String>)> = m
                .policy
                .recipients
                .iter()
                .filter(|(_, r)| r.purposes.contains(purpose))
                .map(|(name, r)| (name.clone(), r.categories.clone()))
                .collect();
            for (recipient, categories) in recipients {
                let (status, _) = m
                    .call(
                        role,
                        Method::POST,
                        &format!("/api/v1/subjects/{subject}/disclosures"),
                        Some(json!({"recipient": recipient, "purpose": purpose, "categories": [categories[0]]})),
                    )
                    .await;
                let want = if allowed {
                    StatusCode::NO_CONTENT
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(
                    status, want,
                    "{role} disclosure to {recipient} for {purpose}"
                );
                checked += 1;
            }
        }

        // Activities: only roles whose purposes' retention clocks the activity restarts.
        for kind in m.policy.activities.keys().cloned().collect::<Vec<_>>() {
            let counted = m.policy.purposes.iter().any(|(name, p)| {
                m.holds(role, name)
                    && matches!(&p.retention, Some(integritet_domain::policy::Retention::AfterLastActivity { activities, .. }) if activities.contains(&kind))
            });
            let (status, _) = m
                .call(
                    role,
                    Method::POST,
                    &format!("/api/v1/subjects/{subject}/activities"),
                    Some(json!([{"kind": kind, "at": "2026-03-01T10:00:00Z"}])),
                )
                .await;
            let want = if counted {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, want, "{role} recording {kind}");
            checked += 1;
        }

        // The full copy (Art. 15) only for roles that handle data subjects' requests.
        let handles = m.policy.roles.get(role).is_some_and(|r| r.handles_requests);
        let (status, body) = m
            .call(
                role,
                Method::GET,
                &format!("/api/v1/subjects/{subject}/export"),
                None,
            )
            .await;
        if handles {
            assert_eq!(status, StatusCode::OK, "{role} export");
            assert_eq!(
                body["values"].as_array().unwrap().len(),
                m.policy.categories.len()
            );
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} export");
        }
        checked += 1;

        // Staff tokens: the administrator only.
        let (status, _) = m.call(role, Method::GET, "/api/v1/tokens", None).await;
        let want = if role == "admin" {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(status, want, "{role} listing tokens");
        checked += 1;
    }

    // Archive reads: a second person's erasure leaves one entry per legal obligation; a role
    // opens only the entries of purposes it holds, and sees only those purposes' categories.
    let erased = m.full_subject().await;
    let outcome = m
        .vault
        .erase(&Actor::system("matrix"), erased.parse().unwrap(), "request")
        .await
        .unwrap();
    assert!(outcome.archive.len() >= 2, "{:?}", outcome.archive);
    for entry in &outcome.archive {
        assert_eq!(entry.purposes.len(), 1, "one purpose per entry: {entry:?}");
        let purpose = &entry.purposes[0];
        for role in &roles {
            let before = m.refusals().await;
            let (status, body) = m
                .call(
                    role,
                    Method::POST,
                    &format!("/api/v1/archive/{}/read", entry.reference),
                    Some(json!({"reason": "Revision av räkenskaper 2026"})),
                )
                .await;
            if m.holds(role, purpose) {
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "{role} reading the {purpose} archive"
                );
                for value in body["values"].as_array().unwrap() {
                    let category = value["category"].as_str().unwrap();
                    assert!(
                        m.policy.purposes[purpose]
                            .categories
                            .iter()
                            .any(|c| c == category),
                        "{role} got {category} from the {purpose} archive"
                    );
                }
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} reading the {purpose} archive"
                );
                assert_eq!(m.refusals().await, before + 1, "{role}: refusal audited");
            }
            checked += 1;
        }
    }

    // Creating and adding values: a role must hold a purpose of every value it stores.
    for role in &roles {
        for purpose in &purposes {
            let category = &m.policy.purposes[purpose].categories[0];
            let (status, _) = m
                .call(
                    role,
                    Method::POST,
                    "/api/v1/subjects",
                    Some(json!({"kind": "person", "values": [{"category": category, "value": sample(category), "purposes": [purpose]}]})),
                )
                .await;
            let want = if m.holds(role, purpose) {
                StatusCode::CREATED
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, want, "{role} creating a subject for {purpose}");
            checked += 1;
        }
    }

    // Rectification: only a role holding one of the value's purposes.
    let export = m
        .vault
        .export(&Actor::system("matrix"), subject.parse().unwrap())
        .await
        .unwrap();
    for value in &export.values {
        for role in &roles {
            let allowed = value.purposes.iter().any(|p| m.holds(role, p));
            if allowed {
                continue; // Rectifying changes the value's id; the allowed case is shown below.
            }
            let (status, _) = m
                .call(
                    role,
                    Method::PUT,
                    &format!("/api/v1/subjects/{subject}/values/{}", value.id),
                    Some(json!({"value": sample(&value.category)})),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{role} rectifying {}",
                value.category
            );
            checked += 1;
        }
    }
    let email = export
        .values
        .iter()
        .find(|v| v.category == "email")
        .unwrap();
    let (status, _) = m
        .call(
            "support",
            Method::PUT,
            &format!("/api/v1/subjects/{subject}/values/{}", email.id),
            Some(json!({"value": sample("email")})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "support rectifying an e-mail address"
    );

    // No role ever received a value of a category outside what it may see.
    for role in &roles {
        let visible = m.visible(role);
        let received = m.received.get(role).cloned().unwrap_or_default();
        for category in m.policy.categories.keys() {
            if !visible.contains(category) {
                assert!(
                    !received.contains(sample(category)),
                    "{role} received a value of {category}, which none of its purposes lists"
                );
            }
        }
    }
    assert!(checked > 300, "the walk covered {checked} cases");

    subject_limits(&mut m, &subject).await;
}

/// Restriction (Art. 18) and objection (Art. 21) bind every role.
async fn subject_limits(m: &mut Matrix, subject: &str) {
    // Only a role that handles requests may restrict.
    let (status, _) = m
        .call(
            "support",
            Method::PUT,
            &format!("/api/v1/subjects/{subject}/restriction"),
            Some(json!({"restricted": true})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = m
        .call(
            "legal",
            Method::PUT,
            &format!("/api/v1/subjects/{subject}/restriction"),
            Some(json!({"restricted": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for role in all_roles(&m.policy) {
        for purpose in m.policy.purposes.keys().cloned().collect::<Vec<_>>() {
            if !m.holds(&role, &purpose) {
                continue;
            }
            let (status, body) = m
                .call(
                    &role,
                    Method::GET,
                    &format!("/api/v1/subjects/{subject}?purpose={purpose}"),
                    None,
                )
                .await;
            let legal = m.policy.purposes[&purpose].legal_basis
                == Some(integritet_domain::policy::LegalBasis::LegalObligation);
            if legal {
                assert_eq!(status, StatusCode::OK, "{role} {purpose} while restricted");
                assert_eq!(body["restricted"], true);
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} {purpose} while restricted"
                );
            }
        }
    }
    let (status, _) = m
        .call(
            "legal",
            Method::PUT,
            &format!("/api/v1/subjects/{subject}/restriction"),
            Some(json!({"restricted": false})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // An objection to a legitimate-interest purpose refuses it for this subject only.
    let (status, _) = m
        .call(
            "legal",
            Method::POST,
            &format!("/api/v1/subjects/{subject}/objections"),
            Some(json!({"purpose": "customer_care"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = m
        .call(
            "support",
            Method::GET,
            &format!("/api/v1/subjects/{subject}?purpose=customer_care"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = m
        .call(
            "support",
            Method::GET,
            &format!("/api/v1/subjects/{subject}?purpose=purchase"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Contract purposes cannot be objected to; the error says why.
    let (status, body) = m
        .call(
            "legal",
            Method::POST,
            &format!("/api/v1/subjects/{subject}/objections"),
            Some(json!({"purpose": "purchase"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "not_objectable");
    let (status, _) = m
        .call(
            "legal",
            Method::DELETE,
            &format!("/api/v1/subjects/{subject}/objections/customer_care"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = m
        .call(
            "support",
            Method::GET,
            &format!("/api/v1/subjects/{subject}?purpose=customer_care"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The audit chain holds every step.
    let summary = integritet_app::audit_log::verify(m.store.as_ref(), |_| {})
        .await
        .unwrap();
    assert!(summary.entries > 300, "{summary:?}");
}

#[tokio::test]
async fn every_role_endpoint_and_purpose_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("integritet.db"))
        .await
        .unwrap();
    walk(Arc::new(store)).await;
}

#[tokio::test]
async fn every_role_endpoint_and_purpose_on_postgres() {
    let (store, name) = crate::postgres::fresh_store().await;
    walk(Arc::new(store)).await;
    crate::postgres::drop_database(&name).await;
}

/// Times the stores cannot hold are refused as input, not failed on as a store error.
#[tokio::test]
async fn ancient_times_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("integritet.db"))
        .await
        .unwrap();
    let mut m = Matrix::start(Arc::new(store)).await;
    let subject = m.full_subject().await;
    let (status, body) = m
        .call(
            "support",
            Method::POST,
            &format!("/api/v1/subjects/{subject}/activities"),
            Some(json!([{"kind": "purchase", "at": "1115-09-23T15:30:24Z"}])),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Refused at the edge (`time_out_of_range`) or by the vault (`activity_too_old`).
    assert!(
        ["time_out_of_range", "activity_too_old"].contains(&body["code"].as_str().unwrap()),
        "{body}"
    );
    let (status, body) = m
        .call(
            "support",
            Method::POST,
            "/api/v1/subjects",
            Some(json!({"kind": "person", "values": [{"category": "email", "value": "old@example.se", "purposes": ["purchase"], "collected_at": "1600-01-01T00:00:00Z"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        ["time_out_of_range", "collected_too_early"].contains(&body["code"].as_str().unwrap()),
        "{body}"
    );
}
