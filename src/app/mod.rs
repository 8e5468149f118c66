//! Start-up wiring: open the database, resolve and check the master key, apply
//! migrations, make sure signing keys exist, and hand out one [`AppContext`].

pub mod logout_sender;
pub mod master_key;
pub mod sealer;

use std::sync::{Arc, RwLock};

use crate::audit::{AuditEvent, Outcome};
use crate::authn::password::Passwords;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::crypto::keyring::{Keyring, KeyringError};
use crate::manage::{self, ManageError};
use crate::oidc::Provider;
use crate::oidc::keys::KeySet;
use crate::storage::secrets::{MASTER_KEY_CHECK_CONTEXT, MASTER_KEY_CHECK_PLAINTEXT};
use crate::storage::{self, Database, StorageError, meta, migrations};

/// Everything a request or a command needs. Cheap to clone.
#[derive(Clone)]
pub struct AppContext {
    /// The signing keys in memory; replaced whole when keys are rotated or reloaded.
    keys: Arc<RwLock<Arc<KeySet>>>,
    pub config: Arc<Config>,
    pub db: Database,
    pub keyring: Keyring,
    pub passwords: Passwords,
    pub clock: Arc<dyn Clock>,
    /// Sends the templated emails (docs/mail.md); `enabled()` is false for transport `none`.
    pub mailer: Arc<crate::mail::Mailer>,
    /// The WebAuthn relying party (RP id and origin from the issuer).
    pub passkeys: Arc<crate::authn::passkeys::Passkeys>,
    /// Signs the long-lived browser (device) cookie (`session::device`).
    pub device_key: [u8; 32],
    /// The GeoIP database for the risk engine's impossible-travel signal, when configured.
    pub geo: Option<Arc<crate::risk::GeoDb>>,
    /// The authorization policy (Casbin), reloaded when the database's policy
    /// version moves (docs/authorization.md).
    pub authz: crate::authz::Authz,
}

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
    pub fn open(config: Config, options: OpenOptions) -> Result<Self, StartupError> {
        let clock: Arc<dyn Clock> = match crate::clock::OffsetFileClock::from_env() {
            Some(test_clock) => {
                tracing::warn!(
                    "{} is set: the clock follows a file (tests only; never in production)",
                    crate::clock::TEST_CLOCK_VARIABLE
                );
                Arc::new(test_clock)
            }
            None => Arc::new(SystemClock),
        };
        create_private_dir(&config.data_dir)?;
        // Before anything is written: a mail setting that cannot work stops start-up.
        let mailer = Arc::new(crate::mail::Mailer::new(&config.mail)?);
        let db = Database::connect(&config.database, config.database_pool_size)?;

        // The key is checked before anything is written, so a wrong key changes nothing.
        let check = meta::get_if_schema_exists(&mut *db.conn()?, meta::MASTER_KEY_CHECK)?;
        let keyring = Keyring::new(master_key::resolve(&config, check.as_deref())?);
        if let Some(check) = &check {
            match keyring.open(MASTER_KEY_CHECK_CONTEXT, check) {
                Ok(_) => {}
                Err(KeyringError::WrongKey {
                    sealed_by,
                    configured,
                }) => {
                    return Err(StartupError::WrongMasterKey {
                        sealed_by,
                        configured,
                    });
                }
                Err(e) => {
                    return Err(StartupError::MasterKey(format!(
                        "the master key check value does not open: {e}"
                    )));
                }
            }
        }

        let applied = {
            let mut conn = db.conn()?;
            if options.migrate {
                migrations::run_pending(&mut conn)?
            } else {
                let pending = migrations::pending(&mut conn)?;
                if !pending.is_empty() {
                    return Err(StartupError::SchemaOutOfDate(pending.len()));
                }
                Vec::new()
            }
        };

        let passwords =
            Passwords::new(config.password).map_err(|e| StartupError::MasterKey(e.to_string()))?;
        let passkeys = crate::authn::passkeys::Passkeys::new(&config.issuer_url, "Ward")
            .map_err(|e| StartupError::Passkeys(e.to_string()))?;
        let geo = match &config.risk.geoip_file {
            Some(path) => Some(Arc::new(crate::risk::GeoDb::load(path).map_err(|e| {
                StartupError::Risk(format!("risk.geoip_file {}: {e}", path.display()))
            })?)),
            None => None,
        };
        let ctx = Self {
            device_key: keyring.derive(crate::session::device::KEY_PURPOSE),
            geo,
            passkeys: Arc::new(passkeys),
            keys: Arc::default(),
            config: Arc::new(config),
            db,
            keyring,
            passwords,
            clock,
            mailer,
            // Allows nothing until the policy is read below.
            authz: crate::authz::Authz::empty()?,
        };
        let now = ctx.clock.now_ms();
        ctx.db.transaction(|c| {
            if !applied.is_empty() {
                storage::audit::append(c, &migration_event(now, "system", &applied))?;
            }
            Ok::<_, StorageError>(())
        })?;
        if check.is_none() {
            // Several nodes may start on an empty database at once: the first
            // check value wins, and every other node must hold the same key.
            let sealed = ctx
                .keyring
                .seal(MASTER_KEY_CHECK_CONTEXT, MASTER_KEY_CHECK_PLAINTEXT);
            let inserted = ctx
                .db
                .transaction(|c| meta::insert_new(c, meta::MASTER_KEY_CHECK, &sealed, now))?;
            if !inserted {
                let winner =
                    meta::get(&mut *ctx.db.conn()?, meta::MASTER_KEY_CHECK)?.unwrap_or_default();
                if let Err(KeyringError::WrongKey {
                    sealed_by,
                    configured,
                }) = ctx.keyring.open(MASTER_KEY_CHECK_CONTEXT, &winner)
                {
                    return Err(StartupError::WrongMasterKey {
                        sealed_by,
                        configured,
                    });
                }
            }
        }
        manage::keys::ensure_active_keys(&ctx)?;
        ctx.reload_keys()?;
        manage::policy::seed_if_empty(&ctx.db, "system", now)?;
        ctx.authz.reload(&ctx.db)?;
        Ok(ctx)
    }

    /// The current key set (cheap: one reference count).
    pub fn keyset(&self) -> Arc<KeySet> {
        self.keys.read().map(|k| k.clone()).unwrap_or_default()
    }

    /// Load the published and active keys from the database (at start, after a
    /// rotation, and periodically so that every node follows rotations).
    pub fn reload_keys(&self) -> Result<(), ManageError> {
        let set = Arc::new(manage::keys::load_keyset(self)?);
        if let Ok(mut k) = self.keys.write() {
            *k = set;
        }
        Ok(())
    }

    /// The protocol core's view of this context for one request.
    pub fn provider<'a>(&'a self, keys: &'a KeySet) -> Provider<'a> {
        Provider {
            store: &self.db,
            keys,
            issuer: &self.config.issuer,
            tokens: self.config.tokens,
            require_par: self.config.require_par,
            now: self.clock.now_ms(),
            policy: self.authz.current(),
            risk: &self.config.risk,
            geo: self.geo.as_deref(),
            scope_min_acr: &self.config.scope_min_acr,
        }
    }
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
    while storage::audit::seal_pending(&db, 1_000, now)? > 0 {}
    Ok(applied)
}
