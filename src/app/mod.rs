//! Start-up wiring, the composition root: open the database, resolve and check
//! the master key, apply migrations, make sure signing keys exist, and hand out
//! one [`AppContext`]; the background jobs (`sealer`, `logout_sender`); and
//! `backup` (`ward backup` / `ward restore` on SQLite). It
//! may use every module below it; nothing but `web` and `cli` uses it.

pub mod backup;
pub mod logout_sender;
pub mod master_key;
pub mod pairwise_key;
pub mod sealer;

use std::sync::Arc;

use crate::audit::{AuditEvent, Outcome};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::context::LiveKeys;
use crate::credentials::passkeys::Passkeys;
use crate::credentials::password::Passwords;
use crate::crypto::keyring::Keyring;
use crate::manage::{self, ManageError};
use crate::storage::{self, Database, StorageError, meta, migrations};

/// The context lives in `context` (below `authn` and `manage`, which take it);
/// this path stays for the binary, the tests and the benches.
pub use crate::context::AppContext;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    MasterKey(String),
    #[error("cannot create the data directory: {0}")]
    DataDir(String),
    #[error("{0}")]
    Passkeys(String),
    #[error("password hashing parameters: {0}")]
    Passwords(String),
    #[error(
        "the configured master key (id {configured}) is not the one that sealed this database's secrets (id {sealed_by}); \
         refusing to start and changing nothing. Configure the right key (WARD_MASTER_KEY or the key file)."
    )]
    WrongMasterKey {
        sealed_by: String,
        configured: String,
    },
    #[error(
        "the database schema is not up to date ({0} pending migrations); run `ward migrate` or enable migrate_on_start"
    )]
    SchemaOutOfDate(usize),
    #[error(transparent)]
    Manage(#[from] ManageError),
    #[error("email (the [mail] settings, WARD_MAIL_*): {0}")]
    Mail(#[from] crate::mail::MailError),
    #[error("{0}")]
    Risk(String),
    #[error("authorization policy: {0}")]
    Authz(#[from] crate::authz::AuthzError),
}

/// How much `open` may do.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// Apply pending migrations (otherwise refuse to run on an old schema).
    pub migrate: bool,
}

impl AppContext {
    /// Connect, check the master key, migrate, and make sure the signing keys
    /// and the seed policy exist; in that order, so that a wrong key or an old
    /// schema is refused before anything is written.
    pub fn open(config: Config, options: OpenOptions) -> Result<Self, StartupError> {
        let clock = clock_from_env();
        create_private_dir(&config.data_dir)?;
        // Before anything is written: a mail setting that cannot work stops start-up.
        let mailer = Arc::new(crate::mail::Mailer::new(&config.mail)?);
        let db = Database::connect(&config.database, config.database_pool_size)?;

        // The key is checked before anything is written, so a wrong key changes nothing.
        let check = meta::get_if_schema_exists(&mut *db.conn()?, meta::MASTER_KEY_CHECK)?;
        let keyring = Keyring::new(master_key::resolve(&config, check.as_deref())?);
        if let Some(check) = &check {
            master_key::check(&keyring, check)?;
        }
        let applied = migrate(&db, options)?;
        let pairwise = pairwise_key::ensure(&db, &keyring, clock.now_ms())?;
        let ctx = assemble(config, db, (keyring, pairwise), clock, mailer)?;
        let now = ctx.clock.now_ms();
        ctx.db.transaction(|c| {
            if !applied.is_empty() {
                storage::audit::append(c, &migration_event(now, "system", &applied))?;
            }
            Ok::<_, StorageError>(())
        })?;
        if check.is_none() {
            master_key::record_check(&ctx.db, &ctx.keyring, now)?;
        }
        manage::keys::ensure_active_keys(&ctx)?;
        ctx.reload_keys().map_err(ManageError::from)?;
        manage::policy::seed_if_empty(&ctx.db, "system", now)?;
        ctx.authz.reload(&ctx.db)?;
        Ok(ctx)
    }
}

/// The system clock, or in tests the file that `WARD_TEST_CLOCK_FILE` names.
fn clock_from_env() -> Arc<dyn Clock> {
    match crate::clock::OffsetFileClock::from_env() {
        Some(test_clock) => {
            tracing::warn!(
                "{} is set: the clock follows a file (tests only; never in production)",
                crate::clock::TEST_CLOCK_VARIABLE
            );
            Arc::new(test_clock)
        }
        None => Arc::new(SystemClock),
    }
}

/// Apply the pending migrations, or refuse an old schema; returns those applied.
fn migrate(db: &Database, options: OpenOptions) -> Result<Vec<String>, StartupError> {
    let mut conn = db.conn()?;
    if options.migrate {
        return Ok(migrations::run_pending(&mut conn)?);
    }
    let pending = migrations::pending(&mut conn)?;
    if !pending.is_empty() {
        return Err(StartupError::SchemaOutOfDate(pending.len()));
    }
    Ok(Vec::new())
}

/// The context's parts that need only the configuration and the keyring: the
/// credential primitives, the GeoIP data, the device-cookie key, an empty
/// key set and policy (both read from the database next); the pairwise
/// subject key comes opened.
fn assemble(
    config: Config,
    db: Database,
    (keyring, pairwise_key): (Keyring, crate::crypto::pairwise::PairwiseKey),
    clock: Arc<dyn Clock>,
    mailer: Arc<crate::mail::Mailer>,
) -> Result<AppContext, StartupError> {
    let passwords =
        Passwords::new(config.password).map_err(|e| StartupError::MasterKey(e.to_string()))?;
    let passkeys = Passkeys::new(&config.issuer_url, "Ward")
        .map_err(|e| StartupError::Passkeys(e.to_string()))?;
    let geo = match &config.risk.geoip_file {
        Some(path) => Some(Arc::new(crate::risk::GeoDb::load(path).map_err(|e| {
            StartupError::Risk(format!("risk.geoip_file {}: {e}", path.display()))
        })?)),
        None => None,
    };
    Ok(AppContext {
        device_key: keyring.derive(crate::session::device::KEY_PURPOSE),
        pairwise_key,
        geo,
        passkeys: Arc::new(passkeys),
        keys: LiveKeys::default(),
        db,
        keyring,
        passwords,
        clock,
        mailer,
        // Allows nothing until the policy is read.
        authz: crate::authz::Authz::empty()?,
        client_keys: Arc::new(crate::jwks::ClientKeys::http(
            config.allow_insecure_jwks_uri,
        )),
        config: Arc::new(config),
    })
}

/// The data directory holds the database and perhaps the key file: owner only.
fn create_private_dir(dir: &std::path::Path) -> Result<(), StartupError> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| StartupError::DataDir(format!("{}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

pub fn migration_event(now: i64, actor: &str, applied: &[String]) -> AuditEvent {
    AuditEvent::new(now, actor, "schema.migrate", Outcome::Success)
        .detail("applied", applied.to_vec())
}

/// `ward migrate`: apply migrations only; needs no master key.
pub fn migrate_only(config: &Config, actor: &str) -> Result<Vec<String>, StartupError> {
    let db = Database::connect(&config.database, 1)?;
    let applied = migrations::run_pending(&mut *db.conn()?)?;
    let now = SystemClock.now_ms();
    db.transaction(|c| storage::audit::append(c, &migration_event(now, actor, &applied)))?;
    // A deployment that migrates separately (migrate_on_start = false) gets its
    // seed policy here, before any node starts.
    manage::policy::seed_if_empty(&db, actor, now)?;
    // Seal at once: nothing else may be running to do it.
    // Without the master key: records about people wait for the server.
    let sealer = storage::audit::WithoutKeys;
    while storage::audit::seal_pending(&db, 1_000, now, &sealer)? > 0 {}
    Ok(applied)
}
