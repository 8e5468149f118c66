//! A consistent copy of a live SQLite database, through SQLite's online backup
//! API (<https://sqlite.org/backup.html>: `sqlite3_backup_init`, `_step`,
//! `_finish`), and the checks a copy must pass before it may replace a
//! database (`inspect`).
//!
//! The copy is taken on connections of its own, opened here with the
//! libsqlite3-sys that diesel links (one SQLite in the binary). Ward's database
//! runs in WAL mode, so the backup's read transaction sees one snapshot while
//! the server goes on writing: `sqlite3_backup_step(-1)` copies every page of
//! that snapshot in one step, and the server's writers are never blocked (only
//! a checkpoint waits for the read to end). The image is then switched to the
//! rollback journal, so that it is one self-contained file, with no `-wal`
//! beside it that it would need.
//!
//! Each unsafe call's contract is noted where it is made.

use std::ffi::{CStr, CString, c_int};
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use libsqlite3_sys as ffi;

use super::{AnyConnection, StorageError, meta, migrations};

/// How long the copy waits for a lock the source holds (WAL recovery, a
/// checkpoint) before giving up.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// One open `sqlite3*`, closed when dropped.
struct Handle(*mut ffi::sqlite3);

impl Handle {
    fn open(path: &Path, flags: c_int) -> Result<Self, StorageError> {
        let name = c_path(path)?;
        let mut db = std::ptr::null_mut();
        // SAFETY: `name` is a NUL-terminated string that outlives the call and
        // `db` a valid out-pointer; a null VFS name selects the default VFS.
        let rc = unsafe { ffi::sqlite3_open_v2(name.as_ptr(), &mut db, flags, std::ptr::null()) };
        // sqlite3_open_v2 hands out a handle even when it fails (to read the
        // message from); it must be closed either way, which Drop does.
        let handle = Self(db);
        if rc != ffi::SQLITE_OK {
            return Err(handle.error(&format!("cannot open {}", path.display())));
        }
        // SAFETY: `db` is an open connection.
        unsafe { ffi::sqlite3_busy_timeout(db, BUSY_WAIT.as_millis() as c_int) };
        Ok(handle)
    }

    /// The connection's last error, as a storage error saying what was being done.
    fn error(&self, doing: &str) -> StorageError {
        let message = if self.0.is_null() {
            "out of memory".to_string()
        } else {
            // SAFETY: the handle is a connection (open or failed to open); the
            // message is a NUL-terminated string owned by SQLite, copied at once.
            unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.0)) }
                .to_string_lossy()
                .into_owned()
        };
        StorageError::Unavailable(format!("{doing}: {message}"))
    }

    fn exec(&self, sql: &str) -> Result<(), StorageError> {
        let text = CString::new(sql).map_err(|_| StorageError::Corrupt("NUL in SQL".into()))?;
        // SAFETY: an open connection and a NUL-terminated statement; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.0,
                text.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.error(sql))
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from sqlite3_open_v2 (null is a no-op) and
        // every backup object on it has been finished before this runs.
        unsafe { ffi::sqlite3_close(self.0) };
    }
}

fn c_path(path: &Path) -> Result<CString, StorageError> {
    path.to_str()
        .and_then(|s| CString::new(s).ok())
        .ok_or_else(|| {
            StorageError::Unavailable(format!("unusable path {} (not UTF-8)", path.display()))
        })
}

/// Copy the database at `source` into a new file `dest` (which must not exist)
/// while other connections go on using the source.
pub fn snapshot(source: &Path, dest: &Path) -> Result<(), StorageError> {
    if !source.is_file() {
        return Err(StorageError::Unavailable(format!(
            "no database at {}",
            source.display()
        )));
    }
    let src = Handle::open(source, ffi::SQLITE_OPEN_READONLY)?;
    let dst = Handle::open(
        dest,
        ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_EXCLUSIVE,
    )?;
    copy_all(&src, &dst)?;
    // The pages came with the source's WAL flag; make the copy a standalone file.
    dst.exec("PRAGMA journal_mode = DELETE")?;
    Ok(())
}

/// `sqlite3_backup_step(-1)` until done: one step copies the whole snapshot;
/// a busy source (a checkpoint, WAL recovery) is retried until `BUSY_WAIT`.
fn copy_all(src: &Handle, dst: &Handle) -> Result<(), StorageError> {
    let main = c"main";
    // SAFETY: both connections are open; "main" names each one's database.
    let backup = unsafe { ffi::sqlite3_backup_init(dst.0, main.as_ptr(), src.0, main.as_ptr()) };
    if backup.is_null() {
        return Err(dst.error("cannot start the backup"));
    }
    let deadline = Instant::now() + BUSY_WAIT;
    let mut step;
    loop {
        // SAFETY: `backup` is live until sqlite3_backup_finish below.
        step = unsafe { ffi::sqlite3_backup_step(backup, -1) };
        let busy = step == ffi::SQLITE_BUSY || step == ffi::SQLITE_LOCKED;
        if !busy || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: finishes and frees `backup`, which is not used again.
    let finish = unsafe { ffi::sqlite3_backup_finish(backup) };
    if step != ffi::SQLITE_DONE {
        // SAFETY: a static, NUL-terminated string owned by SQLite.
        let why = unsafe { CStr::from_ptr(ffi::sqlite3_errstr(step)) };
        return Err(StorageError::Unavailable(format!(
            "the backup did not complete: {}",
            why.to_string_lossy()
        )));
    }
    if finish != ffi::SQLITE_OK {
        return Err(dst.error("the backup did not complete"));
    }
    Ok(())
}

/// What a database image holds that a restore must check before using it.
#[derive(Debug, Clone)]
pub struct ImageFacts {
    /// The sealed master-key check value (`ward_meta`), if the image has one.
    pub master_key_check: Option<String>,
    /// Migrations the image has applied that this build does not know (a
    /// backup from a newer Ward).
    pub unknown_migrations: Vec<String>,
}

#[derive(QueryableByName)]
struct CheckLine {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// `PRAGMA integrity_check` on the image at `path`, then its check value and
/// migrations. A file that is no database, or a damaged one, is `Corrupt`.
pub fn inspect(path: &Path) -> Result<ImageFacts, StorageError> {
    let mut conn = open_file(path)?;
    let lines: Vec<CheckLine> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|e| StorageError::Corrupt(format!("the database image is unreadable: {e}")))?;
    let lines: Vec<String> = lines.into_iter().map(|l| l.integrity_check).collect();
    if lines != ["ok"] {
        let shown = lines.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
        return Err(StorageError::Corrupt(format!(
            "the database image fails SQLite's integrity check: {shown}"
        )));
    }
    Ok(ImageFacts {
        master_key_check: meta::get_if_schema_exists(&mut conn, meta::MASTER_KEY_CHECK)?,
        unknown_migrations: migrations::unknown_applied(&mut conn)?,
    })
}

/// One plain connection to the SQLite file at `path` (no pool, no pragmas):
/// for reading a database image before it is put in place.
pub fn open_file(path: &Path) -> Result<AnyConnection, StorageError> {
    let name = path
        .to_str()
        .ok_or_else(|| StorageError::Corrupt(format!("unusable path {}", path.display())))?;
    let conn = diesel::SqliteConnection::establish(name)
        .map_err(|e| StorageError::Corrupt(format!("cannot open the database image: {e}")))?;
    Ok(AnyConnection::Sqlite(conn))
}

/// Fold the WAL of the (unused) database at `path` into the file and remove
/// it, so that the file alone is the database: a `-wal` left beside a file
/// that is then replaced would be applied to the new one.
pub fn fold_wal(path: &Path) -> Result<(), StorageError> {
    {
        let mut conn = open_file(path)?;
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            "PRAGMA wal_checkpoint(TRUNCATE)",
        )?;
    } // closing the last connection removes an empty WAL
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        let side = std::path::PathBuf::from(name);
        let Ok(meta) = std::fs::metadata(&side) else {
            continue;
        };
        if suffix == "-wal" && meta.len() > 0 {
            return Err(StorageError::Unavailable(format!(
                "{} still holds changes that could not be checkpointed (is another process using the database?)",
                side.display()
            )));
        }
        std::fs::remove_file(&side).map_err(|e| {
            StorageError::Unavailable(format!("cannot remove {}: {e}", side.display()))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;

    #[test]
    fn a_snapshot_holds_the_committed_rows_and_is_standalone() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("live.db");
        let mut live = diesel::SqliteConnection::establish(source.to_str().unwrap()).unwrap();
        live.batch_execute(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('kept');",
        )
        .unwrap();
        let copy = dir.path().join("copy.db");
        // The live connection stays open (its WAL not checkpointed) during the copy.
        snapshot(&source, &copy).unwrap();
        assert!(!dir.path().join("copy.db-wal").exists());
        let bytes = std::fs::read(&copy).unwrap();
        assert_eq!(&bytes[..16], b"SQLite format 3\0");
        assert_eq!((bytes[18], bytes[19]), (1, 1), "rollback journal, not WAL");
        let mut c = diesel::SqliteConnection::establish(copy.to_str().unwrap()).unwrap();
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = Text)]
            v: String,
        }
        let rows: Vec<V> = diesel::sql_query("SELECT v FROM t").load(&mut c).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].v, "kept");
    }

    #[test]
    fn a_snapshot_never_overwrites_and_needs_a_source() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("live.db");
        let taken = dir.path().join("taken.db");
        std::fs::write(&taken, b"precious").unwrap();
        assert!(snapshot(&source, &dir.path().join("x.db")).is_err());
        diesel::SqliteConnection::establish(source.to_str().unwrap())
            .unwrap()
            .batch_execute("CREATE TABLE t (v TEXT)")
            .unwrap();
        assert!(snapshot(&source, &taken).is_err());
        assert_eq!(std::fs::read(&taken).unwrap(), b"precious");
    }

    #[test]
    fn inspect_refuses_what_is_not_a_sound_database() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![7u8; 8192]).unwrap();
        assert!(matches!(inspect(&junk), Err(StorageError::Corrupt(_))));
    }
}
