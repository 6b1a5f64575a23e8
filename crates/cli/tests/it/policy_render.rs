//! `integritet policy notice` and `integritet policy ropa` on the seed shop's policy.

use assert_cmd::Command;
use predicates::prelude::*;

const CORRECTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-shop/policy.toml"
);

fn integritet() -> Command {
    Command::cargo_bin("integritet").unwrap()
}

fn stdout(args: &[&str]) -> String {
    let output = integritet()
        .args(args)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn notice_defaults_to_swedish_markdown() {
    let md = stdout(&["policy", "notice", CORRECTED]);
    assert!(
        md.starts_with("# Integritetspolicy för Rejoin Telematics AB\n"),
        "{}",
        &md[..80]
    );
    assert!(md.contains("\n## Dina rättigheter\n"));
    assert!(md.contains("Integritetsskyddsmyndigheten (IMY)"));
}

#[test]
fn notice_in_every_language_and_format() {
    let sv_html = stdout(&[
        "policy", "notice", CORRECTED, "--lang", "sv", "--format", "html",
    ]);
    assert!(sv_html.starts_with("<!doctype html>"));
    assert!(sv_html.contains("<html lang=\"sv\">"));
    assert!(sv_html.trim_end().ends_with("</html>"));

    let en_html = stdout(&[
        "policy", "notice", CORRECTED, "--lang", "en", "--format", "html",
    ]);
    assert!(en_html.starts_with("<!doctype html>"));
    assert!(en_html.contains("<html lang=\"en\">"));
    assert!(en_html.contains("<h1>Privacy notice of Rejoin Telematics AB</h1>"));

    let en_md = stdout(&[
        "policy", "notice", CORRECTED, "--lang", "en", "--format", "md",
    ]);
    assert!(en_md.starts_with("# Privacy notice of Rejoin Telematics AB\n"));
    assert!(en_md.contains("We never sell your personal data."));
}

#[test]
fn ropa_csv_has_a_header_and_one_row_per_purpose() {
    let csv_text = stdout(&["policy", "ropa", CORRECTED]);
    // The seed has no line breaks inside cells, so a line is a row (the notice crate's tests
    // parse the CSV with the csv crate).
    let lines: Vec<&str> = csv_text.lines().collect();
    assert!(
        lines[0].starts_with("Policy version,Controller,Organisation number,"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + 9);
    assert!(lines[1..].iter().all(|l| l.starts_with("pv1-")));

    let explicit = stdout(&["policy", "ropa", CORRECTED, "--format", "csv"]);
    assert_eq!(explicit, csv_text);
}

#[test]
fn ropa_json_has_controller_version_and_records() {
    let text = stdout(&["policy", "ropa", CORRECTED, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["controller"]["name"], "Rejoin Telematics AB");
    assert!(json["policy_version"].as_str().unwrap().starts_with("pv1-"));
    let records = json["records"].as_array().unwrap();
    assert_eq!(records.len(), 9);
    assert_eq!(records[0]["legal_basis"]["dpv"], "eu-gdpr:A6-1-b");
}

#[test]
fn a_missing_file_fails_with_a_clear_message() {
    for args in [
        vec!["policy", "notice", "no-such-policy.toml"],
        vec![
            "policy",
            "notice",
            "no-such-policy.toml",
            "--format",
            "html",
        ],
        vec!["policy", "ropa", "no-such-policy.toml"],
        vec!["policy", "ropa", "no-such-policy.toml", "--format", "json"],
    ] {
        integritet()
            .args(&args)
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(
                "cannot read the policy file no-such-policy.toml",
            ));
    }
}

#[test]
fn a_broken_policy_names_the_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    let text = std::fs::read_to_string(CORRECTED)
        .unwrap()
        .replace("legal_basis = \"contract\"", "legal_basis = \"contrakt\"");
    std::fs::write(&file, text).unwrap();
    integritet()
        .args(["policy", "notice", file.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("purposes.purchase.legal_basis"));
}

#[test]
fn bad_usage_exits_2() {
    integritet()
        .args(["policy", "notice", CORRECTED, "--lang", "de"])
        .assert()
        .code(2);
    integritet()
        .args(["policy", "ropa", CORRECTED, "--format", "xml"])
        .assert()
        .code(2);
}
