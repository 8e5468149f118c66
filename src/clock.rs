//! Time as a dependency, so that expiry, TOTP windows and timeouts are testable.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC. The unit every table stores.
pub type Millis = i64;

pub trait Clock: Send + Sync {
    fn now_ms(&self) -> Millis;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(at: Millis) -> Self {
        Self(AtomicI64::new(at))
    }

    pub fn advance_ms(&self, by: Millis) {
        self.0.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

/// The environment variable that turns on [`OffsetFileClock`]: for tests only.
pub const TEST_CLOCK_VARIABLE: &str = "WARD_TEST_CLOCK_FILE";

/// The wall clock plus an offset read from a file on every call, so that a
/// test can move a running server's time forward (session timeouts, code
/// expiry) over real HTTP. Never for production: whoever can write the file
/// controls every expiry. `ward serve` logs a warning when it is on.
#[derive(Debug)]
pub struct OffsetFileClock {
    path: std::path::PathBuf,
}

impl OffsetFileClock {
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The clock chosen by the environment: the offset clock when
    /// [`TEST_CLOCK_VARIABLE`] names a file, otherwise the wall clock.
    /// Release builds never honour it: only debug builds (what `cargo test`
    /// runs) can have their time moved.
    pub fn from_env() -> Option<Self> {
        if !cfg!(debug_assertions) {
            return None;
        }
        std::env::var_os(TEST_CLOCK_VARIABLE)
            .filter(|v| !v.is_empty())
            .map(Self::new)
    }

    fn offset(&self) -> Millis {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Clock for OffsetFileClock {
    fn now_ms(&self) -> Millis {
        SystemClock.now_ms() + self.offset()
    }
}

/// RFC 3339 rendering for listings and exports.
pub fn to_rfc3339(ms: Millis) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_advanced() {
        let c = FixedClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance_ms(500);
        assert_eq!(c.now_ms(), 1_500);
    }

    #[test]
    fn offset_file_clock_follows_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offset");
        let c = OffsetFileClock::new(&path);
        let before = SystemClock.now_ms();
        assert!(c.now_ms() - before < 1_000, "no file: no offset");
        std::fs::write(&path, "3600000\n").unwrap();
        assert!(c.now_ms() - before >= 3_600_000);
        std::fs::write(&path, "garbage").unwrap();
        assert!(c.now_ms() - before < 1_000, "unreadable: no offset");
    }

    #[test]
    fn renders_rfc3339_in_utc() {
        assert_eq!(to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(to_rfc3339(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
    }
}
