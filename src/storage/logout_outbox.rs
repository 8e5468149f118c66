//! Back-channel logout: the clients each session signed into, and the durable
//! outbox of logout notifications (a row per client per ended session,
//! retried with back-off until delivered or given up).

use diesel::prelude::*;

use super::schema::{clients, logout_outbox, session_clients, sessions};
use super::{AnyConnection, StorageError, parse_client_id};
use crate::clock::Millis;
use crate::domain::ClientId;

/// Remember that `session_hash` signed into `client_id` (idempotent).
pub fn note_client(
    conn: &mut AnyConnection,
    session_hash: &str,
    client_id: &ClientId,
    now: Millis,
) -> Result<(), StorageError> {
    // Parallel first authorizations in one session (two tabs, a silent-renew
    // iframe) race here: the statement itself must tolerate the other's row,
    // since on PostgreSQL a unique violation would abort the code issuance.
    super::on_backend!(conn, c => diesel::insert_into(session_clients::table)
        .values((
            session_clients::session_hash.eq(session_hash),
            session_clients::client_id.eq(client_id.as_str()),
            session_clients::first_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Queue a logout notification for every client the session reached that
/// registered a back-channel logout URI. Part of the transaction that ends the
/// session, so an ended session never loses its notifications.
pub fn enqueue_for_session(
    conn: &mut AnyConnection,
    session_hash: &str,
    now: Millis,
) -> Result<usize, StorageError> {
    let sub: Option<String> = sessions::table
        .find(session_hash)
        .select(sessions::user_id)
        .first(conn)
        .optional()?;
    let Some(sub) = sub else { return Ok(0) };
    let targets: Vec<(String, Option<String>)> = session_clients::table
        .inner_join(clients::table.on(clients::id.eq(session_clients::client_id)))
        .filter(session_clients::session_hash.eq(session_hash))
        .filter(clients::backchannel_logout_uri.is_not_null())
        .select((clients::id, clients::backchannel_logout_uri))
        .load(conn)?;
    let mut n = 0;
    for (client_id, uri) in targets {
        let Some(uri) = uri else { continue };
        diesel::insert_into(logout_outbox::table)
            .values((
                logout_outbox::client_id.eq(&client_id),
                logout_outbox::uri.eq(&uri),
                logout_outbox::sub.eq(&sub),
                logout_outbox::session_hash.eq(session_hash),
                logout_outbox::created_at.eq(now),
                logout_outbox::next_attempt_at.eq(now),
                logout_outbox::attempts.eq(0i64),
            ))
            .execute(conn)?;
        n += 1;
    }
    Ok(n)
}

/// A user withdrew their consent for `client_id`: queue a logout notice to
/// it for each live session of the user that signed into it (if it registered
/// a back-channel logout URI), and forget that those sessions reached it, so
/// their end later sends nothing more. Part of the withdrawal's transaction.
pub fn enqueue_for_client(
    conn: &mut AnyConnection,
    user_id: &str,
    client_id: &str,
    now: Millis,
) -> Result<usize, StorageError> {
    let reached: Vec<String> = session_clients::table
        .inner_join(sessions::table.on(sessions::id_hash.eq(session_clients::session_hash)))
        .filter(session_clients::client_id.eq(client_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::ended_at.is_null())
        .select(session_clients::session_hash)
        .load(conn)?;
    let uri: Option<Option<String>> = clients::table
        .find(client_id)
        .select(clients::backchannel_logout_uri)
        .first(conn)
        .optional()?;
    let mut n = 0;
    for session_hash in &reached {
        if let Some(Some(uri)) = &uri {
            diesel::insert_into(logout_outbox::table)
                .values((
                    logout_outbox::client_id.eq(client_id),
                    logout_outbox::uri.eq(uri),
                    logout_outbox::sub.eq(user_id),
                    logout_outbox::session_hash.eq(session_hash),
                    logout_outbox::created_at.eq(now),
                    logout_outbox::next_attempt_at.eq(now),
                    logout_outbox::attempts.eq(0i64),
                ))
                .execute(conn)?;
            n += 1;
        }
        diesel::delete(session_clients::table.find((session_hash, client_id))).execute(conn)?;
    }
    Ok(n)
}

/// Queue one logout notice to `client_id` about `user_id` with no session
/// (`sid` left out of the token): an erased person's grants and consents
/// (docs/privacy.md). False when the client registered no back-channel URI.
pub fn enqueue_sub_only(
    conn: &mut AnyConnection,
    client_id: &str,
    user_id: &str,
    now: Millis,
) -> Result<bool, StorageError> {
    let uri: Option<Option<String>> = clients::table
        .find(client_id)
        .select(clients::backchannel_logout_uri)
        .first(conn)
        .optional()?;
    let Some(Some(uri)) = uri else {
        return Ok(false);
    };
    diesel::insert_into(logout_outbox::table)
        .values((
            logout_outbox::client_id.eq(client_id),
            logout_outbox::uri.eq(&uri),
            logout_outbox::sub.eq(user_id),
            logout_outbox::session_hash.eq(""),
            logout_outbox::created_at.eq(now),
            logout_outbox::next_attempt_at.eq(now),
            logout_outbox::attempts.eq(0i64),
        ))
        .execute(conn)?;
    Ok(true)
}

/// A queued notification, as the sender works with it.
#[derive(Debug, Clone)]
pub struct Notification {
    pub id: i64,
    pub client_id: ClientId,
    pub uri: String,
    /// The local user id; the logout token carries the `sub` the client
    /// sees for them (`oidc::subject`, perhaps pairwise).
    pub sub: String,
    pub session_hash: String,
    pub created_at: Millis,
    pub next_attempt_at: Millis,
    pub attempts: i64,
}

/// A logout_outbox row as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = logout_outbox)]
struct NotificationDb {
    id: i64,
    client_id: String,
    uri: String,
    sub: String,
    session_hash: String,
    created_at: Millis,
    next_attempt_at: Millis,
    attempts: i64,
}

impl TryFrom<NotificationDb> for Notification {
    type Error = StorageError;
    fn try_from(n: NotificationDb) -> Result<Self, StorageError> {
        Ok(Self {
            client_id: parse_client_id("logout_outbox.client_id", &n.client_id)?,
            id: n.id,
            uri: n.uri,
            sub: n.sub,
            session_hash: n.session_hash,
            created_at: n.created_at,
            next_attempt_at: n.next_attempt_at,
            attempts: n.attempts,
        })
    }
}

/// Notifications due at `now`, oldest first.
pub fn due(
    conn: &mut AnyConnection,
    now: Millis,
    limit: i64,
) -> Result<Vec<Notification>, StorageError> {
    logout_outbox::table
        .filter(logout_outbox::delivered_at.is_null())
        .filter(logout_outbox::given_up_at.is_null())
        .filter(logout_outbox::next_attempt_at.le(now))
        .order(logout_outbox::next_attempt_at.asc())
        .limit(limit)
        .select(NotificationDb::as_select())
        .load(conn)?
        .into_iter()
        .map(Notification::try_from)
        .collect()
}

/// Take a notification for one attempt: only the node whose update moves
/// `next_attempt_at` from the value it read gets it (several nodes, one sender).
pub fn claim(
    conn: &mut AnyConnection,
    n: &Notification,
    lease_until: Millis,
) -> Result<bool, StorageError> {
    let updated = diesel::update(
        logout_outbox::table
            .find(n.id)
            .filter(logout_outbox::next_attempt_at.eq(n.next_attempt_at))
            .filter(logout_outbox::delivered_at.is_null()),
    )
    .set(logout_outbox::next_attempt_at.eq(lease_until))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn delivered(
    conn: &mut AnyConnection,
    id: i64,
    attempts: i64,
    now: Millis,
) -> Result<(), StorageError> {
    diesel::update(logout_outbox::table.find(id))
        .set((
            logout_outbox::delivered_at.eq(now),
            logout_outbox::attempts.eq(attempts),
        ))
        .execute(conn)?;
    Ok(())
}

/// Record a failed attempt; the next one is at `next_at`, or none when `give_up`.
pub fn failed(
    conn: &mut AnyConnection,
    id: i64,
    attempts: i64,
    error: &str,
    next_at: Millis,
    give_up: Option<Millis>,
) -> Result<(), StorageError> {
    diesel::update(logout_outbox::table.find(id))
        .set((
            logout_outbox::attempts.eq(attempts),
            logout_outbox::last_error.eq(error),
            logout_outbox::next_attempt_at.eq(next_at),
            logout_outbox::given_up_at.eq(give_up),
        ))
        .execute(conn)?;
    Ok(())
}
