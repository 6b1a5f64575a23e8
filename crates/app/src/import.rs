//! Bulk import of subjects from JSON Lines or CSV, streamed in batches so memory stays bounded
//! whatever the file's size. Bad rows are reported with their line number and skipped; good
//! rows are stored.
//!
//! JSON Lines: one subject per line, the shape of [`NewSubjectInput`]:
//! `{"kind":"person","values":[{"category":"email","value":"anna@example.se","purposes":["purchase"]}],"activities":[{"kind":"purchase","at":"2026-03-01T10:00:00Z"}]}`
//!
//! CSV: a header row of category names, a `purposes` column (purpose ids separated by `;`),
//! optionally `kind` (`person` or `organisation`) and `activity:<kind>` columns holding a
//! date (`YYYY-MM-DD`) or an RFC 3339 time. Each value is collected for those of the row's
//! purposes that list its category. Empty cells are skipped.

use std::collections::HashMap;
use std::io::BufRead;

use integritet_domain::audit::AuditAction;
use integritet_domain::personal::PersonalValue;
use integritet_domain::subject::{Provenance, SubjectKind};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use crate::vault::{
    Actor, NewActivity, NewSubjectInput, NewValue, PreparedSubject, Vault, VaultError,
};

/// Subjects stored per transaction: large enough to amortise the commit, small enough to keep
/// memory flat.
pub const BATCH_SIZE: usize = 1_000;

/// Rejected rows kept in the report; beyond this only the count grows.
pub const MAX_REPORTED_ERRORS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    JsonLines,
    Csv,
}

impl ImportFormat {
    /// From the file name: `.jsonl`/`.ndjson` or `.csv`.
    pub fn from_path(path: &std::path::Path) -> Option<ImportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Some(ImportFormat::JsonLines),
            "csv" => Some(ImportFormat::Csv),
            _ => None,
        }
    }
}

/// One rejected row. The message never repeats the row's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ImportSummary {
    pub imported: u64,
    pub rejected: u64,
    /// The first [`MAX_REPORTED_ERRORS`] rejected rows.
    pub errors: Vec<RowError>,
}

impl ImportSummary {
    fn reject(&mut self, line: u64, message: String) {
        self.rejected += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(RowError { line, message });
        }
    }

    /// Adds what `later` counted after this summary's rows.
    fn merge(&mut self, later: ImportSummary) {
        self.imported += later.imported;
        let unlisted = later.rejected - later.errors.len() as u64;
        for error in later.errors {
            self.reject(error.line, error.message);
        }
        self.rejected += unlisted;
    }
}

/// Why an import stopped before the end of the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: cannot read the file: {source}")]
    Read { line: u64, source: std::io::Error },
    #[error("the CSV header is wrong: {0}")]
    Header(String),
    #[error("storing a batch failed: {0}")]
    Store(#[from] VaultError),
}

/// Reads subjects from `input` and stores them. `progress(bytes_read, summary)` is called after
/// each batch.
///
/// Batches are pipelined: while one is being committed (by the store, on its own thread or
/// server), the next is parsed and encrypted here, so neither waits for the other.
pub async fn import(
    vault: &Vault,
    actor: &Actor,
    format: ImportFormat,
    input: impl BufRead,
    mut progress: impl FnMut(u64, &ImportSummary),
) -> Result<ImportSummary, ImportError> {
    let mut summary = ImportSummary::default();
    let mut bytes_read: u64 = 0;
    let mut rows = RowReader::new(format, input);
    let mut ready = next_batch(vault, actor, &mut rows, &mut bytes_read, &mut summary)?;
    while !ready.subjects.is_empty() {
        let committing = std::mem::take(&mut ready.subjects);
        let mut rejected = ImportSummary::default();
        let mut read = bytes_read;
        let (committed, next) = tokio::join!(flush(vault, actor, committing), async {
            next_batch(vault, actor, &mut rows, &mut read, &mut rejected)
        });
        summary.imported += committed?;
        progress(bytes_read, &summary);
        summary.merge(rejected);
        bytes_read = read;
        ready = next?;
    }
    progress(bytes_read, &summary);
    Ok(summary)
}

/// A row as read, before the policy is applied: the subject its line holds, or the error that
/// line is rejected with.
pub type ParsedRow = Result<(u64, NewSubjectInput), RowError>;

/// The rows of `input` as the importer reads them. Reads the whole input at once, so it is for
/// checking the parse step (tests, fuzzing); [`import`] streams.
pub fn parse_rows(
    format: ImportFormat,
    input: impl BufRead,
) -> Result<Vec<ParsedRow>, ImportError> {
    let mut rows = RowReader::new(format, input);
    let mut bytes_read = 0;
    let mut parsed = Vec::new();
    while let Some(row) = rows.next_row(&mut bytes_read)? {
        parsed.push(match row {
            Row::Subject { line, input } => Ok((line, input)),
            Row::Bad { line, message } => Err(RowError { line, message }),
        });
    }
    Ok(parsed)
}

/// Up to [`BATCH_SIZE`] prepared subjects: the next rows of the file, encrypted and indexed.
struct Prepared {
    subjects: Vec<PreparedSubject>,
}

fn next_batch<R: BufRead>(
    vault: &Vault,
    actor: &Actor,
    rows: &mut RowReader<R>,
    bytes_read: &mut u64,
    summary: &mut ImportSummary,
) -> Result<Prepared, ImportError> {
    let mut subjects = Vec::with_capacity(BATCH_SIZE);
    while subjects.len() < BATCH_SIZE {
        let Some(row) = rows.next_row(bytes_read)? else {
            break;
        };
        match row {
            Row::Subject { line, mut input } => {
                if rows.format == ImportFormat::Csv {
                    keep_purposes_that_list_the_category(vault, &mut input);
                }
                match vault.prepare(actor, input) {
                    Ok(prepared) => subjects.push(prepared),
                    Err(error) => summary.reject(line, error.to_string()),
                }
            }
            Row::Bad { line, message } => summary.reject(line, message),
        }
    }
    Ok(Prepared { subjects })
}

/// Stores one batch with its audit note; returns how many subjects it held.
async fn flush(
    vault: &Vault,
    actor: &Actor,
    batch: Vec<PreparedSubject>,
) -> Result<u64, ImportError> {
    let count = batch.len() as u64;
    let note = integritet_domain::audit::AuditDraft {
        at: vault_now(vault),
        actor: actor.id(),
        role: actor.role().map(str::to_owned),
        purpose: None,
        subject: None,
        categories: vec![],
        action: AuditAction::Import,
        policy_version: vault.policy().version.to_string(),
        detail: Some(format!("batch of {count} subjects")),
    };
    vault.commit(batch, vec![note]).await?;
    Ok(count)
}

fn vault_now(vault: &Vault) -> OffsetDateTime {
    vault.now()
}

/// A CSV row names its purposes once for all its values; each value keeps those purposes that
/// list its category. A value no purpose covers keeps them all, so the vault's error names it.
fn keep_purposes_that_list_the_category(vault: &Vault, input: &mut NewSubjectInput) {
    let purposes = &vault.policy().policy.purposes;
    for value in &mut input.values {
        let listing: Vec<String> = value
            .purposes
            .iter()
            .filter(|p| {
                purposes
                    .get(*p)
                    .is_some_and(|purpose| purpose.categories.contains(&value.category))
            })
            .cloned()
            .collect();
        if !listing.is_empty() {
            value.purposes = listing;
        }
    }
}

enum Row {
    Subject { line: u64, input: NewSubjectInput },
    Bad { line: u64, message: String },
}

/// Reads the file line by line (JSON Lines) or record by record (CSV).
struct RowReader<R: BufRead> {
    format: ImportFormat,
    lines: R,
    line: u64,
    csv: Option<CsvState>,
    buffer: String,
}

struct CsvState {
    columns: Vec<Column>,
}

#[derive(Debug, Clone)]
enum Column {
    Category(String),
    Purposes,
    Kind,
    Activity(String),
}

impl<R: BufRead> RowReader<R> {
    fn new(format: ImportFormat, lines: R) -> Self {
        RowReader {
            format,
            lines,
            line: 0,
            csv: None,
            buffer: String::new(),
        }
    }

    /// Reads one physical line into the buffer; `false` at the end of the input.
    fn read_line(&mut self, bytes_read: &mut u64) -> Result<bool, ImportError> {
        self.buffer.clear();
        self.line += 1;
        let n = self
            .lines
            .read_line(&mut self.buffer)
            .map_err(|source| ImportError::Read {
                line: self.line,
                source,
            })?;
        *bytes_read += n as u64;
        Ok(n > 0)
    }

    fn next_row(&mut self, bytes_read: &mut u64) -> Result<Option<Row>, ImportError> {
        loop {
            if !self.read_line(bytes_read)? {
                return Ok(None);
            }
            let line = self.line;
            let text = self.buffer.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            return Ok(Some(match self.format {
                ImportFormat::JsonLines => match serde_json::from_str::<NewSubjectInput>(text) {
                    Ok(input) => Row::Subject { line, input },
                    Err(error) => Row::Bad {
                        line,
                        message: describe_json_error(&error),
                    },
                },
                ImportFormat::Csv => {
                    // A quoted CSV field may span lines: keep reading until quotes balance.
                    let mut record = text.to_owned();
                    while record.matches('"').count() % 2 == 1 {
                        if !self.read_line(bytes_read)? {
                            break;
                        }
                        record.push('\n');
                        record.push_str(self.buffer.trim_end_matches(['\n', '\r']));
                    }
                    match self.csv_record(line, &record)? {
                        Some(row) => row,
                        None => continue,
                    }
                }
            }));
        }
    }

    fn csv_record(&mut self, line: u64, record: &str) -> Result<Option<Row>, ImportError> {
        let fields = match split_csv(record) {
            Ok(fields) => fields,
            Err(message) => return Ok(Some(Row::Bad { line, message })),
        };
        let Some(state) = &self.csv else {
            self.csv = Some(CsvState {
                columns: parse_header(&fields)?,
            });
            return Ok(None);
        };
        if fields.len() != state.columns.len() {
            return Ok(Some(Row::Bad {
                line,
                message: format!(
                    "the row has {} fields but the header has {}",
                    fields.len(),
                    state.columns.len()
                ),
            }));
        }
        Ok(Some(match csv_subject(&state.columns, fields) {
            Ok(input) => Row::Subject { line, input },
            Err(message) => Row::Bad { line, message },
        }))
    }
}

fn describe_json_error(error: &serde_json::Error) -> String {
    format!(
        "not a valid subject: {}",
        integritet_domain::input_error::without_input(&error.to_string())
    )
}

fn parse_header(fields: &[String]) -> Result<Vec<Column>, ImportError> {
    let mut columns = Vec::with_capacity(fields.len());
    let mut seen = HashMap::new();
    for (i, name) in fields.iter().enumerate() {
        let name = name.trim();
        if let Some(previous) = seen.insert(name.to_owned(), i) {
            return Err(ImportError::Header(format!(
                "column {name:?} appears twice (columns {} and {})",
                previous + 1,
                i + 1
            )));
        }
        columns.push(match name {
            "purposes" => Column::Purposes,
            "kind" => Column::Kind,
            _ => match name.strip_prefix("activity:") {
                Some(kind) => Column::Activity(kind.to_owned()),
                None => Column::Category(name.to_owned()),
            },
        });
    }
    if !columns.iter().any(|c| matches!(c, Column::Purposes)) {
        return Err(ImportError::Header(
            "there is no `purposes` column: add one with purpose ids separated by `;`".into(),
        ));
    }
    Ok(columns)
}

fn csv_subject(columns: &[Column], fields: Vec<String>) -> Result<NewSubjectInput, String> {
    let mut purposes: Vec<String> = Vec::new();
    let mut kind = SubjectKind::Person;
    let mut values = Vec::new();
    let mut activities = Vec::new();
    for (column, field) in columns.iter().zip(&fields) {
        if let Column::Purposes = column {
            purposes = field
                .split(';')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect();
        }
    }
    if purposes.is_empty() {
        return Err("the purposes cell is empty: name at least one purpose of the policy".into());
    }
    for (column, field) in columns.iter().zip(fields) {
        let cell = field.trim();
        if cell.is_empty() {
            continue;
        }
        match column {
            Column::Purposes => {}
            Column::Kind => {
                kind = SubjectKind::parse(cell)
                    .ok_or_else(|| "kind must be `person` or `organisation`".to_owned())?;
            }
            Column::Activity(activity) => activities.push(NewActivity {
                kind: activity.clone(),
                at: parse_time(cell).ok_or_else(|| {
                    format!("activity:{activity} must be a date YYYY-MM-DD or an RFC 3339 time")
                })?,
            }),
            Column::Category(category) => values.push(NewValue {
                category: category.clone(),
                value: PersonalValue::new(cell),
                provenance: Provenance::Provided,
                purposes: purposes.clone(),
                collected_at: None,
            }),
        }
    }
    Ok(NewSubjectInput {
        kind,
        values,
        activities,
    })
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    let date = Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc())
}

/// Splits one CSV record (RFC 4180: quotes, doubled quotes, commas and newlines inside quotes).
fn split_csv(record: &str) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(record.as_bytes());
    let mut row = csv::StringRecord::new();
    match reader.read_record(&mut row) {
        Ok(true) => Ok(row.iter().map(str::to_owned).collect()),
        Ok(false) => Ok(Vec::new()),
        Err(error) => Err(format!("not valid CSV: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_never_quote_values() {
        let error = serde_json::from_str::<NewSubjectInput>(
            r#"{"kind":"person","values":"anna@example.se"}"#,
        )
        .unwrap_err();
        let message = describe_json_error(&error);
        assert!(!message.contains("anna"), "{message}");
        assert!(message.contains("invalid type"), "{message}");
    }

    #[test]
    fn csv_fields_with_quotes() {
        assert_eq!(
            split_csv("a,\"b, c\",\"d \"\"e\"\"\"").unwrap(),
            vec!["a", "b, c", "d \"e\""]
        );
    }

    #[test]
    fn header_needs_purposes_and_unique_columns() {
        let fields = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        assert!(parse_header(&fields("email,name")).is_err());
        assert!(parse_header(&fields("email,email,purposes")).is_err());
        let columns = parse_header(&fields("kind,email,purposes,activity:purchase")).unwrap();
        assert_eq!(columns.len(), 4);
    }

    #[test]
    fn csv_rows_become_subjects() {
        let columns = parse_header(
            &"kind,email,purposes,activity:purchase"
                .split(',')
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let input = csv_subject(
            &columns,
            vec![
                "organisation".into(),
                "a@b.se".into(),
                "purchase; newsletter".into(),
                "2026-01-02".into(),
            ],
        )
        .unwrap();
        assert_eq!(input.kind, SubjectKind::Organisation);
        assert_eq!(input.values[0].purposes, vec!["purchase", "newsletter"]);
        assert_eq!(input.activities[0].at.date().to_string(), "2026-01-02");
        assert!(
            csv_subject(
                &columns,
                vec!["".into(), "a@b.se".into(), "".into(), "".into()]
            )
            .is_err()
        );
    }
}
