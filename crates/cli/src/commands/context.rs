//! What every command that touches the store shares: where the data lives, opening the store
//! and the keys, and building the vault.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use integritet_app::store::Store;
use integritet_app::vault::{Actor, Vault, VaultKeys};
use integritet_crypto::rand_core::CryptoRng;
use integritet_crypto::{
    ArchiveKeyFile, AuditPublicKey, AuditSigningKey, KeyFiles, LiveKeyRing, RecordKey,
};
use integritet_domain::Clock;
use integritet_domain::audit::ChainKey;
use integritet_domain::clock::SystemClock;
use integritet_store_postgres::PostgresStore;
use integritet_store_sqlite::SqliteStore;

/// The SQLite file inside the data directory.
pub const SQLITE_FILE: &str = "integritet.db";

/// Where the store and keys are, resolved from flags, environment and config file
/// ([`super::settings`]). The same for every command that touches data.
#[derive(Debug, Clone)]
pub struct StoreArgs {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub key_dir: Option<PathBuf>,
    pub policy: Option<PathBuf>,
}

impl StoreArgs {
    pub fn key_dir(&self) -> PathBuf {
        self.key_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join(SQLITE_FILE)
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.is_some()
    }

    /// Opens the store the options name; a SQLite file that does not exist is refused, so
    /// that a mistyped `--data-dir` is an error instead of an empty store reported whole.
    pub async fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        self.open(false).await
    }

    /// Opens the store, creating the SQLite file on first use (serve, import, token and user
    /// creation start a new installation).
    pub async fn open_or_create_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        self.open(true).await
    }

    async fn open(&self, create: bool) -> anyhow::Result<Arc<dyn Store>> {
        let store = self.open_unkeyed(create).await?;
        self.key_audit_chain(store.as_ref()).await?;
        Ok(store)
    }

    /// Gives the store the audit chain's key (`audit-chain.key`), made on first use: for a new
    /// log it keys every entry, for a log begun before the key existed it keys the entries
    /// from the next one on. Refused for a log that exists when the key directory holds no
    /// keys at all: that is a wrong `--key-dir`, and a new key there would hide nothing but
    /// verify nothing either.
    pub(crate) async fn key_audit_chain(&self, store: &dyn Store) -> anyhow::Result<()> {
        let files = KeyFiles::in_dir(self.key_dir());
        let file = files.audit_chain_key_file();
        let head = store.audit_head().await?;
        if let Some((seq, _)) = head
            && !file.exists()?
            && !files.key_ring_path().exists()
        {
            bail!(
                "the store's audit log holds {seq} entries, but there are no keys in {}: give \
                 the --key-dir (or INTEGRITET_KEY_DIR) that holds this store's keys",
                self.key_dir().display()
            );
        }
        let mut rng = os_rng()?;
        let secret = file.load_or_create(&mut rng, || Ok(head.map_or(1, |(seq, _)| seq + 1)))?;
        store.use_chain_key(ChainKey::new(secret.key_bytes(), secret.keyed_from()))?;
        Ok(())
    }

    async fn open_unkeyed(&self, create: bool) -> anyhow::Result<Arc<dyn Store>> {
        match &self.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let store = PostgresStore::connect(url)
                    .await
                    .context("cannot open the PostgreSQL database given by --database-url")?;
                Ok(Arc::new(store))
            }
            Some(url) if url.starts_with("sqlite:") => {
                if !create {
                    must_exist(&integritet_store_sqlite::path_of_url(url)?)?;
                }
                let store = SqliteStore::open_url(url)
                    .await
                    .context("cannot open the SQLite database given by --database-url")?;
                Ok(Arc::new(store))
            }
            Some(_) => bail!(
                "--database-url must start with postgres:// or sqlite: (leave it out to use SQLite in --data-dir)"
            ),
            None => {
                let path = self.sqlite_path();
                if !create {
                    must_exist(&path)?;
                }
                let store = SqliteStore::open(&path)
                    .await
                    .with_context(|| format!("cannot open the database {}", path.display()))?;
                Ok(Arc::new(store))
            }
        }
    }

    /// The policy file, which commands that read or write personal data need.
    pub fn policy_path(&self) -> anyhow::Result<&Path> {
        match &self.policy {
            Some(path) => Ok(path),
            None => bail!(
                "this command needs the policy the data is held under: give --policy policy.toml (or set INTEGRITET_POLICY)"
            ),
        }
    }

    /// Loads the keys, creating them on first use. An archive ratchet is only created when the
    /// store has no archive entries: a new one would make existing entries unreadable.
    pub async fn load_keys(
        &self,
        store: &dyn Store,
        rng: &mut dyn CryptoRng,
        today: time::Date,
    ) -> anyhow::Result<VaultKeys> {
        let files = KeyFiles::in_dir(self.key_dir());
        if !files.key_ring_path().exists() && !files.index_key_path().exists() {
            // New keys are made only for a new store: over existing data they would open nothing.
            let counts = store.counts().await?;
            // Tokens and users are keyed too: new keys would refuse every one of them.
            let tokens = store.list_tokens().await?.len();
            let users = store.list_users().await?.len();
            if counts.subjects > 0 || counts.archive_entries > 0 || tokens > 0 || users > 0 {
                bail!(
                    "the store holds {} subjects, {} archive entries, {tokens} staff tokens and \
                     {users} console users, but there are no keys in {}: give the --key-dir (or \
                     INTEGRITET_KEY_DIR) that holds this store's keys; new keys would open none \
                     of its data and accept none of its tokens",
                    counts.subjects,
                    counts.archive_entries,
                    self.key_dir().display()
                );
            }
        }
        let (_, index) = files.load_or_create(rng)?;
        // Followed from now on: a rotation while this process runs is seen at the next wrap.
        let ring = LiveKeyRing::follow(files.key_ring_path())?;
        let archive_file = files.archive_key_file();
        let archive = if store.has_archive_entries().await? {
            archive_file.load()?
        } else {
            archive_file.load_or_create(rng, today)?
        };
        Ok(VaultKeys {
            ring,
            index,
            archive,
        })
    }

    /// The key of token and session hashes and row MACs (from the key directory, made on
    /// first use like the other keys).
    pub async fn record_key(&self, store: &dyn Store) -> anyhow::Result<RecordKey> {
        let mut rng = os_rng()?;
        let keys = self.load_keys(store, &mut rng, SystemClock.today()).await?;
        Ok(RecordKey::derive(&keys.index))
    }

    /// The key that signs the audit log's checkpoints, made on first use.
    pub fn audit_signing_key(&self) -> anyhow::Result<AuditSigningKey> {
        let mut rng = os_rng()?;
        Ok(KeyFiles::in_dir(self.key_dir())
            .audit_signing_key_file()
            .load_or_create(&mut rng)?)
    }

    /// The public key of the audit log's checkpoints, when the key directory has one.
    pub fn audit_public_key(&self) -> anyhow::Result<Option<AuditPublicKey>> {
        let file = KeyFiles::in_dir(self.key_dir()).audit_signing_key_file();
        if !file.exists()? {
            return Ok(None);
        }
        Ok(Some(file.load()?.public_key()))
    }

    /// Opens store, policy and keys and builds the vault.
    pub async fn open_vault(&self) -> anyhow::Result<Vault> {
        let store = self.open_store().await?;
        Ok(self.vault_over(store).await?.1)
    }

    /// The vault over a store created on first use (import into a new installation).
    pub async fn open_or_create_vault(&self) -> anyhow::Result<Vault> {
        let store = self.open_or_create_store().await?;
        Ok(self.vault_over(store).await?.1)
    }

    /// The store, created on first use, and the vault over it (the server hands the store to
    /// the parts that are not the vault's: token and session checks, metrics).
    pub async fn open_store_and_vault(&self) -> anyhow::Result<(Arc<dyn Store>, Vault)> {
        let store = self.open_or_create_store().await?;
        self.vault_over(store).await
    }

    /// Opens store, policy and keys and builds the vault over `clock` (a `--now` option).
    pub async fn open_vault_at(&self, clock: Arc<dyn Clock>) -> anyhow::Result<Vault> {
        let store = self.open_store().await?;
        Ok(self.vault_over_at(store, clock).await?.1)
    }

    pub(crate) async fn vault_over(
        &self,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<(Arc<dyn Store>, Vault)> {
        self.vault_over_at(store, Arc::new(SystemClock)).await
    }

    async fn vault_over_at(
        &self,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<(Arc<dyn Store>, Vault)> {
        let policy = super::load_policy(self.policy_path()?)?;
        let mut rng = os_rng()?;
        let keys = self
            .load_keys(store.as_ref(), &mut rng, clock.today())
            .await?;
        let vault = Vault::new(store.clone(), Arc::new(policy), keys, clock, Box::new(rng));
        Ok((store, vault))
    }

    pub fn archive_key_file(&self) -> ArchiveKeyFile {
        KeyFiles::in_dir(self.key_dir()).archive_key_file()
    }
}

/// Refuses a SQLite path where no store exists.
fn must_exist(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    bail!(
        "there is no store at {}: give the --data-dir (or --database-url) that holds the data; \
         `integritet serve` or `integritet import` creates a new one",
        path.display()
    )
}

/// The operator at the keyboard: the CLI acts with the operator's full authority, and the
/// audit log names the operating-system login (`cli:<login>`).
pub fn operator() -> Actor {
    Actor::operator(&os_login())
}

/// The login of the user this process runs as: from its uid (the owner of `/proc/self`) and
/// `/etc/passwd`, never `$USER`, which anyone can set. `uid:N` when the uid has no entry
/// there (a directory service, a container).
fn os_login() -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(uid) = std::fs::metadata("/proc/self").map(|meta| meta.uid()) else {
        return "unknown".into();
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    login_of(uid, &passwd).unwrap_or_else(|| format!("uid:{uid}"))
}

/// The name `passwd` (the `/etc/passwd` format) gives `uid`.
fn login_of(uid: u32, passwd: &str) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let entry_uid: u32 = fields.nth(1)?.parse().ok()?;
        (entry_uid == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

/// A CSPRNG seeded from the operating system.
pub fn os_rng() -> anyhow::Result<rand::rngs::StdRng> {
    use rand::SeedableRng;
    rand::rngs::StdRng::try_from_rng(&mut rand::rngs::SysRng)
        .map_err(|e| anyhow::anyhow!("the operating system gave no randomness: {e}"))
}

/// A tokio runtime for one command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_login_comes_from_the_uid_not_the_environment() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      # comment\n\
                      anna:x:1000:1000:Anna:/home/anna:/bin/sh\n";
        assert_eq!(login_of(1000, passwd).as_deref(), Some("anna"));
        assert_eq!(login_of(0, passwd).as_deref(), Some("root"));
        assert_eq!(login_of(4242, passwd), None);
        // The process's own entry is found whatever $USER says.
        let me = os_login();
        assert!(!me.is_empty() && me != "unknown", "{me}");
    }
}
