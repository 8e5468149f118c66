//! Ending browser sessions (sign-out).

use diesel::prelude::*;

use super::schema::sessions;
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

/// End a session; true if it was live.
pub fn end(conn: &mut AnyConnection, id_hash: &str, now: Millis) -> Result<bool, StorageError> {
    let n = diesel::update(
        sessions::table
            .find(id_hash)
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}
