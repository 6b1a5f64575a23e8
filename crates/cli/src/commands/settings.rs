//! Settings, from lowest to highest precedence: built-in defaults, the config file
//! (`--config FILE`, `INTEGRITET_CONFIG`, or `./integritet.toml` when it exists), `INTEGRITET_*`
//! environment variables, then command-line flags. A bad value is reported with the setting's
//! name and where it came from, and the command exits with 2.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use super::context::StoreArgs;

/// The config file read when none is named and it exists.
pub const DEFAULT_CONFIG_FILE: &str = "integritet.toml";

/// The settings a config file and `INTEGRITET_*` variables may hold.
pub const KEYS: [&str; 5] = ["data_dir", "database_url", "key_dir", "policy", "listen"];

/// Every setting, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The SQLite database and, unless `key_dir` says otherwise, the keys.
    pub data_dir: PathBuf,
    /// PostgreSQL (`postgres://…`) or SQLite (`sqlite:…`) instead of the data directory's file.
    pub database_url: Option<String>,
    /// The key files; default `<data_dir>/keys`.
    pub key_dir: Option<PathBuf>,
    /// The policy file.
    pub policy: Option<PathBuf>,
    /// Where `serve` listens.
    pub listen: SocketAddr,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            data_dir: PathBuf::from("./integritet-data"),
            database_url: None,
            key_dir: None,
            policy: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        }
    }
}

/// The global flags; each overrides the config file and the environment.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Config file (TOML) with any of: data_dir, database_url, key_dir, policy, listen.
    /// Default: ./integritet.toml when it exists.
    #[arg(long, global = true, env = "INTEGRITET_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory: the SQLite database and, unless --key-dir says otherwise, the keys
    /// [default: ./integritet-data; INTEGRITET_DATA_DIR].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use PostgreSQL instead of the embedded SQLite (postgres://user@host/db)
    /// [INTEGRITET_DATABASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Directory of the key files (kek.keys, blind-index.key, archive.keys); keep it apart
    /// from database backups [default: <data dir>/keys; INTEGRITET_KEY_DIR].
    #[arg(long, global = true, value_name = "DIR")]
    pub key_dir: Option<PathBuf>,
    /// The policy file (policy.toml) the data is held under [INTEGRITET_POLICY].
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// Flags given on the command line, as a layer over the other sources.
#[derive(Debug, Default, Serialize)]
struct FlagLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
}

/// A setting that could not be used; the message names it and its source.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

impl GlobalArgs {
    /// Resolves every source into [`Settings`]. `listen` is `serve --listen`, when given.
    pub fn resolve(&self, listen: Option<SocketAddr>) -> Result<Settings, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = self.config_file()? {
            figment = figment.merge(Toml::file_exact(&path));
        }
        figment = figment.merge(Env::prefixed("INTEGRITET_").only(&KEYS));
        figment = figment.merge(Serialized::defaults(FlagLayer {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            key_dir: self.key_dir.clone(),
            policy: self.policy.clone(),
            listen,
        }));
        figment.extract::<Settings>().map_err(describe)
    }

    /// The config file to read: the one named, or ./integritet.toml when it exists.
    fn config_file(&self) -> Result<Option<PathBuf>, SettingsError> {
        match &self.config {
            Some(path) if path.is_file() => Ok(Some(path.clone())),
            Some(path) => Err(SettingsError(format!(
                "the config file {} does not exist or is not a file (from --config or INTEGRITET_CONFIG)",
                path.display()
            ))),
            None => {
                let default = Path::new(DEFAULT_CONFIG_FILE);
                Ok(default.is_file().then(|| default.to_path_buf()))
            }
        }
    }
}

/// The environment variable of a setting, e.g. `INTEGRITET_DATA_DIR` for `data_dir`.
fn variable_of(key: &str) -> String {
    format!("INTEGRITET_{}", key.to_ascii_uppercase())
}

/// Checks the `INTEGRITET_*` variables before they are read: a setting's variable that is set
/// but empty, or not text, is an error naming it (an empty `INTEGRITET_DATA_DIR` would
/// otherwise mean the current directory); a variable no setting reads (a typo such as
/// `INTEGRITET_DATABSE_URL`) is a warning, since it is ignored. Variables of the test suite
/// (`INTEGRITET_TEST_*`) are not looked at. Takes the environment as a parameter for tests.
pub fn check_environment(
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<Vec<String>, SettingsError> {
    let known: Vec<String> = KEYS
        .iter()
        .map(|k| variable_of(k))
        .chain(
            [
                "INTEGRITET_CONFIG",
                "INTEGRITET_TLS_CERT",
                "INTEGRITET_TLS_KEY",
                "INTEGRITET_SWEEP_AT",
                "INTEGRITET_PUBLIC_URL",
            ]
            .map(str::to_owned),
        )
        .collect();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for (name, value) in vars {
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with("INTEGRITET_") || name.starts_with("INTEGRITET_TEST_") {
            continue;
        }
        if !known.iter().any(|k| k == name) {
            warnings.push(format!(
                "warning: the environment variable {name} is not a setting of Integritet and is \
                 ignored; the settings are {}",
                known.join(", ")
            ));
            continue;
        }
        match value.to_str() {
            None => problems.push(format!(
                "the environment variable {name} is not valid UTF-8 text; set it again"
            )),
            Some(text) if text.trim().is_empty() => problems.push(format!(
                "the environment variable {name} is set but empty; unset it (`unset {name}`) \
                 or give it a value"
            )),
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(warnings)
    } else {
        Err(SettingsError(problems.join("\n")))
    }
}

/// One line per bad setting: its name, where the value came from, and what was wrong.
fn describe(error: figment::Error) -> SettingsError {
    let lines: Vec<String> = error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                "(the file)".to_owned()
            } else {
                e.path.join(".")
            };
            let source = e
                .metadata
                .as_ref()
                .map(|m| match &m.source {
                    // Figment names the provider ("`INTEGRITET_` environment variable(s)"); a
                    // person needs the one variable to fix.
                    _ if m.name.contains("environment") && !e.path.is_empty() => {
                        format!("the environment variable {}", variable_of(&key))
                    }
                    Some(source) => format!("{} {source}", m.name),
                    None => m.name.to_string(),
                })
                .unwrap_or_else(|| "settings".to_owned());
            format!(
                "the setting `{key}` ({source}) is not usable: {}; known settings: {}",
                e.kind,
                KEYS.join(", ")
            )
        })
        .collect();
    SettingsError(lines.join("\n"))
}

impl Settings {
    pub fn store_args(&self) -> StoreArgs {
        StoreArgs {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            key_dir: self.key_dir.clone(),
            policy: self.policy.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::ffi::OsString;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    #[test]
    fn empty_and_unknown_variables_are_named() {
        let err = check_environment(vars(&[("INTEGRITET_DATA_DIR", " ")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("INTEGRITET_DATA_DIR is set but empty"),
            "{err}"
        );
        let warnings = check_environment(vars(&[
            ("INTEGRITET_DATABSE_URL", "postgres://x"),
            ("INTEGRITET_TEST_POSTGRES_URL", "postgres://y"),
            ("PATH", "/bin"),
            ("INTEGRITET_POLICY", "policy.toml"),
        ]))
        .unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("INTEGRITET_DATABSE_URL"),
            "{warnings:?}"
        );
        assert!(
            warnings[0].contains("INTEGRITET_DATABASE_URL"),
            "{warnings:?}"
        );
    }
}
