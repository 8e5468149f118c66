//! Break-glass elevations and their review. Rows are read into the store's
//! [`Elevation`]; storage has no copy of its own.

use diesel::prelude::*;

use super::schema::break_glass;
use super::{AnyConnection, StorageError, columns};
use crate::clock::Millis;

pub use crate::store::elevations::Elevation;

type Row = (
    String,
    String,
    String,
    String,
    Millis,
    Millis,
    Option<String>,
    Option<Millis>,
    Option<String>,
);

columns!(
    COLUMNS = break_glass(
        id,
        user_id,
        tenant,
        reason,
        started_at,
        expires_at,
        reviewed_by,
        reviewed_at,
        review_note,
    )
);

fn to_elevation(r: Row) -> Elevation {
    Elevation {
        id: r.0,
        user_id: r.1,
        tenant: r.2,
        reason: r.3,
        started_at: r.4,
        expires_at: r.5,
        reviewed_by: r.6,
        reviewed_at: r.7,
        review_note: r.8,
    }
}

pub fn insert(conn: &mut AnyConnection, e: &Elevation) -> Result<(), StorageError> {
    diesel::insert_into(break_glass::table)
        .values((
            break_glass::id.eq(&e.id),
            break_glass::user_id.eq(&e.user_id),
            break_glass::tenant.eq(&e.tenant),
            break_glass::reason.eq(&e.reason),
            break_glass::started_at.eq(e.started_at),
            break_glass::expires_at.eq(e.expires_at),
            break_glass::reviewed_by.eq(e.reviewed_by.as_deref()),
            break_glass::reviewed_at.eq(e.reviewed_at),
            break_glass::review_note.eq(e.review_note.as_deref()),
        ))
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
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(to_elevation))
}

/// Elevations, newest first; only those awaiting review when `pending`.
pub fn list(
    conn: &mut AnyConnection,
    pending: bool,
    limit: i64,
) -> Result<Vec<Elevation>, StorageError> {
    let mut q = break_glass::table
        .select(COLUMNS)
        .order(break_glass::started_at.desc())
        .limit(limit)
        .into_boxed();
    if pending {
        q = q.filter(break_glass::reviewed_at.is_null());
    }
    Ok(q.load::<Row>(conn)?.into_iter().map(to_elevation).collect())
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Elevation>, StorageError> {
    if !super::storable_key(id) {
        return Ok(None);
    }
    Ok(break_glass::table
        .find(id)
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(to_elevation))
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
