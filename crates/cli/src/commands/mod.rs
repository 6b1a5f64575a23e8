//! One module per command family. Each returns the exit code, or an error the caller prints.

/// `println!` for a command's output. A reader that went away (`integritet … | head`) ends the
/// process quietly with success, as SIGPIPE ends other tools, instead of a panic; any other
/// failure to write is an error, exit 1. Only for commands whose work is done by the time they
/// print: the server never prints with it.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if let Err(error) = writeln!(out, $($arg)*) {
            $crate::commands::stdout_failed(error);
        }
    }};
}

pub mod audit_file;
pub mod consent;
pub mod context;
pub mod holds;
pub mod id;
pub mod marketing;
pub mod policy_check;
pub mod policy_render;
pub mod requests;
pub mod serve;
pub mod settings;
pub mod sweep;
pub mod tokens;
pub mod users;
pub mod vault_cmds;

use std::path::Path;

use anyhow::Context;
use integritet_domain::policy::{self, LoadedPolicy};

/// Reads and parses a policy file; the error names the file, line and key.
pub fn load_policy(path: &Path) -> anyhow::Result<LoadedPolicy> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy file {}", path.display()))?;
    Ok(policy::parse(&path.display().to_string(), &text)?)
}

/// Writes to standard output; a closed pipe (`| head`) ends the output, it is no error.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("could not write to standard output"),
    }
}

/// Ends the process after standard output failed (see `outln!`).
pub fn stdout_failed(error: std::io::Error) -> ! {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write to standard output: {error}");
    std::process::exit(1);
}
