//! The generated customers. Subject `i` is always the same person, so a lookup can rebuild the
//! e-mail address or personnummer of any subject stored earlier in the run without keeping them.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use integritet_app::vault::{NewActivity, NewSubjectInput, NewValue};
use integritet_crypto::VALUE_BLOB_OVERHEAD;
use integritet_domain::identity::Personnummer;
use integritet_domain::personal::PersonalValue;
use integritet_domain::subject::{Provenance, SubjectKind};
use time::format_description::well_known::Rfc3339;
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};

/// "Now" when the run starts (the vault's clock ticks on from here).
pub const START: OffsetDateTime = datetime!(2026-11-25 08:00 UTC);

/// Values per generated subject.
pub const VALUES_PER_SUBJECT: usize = 10;

/// The categories of the seed policy each subject has a value of, with the purpose it is
/// collected for (a purpose that lists the category in `examples/seed-shop/policy.toml`, and
/// that the support role, which creates and reads them, holds).
pub const CATEGORIES: [(&str, &str); VALUES_PER_SUBJECT] = [
    ("name", "purchase"),
    ("identity_number", "purchase"),
    ("email", "purchase"),
    ("phone", "purchase"),
    ("postal_address", "purchase"),
    ("customer_number", "purchase"),
    ("payment_details", "purchase"),
    ("order_history", "purchase"),
    ("support_case", "customer_care"),
    ("geolocation", "customer_relationship"),
];

/// The purpose reads and lookups are made for; 8 of the 10 values are collected for it.
pub const READ_PURPOSE: &str = "purchase";

const FIRST: [&str; 16] = [
    "Astrid", "Bertil", "Cecilia", "David", "Elin", "Fredrik", "Greta", "Hampus", "Ingrid",
    "Johan", "Karin", "Lars", "Maja", "Nils", "Olivia", "Per",
];
const LAST: [&str; 16] = [
    "Lindqvist",
    "Andersson",
    "Bergström",
    "Nilsson",
    "Öberg",
    "Karlsson",
    "Sjöberg",
    "Holm",
    "Eriksson",
    "Wallin",
    "Lundgren",
    "Ekström",
    "Håkansson",
    "Persson",
    "Dahl",
    "Forsberg",
];
const STREETS: [&str; 8] = [
    "Storgatan",
    "Drottninggatan",
    "Berglundavägen",
    "Kungsgatan",
    "Skolgatan",
    "Ängsvägen",
    "Järnvägsgatan",
    "Björkvägen",
];
const CITIES: [&str; 8] = [
    "Örebro",
    "Västerås",
    "Uppsala",
    "Linköping",
    "Göteborg",
    "Malmö",
    "Umeå",
    "Karlstad",
];

/// First birth date of the generated personnummer; 999 serials per day.
const FIRST_BIRTH: Date = date!(1940 - 01 - 01);

/// A scrambled but reproducible 64-bit number from `i` (SplitMix64's finaliser).
pub fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small fast generator for choosing subjects at random (not for keys).
#[derive(Debug, Clone)]
pub struct Pick(u64);

impl Pick {
    pub fn new(seed: u64) -> Pick {
        Pick(seed)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(1);
        mix(self.0) % n.max(1)
    }
}

/// The valid personnummer of subject `i` (long form), built with [`Personnummer::new`].
pub fn personnummer(i: u64) -> anyhow::Result<String> {
    let day = i64::try_from(i / 999).context("subject number too large")?;
    let serial = u16::try_from(i % 999 + 1).context("serial out of range")?;
    let birth = FIRST_BIRTH
        .checked_add(Duration::days(day))
        .context("birth date out of range")?;
    Ok(Personnummer::new(birth, serial)?.long_form())
}

pub fn email(i: u64) -> String {
    format!("kund{i}@example.se")
}

/// The ten values of subject `i`, in the order of [`CATEGORIES`].
pub fn values(i: u64) -> anyhow::Result<[String; VALUES_PER_SUBJECT]> {
    let pick = |list: &[&'static str], k: u64| -> &'static str {
        let len = list.len() as u64;
        list.get(usize::try_from(k % len).unwrap_or(0))
            .copied()
            .unwrap_or("")
    };
    let h = mix(i);
    Ok([
        format!("{} Fiktiv {}", pick(&FIRST, i), pick(&LAST, i / 16)),
        personnummer(i)?,
        email(i),
        format!("+4670{:07}", i % 10_000_000),
        format!(
            "{} {}, {:03} {:02} {}",
            pick(&STREETS, h),
            h % 150 + 1,
            100 + (h >> 8) % 900,
            (h >> 20) % 100,
            pick(&CITIES, h >> 32)
        ),
        format!("K-{}", 100_000 + i),
        format!("klarna:ord_{:010x}", h >> 24),
        format!(
            "Order {}: GPS-tracker TK-905 x{}, SIM-kort 12 mån",
            500_000 + i,
            h % 3 + 1
        ),
        format!(
            "Ärende {}: spårare {} visar ingen position sedan {} dagar",
            700_000 + i,
            100_000 + i % 900_000,
            h % 14 + 1
        ),
        format!(
            "{:.5},{:.5}",
            55.3 + ((h >> 4) % 9000) as f64 * 0.001,
            11.1 + ((h >> 16) % 12_000) as f64 * 0.001
        ),
    ])
}

/// When subject `i` last bought something: up to two years before [`START`].
fn last_purchase(i: u64) -> OffsetDateTime {
    let days = i64::try_from(mix(i ^ 0x5555) % 700).unwrap_or(0) + 1;
    START - Duration::days(days)
}

/// Subject `i` as the vault takes it.
pub fn subject(i: u64) -> anyhow::Result<NewSubjectInput> {
    let values = values(i)?;
    Ok(NewSubjectInput {
        kind: SubjectKind::Person,
        values: CATEGORIES
            .iter()
            .zip(values)
            .map(|((category, purpose), value)| NewValue {
                category: (*category).to_owned(),
                value: PersonalValue::new(value),
                provenance: Provenance::Provided,
                purposes: vec![(*purpose).to_owned()],
                collected_at: None,
            })
            .collect(),
        activities: vec![NewActivity {
            kind: "purchase".into(),
            at: last_purchase(i),
        }],
    })
}

/// Subject `i` as one line of an import file (JSON Lines, the shape `import` reads).
pub fn json_line(i: u64) -> anyhow::Result<serde_json::Value> {
    let values = values(i)?;
    let at = last_purchase(i).format(&Rfc3339)?;
    Ok(serde_json::json!({
        "kind": "person",
        "values": CATEGORIES
            .iter()
            .zip(values)
            .map(|((category, purpose), value)| serde_json::json!({
                "category": category,
                "value": value,
                "purposes": [purpose],
            }))
            .collect::<Vec<_>>(),
        "activities": [{ "kind": "purchase", "at": at }],
    }))
}

/// Writes subjects `range` as a JSON Lines file; returns its size in bytes.
pub fn write_jsonl(path: &Path, range: std::ops::Range<u64>) -> anyhow::Result<u64> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for i in range {
        serde_json::to_writer(&mut out, &json_line(i)?)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    Ok(file.metadata()?.len())
}

/// The baseline's key for subject `i`: 16 bytes, ordered by `i` like the vault's time-ordered
/// UUID v7 subject ids, with 8 scrambled bytes after.
pub fn raw_key(i: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&i.to_be_bytes());
    key[8..].copy_from_slice(&mix(i).to_be_bytes());
    key
}

/// The baseline's rows for subject `i`: one per value, each as many bytes as the vault's
/// ciphertext of that value (plaintext + [`VALUE_BLOB_OVERHEAD`]).
pub fn raw_rows(i: u64) -> anyhow::Result<Vec<RawValue>> {
    let values = values(i)?;
    let key = raw_key(i);
    Ok(values
        .iter()
        .zip(0i32..)
        .map(|(value, n)| RawValue {
            subject: key,
            n,
            body: filler(
                value.len() + VALUE_BLOB_OVERHEAD,
                i ^ (u64::from(n.unsigned_abs()) << 56),
            ),
        })
        .collect())
}

/// `len` bytes that do not compress, from `seed`.
pub fn filler(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut k = seed;
    while out.len() < len {
        k = k.wrapping_add(1);
        out.extend_from_slice(&mix(k).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One row of the baseline's value table.
#[derive(Debug, Clone)]
pub struct RawValue {
    pub subject: [u8; 16],
    pub n: i32,
    pub body: Vec<u8>,
}

/// Lookup kinds the baseline index holds per subject, like the vault's four blind indexes.
pub const RAW_INDEX_KINDS: [&str; 4] = ["email", "phone", "identity_number", "customer_number"];

/// The baseline's 32-byte lookup key of subject `i` under `kind` (stands in for a blind-index
/// token: random-looking, fixed length).
pub fn raw_token(kind: &str, i: u64) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(kind.as_bytes());
    hasher.update(&i.to_be_bytes());
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use integritet_domain::policy::ValueKind;
    use integritet_domain::value::normalise;

    #[test]
    fn generated_values_are_valid_for_their_kinds() {
        let today = START.date();
        let kinds = [
            ValueKind::PersonName,
            ValueKind::IdentityNumber,
            ValueKind::Email,
            ValueKind::Phone,
            ValueKind::PostalAddress,
            ValueKind::CustomerNumber,
            ValueKind::PaymentReference,
            ValueKind::FreeText,
            ValueKind::FreeText,
            ValueKind::Geolocation,
        ];
        for i in [0, 1, 998, 999, 1000, 123_456, 9_999_999] {
            for (kind, value) in kinds.iter().zip(values(i).unwrap()) {
                normalise(*kind, &value, today).unwrap();
            }
        }
    }

    #[test]
    fn personnummer_are_distinct() {
        let a: std::collections::HashSet<String> =
            (0..5000).map(|i| personnummer(i).unwrap()).collect();
        assert_eq!(a.len(), 5000);
    }

    #[test]
    fn import_lines_parse_as_subjects() {
        let line = json_line(42).unwrap().to_string();
        let input: NewSubjectInput = serde_json::from_str(&line).unwrap();
        assert_eq!(input, subject(42).unwrap());
    }
}
