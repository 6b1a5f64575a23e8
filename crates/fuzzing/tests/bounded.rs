//! Every fuzz target for a bounded time on stable Rust, so CI runs them on every change: first a
//! seed corpus of realistic inputs, then random mutations of it (bit flips, byte insertions and
//! deletions, duplicated ranges, dictionary words, splices of two entries, truncations, random
//! bytes) from a seeded RNG, until the time is up.
//!
//! - `INTEGRITET_TEST_FUZZ_SECONDS`: seconds per target (default 5; may be fractional).
//! - `INTEGRITET_TEST_FUZZ_SEED`: the RNG's seed (default: a fresh one; always printed).
//! - `INTEGRITET_TEST_FUZZ_REPLAY`: an input in hex, as a failure prints it: runs only that
//!   input, e.g. `INTEGRITET_TEST_FUZZ_REPLAY=7b7d cargo test -p integritet-fuzzing --test
//!   bounded json_bodies`.
//!
//! No coverage guides the mutations (that is what `cargo +nightly fuzz` adds, see
//! fuzz/README.md); a mutant is kept now and then so that mutations stack over the run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Inputs never grow beyond this: parsers' costs are per byte, and a bounded run wants many
/// inputs rather than long ones.
const MAX_LEN: usize = 64 * 1024;
/// Mutants kept beside the seeds, so that mutations stack.
const POOL: usize = 256;

#[test]
fn identity_parse() {
    // 2026-03-01 as days after 1900-01-01, little-endian, before each number.
    let day = 46_080u16.to_le_bytes();
    let numbers = [
        "811228-9874",
        "19811228-9874",
        "198112289874",
        "811228+9874",
        "811228-9875",
        "556800-7610",
        "16556800-7610",
        "5568007610",
        "701063-2391",
        "19701063-2391",
        "000000-0000",
    ];
    let seeds = numbers
        .iter()
        .map(|n| [&day[..], n.as_bytes()].concat())
        .collect();
    run(
        "identity_parse",
        integritet_fuzzing::identity_parse,
        seeds,
        &["-", "+", "19", "20", "0", "9", "00", "31", "61"],
    );
}

#[test]
fn policy_toml() {
    let seeds = vec![
        include_bytes!("../../../examples/seed-shop/policy.toml").to_vec(),
        include_bytes!("../../../examples/seed-shop/policy-as-published.toml").to_vec(),
        b"[controller]\nname = \"x\"\n".to_vec(),
        b"".to_vec(),
    ];
    run(
        "policy_toml",
        integritet_fuzzing::policy_toml,
        seeds,
        &[
            "\n[",
            "]\n",
            " = ",
            "\"",
            "'''",
            "\"\"\"",
            "[[",
            "]]",
            "{ ",
            " }",
            "\\u00e5",
            "<script>",
            "javascript:",
            "](",
            "`",
            "*",
            "_",
            "#",
            "|",
            "\n\n",
            "true",
            "1979-05-27",
            "sv = \"",
            "en = \"",
            "https://",
            "mailto:",
            "<!--",
            "&amp;",
        ],
    );
}

#[test]
fn import_row() {
    let jsonl = include_bytes!("../../../examples/seed-shop/customers.jsonl");
    let bad = include_bytes!("../../../examples/seed-shop/bad-rows.jsonl");
    let csv = include_bytes!("../../../examples/seed-shop/customers.csv");
    let with = |format: u8, text: &[u8]| [&[format][..], text].concat();
    let mut seeds = vec![with(0, jsonl), with(0, bad), with(1, csv)];
    for line in jsonl
        .split(|b| *b == b'\n')
        .chain(bad.split(|b| *b == b'\n'))
    {
        seeds.push(with(0, line));
    }
    let mut csv_lines = csv.split(|b| *b == b'\n');
    let header = csv_lines.next().unwrap();
    for row in csv_lines.filter(|row| !row.is_empty()) {
        seeds.push(with(1, &[header, b"\n", row].concat()));
    }
    seeds.push(with(
        1,
        b"email,purposes,activity:purchase,kind\nanna@example.se,purchase,2026-13-01,robot\n",
    ));
    run(
        "import_row",
        integritet_fuzzing::import_row,
        seeds,
        &[
            "\n",
            "\r\n",
            ",",
            ";",
            "\"",
            "\"\"",
            "{",
            "}",
            "[",
            "]",
            ":",
            "\\\"",
            "\\u0000",
            "null",
            "1e400",
            "\"kind\":",
            "\"values\":",
            "\"purposes\":",
            "activity:",
            "purposes",
            "kind",
            "person",
            "organisation",
            "2026-03-01",
            "2026-03-01T10:00:00Z",
        ],
    );
}

#[test]
fn json_bodies() {
    let seeds = [
        r#"{"kind":"person","values":[{"category":"name","value":"Astrid Lindqvist","purposes":["purchase"]},{"category":"email","value":"astrid@example.se","purposes":["purchase"],"provenance":"provided","collected_at":"2026-03-01T10:00:00Z"}],"activities":[{"kind":"purchase","at":"2026-03-01T10:00:00Z"}]}"#,
        r#"{"kind":"email","value":"astrid@example.se","purpose":"purchase"}"#,
        r#"{"kind":"identity_number","value":"19811228-9874","purpose":"bookkeeping"}"#,
        r#"{"value":"astrid.l@example.se"}"#,
        r#"{"values":[{"category":"phone","value":"070-123 45 67","purposes":["purchase"]}]}"#,
        r#"[{"kind":"purchase","at":"2026-03-01T10:00:00+01:00"}]"#,
        r#"{"recipient":"it_suppliers","purpose":"purchase","categories":["email"]}"#,
        r#"{"reason":"Skatteverket audit of the 2026 books"}"#,
        r#"{"restricted":true}"#,
        r#"{"purpose":"customer_relationship"}"#,
        r#"{"role":"support","label":"web shop backend","expires_in_days":90}"#,
        r#"{"name":"anna.svensson","password":"correct horse battery staple"}"#,
        r#"{"kind":"anna@example.se","value":701112233,"purpose":"purchase","anna.l@x.se":1}"#,
        r#"{"kind":"person","values":[{"category":"email","value":"a@b.se","purposes":["purchase"],"\u0061nna@example.se":true}]}"#,
    ];
    run(
        "json_bodies",
        integritet_fuzzing::json_bodies,
        seeds.iter().map(|s| s.as_bytes().to_vec()).collect(),
        &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\\\"",
            "\\u0000",
            "\\ud800",
            "null",
            "true",
            "-0",
            "1e400",
            "4294967296",
            "\"kind\":",
            "\"value\":",
            "\"values\":",
            "\"purpose\":",
            "\"purposes\":",
            "\"at\":",
            "\"collected_at\":",
            "\"expires_in_days\":",
            "person",
            "organisation",
            "email",
            "phone",
            "identity_number",
            "2026-03-01T10:00:00Z",
            "60Z",
        ],
    );
}

#[test]
fn tokens_and_cookies() {
    let secret = "5f0c3a6e1d2b4c7a8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f";
    let csrf = integritet_app::users::SessionSecret::parse(secret)
        .unwrap()
        .csrf_token()
        .to_hex();
    let seeds = [
        secret.to_owned(),
        csrf,
        format!("__Host-integritet_session={secret}"),
        format!("theme=dark; __Host-integritet_session={secret} ; other=1"),
        format!("itg_{secret}"),
        "ar_5f0c3e9a1b7d4c2e8f6a0b1c2d3e4f50".to_owned(),
        " AR_5F0C3E9A1B7D4C2E8F6A0B1C2D3E4F50 ".to_owned(),
        "anna.svensson".to_owned(),
        "Anna.Svensson@example.se".to_owned(),
        "30d".to_owned(),
        "12h".to_owned(),
        "90m".to_owned(),
        "36500d".to_owned(),
        "+1d".to_owned(),
        "9223372036854775807m".to_owned(),
    ];
    run(
        "tokens_and_cookies",
        integritet_fuzzing::tokens_and_cookies,
        seeds.into_iter().map(String::into_bytes).collect(),
        &[
            "; ",
            "=",
            "__Host-integritet_session=",
            "itg_",
            "ar_",
            " ",
            "\t",
            "d",
            "h",
            "m",
            "0",
            "f",
            "F",
            "é",
            "-",
        ],
    );
}

/// Runs `target` on `seeds`, then on mutants of them until the time is up; on a panic, prints
/// the input in hex and fails.
fn run(name: &str, target: fn(&[u8]), seeds: Vec<Vec<u8>>, words: &[&str]) {
    if let Ok(hex) = std::env::var("INTEGRITET_TEST_FUZZ_REPLAY") {
        let input = unhex(hex.trim()).expect("INTEGRITET_TEST_FUZZ_REPLAY is hex");
        attempt(name, target, &input, None);
        return;
    }
    let seconds: f64 = std::env::var("INTEGRITET_TEST_FUZZ_SECONDS")
        .map(|s| s.parse().expect("INTEGRITET_TEST_FUZZ_SECONDS is a number"))
        .unwrap_or(5.0);
    let seed: u64 = std::env::var("INTEGRITET_TEST_FUZZ_SEED").map_or_else(
        // A fresh seed each run (std seeds its hashers randomly), printed for replay.
        |_| RandomState::new().build_hasher().finish(),
        |s| s.parse().expect("INTEGRITET_TEST_FUZZ_SEED is a number"),
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut runs: u64 = 0;
    for input in &seeds {
        attempt(name, target, input, Some(seed));
        runs += 1;
    }
    let mut pool = seeds.clone();
    while Instant::now() < deadline {
        // Half the time a seed itself, so that a pool gone to noise does not take over.
        let from = if rng.random_bool(0.5) { &seeds } else { &pool };
        let mut input = from[rng.random_range(0..from.len())].clone();
        // One mutation, a second one time in two, a third one in four …: most mutants stay
        // close enough to their seed to get past the parser.
        loop {
            let other = &pool[rng.random_range(0..pool.len())];
            mutate(&mut rng, &mut input, other, words);
            if !rng.random_bool(0.5) {
                break;
            }
        }
        input.truncate(MAX_LEN);
        attempt(name, target, &input, Some(seed));
        runs += 1;
        if rng.random_range(0..8) == 0 {
            if pool.len() < seeds.len() + POOL {
                pool.push(input);
            } else {
                let at = rng.random_range(seeds.len()..pool.len());
                pool[at] = input;
            }
        }
    }
    // Straight to stderr, past the test harness's capture: the numbers belong in CI's log.
    let _ = writeln!(
        std::io::stderr().lock(),
        "fuzz {name}: seed {seed}, {runs} inputs ({} seeds) in {:.1} s",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Runs one input; a panic fails the test with what replays it.
fn attempt(name: &str, target: fn(&[u8]), input: &[u8], seed: Option<u64>) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        let seed = seed.map_or_else(|| "replayed".to_owned(), |s| format!("seed {s}"));
        panic!(
            "fuzz target {name} failed ({seed}) on {} bytes:\n  as text: {:?}\n  hex: {}\n\
             replay: INTEGRITET_TEST_FUZZ_REPLAY={} cargo test -p integritet-fuzzing --test \
             bounded {name}",
            input.len(),
            String::from_utf8_lossy(input),
            hex(input),
            hex(input),
        );
    }
}

fn mutate(rng: &mut StdRng, input: &mut Vec<u8>, other: &[u8], words: &[&str]) {
    let at = |rng: &mut StdRng, len: usize| rng.random_range(0..=len);
    match rng.random_range(0..10) {
        // Flip one bit.
        0 if !input.is_empty() => {
            let i = rng.random_range(0..input.len());
            input[i] ^= 1 << rng.random_range(0..8);
        }
        // Set a byte to anything.
        1 if !input.is_empty() => {
            let i = rng.random_range(0..input.len());
            input[i] = rng.random();
        }
        // Insert a few random bytes.
        2 => {
            let i = at(rng, input.len());
            let bytes: Vec<u8> = (0..rng.random_range(1..=8)).map(|_| rng.random()).collect();
            input.splice(i..i, bytes);
        }
        // Delete a range.
        3 if !input.is_empty() => {
            let i = rng.random_range(0..input.len());
            let end = (i + rng.random_range(1..=16)).min(input.len());
            input.drain(i..end);
        }
        // Copy a range elsewhere.
        4 if !input.is_empty() => {
            let i = rng.random_range(0..input.len());
            let end = (i + rng.random_range(1..=64)).min(input.len());
            let chunk = input[i..end].to_vec();
            let j = at(rng, input.len());
            input.splice(j..j, chunk);
        }
        // A word of the format.
        5 | 6 => {
            let word = words[rng.random_range(0..words.len())].as_bytes();
            let i = at(rng, input.len());
            if rng.random_bool(0.5) {
                input.splice(i..i, word.iter().copied());
            } else {
                let end = (i + word.len()).min(input.len());
                input.splice(i..end, word.iter().copied());
            }
        }
        // This one's start, the other's end.
        7 => {
            let i = at(rng, input.len());
            let j = at(rng, other.len());
            input.truncate(i);
            input.extend_from_slice(&other[j..]);
        }
        // Cut short.
        8 => {
            let i = at(rng, input.len());
            input.truncate(i);
        }
        // Anything at all.
        _ => {
            *input = (0..rng.random_range(0..=256))
                .map(|_| rng.random())
                .collect();
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
