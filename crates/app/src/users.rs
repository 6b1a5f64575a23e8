//! Console users: a login name, a role, an argon2id password; lockout after failed logins;
//! sessions held by a random secret in a cookie, with a CSRF token derived from it.
//!
//! - **Passwords** are hashed with argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane)
//!   under a random 16-byte salt and stored as a PHC string. A password has at least
//!   [`MIN_PASSWORD_CHARS`] characters and is not the login name.
//! - **Login** costs one argon2 verification whatever happens: an unknown name, a disabled or
//!   locked account are checked against a dummy hash or their own, so the time taken does not
//!   tell which names exist. Every refusal is the same [`LoginError::public_message`]; the audit
//!   log says which it was (`login_failed` with `reason=…`, never the name tried when no such
//!   user exists, since people type passwords into name fields).
//! - **Lockout**: [`MAX_FAILED_LOGINS`] failures in a row lock the account for [`LOCKOUT`].
//!   The count lives in the store and is changed in one statement, so servers sharing a
//!   database agree; a successful login resets it.
//! - **Sessions**: the secret is 32 random bytes (64 hex digits in the cookie); the store keeps
//!   only its HMAC under the key directory's [`RecordKey`], so a session planted in the
//!   database matches no cookie. A session ends after [`IDLE_TIMEOUT`] without requests, after
//!   [`ABSOLUTE_TIMEOUT`] in any case, at logout, and when its user is disabled.
//! - **CSRF**: the token of a session is derived from its secret with BLAKE3's key derivation,
//!   so it needs no storage and cannot be computed without the cookie; it is compared in
//!   constant time.
//! - **Integrity**: a user row carries a MAC over name, role, password hash, creation and
//!   disabling, a session row one over its hash, user and start ([`user_mac`],
//!   [`session_mac`]); a row edited in the database (a planted password hash, a changed role, a
//!   session moved to an administrator) is refused and the refusal audited.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use integritet_crypto::RecordKey;
use integritet_crypto::rand_core::CryptoRng;
use integritet_domain::Clock;
use integritet_domain::audit::{AuditAction, AuditDraft};
use integritet_domain::policy::LoadedPolicy;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::known_devices;
use crate::store::{
    LockoutRule, LoginFailure, SessionRecord, Store, StoreError, UserRecord, Writes,
};
use crate::tokens::INTEGRITY_ACTOR;
use crate::vault::Actor;

/// The reserved role of users who administer the system rather than act for a purpose (the
/// same as the administrator token's).
pub use crate::tokens::ADMIN_ROLE;
/// Failed logins in a row that lock an account.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// How long a lockout lasts.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// A session without requests for this long has ended.
pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
/// A session ends this long after login, however busy.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// A session's last-seen time is written at most this often (the idle timeout is kept to
/// this precision, and a busy session does not write on every request).
pub const TOUCH_INTERVAL: Duration = Duration::minutes(1);
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted (a passphrase fits many times over).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The longest login name.
pub const MAX_NAME_CHARS: usize = 64;
/// What every actor id of a console user starts with.
pub const ACTOR_PREFIX: &str = "user:";
/// The actor of audit entries about logins under a name that does not exist.
pub const ANONYMOUS_ACTOR: &str = "console:anonymous";

// argon2id at the first of OWASP's equivalent settings (Password Storage Cheat Sheet).
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const SALT_BYTES: usize = 16;
/// Hashes computed at once; each holds 19 MiB while it runs.
const CONCURRENT_HASHES: usize = 4;
/// Hashes that may wait for one of those; a login beyond them is refused at once as busy, so a
/// flood queues neither memory nor minutes of work ahead of real users.
const WAITING_HASHES: usize = 64;
/// Hex digits of a session secret (32 random bytes).
const SECRET_HEX_LEN: usize = 64;
/// The BLAKE3 key-derivation context of CSRF tokens.
const CSRF_CONTEXT: &str = "integritet 2026-03-04 console session csrf token";

static HASHING: HashingGate = HashingGate::new(CONCURRENT_HASHES, WAITING_HASHES);

/// A bounded queue in front of password hashing: `running` at once, at most `max_waiting`
/// more waiting, the rest turned away.
struct HashingGate {
    running: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
}

/// The queue in front of password hashing is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Busy;

impl HashingGate {
    const fn new(running: usize, max_waiting: usize) -> HashingGate {
        HashingGate {
            running: tokio::sync::Semaphore::const_new(running),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            max_waiting,
        }
    }

    async fn enter(&self) -> Result<tokio::sync::SemaphorePermit<'_>, Busy> {
        use std::sync::atomic::Ordering::SeqCst;
        if let Ok(permit) = self.running.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, SeqCst);
            return Err(Busy);
        }
        let permit = self.running.acquire().await;
        self.waiting.fetch_sub(1, SeqCst);
        permit.map_err(|_| Busy)
    }
}

/// Why a hash was not computed.
#[derive(Debug)]
enum HashingError {
    Busy,
    Failed(String),
}

/// Lockout and session timeouts; [`AccountRules::default`] holds the constants above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRules {
    pub lockout: LockoutRule,
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
}

impl Default for AccountRules {
    fn default() -> AccountRules {
        AccountRules {
            lockout: LockoutRule {
                max_failures: MAX_FAILED_LOGINS,
                duration: LOCKOUT,
            },
            idle_timeout: IDLE_TIMEOUT,
            absolute_timeout: ABSOLUTE_TIMEOUT,
        }
    }
}

/// A password as typed. Its `Debug` never shows it and its memory is wiped when dropped.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(text: impl Into<String>) -> Password {
        Password(Zeroizing::new(text.into()))
    }

    fn expose(&self) -> &str {
        &self.0
    }

    /// Whether two passwords are the same (a password typed twice).
    pub fn same_as(&self, other: &Password) -> bool {
        self.expose() == other.expose()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// What is wrong with a new password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error(
        "the password is shorter than {MIN_PASSWORD_CHARS} characters; choose a longer one (a few words make a good passphrase)"
    )]
    TooShort,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes; choose a shorter one")]
    TooLong,
    #[error(
        "the password contains control characters (such as a line break); type it without them"
    )]
    ControlCharacters,
    #[error("the password is the login name; choose a password nobody can guess from the name")]
    SameAsName,
}

/// Checks a new password for `name` against the rules.
pub fn check_password(name: &str, password: &Password) -> Result<(), PasswordProblem> {
    let text = password.expose();
    if text.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordProblem::TooLong);
    }
    if text.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if text.chars().any(char::is_control) {
        return Err(PasswordProblem::ControlCharacters);
    }
    if text.trim().to_lowercase() == name.trim().to_lowercase() {
        return Err(PasswordProblem::SameAsName);
    }
    Ok(())
}

/// Normalises a login name: lower case; letters a–z, digits and `.`, `_`, `-`, `@`; starting
/// with a letter or digit; at most [`MAX_NAME_CHARS`] characters.
pub fn parse_name(text: &str) -> Result<String, UserError> {
    let name = text.to_ascii_lowercase();
    let well_formed = !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-' | b'@')
        });
    if well_formed {
        Ok(name)
    } else {
        Err(UserError::BadName)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(
        "a login name is 1 to {MAX_NAME_CHARS} characters: letters a-z, digits and . _ - @, \
         starting with a letter or digit (e.g. anna.svensson)"
    )]
    BadName,
    #[error("the policy has no role {role:?}; give {ADMIN_ROLE} or one of the policy's roles: {}", roles_list(.roles))]
    UnknownRole { role: String, roles: Vec<String> },
    #[error(transparent)]
    Password(#[from] PasswordProblem),
    #[error("a user named {0:?} exists already; choose another name")]
    Exists(String),
    #[error("the password could not be hashed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(StoreError),
}

fn roles_list(roles: &[String]) -> String {
    if roles.is_empty() {
        "(none: add a [roles] table to the policy)".into()
    } else {
        roles.join(", ")
    }
}

/// Why a login was refused. The variants are for the audit log, logs and tests; whoever tried
/// to log in is told only [`LoginError::public_message`], the same for all of them.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("no such user")]
    UnknownUser,
    #[error("wrong password ({} failed in a row)", .0.failures)]
    WrongPassword(LoginFailure),
    #[error("the account is locked until {until}")]
    Locked { until: OffsetDateTime },
    #[error("the account is disabled")]
    Disabled,
    #[error("the stored row of the user fails its integrity check (edited in the database)")]
    Tampered,
    #[error("the password could not be checked: {0}")]
    Hashing(String),
    #[error("too many logins are being checked at once")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LoginError {
    /// What the person logging in is told, in Swedish and English: the same for an unknown
    /// name, a wrong password, a locked and a disabled account.
    pub fn public_message(&self) -> &'static str {
        match self {
            LoginError::Store(_) | LoginError::Hashing(_) => {
                "Inloggningen kunde inte kontrolleras; försök igen senare. / The login could not \
                 be checked; try again later."
            }
            LoginError::Busy => {
                "För många inloggningar just nu; försök igen om en stund. / Too many logins at \
                 the moment; try again shortly."
            }
            _ => {
                "Fel användarnamn eller lösenord. / Wrong user name or password. (Efter \
                 upprepade misslyckade försök spärras kontot en stund. / After repeated failed \
                 attempts the account is locked for a while.)"
            }
        }
    }
}

/// Why a presented session cookie was not accepted. As with tokens, the caller is told the
/// same whatever the reason ([`SessionError::public_message`]).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the session cookie is not in the expected format")]
    Malformed,
    #[error("no such session")]
    Unknown,
    #[error("the session has expired")]
    Expired,
    #[error("the session's user is disabled")]
    Disabled,
    #[error("the stored session or its user fails its integrity check (edited in the database)")]
    Tampered,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SessionError {
    pub fn public_message(&self) -> &'static str {
        match self {
            SessionError::Store(_) => "the session could not be checked; try again later",
            _ => "no valid session: log in again",
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// A session's secret: what the cookie holds. `Debug` never shows it.
pub struct SessionSecret(Zeroizing<String>);

impl SessionSecret {
    /// 32 random bytes from `rng`.
    pub fn generate(rng: &mut dyn CryptoRng) -> SessionSecret {
        let mut bytes = Zeroizing::new([0u8; SECRET_HEX_LEN / 2]);
        rng.fill_bytes(bytes.as_mut_slice());
        SessionSecret(Zeroizing::new(hex(bytes.as_slice())))
    }

    /// A secret as presented in a cookie, if it has the shape of one.
    pub fn parse(presented: &str) -> Option<SessionSecret> {
        let well_formed = presented.len() == SECRET_HEX_LEN
            && presented
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        well_formed.then(|| SessionSecret(Zeroizing::new(presented.to_owned())))
    }

    /// The cookie value.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps.
    pub fn hash(&self, key: &RecordKey) -> [u8; 32] {
        key.secret_hash("session", self.0.as_bytes())
    }

    /// The session's CSRF token.
    pub fn csrf_token(&self) -> CsrfToken {
        CsrfToken(blake3::derive_key(CSRF_CONTEXT, self.0.as_bytes()))
    }
}

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSecret(<redacted>)")
    }
}

/// A session's CSRF token: sent in the JSON of login and of `GET /console/session`, and
/// expected back in the `x-csrf-token` header of every unsafe request made with the cookie.
#[derive(Clone)]
pub struct CsrfToken([u8; 32]);

impl CsrfToken {
    /// As sent to the client: 64 hex digits.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Whether `presented` is this token, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        let Some(bytes) = unhex32(presented.trim()) else {
            return false;
        };
        // blake3::Hash compares in constant time.
        blake3::Hash::from_bytes(bytes) == blake3::Hash::from_bytes(self.0)
    }
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(<redacted>)")
    }
}

/// The MAC a user row carries.
pub fn user_mac(key: &RecordKey, user: &UserRecord) -> [u8; 32] {
    key.record("console_users")
        .text(&user.name)
        .text(&user.role)
        .text(&user.password_hash)
        .number(user.created_at.unix_timestamp_nanos())
        .optional_number(user.disabled_at.map(OffsetDateTime::unix_timestamp_nanos))
        .finish()
}

/// The MAC a session row carries.
pub fn session_mac(key: &RecordKey, session: &SessionRecord) -> [u8; 32] {
    key.record("console_sessions")
        .bytes(&session.hash)
        .text(&session.user)
        .number(session.created_at.unix_timestamp_nanos())
        .finish()
}

/// Whether a stored user row is as this installation wrote it.
pub fn user_is_sealed(key: &RecordKey, user: &UserRecord) -> bool {
    same_mac(user_mac(key, user), user.mac)
}

/// Whether a stored session row is as this installation wrote it.
pub fn session_is_sealed(key: &RecordKey, session: &SessionRecord) -> bool {
    same_mac(session_mac(key, session), session.mac)
}

fn same_mac(expected: [u8; 32], stored: [u8; 32]) -> bool {
    // blake3::Hash compares in constant time.
    blake3::Hash::from_bytes(expected) == blake3::Hash::from_bytes(stored)
}

fn integrity_violation(at: OffsetDateTime, policy_version: &str, detail: String) -> AuditDraft {
    draft(
        at,
        INTEGRITY_ACTOR.to_owned(),
        None,
        AuditAction::IntegrityViolation,
        policy_version,
        detail,
    )
}

/// The short public id of a session in audit entries: `ses_` and the first 8 hex digits of its
/// hash (which tell nothing about the secret).
pub fn session_id(hash: &[u8; 32]) -> String {
    format!("ses_{}", hex(&hash[..4]))
}

/// The actor id of a console user.
pub fn actor_id(name: &str) -> String {
    format!("{ACTOR_PREFIX}{name}")
}

/// A session just started: the secret goes into the cookie, once.
#[derive(Debug)]
pub struct NewSession {
    pub secret: SessionSecret,
    pub session: Session,
    /// The known-device cookie for the browser that logged in ([`crate::known_devices`]).
    pub device: String,
}

/// What a client presents to log in.
#[derive(Debug, Clone, Copy)]
pub struct LoginAttempt<'a> {
    pub name: &'a str,
    pub password: &'a Password,
    /// The known-device cookie it sent, if any.
    pub device: Option<&'a str>,
}

/// The random parts of a new session: its secret and the nonce of its known-device cookie.
#[derive(Debug)]
pub struct LoginSecrets {
    pub session: SessionSecret,
    pub device_nonce: [u8; 16],
}

impl LoginSecrets {
    pub fn generate(rng: &mut dyn CryptoRng) -> LoginSecrets {
        let session = SessionSecret::generate(rng);
        let mut device_nonce = [0u8; 16];
        rng.fill_bytes(&mut device_nonce);
        LoginSecrets {
            session,
            device_nonce,
        }
    }
}

/// A valid session and who it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub role: String,
    pub id: String,
    pub created_at: OffsetDateTime,
    /// When the session ends unless used before: the idle timeout from the last request, but
    /// never after the absolute timeout.
    pub expires_at: OffsetDateTime,
    pub csrf: CsrfToken,
}

impl Session {
    fn new(
        user: &UserRecord,
        hash: &[u8; 32],
        secret: &SessionSecret,
        created_at: OffsetDateTime,
        last_seen_at: OffsetDateTime,
        rules: &AccountRules,
    ) -> Session {
        Session {
            user: user.name.clone(),
            role: user.role.clone(),
            id: session_id(hash),
            created_at,
            expires_at: (last_seen_at + rules.idle_timeout)
                .min(created_at + rules.absolute_timeout),
            csrf: secret.csrf_token(),
        }
    }

    /// Who acts with this session: `user:<name>` in the session user's role.
    pub fn actor(&self) -> Actor {
        Actor::staff(actor_id(&self.user), &self.role)
    }
}

fn argon2() -> Result<Argon2<'static>, String> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A hash of nothing anyone knows, checked against when there is no user to check, so that an
/// unknown name costs what a known one does.
fn dummy_hash() -> Result<&'static str, String> {
    static DUMMY: OnceLock<Result<String, String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            argon2()?
                .hash_password_with_salt(b"integritet: no such user", b"integritet-dummy")
                .map(|hash| hash.to_string())
                .map_err(|e| e.to_string())
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// Runs argon2 on a blocking thread, at most [`CONCURRENT_HASHES`] at a time and with at most
/// [`WAITING_HASHES`] waiting.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, HashingError> {
    let _permit = HASHING.enter().await.map_err(|Busy| HashingError::Busy)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HashingError::Failed(format!("the hashing task failed: {e}")))?
        .map_err(HashingError::Failed)
}

/// Hashes a password under a random salt from `rng`, as a PHC string.
pub async fn hash_password(password: &Password, rng: &mut dyn CryptoRng) -> Result<String, String> {
    let mut salt = [0u8; SALT_BYTES];
    rng.fill_bytes(&mut salt);
    let password = password.clone();
    hashing(move || {
        argon2()?
            .hash_password_with_salt(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| match e {
        HashingError::Busy => "too many passwords are being checked at once; try again".to_owned(),
        HashingError::Failed(cause) => cause,
    })
}

/// Whether `password` matches `stored` (a PHC string; its own parameters are used), or the
/// dummy hash when there is no user. Always one argon2 computation.
async fn verify_password(
    stored: Option<String>,
    password: &Password,
) -> Result<bool, HashingError> {
    let password = password.clone();
    hashing(move || {
        let argon2 = argon2()?;
        let matched = match &stored {
            Some(hash) => {
                match PasswordVerifier::<str>::verify_password(
                    &argon2,
                    password.expose().as_bytes(),
                    hash,
                ) {
                    Ok(()) => true,
                    // A stored hash that does not parse verifies nothing, at the same cost.
                    Err(argon2::password_hash::Error::PasswordInvalid) => false,
                    Err(_) => {
                        let _ = PasswordVerifier::<str>::verify_password(
                            &argon2,
                            password.expose().as_bytes(),
                            dummy_hash()?,
                        );
                        false
                    }
                }
            }
            None => {
                let _ = PasswordVerifier::<str>::verify_password(
                    &argon2,
                    password.expose().as_bytes(),
                    dummy_hash()?,
                );
                false
            }
        };
        Ok(matched)
    })
    .await
}

fn draft(
    at: OffsetDateTime,
    actor: String,
    role: Option<String>,
    action: AuditAction,
    policy_version: &str,
    detail: String,
) -> AuditDraft {
    AuditDraft {
        at,
        actor,
        role,
        purpose: None,
        subject: None,
        categories: Vec::new(),
        action,
        policy_version: policy_version.to_owned(),
        detail: Some(detail),
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: String,
    pub password: Password,
}

/// Creates a console user: checks the name, the role (a role of `policy` or `admin`) and the
/// password, hashes the password and stores the user with a `user_created` audit entry.
pub async fn create_user(
    store: &dyn Store,
    key: &RecordKey,
    now: OffsetDateTime,
    rng: &mut dyn CryptoRng,
    actor: &str,
    new: NewUser,
    policy: &LoadedPolicy,
) -> Result<UserRecord, UserError> {
    let name = parse_name(&new.name)?;
    if new.role != ADMIN_ROLE && !policy.policy.roles.contains_key(&new.role) {
        return Err(UserError::UnknownRole {
            role: new.role,
            roles: policy.policy.roles.keys().cloned().collect(),
        });
    }
    check_password(&name, &new.password)?;
    let password_hash = hash_password(&new.password, rng)
        .await
        .map_err(UserError::Hashing)?;
    let mut record = UserRecord {
        name: name.clone(),
        role: new.role,
        password_hash,
        created_at: now,
        disabled_at: None,
        failed_logins: 0,
        locked_until: None,
        mac: [0; 32],
    };
    record.mac = user_mac(key, &record);
    let audit = vec![draft(
        now,
        actor.to_owned(),
        None,
        AuditAction::UserCreated,
        policy.version.as_str(),
        format!("user={}; role={}", record.name, record.role),
    )];
    match store.insert_user(record.clone(), audit).await {
        Ok(()) => Ok(record),
        Err(StoreError::Conflict(_)) => Err(UserError::Exists(name)),
        Err(e) => Err(UserError::Store(e)),
    }
}

/// Disables a user and ends its sessions, with a `user_disabled` audit entry. False when there
/// is no such enabled user.
pub async fn disable_user(
    store: &dyn Store,
    key: &RecordKey,
    now: OffsetDateTime,
    actor: &str,
    name: &str,
    policy_version: &str,
) -> Result<bool, StoreError> {
    let name = name.to_ascii_lowercase();
    let Some(user) = store.user(&name).await? else {
        return Ok(false);
    };
    // An edited row stays unsealed when disabled, so `store verify` still reports it.
    let mac = if user_is_sealed(key, &user) {
        user_mac(
            key,
            &UserRecord {
                disabled_at: Some(now),
                ..user
            },
        )
    } else {
        [0; 32]
    };
    let audit = vec![draft(
        now,
        actor.to_owned(),
        None,
        AuditAction::UserDisabled,
        policy_version,
        format!("user={name}"),
    )];
    store.disable_user(&name, now, mac, audit).await
}

/// Checks a login and, when it is good, starts a session with `secrets` (made by the caller
/// with [`LoginSecrets::generate`]). Always one argon2 computation; every outcome is audited.
///
/// An account locked after repeated failures stays locked to every client except a browser
/// it logged in from before ([`crate::known_devices`]): a stranger can keep failing, and keep
/// strangers out, but never the owner at their own browser.
pub async fn login(
    store: &dyn Store,
    key: &RecordKey,
    now: OffsetDateTime,
    rules: &AccountRules,
    attempt: LoginAttempt<'_>,
    secrets: LoginSecrets,
    policy_version: &str,
) -> Result<NewSession, LoginError> {
    let LoginAttempt {
        name,
        password,
        device,
    } = attempt;
    let LoginSecrets {
        session: secret,
        device_nonce,
    } = secrets;
    let user = match parse_name(name) {
        Ok(name) => store.user(&name).await?,
        Err(_) => None,
    };
    // A planted password hash must never be checked against: an edited row is as good as
    // no user, at the same cost.
    let tampered = user
        .as_ref()
        .filter(|u| !user_is_sealed(key, u))
        .map(|u| u.name.clone());
    let user = user.filter(|_| tampered.is_none());
    let matched = verify_password(user.as_ref().map(|u| u.password_hash.clone()), password)
        .await
        .map_err(|e| match e {
            // Refused before any work: nothing to audit, and the flood is the metrics' to show.
            HashingError::Busy => LoginError::Busy,
            HashingError::Failed(cause) => LoginError::Hashing(cause),
        })?;
    let failed = |actor: String, role: Option<String>, reason: String| {
        draft(
            now,
            actor,
            role,
            AuditAction::LoginFailed,
            policy_version,
            reason,
        )
    };
    if let Some(name) = tampered {
        store
            .append_audit(vec![integrity_violation(
                now,
                policy_version,
                format!("table=console_users; user={name}; refused=login"),
            )])
            .await?;
        return Err(LoginError::Tampered);
    }
    let Some(user) = user else {
        // The name tried is not recorded: it may be a password typed in the wrong field.
        store
            .append_audit(vec![failed(
                ANONYMOUS_ACTOR.to_owned(),
                None,
                "reason=unknown_user".into(),
            )])
            .await?;
        return Err(LoginError::UnknownUser);
    };
    let actor = actor_id(&user.name);
    let role = Some(user.role.clone());
    let known_device = device.is_some_and(|d| known_devices::is_known(key, &user.name, d, now));
    if user.disabled_at.is_some() {
        store
            .append_audit(vec![failed(actor, role, "reason=disabled".into())])
            .await?;
        return Err(LoginError::Disabled);
    }
    if let Some(until) = user
        .locked_until
        .filter(|until| *until > now && !known_device)
    {
        store
            .append_audit(vec![failed(
                actor,
                role,
                format!("reason=locked; locked_until={until}"),
            )])
            .await?;
        return Err(LoginError::Locked { until });
    }
    if !matched {
        let until = now + rules.lockout.duration;
        let lock = draft(
            now,
            actor.clone(),
            role.clone(),
            AuditAction::UserLocked,
            policy_version,
            format!(
                "user={}; failures={}; locked_until={until}",
                user.name, rules.lockout.max_failures
            ),
        );
        let failure = store
            .record_login_failure(
                &user.name,
                now,
                rules.lockout,
                vec![failed(actor, role, "reason=wrong_password".into())],
                vec![lock],
            )
            .await?;
        return Err(match failure {
            Some(failure) => LoginError::WrongPassword(failure),
            // Disabled since it was read.
            None => LoginError::Disabled,
        });
    }
    store
        .purge_sessions(now - rules.idle_timeout, now - rules.absolute_timeout)
        .await?;
    let hash = secret.hash(key);
    let mut record = SessionRecord {
        hash,
        user: user.name.clone(),
        created_at: now,
        last_seen_at: now,
        mac: [0; 32],
    };
    record.mac = session_mac(key, &record);
    let audit = vec![draft(
        now,
        actor.clone(),
        role.clone(),
        AuditAction::Login,
        policy_version,
        format!("session={}; known_device={known_device}", session_id(&hash)),
    )];
    if !store.start_session(record, known_device, audit).await? {
        // Locked or disabled by another server between the read and now.
        store
            .append_audit(vec![failed(actor, role, "reason=locked".into())])
            .await?;
        return Err(LoginError::Locked { until: now });
    }
    let session = Session::new(&user, &hash, &secret, now, now, rules);
    let device = known_devices::issue(key, &user.name, device_nonce, now);
    Ok(NewSession {
        secret,
        session,
        device,
    })
}

/// The session a presented cookie value belongs to, if it is valid at `now`. Moves its
/// last-seen time (at most once per [`TOUCH_INTERVAL`]); deletes it when it has expired.
pub async fn authenticate(
    store: &dyn Store,
    key: &RecordKey,
    now: OffsetDateTime,
    rules: &AccountRules,
    presented: &str,
    policy_version: &str,
) -> Result<Session, SessionError> {
    let secret = SessionSecret::parse(presented).ok_or(SessionError::Malformed)?;
    let hash = secret.hash(key);
    let (record, user) = store.session(&hash).await?.ok_or(SessionError::Unknown)?;
    if !session_is_sealed(key, &record) || !user_is_sealed(key, &user) {
        store
            .append_audit(vec![integrity_violation(
                now,
                policy_version,
                format!(
                    "table=console_sessions; session={}; user={}; refused=session",
                    session_id(&hash),
                    record.user
                ),
            )])
            .await?;
        return Err(SessionError::Tampered);
    }
    if user.disabled_at.is_some() {
        store.end_session(&hash, Vec::new()).await?;
        return Err(SessionError::Disabled);
    }
    let idle_end = record.last_seen_at + rules.idle_timeout;
    let absolute_end = record.created_at + rules.absolute_timeout;
    if now >= idle_end || now >= absolute_end {
        store.end_session(&hash, Vec::new()).await?;
        return Err(SessionError::Expired);
    }
    let mut last_seen = record.last_seen_at;
    if now - record.last_seen_at >= TOUCH_INTERVAL {
        store.touch_session(&hash, now).await?;
        last_seen = now;
    }
    Ok(Session::new(
        &user,
        &hash,
        &secret,
        record.created_at,
        last_seen,
        rules,
    ))
}

/// Ends the session of a presented cookie value, with a `logout` audit entry. False when there
/// is no such session.
pub async fn logout(
    store: &dyn Store,
    key: &RecordKey,
    now: OffsetDateTime,
    presented: &str,
    policy_version: &str,
) -> Result<bool, StoreError> {
    let Some(secret) = SessionSecret::parse(presented) else {
        return Ok(false);
    };
    let hash = secret.hash(key);
    let Some((_, user)) = store.session(&hash).await? else {
        return Ok(false);
    };
    let audit = vec![draft(
        now,
        actor_id(&user.name),
        Some(user.role),
        AuditAction::Logout,
        policy_version,
        format!("session={}", session_id(&hash)),
    )];
    store.end_session(&hash, audit).await
}

/// Console logins and sessions for a server: the store, the clock, a random source for
/// session secrets, the rules and the policy version audit entries name.
pub struct Accounts {
    store: Arc<dyn Store>,
    key: RecordKey,
    clock: Arc<dyn Clock>,
    rng: Mutex<Box<dyn CryptoRng + Send>>,
    rules: AccountRules,
    policy_version: String,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("store", &self.store.backend())
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    pub fn new(
        store: Arc<dyn Store>,
        key: RecordKey,
        clock: Arc<dyn Clock>,
        rng: Box<dyn CryptoRng + Send>,
        policy_version: impl Into<String>,
    ) -> Accounts {
        Accounts {
            store,
            key,
            clock,
            rng: Mutex::new(rng),
            rules: AccountRules::default(),
            policy_version: policy_version.into(),
        }
    }

    /// Other lockout and timeout settings than the defaults.
    pub fn with_rules(mut self, rules: AccountRules) -> Accounts {
        self.rules = rules;
        self
    }

    pub fn rules(&self) -> &AccountRules {
        &self.rules
    }

    pub async fn login(&self, attempt: LoginAttempt<'_>) -> Result<NewSession, LoginError> {
        let secrets = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            LoginSecrets::generate(rng.as_mut())
        };
        login(
            self.store.as_ref(),
            &self.key,
            self.clock.now(),
            &self.rules,
            attempt,
            secrets,
            &self.policy_version,
        )
        .await
    }

    /// Whether `device` is a known-device cookie of the account `name`: such a client is held
    /// back neither by the account's lock nor by the limit on attempts for the account.
    pub fn knows_device(&self, name: &str, device: &str) -> bool {
        parse_name(name)
            .is_ok_and(|name| known_devices::is_known(&self.key, &name, device, self.clock.now()))
    }

    /// Audits that logins from one client are held back for `wait` after repeated failures:
    /// one entry per backoff period, whatever the number of attempts refused in it, and
    /// without the name tried.
    pub async fn record_throttled(&self, wait: std::time::Duration) -> Result<(), StoreError> {
        let entry = draft(
            self.clock.now(),
            ANONYMOUS_ACTOR.to_owned(),
            None,
            AuditAction::LoginFailed,
            &self.policy_version,
            format!("reason=throttled; retry_after_s={}", wait.as_secs().max(1)),
        );
        self.store.append_audit(vec![entry]).await
    }

    pub async fn session(&self, presented: &str) -> Result<Session, SessionError> {
        authenticate(
            self.store.as_ref(),
            &self.key,
            self.clock.now(),
            &self.rules,
            presented,
            &self.policy_version,
        )
        .await
    }

    pub async fn logout(&self, presented: &str) -> Result<bool, StoreError> {
        logout(
            self.store.as_ref(),
            &self.key,
            self.clock.now(),
            presented,
            &self.policy_version,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use integritet_crypto::rand_core::SeedableRng;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_hashing_queue_turns_away_what_it_cannot_hold() {
        let gate = std::sync::Arc::new(HashingGate::new(1, 1));
        let running = gate.enter().await.unwrap();
        // One may wait…
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter().await.map(drop) })
        };
        while gate.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // …and the next is refused at once instead of queueing.
        assert_eq!(gate.enter().await.map(drop), Err(Busy));
        drop(running);
        assert_eq!(waiter.await.unwrap(), Ok(()));
        assert!(gate.enter().await.is_ok());
    }

    #[test]
    fn names_are_normalised_and_checked() {
        assert_eq!(parse_name("Anna.Svensson").unwrap(), "anna.svensson");
        assert_eq!(parse_name("ops@shop.se").unwrap(), "ops@shop.se");
        for bad in ["", ".anna", "anna svensson", "åsa", "a\nb", &"a".repeat(65)] {
            assert!(parse_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_follow_the_rules() {
        let check = |name: &str, pw: &str| check_password(name, &Password::new(pw));
        assert_eq!(check("anna", "kort"), Err(PasswordProblem::TooShort));
        assert_eq!(check("anna", "elva tecken"), Err(PasswordProblem::TooShort));
        assert_eq!(check("anna", "tolv tecken!"), Ok(()));
        // Characters, not bytes: twelve Swedish letters are enough.
        assert_eq!(check("anna", "åäöåäöåäöåäö"), Ok(()));
        assert_eq!(
            check("anna.svensson", "Anna.Svensson"),
            Err(PasswordProblem::SameAsName)
        );
        assert_eq!(
            check("anna", "ett långt\nlösenord"),
            Err(PasswordProblem::ControlCharacters)
        );
        assert_eq!(
            check("anna", &"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(
            format!("{:?}", Password::new("hemligt")),
            "Password(<redacted>)"
        );
    }

    #[test]
    fn csrf_tokens_are_derived_and_checked() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let secret = SessionSecret::generate(&mut rng);
        let other = SessionSecret::generate(&mut rng);
        assert_eq!(secret.expose().len(), 64);
        let csrf = secret.csrf_token();
        assert!(csrf.matches(&csrf.to_hex()));
        assert!(!csrf.matches(&other.csrf_token().to_hex()));
        assert!(!csrf.matches(""));
        assert!(!csrf.matches(&csrf.to_hex()[..63]));
        assert!(!csrf.matches(&csrf.to_hex().to_uppercase()));
        // The token is not the secret, nor its stored hash.
        assert_ne!(csrf.to_hex(), secret.expose());
        let key = RecordKey::derive(&integritet_crypto::BlindIndexKey::generate(&mut rng));
        assert_ne!(csrf.to_hex(), hex(&secret.hash(&key)));
        assert!(!format!("{secret:?}{csrf:?}").contains(secret.expose()));
        assert!(SessionSecret::parse(secret.expose()).is_some());
        assert!(SessionSecret::parse(&secret.expose().to_uppercase()).is_none());
        assert!(SessionSecret::parse("abc").is_none());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let password = Password::new("correct horse battery");
        let hash = hash_password(&password, &mut rng).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            verify_password(Some(hash.clone()), &password)
                .await
                .unwrap()
        );
        let wrong = Password::new("correct horse battery!");
        assert!(!verify_password(Some(hash.clone()), &wrong).await.unwrap());
        assert!(!verify_password(None, &password).await.unwrap());
        assert!(
            !verify_password(Some("not a hash".into()), &password)
                .await
                .unwrap()
        );
        // A fresh salt every time.
        assert_ne!(hash, hash_password(&password, &mut rng).await.unwrap());
    }
}
