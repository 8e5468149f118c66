//! Browser sessions as administrators see them: a user's sessions, page by
//! page, and ending one or all of them (sign-out, the admin API).

use diesel::prelude::*;

use super::schema::{grants, sessions};
use super::{AnyConnection, StorageError, from_json_list};
use crate::clock::Millis;
use crate::oidc::store::SessionRow;

/// End a session; true if it was live. The grants issued under it end too,
/// unless they were granted `offline_access` (which is meant to outlive the
/// sign-in): their access tokens turn inactive and cannot be refreshed.
pub fn end(conn: &mut AnyConnection, id_hash: &str, now: Millis) -> Result<bool, StorageError> {
    let n = diesel::update(
        sessions::table
            .find(id_hash)
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(Some(now)))
    .execute(conn)?;
    if n == 1 {
        // Back-Channel Logout: every client the session reached hears of it.
        super::logout_outbox::enqueue_for_session(conn, id_hash, now)?;
        diesel::update(
            grants::table
                .filter(grants::session_hash.eq(id_hash))
                .filter(grants::revoked_at.is_null())
                .filter(grants::scope.not_like("%offline_access%")),
        )
        .set(grants::revoked_at.eq(Some(now)))
        .execute(conn)?;
    }
    Ok(n == 1)
}

type Row = (
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
);

fn to_session(r: Row) -> Result<SessionRow, StorageError> {
    Ok(SessionRow {
        id_hash: r.0,
        user_id: r.1,
        created_at: r.2,
        last_seen_at: r.3,
        expires_at: r.4,
        auth_time: r.5,
        acr: r.6,
        amr: from_json_list("sessions.amr", &r.7)?,
        ip: r.8,
        user_agent: r.9,
        ended_at: r.10,
    })
}

/// A user's stored sessions (live and ended, until purged a day after they
/// expire), newest first. Keyset paging on (created_at, id_hash), both
/// descending: `before` is the last row of the previous page, so a page never
/// repeats or skips a row even when two sessions start in the same millisecond.
pub fn for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    before: Option<(Millis, &str)>,
    limit: i64,
) -> Result<Vec<SessionRow>, StorageError> {
    let mut q = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .select((
            sessions::id_hash,
            sessions::user_id,
            sessions::created_at,
            sessions::last_seen_at,
            sessions::expires_at,
            sessions::auth_time,
            sessions::acr,
            sessions::amr,
            sessions::ip,
            sessions::user_agent,
            sessions::ended_at,
        ))
        .order((sessions::created_at.desc(), sessions::id_hash.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((created_at, id_hash)) = before {
        q = q.filter(
            sessions::created_at.lt(created_at).or(sessions::created_at
                .eq(created_at)
                .and(sessions::id_hash.lt(id_hash.to_string()))),
        );
    }
    q.load::<Row>(conn)?.into_iter().map(to_session).collect()
}

/// The hashes of a user's stored sessions that started at `created_at` (to
/// resolve a paging cursor, which names a session by its `sid`).
pub fn hashes_at(
    conn: &mut AnyConnection,
    user_id: &str,
    created_at: Millis,
) -> Result<Vec<String>, StorageError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::created_at.eq(created_at))
        .select(sessions::id_hash)
        .load(conn)?)
}

/// The hashes of every stored session of a user (to find one by its `sid`,
/// which is derived from the hash and cannot be looked up directly).
pub fn hashes_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<String>, StorageError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .select(sessions::id_hash)
        .load(conn)?)
}

/// End every session of a user that has not ended or expired; returns the
/// hashes it ended, so that each gets its own audit record.
pub fn end_all_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    now: Millis,
) -> Result<Vec<String>, StorageError> {
    let open: Vec<String> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(sessions::id_hash)
        .load(conn)?;
    let mut ended = Vec::with_capacity(open.len());
    // One by one, so that the result names exactly the rows this call ended
    // (a concurrent sign-out may end one of them first).
    for hash in open {
        if end(conn, &hash, now)? {
            ended.push(hash);
        }
    }
    Ok(ended)
}
