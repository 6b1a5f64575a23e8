//! A [`Store`] decorator that times every call by operation and counts the audit entries the
//! store acknowledged, for `/metrics`.
//!
//! Wrap the store before the vault is built, with the same [`Metrics`] the server is given:
//!
//! ```text
//! let metrics = Metrics::new();
//! let store = MeteredStore::wrap(store, metrics.clone());
//! let vault = Vault::new(store, …);
//! let state = AppState::new(vault, authenticator).with_metrics(metrics);
//! ```
//!
//! A method added to [`Store`] gets one delegation here: reads go through [`MeteredStore::read`],
//! writes that carry audit drafts through [`MeteredStore::write`] with the number of drafts and
//! a rule for when they were written (see [`Written`]).

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use integritet_app::store::{
    ActivityRecord, ArchiveRecord, ErasureRecord, IndexEntry, LockoutRule, LoginFailure,
    NewSubject, ObjectionRecord, PolicyVersionRecord, SessionRecord, Store, StoreCounts,
    StoreError, SubjectRecord, TokenRecord, UserRecord, ValueRecord, WrappedKeyRow,
};
use integritet_domain::audit::{AuditDraft, AuditEntry, ChainHash};
use integritet_domain::subject::{ArchiveRef, SubjectId, ValueId};
use time::{Date, OffsetDateTime};

use crate::metrics::Metrics;

/// A store whose calls are timed.
#[derive(Debug)]
pub struct MeteredStore {
    inner: Arc<dyn Store>,
    metrics: Metrics,
}

/// When a write's audit drafts count as written, judged from its result.
trait Written {
    fn written(&self) -> bool;
}

impl Written for () {
    fn written(&self) -> bool {
        true
    }
}

/// Methods that answer `false` when there was nothing to change write nothing then.
impl Written for bool {
    fn written(&self) -> bool {
        *self
    }
}

impl Written for u64 {
    fn written(&self) -> bool {
        true
    }
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn Store>, metrics: Metrics) -> MeteredStore {
        MeteredStore { inner, metrics }
    }

    /// `inner`, timed into `metrics`, as a store the vault takes.
    pub fn wrap(inner: Arc<dyn Store>, metrics: Metrics) -> Arc<dyn Store> {
        Arc::new(MeteredStore::new(inner, metrics))
    }

    /// Times a call that writes no audit entries.
    async fn read<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let result = call.await;
        self.metrics
            .observe_store(operation, result.is_ok(), started.elapsed().as_secs_f64());
        result
    }

    /// Times a call that writes `drafts` audit entries when it succeeds and its result says
    /// something was written.
    async fn write<T: Written>(
        &self,
        operation: &'static str,
        drafts: usize,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let result = self.read(operation, call).await;
        if result.as_ref().is_ok_and(Written::written) {
            self.metrics.audit_written(drafts);
        }
        result
    }
}

#[async_trait]
impl Store for MeteredStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn insert_subjects(
        &self,
        subjects: Vec<NewSubject>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        let n = audit.len();
        let call = self.inner.insert_subjects(subjects, audit);
        self.write("insert_subjects", n, call).await
    }

    async fn subject(&self, id: SubjectId) -> Result<Option<SubjectRecord>, StoreError> {
        self.read("subject", self.inner.subject(id)).await
    }

    async fn lookup(&self, kind: &str, token: &[u8; 32]) -> Result<Vec<SubjectId>, StoreError> {
        self.read("lookup", self.inner.lookup(kind, token)).await
    }

    async fn replace_value(
        &self,
        subject: SubjectId,
        old: ValueId,
        new: ValueRecord,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        let call = self.inner.replace_value(subject, old, new, index, audit);
        self.write("replace_value", n, call).await
    }

    async fn add_values(
        &self,
        subject: SubjectId,
        values: Vec<ValueRecord>,
        index: Vec<IndexEntry>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        let call = self.inner.add_values(subject, values, index, audit);
        self.write("add_values", n, call).await
    }

    async fn add_activities(
        &self,
        subject: SubjectId,
        activities: Vec<ActivityRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        let call = self.inner.add_activities(subject, activities, audit);
        self.write("add_activities", n, call).await
    }

    async fn append_audit(&self, audit: Vec<AuditDraft>) -> Result<(), StoreError> {
        let n = audit.len();
        self.write("append_audit", n, self.inner.append_audit(audit))
            .await
    }

    async fn erase_subject(
        &self,
        erasure: ErasureRecord,
        archive: Vec<ArchiveRecord>,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        // The erasure record and its audit entries are written even when the subject was gone
        // already (so a replay is idempotent): count them whatever the answer.
        let call = self.inner.erase_subject(erasure, archive, audit);
        let result = self.read("erase_subject", call).await;
        if result.is_ok() {
            self.metrics.audit_written(n);
        }
        result
    }

    async fn is_erased(&self, subject: SubjectId) -> Result<bool, StoreError> {
        self.read("is_erased", self.inner.is_erased(subject)).await
    }

    async fn erasures(&self) -> Result<Vec<ErasureRecord>, StoreError> {
        self.read("erasures", self.inner.erasures()).await
    }

    async fn archive_entry(
        &self,
        reference: &ArchiveRef,
    ) -> Result<Option<ArchiveRecord>, StoreError> {
        self.read("archive_entry", self.inner.archive_entry(reference))
            .await
    }

    async fn archive_due(&self, today: Date) -> Result<Vec<ArchiveRef>, StoreError> {
        self.read("archive_due", self.inner.archive_due(today))
            .await
    }

    async fn shred_archive(
        &self,
        references: Vec<ArchiveRef>,
        audit: Vec<AuditDraft>,
    ) -> Result<u64, StoreError> {
        let n = audit.len();
        let call = self.inner.shred_archive(references, audit);
        self.write("shred_archive", n, call).await
    }

    async fn wrapped_keys(
        &self,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<WrappedKeyRow>, StoreError> {
        self.read("wrapped_keys", self.inner.wrapped_keys(after, limit))
            .await
    }

    async fn rewrap_keys(
        &self,
        rows: Vec<WrappedKeyRow>,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        let n = audit.len();
        self.write("rewrap_keys", n, self.inner.rewrap_keys(rows, audit))
            .await
    }

    async fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.read("audit_entries", self.inner.audit_entries(after, limit))
            .await
    }

    async fn audit_head(&self) -> Result<Option<(u64, ChainHash)>, StoreError> {
        self.read("audit_head", self.inner.audit_head()).await
    }

    async fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.read("counts", self.inner.counts()).await
    }

    async fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        self.read("backup_to", self.inner.backup_to(dest)).await
    }

    async fn insert_token(
        &self,
        token: TokenRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        let n = audit.len();
        self.write("insert_token", n, self.inner.insert_token(token, audit))
            .await
    }

    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.read("token_by_hash", self.inner.token_by_hash(hash))
            .await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.read("list_tokens", self.inner.list_tokens()).await
    }

    async fn revoke_token(
        &self,
        id: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        self.write("revoke_token", n, self.inner.revoke_token(id, at, audit))
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read("ping", self.inner.ping()).await
    }

    async fn set_restricted(
        &self,
        subject: SubjectId,
        restricted: bool,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        let call = self.inner.set_restricted(subject, restricted, audit);
        self.write("set_restricted", n, call).await
    }

    async fn add_objection(
        &self,
        subject: SubjectId,
        objection: ObjectionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        let call = self.inner.add_objection(subject, objection, audit);
        self.write("add_objection", n, call).await
    }

    async fn withdraw_objection(
        &self,
        subject: SubjectId,
        purpose: &str,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        let call = self.inner.withdraw_objection(subject, purpose, audit);
        self.write("withdraw_objection", n, call).await
    }

    async fn record_policy_version(
        &self,
        record: PolicyVersionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        let call = self.inner.record_policy_version(record, audit);
        self.write("record_policy_version", n, call).await
    }

    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError> {
        self.read("policy_versions", self.inner.policy_versions())
            .await
    }

    async fn insert_user(
        &self,
        user: UserRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<(), StoreError> {
        let n = audit.len();
        self.write("insert_user", n, self.inner.insert_user(user, audit))
            .await
    }

    async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.read("user", self.inner.user(name)).await
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.read("list_users", self.inner.list_users()).await
    }

    async fn disable_user(
        &self,
        name: &str,
        at: OffsetDateTime,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        self.write("disable_user", n, self.inner.disable_user(name, at, audit))
            .await
    }

    async fn record_login_failure(
        &self,
        name: &str,
        at: OffsetDateTime,
        rule: LockoutRule,
        audit: Vec<AuditDraft>,
        lock_audit: Vec<AuditDraft>,
    ) -> Result<Option<LoginFailure>, StoreError> {
        let (n, locking) = (audit.len(), lock_audit.len());
        let call = self
            .inner
            .record_login_failure(name, at, rule, audit, lock_audit);
        let result = self.read("record_login_failure", call).await;
        if let Ok(Some(failure)) = &result {
            self.metrics
                .audit_written(n + if failure.locked_now { locking } else { 0 });
        }
        result
    }

    async fn start_session(
        &self,
        session: SessionRecord,
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        self.write("start_session", n, self.inner.start_session(session, audit))
            .await
    }

    async fn session(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        self.read("session", self.inner.session(hash)).await
    }

    async fn touch_session(&self, hash: &[u8; 32], at: OffsetDateTime) -> Result<bool, StoreError> {
        self.read("touch_session", self.inner.touch_session(hash, at))
            .await
    }

    async fn end_session(
        &self,
        hash: &[u8; 32],
        audit: Vec<AuditDraft>,
    ) -> Result<bool, StoreError> {
        let n = audit.len();
        self.write("end_session", n, self.inner.end_session(hash, audit))
            .await
    }

    async fn purge_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let call = self.inner.purge_sessions(idle_before, created_before);
        self.read("purge_sessions", call).await
    }
}
