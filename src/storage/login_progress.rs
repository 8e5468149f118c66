//! Sign-ins between their first and second factor, and the browsers each user
//! has signed in from.

use diesel::prelude::*;

use super::schema::{known_devices, login_progress};
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

pub use crate::store::ProgressRow;

pub fn insert(conn: &mut AnyConnection, row: &ProgressRow) -> Result<(), StorageError> {
    diesel::insert_into(login_progress::table)
        .values((
            login_progress::id_hash.eq(&row.id_hash),
            login_progress::user_id.eq(&row.user_id),
            login_progress::state.eq(&row.state),
            login_progress::created_at.eq(row.created_at),
            login_progress::expires_at.eq(row.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(
    conn: &mut AnyConnection,
    id_hash: &str,
    now: Millis,
) -> Result<Option<ProgressRow>, StorageError> {
    Ok(login_progress::table
        .find(id_hash)
        .filter(login_progress::expires_at.gt(now))
        .select((
            login_progress::id_hash,
            login_progress::user_id,
            login_progress::state,
            login_progress::created_at,
            login_progress::expires_at,
        ))
        .first::<(String, Option<String>, String, Millis, Millis)>(conn)
        .optional()?
        .map(|r| ProgressRow {
            id_hash: r.0,
            user_id: r.1,
            state: r.2,
            created_at: r.3,
            expires_at: r.4,
        }))
}

/// End a sign-in in progress; true if this call ended it (so it completes once).
pub fn finish(conn: &mut AnyConnection, id_hash: &str) -> Result<bool, StorageError> {
    Ok(diesel::delete(login_progress::table.find(id_hash)).execute(conn)? == 1)
}

pub fn purge(conn: &mut AnyConnection, now: Millis) -> Result<usize, StorageError> {
    Ok(
        diesel::delete(login_progress::table.filter(login_progress::expires_at.le(now)))
            .execute(conn)?,
    )
}

/// Note that the user signed in from this browser; true if it is the first time.
pub fn note_device(
    conn: &mut AnyConnection,
    user_id: &str,
    device_hash: &str,
    now: Millis,
) -> Result<bool, StorageError> {
    let seen = diesel::update(
        known_devices::table
            .filter(known_devices::user_id.eq(user_id))
            .filter(known_devices::device_hash.eq(device_hash)),
    )
    .set(known_devices::last_seen.eq(now))
    .execute(conn)?;
    if seen == 1 {
        return Ok(false);
    }
    // Two sign-ins from one new browser at once: the second finds the first's row.
    let inserted = super::on_backend!(conn, c => diesel::insert_into(known_devices::table)
        .values((
            known_devices::user_id.eq(user_id),
            known_devices::device_hash.eq(device_hash),
            known_devices::first_seen.eq(now),
            known_devices::last_seen.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}
