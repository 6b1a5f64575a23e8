//! The load report: per backend and phase, the HTTP figures beside the in-process ones and
//! beside PRODUCT.md's targets, as a table or as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use integritet_bench::sys::Machine;

/// A quality bar of PRODUCT.md.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Target {
    pub per_s: f64,
    pub p99_ms: f64,
}

/// Create subject (10 values, encrypted, audited) over HTTP, 32 clients, SQLite.
pub const CREATE_TARGET: Target = Target {
    per_s: 5_000.0,
    p99_ms: 20.0,
};

/// Read subject by id over HTTP (purpose-checked, audited).
pub const READ_TARGET: Target = Target {
    per_s: 20_000.0,
    p99_ms: 10.0,
};

/// One way of doing a phase's operations, measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    pub operations: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// CPU time of this process per operation, minus the load generator's own, µs: the
    /// server's (or the vault's) cost. PostgreSQL's own processes are not counted.
    pub server_cpu_us: Option<f64>,
    /// The load generator's CPU time per operation, µs (HTTP only).
    pub client_cpu_us: Option<f64>,
}

/// One phase (create or read) on one backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    /// `create` or `read`.
    pub name: &'static str,
    /// What the phase does, in words.
    pub what: String,
    pub http: Measure,
    pub in_process: Measure,
    /// HTTP throughput ÷ in-process throughput.
    pub http_to_in_process: f64,
    /// The database's own limit for the phase's rows (the C library through rusqlite, or
    /// pipelined tokio-postgres), from as many tasks.
    pub limit: Option<Measure>,
    /// What the limit did, in words.
    pub limit_is: Option<String>,
    /// In-process throughput ÷ the limit's.
    pub in_process_to_limit: Option<f64>,
    pub target: Target,
    /// HTTP throughput ÷ the target's.
    pub to_target: f64,
    /// Whether the HTTP p99 is within the target's.
    pub p99_within_target: bool,
}

impl Phase {
    pub fn new(
        name: &'static str,
        what: String,
        http: Measure,
        in_process: Measure,
        target: Target,
    ) -> Phase {
        Phase {
            name,
            what,
            http_to_in_process: ratio(http.per_s, in_process.per_s),
            limit: None,
            limit_is: None,
            in_process_to_limit: None,
            to_target: ratio(http.per_s, target.per_s),
            p99_within_target: http.p99_ms <= target.p99_ms,
            http,
            in_process,
            target,
        }
    }
}

impl Phase {
    pub fn with_limit(mut self, limit: Measure, what: String) -> Phase {
        self.in_process_to_limit = Some(ratio(self.in_process.per_s, limit.per_s));
        self.limit = Some(limit);
        self.limit_is = Some(what);
        self
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendLoad {
    pub backend: &'static str,
    /// The database's version.
    pub server: String,
    pub phases: Vec<Phase>,
    /// Audit entries the store holds after the HTTP phases, and how many the requests made
    /// (one per create and per read, plus the token's).
    pub audit_entries: u64,
    pub audit_expected: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub label: Option<String>,
    pub command: String,
    pub machine: Machine,
    pub build: &'static str,
    pub connections: usize,
    pub creates: u64,
    pub reads: u64,
    /// How requests authenticate: `store` (a real token, checked by hash against the store, cached for up to 2 s)
    /// or `static` (an in-memory map).
    pub auth: &'static str,
    pub server_threads: usize,
    pub client_threads: usize,
    pub backends: Vec<BackendLoad>,
}

/// `1234567.8` as `1,234,568`.
pub fn grouped(value: f64) -> String {
    let rounded = value.round();
    if !rounded.is_finite() || rounded.abs() >= 1e18 {
        return format!("{value:.3e}");
    }
    let digits = format!("{}", rounded.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0.0 {
        out.insert(0, '-');
    }
    out
}

fn times(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.2}×")
    }
}

fn cpu(m: &Measure) -> String {
    match (m.server_cpu_us, m.client_cpu_us) {
        (Some(s), Some(c)) => format!("{s:.0} + {c:.0}"),
        (Some(s), None) => format!("{s:.0}"),
        _ => "?".into(),
    }
}

fn line(out: &mut String, phase: &str, path: &str, m: &Measure, tail: &str) {
    let _ = writeln!(
        out,
        "  {phase:<7} {path:<11} {:>9} {:>9} {:>8.3} {:>8.3} {:>8.3} {:>12}  {tail}",
        grouped(m.operations as f64),
        grouped(m.per_s),
        m.p50_ms,
        m.p99_ms,
        m.max_ms,
        cpu(m),
    );
}

impl LoadReport {
    pub fn human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "integritet-load");
        if let Some(label) = &self.label {
            let _ = writeln!(out, "  label:   {label}");
        }
        let _ = writeln!(out, "  command: {}", self.command);
        let m = &self.machine;
        let _ = writeln!(
            out,
            "  machine: {} CPUs (nproc), {}, {} MiB RAM, Linux {}",
            m.nproc,
            m.cpu_model,
            m.memory_total_mib
                .map_or_else(|| "?".into(), |v| v.to_string()),
            m.kernel.as_deref().unwrap_or("?")
        );
        let _ = writeln!(out, "  build:   {}", self.build);
        let _ = writeln!(
            out,
            "  load:    {} keep-alive connections, {} creates and {} reads per backend; tokens: {}",
            self.connections,
            grouped(self.creates as f64),
            grouped(self.reads as f64),
            match self.auth {
                "store" =>
                    "issued in the store, checked by hash (cached for up to 2 s, as in production)",
                _ => "static, in memory",
            }
        );
        let _ = writeln!(
            out,
            "  threads: server and vault {}, load generator {} (all in this process, on the same \
             cores)",
            self.server_threads, self.client_threads
        );
        let _ = writeln!(
            out,
            "  CPU/op:  µs of CPU per operation, server + load generator (PostgreSQL's own \
             processes not counted)"
        );
        for backend in &self.backends {
            let _ = writeln!(out, "\n{} ({})", backend.backend, backend.server);
            let _ = writeln!(
                out,
                "  {:<7} {:<11} {:>9} {:>9} {:>8} {:>8} {:>8} {:>12}  target",
                "phase", "path", "ops", "ops/s", "p50 ms", "p99 ms", "max ms", "CPU/op µs"
            );
            for phase in &backend.phases {
                let t = phase.target;
                let verdict = format!(
                    "≥ {}/s, p99 ≤ {} ms: {} of the rate, p99 {}",
                    grouped(t.per_s),
                    t.p99_ms,
                    times(phase.to_target),
                    if phase.p99_within_target {
                        "within"
                    } else {
                        "over"
                    }
                );
                line(&mut out, phase.name, "HTTP", &phase.http, &verdict);
                line(&mut out, "", "in-process", &phase.in_process, "");
                if let (Some(limit), Some(what)) = (&phase.limit, &phase.limit_is) {
                    line(&mut out, "", "db limit", limit, what);
                }
                let _ = writeln!(
                    out,
                    "  {:<7} HTTP / in-process: {} the rate  ({})",
                    "",
                    times(phase.http_to_in_process),
                    phase.what
                );
                if let Some(r) = phase.in_process_to_limit {
                    let _ = writeln!(
                        out,
                        "  {:<7} in-process / db limit: {} the rate",
                        "",
                        times(r)
                    );
                }
                for (path, m) in [
                    ("HTTP", Some(&phase.http)),
                    ("in-process", Some(&phase.in_process)),
                    ("db limit", phase.limit.as_ref()),
                ] {
                    let Some(m) = m else { continue };
                    if m.errors > 0 {
                        let _ = writeln!(
                            out,
                            "  {:<7} {path}: {} of {} operations FAILED",
                            "",
                            grouped(m.errors as f64),
                            grouped(m.operations as f64)
                        );
                    }
                }
            }
            let _ = writeln!(
                out,
                "  audit log after the HTTP phases: {} entries, {} expected (one per request and \
                 the token's)",
                grouped(backend.audit_entries as f64),
                grouped(backend.audit_expected as f64)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(per_s: f64, p99_ms: f64) -> Measure {
        Measure {
            operations: 20_000,
            errors: 0,
            seconds: 20_000.0 / per_s,
            per_s,
            p50_ms: p99_ms / 3.0,
            p99_ms,
            max_ms: p99_ms * 2.0,
            server_cpu_us: Some(310.0),
            client_cpu_us: Some(22.0),
        }
    }

    fn report() -> LoadReport {
        let create = Phase::new(
            "create",
            "POST /api/v1/subjects, 10 values".into(),
            measure(4_000.0, 12.5),
            measure(5_000.0, 9.0),
            CREATE_TARGET,
        );
        let read = Phase::new(
            "read",
            "GET /api/v1/subjects/{id}?purpose=purchase".into(),
            measure(30_000.0, 11.0),
            measure(40_000.0, 2.0),
            READ_TARGET,
        )
        .with_limit(measure(80_000.0, 1.0), "SELECT by key".into());
        LoadReport {
            label: Some("2026-11-25".into()),
            command: "integritet-load --quick".into(),
            machine: Machine {
                nproc: 2,
                cpu_model: "AMD EPYC".into(),
                memory_total_mib: Some(24_000),
                kernel: Some("6.18".into()),
            },
            build: "release",
            connections: 32,
            creates: 20_000,
            reads: 50_000,
            auth: "store",
            server_threads: 2,
            client_threads: 1,
            backends: vec![BackendLoad {
                backend: "sqlite",
                server: "SQLite 3.51.3".into(),
                phases: vec![create, read],
                audit_entries: 70_065,
                audit_expected: 70_065,
            }],
        }
    }

    #[test]
    fn ratios_compare_http_with_in_process_and_target() {
        let report = report();
        let create = &report.backends[0].phases[0];
        assert_eq!(create.http_to_in_process, 0.8);
        assert_eq!(create.to_target, 0.8);
        assert!(create.p99_within_target);
        let read = &report.backends[0].phases[1];
        assert_eq!(read.to_target, 1.5);
        assert!(!read.p99_within_target);
        assert_eq!(read.in_process_to_limit, Some(0.5));
    }

    #[test]
    fn table_shows_both_paths_and_the_targets() {
        let text = report().human();
        assert!(text.contains("label:   2026-11-25"), "{text}");
        assert!(text.contains("32 keep-alive connections, 20,000 creates and 50,000 reads"));
        assert!(text.contains("sqlite (SQLite 3.51.3)"));
        let create = text
            .lines()
            .find(|l| l.trim_start().starts_with("create"))
            .unwrap();
        assert!(create.contains("HTTP"), "{create}");
        assert!(create.contains("4,000"), "{create}");
        assert!(create.contains("12.500"), "{create}");
        assert!(create.contains("310 + 22"), "{create}");
        assert!(
            create.contains("≥ 5,000/s, p99 ≤ 20 ms: 0.80× of the rate, p99 within"),
            "{create}"
        );
        assert!(text.contains("HTTP / in-process: 0.80× the rate"));
        assert!(text.contains("≥ 20,000/s, p99 ≤ 10 ms: 1.50× of the rate, p99 over"));
        assert!(text.contains("70,065 entries, 70,065 expected"));
        assert!(
            text.contains("in-process / db limit: 0.50× the rate"),
            "{text}"
        );
        assert!(text.contains("SELECT by key"), "{text}");
        assert!(!text.contains("FAILED"));
    }

    #[test]
    fn failures_are_shown() {
        let mut report = report();
        report.backends[0].phases[1].http.errors = 3;
        assert!(
            report
                .human()
                .contains("HTTP: 3 of 20,000 operations FAILED")
        );
    }

    #[test]
    fn json_has_the_figures() {
        let json = serde_json::to_value(report()).unwrap();
        let create = &json["backends"][0]["phases"][0];
        assert_eq!(create["name"], "create");
        assert_eq!(create["http"]["per_s"], 4000.0);
        assert_eq!(create["in_process"]["per_s"], 5000.0);
        assert_eq!(create["target"]["per_s"], 5000.0);
        assert_eq!(json["connections"], 32);
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(grouped(999.4), "999");
        assert_eq!(grouped(1_234_567.8), "1,234,568");
    }
}
