//! Import rows (`integritet import`): JSON Lines and CSV, as the importer parses them.

use integritet_app::import::{ImportError, ImportFormat, parse_rows};

use std::sync::OnceLock;

use crate::echo::{Echoes, SERDE_WORDS, Vocabulary, json_strings};

/// Words of the importer's own messages and of the types a row becomes.
const IMPORT_WORDS: &[&str] = &[
    "not a valid subject: ",
    "kind",
    "values",
    "value",
    "activities",
    "category",
    "provenance",
    "purposes",
    "collected_at",
    "person",
    "organisation",
    "provided",
    "observed",
    "derived",
    "NewSubjectInput",
    "NewValue",
    "NewActivity",
    "SubjectKind",
    "Provenance",
    "PersonalValue",
    "OffsetDateTime",
    "`kind`, `values`, `activities`",
    "`category`, `value`, `provenance`, `purposes`, `collected_at`",
    "`kind`, `at`",
    "`person` or `organisation`",
    "`provided`, `observed`, `derived`",
    "the row has ",
    " fields but the header has ",
    "the purposes cell is empty: name at least one purpose of the policy",
    "kind must be `person` or `organisation`",
    "activity:",
    " must be a date YYYY-MM-DD or an RFC 3339 time",
    "not valid CSV: ",
    "cannot read the file: ",
    "stream did not contain valid UTF-8",
];

/// The first byte chooses the format (even: JSON Lines, odd: CSV), the rest is the file.
///
/// Rows come in file order with line numbers within the file; a CSV subject's values are
/// trimmed, non-empty cells, each with at least one purpose; and no row's error repeats the
/// file's text (beyond our own words): a row may hold personal data, and the import report is
/// printed and logged. A CSV row's error may name its column (`activity:<kind>`), which the
/// header, not the row, gave.
pub fn import_row(data: &[u8]) {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let format = if selector & 1 == 0 {
        ImportFormat::JsonLines
    } else {
        ImportFormat::Csv
    };
    let text = String::from_utf8_lossy(file);
    let mut inputs: Vec<String> = vec![text.to_string()];
    if format == ImportFormat::JsonLines {
        inputs.extend(text.lines().flat_map(json_strings));
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    static OURS: OnceLock<Vocabulary<'static>> = OnceLock::new();
    let ours = OURS.get_or_init(|| {
        let words: Vec<&str> = SERDE_WORDS.iter().chain(IMPORT_WORDS).copied().collect();
        Vocabulary::new(&words)
    });
    let echoes = Echoes::new(&inputs, ours);
    let check = |message: &str| {
        assert!(!message.is_empty());
        if let Some(piece) = echoes.find(&without_column(message)) {
            crate::broken(format_args!(
                "a row error repeats the input ({piece:?}): {message}"
            ));
        }
    };

    let rows = match parse_rows(format, file) {
        Ok(rows) => rows,
        // A bad CSV header names its columns by design: they are the file's schema, category
        // and activity names, not a person's data.
        Err(ImportError::Header(_)) => return,
        Err(error) => {
            check(&error.to_string());
            return;
        }
    };
    let lines = file.split(|b| *b == b'\n').count() as u64;
    let mut previous = 0;
    for row in rows {
        let line = match &row {
            Ok((line, _)) => *line,
            Err(error) => error.line,
        };
        assert!(
            line > previous && line <= lines,
            "row at line {line} after {previous}, of {lines} lines"
        );
        previous = line;
        match row {
            Err(error) => check(&error.message),
            Ok((_, subject)) if format == ImportFormat::Csv => {
                for value in &subject.values {
                    let cell = value.value.expose();
                    assert!(
                        !cell.is_empty() && cell.trim() == cell,
                        "{:?}",
                        value.category
                    );
                    assert!(!value.purposes.is_empty());
                    for purpose in &value.purposes {
                        assert!(!purpose.is_empty() && purpose.trim() == purpose);
                        assert!(!purpose.contains(';'));
                    }
                }
            }
            Ok(_) => {}
        }
    }
}

/// A message without the column name it may give (`activity:<kind> must be a date …`).
fn without_column(message: &str) -> String {
    const AFTER: &str = " must be a date";
    match message.strip_prefix("activity:") {
        Some(rest) => match rest.rfind(AFTER) {
            Some(at) => format!("activity:{}", &rest[at..]),
            None => message.to_owned(),
        },
        None => message.to_owned(),
    }
}
