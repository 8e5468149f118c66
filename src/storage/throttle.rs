//! Failure counters for brute-force throttling.

use diesel::prelude::*;

use super::schema::login_throttle;
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

/// The latest `blocked_until` among `keys`, if any is in the future.
pub fn blocked_until(
    conn: &mut AnyConnection,
    keys: &[String],
    now: Millis,
) -> Result<Option<Millis>, StorageError> {
    let until: Option<i64> = login_throttle::table
        .filter(login_throttle::key.eq_any(keys))
        .filter(login_throttle::blocked_until.gt(now))
        .select(diesel::dsl::max(login_throttle::blocked_until))
        .first(conn)?;
    Ok(until)
}

/// Count a failure for `key`; `window` forgets older failures (None: never);
/// `block` turns the new count into a `blocked_until`. Returns the new count.
pub fn record_failure(
    conn: &mut AnyConnection,
    key: &str,
    now: Millis,
    window: Option<Millis>,
    block: impl Fn(i64, Millis) -> Millis,
) -> Result<i64, StorageError> {
    let current: Option<(i64, i64)> = login_throttle::table
        .find(key)
        .select((login_throttle::failures, login_throttle::last_failure_at))
        .first(conn)
        .optional()?;
    let failures = match (current, window) {
        (Some((_, last)), Some(w)) if now - last > w => 1,
        (Some((n, _)), _) => n + 1,
        (None, _) => 1,
    };
    let until = block(failures, now);
    let updated = diesel::update(login_throttle::table.find(key))
        .set((
            login_throttle::failures.eq(failures),
            login_throttle::last_failure_at.eq(now),
            login_throttle::blocked_until.eq(until),
        ))
        .execute(conn)?;
    if updated == 0 {
        let inserted = super::on_backend!(conn, c => diesel::insert_into(login_throttle::table)
            .values((
                login_throttle::key.eq(key),
                login_throttle::failures.eq(failures),
                login_throttle::last_failure_at.eq(now),
                login_throttle::blocked_until.eq(until),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 0 {
            // A concurrent failure for the same key created the row first:
            // count this one on top of it (the row now exists, so this updates).
            return record_failure(conn, key, now, window, block);
        }
    }
    Ok(failures)
}

/// Forget the failures of `key` (a successful sign-in, or an administrator's unlock).
pub fn reset(conn: &mut AnyConnection, key: &str) -> Result<(), StorageError> {
    diesel::delete(login_throttle::table.find(key)).execute(conn)?;
    Ok(())
}

pub use crate::store::throttle::{account_key, address_key};
