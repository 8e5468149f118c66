//! Brute-force throttle counters (NIST SP 800-63B §5.2.2). The policy (how
//! many failures, what delay) is `authn::throttle`'s; the counts live here.

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;

/// The throttle key of an account name.
pub fn account_key(username: &str) -> String {
    format!("user:{username}")
}

/// The throttle key of a client address.
pub fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// How one key's failures become a delay.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Failures older than this are forgotten (None: never).
    pub window: Option<Millis>,
    /// The new count and now -> until when attempts are refused.
    pub blocked_until: fn(i64, Millis) -> Millis,
}

pub trait ThrottleStore {
    /// The latest `blocked_until` among `keys`, if any is in the future.
    fn blocked_until(&self, keys: &[String], now: Millis) -> Result<Option<Millis>, StoreError>;
    /// Count one failure against the account key and the address key (each
    /// with its rule; either may be absent) and write the audit records that
    /// `audit` makes of the account's new count, in one transaction. Returns
    /// the account's count (0 without an account key).
    fn count_failure(
        &self,
        account: Option<(&str, Rule)>,
        address: Option<(&str, Rule)>,
        now: Millis,
        audit: &dyn Fn(i64) -> Vec<AuditEvent>,
    ) -> Result<i64, StoreError>;
    /// Forget the failures of `key` (a successful sign-in).
    fn reset_failures(&self, key: &str) -> Result<(), StoreError>;
}
