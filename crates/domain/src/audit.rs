//! The audit log's entries and the hash chain that makes it tamper-evident.
//!
//! Each entry commits to the one before it: `hash = BLAKE3(prev_hash ‖ encoding of the entry)`,
//! keyed under the installation's [`ChainKey`] from the entry that key names on, so that
//! someone who can write the database but does not hold the key directory cannot compute the
//! hash of an entry they edited or added. Editing, deleting, inserting or reordering entries
//! breaks the chain at the first entry touched, and [`verify_chain`] names it. Entries hold no personal data: subjects appear by id,
//! categories by name.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The hash of an entry, or of the chain's start.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// What the first entry's `prev_hash` is.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_slice(bytes: &[u8]) -> Option<ChainHash> {
        <[u8; 32]>::try_from(bytes).ok().map(ChainHash)
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The secret the chain's hashes are keyed under, and the first entry it keys.
///
/// Entries before `keyed_from` were written before the installation had a chain key and keep
/// their unkeyed hashes; they are protected all the same once a keyed entry follows them,
/// because that entry's hash covers their head.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainKey {
    secret: [u8; 32],
    keyed_from: u64,
}

impl ChainKey {
    /// No key: every entry hashed unkeyed (stores in tests, and logs written before keying).
    pub const UNKEYED: ChainKey = ChainKey {
        secret: [0; 32],
        keyed_from: u64::MAX,
    };

    /// `secret` keys every entry from seq `keyed_from` on.
    pub fn new(secret: [u8; 32], keyed_from: u64) -> ChainKey {
        ChainKey {
            secret,
            keyed_from: keyed_from.max(1),
        }
    }

    /// The first keyed entry, if any is.
    pub fn keyed_from(&self) -> Option<u64> {
        (self.keyed_from != u64::MAX).then_some(self.keyed_from)
    }

    fn keys(&self, seq: u64) -> bool {
        seq >= self.keyed_from
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainKey")
            .field("keyed_from", &self.keyed_from())
            .finish_non_exhaustive()
    }
}

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Read,
    Lookup,
    Update,
    ActivityAdded,
    Erase,
    Archive,
    ArchiveRead,
    Shred,
    Export,
    Disclosure,
    /// An attempt the access rules refused; audited like a read.
    Refused,
    KeyRotation,
    Restore,
    Import,
    /// A staff API token was issued (the entry names its public id, never the secret).
    TokenCreated,
    /// A staff API token was revoked.
    TokenRevoked,
    /// Processing of a subject was restricted (Art. 18).
    Restricted,
    /// A restriction of processing was lifted.
    RestrictionLifted,
    /// A subject objected to a purpose (Art. 21).
    Objection,
    /// A subject withdrew an objection.
    ObjectionWithdrawn,
    /// A policy version was put into force (first use of its text).
    PolicyActivated,
    /// A console user was created (the entry names the login name and role, never the
    /// password or its hash).
    UserCreated,
    /// A console user was disabled; its sessions ended.
    UserDisabled,
    /// A console user logged in (a session started).
    Login,
    /// A console login was refused: wrong password, unknown name, disabled or locked account
    /// (the detail says which; an unknown name is not recorded).
    LoginFailed,
    /// A console account was locked after repeated failed logins.
    UserLocked,
    /// A console user logged out (the session ended).
    Logout,
    /// A stored row failed its integrity check (a token, user or session whose MAC does not
    /// match, a value whose ciphertext does not authenticate): it was refused. The detail names
    /// the row by its id, never its content.
    IntegrityViolation,
    /// `store verify` checked every row and found them all as written.
    IntegrityChecked,
    /// A signed checkpoint of the log's head ([`Checkpoint`] in the detail).
    Checkpoint,
    /// A data subject's request was received or moved on (its id and event in the detail).
    Request,
    /// A retention sweep ran (its counts in the detail; each erasure is an entry of its own).
    Sweep,
    /// A legal hold was set on a subject or released (its id and end date in the detail).
    LegalHold,
    /// A marketing audience was drawn (its purpose, channel and size in the entry; never a
    /// contact).
    MarketingAudience,
    /// An unsubscribe link was issued or revoked (its id in the detail, never the token).
    UnsubscribeLink,
    /// The NIX-Telefon register was replaced (how many numbers in the detail).
    NixImport,
    /// An address or number was put on the suppression list without a subject (an opt-out by
    /// letter, phone or e-mail from someone the shop may not hold).
    Suppression,
    /// A visitor's cookie consent decision was recorded (its record id and status in the
    /// detail; the record itself is sealed).
    ConsentRecorded,
}

impl AuditAction {
    pub const ALL: [AuditAction; 39] = [
        AuditAction::Create,
        AuditAction::Read,
        AuditAction::Lookup,
        AuditAction::Update,
        AuditAction::ActivityAdded,
        AuditAction::Erase,
        AuditAction::Archive,
        AuditAction::ArchiveRead,
        AuditAction::Shred,
        AuditAction::Export,
        AuditAction::Disclosure,
        AuditAction::Refused,
        AuditAction::KeyRotation,
        AuditAction::Restore,
        AuditAction::Import,
        AuditAction::TokenCreated,
        AuditAction::TokenRevoked,
        AuditAction::Restricted,
        AuditAction::RestrictionLifted,
        AuditAction::Objection,
        AuditAction::ObjectionWithdrawn,
        AuditAction::PolicyActivated,
        AuditAction::UserCreated,
        AuditAction::UserDisabled,
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::UserLocked,
        AuditAction::Logout,
        AuditAction::IntegrityViolation,
        AuditAction::IntegrityChecked,
        AuditAction::Checkpoint,
        AuditAction::Request,
        AuditAction::Sweep,
        AuditAction::LegalHold,
        AuditAction::MarketingAudience,
        AuditAction::UnsubscribeLink,
        AuditAction::NixImport,
        AuditAction::Suppression,
        AuditAction::ConsentRecorded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Read => "read",
            AuditAction::Lookup => "lookup",
            AuditAction::Update => "update",
            AuditAction::ActivityAdded => "activity_added",
            AuditAction::Erase => "erase",
            AuditAction::Archive => "archive",
            AuditAction::ArchiveRead => "archive_read",
            AuditAction::Shred => "shred",
            AuditAction::Export => "export",
            AuditAction::Disclosure => "disclosure",
            AuditAction::Refused => "refused",
            AuditAction::KeyRotation => "key_rotation",
            AuditAction::Restore => "restore",
            AuditAction::Import => "import",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::Restricted => "restricted",
            AuditAction::RestrictionLifted => "restriction_lifted",
            AuditAction::Objection => "objection",
            AuditAction::ObjectionWithdrawn => "objection_withdrawn",
            AuditAction::PolicyActivated => "policy_activated",
            AuditAction::UserCreated => "user_created",
            AuditAction::UserDisabled => "user_disabled",
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::UserLocked => "user_locked",
            AuditAction::Logout => "logout",
            AuditAction::IntegrityViolation => "integrity_violation",
            AuditAction::IntegrityChecked => "integrity_checked",
            AuditAction::Checkpoint => "audit_checkpoint",
            AuditAction::Request => "subject_request",
            AuditAction::Sweep => "retention_sweep",
            AuditAction::LegalHold => "legal_hold",
            AuditAction::MarketingAudience => "marketing_audience",
            AuditAction::UnsubscribeLink => "unsubscribe_link",
            AuditAction::NixImport => "nix_import",
            AuditAction::Suppression => "suppression",
            AuditAction::ConsentRecorded => "consent_recorded",
        }
    }

    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entry before it takes its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDraft {
    pub at: OffsetDateTime,
    /// Who acted: a staff account or token id, or `system:<job>`. Never a data subject's data.
    pub actor: String,
    pub role: Option<String>,
    pub purpose: Option<String>,
    pub subject: Option<Uuid>,
    pub categories: Vec<String>,
    pub action: AuditAction,
    pub policy_version: String,
    /// Extra facts without personal data: an archive reference, a recipient id, a reason code.
    pub detail: Option<String>,
}

/// An entry in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    #[serde(flatten)]
    pub draft: AuditDraft,
    pub prev_hash: ChainHash,
    pub hash: ChainHash,
}

impl AuditDraft {
    /// Places the draft after `prev` (the previous entry's seq and hash, or `None` for the first).
    pub fn chain(self, prev: Option<(u64, ChainHash)>, key: &ChainKey) -> AuditEntry {
        let (prev_seq, prev_hash) = prev.unwrap_or((0, ChainHash::GENESIS));
        let seq = prev_seq + 1;
        let hash = entry_hash(seq, &self, prev_hash, key);
        AuditEntry {
            seq,
            draft: self,
            prev_hash,
            hash,
        }
    }
}

/// An entry's hashed fields, borrowed from wherever they are: a draft being chained, or a row
/// being read back (so that verifying the log need not copy each row into owned strings).
#[derive(Debug, Clone, Copy)]
pub struct EntryFields<'a, S: AsRef<str>> {
    pub seq: u64,
    /// `at` as Unix nanoseconds.
    pub at_nanos: i128,
    pub actor: &'a str,
    pub role: Option<&'a str>,
    pub purpose: Option<&'a str>,
    pub subject: Option<&'a [u8; 16]>,
    pub categories: &'a [S],
    /// The action's name ([`AuditAction::as_str`]).
    pub action: &'a str,
    pub policy_version: &'a str,
    pub detail: Option<&'a str>,
}

impl<'a> EntryFields<'a, String> {
    pub fn of(seq: u64, draft: &'a AuditDraft) -> EntryFields<'a, String> {
        EntryFields {
            seq,
            at_nanos: draft.at.unix_timestamp_nanos(),
            actor: &draft.actor,
            role: draft.role.as_deref(),
            purpose: draft.purpose.as_deref(),
            subject: draft.subject.as_ref().map(Uuid::as_bytes),
            categories: &draft.categories,
            action: draft.action.as_str(),
            policy_version: &draft.policy_version,
            detail: draft.detail.as_deref(),
        }
    }
}

/// The hash an entry must have. Every field is length-prefixed so that no two different
/// entries encode to the same bytes.
pub fn entry_hash(seq: u64, draft: &AuditDraft, prev_hash: ChainHash, key: &ChainKey) -> ChainHash {
    fields_hash(&EntryFields::of(seq, draft), prev_hash, key)
}

/// The hash of an entry with these fields after `prev_hash`: keyed BLAKE3 under `key` for the
/// entries it keys (with its own label, so the two kinds never share an encoding), plain
/// BLAKE3 for the ones before.
pub fn fields_hash<S: AsRef<str>>(
    fields: &EntryFields<'_, S>,
    prev_hash: ChainHash,
    key: &ChainKey,
) -> ChainHash {
    // The fields are laid out in one buffer and hashed in one call, which is what BLAKE3 is
    // fastest at; the bytes are those of a field-by-field update, so the hash is the same.
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        if key.keys(fields.seq) {
            buffer.extend_from_slice(KEYED_LABEL);
            encode_entry(&mut buffer, fields, prev_hash);
            ChainHash(*blake3::keyed_hash(&key.secret, &buffer).as_bytes())
        } else {
            buffer.extend_from_slice(UNKEYED_LABEL);
            encode_entry(&mut buffer, fields, prev_hash);
            ChainHash(*blake3::hash(&buffer).as_bytes())
        }
    })
}

const UNKEYED_LABEL: &[u8] = b"integritet-audit-v1";
const KEYED_LABEL: &[u8] = b"integritet-audit-v2-keyed";

fn encode_entry<S: AsRef<str>>(
    out: &mut Vec<u8>,
    fields: &EntryFields<'_, S>,
    prev_hash: ChainHash,
) {
    out.extend_from_slice(&prev_hash.0);
    out.extend_from_slice(&fields.seq.to_be_bytes());
    out.extend_from_slice(&fields.at_nanos.to_be_bytes());
    put_str(out, fields.actor);
    put_opt(out, fields.role);
    put_opt(out, fields.purpose);
    match fields.subject {
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id);
        }
        None => out.push(0),
    }
    out.extend_from_slice(&(fields.categories.len() as u64).to_be_bytes());
    for category in fields.categories {
        put_str(out, category.as_ref());
    }
    put_str(out, fields.action);
    put_str(out, fields.policy_version);
    put_opt(out, fields.detail);
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u64).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => {
            out.push(1);
            put_str(out, text);
        }
        None => out.push(0),
    }
}

/// What verifying needs of a stored entry: its place, the hashes it records, and the hash its
/// stored content actually gives. A store computes `content` as it reads the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainLink {
    pub seq: u64,
    pub prev_hash: ChainHash,
    pub hash: ChainHash,
    /// The hash of the stored fields after the stored `prev_hash`.
    pub content: ChainHash,
}

impl ChainLink {
    /// The link of a stored entry with these fields.
    pub fn of_fields<S: AsRef<str>>(
        fields: &EntryFields<'_, S>,
        prev_hash: ChainHash,
        hash: ChainHash,
        key: &ChainKey,
    ) -> ChainLink {
        ChainLink {
            seq: fields.seq,
            prev_hash,
            hash,
            content: fields_hash(fields, prev_hash, key),
        }
    }
}

impl AuditEntry {
    /// The entry as a link to verify.
    pub fn link(&self, key: &ChainKey) -> ChainLink {
        ChainLink::of_fields(
            &EntryFields::of(self.seq, &self.draft),
            self.prev_hash,
            self.hash,
            key,
        )
    }
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error(
        "entry {seq}: expected sequence number {expected}; an entry was deleted, inserted or moved before it"
    )]
    Gap { seq: u64, expected: u64 },
    #[error(
        "entry {seq}: it does not follow the entry before it (prev_hash differs); entries were deleted, inserted or reordered here"
    )]
    Link { seq: u64 },
    #[error("entry {seq}: its content does not match its hash; the entry was edited")]
    Content { seq: u64 },
    #[error(
        "the chain ends at entry {last_seq} but the head records entry {head_seq}; entries were removed from the end"
    )]
    Truncated { last_seq: u64, head_seq: u64 },
    #[error(
        "the chain's last hash differs from the recorded head; the end of the log was rewritten"
    )]
    HeadMismatch { seq: u64 },
    #[error(
        "entry {seq}: a signed checkpoint of the log is not signed by this installation's key (forged or damaged)"
    )]
    BadCheckpoint { seq: u64 },
    #[error(
        "entry {seq}: its hash differs from the one a signed checkpoint recorded; the log was rewritten up to here and its hashes recomputed"
    )]
    CheckpointMismatch { seq: u64 },
}

impl ChainBreak {
    /// The first entry that is not as it should be.
    pub fn seq(&self) -> u64 {
        match self {
            ChainBreak::Gap { seq, .. }
            | ChainBreak::Link { seq }
            | ChainBreak::Content { seq }
            | ChainBreak::HeadMismatch { seq }
            | ChainBreak::BadCheckpoint { seq }
            | ChainBreak::CheckpointMismatch { seq } => *seq,
            ChainBreak::Truncated { last_seq, .. } => last_seq + 1,
        }
    }
}

/// Checks entries incrementally, so that a log of any length is verified in bounded memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last: Option<(u64, ChainHash)>,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    pub fn new() -> ChainVerifier {
        ChainVerifier {
            last: None,
            checked: 0,
        }
    }

    /// Checks the next entry in sequence order.
    pub fn push(&mut self, entry: &AuditEntry, key: &ChainKey) -> Result<(), ChainBreak> {
        self.push_link(&entry.link(key))
    }

    /// Checks the next stored entry, given as its link, in sequence order.
    pub fn push_link(&mut self, link: &ChainLink) -> Result<(), ChainBreak> {
        let (prev_seq, prev_hash) = self.last.unwrap_or((0, ChainHash::GENESIS));
        if link.seq != prev_seq + 1 {
            return Err(ChainBreak::Gap {
                seq: link.seq,
                expected: prev_seq + 1,
            });
        }
        if link.prev_hash != prev_hash {
            return Err(ChainBreak::Link { seq: link.seq });
        }
        if link.content != link.hash {
            return Err(ChainBreak::Content { seq: link.seq });
        }
        self.last = Some((link.seq, link.hash));
        self.checked += 1;
        Ok(())
    }

    /// Compares the end of the chain with the head the store recorded.
    pub fn finish(&self, head: Option<(u64, ChainHash)>) -> Result<ChainSummary, ChainBreak> {
        let last_seq = self.last.map(|(seq, _)| seq).unwrap_or(0);
        if let Some((head_seq, head_hash)) = head {
            if head_seq > last_seq {
                return Err(ChainBreak::Truncated { last_seq, head_seq });
            }
            if head_seq < last_seq {
                return Err(ChainBreak::Gap {
                    seq: head_seq + 1,
                    expected: head_seq + 1,
                });
            }
            if self.last.map(|(_, hash)| hash) != Some(head_hash) && head_seq > 0 {
                return Err(ChainBreak::HeadMismatch { seq: head_seq });
            }
        }
        Ok(ChainSummary {
            entries: self.checked,
            head: self.last.map(|(_, hash)| hash),
        })
    }
}

/// A signed statement that the log's head was entry `seq` with hash `head`, made at the time of
/// the audit entry that carries it. The signature (Ed25519, by the installation's audit signing
/// key) is over [`Checkpoint::message`], so someone who recomputes the chain after editing an
/// entry before `seq` cannot make the checkpoint agree again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: u64,
    pub head: ChainHash,
    pub signature: [u8; 64],
}

impl Checkpoint {
    /// The signed bytes: a label, the head's seq and hash, and the signing time.
    pub fn message(seq: u64, head: ChainHash, at: OffsetDateTime) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(b"integritet/audit-checkpoint/v1\0");
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&head.0);
        out.extend_from_slice(&at.unix_timestamp_nanos().to_be_bytes());
        out
    }

    /// The entry's detail: `seq=…; head=<hex>; signature=<hex>`.
    pub fn detail(&self) -> String {
        let signature: String = self.signature.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "seq={}; head={}; signature={signature}",
            self.seq,
            self.head.to_hex()
        )
    }

    /// A checkpoint from an entry's detail, if it has that shape.
    pub fn parse(detail: &str) -> Option<Checkpoint> {
        let mut seq = None;
        let mut head = None;
        let mut signature = None;
        for part in detail.split("; ") {
            match part.split_once('=')? {
                ("seq", v) => seq = v.parse().ok(),
                ("head", v) => head = hex_bytes::<32>(v).map(ChainHash),
                ("signature", v) => signature = hex_bytes::<64>(v),
                _ => return None,
            }
        }
        Some(Checkpoint {
            seq: seq?,
            head: head?,
            signature: signature?,
        })
    }
}

fn hex_bytes<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A verified chain: how many entries, and the hash of the last (publish it to anchor the log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainSummary {
    pub entries: u64,
    pub head: Option<ChainHash>,
}

/// Checks a whole chain held in memory.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    head: Option<(u64, ChainHash)>,
    key: &ChainKey,
) -> Result<ChainSummary, ChainBreak> {
    let mut verifier = ChainVerifier::new();
    for entry in entries {
        verifier.push(entry, key)?;
    }
    verifier.finish(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip_through_their_detail() {
        let checkpoint = Checkpoint {
            seq: 42,
            head: ChainHash([7; 32]),
            signature: [9; 64],
        };
        assert_eq!(Checkpoint::parse(&checkpoint.detail()), Some(checkpoint));
        for bad in ["", "seq=1", "seq=x; head=00; signature=00", "other=1"] {
            assert_eq!(Checkpoint::parse(bad), None, "{bad}");
        }
        let at = time::macros::datetime!(2026-03-01 10:00 UTC);
        assert_ne!(
            Checkpoint::message(1, ChainHash([7; 32]), at),
            Checkpoint::message(2, ChainHash([7; 32]), at)
        );
    }
    use time::macros::datetime;

    fn draft(n: u8) -> AuditDraft {
        AuditDraft {
            at: datetime!(2026-01-01 12:00 UTC),
            actor: format!("token:{n}"),
            role: Some("support".into()),
            purpose: Some("purchase".into()),
            subject: Some(Uuid::from_bytes([n; 16])),
            categories: vec!["email".into(), "name".into()],
            action: AuditAction::Read,
            policy_version: "pv1-test".into(),
            detail: None,
        }
    }

    fn chain(n: u8) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash));
            out.push(draft(i).chain(prev, &ChainKey::UNKEYED));
        }
        out
    }

    fn head(entries: &[AuditEntry]) -> Option<(u64, ChainHash)> {
        entries.last().map(|e| (e.seq, e.hash))
    }

    /// The hash as first written, one field per update: stored chains must keep verifying.
    fn streamed_hash(seq: u64, draft: &AuditDraft, prev_hash: ChainHash) -> ChainHash {
        fn text(h: &mut blake3::Hasher, t: &str) {
            h.update(&(t.len() as u64).to_be_bytes());
            h.update(t.as_bytes());
        }
        fn opt(h: &mut blake3::Hasher, t: Option<&str>) {
            match t {
                Some(t) => {
                    h.update(&[1]);
                    text(h, t);
                }
                None => {
                    h.update(&[0]);
                }
            }
        }
        let mut h = blake3::Hasher::new();
        h.update(b"integritet-audit-v1");
        h.update(&prev_hash.0);
        h.update(&seq.to_be_bytes());
        h.update(&draft.at.unix_timestamp_nanos().to_be_bytes());
        text(&mut h, &draft.actor);
        opt(&mut h, draft.role.as_deref());
        opt(&mut h, draft.purpose.as_deref());
        match draft.subject {
            Some(id) => {
                h.update(&[1]);
                h.update(id.as_bytes());
            }
            None => {
                h.update(&[0]);
            }
        }
        h.update(&(draft.categories.len() as u64).to_be_bytes());
        for c in &draft.categories {
            text(&mut h, c);
        }
        text(&mut h, draft.action.as_str());
        text(&mut h, &draft.policy_version);
        opt(&mut h, draft.detail.as_deref());
        ChainHash(*h.finalize().as_bytes())
    }

    #[test]
    fn the_hash_is_the_one_of_the_fields_in_order() {
        let mut other = draft(3);
        other.role = None;
        other.subject = None;
        other.categories = vec![];
        other.detail = Some("reason=x".into());
        for (seq, d) in [(1, draft(1)), (7, other)] {
            let prev = ChainHash([seq as u8; 32]);
            assert_eq!(
                entry_hash(seq, &d, prev, &ChainKey::UNKEYED),
                streamed_hash(seq, &d, prev)
            );
        }
    }

    #[test]
    fn whole_chain_verifies() {
        let entries = chain(5);
        let summary = verify_chain(&entries, head(&entries), &ChainKey::UNKEYED).unwrap();
        assert_eq!(summary.entries, 5);
        assert_eq!(
            verify_chain(&[], None, &ChainKey::UNKEYED).unwrap().entries,
            0
        );
    }

    #[test]
    fn edit_is_caught_at_the_edited_entry() {
        let mut entries = chain(5);
        let h = head(&entries);
        entries[2].draft.purpose = Some("marketing".into());
        assert_eq!(
            verify_chain(&entries, h, &ChainKey::UNKEYED).unwrap_err(),
            ChainBreak::Content { seq: 3 }
        );
    }

    #[test]
    fn delete_insert_reorder_and_truncate_are_caught() {
        let entries = chain(5);
        let h = head(&entries);

        let mut deleted = entries.clone();
        deleted.remove(1);
        assert_eq!(
            verify_chain(&deleted, h, &ChainKey::UNKEYED)
                .unwrap_err()
                .seq(),
            3
        );

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert_eq!(
            verify_chain(&reordered, h, &ChainKey::UNKEYED)
                .unwrap_err()
                .seq(),
            3
        );

        let mut inserted = entries.clone();
        let forged = draft(9).chain(Some((2, entries[1].hash)), &ChainKey::UNKEYED);
        inserted.insert(2, forged);
        assert!(verify_chain(&inserted, h, &ChainKey::UNKEYED).is_err());

        let truncated = &entries[..3];
        assert_eq!(
            verify_chain(truncated, h, &ChainKey::UNKEYED).unwrap_err(),
            ChainBreak::Truncated {
                last_seq: 3,
                head_seq: 5
            }
        );
    }

    #[test]
    fn distinct_fields_never_collide() {
        let mut a = draft(1);
        let mut b = draft(1);
        a.categories = vec!["ab".into(), "c".into()];
        b.categories = vec!["a".into(), "bc".into()];
        assert_ne!(
            entry_hash(1, &a, ChainHash::GENESIS, &ChainKey::UNKEYED),
            entry_hash(1, &b, ChainHash::GENESIS, &ChainKey::UNKEYED)
        );
    }

    fn keyed_chain(n: u8, key: &ChainKey) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash));
            out.push(draft(i).chain(prev, key));
        }
        out
    }

    #[test]
    fn a_keyed_chain_verifies_only_under_its_key() {
        let key = ChainKey::new([5; 32], 3);
        let entries = keyed_chain(5, &key);
        let h = head(&entries);
        assert_eq!(verify_chain(&entries, h, &key).unwrap().entries, 5);
        // The entries before the key's start are hashed as before it existed.
        assert_eq!(entries[..2], chain(2)[..]);
        for other in [ChainKey::UNKEYED, ChainKey::new([6; 32], 3)] {
            assert_eq!(
                verify_chain(&entries, h, &other).unwrap_err(),
                ChainBreak::Content { seq: 3 }
            );
        }
        assert_eq!(key.keyed_from(), Some(3));
        assert_eq!(ChainKey::UNKEYED.keyed_from(), None);
        assert!(!format!("{key:?}").contains("5, 5"));
    }

    #[test]
    fn without_the_key_an_edit_cannot_be_hidden_by_recomputing() {
        let key = ChainKey::new([5; 32], 3);
        let entries = keyed_chain(5, &key);
        let h = head(&entries);
        // Someone without the key edits the last entry and recomputes the rest as they can.
        let mut forged = entries.clone();
        let mut edited = forged[4].draft.clone();
        edited.purpose = Some("direct_marketing".into());
        forged[4] = edited.chain(Some((4, forged[3].hash)), &ChainKey::UNKEYED);
        let forged_head = head(&forged);
        assert_eq!(
            verify_chain(&forged, forged_head, &key).unwrap_err(),
            ChainBreak::Content { seq: 5 }
        );
        // Rewriting the unkeyed start breaks the first keyed entry's link.
        let mut prefix = entries.clone();
        let mut edited = prefix[1].draft.clone();
        edited.actor = "token:other".into();
        prefix[1] = edited.chain(Some((1, prefix[0].hash)), &ChainKey::UNKEYED);
        assert_eq!(
            verify_chain(&prefix, h, &key).unwrap_err(),
            ChainBreak::Link { seq: 3 }
        );
    }
}
