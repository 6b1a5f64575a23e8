//! Key rotation while a server runs and writes: `integritet keys rotate` switches the
//! key-encryption key, re-wraps and retires the old one while clients keep creating,
//! rectifying and reading through the real `serve` process, which loaded the old ring at
//! start. After the rotations and a restart (which loads only the ring on disk, without the
//! retired keys), every acknowledged subject must read back whole, and `audit verify` pass.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::crash::{Client, FreshDatabase, Server, StopOnDrop, StoreOptions, Tally};

const CLIENTS: usize = 4;
const ROTATIONS: usize = 2;

#[test]
fn rotating_under_live_writes_loses_no_subject_over_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreOptions {
        dir: dir.path().to_owned(),
        data: dir.path().join("data"),
        database_url: None,
    };
    rotation_story(&store);
}

#[test]
fn rotating_under_live_writes_loses_no_subject_over_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let database = FreshDatabase::create();
    let store = StoreOptions {
        dir: dir.path().to_owned(),
        data: dir.path().join("data"),
        database_url: Some(database.url.clone()),
    };
    rotation_story(&store);
    drop(database);
}

fn rotation_story(store: &StoreOptions) {
    let created = store.cli(&["token", "create", "--role", "support", "--json"]);
    assert!(created.status.success(), "token create: {created:?}");
    let token: Value = serde_json::from_slice(&created.stdout).unwrap();
    let token = token["secret"].as_str().unwrap().to_owned();
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|index| Client::new(index, 0x5eed + index as u64))
        .collect();
    let writes = AtomicU64::new(0);

    let server = Server::start(store);
    let stop = AtomicBool::new(false);
    thread::scope(|scope| {
        let _stop_on_exit = StopOnDrop(&stop);
        for client in &mut clients {
            let (address, token, stop, writes) = (&server.address, &token, &stop, &writes);
            scope.spawn(move || client.run(address, token, 0, stop, writes));
        }
        thread::sleep(Duration::from_millis(300));
        for n in 1..=ROTATIONS {
            let before = writes.load(Ordering::SeqCst);
            let rotated = store.cli(&["keys", "rotate", "--settle", "1"]);
            let out = String::from_utf8_lossy(&rotated.stdout);
            assert!(
                rotated.status.success(),
                "keys rotate {n}: {out}{}",
                String::from_utf8_lossy(&rotated.stderr)
            );
            assert!(
                out.contains(&format!("retired k{n}")),
                "rotation {n}: {out}"
            );
            let during = writes.load(Ordering::SeqCst) - before;
            assert!(during > 0, "no write was acknowledged during rotation {n}");
            println!("rotation {n}: {} ({during} writes meanwhile)", out.trim());
        }
        // Writes after the last rotation, under the newest key only.
        thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::SeqCst);
    });
    server.stop();

    // A restart loads the ring as it is on disk: the retired keys are gone.
    let server = Server::start(store);
    thread::scope(|scope| {
        for client in &mut clients {
            let (address, token) = (&server.address, &token);
            scope.spawn(move || {
                let findings = client.check_after_crashes(address, token);
                // The server stopped cleanly: nothing is left unanswered to wonder about.
                assert_eq!(findings.unacked_present + findings.unacked_absent, 0);
            });
        }
    });
    server.stop();
    let tally = Tally::sum(&clients);
    assert!(
        tally.creates > 0 && tally.rectifications > 0 && tally.reads > 0,
        "the load acknowledged too little to prove anything: {tally}"
    );
    assert_eq!(
        tally.server_errors, 0,
        "5xx answers during the rotations: {tally}"
    );
    let verified = store.cli(&["audit", "verify"]);
    assert!(
        verified.status.success(),
        "audit verify after the rotations: {}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    println!("after {ROTATIONS} rotations under load: {tally}");
}
