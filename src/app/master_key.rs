//! Where the master key comes from, and generating it on a first start.

use std::path::{Path, PathBuf};

use super::StartupError;
use crate::config::{Config, MasterKeySource};
use crate::crypto::keyring::{MasterKey, sealed_key_id};

/// The file a master-key rotation writes before committing, renamed over the
/// key file after the commit.
pub fn pending_rotation_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.file_name().unwrap_or_default().to_os_string();
    name.push(".next");
    key_file.with_file_name(name)
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
