//! Who is using a SQLite database: every `ward` process that opens it (the
//! server and each command) holds a shared `flock(2)` on `<database>.lock`
//! while it runs; `ward restore` takes the same lock exclusively, so it never
//! replaces a database under a running Ward, and no Ward starts while a
//! restore runs. The kernel drops the lock when its process ends, however it
//! ends: a crashed Ward leaves no stale lock behind.

use std::fs::File;
use std::path::{Path, PathBuf};

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock in a mode that excludes ours.
    #[error("{} is locked by another process", .0.display())]
    Held(PathBuf),
    #[error("cannot lock {}: {}", .0.display(), .1)]
    Io(PathBuf, std::io::Error),
}

/// The lock file of the database at `database`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    database.with_file_name(name)
}

/// Shared: any number of Ward processes at once.
pub fn shared(database: &Path) -> Result<FileLock, LockError> {
    lock(database, libc::LOCK_SH)
}

/// Exclusive: nobody else, held by `ward restore`.
pub fn exclusive(database: &Path) -> Result<FileLock, LockError> {
    lock(database, libc::LOCK_EX)
}

fn lock(database: &Path, mode: libc::c_int) -> Result<FileLock, LockError> {
    let path = lock_path(database);
    let failed = |e| LockError::Io(path.clone(), e);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Owner only, as the data directory Ward creates (app::create_private_dir).
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(failed)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path).map_err(failed)?;
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function owns; LOCK_NB never blocks.
    let rc = unsafe { libc::flock(file.as_raw_fd(), mode | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(FileLock { _file: file, path });
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Err(LockError::Held(path))
    } else {
        Err(failed(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_holders_coexist_and_exclude_an_exclusive_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("data/ward.db");
        let a = shared(&db).unwrap();
        let b = shared(&db).unwrap();
        assert_eq!(a.path, dir.path().join("data/ward.db.lock"));
        assert!(matches!(exclusive(&db), Err(LockError::Held(_))));
        drop((a, b));
        let x = exclusive(&db).unwrap();
        assert!(matches!(shared(&db), Err(LockError::Held(_))));
        drop(x);
        shared(&db).unwrap();
    }
}
