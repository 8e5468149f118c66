//! Token-signing keys; private parts sealed by the keyring. Rows are read into
//! the store's [`StoredSigningKey`]; storage has no copy of its own.

use diesel::prelude::*;

use super::schema::signing_keys;
use super::{AnyConnection, StorageError, columns};
use crate::clock::Millis;

pub use crate::store::signing_keys::StoredSigningKey;

pub const ACTIVE: &str = crate::store::signing_keys::ACTIVE;
pub const RETIRED: &str = "retired";

type Row = (
    String,
    String,
    String,
    String,
    String,
    Millis,
    Option<Millis>,
    Option<Millis>,
);

columns!(
    COLUMNS = signing_keys(
        kid,
        alg,
        state,
        private_key_sealed,
        public_jwk,
        created_at,
        retired_at,
        publish_until,
    )
);

fn to_key(r: Row) -> StoredSigningKey {
    StoredSigningKey {
        kid: r.0,
        alg: r.1,
        state: r.2,
        private_key_sealed: r.3,
        public_jwk: r.4,
        created_at: r.5,
        retired_at: r.6,
        publish_until: r.7,
    }
}

pub fn insert(conn: &mut AnyConnection, key: &StoredSigningKey) -> Result<(), StorageError> {
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&key.kid),
            signing_keys::alg.eq(&key.alg),
            signing_keys::state.eq(&key.state),
            signing_keys::private_key_sealed.eq(&key.private_key_sealed),
            signing_keys::public_jwk.eq(&key.public_jwk),
            signing_keys::created_at.eq(key.created_at),
            signing_keys::retired_at.eq(key.retired_at),
            signing_keys::publish_until.eq(key.publish_until),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn list(conn: &mut AnyConnection) -> Result<Vec<StoredSigningKey>, StorageError> {
    Ok(signing_keys::table
        .select(COLUMNS)
        .order((signing_keys::created_at.desc(), signing_keys::kid.asc()))
        .load::<Row>(conn)?
        .into_iter()
        .map(to_key)
        .collect())
}

pub fn active(
    conn: &mut AnyConnection,
    alg: &str,
) -> Result<Option<StoredSigningKey>, StorageError> {
    Ok(signing_keys::table
        .filter(signing_keys::alg.eq(alg))
        .filter(signing_keys::state.eq(ACTIVE))
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(to_key))
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
        .select(COLUMNS)
        .order(signing_keys::created_at.desc())
        .load::<Row>(conn)?
        .into_iter()
        .map(to_key)
        .collect())
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
