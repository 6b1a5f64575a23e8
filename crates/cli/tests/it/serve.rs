//! `integritet serve` as a user starts it: a token from `token create`, then HTTP with it, then
//! SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command as Process, Stdio};

use assert_cmd::cargo::cargo_bin;

const POLICY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-shop/policy.toml"
);

fn http(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn a_token_from_the_cli_opens_the_api_and_sigterm_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let base = |args: &[&str]| {
        let mut cmd = Process::new(cargo_bin("integritet"));
        cmd.env_remove("INTEGRITET_DATABASE_URL")
            .arg("--data-dir")
            .arg(&data)
            .arg("--policy")
            .arg(POLICY)
            .args(args);
        cmd
    };
    let created = base(&["token", "create", "--role", "support", "--json"])
        .output()
        .unwrap();
    assert!(created.status.success());
    let token: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let secret = token["secret"].as_str().unwrap().to_owned();

    let mut server = base(&["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut banner = String::new();
    stderr.read_line(&mut banner).unwrap();
    let address = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_owned();

    let health = http(
        &address,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    let body = r#"{"kind":"person","values":[{"category":"email","value":"serve.test@example.se","purposes":["purchase"]}]}"#;
    let create = http(
        &address,
        &format!(
            "POST /api/v1/subjects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(create.starts_with("HTTP/1.1 201"), "{create}");

    let refused = http(
        &address,
        "GET /api/v1/policy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer itg_forged\r\nConnection: close\r\n\r\n",
    );
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(refused.contains("application/problem+json"), "{refused}");

    let killed = Process::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("integritet stopped"), "{rest}");
}
