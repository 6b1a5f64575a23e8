//! Floods: limits per client address and per account on logins, per caller on lookups, and an
//! exponential backoff per address after failed logins.
//!
//! A refused attempt costs no password hash and no audit row of its own: the first refusal of
//! an address's backoff period is audited once, with how long it lasts, and the rest are only
//! counted (`/metrics`), so a flood can neither starve real users of the hashing threads nor
//! grow the log without bound. The backoff is per address, not per account, so a stranger
//! failing logins slows down themselves and not the account's owner elsewhere.
//!
//! A browser that presents a known-device cookie of the account
//! ([`integritet_app::known_devices`]) counts as a client of its own instead of its address,
//! and the limit per account does not apply to it: a stranger flooding an account, even from
//! the owner's own network, neither spends the owner's attempts nor starts the owner's backoff.
//!
//! The client address is the TCP peer. Behind a reverse proxy every client shares the proxy's
//! address; limit there, or serve directly.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::ConnectInfo;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use time::OffsetDateTime;

/// Failed logins from one address before the backoff starts.
pub const FREE_FAILURES: u32 = 3;
/// The longest backoff: it doubles with each further failure up to this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered in backoff; past this, the ones whose backoff has ended go first.
const MAX_TRACKED: usize = 100_000;
/// Keyed limiter states kept before stale ones are dropped.
const PRUNE_AT: usize = 10_000;

/// How much each caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Login attempts per minute from one address (and at once).
    pub logins_per_address: NonZeroU32,
    /// Login attempts per minute for one account name, from anywhere.
    pub logins_per_account: NonZeroU32,
    /// Lookups per second by one caller (token or session); five seconds' worth at once.
    pub lookups_per_caller: NonZeroU32,
    /// Requests per minute from one address to the public pages that act on a person's data
    /// (unsubscribe links); a fifth of that at once.
    pub public_per_address: NonZeroU32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            logins_per_address: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            logins_per_account: NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN),
            lookups_per_caller: NonZeroU32::new(200).unwrap_or(NonZeroU32::MIN),
            public_per_address: NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// An attempt that must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// When to try again.
    pub retry_after: Duration,
    /// Whether this is the first refusal of a backoff period (audited; the rest are counted).
    pub first: bool,
}

#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    until: OffsetDateTime,
    /// Whether a refusal in the current period was audited already.
    reported: bool,
}

/// Who is trying to log in, as far as the limits are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LoginClient {
    /// A client known only by its address.
    Address(IpAddr),
    /// A browser with a known-device cookie of the account tried (the cookie's value).
    KnownDevice(String),
}

/// The limits of one server.
pub struct Throttle {
    logins_by_client: DefaultKeyedRateLimiter<LoginClient>,
    logins_by_account: DefaultKeyedRateLimiter<String>,
    lookups_by_caller: DefaultKeyedRateLimiter<String>,
    public_by_address: DefaultKeyedRateLimiter<IpAddr>,
    backoff: Mutex<HashMap<LoginClient, Backoff>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").finish_non_exhaustive()
    }
}

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle::new(Limits::default())
    }
}

impl Throttle {
    pub fn new(limits: Limits) -> Throttle {
        Throttle {
            logins_by_client: DefaultKeyedRateLimiter::keyed(Quota::per_minute(
                limits.logins_per_address,
            )),
            logins_by_account: DefaultKeyedRateLimiter::keyed(Quota::per_minute(
                limits.logins_per_account,
            )),
            // A caller checking a batch may go a few seconds' worth ahead.
            lookups_by_caller: DefaultKeyedRateLimiter::keyed(
                Quota::per_second(limits.lookups_per_caller).allow_burst(
                    limits
                        .lookups_per_caller
                        .saturating_mul(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN)),
                ),
            ),
            public_by_address: DefaultKeyedRateLimiter::keyed(
                Quota::per_minute(limits.public_per_address).allow_burst(
                    NonZeroU32::new(limits.public_per_address.get().div_ceil(5))
                        .unwrap_or(NonZeroU32::MIN),
                ),
            ),
            backoff: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `address` may use a public page now.
    pub fn check_public(&self, address: IpAddr) -> Result<(), Throttled> {
        limit(&self.public_by_address, &address)
    }

    fn backoffs(&self) -> std::sync::MutexGuard<'_, HashMap<LoginClient, Backoff>> {
        self.backoff.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a login from `address` for `account` may be checked now.
    pub fn check_login(
        &self,
        client: &LoginClient,
        account: &str,
        now: OffsetDateTime,
    ) -> Result<(), Throttled> {
        if let Some(backoff) = self.backoffs().get_mut(client)
            && backoff.until > now
        {
            let first = !backoff.reported;
            backoff.reported = true;
            return Err(Throttled {
                retry_after: (backoff.until - now).unsigned_abs(),
                first,
            });
        }
        limit(&self.logins_by_client, client)?;
        match client {
            LoginClient::Address(_) => {
                limit(&self.logins_by_account, &account.to_ascii_lowercase())
            }
            // The owner's browser does not queue behind strangers trying the same account.
            LoginClient::KnownDevice(_) => Ok(()),
        }
    }

    /// A login from `client` failed: past [`FREE_FAILURES`] it waits 1 s, 2 s, 4 s, … up to
    /// [`MAX_BACKOFF`] before its next try.
    pub fn login_failed(&self, client: &LoginClient, now: OffsetDateTime) {
        let mut backoffs = self.backoffs();
        if backoffs.len() >= MAX_TRACKED {
            backoffs.retain(|_, b| b.until > now);
            if backoffs.len() >= MAX_TRACKED {
                backoffs.clear();
            }
        }
        let entry = backoffs.entry(client.clone()).or_insert(Backoff {
            failures: 0,
            until: now,
            reported: false,
        });
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures > FREE_FAILURES {
            let doublings = (entry.failures - FREE_FAILURES - 1).min(20);
            let wait = Duration::from_secs(1u64 << doublings).min(MAX_BACKOFF);
            entry.until = now + wait;
            entry.reported = false;
        }
    }

    /// A login from `client` succeeded: its failures are forgotten.
    pub fn login_succeeded(&self, client: &LoginClient) {
        self.backoffs().remove(client);
    }

    /// Whether `caller` (an actor id) may look up now.
    pub fn check_lookup(&self, caller: &str) -> Result<(), Throttled> {
        limit(&self.lookups_by_caller, &caller.to_owned())
    }
}

fn limit<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Throttled>
where
    K: std::hash::Hash + Eq + Clone,
{
    if limiter.len() > PRUNE_AT {
        limiter.retain_recent();
    }
    limiter.check_key(key).map_err(|not_until| Throttled {
        retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        first: false,
    })
}

/// The client address of a request served by `serve` (the TCP peer); a request that did not
/// come over a socket (a test's `oneshot`) counts as one unknown client.
pub fn client_address<B>(request: &axum::http::Request<B>) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-12-03 12:00 UTC);

    #[test]
    fn the_backoff_doubles_per_address_and_ends_with_a_success() {
        let throttle = Throttle::default();
        let stranger = LoginClient::Address("127.0.0.2".parse().unwrap());
        let owner = LoginClient::Address("127.0.0.3".parse().unwrap());
        for _ in 0..FREE_FAILURES {
            assert!(throttle.check_login(&stranger, "anna", T0).is_ok());
            throttle.login_failed(&stranger, T0);
        }
        assert!(throttle.check_login(&stranger, "anna", T0).is_ok());
        throttle.login_failed(&stranger, T0);
        let refused = throttle.check_login(&stranger, "anna", T0).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        assert!(refused.first);
        assert!(
            !throttle
                .check_login(&stranger, "anna", T0)
                .unwrap_err()
                .first
        );
        // The owner, elsewhere or at a known browser on the stranger's own network, is not
        // slowed down by the stranger.
        assert!(throttle.check_login(&owner, "anna", T0).is_ok());
        let known = LoginClient::KnownDevice("cookie".into());
        assert!(throttle.check_login(&known, "anna", T0).is_ok());
        let later = T0 + Duration::from_secs(1);
        assert!(throttle.check_login(&stranger, "anna", later).is_ok());
        throttle.login_failed(&stranger, later);
        let refused = throttle.check_login(&stranger, "anna", later).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_secs(2));
        assert!(refused.first, "a new period is audited once again");
        for n in 0..30 {
            throttle.login_failed(&stranger, later + Duration::from_secs(n));
        }
        let capped = throttle
            .check_login(&stranger, "anna", later + Duration::from_secs(29))
            .unwrap_err();
        assert_eq!(capped.retry_after, MAX_BACKOFF);
        throttle.login_succeeded(&stranger);
        assert!(throttle.check_login(&stranger, "anna", later).is_ok());
    }

    #[test]
    fn bursts_beyond_the_limits_wait() {
        let limits = Limits {
            logins_per_address: NonZeroU32::new(3).unwrap(),
            logins_per_account: NonZeroU32::new(5).unwrap(),
            lookups_per_caller: NonZeroU32::new(2).unwrap(),
            public_per_address: NonZeroU32::new(5).unwrap(),
        };
        let throttle = Throttle::new(limits);
        let one = LoginClient::Address("127.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert!(throttle.check_login(&one, "anna", T0).is_ok());
        }
        let refused = throttle.check_login(&one, "anna", T0).unwrap_err();
        assert!(refused.retry_after > Duration::ZERO);
        // Per account too, whatever the address.
        for n in 3..5u8 {
            let other = LoginClient::Address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)));
            assert!(throttle.check_login(&other, "ANNA", T0).is_ok());
        }
        let other = LoginClient::Address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9)));
        assert!(throttle.check_login(&other, "anna", T0).is_err());
        assert!(throttle.check_login(&other, "bo", T0).is_ok());
        // The owner's known browser is not held back by the account's limit, only by its own.
        let known = LoginClient::KnownDevice("cookie".into());
        for _ in 0..3 {
            assert!(throttle.check_login(&known, "anna", T0).is_ok());
        }
        assert!(throttle.check_login(&known, "anna", T0).is_err());
        for _ in 0..10 {
            assert!(throttle.check_lookup("token:a").is_ok());
        }
        assert!(throttle.check_lookup("token:a").is_err());
        assert!(throttle.check_lookup("token:b").is_ok());
    }
}
