//! Where the master key comes from, generating it on a first start, and the
//! check that it is the key that sealed the database.

use std::path::{Path, PathBuf};

use super::StartupError;
use crate::clock::Millis;
use crate::config::{Config, MasterKeySource};
use crate::crypto::keyring::{Keyring, KeyringError, MasterKey, sealed_key_id};
use crate::storage::secrets::{MASTER_KEY_CHECK_CONTEXT, MASTER_KEY_CHECK_PLAINTEXT};
use crate::storage::{Database, meta};

/// The file a master-key rotation writes before committing, renamed over the
/// key file after the commit.
pub fn pending_rotation_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.file_name().unwrap_or_default().to_os_string();
    name.push(".next");
    key_file.with_file_name(name)
}

/// The master key must open the check value the database holds (sealed by the
/// first start): a database sealed under another key is refused unchanged.
pub fn check(keyring: &Keyring, check: &str) -> Result<(), StartupError> {
    match keyring.open(MASTER_KEY_CHECK_CONTEXT, check) {
        Ok(_) => Ok(()),
        Err(KeyringError::WrongKey {
            sealed_by,
            configured,
        }) => Err(StartupError::WrongMasterKey {
            sealed_by,
            configured,
        }),
        Err(e) => Err(StartupError::MasterKey(format!(
            "the master key check value does not open: {e}"
        ))),
    }
}

/// First start: record the check value. Several nodes may start on an empty
/// database at once: the first check value wins, and every other node must
/// hold the same key.
pub fn record_check(db: &Database, keyring: &Keyring, now: Millis) -> Result<(), StartupError> {
    let sealed = keyring.seal(MASTER_KEY_CHECK_CONTEXT, MASTER_KEY_CHECK_PLAINTEXT);
    let inserted = db.transaction(|c| meta::insert_new(c, meta::MASTER_KEY_CHECK, &sealed, now))?;
    if inserted {
        return Ok(());
    }
    let winner = meta::get(&mut *db.conn()?, meta::MASTER_KEY_CHECK)?.unwrap_or_default();
    // Only a different key is refused here; a value that fails to open for
    // another reason is refused by the next start's `check`.
    match keyring.open(MASTER_KEY_CHECK_CONTEXT, &winner) {
        Err(KeyringError::WrongKey {
            sealed_by,
            configured,
        }) => Err(StartupError::WrongMasterKey {
            sealed_by,
            configured,
        }),
        _ => Ok(()),
    }
}

/// Resolve the master key. `check` is the sealed check value if the database
/// already holds secrets: then a missing key is an error, never a new key.
pub fn resolve(config: &Config, check: Option<&str>) -> Result<MasterKey, StartupError> {
    let path = match &config.master_key {
        MasterKeySource::Inline(key) => return Ok(key.clone()),
        MasterKeySource::File(path) => path,
    };
    let sealed_by = check.and_then(sealed_key_id);

    // A rotation that committed but was interrupted before renaming its new key file.
    let next = pending_rotation_path(path);
    if next.is_file() {
        let next_key =
            MasterKey::read_file(&next).map_err(|e| StartupError::MasterKey(e.to_string()))?;
        if sealed_by == Some(next_key.id()) {
            std::fs::rename(&next, path)
                .and_then(|()| crate::crypto::keyring::sync_parent_dir(path))
                .map_err(|e| {
                    StartupError::MasterKey(format!(
                        "cannot finish the interrupted master-key rotation ({}): {e}",
                        next.display()
                    ))
                })?;
            tracing::warn!(path = %path.display(), "finished an interrupted master-key rotation");
            return Ok(next_key);
        }
    }

    if path.is_file() {
        warn_if_readable_by_others(path);
        return MasterKey::read_file(path).map_err(|e| StartupError::MasterKey(e.to_string()));
    }
    if let Some(id) = sealed_by {
        return Err(StartupError::MasterKey(format!(
            "the database holds secrets sealed by master key {id}, but the key file {} does not exist; \
             restore it or set WARD_MASTER_KEY. Refusing to start (a new key could not open them).",
            path.display()
        )));
    }
    let key = MasterKey::generate();
    key.write_new_file(path).map_err(|e| {
        StartupError::MasterKey(format!(
            "cannot write the master key file {}: {e}",
            path.display()
        ))
    })?;
    tracing::warn!(
        path = %path.display(),
        key_id = key.id(),
        "GENERATED A NEW MASTER KEY FILE. This is for development only: in production bring your own key \
         (WARD_MASTER_KEY, or a key file from your secret store) and back it up; without it no sealed secret can be read"
    );
    Ok(key)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the master key file is readable by group or others; chmod 600 it");
        }
    }
}
