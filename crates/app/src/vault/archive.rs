//! The archive: entries opened only by reference and a stated reason, and shredded on their
//! day by destroying the day's key.

use std::collections::BTreeSet;

use integritet_crypto::{ArchiveKeyFile, ArchiveRatchet, open_archive, unwrap_archive_key};
use integritet_domain::audit::AuditAction;
use integritet_domain::subject::ArchiveRef;
use time::Date;

use super::{Actor, ArchiveBundle, ArchiveView, Vault, VaultError};
use crate::store::{StoreError, Writes};

impl Vault {
    /// Opens an archive entry by its reference, for a stated reason; the read is audited.
    pub async fn read_archive(
        &self,
        actor: &Actor,
        reference: &ArchiveRef,
        reason: &str,
    ) -> Result<ArchiveView, VaultError> {
        let reason = check_reason(reason)?;
        let entry = self
            .store
            .archive_entry(reference)
            .await?
            .ok_or(VaultError::NotFound {
                what: "archive entry",
            })?;
        let held: BTreeSet<&str> = entry.purposes.iter().map(String::as_str).collect();
        self.authorise_any(actor, &held, None, "read this archive entry")
            .await?;
        let day_key = {
            let ratchet = self.archive.lock().unwrap_or_else(|p| p.into_inner());
            ratchet.day_key(entry.shred_after)?
        };
        let entry_key = unwrap_archive_key(&day_key, reference.as_str(), &entry.wrapped_key)?;
        let plain = open_archive(&entry_key, reference.as_str(), &entry.ciphertext)?;
        let mut bundle: ArchiveBundle = serde_json::from_slice(&plain).map_err(|e| {
            VaultError::Store(StoreError::Corrupt(format!(
                "archive entry {reference} does not decode: {e}"
            )))
        })?;
        // Only what the reader's purposes keep (an entry holds one purpose's values; one sealed
        // before entries were kept apart may hold several).
        let allowed = self.purposes_held(actor, entry.purposes.iter().map(String::as_str));
        let rules = self.rules();
        bundle.values.retain(|value| {
            value.purposes.iter().any(|p| {
                allowed.contains(p.as_str())
                    && rules
                        .purposes
                        .get(p)
                        .is_some_and(|purpose| purpose.categories.contains(&value.category))
            })
        });
        let categories: Vec<String> = bundle
            .values
            .iter()
            .map(|v| v.category.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let audit = self.draft(
            actor,
            AuditAction::ArchiveRead,
            Some(bundle.subject),
            None,
            categories,
            Some(format!("ref={reference}; reason={reason}")),
        );
        self.store.append_audit(vec![audit]).await?;
        Ok(ArchiveView {
            reference: entry.reference,
            subject: bundle.subject,
            shred_after: entry.shred_after,
            purposes: allowed.into_iter().map(str::to_owned).collect(),
            values: bundle.values,
        })
    }

    /// Shreds every archive entry past its day and moves the archive key ratchet to today, so
    /// that the keys of past days exist nowhere, not even for copies in backups. Returns the
    /// number of entries removed. The caller saves the ratchet ([`Vault::archive_ratchet`]).
    pub async fn shred_due_archive(&self, actor: &Actor) -> Result<u64, VaultError> {
        let today = self.clock.today();
        let due = self.store.archive_due(today).await?;
        let audit = due
            .iter()
            .map(|reference| {
                self.draft(
                    actor,
                    AuditAction::Shred,
                    None,
                    None,
                    vec![],
                    Some(format!("ref={reference}")),
                )
            })
            .collect();
        let shredded = if due.is_empty() {
            0
        } else {
            self.store.shred_archive(due, audit).await?
        };
        self.archive
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .advance_to(today);
        Ok(shredded)
    }

    /// The daily archive job: shreds every entry past its day, then moves the ratchet and its
    /// `file` to today together, so that the past days' keys exist nowhere from then on (a
    /// running server does this at start and after every midnight; `archive shred` on demand).
    /// Returns the entries shredded and the ratchet's day.
    pub async fn shred_and_advance_archive(
        &self,
        actor: &Actor,
        file: &ArchiveKeyFile,
    ) -> Result<(u64, Date), VaultError> {
        let shredded = self.shred_due_archive(actor).await?;
        let today = self.clock.today();
        // Yesterday's entries, written again together: no longer tied to their erasures.
        if let Some(yesterday) = today.previous_day() {
            self.store.reshuffle_archive(yesterday).await?;
        }
        let mut ratchet = self.archive.lock().unwrap_or_else(|p| p.into_inner());
        file.advance(&mut ratchet, today)?;
        Ok((shredded, ratchet.day()))
    }

    /// Runs `f` with the archive ratchet, e.g. to save it after [`Vault::shred_due_archive`].
    pub fn with_archive_ratchet<T>(&self, f: impl FnOnce(&ArchiveRatchet) -> T) -> T {
        let ratchet = self.archive.lock().unwrap_or_else(|p| p.into_inner());
        f(&ratchet)
    }
}

/// A reason for opening the archive: required, short, and free of personal data (it is
/// written to the audit log).
pub(super) fn check_reason(reason: &str) -> Result<&str, VaultError> {
    let reason = reason.trim();
    let invalid = |message: &str| VaultError::invalid("reason", "invalid_reason", message);
    if reason.chars().count() < 10 {
        return Err(invalid(
            "state why the archive is opened, in at least 10 characters (e.g. \"Skatteverket audit 2027-03\")",
        ));
    }
    if reason.chars().count() > 500 {
        return Err(invalid("the reason may be at most 500 characters"));
    }
    if reason.chars().any(char::is_control) {
        return Err(invalid(
            "the reason may not contain control characters (line breaks, tabs, NUL): write it on one line",
        ));
    }
    if reason.contains('@')
        || reason
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .any(looks_like_identity_number)
    {
        return Err(invalid(
            "the reason is written to the audit log and must not contain personal data such as e-mail addresses or identity numbers",
        ));
    }
    Ok(reason)
}

fn looks_like_identity_number(word: &str) -> bool {
    let digits = word.chars().filter(char::is_ascii_digit).count();
    digits >= 10
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
}
