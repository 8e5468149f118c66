//! Sign-ins between their first and second factor, and the browsers each user
//! has signed in from.

use diesel::prelude::*;

use super::schema::{known_devices, login_progress};
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = login_progress)]
pub struct ProgressRow {
    pub id_hash: String,
    /// None for an account that does not exist: the sign-in carries on
    /// indistinguishably and never succeeds.
    pub user_id: Option<String>,
    /// JSON `authn::login::Progress`: the username typed and the factors proven so far.
    pub state: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

pub fn insert(conn: &mut AnyConnection, row: &ProgressRow) -> Result<(), StorageError> {
    diesel::insert_into(login_progress::table)
        .values(row)
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
        .select(ProgressRow::as_select())
        .first(conn)
        .optional()?)
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
