//! Deleting what can no longer be used, so that the tables stay small and a
//! flood of abandoned sign-ins cannot grow the database without bound.

use diesel::prelude::*;

use super::schema::{
    auth_requests, authorization_codes, client_assertions, grants, login_throttle, refresh_tokens,
    revoked_tokens, sessions, smart_launches,
};
use super::{Database, StorageError};
use crate::clock::Millis;

const HOUR: Millis = 3_600_000;
/// Grants outlive their expiry by the longest access-token lifetime (24 h), so
/// that an access token of an expired grant is still checked against it.
const DAY: Millis = 24 * HOUR;
/// The most grants, and the most sessions, one purge deletes.
const BATCH: i64 = 5_000;

/// Delete expired rows; returns how many. `account_free`: an account's run of
/// failures shorter than this is forgotten after a day (the throttle's policy,
/// `authn::throttle::ACCOUNT_FREE`); longer runs are kept. Disclosure rows
/// older than `disclosure_retention_days` go too (docs/privacy.md).
pub fn expired(
    db: &Database,
    now: Millis,
    account_free: i64,
    disclosure_retention_days: u32,
) -> Result<usize, StorageError> {
    db.transaction(|c| {
        let mut n = 0;
        n += diesel::delete(auth_requests::table.filter(auth_requests::expires_at.lt(now - HOUR)))
            .execute(c)?;
        n += diesel::delete(
            authorization_codes::table.filter(authorization_codes::expires_at.lt(now - HOUR)),
        )
        .execute(c)?;
        n += diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.lt(now)))
            .execute(c)?;
        // SMART launches live minutes; an hour later nobody can use one.
        n +=
            diesel::delete(smart_launches::table.filter(smart_launches::expires_at.lt(now - HOUR)))
                .execute(c)?;
        n += diesel::delete(client_assertions::table.filter(client_assertions::expires_at.lt(now)))
            .execute(c)?;
        // Grants and sessions can pile up by the million: at most BATCH of
        // each per run (every minute), so that one run never holds SQLite's
        // write lock for long; a backlog drains over the following runs.
        let old_grants: Vec<String> = grants::table
            .filter(grants::expires_at.lt(now - DAY))
            .select(grants::id)
            .limit(BATCH)
            .load(c)?;
        n += diesel::delete(
            refresh_tokens::table.filter(refresh_tokens::grant_id.eq_any(&old_grants)),
        )
        .execute(c)?;
        n += diesel::delete(grants::table.filter(grants::id.eq_any(&old_grants))).execute(c)?;
        let old_sessions: Vec<String> = sessions::table
            .filter(sessions::expires_at.lt(now - DAY))
            .select(sessions::id_hash)
            .limit(BATCH)
            .load(c)?;
        n += diesel::delete(sessions::table.filter(sessions::id_hash.eq_any(&old_sessions)))
            .execute(c)?;
        // Address counters are windowed anyway; account counters are consecutive
        // failures and are kept (NIST's limit of 100), unless they are few and old.
        n += diesel::delete(
            login_throttle::table
                .filter(login_throttle::last_failure_at.lt(now - DAY))
                .filter(
                    login_throttle::key
                        .like("ip:%")
                        .or(login_throttle::failures.lt(account_free)),
                ),
        )
        .execute(c)?;
        n += super::passkeys::purge_ceremonies(c, now)?;
        n += super::email_codes::purge(c, now)?;
        n += super::login_progress::purge(c, now)?;
        n += super::disclosures::purge(c, now - i64::from(disclosure_retention_days) * DAY)?;
        Ok::<_, StorageError>(n)
    })
}
