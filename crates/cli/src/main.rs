//! `integritet`: run a privacy policy instead of only publishing it.
//!
//! Exit codes: 0 ok, 1 the command ran and found a problem (or failed), 2 bad usage.

mod commands;

/// mimalloc rather than the system allocator: the server allocates and frees small buffers on
/// many threads (a value read on the store's thread is freed on a request's), which glibc's
/// malloc serves with locks and consolidation that showed up as a tenth of a read's cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "integritet",
    version,
    about = "Run your privacy policy: check it, render the notice and the Art. 30 register, keep personal data encrypted and purpose-bound, audit every access.",
    after_help = "Examples:\n  integritet policy check examples/seed-shop/policy.toml\n  integritet policy notice examples/seed-shop/policy.toml --lang sv --format html > integritet.html\n  integritet id check 19121212-1212 556800-7610"
)]
struct Cli {
    #[command(flatten)]
    global: commands::settings::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Swedish identity numbers: personnummer, samordningsnummer, organisationsnummer.
    #[command(
        subcommand,
        after_help = "Examples:\n  integritet id check 811228-9874 556800-7610\n  integritet id check --json < numbers.txt"
    )]
    Id(IdCommand),
    /// The policy file: check it, render the privacy notice and the Art. 30 register.
    #[command(
        subcommand,
        after_help = "Examples:\n  integritet policy check examples/seed-shop/policy.toml\n  integritet policy notice examples/seed-shop/policy.toml --lang sv --format html > integritet.html\n  integritet policy ropa examples/seed-shop/policy.toml --format csv > register.csv"
    )]
    Policy(PolicyCommand),
    /// Serve the JSON API under /api/v1 (staff authenticate with tokens from `token create`).
    #[command(
        after_help = "On a start against a store without a usable administrator token, one is issued and written to <data dir>/admin-token (mode 0600; only the path is printed): it issues staff tokens (POST /api/v1/tokens) and reads no personal data. Read it, keep it safe and delete the file; `integritet token create --role admin` issues another at any time.\n\nExamples:\n  integritet serve --demo    # the example shop: 19 fictional customers, a token per role\n  integritet --policy examples/seed-shop/policy.toml serve\n  integritet --config /etc/integritet/integritet.toml serve\n  integritet --policy policy.toml --database-url postgres://integritet@db/integritet serve --listen 0.0.0.0:8080\n  integritet --policy policy.toml serve --listen 0.0.0.0:443 --tls-cert /etc/integritet/tls.pem --tls-key /etc/integritet/tls.key\n\nThen, with a token from `integritet token create --role support` (or the administrator's POST /api/v1/tokens):\n  curl -H \"Authorization: Bearer itg_…\" \"http://127.0.0.1:8080/api/v1/subjects/ID?purpose=purchase\""
    )]
    Serve {
        /// Address and port to listen on [default: 127.0.0.1:8080; INTEGRITET_LISTEN].
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Try everything at once: the example shop's policy and about twenty fictional
        /// customers in a fresh temporary data directory (deleted on exit), with a token for
        /// every role printed at start.
        #[arg(long, conflicts_with_all = ["database_url", "policy", "data_dir"])]
        demo: bool,
        /// Serve HTTPS with this certificate chain (PEM, the server's own first), for a
        /// deployment without a TLS proxy in front; needs --tls-key [INTEGRITET_TLS_CERT].
        #[arg(
            long,
            value_name = "FILE",
            env = "INTEGRITET_TLS_CERT",
            requires = "tls_key"
        )]
        tls_cert: Option<std::path::PathBuf>,
        /// The certificate's private key (PEM; keep it mode 0600) [INTEGRITET_TLS_KEY].
        #[arg(
            long,
            value_name = "FILE",
            env = "INTEGRITET_TLS_KEY",
            requires = "tls_cert"
        )]
        tls_key: Option<std::path::PathBuf>,
        /// The time of day (UTC, HH:MM or HH:MM:SS) of the daily retention sweep, or `off`;
        /// of several servers on one database only one sweeps [INTEGRITET_SWEEP_AT].
        #[arg(
            long,
            value_name = "TIME",
            env = "INTEGRITET_SWEEP_AT",
            default_value = "03:00",
            value_parser = commands::serve::parse_sweep_at
        )]
        sweep_at: commands::serve::SweepAt,
        /// The address the server is reached at from outside, for the links it hands out
        /// (one-click unsubscribe), e.g. https://shop.example [default: where it listens;
        /// INTEGRITET_PUBLIC_URL].
        #[arg(long, value_name = "URL", env = "INTEGRITET_PUBLIC_URL", value_parser = commands::marketing::parse_public_url)]
        public_url: Option<String>,
    },
    /// Import subjects from a JSON Lines (.jsonl) or CSV (.csv) file.
    #[command(
        after_help = "Bad rows are reported with their line number and not imported; good rows are.\n\n\
Examples:\n  integritet --policy examples/seed-shop/policy.toml import examples/seed-shop/customers.jsonl\n  integritet --policy examples/seed-shop/policy.toml import examples/seed-shop/customers.csv\n\n\
Exit status: 0 when every row was imported, 1 when any row was rejected or the import failed."
    )]
    Import {
        /// The file: .jsonl (one subject per line) or .csv (a header of category names and a purposes column).
        file: PathBuf,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Find subjects by an exact e-mail, phone, identity number or customer number; audited.
    #[command(
        after_help = "Prints subject ids only; read them with `export`.\n\nExamples:\n  integritet --policy examples/seed-shop/policy.toml lookup --purpose customer_care email elin.bergqvist@example.se\n  integritet --policy examples/seed-shop/policy.toml lookup --purpose purchase identity_number 840319-2381"
    )]
    Lookup {
        /// What the value is.
        #[arg(value_enum)]
        kind: LookupArg,
        /// The value, in any usual form (it is normalised first).
        value: String,
        /// The purpose the lookup serves.
        #[arg(long)]
        purpose: String,
    },
    /// Record that a subject's data was disclosed to a recipient the policy declares; audited.
    #[command(
        after_help = "Example:\n  integritet --policy examples/seed-shop/policy.toml disclose 0190f3c2-… --recipient credit_agencies --purpose purchase --categories name,identity_number"
    )]
    Disclose {
        /// The subject id.
        subject: String,
        /// The recipient's id in the policy ([recipients.<id>]).
        #[arg(long)]
        recipient: String,
        /// The purpose the disclosure serves.
        #[arg(long)]
        purpose: String,
        /// The categories disclosed, separated by commas.
        #[arg(long, value_delimiter = ',', required = true)]
        categories: Vec<String>,
    },
    /// Print everything held about a subject (the subject's own copy, GDPR Art. 15); audited.
    #[command(
        after_help = "Example:\n  integritet --policy examples/seed-shop/policy.toml export 0190f3c2-8b1e-7c4d-9a55-3f6e1d2c4b5a"
    )]
    Export {
        /// The subject id.
        subject: String,
    },
    /// Erase a subject (GDPR Art. 17); what a law still requires moves to the archive.
    #[command(
        after_help = "Example:\n  integritet --policy examples/seed-shop/policy.toml erase 0190f3c2-8b1e-7c4d-9a55-3f6e1d2c4b5a"
    )]
    Erase {
        /// The subject id.
        subject: String,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Apply retention: erase what no purpose holds any more, move what only a law holds to
    /// the archive, and shred the archive entries past their day; audited.
    #[command(
        after_help = "A running server sweeps daily (--sweep-at); this runs it now. A sweep killed midway leaves each subject done or untouched: run it again to finish.\n\nExamples:\n  integritet --policy policy.toml sweep --dry-run            # what would go today\n  integritet --policy policy.toml sweep --dry-run --now 2036-01-01 --list\n  integritet --policy policy.toml sweep"
    )]
    Sweep {
        /// Report what the sweep would do, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Sweep as of this day (YYYY-MM-DD, today or later) instead of today.
        #[arg(long, value_name = "DATE")]
        now: Option<String>,
        /// Also list each subject something goes of (or a hold keeps), by id, with the
        /// categories erased and archived.
        #[arg(long)]
        list: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The archive of data kept only because a law requires it.
    #[command(
        subcommand,
        after_help = "Examples:\n  integritet --policy policy.toml archive read ar_5f0c… --reason \"Skatteverket audit of the 2026 books\"\n  integritet --policy policy.toml archive shred"
    )]
    Archive(ArchiveCommand),
    /// The tamper-evident audit log.
    #[command(subcommand, after_help = "Example:\n  integritet audit verify --json")]
    Audit(AuditCommand),
    /// The store's rows checked against what this installation wrote.
    #[command(
        subcommand,
        after_help = "Example:\n  integritet --policy policy.toml store verify --json"
    )]
    Store(StoreCommand),
    /// The key-encryption key.
    #[command(
        subcommand,
        after_help = "Example:\n  integritet keys rotate --settle 10"
    )]
    Keys(KeysCommand),
    /// Write a consistent copy of the SQLite database while it stays in use.
    #[command(
        after_help = "The key files are not part of the backup: keep them apart.\n\n\
Example:\n  integritet backup /backups/integritet-2026-11-25.db\n\n\
For PostgreSQL use pg_dump, and save `integritet erasures` beside the dump."
    )]
    Backup {
        /// Where to write the backup (must not exist).
        dest: PathBuf,
    },
    /// Restore a backup and apply again every erasure made after it.
    #[command(
        after_help = "A SQLite restore applies again what the replaced database recorded since the backup and \
carries its later audit entries over by itself. After a pg_restore, give the record of \
`integritet erasures` and the log of `integritet audit export`, both written before the restore; \
without the log, a restore that shortens the audit history says so, records it in the log and \
exits 1.\n\n\
Examples:\n  integritet --policy policy.toml restore /backups/integritet-2026-11-25.db\n  integritet --database-url postgres://… --policy policy.toml restore --replay erasures.json --audit-log audit.jsonl   # after pg_restore"
    )]
    Restore {
        /// The SQLite backup file to restore.
        source: Option<PathBuf>,
        /// Also replay the erasures in this file (written by `integritet erasures`).
        #[arg(long, value_name = "FILE")]
        replay: Option<PathBuf>,
        /// Carry the entries of this log (written by `integritet audit export`) that come after
        /// the restored log's end into it.
        #[arg(long, value_name = "FILE")]
        audit_log: Option<PathBuf>,
    },
    /// List every recorded erasure as JSON (no personal data), e.g. to keep beside a pg_dump.
    #[command(
        after_help = "Example:\n  integritet --database-url postgres://… --policy policy.toml erasures > erasures.json   # beside a pg_dump"
    )]
    Erasures,
    /// Staff API tokens: create (the secret is shown once), list, revoke.
    #[command(
        subcommand,
        after_help = "Examples:\n  integritet token create --role support --label \"web shop\" --expires 90d\n  integritet token create --role admin   # another administrator token\n  integritet token list\n  integritet token revoke tok_3f2a9c1e"
    )]
    Token(TokenCommand),
    /// Console users (password login to /console): create, list, disable.
    #[command(
        subcommand,
        after_help = "Examples:\n  integritet user create anna.svensson --role support\n  integritet user list\n  integritet user disable anna.svensson"
    )]
    User(commands::users::UserCommand),
    /// Data subjects' requests: register, prove identity, extend, complete, refuse, list by deadline.
    #[command(
        subcommand,
        after_help = "Examples:\n  integritet --policy policy.toml request new --type access --channel post --received 2026-01-31 --email omar@example.se\n  integritet --policy policy.toml request verify ID --method id-document-checked --email omar@example.se\n  integritet --policy policy.toml request list --due 7d"
    )]
    Request(commands::requests::RequestCommand),
    /// Legal holds: stop erasure while a dispute lasts.
    #[command(
        subcommand,
        after_help = "Examples:\n  integritet --policy policy.toml hold set 0190f3c2-… --until 2027-06-30 --reason \"tvist om faktura 7000\"\n  integritet --policy policy.toml hold list"
    )]
    Hold(commands::holds::HoldCommand),
    /// Marketing: audiences, one-click unsubscribe links, opt-outs, the NIX-Telefon register.
    #[command(
        subcommand,
        after_help = "Examples:\n  integritet --policy policy.toml marketing audience --channel email --purpose direct_marketing --csv\n  integritet --policy policy.toml marketing headers 0190f3c2-… --channel email --purpose newsletter --public-url https://shop.example\n  integritet --policy policy.toml marketing opt-out --email anna@example.se\n  integritet --policy policy.toml marketing nix-import nix.txt"
    )]
    Marketing(commands::marketing::MarketingCommand),
    /// Cookie consent records, as JSON-LD.
    #[command(
        subcommand,
        after_help = "Example:\n  integritet --policy policy.toml consent export --since 2026-12-01"
    )]
    Consent(commands::consent::ConsentCommand),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token for a role of the policy; prints its secret once.
    #[command(
        after_help = "The secret (itg_…) is printed once and never stored: only its hash is. Keep it in the \
calling system's secret store and send it as `Authorization: Bearer itg_…`.\n\n\
Examples:\n  integritet --policy examples/seed-shop/policy.toml token create --role support --label \"web shop\"\n  integritet --policy policy.toml token create --role finance --expires 30d --json\n\n\
Exit status: 0 when created, 1 when the role is unknown or the store failed, 2 on bad usage."
    )]
    Create {
        /// The role the token acts as (a key of [roles] in the policy).
        #[arg(long)]
        role: String,
        /// How long the token is valid: a number and d, h or m (e.g. 30d, 12h, 90m). Default: until revoked.
        #[arg(long, value_name = "DURATION", value_parser = integritet_app::tokens::parse_duration)]
        expires: Option<time::Duration>,
        /// A note on what the token is for (no personal data).
        #[arg(long, value_name = "TEXT")]
        label: Option<String>,
        /// Print the token as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List tokens: id, role, label, status and times (never the secret or its hash).
    #[command(after_help = "Examples:\n  integritet token list\n  integritet token list --json")]
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id; it is refused from then on.
    #[command(after_help = "Example:\n  integritet token revoke tok_3f2a9c1e\n\n\
Exit status: 0 when revoked, 1 when there is no such active token.")]
    Revoke {
        /// The token's id (tok_…), as `token list` shows it.
        id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum LookupArg {
    Email,
    Phone,
    #[value(alias = "identity-number", alias = "personnummer")]
    IdentityNumber,
    #[value(alias = "customer-number")]
    CustomerNumber,
}

#[derive(Debug, Subcommand)]
enum ArchiveCommand {
    /// Open an archive entry by its reference; the reason is written to the audit log.
    #[command(
        after_help = "Example:\n  integritet --policy policy.toml archive read ar_5f0c… --reason \"Skatteverket audit of the 2026 books\""
    )]
    Read {
        /// The archive reference (ar_ and 32 hex digits).
        reference: String,
        /// Why the archive is opened (at least 10 characters, no personal data).
        #[arg(long)]
        reason: String,
    },
    /// Shred every entry past its day and destroy the archive keys of past days.
    #[command(
        after_help = "A running server does this at start and after every midnight; this runs it now.\n\nExample:\n  integritet --policy policy.toml archive shred"
    )]
    Shred,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the whole hash chain; names the first entry that was edited, deleted, inserted or moved.
    #[command(
        after_help = "Checks every entry's hash and link, the recorded head, and (when the key directory holds \
the audit signing key) the last signed checkpoint: its signature, and that the chain still has \
the hash it signed, so a log rewritten with recomputed hashes is caught.\n\n\
Example:\n  integritet audit verify\n\nExit status: 0 when the log is whole, 1 when it is broken."
    )]
    Verify {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign the log's head now with the key directory's audit signing key.
    #[command(
        after_help = "A running server signs the head every minute and when it stops; this signs it now, e.g. \
after an import with the CLI. Nothing is written when the head is signed already.\n\n\
Example:\n  integritet audit checkpoint"
    )]
    Checkpoint,
    /// Print the public key that verifies the log's checkpoints (base64 Ed25519), for an auditor.
    #[command(after_help = "Example:\n  integritet audit public-key > integritet-audit.pub")]
    PublicKey,
    /// Write the log's entries as JSON Lines (ids, names and times; no personal data).
    #[command(
        after_help = "Before a pg_restore, export the log beside the record of `integritet erasures`, so that \
`restore --replay … --audit-log …` carries the entries written after the dump into the restored \
log instead of losing them.\n\n\
Example:\n  integritet --database-url postgres://… audit export > audit.jsonl\n  integritet audit export --after 120000 > audit-tail.jsonl"
    )]
    Export {
        /// Only the entries after this sequence number.
        #[arg(long, value_name = "SEQ", default_value_t = 0)]
        after: u64,
    },
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Check every token, console user, data key and value against its MAC or AEAD tag; names
    /// each row that was edited or planted in the database.
    #[command(
        after_help = "Tokens and users carry a MAC under a key derived from the key directory; values are \
bound to their subject, category, purposes, collection time and provenance by their encryption. \
A row someone changed with database access alone fails the check, is refused when used, and is \
listed here by id (never by content). Restore such rows from a backup; revoke or recreate \
refused tokens and users.\n\n\
Example:\n  integritet --policy policy.toml store verify\n\n\
Exit status: 0 when every row is as written, 1 when any is not."
    )]
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Bring the store's schema up to date, and nothing else (for PostgreSQL, as the owner).
    #[command(
        after_help = "Every command brings the schema up to date when its role may; on PostgreSQL the server can run as a role that may not (docs/postgres-app-role.sql: no UPDATE or DELETE on the audit log). Run this once as the database's owner after installing or upgrading.

Example:
  integritet --database-url postgres://owner@db.internal/integritet store migrate"
    )]
    Migrate,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a new key-encryption key, re-wrap every data key under it and retire the old one.
    #[command(
        after_help = "Servers may keep running and writing, any number of them on the same key \
directory: each looks at the key ring file before it wraps a new data key. After saving the new \
key the rotation waits --settle seconds for creates in flight, re-wraps in passes until a pass \
finds no data key under an older key, and only then retires the older keys. If interrupted, run \
it again.\n\nExamples:\n  integritet keys rotate\n  integritet keys rotate --settle 30"
    )]
    Rotate {
        /// Seconds to wait after switching keys before the re-wrap passes, for creates that
        /// wrapped under the old key a moment before to be stored.
        #[arg(long, value_name = "SECONDS", default_value_t = 5)]
        settle: u64,
    },
}

#[derive(Debug, Subcommand)]
enum IdCommand {
    /// Check identity numbers and print their kind and normalised form.
    #[command(
        after_help = "Reads one number per line from standard input when no NUMBER is given.\n\n\
Examples:\n  integritet id check 811228-9874 198112289874 556800-7610\n  integritet id check --json < numbers.txt\n  integritet id check --today 2026-11-25 121212-1212\n\n\
Exit status: 0 when every number is valid, 1 when any is not, 2 on bad usage."
    )]
    Check(IdCheckArgs),
}

#[derive(Debug, Args)]
pub struct IdCheckArgs {
    /// Numbers to check (10 or 12 digits, with or without `-` or `+`).
    pub numbers: Vec<String>,
    /// Print one JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// The date that decides the century of a 10-digit number (YYYY-MM-DD); default today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<time::Date>,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Parse and lint a policy file; every finding has a severity and a legal reference.
    #[command(
        after_help = "Examples:\n  integritet policy check examples/seed-shop/policy.toml\n  integritet policy check examples/seed-shop/policy-as-published.toml --format json\n\n\
Exit status: 0 when there are no errors (warnings allowed), 1 when there are errors or the file cannot be read, 2 on bad usage."
    )]
    Check(PolicyCheckArgs),
    /// Render the privacy notice (integritetspolicy) from the policy file.
    #[command(
        after_help = "Examples:\n  integritet policy notice examples/seed-shop/policy.toml --lang sv --format md\n  integritet policy notice examples/seed-shop/policy.toml --lang en --format html > privacy.html"
    )]
    Notice(PolicyNoticeArgs),
    /// Render the GDPR Art. 30(1) record of processing activities.
    #[command(
        after_help = "Examples:\n  integritet policy ropa examples/seed-shop/policy.toml --format csv > register.csv\n  integritet policy ropa examples/seed-shop/policy.toml --format json"
    )]
    Ropa(PolicyRopaArgs),
}

#[derive(Debug, Args)]
pub struct PolicyCheckArgs {
    /// The policy file (policy.toml).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PolicyNoticeArgs {
    /// The policy file (policy.toml).
    pub file: PathBuf,
    /// Language of the notice.
    #[arg(long, value_enum, default_value_t = NoticeLang::Sv)]
    pub lang: NoticeLang,
    /// Markdown or a standalone HTML page.
    #[arg(long, value_enum, default_value_t = NoticeFormat::Md)]
    pub format: NoticeFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoticeLang {
    Sv,
    En,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoticeFormat {
    Md,
    Html,
}

#[derive(Debug, Args)]
pub struct PolicyRopaArgs {
    /// The policy file (policy.toml).
    pub file: PathBuf,
    /// CSV (one row per purpose) or JSON (with DPV terms).
    #[arg(long, value_enum, default_value_t = RopaFormat::Csv)]
    pub format: RopaFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RopaFormat {
    Csv,
    Json,
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            // JSON written straight to standard output carries the I/O error inside.
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// Parses `YYYY-MM-DD` for options that take a date.
fn parse_date(text: &str) -> Result<time::Date, String> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("write the date as YYYY-MM-DD, e.g. 2026-11-25 (got {text:?})"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen, .. } => *listen,
        _ => None,
    };
    match commands::settings::check_environment(std::env::vars_os()) {
        Ok(warnings) => {
            for warning in warnings {
                eprintln!("{warning}");
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    }
    let settings = match cli.global.resolve(listen) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let store = settings.store_args();
    let result = match cli.command {
        Command::Id(IdCommand::Check(args)) => commands::id::check(&args),
        Command::Policy(PolicyCommand::Check(args)) => commands::policy_check::run(&args),
        Command::Policy(PolicyCommand::Notice(args)) => commands::policy_render::notice(&args),
        Command::Policy(PolicyCommand::Ropa(args)) => commands::policy_render::ropa(&args),
        Command::Serve { demo: true, .. } => commands::serve::demo(settings.listen),
        Command::Serve {
            demo: false,
            tls_cert,
            tls_key,
            sweep_at,
            public_url,
            ..
        } => {
            let tls = tls_cert.zip(tls_key);
            commands::serve::run(
                &store,
                settings.listen,
                tls.as_ref(),
                sweep_at,
                public_url.as_deref(),
            )
        }
        Command::Import { file, json } => commands::vault_cmds::import(&store, &file, json),
        Command::Lookup {
            kind,
            value,
            purpose,
        } => commands::vault_cmds::lookup(&store, kind, &value, &purpose),
        Command::Disclose {
            subject,
            recipient,
            purpose,
            categories,
        } => commands::vault_cmds::disclose(&store, &subject, &recipient, &purpose, &categories),
        Command::Export { subject } => commands::vault_cmds::export(&store, &subject),
        Command::Erase { subject, json } => commands::vault_cmds::erase(&store, &subject, json),
        Command::Archive(ArchiveCommand::Read { reference, reason }) => {
            commands::vault_cmds::archive_read(&store, &reference, &reason)
        }
        Command::Archive(ArchiveCommand::Shred) => commands::vault_cmds::archive_shred(&store),
        Command::Sweep {
            dry_run,
            now,
            list,
            json,
        } => commands::sweep::sweep(&store, dry_run, now.as_deref(), list, json),
        Command::Audit(AuditCommand::Verify { json }) => {
            commands::vault_cmds::audit_verify(&store, json)
        }
        Command::Audit(AuditCommand::Checkpoint) => commands::vault_cmds::audit_checkpoint(&store),
        Command::Audit(AuditCommand::PublicKey) => commands::vault_cmds::audit_public_key(&store),
        Command::Audit(AuditCommand::Export { after }) => {
            commands::audit_file::audit_export(&store, after)
        }
        Command::Store(StoreCommand::Migrate) => commands::vault_cmds::store_migrate(&store),
        Command::Store(StoreCommand::Verify { json }) => {
            commands::vault_cmds::store_verify(&store, json)
        }
        Command::Keys(KeysCommand::Rotate { settle }) => {
            commands::vault_cmds::keys_rotate(&store, std::time::Duration::from_secs(settle))
        }
        Command::Backup { dest } => commands::vault_cmds::backup(&store, &dest),
        Command::Restore {
            source,
            replay,
            audit_log,
        } => commands::vault_cmds::restore(
            &store,
            source.as_deref(),
            replay.as_deref(),
            audit_log.as_deref(),
        ),
        Command::Erasures => commands::vault_cmds::erasures(&store),
        Command::Token(TokenCommand::Create {
            role,
            expires,
            label,
            json,
        }) => commands::tokens::create(&store, &role, expires, label, json),
        Command::Token(TokenCommand::List { json }) => commands::tokens::list(&store, json),
        Command::Token(TokenCommand::Revoke { id }) => commands::tokens::revoke(&store, &id),
        Command::User(command) => commands::users::run(&store, command),
        Command::Request(command) => commands::requests::run(&store, command),
        Command::Hold(command) => commands::holds::run(&store, command),
        Command::Marketing(command) => commands::marketing::run(&store, command),
        Command::Consent(command) => commands::consent::run(&store, command),
    };
    match result {
        Ok(code) => code,
        // A reader that stopped reading (`| head`) is not a failure of ours.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command and every command group shows at least one example in its `--help`.
    #[test]
    fn every_command_has_examples() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", command.get_name());
            let help = command
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            if !help.contains("Example") {
                missing.push(path.clone());
            }
            for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no example in --help of: {missing:?}");
    }
}
