//! Passkeys and the server-side state of WebAuthn ceremonies.

use diesel::prelude::*;

use super::schema::{passkeys, webauthn_ceremonies};
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

pub use crate::store::{CeremonyRow, PasskeyRow};

type Row = (
    String,
    String,
    String,
    String,
    String,
    bool,
    bool,
    Millis,
    Option<Millis>,
);

const COLUMNS: (
    passkeys::credential_id,
    passkeys::user_id,
    passkeys::name,
    passkeys::passkey,
    passkeys::aaguid,
    passkeys::backup_eligible,
    passkeys::backup_state,
    passkeys::created_at,
    passkeys::last_used_at,
) = (
    passkeys::credential_id,
    passkeys::user_id,
    passkeys::name,
    passkeys::passkey,
    passkeys::aaguid,
    passkeys::backup_eligible,
    passkeys::backup_state,
    passkeys::created_at,
    passkeys::last_used_at,
);

fn to_passkey(r: Row) -> PasskeyRow {
    PasskeyRow {
        credential_id: r.0,
        user_id: r.1,
        name: r.2,
        passkey: r.3,
        aaguid: r.4,
        backup_eligible: r.5,
        backup_state: r.6,
        created_at: r.7,
        last_used_at: r.8,
    }
}

pub fn insert(conn: &mut AnyConnection, row: &PasskeyRow) -> Result<(), StorageError> {
    diesel::insert_into(passkeys::table)
        .values((
            passkeys::credential_id.eq(&row.credential_id),
            passkeys::user_id.eq(&row.user_id),
            passkeys::name.eq(&row.name),
            passkeys::passkey.eq(&row.passkey),
            passkeys::aaguid.eq(&row.aaguid),
            passkeys::backup_eligible.eq(row.backup_eligible),
            passkeys::backup_state.eq(row.backup_state),
            passkeys::created_at.eq(row.created_at),
            passkeys::last_used_at.eq(row.last_used_at),
        ))
        .execute(conn)
        .map_err(super::conflict_as("that passkey"))?;
    Ok(())
}

pub fn for_user(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<PasskeyRow>, StorageError> {
    Ok(passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .order(passkeys::created_at.asc())
        .select(COLUMNS)
        .load::<Row>(conn)?
        .into_iter()
        .map(to_passkey)
        .collect())
}

pub fn find(
    conn: &mut AnyConnection,
    credential_id: &str,
) -> Result<Option<PasskeyRow>, StorageError> {
    Ok(passkeys::table
        .find(credential_id)
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(to_passkey))
}

pub fn count_for_user(conn: &mut AnyConnection, user_id: &str) -> Result<i64, StorageError> {
    Ok(passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .count()
        .get_result(conn)?)
}

/// After a sign-in: the new counter and backup state, and when it was used.
pub fn record_use(
    conn: &mut AnyConnection,
    credential_id: &str,
    passkey_json: &str,
    backup_state: bool,
    now: Millis,
) -> Result<(), StorageError> {
    diesel::update(passkeys::table.find(credential_id))
        .set((
            passkeys::passkey.eq(passkey_json),
            passkeys::backup_state.eq(backup_state),
            passkeys::last_used_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Rename one of the user's passkeys; false if it is not theirs.
pub fn rename(
    conn: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
    name: &str,
) -> Result<bool, StorageError> {
    let n = diesel::update(
        passkeys::table
            .filter(passkeys::credential_id.eq(credential_id))
            .filter(passkeys::user_id.eq(user_id)),
    )
    .set(passkeys::name.eq(name))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn remove(
    conn: &mut AnyConnection,
    user_id: &str,
    credential_id: &str,
) -> Result<bool, StorageError> {
    let n = diesel::delete(
        passkeys::table
            .filter(passkeys::credential_id.eq(credential_id))
            .filter(passkeys::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// Remove every passkey of the user; returns how many.
pub fn remove_all(conn: &mut AnyConnection, user_id: &str) -> Result<usize, StorageError> {
    Ok(diesel::delete(passkeys::table.filter(passkeys::user_id.eq(user_id))).execute(conn)?)
}

pub fn insert_ceremony(conn: &mut AnyConnection, row: &CeremonyRow) -> Result<(), StorageError> {
    diesel::insert_into(webauthn_ceremonies::table)
        .values((
            webauthn_ceremonies::id_hash.eq(&row.id_hash),
            webauthn_ceremonies::kind.eq(&row.kind),
            webauthn_ceremonies::user_id.eq(&row.user_id),
            webauthn_ceremonies::state.eq(&row.state),
            webauthn_ceremonies::context.eq(&row.context),
            webauthn_ceremonies::created_at.eq(row.created_at),
            webauthn_ceremonies::expires_at.eq(row.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Take a ceremony: it is deleted whatever happens next, so its challenge
/// answers once. None if unknown, already taken, or expired.
pub fn take_ceremony(
    conn: &mut AnyConnection,
    id_hash: &str,
    now: Millis,
) -> Result<Option<CeremonyRow>, StorageError> {
    let row = webauthn_ceremonies::table
        .find(id_hash)
        .select((
            webauthn_ceremonies::id_hash,
            webauthn_ceremonies::kind,
            webauthn_ceremonies::user_id,
            webauthn_ceremonies::state,
            webauthn_ceremonies::context,
            webauthn_ceremonies::created_at,
            webauthn_ceremonies::expires_at,
        ))
        .first::<(
            String,
            String,
            Option<String>,
            String,
            String,
            Millis,
            Millis,
        )>(conn)
        .optional()?
        .map(|r| CeremonyRow {
            id_hash: r.0,
            kind: r.1,
            user_id: r.2,
            state: r.3,
            context: r.4,
            created_at: r.5,
            expires_at: r.6,
        });
    let Some(row) = row else { return Ok(None) };
    // Only the caller whose delete removed the row may use it (two racing finishes: one wins).
    let deleted = diesel::delete(webauthn_ceremonies::table.find(id_hash)).execute(conn)?;
    Ok((deleted == 1 && row.expires_at > now).then_some(row))
}

pub fn purge_ceremonies(conn: &mut AnyConnection, now: Millis) -> Result<usize, StorageError> {
    Ok(
        diesel::delete(webauthn_ceremonies::table.filter(webauthn_ceremonies::expires_at.le(now)))
            .execute(conn)?,
    )
}
