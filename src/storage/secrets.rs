//! Every sealed column in the database, for master-key rotation.
//! A table that gains a sealed column must be added to [`reseal_all`].

use diesel::prelude::*;

use super::schema::{signing_keys, totp_credentials};
use super::{AnyConnection, StorageError, meta};
use crate::crypto::keyring::{Keyring, KeyringError};

pub use crate::store::signing_keys::signing_key_context;

pub const MASTER_KEY_CHECK_CONTEXT: &str = "ward_meta:master_key_check";
pub const MASTER_KEY_CHECK_PLAINTEXT: &[u8] = b"ward master key check";

#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{what}: {source}")]
    Keyring { what: String, source: KeyringError },
}

/// Re-seal every stored secret from `old` to `new`, in the caller's transaction.
/// Returns how many values were re-sealed.
pub fn reseal_all(
    conn: &mut AnyConnection,
    old: &Keyring,
    new: &Keyring,
    now: i64,
) -> Result<usize, ResealError> {
    let mut count = 0;
    let keys: Vec<(String, String)> = signing_keys::table
        .select((signing_keys::kid, signing_keys::private_key_sealed))
        .load(conn)
        .map_err(StorageError::from)?;
    for (kid, sealed) in keys {
        let resealed = old
            .reseal(new, &signing_key_context(&kid), &sealed)
            .map_err(|source| ResealError::Keyring {
                what: format!("signing key {kid}"),
                source,
            })?;
        super::signing_keys::set_sealed(conn, &kid, &resealed)?;
        count += 1;
    }
    let totp: Vec<(String, String)> = totp_credentials::table
        .select((totp_credentials::user_id, totp_credentials::secret_sealed))
        .load(conn)
        .map_err(StorageError::from)?;
    for (user_id, sealed) in totp {
        let context = super::second_factors::totp_secret_context(&user_id);
        let resealed =
            old.reseal(new, &context, &sealed)
                .map_err(|source| ResealError::Keyring {
                    what: format!("TOTP secret of user {user_id}"),
                    source,
                })?;
        diesel::update(totp_credentials::table.find(&user_id))
            .set(totp_credentials::secret_sealed.eq(&resealed))
            .execute(conn)
            .map_err(StorageError::from)?;
        count += 1;
    }
    for (user_id, sealed) in super::erasure::all_data_keys(conn)? {
        let context = crate::crypto::data_key::context(&user_id);
        let resealed =
            old.reseal(new, &context, &sealed)
                .map_err(|source| ResealError::Keyring {
                    what: format!("data key of user {user_id}"),
                    source,
                })?;
        super::erasure::set_data_key(conn, &user_id, &resealed)?;
        count += 1;
    }
    if let Some(key) = meta::get(conn, meta::PAIRWISE_KEY)? {
        let resealed = old
            .reseal(new, meta::PAIRWISE_KEY_CONTEXT, &key)
            .map_err(|source| ResealError::Keyring {
                what: "pairwise subject key".into(),
                source,
            })?;
        meta::put(conn, meta::PAIRWISE_KEY, &resealed, now)?;
        count += 1;
    }
    if let Some(check) = meta::get(conn, meta::MASTER_KEY_CHECK)? {
        let resealed = old
            .reseal(new, MASTER_KEY_CHECK_CONTEXT, &check)
            .map_err(|source| ResealError::Keyring {
                what: "master key check value".into(),
                source,
            })?;
        meta::put(conn, meta::MASTER_KEY_CHECK, &resealed, now)?;
        count += 1;
    }
    Ok(count)
}
