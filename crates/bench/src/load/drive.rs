//! The ways of driving a phase: HTTP requests on keep-alive connections to the real server,
//! the same operations called in process from as many tokio tasks, and the database's own
//! limit for the same rows (`integritet_bench::limit`).
//!
//! Both hand out the next operation from a shared counter, so a fixed number of operations is
//! shared by whichever connection or task is free, and both time each operation from just
//! before it is sent to just after its whole answer has arrived.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use integritet_app::vault::{Actor, NewSubjectInput, Vault};
use integritet_bench::data::{self, READ_PURPOSE};
use integritet_bench::limit::Limit;
use integritet_domain::subject::SubjectId;
use tokio::net::TcpStream;
use tokio::sync::Barrier;

/// Latencies are recorded in microseconds, from 1 µs to 10 minutes, to 3 significant digits.
const HIGHEST_US: u64 = 600_000_000;

pub fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).context("cannot set up the latency histogram")
}

/// What a phase measured.
#[derive(Debug)]
pub struct Driven {
    /// From the moment every connection (or task) was ready to the end of the last operation.
    pub elapsed: Duration,
    /// Latency of each operation, µs (failed ones included).
    pub latency: Histogram<u64>,
    pub errors: u64,
    /// The first failure, to show what went wrong.
    pub first_error: Option<String>,
}

impl Driven {
    fn merge(parts: Vec<Part>, elapsed: Duration) -> anyhow::Result<Driven> {
        let mut latency = histogram()?;
        let mut errors = 0;
        let mut first_error = None;
        for part in parts {
            latency
                .add(&part.latency)
                .context("cannot merge latency histograms")?;
            errors += part.errors;
            if first_error.is_none() {
                first_error = part.first_error;
            }
        }
        Ok(Driven {
            elapsed,
            latency,
            errors,
            first_error,
        })
    }
}

/// One connection's or task's share.
struct Part {
    latency: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Part {
    fn new() -> anyhow::Result<Part> {
        Ok(Part {
            latency: histogram()?,
            errors: 0,
            first_error: None,
        })
    }

    fn record(&mut self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        // Saturates at the histogram's highest value instead of failing.
        self.latency.saturating_record(us.max(1));
    }

    fn fail(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }
}

/// One planned HTTP request.
#[derive(Debug, Clone)]
pub struct Planned {
    pub method: Method,
    pub path: String,
    /// A JSON body, or none.
    pub body: Option<Bytes>,
    /// The status a correct answer has.
    pub expect: StatusCode,
}

/// Where the server is and how to present oneself to it.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub bearer: String,
}

type Sender =
    hyper::client::conn::http1::SendRequest<http_body_util::Either<Full<Bytes>, Empty<Bytes>>>;

/// Opens one keep-alive HTTP/1.1 connection; its driver runs on the current runtime.
async fn connect(addr: SocketAddr) -> anyhow::Result<Sender> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to the server at {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("the HTTP handshake failed")?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server closes the connection.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one request and reads the whole answer.
async fn send(
    sender: &mut Sender,
    target: &Target,
    host: &HeaderValue,
    auth: &HeaderValue,
    planned: &Planned,
) -> anyhow::Result<(StatusCode, Bytes)> {
    sender.ready().await.context("the connection was closed")?;
    let builder = Request::builder()
        .method(planned.method.clone())
        .uri(planned.path.as_str())
        .header(HOST, host.clone())
        .header(AUTHORIZATION, auth.clone());
    let request = match &planned.body {
        Some(body) => builder
            .header(CONTENT_TYPE, "application/json")
            .body(http_body_util::Either::Left(Full::new(body.clone()))),
        None => builder.body(http_body_util::Either::Right(Empty::new())),
    }
    .with_context(|| format!("cannot build a request to {}", target.addr))?;
    let response: Response<Incoming> = sender
        .send_request(request)
        .await
        .context("the request failed")?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .context("the response body was cut off")?
        .to_bytes();
    Ok((status, body))
}

/// Sends `plan` over `connections` keep-alive connections, each taking the next request as soon
/// as its previous answer is in. With `keep`, the answers' bodies are returned in plan order
/// (failed ones empty).
pub async fn http(
    target: &Target,
    connections: usize,
    plan: Arc<Vec<Planned>>,
    keep: bool,
) -> anyhow::Result<(Driven, Vec<Bytes>)> {
    let host = HeaderValue::from_str(&target.addr.to_string())?;
    let auth = HeaderValue::from_str(&format!("Bearer {}", target.bearer))?;
    let next = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(Barrier::new(connections + 1));
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (target, host, auth) = (target.clone(), host.clone(), auth.clone());
        let (plan, next, ready) = (plan.clone(), next.clone(), ready.clone());
        tasks.push(tokio::spawn(async move {
            let connected = connect(target.addr).await;
            ready.wait().await;
            let mut sender = connected?;
            let mut part = Part::new()?;
            let mut kept = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(planned) = plan.get(i) else { break };
                let start = Instant::now();
                let answer = send(&mut sender, &target, &host, &auth, planned).await;
                part.record(start.elapsed());
                match answer {
                    Ok((status, body)) if status == planned.expect => {
                        if keep {
                            kept.push((i, body));
                        }
                    }
                    Ok((status, body)) => part.fail(format!(
                        "{} {} answered {status}: {}",
                        planned.method,
                        planned.path,
                        String::from_utf8_lossy(&body)
                    )),
                    Err(e) => {
                        part.fail(format!("{} {}: {e:#}", planned.method, planned.path));
                        // A broken connection is replaced, as a client's pool would.
                        sender = connect(target.addr).await?;
                    }
                }
            }
            anyhow::Ok((part, kept))
        }));
    }
    ready.wait().await;
    let start = Instant::now();
    let mut parts = Vec::with_capacity(connections);
    let mut bodies = if keep {
        vec![Bytes::new(); plan.len()]
    } else {
        Vec::new()
    };
    for task in tasks {
        let (part, kept) = task.await.context("a client connection task failed")??;
        parts.push(part);
        for (i, body) in kept {
            if let Some(slot) = bodies.get_mut(i) {
                *slot = body;
            }
        }
    }
    let elapsed = start.elapsed();
    Ok((Driven::merge(parts, elapsed)?, bodies))
}

/// Creates `inputs` with `vault.create_subject` from `tasks` concurrent tasks; returns the ids
/// in input order (`None` where the create failed).
pub async fn create_in_process(
    vault: &Arc<Vault>,
    actor: &Actor,
    tasks: usize,
    inputs: Arc<Vec<NewSubjectInput>>,
) -> anyhow::Result<(Driven, Vec<Option<SubjectId>>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(Barrier::new(tasks + 1));
    let mut handles = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        let (vault, actor) = (vault.clone(), actor.clone());
        let (inputs, next, ready) = (inputs.clone(), next.clone(), ready.clone());
        handles.push(tokio::spawn(async move {
            ready.wait().await;
            let mut part = Part::new()?;
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(input) = inputs.get(i) else { break };
                // The clone stands for the request body the server would have parsed.
                let input = input.clone();
                let start = Instant::now();
                let created = vault.create_subject(&actor, input).await;
                part.record(start.elapsed());
                match created {
                    Ok(id) => ids.push((i, id)),
                    Err(e) => part.fail(format!("create_subject: {e}")),
                }
            }
            anyhow::Ok((part, ids))
        }));
    }
    ready.wait().await;
    let start = Instant::now();
    let mut parts = Vec::with_capacity(tasks);
    let mut ids = vec![None; inputs.len()];
    for handle in handles {
        let (part, created) = handle.await.context("an in-process task failed")??;
        parts.push(part);
        for (i, id) in created {
            if let Some(slot) = ids.get_mut(i) {
                *slot = Some(id);
            }
        }
    }
    let elapsed = start.elapsed();
    Ok((Driven::merge(parts, elapsed)?, ids))
}

/// Reads `subjects` with `vault.read` for [`READ_PURPOSE`] from `tasks` concurrent tasks. Each
/// read must return `values` values.
pub async fn read_in_process(
    vault: &Arc<Vault>,
    actor: &Actor,
    tasks: usize,
    subjects: Arc<Vec<SubjectId>>,
    values: usize,
) -> anyhow::Result<Driven> {
    let next = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(Barrier::new(tasks + 1));
    let mut handles = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        let (vault, actor) = (vault.clone(), actor.clone());
        let (subjects, next, ready) = (subjects.clone(), next.clone(), ready.clone());
        handles.push(tokio::spawn(async move {
            ready.wait().await;
            let mut part = Part::new()?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = subjects.get(i) else { break };
                let start = Instant::now();
                let read = vault.read(&actor, *id, READ_PURPOSE).await;
                part.record(start.elapsed());
                match read {
                    Ok(view) if view.values.len() == values => {}
                    Ok(view) => part.fail(format!(
                        "read of {id} returned {} values instead of {values}",
                        view.values.len()
                    )),
                    Err(e) => part.fail(format!("read of {id}: {e}")),
                }
            }
            anyhow::Ok(part)
        }));
    }
    ready.wait().await;
    let start = Instant::now();
    let mut parts = Vec::with_capacity(tasks);
    for handle in handles {
        parts.push(handle.await.context("an in-process task failed")??);
    }
    let elapsed = start.elapsed();
    Driven::merge(parts, elapsed)
}

/// The id in a create's answer, `{"id":"…"}`.
pub fn created_id(body: &[u8]) -> anyhow::Result<SubjectId> {
    #[derive(serde::Deserialize)]
    struct Created {
        id: SubjectId,
    }
    match serde_json::from_slice::<Created>(body) {
        Ok(created) => Ok(created.id),
        Err(e) => bail!(
            "the create answer is not {{\"id\": …}} ({e}): {}",
            String::from_utf8_lossy(body)
        ),
    }
}

/// About the size of a stored audit entry.
const AUDIT_ROW_BYTES: usize = 400;

/// What the database's own limit does per operation in [`at_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitOp {
    /// One subject's value rows in one transaction.
    Create,
    /// One subject's value rows by primary key, then an audit row committed.
    Read,
}

/// The database's limit for a phase: `op` on subjects `indexes` (generator indexes) from
/// `tasks` concurrent tasks, timed like the other paths.
pub async fn at_limit(
    limit: &Arc<Limit>,
    op: LimitOp,
    tasks: usize,
    indexes: Arc<Vec<u64>>,
) -> anyhow::Result<Driven> {
    let next = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(Barrier::new(tasks + 1));
    let mut handles = Vec::with_capacity(tasks);
    for k in 0..tasks {
        let limit = limit.clone();
        let (indexes, next, ready) = (indexes.clone(), next.clone(), ready.clone());
        handles.push(tokio::spawn(async move {
            ready.wait().await;
            let mut part = Part::new()?;
            let audit_row = data::filler(AUDIT_ROW_BYTES, k as u64);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&index) = indexes.get(i) else { break };
                // Built before the clock starts, as the in-process path's inputs are.
                let rows = match op {
                    LimitOp::Create => data::raw_rows(index)?,
                    LimitOp::Read => Vec::new(),
                };
                let start = Instant::now();
                let done = match op {
                    LimitOp::Create => limit.insert_values(k, &rows).await,
                    LimitOp::Read => match limit
                        .read_audited(k, &data::raw_key(index), &audit_row)
                        .await
                    {
                        Ok(0) => Err(anyhow::anyhow!("subject {index} has no rows")),
                        Ok(_) => Ok(()),
                        Err(e) => Err(e),
                    },
                };
                part.record(start.elapsed());
                if let Err(e) = done {
                    part.fail(format!("{op:?} at the limit: {e}"));
                }
            }
            anyhow::Ok(part)
        }));
    }
    ready.wait().await;
    let start = Instant::now();
    let mut parts = Vec::with_capacity(tasks);
    for handle in handles {
        parts.push(handle.await.context("a limit task failed")??);
    }
    let elapsed = start.elapsed();
    Driven::merge(parts, elapsed)
}
