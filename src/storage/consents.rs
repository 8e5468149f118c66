//! Remembered consents, for listing and revoking them.

use diesel::prelude::*;

use super::schema::consents;
use super::{AnyConnection, StorageError, from_json_list, parse_client_id};
use crate::clock::Millis;

pub use crate::store::admin_users::Consent;

pub fn for_user(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<Consent>, StorageError> {
    let rows: Vec<(String, String, i64)> = consents::table
        .filter(consents::user_id.eq(user_id))
        .select((consents::client_id, consents::scopes, consents::granted_at))
        .order(consents::client_id.asc())
        .load(conn)?;
    rows.into_iter()
        .map(|(client_id, scopes, granted_at)| {
            Ok(Consent {
                client_id: parse_client_id("consents.client_id", &client_id)?,
                scopes: from_json_list("consents.scopes", &scopes)?,
                granted_at,
            })
        })
        .collect()
}

pub fn delete(
    conn: &mut AnyConnection,
    user_id: &str,
    client_id: &str,
) -> Result<(), StorageError> {
    let n = diesel::delete(consents::table.find((user_id, client_id))).execute(conn)?;
    if n == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

/// Revoke every live grant of this user for this client (withdrawn consent).
pub fn revoke_grants(
    conn: &mut AnyConnection,
    user_id: &str,
    client_id: &str,
    now: Millis,
) -> Result<usize, StorageError> {
    use super::schema::grants;
    Ok(diesel::update(
        grants::table
            .filter(grants::user_id.eq(user_id))
            .filter(grants::client_id.eq(client_id))
            .filter(grants::revoked_at.is_null()),
    )
    .set(grants::revoked_at.eq(Some(now)))
    .execute(conn)?)
}
