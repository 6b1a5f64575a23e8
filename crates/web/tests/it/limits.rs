//! The listener's limits as a stranger meets them: requests sent by halves are dropped at the
//! header timeout, a body that never arrives is cut off, and connections past the maximum wait
//! for one to close instead of each taking memory.

use std::time::Duration;

use integritet_web::ServeLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::{SUPPORT, TestServer};

/// Long enough for any answer on a loaded machine; a connection still open after it is held.
const PATIENCE: Duration = Duration::from_secs(20);

fn address(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Everything the server sends until it closes the connection, or `None` if it keeps it open
/// for longer than `wait`.
async fn until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut got = Vec::new();
    match timeout(wait, stream.read_to_end(&mut got)).await {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_sent_by_halves_are_dropped_at_the_header_timeout() {
    let limits = ServeLimits {
        header_timeout: Duration::from_millis(300),
        ..ServeLimits::default()
    };
    let server = TestServer::sqlite_within(limits).await;
    let mut halves = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(address(&server)).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        halves.push(stream);
    }
    for stream in &mut halves {
        let answer = until_closed(stream, PATIENCE)
            .await
            .expect("a half-sent request still holds its connection");
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    // Whole requests are served as ever.
    let ok = server.public("/healthz").send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_is_cut_off() {
    let limits = ServeLimits {
        body_timeout: Duration::from_millis(300),
        ..ServeLimits::default()
    };
    let server = TestServer::sqlite_within(limits).await;
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    let head = format!(
        "POST /api/v1/subjects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SUPPORT}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{\"kind\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream, PATIENCE)
        .await
        .expect("a stalled body still holds its connection");
    let status = answer.split_whitespace().nth(1).unwrap_or("none");
    assert!(
        status.starts_with('4'),
        "a stalled body is the client's fault, answered 4xx: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_maximum_wait_for_one_to_close() {
    let limits = ServeLimits {
        max_connections: 2,
        header_timeout: Duration::from_secs(120),
        ..ServeLimits::default()
    };
    let server = TestServer::sqlite_within(limits).await;
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(address(&server)).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        idle.push(stream);
    }
    // Give the server the moment it needs to take both.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(address(&server)).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        until_closed(&mut third, Duration::from_millis(500)).await,
        None,
        "a third connection was served while two were open"
    );
    drop(idle);
    let answer = until_closed(&mut third, PATIENCE)
        .await
        .expect("the waiting connection was never served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A response to a request whose body was left unread says `Connection: close`, so a client
/// that pools connections does not send its next request into the socket being closed; a
/// request whose body was read keeps its connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_with_an_unread_body_is_closed_and_said_so() {
    let server = TestServer::sqlite().await;
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 262154\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut stream, PATIENCE)
        .await
        .expect("the connection stays open");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 200"), "{answer}");
    assert!(lower.contains("connection: close"), "{answer}");

    // Read to its end: the same connection serves the next request.
    let body = r#"{"kind":"email","value":"nobody@example.se","purpose":"purchase"}"#;
    let request = format!(
        "POST /api/v1/subjects/lookup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SUPPORT}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    for _ in 0..2 {
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut got = vec![0u8; 4096];
        let n = timeout(PATIENCE, stream.read(&mut got))
            .await
            .unwrap()
            .unwrap();
        let head = String::from_utf8_lossy(&got[..n]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(!head.contains("connection: close"), "{head}");
    }
}
