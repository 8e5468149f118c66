//! Token-signing keys; private parts sealed by the keyring.

use diesel::prelude::*;
use serde::Serialize;

use super::schema::signing_keys;
use super::{AnyConnection, StorageError};
use crate::clock::Millis;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = signing_keys)]
pub struct StoredSigningKey {
    pub kid: String,
    pub alg: String,
    pub state: String,
    #[serde(skip)]
    pub private_key_sealed: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub publish_until: Option<i64>,
}

pub const ACTIVE: &str = crate::store::signing_keys::ACTIVE;
pub const RETIRED: &str = "retired";

pub fn insert(conn: &mut AnyConnection, key: &StoredSigningKey) -> Result<(), StorageError> {
    diesel::insert_into(signing_keys::table)
        .values(key)
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut AnyConnection) -> Result<Vec<StoredSigningKey>, StorageError> {
    Ok(signing_keys::table
        .select(StoredSigningKey::as_select())
        .order((signing_keys::created_at.desc(), signing_keys::kid.asc()))
        .load(conn)?)
}

pub fn active(
    conn: &mut AnyConnection,
    alg: &str,
) -> Result<Option<StoredSigningKey>, StorageError> {
    Ok(signing_keys::table
        .filter(signing_keys::alg.eq(alg))
        .filter(signing_keys::state.eq(ACTIVE))
        .select(StoredSigningKey::as_select())
        .first(conn)
        .optional()?)
}

/// Keys that may still verify a live token: active ones, and retired ones until `publish_until`.
pub fn published(
    conn: &mut AnyConnection,
    now: Millis,
) -> Result<Vec<StoredSigningKey>, StorageError> {
    Ok(signing_keys::table
        .filter(
            signing_keys::state
                .eq(ACTIVE)
                .or(signing_keys::publish_until.gt(now)),
        )
        .select(StoredSigningKey::as_select())
        .order(signing_keys::created_at.desc())
        .load(conn)?)
}

pub fn retire(
    conn: &mut AnyConnection,
    kid: &str,
    now: Millis,
    publish_until: Millis,
) -> Result<(), StorageError> {
    diesel::update(signing_keys::table.find(kid))
        .set((
            signing_keys::state.eq(RETIRED),
            signing_keys::retired_at.eq(Some(now)),
            signing_keys::publish_until.eq(Some(publish_until)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_sealed(conn: &mut AnyConnection, kid: &str, sealed: &str) -> Result<(), StorageError> {
    diesel::update(signing_keys::table.find(kid))
        .set(signing_keys::private_key_sealed.eq(sealed))
        .execute(conn)?;
    Ok(())
}
