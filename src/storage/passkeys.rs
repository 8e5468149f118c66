//! Passkeys and the server-side state of WebAuthn ceremonies.

use diesel::prelude::*;

use super::schema::{passkeys, webauthn_ceremonies};
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = passkeys)]
pub struct PasskeyRow {
    pub credential_id: String,
    pub user_id: String,
    pub name: String,
    /// webauthn-rs `Passkey` as JSON: public key, algorithm, counter.
    pub passkey: String,
    pub aaguid: String,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
}

pub fn insert(conn: &mut AnyConnection, row: &PasskeyRow) -> Result<(), StorageError> {
    diesel::insert_into(passkeys::table)
        .values(row)
        .execute(conn)
        .map_err(super::conflict_as("that passkey"))?;
    Ok(())
}

pub fn for_user(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<PasskeyRow>, StorageError> {
    Ok(passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .order(passkeys::created_at.asc())
        .select(PasskeyRow::as_select())
        .load(conn)?)
}

pub fn find(
    conn: &mut AnyConnection,
    credential_id: &str,
) -> Result<Option<PasskeyRow>, StorageError> {
    Ok(passkeys::table
        .find(credential_id)
        .select(PasskeyRow::as_select())
        .first(conn)
        .optional()?)
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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webauthn_ceremonies)]
pub struct CeremonyRow {
    pub id_hash: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub state: String,
    pub context: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

pub fn insert_ceremony(conn: &mut AnyConnection, row: &CeremonyRow) -> Result<(), StorageError> {
    diesel::insert_into(webauthn_ceremonies::table)
        .values(row)
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
    let row: Option<CeremonyRow> = webauthn_ceremonies::table
        .find(id_hash)
        .select(CeremonyRow::as_select())
        .first(conn)
        .optional()?;
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
