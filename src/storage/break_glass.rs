//! Break-glass elevations and their review.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::break_glass;
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = break_glass)]
pub struct Elevation {
    pub id: String,
    pub user_id: String,
    pub tenant: String,
    pub reason: String,
    pub started_at: Millis,
    pub expires_at: Millis,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Millis>,
    pub review_note: Option<String>,
}

pub fn insert(conn: &mut AnyConnection, e: &Elevation) -> Result<(), StorageError> {
    diesel::insert_into(break_glass::table)
        .values(e)
        .execute(conn)?;
    Ok(())
}

/// The user's elevation in `tenant` that is in force at `now`, if any.
pub fn active(
    conn: &mut AnyConnection,
    user_id: &str,
    tenant: &str,
    now: Millis,
) -> Result<Option<Elevation>, StorageError> {
    Ok(break_glass::table
        .filter(break_glass::user_id.eq(user_id))
        .filter(break_glass::tenant.eq(tenant))
        .filter(break_glass::expires_at.gt(now))
        .filter(break_glass::started_at.le(now))
        .order(break_glass::expires_at.desc())
        .select(Elevation::as_select())
        .first(conn)
        .optional()?)
}

/// Elevations, newest first; only those awaiting review when `pending`.
pub fn list(
    conn: &mut AnyConnection,
    pending: bool,
    limit: i64,
) -> Result<Vec<Elevation>, StorageError> {
    let mut q = break_glass::table
        .select(Elevation::as_select())
        .order(break_glass::started_at.desc())
        .limit(limit)
        .into_boxed();
    if pending {
        q = q.filter(break_glass::reviewed_at.is_null());
    }
    Ok(q.load(conn)?)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Elevation>, StorageError> {
    if !super::storable_key(id) {
        return Ok(None);
    }
    Ok(break_glass::table
        .find(id)
        .select(Elevation::as_select())
        .first(conn)
        .optional()?)
}

/// Sign an elevation off; false if it was already reviewed (or does not exist).
pub fn review(
    conn: &mut AnyConnection,
    id: &str,
    reviewer: &str,
    note: &str,
    now: Millis,
) -> Result<bool, StorageError> {
    let n = diesel::update(
        break_glass::table
            .find(id)
            .filter(break_glass::reviewed_at.is_null()),
    )
    .set((
        break_glass::reviewed_by.eq(reviewer),
        break_glass::reviewed_at.eq(now),
        break_glass::review_note.eq(note),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
