//! `integritet sweep` end to end on SQLite: a dry run reports what the sweep then does, a sweep
//! killed with SIGKILL midway is finished by the next run without loss or double erasure, and
//! a sweep after that changes nothing.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::vault_cmds::Shop;

/// Customers whose retention has ended on the sweep's day (bookkeeping keeps their invoice).
const CUSTOMERS: usize = 1500;
/// Newsletter subscribers, kept until they withdraw consent.
const SUBSCRIBERS: usize = 300;

fn import_file(shop: &Shop) -> std::path::PathBuf {
    let path = shop.dir.path().join("people.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..CUSTOMERS {
        writeln!(
            file,
            r#"{{"kind":"person","values":[{{"category":"name","value":"Kund Fiktiv","purposes":["purchase","bookkeeping"]}},{{"category":"email","value":"kund{i}@example.se","purposes":["purchase"]}},{{"category":"order_history","value":"Order {i}: GPS-tracker","purposes":["purchase","bookkeeping"]}}],"activities":[{{"kind":"purchase","at":"2026-01-01T10:00:00Z"}}]}}"#
        )
        .unwrap();
    }
    for i in 0..SUBSCRIBERS {
        writeln!(
            file,
            r#"{{"kind":"person","values":[{{"category":"email","value":"prenumerant{i}@example.se","purposes":["newsletter"]}}],"activities":[]}}"#
        )
        .unwrap();
    }
    file.flush().unwrap();
    path
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// A day past the customers' 36 months, within their bookkeeping years.
fn sweep_day() -> String {
    let year: i32 = std::process::Command::new("date")
        .arg("+%Y")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().parse().unwrap())
        .unwrap();
    format!("{}-06-01", year.max(2026) + 4)
}

fn erasures_in_file(shop: &Shop) -> (i64, i64) {
    let db = rusqlite::Connection::open_with_flags(
        shop.data_dir().join("integritet.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db.query_row(
        "SELECT count(*), count(DISTINCT subject_id) FROM erasures",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .unwrap()
}

#[test]
fn a_sweep_killed_midway_is_finished_by_the_next_without_loss_or_double_erasure() {
    let shop = Shop::new();
    let file = import_file(&shop);
    let (code, out, err) = shop.run(&["import", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let day = sweep_day();

    let (code, out, err) = shop.run(&["sweep", "--dry-run", "--now", &day, "--list", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let planned = json(&out);
    assert_eq!(planned["dry_run"], true);
    // The list says who would go, by id, and what of them: no personal data.
    let listed = planned["subjects"].as_array().unwrap();
    assert_eq!(listed.len(), CUSTOMERS);
    assert!(listed.iter().all(|s| s["outcome"] == "erased"
        && s["erased"] == serde_json::json!(["email"])
        && s["archived"] == serde_json::json!(["name", "order_history"])));
    assert!(!out.contains("example.se"), "ids and categories only");
    assert_eq!(planned["subjects_erased"], CUSTOMERS);
    assert_eq!(planned["values_archived"], 2 * CUSTOMERS);
    assert_eq!(planned["archive_entries_made"], CUSTOMERS);
    assert_eq!(erasures_in_file(&shop), (0, 0), "a dry run changes nothing");

    let mut sweeping = shop
        .process()
        .args(["sweep", "--now", &day])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let (done, _) = erasures_in_file(&shop);
        if done >= 50 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the sweep erased nobody in two minutes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    sweeping.kill().unwrap();
    sweeping.wait().unwrap();
    let (at_kill, _) = erasures_in_file(&shop);
    assert!(
        (at_kill as usize) < CUSTOMERS,
        "the sweep finished before it could be killed ({at_kill} erased): raise CUSTOMERS"
    );

    let (code, out, err) = shop.run(&["sweep", "--now", &day, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let finished = json(&out);
    assert_eq!(
        finished["subjects_erased"].as_u64().unwrap() + at_kill as u64,
        CUSTOMERS as u64,
        "the rerun erases exactly those the killed sweep had not"
    );
    let (erasures, distinct) = erasures_in_file(&shop);
    assert_eq!((erasures, distinct), (CUSTOMERS as i64, CUSTOMERS as i64));
    let (code, out, _) = shop.run(&["store", "verify", "--json"]);
    assert_eq!(code, 0, "{out}");

    // Every customer's invoice is in the archive once; every subscriber is still there.
    let db = rusqlite::Connection::open(shop.data_dir().join("integritet.db")).unwrap();
    let archived: i64 = db
        .query_row("SELECT count(*) FROM archive", [], |row| row.get(0))
        .unwrap();
    assert_eq!(archived, CUSTOMERS as i64);
    let subjects: i64 = db
        .query_row("SELECT count(*) FROM subjects", [], |row| row.get(0))
        .unwrap();
    assert_eq!(subjects, SUBSCRIBERS as i64);
    drop(db);
    for i in [0, SUBSCRIBERS / 2, SUBSCRIBERS - 1] {
        let email = format!("prenumerant{i}@example.se");
        let (code, out, err) = shop.run(&["lookup", "--purpose", "newsletter", "email", &email]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, _, _) = shop.run(&[
        "lookup",
        "--purpose",
        "purchase",
        "email",
        "kund7@example.se",
    ]);
    assert_ne!(code, 0, "an erased customer is not found");

    let (code, out, err) = shop.run(&["sweep", "--now", &day, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let again = json(&out);
    assert_eq!(again["subjects_erased"], 0);
    assert_eq!(again["values_erased"], 0);
    assert_eq!(again["archive_entries_made"], 0);

    let (code, out, err) = shop.run(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_sweep_in_the_past_or_on_no_date_is_refused_and_no_output_panics_on_a_closed_pipe() {
    let shop = Shop::new();
    let file = import_file(&shop);
    let (code, _, _) = shop.run(&["import", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, _, err) = shop.run(&["sweep", "--now", "2001-01-01"]);
    assert_eq!(code, 2);
    assert!(err.contains("in the past"), "{err}");
    let (code, _, err) = shop.run(&["sweep", "--dry-run", "--now", "soon"]);
    assert_eq!(code, 2);
    assert!(err.contains("YYYY-MM-DD"), "{err}");

    // A reader that goes away (`| head`) ends the output: no panic, no failure.
    for args in [
        &["sweep", "--dry-run", "--list"][..],
        &["hold", "list"],
        &["erasures"],
        &["audit", "export"],
    ] {
        let mut child = shop
            .process()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn of_two_servers_on_one_postgresql_database_one_sweeps() {
    use crate::crash::{FreshDatabase, Server, StoreOptions};

    let dir = tempfile::tempdir().unwrap();
    let database = FreshDatabase::create();
    let store = StoreOptions {
        dir: dir.path().to_owned(),
        data: dir.path().join("data"),
        database_url: Some(database.url.clone()),
    };
    let shop = Shop::new();
    let file = import_file(&shop);
    let imported = store.cli(&["import", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{imported:?}");

    // Both servers are told to sweep at the same second, a few seconds from now.
    let now = std::process::Command::new("date")
        .args(["-u", "-d", "+6 seconds", "+%H:%M:%S"])
        .output()
        .unwrap();
    let at = String::from_utf8(now.stdout).unwrap().trim().to_owned();
    let first = Server::start_with(&store, &["--sweep-at", &at]);
    let second = Server::start_with(&store, &["--sweep-at", &at]);
    let started = Instant::now();
    let sweeps = || {
        let exported = store.cli(&["audit", "export"]);
        assert!(exported.status.success(), "{exported:?}");
        String::from_utf8(exported.stdout)
            .unwrap()
            .lines()
            .filter(|line| line.contains("\"action\":\"sweep\""))
            .count()
    };
    while sweeps() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no server swept: {}\n{}",
            first.log(),
            second.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // Both have come to their sweep time and gone past it.
    while !(first.log().contains("retention sweep") && second.log().contains("retention sweep")) {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "a server did not come to its sweep: {}\n{}",
            first.log(),
            second.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(sweeps(), 1, "{}\n{}", first.log(), second.log());
    let done = [&first, &second]
        .iter()
        .filter(|server| server.log().contains("retention sweep done"))
        .count();
    assert_eq!(done, 1, "{}\n{}", first.log(), second.log());
    first.stop();
    second.stop();
    drop(database);
}
