//! Browser sessions as administrators see them: a user's sessions, page by
//! page, and ending one or all of them (sign-out, the admin API).

use diesel::prelude::*;

use super::schema::{grants, sessions};
use super::{AnyConnection, StorageError};
use crate::clock::Millis;
use crate::domain::SessionId;
use crate::store::SessionRow;

/// End a session; true if it was live. The grants issued under it end too,
/// unless they were granted `offline_access` (which is meant to outlive the
/// sign-in): their access tokens turn inactive and cannot be refreshed.
pub fn end(conn: &mut AnyConnection, id: &SessionId, now: Millis) -> Result<bool, StorageError> {
    let id_hash = id.as_str();
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
        // The scope column is space-separated; only the token `offline_access`
        // itself spares a grant (a LIKE would also spare `api:offline_access`).
        let live: Vec<(String, String)> = grants::table
            .filter(grants::session_hash.eq(id_hash))
            .filter(grants::revoked_at.is_null())
            .select((grants::id, grants::scope))
            .load(conn)?;
        let ending: Vec<String> = live
            .into_iter()
            .filter(|(_, scope)| !scope.split(' ').any(|s| s == "offline_access"))
            .map(|(id, _)| id)
            .collect();
        if !ending.is_empty() {
            diesel::update(grants::table.filter(grants::id.eq_any(&ending)))
                .set(grants::revoked_at.eq(Some(now)))
                .execute(conn)?;
        }
    }
    Ok(n == 1)
}

/// The columns of a [`SessionRow`], in the order [`to_session`] reads them.
pub(crate) type Columns = (
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
    sessions::device_hash,
    sessions::factor_times,
    sessions::shared_workstation,
);

pub(crate) const COLUMNS: Columns = (
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
    sessions::device_hash,
    sessions::factor_times,
    sessions::shared_workstation,
);

pub(crate) type Row = (
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
    Option<String>,
    Option<String>,
    bool,
);

pub(crate) fn to_session(r: Row) -> Result<SessionRow, StorageError> {
    let factor_times = match r.12.as_deref() {
        Some(text) => serde_json::from_str(text).map_err(|_| {
            StorageError::Corrupt("sessions.factor_times is not a JSON object".into())
        })?,
        None => Default::default(),
    };
    Ok(SessionRow {
        id_hash: SessionId::from_hash(r.0),
        user_id: super::parse_user_id("sessions.user_id", &r.1)?,
        created_at: r.2,
        last_seen_at: r.3,
        expires_at: r.4,
        auth_time: r.5,
        acr: super::parse_acr("sessions.acr", &r.6)?,
        amr: super::from_typed_list("sessions.amr", &r.7)?,
        ip: r.8,
        user_agent: r.9,
        ended_at: r.10,
        device_hash: r.11,
        factor_times,
        shared_workstation: r.13,
    })
}

/// Load one session by the hash of its cookie.
pub fn get(conn: &mut AnyConnection, id: &SessionId) -> Result<Option<SessionRow>, StorageError> {
    sessions::table
        .find(id.as_str())
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(to_session)
        .transpose()
}

/// Store a new session.
pub fn insert(conn: &mut AnyConnection, s: &SessionRow) -> Result<(), StorageError> {
    let factor_times = serde_json::to_string(&s.factor_times)
        .map_err(|_| StorageError::Corrupt("factor_times".into()))?;
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(s.id_hash.as_str()),
            sessions::user_id.eq(s.user_id.as_str()),
            sessions::created_at.eq(s.created_at),
            sessions::last_seen_at.eq(s.last_seen_at),
            sessions::expires_at.eq(s.expires_at),
            sessions::auth_time.eq(s.auth_time),
            sessions::acr.eq(s.acr.as_str()),
            sessions::amr.eq(super::to_typed_list(&s.amr)),
            sessions::ip.eq(s.ip.as_deref()),
            sessions::user_agent.eq(s.user_agent.as_deref()),
            sessions::device_hash.eq(s.device_hash.as_deref()),
            sessions::factor_times.eq(Some(factor_times)),
            sessions::shared_workstation.eq(s.shared_workstation),
        ))
        .execute(conn)?;
    Ok(())
}

/// Mark a session as running on a shared workstation (its idle timeout shortens).
pub fn mark_shared(conn: &mut AnyConnection, id: &SessionId) -> Result<(), StorageError> {
    diesel::update(sessions::table.find(id.as_str()))
        .set(sessions::shared_workstation.eq(true))
        .execute(conn)?;
    Ok(())
}

/// A user's stored sessions (live and ended, until purged a day after they
/// expire), newest first. Keyset paging on (created_at, id_hash), both
/// descending: `before` is the last row of the previous page, so a page never
/// repeats or skips a row even when two sessions start in the same millisecond.
pub fn for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    before: Option<(Millis, &SessionId)>,
    limit: i64,
) -> Result<Vec<SessionRow>, StorageError> {
    let mut q = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .select(COLUMNS)
        .order((sessions::created_at.desc(), sessions::id_hash.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((created_at, id_hash)) = before {
        // The first condition is implied by the second; it is there for
        // PostgreSQL, which uses only it as an index bound (benches/sessions.rs:
        // a deep page read 5,164 buffers without it, 53 with it).
        q = q.filter(sessions::created_at.le(created_at)).filter(
            sessions::created_at.lt(created_at).or(sessions::created_at
                .eq(created_at)
                .and(sessions::id_hash.lt(id_hash.as_str().to_string()))),
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
) -> Result<Vec<SessionId>, StorageError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::created_at.eq(created_at))
        .select(sessions::id_hash)
        .load::<String>(conn)?
        .into_iter()
        .map(SessionId::from_hash)
        .collect())
}

/// The hashes of every stored session of a user (to find one by its `sid`,
/// which is derived from the hash and cannot be looked up directly).
pub fn hashes_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<SessionId>, StorageError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .select(sessions::id_hash)
        .load::<String>(conn)?
        .into_iter()
        .map(SessionId::from_hash)
        .collect())
}

/// The hashes of a user's sessions that have neither ended nor expired.
pub fn open_for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    now: Millis,
) -> Result<Vec<SessionId>, StorageError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(sessions::id_hash)
        .load::<String>(conn)?
        .into_iter()
        .map(SessionId::from_hash)
        .collect())
}

pub use crate::store::admin_sessions::SweepGroup;

/// Open sessions that have timed out: past their absolute end, or (per
/// group) unused for the group's idle timeout. At most `limit` of each kind;
/// the caller still checks each one (`session::check`).
pub fn timeout_candidates(
    conn: &mut AnyConnection,
    now: Millis,
    groups: &[SweepGroup],
    limit: i64,
) -> Result<Vec<SessionRow>, StorageError> {
    // One query per kind, each served by a partial index on open sessions
    // (an OR would scan); grouping by timeout keeps sessions that are merely
    // old from crowding out those that are due.
    let mut rows: Vec<Row> = sessions::table
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.le(now))
        .select(COLUMNS)
        .limit(limit)
        .load(conn)?;
    for g in groups {
        rows.extend(
            sessions::table
                .filter(sessions::ended_at.is_null())
                .filter(sessions::last_seen_at.le(now - g.idle_ms))
                .filter(sessions::expires_at.gt(now))
                .filter(sessions::shared_workstation.eq(g.shared_workstation))
                .filter(sessions::acr.eq_any(g.acr_in.iter().map(|a| a.as_str())))
                .select(COLUMNS)
                .limit(limit)
                .load::<Row>(conn)?,
        );
    }
    rows.into_iter().map(to_session).collect()
}

/// The user and `acr` of every open session not past its absolute end (the
/// admin console's counts; the idle timeout is the sweep's to apply).
pub fn open_levels(
    conn: &mut AnyConnection,
    now: Millis,
) -> Result<Vec<(String, String)>, StorageError> {
    Ok(sessions::table
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((sessions::user_id, sessions::acr))
        .load(conn)?)
}
