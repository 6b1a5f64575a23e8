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

/// Reads the server's stderr up to the line that says where it listens.
fn listening_address(stderr: &mut impl BufRead) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no address in {seen:?}"
        );
        if let Some(rest) = line.split("http://").nth(1) {
            return rest.split_whitespace().next().unwrap().to_owned();
        }
        seen.push_str(&line);
    }
}

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
    let address = listening_address(&mut stderr);

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

    // The stopping server signed the head covering everything it did.
    let verified = base(&["audit", "verify", "--json"]).output().unwrap();
    assert!(verified.status.success());
    let report: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    let entries = report["entries"].as_u64().unwrap();
    assert_eq!(
        report["signed"]["seq"].as_u64(),
        Some(entries - 1),
        "{report}"
    );
    assert_eq!(
        report["signed"]["unsigned_after"].as_u64(),
        Some(0),
        "{report}"
    );
    let public = base(&["audit", "public-key"]).output().unwrap();
    assert_eq!(
        String::from_utf8(public.stdout).unwrap().trim(),
        report["public_key"].as_str().unwrap()
    );
}

fn stop(server: &mut std::process::Child) {
    let killed = Process::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(server.wait().unwrap().success());
}

fn get(address: &str, path: &str, token: &str) -> String {
    http(
        address,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
    )
}

#[test]
fn the_first_start_leaves_an_admin_token_in_a_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let start = || {
        let mut server = Process::new(cargo_bin("integritet"))
            .env_remove("INTEGRITET_DATABASE_URL")
            .arg("--data-dir")
            .arg(&data)
            .arg("--policy")
            .arg(POLICY)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(server.stderr.take().unwrap());
        let address = listening_address(&mut stderr);
        (server, address, stderr)
    };
    // As a new user would: a staff token made with the CLI before the first start.
    let staff = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .arg("--data-dir")
        .arg(&data)
        .arg("--policy")
        .arg(POLICY)
        .args(["token", "create", "--role", "support"])
        .output()
        .unwrap();
    assert!(staff.status.success(), "{staff:?}");
    let (mut server, address, _stderr) = start();
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut printed = String::new();
    while !printed.contains("reads no personal data") {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no word of the admin token in {printed:?}"
        );
        printed.push_str(&line);
    }
    let file = data.join("admin-token");
    assert!(printed.contains(&file.display().to_string()), "{printed}");
    assert!(printed.contains("spara den säkert"), "{printed}");
    // The secret is in the file only, never on stdout (which a system journal keeps).
    assert!(!printed.contains("itg_"), "{printed}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the admin token file is mode {mode:o}");
    let admin = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert!(admin.starts_with("itg_"), "the file holds a token");
    let tokens = get(&address, "/api/v1/tokens", &admin);
    assert!(tokens.starts_with("HTTP/1.1 200"), "{tokens}");
    assert!(!tokens.contains(&admin), "a listing never shows a secret");
    // The administrator reads no personal data.
    let policy_read = get(
        &address,
        "/api/v1/subjects/00000000-0000-7000-8000-000000000000?purpose=purchase",
        &admin,
    );
    assert!(policy_read.starts_with("HTTP/1.1 403"), "{policy_read}");
    // The real server measures its store: the refusal above was an audit entry.
    let metrics = http(
        &address,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        metrics.contains("integritet_audit_entries_written_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("integritet_store_operation_duration_seconds"),
        "{metrics}"
    );
    stop(&mut server);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();

    // The second start shows no token: it exists already, stored only as a hash.
    let (mut server, address, _stderr) = start();
    let tokens = get(&address, "/api/v1/tokens", &admin);
    assert!(tokens.starts_with("HTTP/1.1 200"), "{tokens}");
    stop(&mut server);
    let mut second = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut second)
        .unwrap();
    assert!(!second.contains("itg_"), "{second}");
    let db = std::fs::read(data.join("integritet.db")).unwrap();
    assert!(!db.windows(admin.len()).any(|w| w == admin.as_bytes()));
}

#[test]
fn a_bad_setting_is_named_with_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("integritet.toml");
    std::fs::write(&config, "listen = \"everywhere\"\n").unwrap();
    let output = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .arg("--config")
        .arg(&config)
        .args(["serve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("`listen`") && stderr.contains("integritet.toml"),
        "{stderr}"
    );

    std::fs::write(&config, "data_dri = \"x\"\n").unwrap();
    let output = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .arg("--config")
        .arg(&config)
        .args(["token", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("data_dri"), "{stderr}");

    let output = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .env("INTEGRITET_LISTEN", "127.0.0.1:notaport")
        .current_dir(dir.path())
        .args(["--config", "/nonexistent/integritet.toml", "serve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("/nonexistent/integritet.toml")
    );

    std::fs::remove_file(&config).unwrap();
    let output = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .env("INTEGRITET_LISTEN", "127.0.0.1:notaport")
        .current_dir(dir.path())
        .args(["serve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("`listen`") && stderr.contains("environment variable INTEGRITET_LISTEN"),
        "{stderr}"
    );

    // Set but empty: named, not taken for the current directory.
    let output = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .env("INTEGRITET_DATA_DIR", "")
        .current_dir(dir.path())
        .args(["token", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("INTEGRITET_DATA_DIR is set but empty"),
        "{stderr}"
    );
}

#[test]
fn a_config_file_sets_where_the_data_lives() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("integritet.toml"),
        format!("data_dir = \"from-config\"\npolicy = \"{POLICY}\"\n"),
    )
    .unwrap();
    let output = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .env_remove("INTEGRITET_DATA_DIR")
        .env_remove("INTEGRITET_POLICY")
        .current_dir(dir.path())
        .args(["token", "create", "--role", "support"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(dir.path().join("from-config/integritet.db").is_file());
}

#[test]
fn the_demo_has_customers_and_a_token_for_every_role() {
    let mut server = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let address = listening_address(&mut stderr);
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut printed = String::new();
    let support = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no support token in {printed:?}"
        );
        printed.push_str(&line);
        if let Some(token) = line.trim().strip_prefix("support") {
            break token.trim().to_owned();
        }
    };
    assert!(printed.contains("19 fictional customers"), "{printed}");
    let body =
        r#"{"kind":"email","value":"astrid.lindqvist@example.se","purpose":"customer_care"}"#;
    let found = http(
        &address,
        &format!(
            "POST /api/v1/subjects/lookup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {support}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(found.starts_with("HTTP/1.1 200"), "{found}");
    assert!(found.contains("\"subjects\":[\""), "{found}");
    stop(&mut server);
}

#[test]
fn a_policy_with_errors_is_refused_with_the_findings_of_policy_check() {
    let dir = tempfile::tempdir().unwrap();
    let as_published = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/seed-shop/policy-as-published.toml"
    );
    let output = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--policy")
        .arg(as_published)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let check = Process::new(cargo_bin("integritet"))
        .args(["policy", "check", as_published])
        .output()
        .unwrap();
    let check = String::from_utf8(check.stdout).unwrap();
    let errors: Vec<&str> = check.lines().filter(|l| l.contains(": error[")).collect();
    assert!(!errors.is_empty(), "{check}");
    for line in errors {
        assert!(
            stderr.contains(line),
            "serve does not say {line:?}:\n{stderr}"
        );
    }
    assert!(stderr.contains("does not start"), "{stderr}");
    // Nothing was created for a server that never started.
    assert!(!dir.path().join("data").join("integritet.db").exists());
}

#[test]
fn commands_that_read_a_store_refuse_a_path_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-data");
    for args in [
        &["audit", "verify"][..],
        &["token", "list"][..],
        &["keys", "rotate", "--settle", "0"][..],
        &["erasures"][..],
    ] {
        let output = Process::new(cargo_bin("integritet"))
            .env_remove("INTEGRITET_DATABASE_URL")
            .arg("--data-dir")
            .arg(&missing)
            .arg("--policy")
            .arg(POLICY)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("there is no store at"),
            "{args:?}: {stderr}"
        );
        assert!(
            !missing.join("integritet.db").exists(),
            "{args:?} created a store"
        );
    }
}

#[test]
fn a_wrong_key_dir_over_a_store_with_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let customers = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/seed-shop/customers.jsonl"
    );
    let run = |args: &[&str], key_dir: Option<&std::path::Path>| {
        let mut cmd = Process::new(cargo_bin("integritet"));
        cmd.env_remove("INTEGRITET_DATABASE_URL")
            .env_remove("INTEGRITET_KEY_DIR")
            .arg("--data-dir")
            .arg(&data)
            .arg("--policy")
            .arg(POLICY);
        if let Some(key_dir) = key_dir {
            cmd.arg("--key-dir").arg(key_dir);
        }
        cmd.args(args).output().unwrap()
    };
    let imported = run(&["import", customers], None);
    assert!(imported.status.success(), "{imported:?}");
    let wrong = dir.path().join("other-keys");
    let refused = run(&["serve", "--listen", "127.0.0.1:0"], Some(&wrong));
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--key-dir"), "{stderr}");
    assert!(!wrong.exists(), "a second key ring was created");
}

#[test]
fn a_starting_server_moves_the_archive_ratchet_to_today() {
    use rand::SeedableRng;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys = integritet_crypto::KeyFiles::in_dir(data.join("keys"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    keys.load_or_create(&mut rng).unwrap();
    let archive = keys.archive_key_file();
    let today = integritet_domain::Clock::today(&integritet_domain::clock::SystemClock);
    let long_ago = today - time::Duration::days(40);
    archive.load_or_create(&mut rng, long_ago).unwrap();
    let mut server = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .env_remove("INTEGRITET_KEY_DIR")
        .arg("--data-dir")
        .arg(&data)
        .arg("--policy")
        .arg(POLICY)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let _address = listening_address(&mut stderr);
    // Listening means the day's archive job is done: the keys of the past 40 days are gone.
    assert_eq!(archive.load().unwrap().day(), today);
    // Stopped at once after it said it listens, it still stops cleanly (SIGTERM handled).
    stop(&mut server);
}

#[test]
fn logs_to_a_pipe_are_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--policy")
        .arg(POLICY)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut logged = String::new();
    while !logged.contains("http://") {
        assert!(stderr.read_line(&mut logged).unwrap() > 0, "{logged}");
    }
    stop(&mut server);
    stderr.read_to_string(&mut logged).unwrap();
    // A line of the structured log is among them (the day's archive job), without colours.
    assert!(logged.contains("archive shredded"), "{logged}");
    assert!(!logged.contains('\u{1b}'), "escape codes in {logged:?}");
}

#[test]
fn an_unreachable_postgresql_is_named_with_its_address_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let output = Process::new(cargo_bin("integritet"))
        .current_dir(dir.path())
        .arg("--database-url")
        .arg("postgres://postgres@127.0.0.1:1/integritet")
        .arg("--policy")
        .arg(POLICY)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert!(!stderr.contains("overloaded"), "{stderr}");
}

#[test]
fn serve_terminates_tls_itself_with_hsts() {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let issued =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert_file = dir.path().join("tls.pem");
    let key_file = dir.path().join("tls.key");
    std::fs::write(&cert_file, issued.cert.pem()).unwrap();
    std::fs::write(&key_file, issued.signing_key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let serve = |cert: &std::path::Path| {
        let mut cmd = Process::new(cargo_bin("integritet"));
        cmd.env_remove("INTEGRITET_DATABASE_URL")
            .arg("--data-dir")
            .arg(&data)
            .arg("--policy")
            .arg(POLICY)
            .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(&key_file);
        cmd
    };
    let mut server = serve(&cert_file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let address = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no address");
        if let Some(rest) = line.split("https://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };

    // A client that trusts only this certificate.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(issued.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, TcpStream::connect(&address).unwrap());
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    let _ = tls.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=63072000; includesubdomains"),
        "{response}"
    );
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = http(
        &address,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(!plain.starts_with("HTTP/1.1 200"), "{plain}");
    stop(&mut server);

    // A certificate file without a certificate stops the start with what to do.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let output = serve(&empty).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("holds no certificate"), "{stderr}");
    // The key without the certificate is a usage error.
    let output = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .args(["serve", "--tls-key"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
