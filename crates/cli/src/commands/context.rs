//! What every command that touches the store shares: where the data lives, opening the store
//! and the keys, and building the vault.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use integritet_app::store::Store;
use integritet_app::vault::{Actor, Vault, VaultKeys};
use integritet_crypto::rand_core::CryptoRng;
use integritet_crypto::{ArchiveKeyFile, KeyFiles, LiveKeyRing};
use integritet_domain::Clock;
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

    /// Opens the store the options name, creating the SQLite file on first use.
    pub async fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        match &self.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let store = PostgresStore::connect(url)
                    .await
                    .context("cannot open the PostgreSQL database given by --database-url")?;
                Ok(Arc::new(store))
            }
            Some(url) if url.starts_with("sqlite:") => {
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

    /// Opens store, policy and keys and builds the vault.
    pub async fn open_vault(&self) -> anyhow::Result<Vault> {
        Ok(self.open_store_and_vault().await?.1)
    }

    /// The store and the vault over it (the server hands the store to the parts that are not
    /// the vault's: token and session checks, metrics).
    pub async fn open_store_and_vault(&self) -> anyhow::Result<(Arc<dyn Store>, Vault)> {
        let store = self.open_store().await?;
        let policy = super::load_policy(self.policy_path()?)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
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

/// The operator at the keyboard: the CLI acts with the operator's full authority, and the
/// audit log names the operating-system login (`cli:<login>`).
pub fn operator() -> Actor {
    let login = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor::operator(&login)
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
