//! `integritet id check` against Skatteverket's test data and the meta specifications' lists,
//! used exactly as they are in ../shared/testdata.

use assert_cmd::Command;
use serde_json::Value;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata");

fn read_json(relative: &str) -> Value {
    let path = format!("{TESTDATA}/{relative}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn integritet() -> Command {
    let mut cmd = Command::cargo_bin("integritet").unwrap();
    // The test data's 10-digit forms were written for people alive now; a fixed date keeps
    // the century inference stable whatever day the tests run.
    cmd.args(["id", "check", "--today", "2026-11-25"]);
    cmd
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn every_pin_of_skatteverket_is_valid_through_stdin() {
    let pins = read_json("personnummer/allPins.json");
    let pins: Vec<String> = pins
        .as_array()
        .unwrap()
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => panic!("unexpected entry {other}"),
        })
        .collect();
    assert_eq!(pins.len(), 41_129);
    let output = integritet()
        .arg("--json")
        .write_stdin(pins.join("\n"))
        .output()
        .unwrap();
    assert!(output.status.success(), "exit {:?}", output.status);
    let lines = json_lines(&output.stdout);
    assert_eq!(lines.len(), 41_129);
    for (line, pin) in lines.iter().zip(&pins) {
        assert_eq!(line["valid"], true, "{pin}: {line}");
        let kind = line["kind"].as_str().unwrap();
        assert!(
            kind == "personnummer" || kind == "samordningsnummer",
            "{pin}: {kind}"
        );
        let normalised = line["normalised"].as_str().unwrap();
        assert_eq!(normalised.replace('-', ""), *pin, "{pin}");
    }
}

#[test]
fn list_json_gives_validity_and_kind_for_every_format() {
    let list = read_json("personnummer/list.json");
    let mut checked = 0;
    for entry in list.as_array().unwrap() {
        let valid = entry["valid"].as_bool().unwrap();
        let expected_kind = match entry["type"].as_str().unwrap() {
            "ssn" => "personnummer",
            "con" => "samordningsnummer",
            other => panic!("unknown type {other}"),
        };
        for format in [
            "long_format",
            "short_format",
            "separated_format",
            "separated_long",
        ] {
            let Some(input) = entry[format].as_str() else {
                continue;
            };
            let output = integritet().arg("--json").arg(input).output().unwrap();
            let line = &json_lines(&output.stdout)[0];
            assert_eq!(line["valid"], valid, "{input} ({format}): {line}");
            assert_eq!(output.status.code(), Some(if valid { 0 } else { 1 }));
            if valid {
                assert_eq!(line["kind"], expected_kind, "{input}");
            } else {
                assert!(line["message"].as_str().unwrap().len() > 10);
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} inputs checked");
}

#[test]
fn organisation_numbers_from_the_meta_list() {
    let list = read_json("organisationsnummer/list.json");
    let entries = list.as_array().unwrap();
    assert_eq!(entries.len(), 24);
    for entry in entries {
        let input = entry["input"].as_str().unwrap();
        let valid = entry["valid"].as_bool().unwrap();
        let output = integritet().arg("--json").arg(input).output().unwrap();
        let line = &json_lines(&output.stdout)[0];
        assert_eq!(line["valid"], valid, "{input}: {line}");
        if valid {
            let kind = line["kind"].as_str().unwrap();
            let legal_form = entry["type"].as_str().unwrap();
            if legal_form == "Enskild firma" {
                // A sole trader's organisationsnummer is the owner's personnummer (or
                // samordningsnummer).
                assert!(
                    kind == "personnummer" || kind == "samordningsnummer",
                    "{input}: {kind}"
                );
            } else {
                assert_eq!(kind, "organisationsnummer", "{input}");
                assert_eq!(line["legal_form"], legal_form, "{input}");
            }
        }
    }
}

#[test]
fn organisation_numbers_of_the_personnummer_suite_are_not_personnummer() {
    let list = read_json("personnummer/orgnumber.json");
    let mut checked = 0;
    for entry in list.as_array().unwrap() {
        for format in ["short_format", "separated_format"] {
            let input = entry[format].as_str().unwrap();
            let output = integritet().arg("--json").arg(input).output().unwrap();
            let line = &json_lines(&output.stdout)[0];
            assert_eq!(line["kind"], "organisationsnummer", "{input}: {line}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * list.as_array().unwrap().len());
}

#[test]
fn text_output_and_exit_codes() {
    let output = integritet()
        .args(["811228-9874", "556800-7610", "811228-9875"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "811228-9874: personnummer 19811228-9874");
    assert_eq!(
        lines[1],
        "556800-7610: organisationsnummer 556800-7610 (Aktiebolag)"
    );
    assert!(lines[2].starts_with("811228-9875: invalid: check digit is wrong"));

    integritet().arg("811228-9874").assert().success();
    Command::cargo_bin("integritet")
        .unwrap()
        .args(["id", "check", "--today", "25/11/2026", "811228-9874"])
        .assert()
        .code(2);
    Command::cargo_bin("integritet")
        .unwrap()
        .args(["id", "check", "--bogus"])
        .assert()
        .code(2);
}
