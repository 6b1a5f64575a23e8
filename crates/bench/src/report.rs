//! The results: rows of "what, the vault's figure, the database's own limit, the sqlx
//! baseline, and the ratios", printed as a table or as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::sys::Machine;

/// Whether more is better (a rate) or less (a latency, memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Stable key for scripts, e.g. `write_batched_values_per_s`.
    pub key: &'static str,
    pub metric: String,
    pub value: f64,
    pub unit: &'static str,
    pub better: Better,
    /// The same work through sqlx, the driver the stores used before; or, for figures without
    /// a database, the nearest piece of work measured alone.
    pub baseline: Option<f64>,
    /// What the baseline did.
    pub baseline_is: Option<String>,
    /// `value / baseline`: for a rate the share of the baseline's speed, for a latency how many
    /// times the baseline's.
    pub ratio: Option<f64>,
    /// The database's own limit for the same work: the C library through rusqlite, or
    /// pipelined statements on PostgreSQL.
    pub limit: Option<f64>,
    /// What the limit did.
    pub limit_is: Option<String>,
    /// `value / limit`, read like `ratio`.
    pub limit_ratio: Option<f64>,
    /// How many operations the figure is measured over, and anything else worth knowing.
    pub note: Option<String>,
}

impl Row {
    pub fn new(
        key: &'static str,
        metric: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Row {
        let better = if matches!(unit, "ms" | "MiB") {
            Better::Lower
        } else {
            Better::Higher
        };
        Row {
            key,
            metric: metric.into(),
            value,
            unit,
            better,
            baseline: None,
            baseline_is: None,
            ratio: None,
            limit: None,
            limit_is: None,
            limit_ratio: None,
            note: None,
        }
    }

    pub fn baseline(mut self, baseline: f64, what: impl Into<String>) -> Row {
        self.baseline = Some(baseline);
        self.baseline_is = Some(what.into());
        self.ratio = (baseline > 0.0).then(|| self.value / baseline);
        self
    }

    pub fn limit(mut self, limit: f64, what: impl Into<String>) -> Row {
        self.limit = Some(limit);
        self.limit_is = Some(what.into());
        self.limit_ratio = (limit > 0.0).then(|| self.value / limit);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = Some(note.into());
        self
    }
}

/// What one backend was asked to do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Subjects written in batches of `batch` (prepare + commit) in the write phase.
    pub write_batched: u64,
    /// Subjects created one by one (`create_subject`) by `concurrency` tasks.
    pub write_single: u64,
    pub reads: u64,
    /// Subjects in the store when lookups are timed (N).
    pub subjects: u64,
    pub lookups: u64,
    /// Subjects in the generated import file (M).
    pub import: u64,
    pub batch: usize,
    pub concurrency: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackendReport {
    pub backend: &'static str,
    pub server: String,
    pub plan: Plan,
    pub rows: Vec<Row>,
    /// Wall time of the whole backend run, seconds.
    pub seconds: f64,
    /// CPU time this process used meanwhile (the database server's is not counted).
    pub cpu_seconds: Option<f64>,
    /// The machine's 1-minute load average before and after.
    pub load_before: Option<f64>,
    pub load_after: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub label: Option<String>,
    pub command: String,
    pub machine: Machine,
    pub build: &'static str,
    pub backends: Vec<BackendReport>,
    /// Figures that do not depend on a backend.
    pub reference: Vec<Row>,
}

/// `1234567.8` as `1,234,568`.
fn grouped(value: f64) -> String {
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

pub fn number(value: f64, unit: &str) -> String {
    match unit {
        "ms" => format!("{value:.3}"),
        "MiB" => format!("{value:.1}"),
        _ => grouped(value),
    }
}

fn ratio(ratio: Option<f64>) -> String {
    ratio.map_or_else(String::new, |r| {
        if r >= 100.0 {
            format!("{r:.0}×")
        } else if r >= 10.0 {
            format!("{r:.1}×")
        } else {
            format!("{r:.2}×")
        }
    })
}

fn table(out: &mut String, rows: &[Row]) {
    let metric_width = rows
        .iter()
        .map(|r| r.metric.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        out,
        "  {:<metric_width$}  {:>13} {:<11} {:>13}  {:>7}  {:>13}  {:>7}",
        "metric", "vault", "unit", "limit", "ratio", "baseline", "ratio"
    );
    let figure = |v: Option<f64>, unit: &str| v.map_or_else(String::new, |v| number(v, unit));
    for row in rows {
        let _ = writeln!(
            out,
            "  {:<metric_width$}  {:>13} {:<11} {:>13}  {:>7}  {:>13}  {:>7}",
            row.metric,
            number(row.value, row.unit),
            row.unit,
            figure(row.limit, row.unit),
            ratio(row.limit_ratio),
            figure(row.baseline, row.unit),
            ratio(row.ratio),
        );
        if let Some(limit) = &row.limit_is {
            let _ = writeln!(out, "  {:<metric_width$}    limit: {limit}", "");
        }
        if let Some(baseline) = &row.baseline_is {
            let _ = writeln!(out, "  {:<metric_width$}    baseline: {baseline}", "");
        }
        if let Some(note) = &row.note {
            let _ = writeln!(out, "  {:<metric_width$}    ({note})", "");
        }
    }
}

impl Report {
    pub fn human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "integritet-bench");
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
            "  limit = the database's own limit for the same work (the C library through \
             rusqlite; pipelined tokio-postgres); baseline = the same work through sqlx, or the \
             nearest piece of work alone\n  ratio = vault / limit or vault / baseline: for a \
             rate, the share of its speed; for a latency or size, how many times it"
        );
        for backend in &self.backends {
            let p = &backend.plan;
            let _ = writeln!(
                out,
                "\n{} ({}): N = {} subjects for lookups, M = {} imported, {} tasks, batches of {}, {:.0} s",
                backend.backend,
                backend.server,
                grouped(p.subjects as f64),
                grouped(p.import as f64),
                p.concurrency,
                p.batch,
                backend.seconds
            );
            let show = |v: Option<f64>| v.map_or_else(|| "?".to_owned(), |v| format!("{v:.1}"));
            let _ = writeln!(
                out,
                "  this process used {} CPU-s in {:.0} s; load average {} before, {} after",
                show(backend.cpu_seconds),
                backend.seconds,
                show(backend.load_before),
                show(backend.load_after)
            );
            table(&mut out, &backend.rows);
        }
        if !self.reference.is_empty() {
            let _ = writeln!(out, "\nreference (no store)");
            table(&mut out, &self.reference);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(grouped(0.0), "0");
        assert_eq!(grouped(999.4), "999");
        assert_eq!(grouped(1000.0), "1,000");
        assert_eq!(grouped(1_234_567.8), "1,234,568");
        assert_eq!(number(0.12345, "ms"), "0.123");
    }

    #[test]
    fn ratio_is_value_over_baseline() {
        let row = Row::new("k", "m", 50.0, "values/s").baseline(200.0, "raw");
        assert_eq!(row.ratio, Some(0.25));
        let row = row.limit(100.0, "C");
        assert_eq!(row.limit_ratio, Some(0.5));
        assert_eq!(row.better, Better::Higher);
        assert_eq!(Row::new("k", "m", 1.0, "ms").better, Better::Lower);
    }
}
