//! `integritet marketing`: an unsubscribe link printed by the CLI works from a plain HTTP
//! client with the RFC 8058 POST, and the address is gone from the next audience; the NIX
//! register and opt-outs by letter.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

use crate::vault_cmds::Shop;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/seed-shop");

fn http(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn newsletter_audience(shop: &Shop) -> serde_json::Value {
    let (code, out, err) = shop.run(&[
        "marketing",
        "audience",
        "--channel",
        "email",
        "--purpose",
        "newsletter",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn a_link_printed_by_the_cli_unsubscribes_by_one_click_and_the_next_audience_lacks_it() {
    let shop = Shop::new();
    let (code, out, err) = shop.run(&["import", &format!("{EXAMPLES}/customers.jsonl")]);
    assert_eq!(code, 0, "{out}{err}");
    let audience = newsletter_audience(&shop);
    let contacts = audience["contacts"].as_array().unwrap();
    let omar = contacts
        .iter()
        .find(|c| c["contact"] == "omar.nilsson@example.se")
        .unwrap_or_else(|| panic!("Omar consented to the newsletter: {audience}"));
    let subject = omar["subject"].as_str().unwrap().to_owned();

    let mut server = shop
        .process()
        .args(["serve", "--listen", "127.0.0.1:0", "--sweep-at", "off"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let address = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the server said no address"
        );
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };

    let (code, out, err) = shop.run(&[
        "marketing",
        "headers",
        &subject,
        "--channel",
        "email",
        "--purpose",
        "newsletter",
        "--public-url",
        &format!("http://{address}"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let mut lines = out.lines();
    let list = lines.next().unwrap();
    assert_eq!(
        lines.next(),
        Some("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    );
    let url = list
        .strip_prefix("List-Unsubscribe: <")
        .and_then(|rest| rest.split('>').next())
        .unwrap_or_else(|| panic!("{list}"));
    assert!(list.ends_with(", <mailto:webbshop@smart-telematik.se?subject=unsubscribe>"));
    let path = url.strip_prefix(&format!("http://{address}")).unwrap();
    assert!(!out.contains("omar"), "the link names no one: {out}");

    // What curl -X POST -d 'List-Unsubscribe=One-Click' URL sends.
    let body = "List-Unsubscribe=One-Click";
    let clicked = http(
        &address,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(clicked.starts_with("HTTP/1.1 200"), "{clicked}");
    assert!(
        !clicked.to_ascii_lowercase().contains("set-cookie"),
        "{clicked}"
    );

    let audience = newsletter_audience(&shop);
    assert!(
        !audience.to_string().contains("omar.nilsson@example.se"),
        "{audience}"
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(server.wait().unwrap().success());
    let (code, out, _) = shop.run(&["audit", "verify", "--json"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_nix_register_and_opt_outs_by_letter() {
    let shop = Shop::new();
    let (code, out, err) = shop.run(&["import", &format!("{EXAMPLES}/customers.jsonl")]);
    assert_eq!(code, 0, "{out}{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "070-111 22 33\nring inte\n").unwrap();
    let (code, out, err) = shop.run(&["marketing", "nix-import", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("line 2"), "{err}");
    let good = dir.path().join("nix.txt");
    std::fs::write(&good, "# NIX\n070-111 22 33\n+46 73 444 55 66\n\n").unwrap();
    let (code, out, err) = shop.run(&["marketing", "nix-import", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("now holds 2 numbers"), "{out}");

    let (code, out, err) = shop.run(&["marketing", "opt-out", "--email", "Ny.Kund@example.se"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 subject(s) object"), "{out}");
    let (code, _, err) = shop.run(&[
        "marketing",
        "audience",
        "--channel",
        "phone",
        "--purpose",
        "newsletter",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("markets by email only"), "{err}");
}

#[test]
fn consent_records_export_as_json_ld_and_a_bad_day_is_refused() {
    let shop = Shop::new();
    let (code, out, err) = shop.run(&["import", &format!("{EXAMPLES}/customers.jsonl")]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = shop.run(&["consent", "export", "--since", "2026-01-01"]);
    assert_eq!(code, 0, "{out}{err}");
    let document: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(document["@context"]["dpv"], "https://w3id.org/dpv#");
    assert_eq!(document["@graph"], serde_json::json!([]));
    let (code, _, err) = shop.run(&["consent", "export", "--since", "1 december"]);
    assert_eq!(code, 1);
    assert!(err.contains("YYYY-MM-DD"), "{err}");
}
