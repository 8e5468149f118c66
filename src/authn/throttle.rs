//! Brute-force throttling policy (NIST SP 800-63B §5.2.2): growing delays after
//! a few failures, per account name and per client address, and a lock after
//! 100 consecutive failures on one account. Pure: the numbers live here, the
//! counters in the store (`store::ThrottleStore`).

use crate::clock::Millis;
use crate::store::throttle::Rule;

/// Consecutive failures on one account name before delays start.
pub const ACCOUNT_FREE: i64 = 5;
/// NIST SP 800-63B §5.2.2: "no more than 100 consecutive failed attempts".
pub const ACCOUNT_LOCK_AT: i64 = 100;
/// Failures from one address (any accounts) before delays start. Generous, and
/// capped at a minute: a hospital's staff may share one NAT address, and one
/// person's typos must not lock out a ward.
pub const ADDRESS_FREE: i64 = 50;
pub const ADDRESS_MAX_DELAY: Millis = 60 * 1000;
/// An address's failures are forgotten after an hour without one.
pub const ADDRESS_WINDOW: Millis = 3_600_000;
/// The longest delay between two attempts.
pub const MAX_DELAY: Millis = 15 * 60 * 1000;
/// A locked account stays locked until an administrator enables it again.
pub const LOCKED: Millis = i64::MAX / 2;

/// How long to refuse attempts after the `failures`-th failure, when `free`
/// failures are allowed without delay: 1 s, 2 s, 4 s, … up to 15 minutes.
pub fn delay(failures: i64, free: i64) -> Millis {
    if failures < free {
        return 0;
    }
    let exponent = (failures - free).min(20) as u32;
    (1000i64 << exponent).min(MAX_DELAY)
}

/// When an account name may be tried again after its `failures`-th consecutive failure.
pub fn account_blocked_until(failures: i64, now: Millis) -> Millis {
    if failures >= ACCOUNT_LOCK_AT {
        LOCKED
    } else {
        now + delay(failures, ACCOUNT_FREE)
    }
}

pub fn address_blocked_until(failures: i64, now: Millis) -> Millis {
    now + delay(failures, ADDRESS_FREE).min(ADDRESS_MAX_DELAY)
}

/// An account name's failures: never forgotten, only ended by a success.
pub const ACCOUNT: Rule = Rule {
    window: None,
    blocked_until: account_blocked_until,
};

/// A client address's failures, forgotten after [`ADDRESS_WINDOW`].
pub const ADDRESS: Rule = Rule {
    window: Some(ADDRESS_WINDOW),
    blocked_until: address_blocked_until,
};

/// Codes Ward emails to one account in an hour, at most.
pub const MAX_EMAIL_CODES_PER_HOUR: i64 = 5;

/// Sends of emailed codes are counted like failures: five an hour, then
/// none until the hour is over.
pub const EMAIL_CODES: Rule = Rule {
    window: Some(3_600_000),
    blocked_until: email_codes_blocked_until,
};

fn email_codes_blocked_until(sent: i64, now: Millis) -> Millis {
    if sent >= MAX_EMAIL_CODES_PER_HOUR {
        now + 3_600_000
    } else {
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(delay(4, ACCOUNT_FREE), 0);
        assert_eq!(delay(5, ACCOUNT_FREE), 1000);
        assert_eq!(delay(6, ACCOUNT_FREE), 2000);
        assert_eq!(delay(9, ACCOUNT_FREE), 16_000);
        assert_eq!(delay(60, ACCOUNT_FREE), MAX_DELAY);
    }

    #[test]
    fn an_account_locks_at_one_hundred_consecutive_failures() {
        assert!(account_blocked_until(99, 0) < LOCKED);
        assert_eq!(account_blocked_until(100, 0), LOCKED);
    }
}
