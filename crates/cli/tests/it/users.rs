//! `integritet user` end to end on SQLite: a user created with a password on stdin logs in to
//! the server the CLI starts; the password is stored only as a hash; disabling ends it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;
use tempfile::TempDir;

const POLICY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-shop/policy.toml"
);

const PASSWORD: &str = "ett långt lösenord med mellanslag";

struct Vault {
    dir: TempDir,
}

impl Vault {
    fn new() -> Vault {
        Vault {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::cargo_bin("integritet").unwrap();
        command
            .env_remove("INTEGRITET_DATABASE_URL")
            .env_remove("INTEGRITET_POLICY")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--policy")
            .arg(POLICY)
            .args(args);
        command
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let output = self.command(args).write_stdin(stdin).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_with_stdin(args, "")
    }

    fn create(&self, name: &str, role: &str, password: &str) -> (i32, String, String) {
        self.run_with_stdin(
            &["user", "create", name, "--role", role, "--password-stdin"],
            &format!("{password}\n"),
        )
    }
}

fn http(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn login(address: &str, name: &str, password: &str) -> String {
    let body = serde_json::json!({"name": name, "password": password}).to_string();
    http(
        address,
        &format!(
            "POST /console/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn a_user_from_the_cli_logs_in_until_disabled() {
    let vault = Vault::new();
    let (code, out, err) = vault.create("Anna.Svensson", "support", PASSWORD);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("anna.svensson") && out.contains("support"),
        "{out}"
    );
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));

    for args in [&["user", "list"][..], &["user", "list", "--json"][..]] {
        let (code, listed, err) = vault.run(args);
        assert_eq!(code, 0, "{listed}{err}");
        assert!(listed.contains("anna.svensson"), "{listed}");
        assert!(!listed.contains("argon2"), "{listed}");
    }
    let (_, listed, _) = vault.run(&["user", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["role"], "support");
    assert_eq!(listed[0]["status"], "active");

    // The database holds an argon2id hash, never the password.
    let db = std::fs::read(vault.data_dir().join("integritet.db")).unwrap();
    let wal = std::fs::read(vault.data_dir().join("integritet.db-wal")).unwrap_or_default();
    let all = [db, wal].concat();
    assert!(
        !all.windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes())
    );
    assert!(all.windows(9).any(|w| w == b"$argon2id"));

    // The server the CLI starts lets the user in.
    let mut server = Process::new(cargo_bin("integritet"))
        .env_remove("INTEGRITET_DATABASE_URL")
        .arg("--data-dir")
        .arg(vault.data_dir())
        .arg("--policy")
        .arg(POLICY)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let address = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no address");
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let response = login(&address, "anna.svensson", PASSWORD);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let cookie = response
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-integritet_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Secure"),
        "{cookie}"
    );
    let value = cookie.split(';').next().unwrap().to_owned();
    let me = http(
        &address,
        &format!(
            "GET /console/session HTTP/1.1\r\nHost: x\r\nCookie: {value}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(me.starts_with("HTTP/1.1 200"), "{me}");
    assert!(me.contains("\"user\":\"anna.svensson\""), "{me}");
    let wrong = login(&address, "anna.svensson", "inte rätt lösenord");
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");

    // Disabling ends the session at once.
    let (code, out, err) = vault.run(&["user", "disable", "anna.svensson"]);
    assert_eq!(code, 0, "{out}{err}");
    let me = http(
        &address,
        &format!(
            "GET /console/session HTTP/1.1\r\nHost: x\r\nCookie: {value}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(me.starts_with("HTTP/1.1 401"), "{me}");
    let refused = login(&address, "anna.svensson", PASSWORD);
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let _ = server.kill();
    let _ = server.wait();

    let (code, _, err) = vault.run(&["user", "disable", "anna.svensson"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no enabled user"), "{err}");
    let (_, listed, _) = vault.run(&["user", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["status"], "disabled");

    let (code, out, err) = vault.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn bad_users_and_passwords_are_refused() {
    let vault = Vault::new();
    let (code, _, err) = vault.create("anna", "support", "kort");
    assert_eq!(code, 1);
    assert!(err.contains("12 characters"), "{err}");
    let (code, _, err) = vault.create("anna.svensson", "support", "Anna.Svensson");
    assert_eq!(code, 1);
    assert!(err.contains("login name"), "{err}");
    let (code, _, err) = vault.create("anna", "janitor", PASSWORD);
    assert_eq!(code, 1);
    assert!(err.contains("support, marketing, finance"), "{err}");
    let (code, _, err) = vault.create("anna svensson", "support", PASSWORD);
    assert_eq!(code, 1);
    assert!(err.contains("letters a-z"), "{err}");

    let (code, out, err) = vault.create("ops", "admin", PASSWORD);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = vault.create("OPS", "support", PASSWORD);
    assert_eq!(code, 1);
    assert!(err.contains("exists already"), "{err}");

    // Without --password-stdin and without a terminal there is nobody to ask: bad usage.
    let (code, _, err) = vault.run(&["user", "create", "bo", "--role", "support"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--password-stdin"), "{err}");

    let (_, listed, _) = vault.run(&["user", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn help_has_examples() {
    let output = Command::cargo_bin("integritet")
        .unwrap()
        .args(["user", "create", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("Examples:") && help.contains("--password-stdin"),
        "{help}"
    );
}
