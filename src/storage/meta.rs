//! `ward_meta`: a few named values (the master-key check value, the pairwise
//! subject key, the sealer's lock row).

use diesel::prelude::*;

use super::schema::ward_meta::dsl;
use super::{AnyConnection, StorageError};

pub const MASTER_KEY_CHECK: &str = "master_key_check";
/// The pairwise subject key (`crypto::pairwise`), sealed under [`PAIRWISE_KEY_CONTEXT`].
pub const PAIRWISE_KEY: &str = "pairwise_key";
pub const PAIRWISE_KEY_CONTEXT: &str = "ward_meta:pairwise_key";

pub fn get(conn: &mut AnyConnection, key: &str) -> Result<Option<String>, StorageError> {
    Ok(dsl::ward_meta
        .find(key)
        .select(dsl::value)
        .first::<String>(conn)
        .optional()?)
}

/// Like [`get`], but a database that has no schema yet reads as empty.
pub fn get_if_schema_exists(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<Option<String>, StorageError> {
    // Matched before conversion: a missing table is expected on a new database
    // and must not be logged as a failed query.
    match dsl::ward_meta
        .find(key)
        .select(dsl::value)
        .first::<String>(conn)
        .optional()
    {
        Ok(v) => Ok(v),
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("ward_meta") =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Insert `key` only if it is absent; false if it already existed (another node won).
pub fn insert_new(
    conn: &mut AnyConnection,
    key: &str,
    value: &str,
    now: i64,
) -> Result<bool, StorageError> {
    let inserted = super::on_backend!(conn, c => diesel::insert_into(dsl::ward_meta)
        .values((
            dsl::key.eq(key),
            dsl::value.eq(value),
            dsl::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

pub fn put(conn: &mut AnyConnection, key: &str, value: &str, now: i64) -> Result<(), StorageError> {
    let updated = diesel::update(dsl::ward_meta.find(key))
        .set((dsl::value.eq(value), dsl::updated_at.eq(now)))
        .execute(conn)?;
    if updated == 0 {
        // Another node may write the key between the update and this insert.
        super::on_backend!(conn, c => diesel::insert_into(dsl::ward_meta)
            .values((
                dsl::key.eq(key),
                dsl::value.eq(value),
                dsl::updated_at.eq(now),
            ))
            .on_conflict(dsl::key)
            .do_update()
            .set((dsl::value.eq(value), dsl::updated_at.eq(now)))
            .execute(c))?;
    }
    Ok(())
}
