//! Time is a parameter: code that needs "now" asks a [`Clock`], so a retention test can say
//! "now is 2031-01-01" and get the same answer every run.

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;

    /// Today's date in UTC.
    fn today(&self) -> time::Date {
        self.now().date()
    }
}

/// The real wall clock. The only place that reads the system time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned reading of the system clock
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that always answers the same instant; for tests and for `--now` options.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// A clock tests can move: "now is 2034-01-01" in the middle of a scenario.
#[derive(Debug, Clone)]
pub struct ManualClock(std::sync::Arc<std::sync::Mutex<OffsetDateTime>>);

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> ManualClock {
        ManualClock(std::sync::Arc::new(std::sync::Mutex::new(start)))
    }

    pub fn set(&self, now: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = now;
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
