//! What a baseline does, so one harness in [`crate::run`] times both the sqlx baselines
//! ([`crate::raw`]) and the databases' own limits ([`crate::limit`]).

use std::future::Future;
use std::path::Path;

use crate::data::RawValue;
use crate::raw::Raw;
use integritet_bench::limit::Limit;

/// Audit rows per page when a baseline reads the log page by page.
const AUDIT_PAGE: i64 = 10_000;

pub trait Baseline: Send + Sync + 'static {
    /// Inserts `rows` in one transaction, from task `k`.
    fn insert_values(
        &self,
        k: usize,
        rows: &[RawValue],
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Reads one subject's rows by primary key, from task `k`; returns the bytes read.
    fn read_subject(
        &self,
        k: usize,
        key: &[u8; 16],
    ) -> impl Future<Output = anyhow::Result<usize>> + Send;
    /// Inserts lookup keys in one transaction.
    fn insert_tokens(
        &self,
        rows: &[([u8; 32], [u8; 16])],
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Writes one row in its own transaction.
    fn commit_one(&self, n: i64, body: &[u8]) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Finds the subjects under one key; returns how many.
    fn lookup(&self, token: &[u8; 32]) -> impl Future<Output = anyhow::Result<usize>> + Send;
    /// Reads the store's whole audit log; returns the entries read.
    fn scan_audit(
        &self,
        store_file: Option<&Path>,
    ) -> impl Future<Output = anyhow::Result<u64>> + Send;
}

impl Baseline for Raw {
    fn insert_values(
        &self,
        k: usize,
        rows: &[RawValue],
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        Raw::insert_values(self, k, rows)
    }
    fn read_subject(
        &self,
        k: usize,
        key: &[u8; 16],
    ) -> impl Future<Output = anyhow::Result<usize>> + Send {
        Raw::read_subject(self, k, key)
    }
    fn insert_tokens(
        &self,
        rows: &[([u8; 32], [u8; 16])],
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        Raw::insert_tokens(self, rows)
    }
    fn commit_one(&self, n: i64, body: &[u8]) -> impl Future<Output = anyhow::Result<()>> + Send {
        Raw::commit_one(self, n, body)
    }
    fn lookup(&self, token: &[u8; 32]) -> impl Future<Output = anyhow::Result<usize>> + Send {
        Raw::lookup(self, token)
    }
    fn scan_audit(
        &self,
        store_file: Option<&Path>,
    ) -> impl Future<Output = anyhow::Result<u64>> + Send {
        Raw::scan_audit(self, store_file, AUDIT_PAGE)
    }
}

impl Baseline for Limit {
    fn insert_values(
        &self,
        k: usize,
        rows: &[RawValue],
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        Limit::insert_values(self, k, rows)
    }
    fn read_subject(
        &self,
        k: usize,
        key: &[u8; 16],
    ) -> impl Future<Output = anyhow::Result<usize>> + Send {
        Limit::read_subject(self, k, key)
    }
    fn insert_tokens(
        &self,
        rows: &[([u8; 32], [u8; 16])],
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        Limit::insert_tokens(self, rows)
    }
    fn commit_one(&self, n: i64, body: &[u8]) -> impl Future<Output = anyhow::Result<()>> + Send {
        Limit::commit_one(self, n, body)
    }
    fn lookup(&self, token: &[u8; 32]) -> impl Future<Output = anyhow::Result<usize>> + Send {
        Limit::lookup(self, token)
    }
    fn scan_audit(
        &self,
        store_file: Option<&Path>,
    ) -> impl Future<Output = anyhow::Result<u64>> + Send {
        Limit::scan_audit(self, store_file)
    }
}
