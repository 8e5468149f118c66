//! `ward backup` and `ward restore` for a SQLite database (docs/backup.md).
//!
//! A backup is a copy taken with SQLite's online backup API while Ward serves
//! (`storage::sqlite_backup`), written with a manifest (`format`) that holds
//! the master key's id and sealed check value, never the key. A restore checks
//! everything it can before it replaces anything: that no Ward runs on the
//! database (`storage::file_lock`), the file's length and SHA-256, SQLite's
//! integrity check, that the configured master key opens the check value, and
//! the sealed part of the audit chain. Only then does it swap the file in with
//! one rename, and run `ward audit verify`'s check on the restored database.
//! PostgreSQL is backed up with pg_dump / pg_restore instead.

pub mod format;

use std::path::{Path, PathBuf};

use super::{AppContext, OpenOptions, StartupError, master_key};
use crate::audit::{AuditEvent, ChainVerifier, Outcome};
use crate::clock::{Clock, Millis, SystemClock};
use crate::config::{Config, DatabaseUrl};
use crate::crypto::keyring::{Keyring, sealed_key_id, sync_parent_dir};
use crate::manage::{self, ManageError};
use crate::storage::file_lock::{self, FileLock, LockError};
use crate::storage::{StorageError, audit as stored_audit, sqlite_backup};

pub use format::{FormatError, Manifest};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "`ward backup` and `ward restore` work on SQLite; this Ward uses PostgreSQL: back it up with \
         `pg_dump --format=custom` and restore it with `pg_restore` (see docs/backup.md)"
    )]
    Postgres,
    #[error(
        "Ward is running on {0} (a `ward` process holds its lock file): stop the server and every \
         command using it, then restore; nothing was changed"
    )]
    Running(String),
    #[error("a restore of {0} is in progress; start Ward again when it has finished")]
    Restoring(String),
    #[error("{0} already exists; choose a new file name (a backup never overwrites a file)")]
    Exists(String),
    #[error("{0}; nothing was changed")]
    Format(#[from] FormatError),
    #[error("the backup's database image is damaged: {0}; nothing was changed")]
    Damaged(String),
    #[error(
        "the backup was written by a newer Ward (it has migrations this one does not know: {0}); \
         restore it with that version; nothing was changed"
    )]
    Newer(String),
    #[error("{0}")]
    Key(#[from] StartupError),
    #[error(
        "the backup's audit chain is broken at record id {id}: {problem}; refusing to restore it, nothing was changed"
    )]
    ChainBroken { id: i64, problem: String },
    #[error("the restored database's audit chain does not verify: {0}")]
    RestoredChain(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Manage(#[from] ManageError),
    #[error("{0}")]
    Io(String),
}

/// The SQLite file a configuration names; PostgreSQL is refused.
fn sqlite_file(config: &Config) -> Result<&Path, BackupError> {
    match &config.database {
        DatabaseUrl::Sqlite(path) => Ok(path),
        DatabaseUrl::Postgres(_) => Err(BackupError::Postgres),
    }
}

/// What every `ward` process but `restore` holds while it uses a SQLite
/// database (nothing on PostgreSQL), so that a restore can tell it runs.
pub fn hold_shared(config: &Config) -> Result<Option<FileLock>, BackupError> {
    let Ok(path) = sqlite_file(config) else {
        return Ok(None);
    };
    match file_lock::shared(path) {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::Held(_)) => Err(BackupError::Restoring(path.display().to_string())),
        Err(e) => Err(BackupError::Io(e.to_string())),
    }
}

/// `path` with `suffix` added to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// A file this module writes and removes again unless it was put in place
/// (with SQLite's journal files, should one have been left).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = std::fs::remove_file(sibling(&self.0, suffix));
        }
    }
}

fn io(what: &str, path: &Path) -> impl Fn(std::io::Error) -> BackupError {
    let at = format!("{what} {}", path.display());
    move |e| BackupError::Io(format!("{at}: {e}"))
}

/// A storage error about an image: corruption is damage of the backup.
fn damaged(e: StorageError) -> BackupError {
    match e {
        StorageError::Corrupt(m) => BackupError::Damaged(m),
        other => BackupError::Storage(other),
    }
}

/// `ward backup <out>`: a consistent copy of the live database in a new file,
/// audited as `backup.create`.
pub fn create(ctx: &AppContext, out: &Path, actor: &str) -> Result<Manifest, BackupError> {
    let source = sqlite_file(&ctx.config)?;
    if out.exists() {
        return Err(BackupError::Exists(out.display().to_string()));
    }
    let image = Scratch(sibling(out, ".partial-image"));
    let partial = Scratch(sibling(out, ".partial"));
    let created_at = ctx.clock.now_ms();
    sqlite_backup::snapshot(source, &image.0)?;
    let facts = sqlite_backup::inspect(&image.0).map_err(damaged)?;
    let check = facts.master_key_check.ok_or_else(|| {
        BackupError::Damaged("the database holds no master-key check value".into())
    })?;
    let (image_sha256, image_bytes) = format::digest(&image.0)?;
    let manifest = Manifest {
        ward_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
        database: "sqlite".into(),
        image_bytes,
        image_sha256,
        master_key_id: sealed_key_id(&check).unwrap_or_default().to_string(),
        master_key_check: check,
    };
    format::write(&partial.0, &manifest, &image.0)?;
    std::fs::rename(&partial.0, out)
        .and_then(|()| sync_parent_dir(out))
        .map_err(io("cannot write", out))?;
    let event = AuditEvent::new(ctx.clock.now_ms(), actor, "backup.create", Outcome::Success)
        .detail("file", out.display().to_string())
        .detail("sha256", manifest.image_sha256.clone())
        .detail("bytes", manifest.image_bytes)
        .detail("master_key_id", manifest.master_key_id.clone());
    manage::audit_log::record(ctx, &event)?;
    Ok(manifest)
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Audit records whose chain verified after the restore.
    pub verified: u64,
    /// Where the database that was replaced is kept (none if there was none).
    pub previous: Option<PathBuf>,
}

/// `ward restore <backup>`: check the backup and the master key, swap the
/// database file in, then verify the audit chain and record `backup.restore`.
pub fn restore(config: Config, backup: &Path, actor: &str) -> Result<Restored, BackupError> {
    let target = sqlite_file(&config)?.to_path_buf();
    let _lock = match file_lock::exclusive(&target) {
        Ok(lock) => lock,
        Err(LockError::Held(_)) => {
            return Err(BackupError::Running(target.display().to_string()));
        }
        Err(e) => return Err(BackupError::Io(e.to_string())),
    };
    let image = Scratch(sibling(&target, ".restoring"));
    let manifest = format::unpack(backup, &image.0)?;
    let check = check_image(&image.0, &manifest)?;
    // The configured key must open the backup's check value: else refused here.
    let keyring = Keyring::new(master_key::resolve(&config, Some(&check))?);
    master_key::check(&keyring, &check)?;
    verify_sealed_chain(&image.0)?;
    let previous = install(&image.0, &target, SystemClock.now_ms())?;

    let migrate = config.migrate_on_start;
    let ctx = AppContext::open(config, OpenOptions { migrate })?;
    let report = manage::audit_log::verify(&ctx, actor)?;
    if !report.ok {
        return Err(BackupError::RestoredChain(
            report.problem.unwrap_or_default(),
        ));
    }
    let event = AuditEvent::new(
        ctx.clock.now_ms(),
        actor,
        "backup.restore",
        Outcome::Success,
    )
    .detail("file", backup.display().to_string())
    .detail("sha256", manifest.image_sha256.clone())
    .detail("backup_created_at", manifest.created_at)
    .detail("backup_ward_version", manifest.ward_version.clone())
    .detail("verified", report.verified);
    manage::audit_log::record(&ctx, &event)?;
    manage::audit_log::seal_all(&ctx)?;
    Ok(Restored {
        manifest,
        verified: report.verified,
        previous,
    })
}

/// SQLite's integrity check, a schema this Ward knows, and a check value that
/// is the manifest's: returns the check value.
fn check_image(image: &Path, manifest: &Manifest) -> Result<String, BackupError> {
    let facts = sqlite_backup::inspect(image).map_err(damaged)?;
    if !facts.unknown_migrations.is_empty() {
        return Err(BackupError::Newer(facts.unknown_migrations.join(", ")));
    }
    let check = facts
        .master_key_check
        .ok_or_else(|| BackupError::Damaged("it holds no master-key check value".into()))?;
    if check != manifest.master_key_check {
        return Err(BackupError::Damaged(
            "the manifest and the image disagree on the master-key check value".into(),
        ));
    }
    Ok(check)
}

/// Walk the image's sealed audit records as `ward audit verify` does (records
/// not yet chained are chained and checked after the restore).
fn verify_sealed_chain(image: &Path) -> Result<u64, BackupError> {
    let mut conn = sqlite_backup::open_file(image).map_err(damaged)?;
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = stored_audit::sealed_after(&mut conn, after, 1_000).map_err(damaged)?;
        if page.is_empty() {
            return Ok(verifier.verified);
        }
        for r in &page {
            verifier.check(r).map_err(|f| BackupError::ChainBroken {
                id: f.id,
                problem: f.problem,
            })?;
            after = r.seq.unwrap_or(after);
        }
    }
}

/// Put the checked image in place of `target` with one rename. The database it
/// replaces is kept beside it (`<name>.pre-restore-<ms>`), its WAL folded in
/// first so that no `-wal` of the old database is left to be applied to the new.
fn install(image: &Path, target: &Path, now: Millis) -> Result<Option<PathBuf>, BackupError> {
    let mut previous = None;
    if target.exists() {
        sqlite_backup::fold_wal(target)?;
        let kept = sibling(target, &format!(".pre-restore-{now}"));
        std::fs::hard_link(target, &kept)
            .map_err(io("cannot keep the current database as", &kept))?;
        previous = Some(kept);
    }
    std::fs::rename(image, target)
        .and_then(|()| sync_parent_dir(target))
        .map_err(io("cannot put the restored database in place at", target))?;
    Ok(previous)
}
