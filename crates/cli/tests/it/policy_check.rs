//! `integritet policy check`: the seed-shop examples, broken files, and bad usage.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const AS_PUBLISHED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-shop/policy-as-published.toml"
);
const CORRECTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-shop/policy.toml"
);

fn integritet() -> Command {
    Command::cargo_bin("integritet").unwrap()
}

fn check(file: &str, format: &str) -> assert_cmd::assert::Assert {
    integritet()
        .args(["policy", "check", file, "--format", format])
        .assert()
}

fn line_of(file: &str, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line of {file} contains {needle:?}"))
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// Writes `text` to `name` in a fresh directory; keep the directory alive while using the path.
fn write_temp(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

#[test]
fn as_published_policy_fails_with_located_findings() {
    let assert = check(AS_PUBLISHED, "text").code(1);
    let out = stdout_of(&assert);
    let cookie_line = line_of(AS_PUBLISHED, "consent = \"implied_by_use\"");
    assert!(
        out.contains(&format!(
            "{AS_PUBLISHED}:{cookie_line}: error[implied-cookie-consent] cookies.consent: "
        )),
        "{out}"
    );
    let authority_line = line_of(AS_PUBLISHED, "name = \"Datainspektionen\"");
    assert!(
        out.contains(&format!(
            "{AS_PUBLISHED}:{authority_line}: warning[outdated-authority-name] controller.supervisory_authority.name: "
        )),
        "{out}"
    );
    for expected in [
        "error[personalisation-under-contract] purposes.purchase.personalised_offers",
        "error[electronic-marketing-without-consent] purposes.direct_marketing.data_subjects",
        "warning[unnamed-retention-law] purposes.legal_compliance.retention.law",
        "warning[personnummer-for-opt-out] requests.marketing_opt_out.required_details[2]",
        "(Lag (2022:482) om elektronisk kommunikation 9 kap. 28 §",
        "https://www.imy.se",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[lines.len() - 2], "4 errors, 9 warnings", "{out}");
    assert!(
        lines[lines.len() - 1].starts_with("policy version pv1-"),
        "{out}"
    );
    // One line per finding, then the two summary lines.
    assert_eq!(lines.len(), 13 + 2, "{out}");
}

#[test]
fn as_published_policy_as_json() {
    let assert = check(AS_PUBLISHED, "json").code(1);
    let report: serde_json::Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(report["file"], AS_PUBLISHED);
    assert!(report["version"].as_str().unwrap().starts_with("pv1-"));
    assert_eq!(report["errors"], 4);
    assert_eq!(report["warnings"], 9);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 13);
    let cookie = findings
        .iter()
        .find(|f| f["code"] == "implied-cookie-consent")
        .unwrap();
    assert_eq!(cookie["severity"], "error");
    assert_eq!(cookie["path"], "cookies.consent");
    assert_eq!(
        cookie["line"],
        line_of(AS_PUBLISHED, "consent = \"implied_by_use\"")
    );
    assert!(cookie["message"].as_str().unwrap().contains("opt_in"));
    assert!(cookie["reference"].as_str().unwrap().contains("05/2020"));
}

#[test]
fn corrected_policy_passes() {
    let assert = check(CORRECTED, "text").success();
    let out = stdout_of(&assert);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], "no findings");
    assert!(lines[1].starts_with("policy version pv1-"), "{out}");
    assert.stderr("");
}

#[test]
fn corrected_policy_as_json() {
    let assert = check(CORRECTED, "json").success();
    let report: serde_json::Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(report["errors"], 0);
    assert_eq!(report["warnings"], 0);
    assert_eq!(report["findings"], serde_json::json!([]));
}

#[test]
fn same_policy_same_version() {
    let first = stdout_of(&check(CORRECTED, "json").success());
    let second = stdout_of(&check(CORRECTED, "json").success());
    let version =
        |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["version"].clone();
    assert_eq!(version(&first), version(&second));
    let other = stdout_of(&check(AS_PUBLISHED, "json").code(1));
    assert_ne!(version(&first), version(&other));
}

#[test]
fn warnings_alone_exit_zero() {
    let text = std::fs::read_to_string(CORRECTED)
        .unwrap()
        .replace("Integritetsskyddsmyndigheten (IMY)", "Datainspektionen");
    let (_dir, path) = write_temp("policy.toml", &text);
    let assert = check(&path, "text").success();
    let out = stdout_of(&assert);
    assert!(out.contains("warning[outdated-authority-name]"), "{out}");
    assert!(out.contains("\n0 errors, 1 warning\n"), "{out}");
}

#[test]
fn toml_syntax_error_names_file_and_line() {
    let (_dir, path) = write_temp(
        "broken.toml",
        "[controller]\nname = \"Rejoin Telematics AB\norg_number = \"556800-7610\"\n",
    );
    integritet()
        .args(["policy", "check", &path])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(format!("error: {path}:2")));
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let text = std::fs::read_to_string(CORRECTED)
        .unwrap()
        .replace("honour_gpc = true", "honour_gpc = true\nhonor_gpc = true");
    let (_dir, path) = write_temp("policy.toml", &text);
    let line = line_of(&path, "honor_gpc");
    let assert = integritet()
        .args(["policy", "check", &path])
        .assert()
        .code(1)
        .stdout("");
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("honor_gpc"), "{err}");
    assert!(err.contains(&format!("{path}:{line}")), "{err}");
}

#[test]
fn invalid_value_names_the_key() {
    let text = std::fs::read_to_string(CORRECTED)
        .unwrap()
        .replace("consent = \"opt_in\"", "consent = \"opt_out\"");
    let (_dir, path) = write_temp("policy.toml", &text);
    integritet()
        .args(["policy", "check", &path, "--format", "json"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicate::str::contains("at key `cookies.consent`")
                .and(predicate::str::contains("opt_out")),
        );
}

#[test]
fn missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-policy.toml");
    assert!(!Path::new(&path).exists());
    integritet()
        .args(["policy", "check"])
        .arg(&path)
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicate::str::starts_with("error: cannot read the policy file")
                .and(predicate::str::contains("no-such-policy.toml")),
        );
}

#[test]
fn bad_usage_exits_two() {
    integritet()
        .args(["policy", "check", CORRECTED, "--format", "yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("yaml"));
    integritet()
        .args(["policy", "check", CORRECTED, "--frobnicate"])
        .assert()
        .code(2);
    integritet().args(["policy", "check"]).assert().code(2);
}
