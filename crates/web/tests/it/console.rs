//! Console logins and sessions over HTTP, on SQLite and on PostgreSQL: the cookie and its
//! attributes, the CSRF token on unsafe requests, one answer for every failed login, lockout
//! after five failures (lifted after fifteen minutes of a manual clock), logout and the idle
//! timeout.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use integritet_app::store::Store;
use integritet_app::users::{self, Accounts, NewUser, Password};
use integritet_app::vault_conformance::vault_over;
use integritet_domain::audit::AuditAction;
use integritet_domain::clock::ManualClock;
use integritet_store_postgres::PostgresStore;
use integritet_store_sqlite::SqliteStore;
use integritet_web::{AppState, CSRF_HEADER, DEVICE_COOKIE, SESSION_COOKIE, StaticTokens};
use rand::SeedableRng;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use time::Duration;
use tokio::sync::oneshot;

use crate::{SUPPORT, customer, problem};

const PASSWORD: &str = "rätt häst batteri häftklammer";

/// A server with console logins over a store, and the clock it runs on.
struct Console {
    base: String,
    client: Client,
    clock: ManualClock,
    store: Arc<dyn Store>,
    _stop: oneshot::Sender<()>,
    _dir: Option<tempfile::TempDir>,
}

impl Console {
    async fn sqlite() -> Console {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("integritet.db"))
            .await
            .unwrap();
        let mut console = Console::over(Arc::new(store)).await;
        console._dir = Some(dir);
        console
    }

    async fn over(store: Arc<dyn Store>) -> Console {
        let (vault, clock) = vault_over(store.clone());
        let policy = vault.policy().clone();
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        for (name, role) in [("anna", "support"), ("bo", "marketing")] {
            users::create_user(
                store.as_ref(),
                vault.record_key(),
                clock_now(&clock),
                &mut rng,
                "test",
                NewUser {
                    name: name.into(),
                    role: role.into(),
                    password: Password::new(PASSWORD),
                },
                &policy,
            )
            .await
            .unwrap();
        }
        let accounts = Accounts::new(
            store.clone(),
            vault.record_key().clone(),
            Arc::new(clock.clone()),
            Box::new(rand::rngs::StdRng::seed_from_u64(22)),
            policy.version.to_string(),
        );
        let tokens = StaticTokens::new().with(SUPPORT, "s1", "support");
        let state =
            AppState::new(Arc::new(vault), Arc::new(tokens)).with_console(Arc::new(accounts));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(integritet_web::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Console {
            base: format!("http://{addr}"),
            client: Client::new(),
            clock,
            store,
            _stop: stop,
            _dir: None,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn login(&self, name: &str, password: &str) -> Response {
        self.client
            .post(self.url("/console/login"))
            .json(&json!({"name": name, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Logs in and returns the cookie's value and the CSRF token.
    async fn session(&self, name: &str) -> (String, String) {
        let response = self.login(name, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = cookie_value(&response);
        let body: Value = response.json().await.unwrap();
        (cookie, body["csrf_token"].as_str().unwrap().to_owned())
    }

    fn with_cookie(&self, builder: RequestBuilder, cookie: &str) -> RequestBuilder {
        builder.header("cookie", format!("theme=dark; {SESSION_COOKIE}={cookie}"))
    }

    fn get(&self, path: &str, cookie: &str) -> RequestBuilder {
        self.with_cookie(self.client.get(self.url(path)), cookie)
    }

    fn post(&self, path: &str, cookie: &str) -> RequestBuilder {
        self.with_cookie(self.client.post(self.url(path)), cookie)
    }

    async fn actions(&self) -> Vec<(AuditAction, String, Option<String>)> {
        self.store
            .audit_entries(0, u64::MAX, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.draft.action, e.draft.actor, e.draft.detail))
            .collect()
    }
}

fn clock_now(clock: &ManualClock) -> time::OffsetDateTime {
    use integritet_domain::Clock;
    clock.now()
}

fn set_cookie(response: &Response) -> String {
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn cookie_value(response: &Response) -> String {
    let header = set_cookie(response);
    let pair = header.split(';').next().unwrap();
    let (name, value) = pair.split_once('=').unwrap();
    assert_eq!(name, SESSION_COOKIE);
    value.to_owned()
}

/// The whole story on one server.
async fn story(console: &Console) {
    login_sets_a_secure_cookie(console).await;
    csrf_guards_unsafe_requests(console).await;
    failed_logins_look_alike(console).await;
    lockout_after_five_failures(console).await;
    logout_ends_the_session(console).await;
    idle_sessions_expire(console).await;
    a_login_flood_from_one_address_is_held_back(console).await;
    a_stranger_who_locks_an_account_keeps_out_strangers_not_its_owner(console).await;
}

async fn login_sets_a_secure_cookie(console: &Console) {
    let response = console.login("Anna", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = set_cookie(&response);
    let attributes: Vec<&str> = header.split(';').map(str::trim).skip(1).collect();
    for wanted in [
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=43200",
    ] {
        assert!(attributes.contains(&wanted), "{wanted} missing in {header}");
    }
    assert!(!header.to_ascii_lowercase().contains("domain="), "{header}");
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let cookie = cookie_value(&response);
    assert_eq!(cookie.len(), 64);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"], "anna");
    assert_eq!(body["role"], "support");
    assert_eq!(body["actor"], "user:anna");
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(csrf.len(), 64);
    assert_ne!(csrf, cookie);
    assert_eq!(body["expires_at"], "2026-03-01T10:30:00Z");

    // Who am I: the same user and token.
    let response = console
        .get("/console/session", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["user"], "anna");
    assert_eq!(me["csrf_token"], csrf.as_str());

    // An HTML form logs in too.
    let response = console
        .client
        .post(console.url("/console/login"))
        .form(&[("name", "bo"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["role"], "marketing");

    // A login another site made the browser send is refused.
    let response = console
        .client
        .post(console.url("/console/login"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"name": "anna", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;

    // A body that is neither: 415, and a form without the password: 422.
    let response = console
        .client
        .post(console.url("/console/login"))
        .body("name=anna")
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let response = console
        .client
        .post(console.url("/console/login"))
        .form(&[("name", "anna")])
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
}

async fn csrf_guards_unsafe_requests(console: &Console) {
    let id = {
        let response = console
            .client
            .post(console.url("/api/v1/subjects"))
            .bearer_auth(SUPPORT)
            .json(&customer("karin@example.se"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (cookie, csrf) = console.session("anna").await;

    // A read with the cookie alone: the session's role and purposes apply.
    let response = console
        .get(&format!("/api/v1/subjects/{id}?purpose=purchase"), &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = console
        .get(
            &format!("/api/v1/subjects/{id}?purpose=bookkeeping"),
            &cookie,
        )
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;

    // An unsafe request needs the token: missing, wrong, then right.
    let create = || {
        console
            .post("/api/v1/subjects", &cookie)
            .json(&customer("lars@example.se"))
    };
    let body = problem(create().send().await.unwrap(), StatusCode::FORBIDDEN).await;
    assert_eq!(body["code"], "csrf");
    let wrong = format!("{:064x}", 1);
    let response = create().header(CSRF_HEADER, wrong).send().await.unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
    let (other_cookie, other_csrf) = console.session("bo").await;
    assert_ne!(other_cookie, cookie);
    let response = create()
        .header(CSRF_HEADER, other_csrf.as_str())
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
    let response = create()
        .header(CSRF_HEADER, csrf.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    // The audit log names the console user as the actor.
    let created = console
        .actions()
        .await
        .into_iter()
        .filter(|(action, actor, _)| *action == AuditAction::Create && actor == "user:anna")
        .count();
    assert_eq!(
        created,
        1,
        "{:?} {:?} {:?}",
        console.actions().await,
        console.store.audit_head().await,
        console
            .store
            .audit_entries(0, u64::MAX, 100)
            .await
            .map(|v| v.len())
    );

    // With a bearer token the cookie is ignored, and no CSRF token is needed.
    let response = console
        .post("/api/v1/subjects", &cookie)
        .bearer_auth(SUPPORT)
        .json(&customer("maja@example.se"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    // A made-up cookie is no session.
    let response = console
        .get(
            &format!("/api/v1/subjects/{id}?purpose=purchase"),
            &"a".repeat(64),
        )
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;
}

async fn failed_logins_look_alike(console: &Console) {
    let unknown = problem(
        console.login("nobody", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let wrong = problem(
        console.login("bo", "fel lösenord, tyvärr").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(unknown, wrong);
    let detail = unknown["detail"].as_str().unwrap();
    assert!(
        detail.contains("Fel användarnamn eller lösenord"),
        "{detail}"
    );
    assert!(detail.contains("Wrong user name or password"), "{detail}");
    // A successful login resets bo's count.
    console.session("bo").await;
}

async fn lockout_after_five_failures(console: &Console) {
    let mut bodies = Vec::new();
    for _ in 0..5 {
        let response = console.login("anna", "fel lösenord, tyvärr").await;
        bodies.push(problem(response, StatusCode::UNAUTHORIZED).await);
        // Past the address's backoff, so that the account's own lockout is what is tested.
        console.clock.advance(Duration::seconds(20));
    }
    // Locked: the right password gets the same answer as a wrong one.
    console.clock.advance(Duration::minutes(14));
    let locked = problem(
        console.login("anna", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(bodies.iter().all(|b| *b == locked));
    let actions = console.actions().await;
    assert_eq!(
        actions
            .iter()
            .filter(|(a, actor, _)| *a == AuditAction::UserLocked && actor == "user:anna")
            .count(),
        1
    );
    assert!(actions.iter().any(|(a, _, detail)| {
        *a == AuditAction::LoginFailed
            && detail
                .as_deref()
                .is_some_and(|d| d.starts_with("reason=locked"))
    }));

    // Fifteen minutes after the lock it opens again.
    console.clock.advance(Duration::minutes(1));
    let response = console.login("anna", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// A stranger guessing from one address is slowed down exponentially and audited once per
/// period, not once per guess; the owner, from another address, logs in all the same.
async fn a_login_flood_from_one_address_is_held_back(console: &Console) {
    let from = |address: &str| {
        Client::builder()
            .local_address(address.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let stranger = from("127.0.0.2");
    let before = console.actions().await.len();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..40 {
        let response = stranger
            .post(console.url("/console/login"))
            .json(&json!({"name": "anna", "password": "gissning nummer n"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = response.json().await.unwrap();
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("Too many attempts")
            );
        }
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let held = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((refused, held), (4, 36), "{statuses:?}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    // Four failures and one summary of the 36 held back: not 40 rows.
    let written = console.actions().await.len() - before;
    assert_eq!(written, 5);
    let actions = console.actions().await;
    assert!(actions.iter().any(|(a, actor, detail)| {
        *a == AuditAction::LoginFailed
            && actor == users::ANONYMOUS_ACTOR
            && detail
                .as_deref()
                .is_some_and(|d| d.starts_with("reason=throttled"))
    }));

    let owner = from("127.0.0.3");
    let response = owner
        .post(console.url("/console/login"))
        .json(&json!({"name": "anna", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Once the period is over, the stranger may try again (and is held back again after).
    console.clock.advance(Duration::seconds(1));
    let response = stranger
        .post(console.url("/console/login"))
        .json(&json!({"name": "anna", "password": "gissning igen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// Strangers with many addresses fail logins until the account locks; a client new to the
/// account is then kept out, but the owner's browser, known to the account from an earlier
/// login, gets in past the lock, and the lock stays for everyone else.
async fn a_stranger_who_locks_an_account_keeps_out_strangers_not_its_owner(console: &Console) {
    let from = |address: &str| {
        Client::builder()
            .local_address(address.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let attempt = |client: Client, password: &'static str, device: Option<String>| {
        let url = console.url("/console/login");
        async move {
            let mut request = client
                .post(url)
                .json(&json!({"name": "bo", "password": password}));
            if let Some(device) = device {
                request = request.header("cookie", format!("{DEVICE_COOKIE}={device}"));
            }
            request.send().await.unwrap()
        }
    };
    let device_cookie = |response: &Response| -> (String, String) {
        let header = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(DEVICE_COOKIE))
            .unwrap()
            .to_owned();
        let value = header.split(';').next().unwrap().split_once('=').unwrap().1;
        (value.to_owned(), header)
    };
    let owner = from("127.0.0.3");
    let first = attempt(owner.clone(), PASSWORD, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let (device, header) = device_cookie(&first);
    for wanted in [
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=15552000",
    ] {
        assert!(header.contains(wanted), "{header}");
    }
    assert!(
        !device.contains("bo"),
        "the cookie names no account: {device}"
    );

    for n in 4..=8 {
        let stranger = from(&format!("127.0.0.{n}"));
        let response = attempt(stranger, "gissning", None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let newcomer = attempt(from("127.0.0.9"), PASSWORD, None).await;
    assert_eq!(newcomer.status(), StatusCode::UNAUTHORIZED, "locked");
    // A made-up or bent cookie is no way past the lock.
    let bent = format!("0{}", &device[1..]);
    let bent = if bent == device {
        format!("1{}", &device[1..])
    } else {
        bent
    };
    let response = attempt(from("127.0.0.9"), PASSWORD, Some(bent)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let back = attempt(owner.clone(), PASSWORD, Some(device.clone())).await;
    assert_eq!(back.status(), StatusCode::OK, "the owner's browser gets in");
    let (renewed, _) = device_cookie(&back);
    assert_ne!(renewed, device);
    let newcomer = attempt(from("127.0.0.9"), PASSWORD, None).await;
    assert_eq!(newcomer.status(), StatusCode::UNAUTHORIZED, "still locked");
    assert!(
        console
            .actions()
            .await
            .iter()
            .any(|(action, actor, detail)| {
                *action == AuditAction::Login
                    && actor == "user:bo"
                    && detail
                        .as_deref()
                        .is_some_and(|d| d.contains("known_device=true"))
            })
    );
}

async fn logout_ends_the_session(console: &Console) {
    let (cookie, csrf) = console.session("anna").await;
    let response = console
        .post("/console/logout", &cookie)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN).await;
    let response = console
        .post("/console/logout", &cookie)
        .header(CSRF_HEADER, csrf.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(set_cookie(&response).contains("Max-Age=0"));
    let response = console
        .get("/console/session", &cookie)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;
    let response = console.get("/api/v1/policy", &cookie).send().await.unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;
    // Logging out again is harmless.
    let response = console
        .post("/console/logout", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        console
            .actions()
            .await
            .iter()
            .any(|(a, actor, _)| *a == AuditAction::Logout && actor == "user:anna")
    );
}

async fn idle_sessions_expire(console: &Console) {
    let (cookie, _) = console.session("bo").await;
    console.clock.advance(Duration::minutes(29));
    let response = console
        .get("/console/session", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    console.clock.advance(Duration::minutes(29));
    let response = console.get("/api/v1/policy", &cookie).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    console.clock.advance(Duration::minutes(30));
    let response = console
        .get("/console/session", &cookie)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sessions_over_sqlite() {
    let console = Console::sqlite().await;
    story(&console).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sessions_over_postgres() {
    const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
    let admin_url =
        std::env::var("INTEGRITET_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let random = RandomState::new().build_hasher().finish() & 0xffff_ffff;
    let name = format!(
        "integritet_test_console_{}_{random:08x}",
        std::process::id()
    );
    let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "cannot reach the test PostgreSQL server ({e}). Start one, or set \
             INTEGRITET_TEST_POSTGRES_URL to a server where this user may create databases."
        )
    });
    // The name is built here from digits and underscores only, so it is safe to splice in.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base.to_owned(), format!("?{query}")),
        None => (admin_url.clone(), String::new()),
    };
    let slash = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    let url = format!("{}/{name}{query}", &base[..slash]);
    let store = PostgresStore::connect(&url).await.unwrap();
    let console = Console::over(Arc::new(store)).await;
    story(&console).await;
    drop(console);
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
}
