//! The request logs carry the request id and the matched route, never a body, a query string
//! or a raw path.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::StatusCode;
use serde_json::json;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use crate::{SUPPORT, TestServer};

/// Everything logged in this test process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs (once) a subscriber that keeps every log line of this process in memory.
fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(captured.clone())
                    .with_ansi(false),
            )
            .with(
                Targets::new()
                    .with_target("tower_http", Level::DEBUG)
                    .with_target("integritet_web", Level::DEBUG),
            );
        tracing::subscriber::set_global_default(subscriber).unwrap();
        captured
    })
}

#[tokio::test]
async fn logs_carry_request_ids_and_no_personal_data() {
    let logs = captured();
    let server = TestServer::sqlite().await;
    let id = server.create("kerstin@example.se").await;
    let read = server
        .get(&format!("/api/v1/subjects/{id}?purpose=purchase"), SUPPORT)
        .header("x-request-id", "req-logs-1")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let lookup = server
        .post(
            "/api/v1/subjects/lookup",
            SUPPORT,
            &json!({"kind": "email", "value": "kerstin@example.se", "purpose": "purchase"}),
        )
        .header("x-request-id", "req-logs-2")
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), StatusCode::OK);
    let in_query = server
        .get(
            &format!("/api/v1/subjects/{id}?purpose=kerstin.query@example.se"),
            SUPPORT,
        )
        .header("x-request-id", "req-logs-3")
        .send()
        .await
        .unwrap();
    assert_eq!(in_query.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let in_path = server
        .get(
            "/api/v1/subjects/kerstin.path@example.se?purpose=purchase",
            SUPPORT,
        )
        .header("x-request-id", "req-logs-4")
        .send()
        .await
        .unwrap();
    assert_eq!(in_path.status(), StatusCode::BAD_REQUEST);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    for request_id in ["req-logs-1", "req-logs-2", "req-logs-3", "req-logs-4"] {
        let line = text
            .lines()
            .find(|l| l.contains(request_id) && l.contains("finished processing request"))
            .unwrap_or_else(|| panic!("no response line for {request_id} in\n{text}"));
        assert!(line.contains("route=/api/v1/subjects"), "{line}");
        assert!(line.contains(r#"actor="token:s1""#), "{line}");
    }
    for leak in ["kerstin", "purpose=", "?"] {
        assert!(
            !text
                .lines()
                .any(|l| l.contains("req-logs") && l.contains(leak)),
            "{leak:?} logged:\n{text}"
        );
    }
}
