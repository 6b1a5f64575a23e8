//! Crash safety: the real server is killed with SIGKILL while clients create subjects, rectify
//! values and read, several rounds over the same store. After a last restart every
//! acknowledged write must hold, no attempted create may be half-written, and `audit verify`
//! must pass. `audit verify` also runs while the server writes and must not report a break
//! that is only the log growing under it.
//!
//! The seed is printed; `INTEGRITET_TEST_CRASH_SEED` replays a run's choices (not its timing).
//! The PostgreSQL test needs `INTEGRITET_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) where the user may create databases, and fails
//! when no server answers.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use serde_json::{Value, json};

const POLICY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/seed-shop/policy.toml"
);

const CLIENTS: usize = 8;
/// Rounds that end in SIGKILL; one more start follows for the checks.
const ROUNDS: u64 = 4;
/// How long the load runs before the kill, chosen per round from the seed.
const MIN_KILL_MS: u64 = 200;
const MAX_KILL_MS: u64 = 1500;
/// `audit verify` runs this many times while the first round writes.
const VERIFIES_UNDER_LOAD: usize = 3;

#[test]
fn sigkill_under_load_loses_nothing_acknowledged_over_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreOptions {
        dir: dir.path().to_owned(),
        data: dir.path().join("data"),
        database_url: None,
    };
    crash_story(&store, "sqlite");
}

#[test]
fn sigkill_under_load_loses_nothing_acknowledged_over_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let database = FreshDatabase::create();
    let store = StoreOptions {
        dir: dir.path().to_owned(),
        data: dir.path().join("data"),
        database_url: Some(database.url.clone()),
    };
    crash_story(&store, "postgres");
    drop(database);
}

fn crash_story(store: &StoreOptions, backend: &str) {
    let started = Instant::now();
    let seed = std::env::var("INTEGRITET_TEST_CRASH_SEED")
        .ok()
        .map(|s| {
            s.parse::<u64>()
                .expect("INTEGRITET_TEST_CRASH_SEED is a u64")
        })
        .unwrap_or_else(|| RandomState::new().build_hasher().finish());
    println!(
        "crash test over {backend}: seed {seed} (INTEGRITET_TEST_CRASH_SEED={seed} replays it)"
    );
    let mut rng = Rng::new(seed);

    // Support holds `purchase`: it may store, read and rectify every value created below.
    let created = store.cli(&["token", "create", "--role", "support", "--json"]);
    assert!(created.status.success(), "token create: {created:?}");
    let token: Value = serde_json::from_slice(&created.stdout).unwrap();
    let token = token["secret"].as_str().unwrap().to_owned();

    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|index| Client::new(index, rng.next()))
        .collect();
    let writes = AtomicU64::new(0);
    for round in 0..ROUNDS {
        let delay = Duration::from_millis(MIN_KILL_MS + rng.below(MAX_KILL_MS - MIN_KILL_MS + 1));
        let server = Server::start(store);
        let stop = AtomicBool::new(false);
        let killed_after = thread::scope(|scope| {
            // A failing assertion below must still stop the clients, or the scope never ends.
            let _stop_on_exit = StopOnDrop(&stop);
            for client in &mut clients {
                let (address, token, stop, writes) = (&server.address, &token, &stop, &writes);
                scope.spawn(move || client.run(address, token, round, stop, writes));
            }
            let load_started = Instant::now();
            if round == 0 {
                // The log grows while it is verified: that must not read as a broken chain.
                thread::sleep(Duration::from_millis(100));
                let before = writes.load(Ordering::SeqCst);
                for _ in 0..VERIFIES_UNDER_LOAD {
                    let verified = store.cli(&["audit", "verify"]);
                    assert!(
                        verified.status.success(),
                        "audit verify under load failed: {}{}",
                        String::from_utf8_lossy(&verified.stdout),
                        String::from_utf8_lossy(&verified.stderr)
                    );
                }
                let during = writes.load(Ordering::SeqCst) - before;
                assert!(
                    during > 0,
                    "no write was acknowledged while audit verify ran"
                );
                println!(
                    "round 0: {VERIFIES_UNDER_LOAD} audit verifies passed while {during} writes were acknowledged"
                );
            }
            if let Some(rest) = delay.checked_sub(load_started.elapsed()) {
                thread::sleep(rest);
            }
            server.kill();
            stop.store(true, Ordering::SeqCst);
            load_started.elapsed()
        });
        println!(
            "round {round}: killed after {} ms of load; so far {}",
            killed_after.as_millis(),
            Tally::sum(&clients)
        );
    }

    // The store as the kills left it: every check runs against a fresh start.
    let server = Server::start(store);
    let findings: Vec<Findings> = thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter_mut()
            .map(|client| {
                let (address, token) = (&server.address, &token);
                scope.spawn(move || client.check_after_crashes(address, token))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    server.stop();
    let tally = Tally::sum(&clients);
    let unacked_present: usize = findings.iter().map(|f| f.unacked_present).sum();
    let unacked_absent: usize = findings.iter().map(|f| f.unacked_absent).sum();
    println!(
        "after {ROUNDS} kills: {tally}; unacknowledged creates found whole {unacked_present}, absent {unacked_absent}"
    );
    assert!(
        tally.creates > 0 && tally.rectifications > 0 && tally.reads > 0,
        "the load acknowledged too little to prove anything: {tally}"
    );

    let verified = store.cli(&["audit", "verify"]);
    assert!(
        verified.status.success(),
        "audit verify after the crashes: {}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    println!(
        "{}crash test over {backend} took {:.1} s",
        String::from_utf8_lossy(&verified.stdout),
        started.elapsed().as_secs_f64()
    );
}

/// The global options every command gets: one store for the CLI and the server alike.
pub(crate) struct StoreOptions {
    pub(crate) dir: PathBuf,
    pub(crate) data: PathBuf,
    pub(crate) database_url: Option<String>,
}

impl StoreOptions {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(cargo_bin("integritet"));
        for name in [
            "INTEGRITET_DATABASE_URL",
            "INTEGRITET_DATA_DIR",
            "INTEGRITET_KEY_DIR",
            "INTEGRITET_POLICY",
            "INTEGRITET_CONFIG",
            "INTEGRITET_LISTEN",
        ] {
            cmd.env_remove(name);
        }
        // No stray ./integritet.toml may change where the data is.
        cmd.current_dir(&self.dir)
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--policy")
            .arg(POLICY);
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.args(args);
        cmd
    }

    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

/// A running `integritet serve`; killed if still running when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) address: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub(crate) fn start(store: &StoreOptions) -> Server {
        Server::start_with(store, &[])
    }

    /// A server with more options to `serve`.
    pub(crate) fn start_with(store: &StoreOptions, options: &[&str]) -> Server {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(options);
        let mut child = store
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let address = loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                let status = child.wait().unwrap();
                panic!("serve exited ({status}) before it listened: {seen}");
            }
            if let Some(rest) = line.split("http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
            seen.push_str(&line);
        };
        // Keep draining the log so the server never blocks on a full pipe; keep its tail for
        // failure messages.
        let log = Arc::new(Mutex::new(seen));
        let tail = Arc::clone(&log);
        thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                let mut tail = tail.lock().unwrap();
                tail.push_str(&line);
                tail.push('\n');
                if tail.len() > 64 * 1024 {
                    let cut = tail.len() - 32 * 1024;
                    let cut = (cut..tail.len())
                        .find(|&i| tail.is_char_boundary(i))
                        .unwrap_or(0);
                    tail.drain(..cut);
                }
            }
        });
        Server {
            child,
            address,
            log,
        }
    }

    /// What the server has logged so far (its tail).
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGKILL: no shutdown hook, no flush, no finishing of requests in flight.
    fn kill(&self) {
        let killed = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }

    pub(crate) fn stop(mut self) {
        let stopped = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(stopped.success());
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "serve exited with {status}: {}",
            self.log.lock().unwrap()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) struct StopOnDrop<'a>(pub(crate) &'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// One client thread's history, kept across rounds: it alone writes its subjects, one request
/// at a time, so what it knows about them is exact, except for requests that got no answer.
pub(crate) struct Client {
    index: usize,
    rng: Rng,
    next: u64,
    /// Every create sent, acknowledged or not, with the values as they must be read back.
    attempts: Vec<Attempt>,
    /// The acknowledged creates, with acknowledged rectifications applied.
    subjects: Vec<Subject>,
    tally: Tally,
}

struct Attempt {
    email: String,
    values: BTreeMap<&'static str, String>,
}

struct Subject {
    id: String,
    email: String,
    fields: Vec<Field>,
}

struct Field {
    category: &'static str,
    /// Normalised, as the API returns it.
    value: String,
    /// Known once the subject has been read or the value rectified.
    id: Option<String>,
    /// Ids of values replaced by an acknowledged rectification: gone for good.
    retired: Vec<String>,
    /// A rectification sent without an acknowledgement: either outcome is allowed, and the
    /// value is left alone from then on.
    pending: Option<String>,
}

#[derive(Default, Clone, Copy)]
pub(crate) struct Tally {
    pub(crate) creates: u64,
    pub(crate) rectifications: u64,
    pub(crate) reads: u64,
    unanswered: u64,
    pub(crate) server_errors: u64,
}

impl Tally {
    pub(crate) fn sum(clients: &[Client]) -> Tally {
        clients.iter().fold(Tally::default(), |a, c| Tally {
            creates: a.creates + c.tally.creates,
            rectifications: a.rectifications + c.tally.rectifications,
            reads: a.reads + c.tally.reads,
            unanswered: a.unanswered + c.tally.unanswered,
            server_errors: a.server_errors + c.tally.server_errors,
        })
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "acknowledged {} creates, {} rectifications, {} reads; {} unanswered, {} 5xx",
            self.creates, self.rectifications, self.reads, self.unanswered, self.server_errors
        )
    }
}

#[derive(Default)]
pub(crate) struct Findings {
    pub(crate) unacked_present: usize,
    pub(crate) unacked_absent: usize,
}

const RECTIFIABLE: [&str; 3] = ["name", "phone", "customer_number"];

impl Client {
    pub(crate) fn new(index: usize, seed: u64) -> Client {
        Client {
            index,
            rng: Rng::new(seed),
            next: 0,
            attempts: Vec::new(),
            subjects: Vec::new(),
            tally: Tally::default(),
        }
    }

    pub(crate) fn run(
        &mut self,
        address: &str,
        token: &str,
        round: u64,
        stop: &AtomicBool,
        writes: &AtomicU64,
    ) {
        while !stop.load(Ordering::SeqCst) {
            let roll = self.rng.below(10);
            let outcome = if roll < 5 || self.subjects.is_empty() {
                self.create(address, token, round, writes)
            } else if roll < 8 {
                self.rectify(address, token, writes)
            } else {
                let at = self.rng.below(self.subjects.len() as u64) as usize;
                self.read(address, token, at)
            };
            if matches!(outcome, Outcome::Refused) {
                // The server is down (killed, or not yet back): do not spin.
                thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn create(&mut self, address: &str, token: &str, round: u64, writes: &AtomicU64) -> Outcome {
        let n = self.next;
        self.next += 1;
        let tag = format!("r{round}t{}n{n}", self.index);
        let digits = format!(
            "{:07}",
            (round * CLIENTS as u64 + self.index as u64) * 100_000 + n % 100_000
        );
        // Raw forms the server normalises, and what it must give back.
        let raw = [
            (
                "name",
                format!("Krasch Testsson {tag}"),
                format!("Krasch Testsson {tag}"),
            ),
            (
                "email",
                format!("Crash.{tag}@Example.se"),
                format!("crash.{tag}@example.se"),
            ),
            (
                "phone",
                format!("070-{} {} {}", &digits[..3], &digits[3..5], &digits[5..]),
                format!("+4670{digits}"),
            ),
            (
                "customer_number",
                format!("k-{tag}"),
                format!("K-{}", tag.to_uppercase()),
            ),
        ];
        let body = json!({
            "kind": "person",
            "values": raw.iter().map(|(category, value, _)| {
                let purposes = if *category == "customer_number" {
                    json!(["purchase", "bookkeeping"])
                } else {
                    json!(["purchase"])
                };
                json!({"category": category, "value": value, "purposes": purposes})
            }).collect::<Vec<_>>(),
        });
        let email = raw[1].2.clone();
        self.attempts.push(Attempt {
            email: email.clone(),
            values: raw.iter().map(|(c, _, v)| (*c, v.clone())).collect(),
        });
        let outcome = call(address, "POST", "/api/v1/subjects", token, Some(&body));
        match &outcome {
            Outcome::Reply(201, reply) => {
                self.tally.creates += 1;
                writes.fetch_add(1, Ordering::SeqCst);
                self.subjects.push(Subject {
                    id: reply["id"].as_str().unwrap().to_owned(),
                    email,
                    fields: raw
                        .iter()
                        .map(|&(category, _, ref value)| Field {
                            category,
                            value: value.clone(),
                            id: None,
                            retired: Vec::new(),
                            pending: None,
                        })
                        .collect(),
                });
            }
            other => self.unacknowledged("create", other),
        }
        outcome
    }

    fn rectify(&mut self, address: &str, token: &str, writes: &AtomicU64) -> Outcome {
        let at = self.rng.below(self.subjects.len() as u64) as usize;
        let category = RECTIFIABLE[self.rng.below(RECTIFIABLE.len() as u64) as usize];
        let field_at = |s: &Subject| {
            s.fields
                .iter()
                .position(|f| f.category == category)
                .unwrap()
        };
        let f = field_at(&self.subjects[at]);
        if self.subjects[at].fields[f].pending.is_some() {
            return self.read(address, token, at);
        }
        if self.subjects[at].fields[f].id.is_none() {
            // Value ids come from a read.
            let outcome = self.read(address, token, at);
            if !matches!(outcome, Outcome::Reply(200, _)) {
                return outcome;
            }
        }
        let k = self.next;
        self.next += 1;
        let tag = format!("t{}k{k}", self.index);
        let (raw, normal) = match category {
            "name" => (
                format!("Rättad Testsson {tag}"),
                format!("Rättad Testsson {tag}"),
            ),
            "phone" => {
                let digits = format!("{:07}", (self.index as u64) * 1_000_000 + k % 1_000_000);
                (format!("+46 73 {digits}"), format!("+4673{digits}"))
            }
            _ => (
                format!("rect-{tag}"),
                format!("RECT-{}", tag.to_uppercase()),
            ),
        };
        let subject = &mut self.subjects[at];
        let field = &mut subject.fields[f];
        let old = field.id.clone().unwrap();
        let path = format!("/api/v1/subjects/{}/values/{old}", subject.id);
        let outcome = call(address, "PUT", &path, token, Some(&json!({"value": raw})));
        match &outcome {
            Outcome::Reply(200, reply) => {
                self.tally.rectifications += 1;
                writes.fetch_add(1, Ordering::SeqCst);
                field.retired.push(old);
                field.id = Some(reply["id"].as_str().unwrap().to_owned());
                field.value = normal;
            }
            other => {
                field.pending = Some(normal);
                self.unacknowledged("rectify", other);
            }
        }
        outcome
    }

    /// Reads an acknowledged subject and checks it against what this client knows.
    fn read(&mut self, address: &str, token: &str, at: usize) -> Outcome {
        let subject = &mut self.subjects[at];
        let path = format!("/api/v1/subjects/{}?purpose=purchase", subject.id);
        let outcome = call(address, "GET", &path, token, None);
        match &outcome {
            Outcome::Reply(200, view) => {
                self.tally.reads += 1;
                if let Err(why) = subject.check(view) {
                    panic!("an acknowledged subject reads back wrong: {why}\n{view:#}");
                }
            }
            Outcome::Reply(404, view) => {
                panic!("an acknowledged create is gone: {} {view}", subject.id)
            }
            other => self.unacknowledged("read", other),
        }
        outcome
    }

    /// Anything but a 2xx: unanswered or a server error is what a kill may cause; a 4xx means
    /// the request or the store is wrong.
    fn unacknowledged(&mut self, what: &str, outcome: &Outcome) {
        match outcome {
            Outcome::Reply(status, body) if (400..500).contains(status) => {
                panic!("{what} refused with {status}: {body}")
            }
            Outcome::Reply(_, _) => self.tally.server_errors += 1,
            Outcome::Refused | Outcome::Lost => self.tally.unanswered += 1,
        }
    }

    /// After the last restart: every acknowledged create whole and current, every attempted
    /// create either absent or whole.
    pub(crate) fn check_after_crashes(&mut self, address: &str, token: &str) -> Findings {
        let mut findings = Findings::default();
        let acked: HashSet<String> = self.subjects.iter().map(|s| s.email.clone()).collect();
        for subject in &mut self.subjects {
            let path = format!("/api/v1/subjects/{}?purpose=purchase", subject.id);
            match call(address, "GET", &path, token, None) {
                Outcome::Reply(200, view) => {
                    if let Err(why) = subject.check(&view) {
                        panic!(
                            "after the crashes an acknowledged subject is wrong: {why}\n{view:#}"
                        );
                    }
                }
                other => panic!(
                    "after the crashes an acknowledged create cannot be read: {} {other:?}",
                    subject.id
                ),
            }
            let found = lookup(address, token, &subject.email);
            assert_eq!(
                found,
                vec![subject.id.clone()],
                "lookup of {}",
                subject.email
            );
        }
        for attempt in self.attempts.iter().filter(|a| !acked.contains(&a.email)) {
            let found = lookup(address, token, &attempt.email);
            assert!(found.len() <= 1, "one create, several subjects: {found:?}");
            let Some(id) = found.first() else {
                findings.unacked_absent += 1;
                continue;
            };
            findings.unacked_present += 1;
            let path = format!("/api/v1/subjects/{id}?purpose=purchase");
            let Outcome::Reply(200, view) = call(address, "GET", &path, token, None) else {
                panic!("{} is found by lookup but cannot be read", attempt.email);
            };
            let values: BTreeMap<&str, String> = view["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    (
                        v["category"].as_str().unwrap(),
                        v["value"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let expected: BTreeMap<&str, String> = attempt
                .values
                .iter()
                .map(|(c, v)| (*c, v.clone()))
                .collect();
            assert_eq!(
                view["values"].as_array().unwrap().len(),
                expected.len(),
                "a half-written subject for {}: {view:#}",
                attempt.email
            );
            assert_eq!(
                values, expected,
                "a half-written subject for {}",
                attempt.email
            );
        }
        findings
    }
}

impl Subject {
    /// `view` holds exactly this subject's values: one per category, the current value (or
    /// either side of an unanswered rectification), no retired id. Learns unknown ids.
    fn check(&mut self, view: &Value) -> Result<(), String> {
        if view["id"] != self.id.as_str() {
            return Err(format!("read {} got {}", self.id, view["id"]));
        }
        let values = view["values"].as_array().ok_or("no values")?;
        if values.len() != self.fields.len() {
            return Err(format!(
                "{} values, expected {}",
                values.len(),
                self.fields.len()
            ));
        }
        for field in &mut self.fields {
            let mut same: Vec<&Value> = values
                .iter()
                .filter(|v| v["category"] == field.category)
                .collect();
            let Some(read) = same.pop().filter(|_| same.is_empty()) else {
                return Err(format!("not exactly one {}", field.category));
            };
            let (value, id) = (
                read["value"].as_str().unwrap_or_default(),
                read["id"].as_str().unwrap_or_default(),
            );
            if field.retired.iter().any(|r| r == id) {
                return Err(format!(
                    "{} has the id {id} a rectification replaced",
                    field.category
                ));
            }
            let known = field.id.as_deref();
            let current = value == field.value && known.is_none_or(|k| k == id);
            let rectified = field.pending.as_deref() == Some(value) && known != Some(id);
            if !(current || rectified) {
                return Err(format!(
                    "{} is {value:?} ({id}); expected {:?} ({known:?}){}",
                    field.category,
                    field.value,
                    field
                        .pending
                        .as_ref()
                        .map(|p| format!(" or {p:?}"))
                        .unwrap_or_default()
                ));
            }
            if field.pending.is_none() {
                field.id = Some(id.to_owned());
            }
        }
        Ok(())
    }
}

/// A lookup; held back by the server's limit on lookups per caller (429), it waits and tries
/// again, as a client should.
pub(crate) fn lookup(address: &str, token: &str, email: &str) -> Vec<String> {
    let body = json!({"kind": "email", "value": email, "purpose": "purchase"});
    loop {
        match call(
            address,
            "POST",
            "/api/v1/subjects/lookup",
            token,
            Some(&body),
        ) {
            Outcome::Reply(200, found) => {
                return found["subjects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect();
            }
            Outcome::Reply(429, _) => std::thread::sleep(std::time::Duration::from_millis(100)),
            other => panic!("lookup of {email}: {other:?}"),
        }
    }
}

#[derive(Debug)]
enum Outcome {
    /// A whole response: every byte its Content-Length promised.
    Reply(u16, Value),
    /// No connection: the server is not there.
    Refused,
    /// Connected, but no whole response came back.
    Lost,
}

/// One HTTP/1.1 request on its own connection.
fn call(address: &str, method: &str, path: &str, token: &str, body: Option<&Value>) -> Outcome {
    let address: SocketAddr = address.parse().unwrap();
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(5)) else {
        return Outcome::Refused;
    };
    let timeout = Some(Duration::from_secs(20));
    stream.set_read_timeout(timeout).unwrap();
    stream.set_write_timeout(timeout).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return Outcome::Lost;
    }
    let mut response = Vec::new();
    if stream.read_to_end(&mut response).is_err() {
        return Outcome::Lost;
    }
    parse_response(&response).unwrap_or(Outcome::Lost)
}

fn parse_response(response: &[u8]) -> Option<Outcome> {
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&response[..split]).ok()?;
    let body = &response[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let length: usize = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))?
        .1
        .trim()
        .parse()
        .ok()?;
    if body.len() != length {
        return None;
    }
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    };
    Some(Outcome::Reply(status, json))
}

/// splitmix64: small, seeded, good enough to pick operations and delays.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A database of its own on the test PostgreSQL server, dropped at the end (also when the
/// test fails).
pub(crate) struct FreshDatabase {
    name: String,
    pub(crate) url: String,
}

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn admin_url() -> String {
    std::env::var("INTEGRITET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let slash = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..slash])
}

fn admin_sql(sql: String) {
    use sqlx::Connection;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&admin_url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot reach the test PostgreSQL server ({e}). Start one, or set \
                     INTEGRITET_TEST_POSTGRES_URL to a server where this user may create databases."
                )
            });
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
    });
}

impl FreshDatabase {
    pub(crate) fn create() -> FreshDatabase {
        let name = FreshDatabase::new_name();
        // Digits and underscores only: safe to splice in.
        admin_sql(format!("CREATE DATABASE {name}"));
        let url = with_database(&admin_url(), &name);
        FreshDatabase { name, url }
    }

    /// A copy of this database as it is now (as pg_dump and pg_restore would give), made while
    /// no one is connected to it.
    pub(crate) fn snapshot(&self) -> FreshDatabase {
        let name = FreshDatabase::new_name();
        admin_sql(format!("CREATE DATABASE {name} TEMPLATE {}", self.name));
        let url = with_database(&admin_url(), &name);
        FreshDatabase { name, url }
    }

    fn new_name() -> String {
        let random = RandomState::new().build_hasher().finish() & 0xffff_ffff;
        format!("integritet_test_crash_{}_{random:08x}", std::process::id())
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A panic here while a failed test unwinds would abort and hide the real failure.
        let _ = std::panic::catch_unwind(move || {
            admin_sql(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        });
    }
}
