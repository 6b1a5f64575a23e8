//! No input makes any endpoint answer 5xx. Every path and method of `/openapi.json` gets, from
//! proptest, random path parameters (real ids, percent-encoded junk, very long strings,
//! unicode), random query strings and random bodies (the document's example with a leaf
//! changed, arbitrary JSON of mixed shapes, truncated JSON, invalid UTF-8, forms, the wrong
//! content type, a body over the limit), with no credentials, a bearer token of each role, a
//! bad token, the console session cookie (with and without its CSRF token) or a bad cookie.
//!
//! Every answer must be below 500 (a 429 from the login and lookup limits is a right answer),
//! every error a problem document, and no error may repeat a piece of the random input
//! ([`ECHO_CHARS`] characters or more) that the route, the document or the policy does not
//! already say.
//!
//! `INTEGRITET_TEST_NO_5XX_CASES` sets the number of requests (default 2048),
//! `INTEGRITET_TEST_NO_5XX_SEED` the seed (default: a fresh one; printed, and given with a
//! failure).

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::sync::{Arc, Mutex};

use integritet_app::users::{self, Accounts, NewUser, Password};
use integritet_app::vault_conformance::{SEED_POLICY, vault_over};
use integritet_domain::clock::ManualClock;
use integritet_store_sqlite::SqliteStore;
use integritet_web::{AppState, CSRF_HEADER, SESSION_COOKIE, StaticTokens};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use rand::SeedableRng;
use reqwest::{Client, Method};
use serde_json::{Map, Value, json};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// Shared pieces this long or longer count as repeating the input.
const ECHO_CHARS: usize = 6;

/// Bearer tokens: one per role of the seed policy, and the administrator.
const TOKENS: [(&str, &str); 7] = [
    ("no5xx-support", "support"),
    ("no5xx-marketing", "marketing"),
    ("no5xx-finance", "finance"),
    ("no5xx-risk", "risk"),
    ("no5xx-product", "product"),
    ("no5xx-legal", "legal"),
    ("no5xx-admin", "admin"),
];
const SUPPORT: &str = TOKENS[0].0;
const LEGAL: &str = TOKENS[5].0;
const ADMIN: &str = TOKENS[6].0;

const PASSWORD: &str = "rätt häst batteri häftklammer";

/// Words of the API and the policy, sent as they are: not random input.
const WORDS: &[&str] = &[
    "kind",
    "values",
    "value",
    "category",
    "purposes",
    "purpose",
    "provenance",
    "collected_at",
    "activities",
    "at",
    "recipient",
    "categories",
    "reason",
    "restricted",
    "role",
    "label",
    "expires_in_days",
    "name",
    "password",
    "person",
    "organisation",
    "provided",
    "observed",
    "email",
    "phone",
    "identity_number",
    "customer_number",
    "postal_address",
    "purchase",
    "bookkeeping",
    "customer_care",
    "customer_relationship",
    "direct_marketing",
    "newsletter",
    "it_suppliers",
    "support",
    "admin",
    "legal",
    "sv",
    "en",
    "md",
    "html",
    "csv",
    "json",
    "lang",
    "format",
    "2026-03-01T10:00:00Z",
    "2026-03-01",
    "astrid@example.se",
    "19811228-9874",
    "070-123 45 67",
    "anna",
];

/// One operation of the document.
#[derive(Debug, Clone)]
struct Operation {
    method: Method,
    template: String,
    params: Vec<String>,
    query: Vec<String>,
    example: Option<Value>,
}

/// The operations of `/openapi.json`, each with an example body when it takes one.
fn operations(document: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    let paths = document["paths"].as_object().unwrap();
    for (template, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let of = |place: &str| -> Vec<String> {
                parameters
                    .iter()
                    .filter(|p| p["in"] == place)
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            };
            let body = &operation["requestBody"]["content"]["application/json"];
            let example = if body.is_null() {
                None
            } else {
                Some(example_of(document, body, template))
            };
            out.push(Operation {
                method,
                template: template.clone(),
                params: of("path"),
                query: of("query"),
                example,
            });
        }
    }
    out
}

/// The document's example of a body, or one of ours where it has none.
fn example_of(document: &Value, content: &Value, template: &str) -> Value {
    if !content["example"].is_null() {
        return content["example"].clone();
    }
    let schema = &content["schema"];
    let named = |reference: &Value| {
        reference.as_str().and_then(|r| {
            let name = r.rsplit('/').next()?;
            let example = &document["components"]["schemas"][name]["example"];
            (!example.is_null()).then(|| example.clone())
        })
    };
    if let Some(example) = named(&schema["$ref"]) {
        return example;
    }
    if template.ends_with("/activities") {
        return json!([{"kind": "purchase", "at": "2026-03-01T10:00:00Z"}]);
    }
    if template.ends_with("/subjects") {
        return crate::customer("astrid@example.se");
    }
    json!({})
}

/// A random text and the pieces of it that are the caller's own.
#[derive(Debug, Clone)]
struct Text {
    /// As it goes into the URL or the body.
    raw: String,
    pieces: Vec<String>,
}

#[derive(Debug, Clone)]
enum Param {
    /// The n-th known id of its kind (mod how many there are).
    Known(usize),
    Random(Text),
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Token(usize),
    BadToken(String),
    Session { csrf: bool },
    BadCookie(String),
}

#[derive(Debug, Clone)]
enum Body {
    None,
    /// The operation's example with one leaf replaced, a key added or a key removed.
    Example {
        at: usize,
        change: Change,
    },
    Json(Value, Vec<String>),
    /// Raw bytes under a content type (`None`: no header), and the caller's strings in them.
    Raw(Vec<u8>, Option<&'static str>, Vec<String>),
    Form(Vec<(Text, Text)>),
}

#[derive(Debug, Clone)]
enum Change {
    /// The example as it is: valid input reaches the vault.
    Keep,
    /// A string of the example replaced by a random one: reaches the checks of values.
    Text(Text),
    Replace(Value, Vec<String>),
    Insert(Text, Value, Vec<String>),
    Remove,
}

#[derive(Debug, Clone)]
enum QueryPart {
    /// The operation's own n-th parameter (mod how many; `purpose` when it has none) with a
    /// value it takes (the m-th, mod how many).
    Right(usize, usize),
    /// Each of the operation's own parameters with a value it takes (the m-th, mod how many).
    AllRight(usize),
    /// The operation's own n-th parameter with another value.
    Own(usize, Text),
    Pair(Text, Text),
    /// Junk that is already URL syntax, as it is.
    Raw(Text),
}

#[derive(Debug, Clone)]
struct Case {
    operation: usize,
    /// Another method than the document's, now and then.
    method: Option<Method>,
    params: Vec<Param>,
    query: Option<Vec<QueryPart>>,
    body: Body,
    auth: Auth,
}

/// Percent-encodes every byte but the unreserved ones.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A word of the API, sent as it is.
fn word() -> impl Strategy<Value = Text> {
    proptest::sample::select(WORDS).prop_map(|w| Text {
        raw: w.to_owned(),
        pieces: vec![],
    })
}

/// A random string of many kinds: unicode, e-mail-like, digits, long, control characters.
fn random_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,40}",
        2 => "[a-z]{1,10}@[a-z]{1,10}\\.se",
        2 => "[0-9 +-]{6,16}",
        1 => "[\\x00-\\x1f\"\\\\`']{1,8}[a-zA-Z]{6,10}",
        1 => ("[a-zA-Z]{1,4}", 500usize..5000).prop_map(|(s, n)| s.repeat(n / s.len().max(1))),
        1 => Just(String::new()),
    ]
}

fn random_text() -> impl Strategy<Value = Text> {
    random_string().prop_map(|s| Text {
        pieces: vec![s.clone()],
        raw: s,
    })
}

/// A path segment: encoded random text, or junk that is already URL syntax.
fn path_text() -> impl Strategy<Value = Text> {
    prop_oneof![
        4 => random_string().prop_map(|s| Text { raw: encode(&s), pieces: vec![s] }),
        2 => proptest::sample::select(&[
            "%", "%ZZ", "%FF%FE", "%00", "%2F", "%2e%2e", "..", ".", "%C3%28", "%E2%82",
            "00000000-0000-7000-8000-00000000000g", "ar_0123", "tok_", "pv1-", "%20",
        ][..])
        .prop_map(|s| Text { raw: s.to_owned(), pieces: vec![] }),
        1 => ("[0-9a-f]{8}", "[0-9a-f%]{0,12}").prop_map(|(a, b)| {
            let s = format!("{a}-0000-7000-8000-{b}");
            Text { raw: encode(&s), pieces: vec![s] }
        }),
        1 => (2000usize..12_000).prop_map(|n| {
            let s = "é".repeat(n);
            Text { raw: encode(&s), pieces: vec![s] }
        }),
    ]
}

/// An arbitrary JSON value, and the caller's own strings in it.
fn json_value() -> impl Strategy<Value = (Value, Vec<String>)> {
    let leaf = prop_oneof![
        Just((Value::Null, vec![])),
        any::<bool>().prop_map(|b| (Value::Bool(b), vec![])),
        any::<i64>().prop_map(|n| (json!(n), vec![n.to_string()])),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| (json!(f), vec![f.to_string()])),
        word().prop_map(|w| (Value::String(w.raw), vec![])),
        random_string().prop_map(|s| (Value::String(s.clone()), vec![s])),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|items| {
                let (values, pieces): (Vec<_>, Vec<_>) = items.into_iter().unzip();
                (Value::Array(values), pieces.concat())
            }),
            prop::collection::vec((prop_oneof![word(), random_text()], inner), 0..6).prop_map(
                |entries| {
                    let mut map = Map::new();
                    let mut pieces = Vec::new();
                    for (key, (value, inside)) in entries {
                        pieces.extend(key.pieces);
                        pieces.extend(inside);
                        map.insert(key.raw, value);
                    }
                    (Value::Object(map), pieces)
                }
            ),
        ]
    })
}

fn body() -> impl Strategy<Value = Body> {
    let content_type = proptest::sample::select(
        &[
            Some("application/json"),
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/json; charset=latin1"),
            Some("application/vnd.integritet+json"),
            Some("multipart/form-data; boundary=x"),
            None,
        ][..],
    );
    prop_oneof![
        2 => Just(Body::None),
        8 => (any::<usize>(), prop_oneof![
            2 => Just(Change::Keep),
            4 => random_text().prop_map(Change::Text),
            2 => (json_value()).prop_map(|(v, p)| Change::Replace(v, p)),
            1 => (prop_oneof![word(), random_text()], json_value())
                .prop_map(|(k, (v, p))| Change::Insert(k, v, p)),
            1 => Just(Change::Remove),
        ])
            .prop_map(|(at, change)| Body::Example { at, change }),
        3 => json_value().prop_map(|(v, p)| Body::Json(v, p)),
        // Truncated JSON, invalid UTF-8 and other bytes, under any content type.
        2 => (json_value(), any::<prop::sample::Index>(), content_type.clone()).prop_map(
            |((v, pieces), cut, ct)| {
                let text = v.to_string();
                let bytes = text.as_bytes()[..cut.index(text.len() + 1)].to_vec();
                Body::Raw(bytes, ct, pieces)
            }
        ),
        2 => (prop::collection::vec(any::<u8>(), 0..200), content_type).prop_map(|(b, ct)| {
            let text = String::from_utf8_lossy(&b).into_owned();
            Body::Raw(b, ct, vec![text])
        }),
        2 => prop::collection::vec(
            (prop_oneof![word(), random_text()], prop_oneof![word(), random_text()]),
            0..4,
        )
        .prop_map(Body::Form),
        1 => (prop_oneof![word(), random_text()], random_text()).prop_map(|(name, password)| {
            let key = |k: &str| Text { raw: k.to_owned(), pieces: vec![] };
            Body::Form(vec![(key("name"), name), (key("password"), password)])
        }),
        1 => Just(Body::Raw(
            vec![b'x'; integritet_web::BODY_LIMIT + 10],
            Some("application/json"),
            vec!["x".repeat(ECHO_CHARS)],
        )),
    ]
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        1 => Just(Auth::None),
        8 => (0..TOKENS.len()).prop_map(Auth::Token),
        1 => random_string().prop_map(Auth::BadToken),
        2 => any::<bool>().prop_map(|csrf| Auth::Session { csrf }),
        1 => random_string().prop_map(Auth::BadCookie),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let method = prop_oneof![
        19 => Just(None),
        1 => proptest::sample::select(&[Method::PATCH, Method::OPTIONS, Method::PUT, Method::DELETE][..])
            .prop_map(Some),
    ];
    let param = prop_oneof![
        1 => any::<usize>().prop_map(Param::Known),
        1 => path_text().prop_map(Param::Random),
    ];
    let value = || prop_oneof![3 => word(), 2 => random_text()];
    let part = prop_oneof![
        4 => (any::<usize>(), any::<usize>()).prop_map(|(n, m)| QueryPart::Right(n, m)),
        2 => (any::<usize>(), value()).prop_map(|(n, v)| QueryPart::Own(n, v)),
        2 => (prop_oneof![word(), random_text()], value()).prop_map(|(k, v)| QueryPart::Pair(k, v)),
        1 => path_text().prop_map(QueryPart::Raw),
    ];
    let query = prop_oneof![
        1 => Just(None),
        3 => any::<usize>().prop_map(|m| Some(vec![QueryPart::AllRight(m)])),
        4 => prop::collection::vec(part, 0..4).prop_map(Some),
    ];
    (
        any::<usize>(),
        method,
        prop::collection::vec(param, 3),
        query,
        body(),
        auth(),
    )
        .prop_map(|(operation, method, params, query, body, auth)| Case {
            operation,
            method,
            params,
            query,
            body,
            auth,
        })
}

/// What real ids the server knows, to put in paths.
#[derive(Debug, Default)]
struct Known {
    /// Subjects and the ids of their values.
    subjects: Vec<(String, Vec<String>)>,
    archive: Vec<String>,
    tokens: Vec<String>,
    versions: Vec<String>,
    purposes: Vec<String>,
}

/// A server with console logins, tokens of every role and a few subjects.
struct Fixture {
    base: String,
    client: Client,
    /// The console session's cookie and CSRF token.
    session: Mutex<(String, String)>,
    clock: ManualClock,
    known: Mutex<Known>,
    operations: Vec<Operation>,
    /// How many answers of each status, for the log.
    statuses: Mutex<std::collections::BTreeMap<u16, u32>>,
    /// Requests sent again after their connection failed: what was sent before, and the error.
    resent: Mutex<Vec<String>>,
    /// The last request and its answer, to say what came before a failed connection.
    last: Mutex<String>,
    /// What the caller may see repeated: the document and the policy.
    ours: String,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn integritet_app::store::Store> = Arc::new(
            SqliteStore::open(&dir.path().join("integritet.db"))
                .await
                .unwrap(),
        );
        let (vault, clock) = vault_over(store.clone());
        let policy = vault.policy().clone();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        users::create_user(
            store.as_ref(),
            vault.record_key(),
            integritet_domain::Clock::now(&clock),
            &mut rng,
            "test",
            NewUser {
                name: "anna".into(),
                role: "support".into(),
                password: Password::new(PASSWORD),
            },
            &policy,
        )
        .await
        .unwrap();
        let accounts = Accounts::new(
            store.clone(),
            vault.record_key().clone(),
            Arc::new(clock.clone()),
            Box::new(rand::rngs::StdRng::seed_from_u64(6)),
            policy.version.to_string(),
        );
        let tokens = TOKENS
            .iter()
            .enumerate()
            .fold(StaticTokens::new(), |tokens, (i, (token, role))| {
                tokens.with(*token, &format!("n{i}"), role)
            });
        let state =
            AppState::new(Arc::new(vault), Arc::new(tokens)).with_console(Arc::new(accounts));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(integritet_web::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        let client = Client::new();
        let base = format!("http://{addr}");
        let session = log_in(&client, &base).await.unwrap();
        let document = integritet_web::openapi();
        let document = serde_json::to_value(&document).unwrap();
        let fixture = Fixture {
            base,
            client,
            session: Mutex::new(session),
            clock,
            known: Mutex::new(Known {
                purposes: policy.policy.purposes.keys().cloned().collect(),
                versions: vec![policy.version.to_string()],
                ..Known::default()
            }),
            operations: operations(&document),
            statuses: Mutex::default(),
            resent: Mutex::default(),
            last: Mutex::default(),
            ours: format!("{document}\n{SEED_POLICY}"),
            _stop: stop,
            _dir: dir,
        };
        for _ in 0..6 {
            fixture.add_subject().await;
        }
        // An erased subject leaves an archive entry to read.
        let erased = fixture.add_subject().await;
        let erasure: Value = fixture
            .client
            .delete(format!("{}/api/v1/subjects/{erased}", fixture.base))
            .bearer_auth(LEGAL)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let references = erasure["archive_references"].as_array().unwrap().clone();
        assert!(!references.is_empty(), "{erasure}");
        let token: Value = fixture
            .client
            .post(format!("{}/api/v1/tokens", fixture.base))
            .bearer_auth(ADMIN)
            .json(&json!({"role": "support", "label": "no_5xx"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        {
            let mut known = fixture.known.lock().unwrap();
            known.subjects.retain(|(id, _)| *id != erased);
            known.archive = references
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect();
            known.tokens = vec![token["token"]["id"].as_str().unwrap().to_owned()];
        }
        fixture
    }

    /// Creates a customer, remembers it and its values, and returns its id.
    async fn add_subject(&self) -> String {
        let url = |path: &str| format!("{}{path}", self.base);
        let created: Value = self
            .client
            .post(url("/api/v1/subjects"))
            .bearer_auth(SUPPORT)
            .json(&crate::customer("astrid@example.se"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        let view: Value = self
            .client
            .get(url(&format!("/api/v1/subjects/{id}?purpose=purchase")))
            .bearer_auth(SUPPORT)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let values = view["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect();
        self.known
            .lock()
            .unwrap()
            .subjects
            .push((id.clone(), values));
        id
    }

    /// `name=value` with a value the query parameter takes.
    fn right_query(&self, name: &str, m: usize) -> String {
        let purposes = self.known.lock().unwrap().purposes.clone();
        let values: Vec<&str> = match name {
            "lang" => vec!["sv", "en"],
            "format" => vec!["md", "html", "csv", "json"],
            _ => purposes.iter().map(String::as_str).collect(),
        };
        format!("{name}={}", values[m % values.len()])
    }

    /// The real id a known parameter names.
    fn known(&self, template: &str, name: &str, n: usize, subject: Option<usize>) -> String {
        let known = self.known.lock().unwrap();
        let pick = |list: &[String]| list.get(n % list.len().max(1)).cloned();
        let value = match name {
            "id" if template.starts_with("/api/v1/tokens") => pick(&known.tokens),
            "id" => known
                .subjects
                .get(n % known.subjects.len().max(1))
                .map(|(id, _)| id.clone()),
            "value_id" => {
                let s = subject.unwrap_or(n) % known.subjects.len().max(1);
                known
                    .subjects
                    .get(s)
                    .and_then(|(_, values)| values.get(n % values.len().max(1)).cloned())
            }
            "reference" => pick(&known.archive),
            "purpose" => pick(&known.purposes),
            "version" => pick(&known.versions),
            _ => None,
        };
        value.unwrap_or_else(|| "unknown".to_owned())
    }

    /// Sends the case and checks the answer; the error describes request and response.
    async fn check(&self, case: &Case) -> Result<(), TestCaseError> {
        let operation = &self.operations[case.operation % self.operations.len()];
        let mut pieces: Vec<String> = Vec::new();
        let mut path = operation.template.clone();
        let subject_param = operation.params.iter().position(|p| p == "id");
        for (i, name) in operation.params.iter().enumerate() {
            let value = match &case.params[i % case.params.len()] {
                Param::Known(n) => {
                    let subject = subject_param.and_then(|s| match &case.params[s] {
                        Param::Known(k) => Some(*k),
                        Param::Random(_) => None,
                    });
                    self.known(&operation.template, name, *n, subject)
                }
                Param::Random(text) => {
                    pieces.extend(text.pieces.iter().cloned());
                    text.raw.clone()
                }
            };
            path = path.replace(&format!("{{{name}}}"), &value);
        }
        let mut url = format!("{}{path}", self.base);
        if let Some(parts) = &case.query {
            let query: Vec<String> = parts
                .iter()
                .map(|part| match part {
                    QueryPart::Right(n, m) => {
                        let name = operation
                            .query
                            .get(n % operation.query.len().max(1))
                            .map_or("purpose", String::as_str);
                        self.right_query(name, *m)
                    }
                    QueryPart::AllRight(m) => operation
                        .query
                        .iter()
                        .map(|name| self.right_query(name, *m))
                        .collect::<Vec<_>>()
                        .join("&"),
                    QueryPart::Own(n, v) => {
                        pieces.extend(v.pieces.iter().cloned());
                        let name = operation
                            .query
                            .get(n % operation.query.len().max(1))
                            .map_or("purpose", String::as_str);
                        format!("{name}={}", encode(&v.raw))
                    }
                    QueryPart::Pair(k, v) => {
                        pieces.extend(k.pieces.iter().chain(&v.pieces).cloned());
                        format!("{}={}", encode(&k.raw), encode(&v.raw))
                    }
                    QueryPart::Raw(t) => {
                        pieces.extend(t.pieces.iter().cloned());
                        t.raw.clone()
                    }
                })
                .collect();
            url.push('?');
            url.push_str(&query.join("&"));
        }
        let method = case.method.clone().unwrap_or(operation.method.clone());
        let mut request = self.client.request(method.clone(), &url);
        let mut sent_body: Vec<u8> = Vec::new();
        let mut content_type: Option<&str> = None;
        match &case.body {
            Body::None => {}
            Body::Example { at, change } => {
                let mut example = operation.example.clone().unwrap_or(json!({}));
                change_example(&mut example, *at, change, &mut pieces);
                sent_body = example.to_string().into_bytes();
                content_type = Some("application/json");
            }
            Body::Json(value, inside) => {
                pieces.extend(inside.iter().cloned());
                sent_body = value.to_string().into_bytes();
                content_type = Some("application/json");
            }
            Body::Raw(bytes, ct, inside) => {
                pieces.extend(inside.iter().cloned());
                sent_body = bytes.clone();
                content_type = *ct;
            }
            Body::Form(pairs) => {
                let form: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| {
                        pieces.extend(k.pieces.iter().chain(&v.pieces).cloned());
                        format!("{}={}", encode(&k.raw), encode(&v.raw))
                    })
                    .collect();
                sent_body = form.join("&").into_bytes();
                content_type = Some("application/x-www-form-urlencoded");
            }
        }
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        if !matches!(case.body, Body::None) {
            request = request.body(sent_body.clone());
        }
        request = match &case.auth {
            Auth::None => request,
            Auth::Token(i) => request.bearer_auth(TOKENS[*i].0),
            Auth::BadToken(token) => {
                pieces.push(token.clone());
                request.header("authorization", format!("Bearer {}", encode(token)))
            }
            Auth::Session { csrf } => {
                let (cookie, token) = self.session.lock().unwrap().clone();
                let request =
                    request.header("cookie", format!("theme=dark; {SESSION_COOKIE}={cookie}"));
                if *csrf {
                    request.header(CSRF_HEADER, token)
                } else {
                    request
                }
            }
            Auth::BadCookie(value) => {
                pieces.push(value.clone());
                request.header("cookie", format!("{SESSION_COOKIE}={}", encode(value)))
            }
        };
        // A pooled connection the server is closing (it closes one whose request body it did
        // not read to the end) may be handed out once more: the client's race, not an answer.
        // Such a request is sent again, and counted.
        let again = request.try_clone();
        let sent = match request.send().await {
            Err(error) if !error.is_builder() && again.is_some() => match again {
                Some(again) => {
                    let before = self.last.lock().unwrap().clone();
                    self.resent.lock().unwrap().push(format!(
                        "{method} {} after {before}: {error:?}",
                        operation.template
                    ));
                    again.send().await
                }
                None => Err(error),
            },
            sent => sent,
        };
        let response = match sent {
            Ok(response) => response,
            // The client refused to send it (a URL it cannot parse): nothing reached the server.
            Err(error) if error.is_builder() => return Ok(()),
            Err(error) => {
                return Err(TestCaseError::fail(format!(
                    "no answer: {error:?}\n{method} {url}\n  auth: {:?}\n  content-type: \
                     {content_type:?}\n  body ({} bytes): {:.300}",
                    case.auth,
                    sent_body.len(),
                    shown(&sent_body),
                )));
            }
        };
        let status = response.status();
        *self
            .statuses
            .lock()
            .unwrap()
            .entry(status.as_u16())
            .or_default() += 1;
        *self.last.lock().unwrap() = format!(
            "{method} {} ({} bytes) => {status}",
            operation.template,
            sent_body.len()
        );
        let content = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let answer = response.text().await.unwrap_or_default();
        let describe = || {
            format!(
                "{method} {url}\n  auth: {:?}\n  content-type: {content_type:?}\n  body ({} bytes): {}\n\
                 => {status} {content}\n  {answer:.2000}",
                case.auth,
                sent_body.len(),
                shown(&sent_body),
            )
        };
        if status.is_server_error() {
            return Err(TestCaseError::fail(format!(
                "a 5xx answer:\n{}",
                describe()
            )));
        }
        if status.is_client_error() {
            if content != integritet_web::PROBLEM_JSON {
                return Err(TestCaseError::fail(format!(
                    "an error that is no problem document:\n{}",
                    describe()
                )));
            }
            let problem: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
            if problem["status"] != status.as_u16() {
                return Err(TestCaseError::fail(format!(
                    "a broken problem:\n{}",
                    describe()
                )));
            }
            let ours = format!("{}\n{}", operation.template, self.ours);
            if let Some(piece) = echo(&answer, &pieces, &ours) {
                return Err(TestCaseError::fail(format!(
                    "the error repeats the input ({piece:?}):\n{}",
                    describe()
                )));
            }
        }
        if status.is_success()
            && operation.template == "/console/logout"
            && matches!(case.auth, Auth::Session { .. })
        {
            // Logged out: log in again, past any backoff that random logins from this address
            // have earned (the server's clock is the test's).
            self.clock.advance(time::Duration::minutes(16));
            if let Some(session) = log_in(&self.client, &self.base).await {
                *self.session.lock().unwrap() = session;
            }
        }
        if status.is_success()
            && method == Method::DELETE
            && operation.template == "/api/v1/subjects/{id}"
        {
            // An erased subject is gone from the known ones: another takes its place.
            let id = path.rsplit('/').next().unwrap_or_default().to_owned();
            self.known
                .lock()
                .unwrap()
                .subjects
                .retain(|(s, _)| *s != id);
            self.add_subject().await;
        }
        Ok(())
    }
}

/// Logs in as the console user; the session's cookie and CSRF token.
async fn log_in(client: &Client, base: &str) -> Option<(String, String)> {
    let login = client
        .post(format!("{base}/console/login"))
        .json(&json!({"name": "anna", "password": PASSWORD}))
        .send()
        .await
        .ok()?;
    if login.status() != 200 {
        return None;
    }
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.strip_prefix(&format!("{SESSION_COOKIE}=")))?
        .to_owned();
    let body: Value = login.json().await.ok()?;
    Some((cookie, body["csrf_token"].as_str()?.to_owned()))
}

/// The example with one change, at the `at`-th node (mod the number of nodes).
fn change_example(example: &mut Value, at: usize, change: &Change, pieces: &mut Vec<String>) {
    let count = count_nodes(example);
    if let Change::Text(text) = change {
        pieces.extend(text.pieces.iter().cloned());
        // The n-th string of the example, or the n-th node when it holds none.
        let strings: Vec<usize> = (0..count)
            .filter(|i| node_at(example, *i).is_string())
            .collect();
        let at = strings
            .get(at % strings.len().max(1))
            .copied()
            .unwrap_or(at % count);
        *node_at(example, at) = Value::String(text.raw.clone());
        return;
    }
    let target = node_at(example, at % count);
    match change {
        Change::Keep | Change::Text(_) => {}
        Change::Replace(value, inside) => {
            pieces.extend(inside.iter().cloned());
            *target = value.clone();
        }
        Change::Insert(key, value, inside) => {
            pieces.extend(key.pieces.iter().chain(inside).cloned());
            match target {
                Value::Object(map) => {
                    map.insert(key.raw.clone(), value.clone());
                }
                Value::Array(items) => items.push(value.clone()),
                other => *other = value.clone(),
            }
        }
        Change::Remove => match target {
            Value::Object(map) => {
                if let Some(first) = map.keys().next().cloned() {
                    map.remove(&first);
                }
            }
            Value::Array(items) => {
                items.pop();
            }
            other => *other = Value::Null,
        },
    }
}

fn count_nodes(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `n`-th node in document order (`n` below [`count_nodes`]).
fn node_at(value: &mut Value, n: usize) -> &mut Value {
    if n == 0 {
        return value;
    }
    let mut n = n - 1;
    let children: Vec<&mut Value> = match value {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => unreachable!("a leaf has no children"),
    };
    for child in children {
        let size = count_nodes(child);
        if n < size {
            return node_at(child, n);
        }
        n -= size;
    }
    unreachable!("n is below the number of nodes")
}

/// A body as text when it is text, else in hex.
fn shown(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if text.len() <= 2000 => format!("{text:?}"),
        Ok(text) => format!(
            "{:?}… ({} bytes)",
            &text[..text.floor_char_boundary(2000)],
            text.len()
        ),
        Err(_) => format!(
            "hex {}",
            bytes
                .iter()
                .take(1000)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
    }
}

/// A piece of `answer`, [`ECHO_CHARS`] characters, that is one of the caller's `pieces` and
/// not in `ours`.
fn echo(answer: &str, pieces: &[String], ours: &str) -> Option<String> {
    // The answer's strings as JSON reads them (escapes undone; the answer is a problem
    // document, whose own syntax is not what it says), cut into pieces once.
    let said: Vec<String> = serde_json::from_str::<Value>(answer)
        .map(|v| strings(&v))
        .unwrap_or_else(|_| vec![answer.to_owned()]);
    let said: HashSet<&str> = said.iter().flat_map(|s| windows(s)).collect();
    pieces
        .iter()
        .flat_map(|piece| windows(piece))
        .find(|window| said.contains(window) && !ours.contains(window))
        .map(str::to_owned)
}

/// Every run of [`ECHO_CHARS`] characters in `text`.
fn windows(text: &str) -> impl Iterator<Item = &str> {
    let starts: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    (0..starts.len().saturating_sub(ECHO_CHARS))
        .map(move |i| &text[starts[i]..starts[i + ECHO_CHARS]])
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| std::iter::once(k.clone()).chain(strings(v)))
            .collect(),
        _ => vec![],
    }
}

#[test]
fn no_input_makes_an_endpoint_answer_5xx() {
    let cases: u32 = std::env::var("INTEGRITET_TEST_NO_5XX_CASES")
        .map(|n| n.parse().expect("INTEGRITET_TEST_NO_5XX_CASES is a number"))
        .unwrap_or(2048);
    let seed: u64 = std::env::var("INTEGRITET_TEST_NO_5XX_SEED").map_or_else(
        |_| RandomState::new().build_hasher().finish(),
        |s| s.parse().expect("INTEGRITET_TEST_NO_5XX_SEED is a number"),
    );
    let mut seed_bytes = [0u8; 32];
    for (i, chunk) in seed_bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed ^ i as u64).to_le_bytes());
    }
    let runtime = Runtime::new().unwrap();
    let fixture = runtime.block_on(Fixture::start());
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            // The server keeps state between cases: a failure is reported as found, shrunk a
            // little.
            max_shrink_iters: 64,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let result = runner.run(&case(), |case| runtime.block_on(fixture.check(&case)));
    // Straight to stderr, past the test harness's capture: the numbers belong in CI's log.
    let _ = writeln!(
        std::io::stderr().lock(),
        "no_5xx: seed {seed}, {cases} cases over {} operations in {:.1} s; answers by status: \
         {:?}; sent again after a closed connection: {:#?}",
        fixture.operations.len(),
        started.elapsed().as_secs_f64(),
        fixture.statuses.lock().unwrap(),
        fixture.resent.lock().unwrap(),
    );
    if let Err(error) = result {
        panic!("{error}\nreplay with INTEGRITET_TEST_NO_5XX_SEED={seed}");
    }
}
