//! `integritet token` end to end on SQLite: the secret is printed once, listed never, and
//! revocation sticks.

use std::path::PathBuf;

use assert_cmd::Command;
use tempfile::TempDir;

const POLICY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-shop/policy.toml"
);

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

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = Command::cargo_bin("integritet")
            .unwrap()
            .env_remove("INTEGRITET_DATABASE_URL")
            .env_remove("INTEGRITET_POLICY")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--policy")
            .arg(POLICY)
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }

    fn create(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["token", "create", "--json"];
        all.extend_from_slice(args);
        let (code, out, err) = self.run(&all);
        assert_eq!(code, 0, "{out}{err}");
        serde_json::from_str(&out).unwrap()
    }
}

#[test]
fn create_prints_the_secret_once_and_list_never_shows_it() {
    let vault = Vault::new();
    let (code, out, err) = vault.run(&[
        "token",
        "create",
        "--role",
        "support",
        "--label",
        "web shop",
        "--expires",
        "30d",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let secret = out
        .lines()
        .find_map(|line| line.strip_prefix("token:"))
        .map(str::trim)
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("itg_") && secret.len() == 68, "{secret}");
    assert_eq!(out.matches(&secret).count(), 1, "{out}");
    assert!(out.contains("will not be shown again"), "{out}");
    assert!(out.contains("role:    support"), "{out}");
    let id = out
        .lines()
        .find_map(|line| line.strip_prefix("id:"))
        .map(str::trim)
        .unwrap()
        .to_owned();
    assert!(id.starts_with("tok_"), "{id}");

    for args in [&["token", "list"][..], &["token", "list", "--json"][..]] {
        let (code, listed, err) = vault.run(args);
        assert_eq!(code, 0, "{listed}{err}");
        assert!(listed.contains(&id), "{listed}");
        assert!(!listed.contains(&secret), "{listed}");
        assert!(!listed.contains("itg_"), "{listed}");
        assert!(!listed.contains("hash"), "{listed}");
    }
    let (_, listed, _) = vault.run(&["token", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["role"], "support");
    assert_eq!(listed[0]["label"], "web shop");
    assert_eq!(listed[0]["status"], "active");
    assert!(listed[0]["expires_at"].is_string());

    // The database holds the hash, never the secret.
    let db = std::fs::read(vault.data_dir().join("integritet.db")).unwrap();
    let wal = std::fs::read(vault.data_dir().join("integritet.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
}

#[test]
fn revoke_works_once_and_is_audited() {
    let vault = Vault::new();
    let created = vault.create(&["--role", "finance"]);
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created["secret"].as_str().unwrap().starts_with("itg_"));
    assert!(created["expires_at"].is_null());

    let (code, out, err) = vault.run(&["token", "revoke", &id]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("revoked"), "{out}");
    let (_, listed, _) = vault.run(&["token", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["status"], "revoked");
    assert!(listed[0]["revoked_at"].is_string());

    let (code, _, err) = vault.run(&["token", "revoke", &id]);
    assert_eq!(code, 1);
    assert!(err.contains("no active token"), "{err}");
    let (code, _, err) = vault.run(&["token", "revoke", "tok_00000000"]);
    assert_eq!(code, 1, "{err}");

    let (code, out, err) = vault.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn an_unknown_role_fails_with_the_list_of_roles() {
    let vault = Vault::new();
    let (code, out, err) = vault.run(&["token", "create", "--role", "janitor"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("janitor"), "{err}");
    assert!(err.contains("support, marketing, finance"), "{err}");
    assert!(!out.contains("itg_"), "{out}");
}

#[test]
fn a_bad_expiry_is_a_usage_error() {
    let vault = Vault::new();
    for bad in ["30", "30x", "-1d", "0h", "soon"] {
        // `--expires=…` so that clap does not take `-1d` for an option of its own.
        let expires = format!("--expires={bad}");
        let (code, out, err) = vault.run(&["token", "create", "--role", "support", &expires]);
        assert_eq!(code, 2, "{bad}: {out}{err}");
        assert!(err.contains("30d"), "{err}");
    }
}

#[test]
fn create_needs_a_policy() {
    let vault = Vault::new();
    let output = Command::cargo_bin("integritet")
        .unwrap()
        .env_remove("INTEGRITET_DATABASE_URL")
        .env_remove("INTEGRITET_POLICY")
        .arg("--data-dir")
        .arg(vault.data_dir())
        .args(["token", "create", "--role", "support"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--policy"));
}

#[test]
fn help_has_examples() {
    let output = Command::cargo_bin("integritet")
        .unwrap()
        .args(["token", "create", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("Examples:") && help.contains("--expires"),
        "{help}"
    );
}
