//! TOTP credentials and recovery codes.

use diesel::prelude::*;

use super::schema::{recovery_codes, totp_credentials};
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

pub use crate::store::factors::totp_secret_context;

pub use crate::store::TotpRow;

pub fn totp(conn: &mut AnyConnection, user_id: &str) -> Result<Option<TotpRow>, StorageError> {
    Ok(totp_credentials::table
        .find(user_id)
        .select((
            totp_credentials::user_id,
            totp_credentials::secret_sealed,
            totp_credentials::confirmed_at,
            totp_credentials::last_step,
            totp_credentials::created_at,
        ))
        .first::<(String, String, Option<Millis>, i64, Millis)>(conn)
        .optional()?
        .map(|r| TotpRow {
            user_id: r.0,
            secret_sealed: r.1,
            confirmed_at: r.2,
            last_step: r.3,
            created_at: r.4,
        }))
}

/// Start (or restart) an enrolment: a new unconfirmed secret replaces an
/// unconfirmed one; a confirmed TOTP must be removed first.
pub fn begin_totp(
    conn: &mut AnyConnection,
    user_id: &str,
    secret_sealed: &str,
    now: Millis,
) -> Result<(), StorageError> {
    diesel::delete(
        totp_credentials::table
            .filter(totp_credentials::user_id.eq(user_id))
            .filter(totp_credentials::confirmed_at.is_null()),
    )
    .execute(conn)?;
    diesel::insert_into(totp_credentials::table)
        .values((
            totp_credentials::user_id.eq(user_id),
            totp_credentials::secret_sealed.eq(secret_sealed),
            totp_credentials::last_step.eq(0i64),
            totp_credentials::created_at.eq(now),
        ))
        .execute(conn)
        .map_err(super::conflict_as("an authenticator app"))?;
    Ok(())
}

/// Accept time step `step` for the user, only if it is later than the last
/// accepted one (a compare-and-set, so two concurrent uses of one code cannot
/// both pass). Confirms a pending enrolment. Returns false on a replay.
pub fn accept_totp_step(
    conn: &mut AnyConnection,
    user_id: &str,
    step: i64,
    now: Millis,
) -> Result<bool, StorageError> {
    let n = diesel::update(
        totp_credentials::table
            .filter(totp_credentials::user_id.eq(user_id))
            .filter(totp_credentials::last_step.lt(step)),
    )
    .set((
        totp_credentials::last_step.eq(step),
        totp_credentials::confirmed_at.eq(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        >(&format!("COALESCE(confirmed_at, {now})"))),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn remove_totp(conn: &mut AnyConnection, user_id: &str) -> Result<bool, StorageError> {
    Ok(diesel::delete(totp_credentials::table.find(user_id)).execute(conn)? == 1)
}

/// Replace the user's recovery codes with `hashes`.
pub fn replace_recovery_codes(
    conn: &mut AnyConnection,
    user_id: &str,
    hashes: &[String],
    now: Millis,
) -> Result<(), StorageError> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    for h in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(h),
                recovery_codes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Use a recovery code once: true if it existed and was unused.
pub fn use_recovery_code(
    conn: &mut AnyConnection,
    user_id: &str,
    hash: &str,
    now: Millis,
) -> Result<bool, StorageError> {
    let n = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn unused_recovery_codes(conn: &mut AnyConnection, user_id: &str) -> Result<i64, StorageError> {
    Ok(recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?)
}

pub fn has_recovery_codes(conn: &mut AnyConnection, user_id: &str) -> Result<bool, StorageError> {
    let n: i64 = recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Remove the user's TOTP and recovery codes: (had a TOTP, recovery codes removed).
pub fn remove_all(conn: &mut AnyConnection, user_id: &str) -> Result<(bool, usize), StorageError> {
    let totp = remove_totp(conn, user_id)?;
    let codes = diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    Ok((totp, codes))
}
