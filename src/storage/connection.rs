//! Connections and the pool. The backend is chosen from the URL scheme here, not
//! by diesel's `MultiConnection::establish` (which tries each backend in turn and
//! reports only the last failure): an unreachable PostgreSQL server is reported
//! as exactly that.

use std::time::Duration;

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::{Connection, ConnectionError, PgConnection, SqliteConnection};

use super::StorageError;
use crate::config::DatabaseUrl;

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl AnyConnection {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

// SQLite: WAL so readers never block the writer, foreign keys enforced, a busy
// timeout so concurrent writers wait instead of failing, and FULL sync so a
// committed audit record survives a power cut. `secure_delete` overwrites
// deleted content with zeros, so that an erased person's name is not left in
// free pages (docs/privacy.md "Erasure by crypto-shredding").
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
     PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;";

/// Statements executed by this process, on every connection (for `/metrics`
/// and the benchmarks' "statements per token exchange").
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

static TRANSACTIONS: AtomicU64 = AtomicU64::new(0);

pub fn statements_executed() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}

/// A COMMIT issued as plain SQL (the group writer's), which diesel's
/// instrumentation does not report as a transaction.
pub(crate) fn count_commit() {
    TRANSACTIONS.fetch_add(1, Ordering::Relaxed);
}

pub fn transactions_committed() -> u64 {
    TRANSACTIONS.load(Ordering::Relaxed)
}

/// Connection-level failures seen by this process: bumped whenever a statement
/// finds its connection dead or a new connection cannot be made. A pooled
/// connection that has not proved itself since the last bump is tested before
/// it is handed out again (see [`Manager::is_valid`]).
static FAILURE_EPOCH: AtomicU64 = AtomicU64::new(0);

/// A pooled connection idle for longer than this is tested before use: a
/// database restart while the node was idle leaves every idle connection dead,
/// and nothing else would notice before a request failed on one. Under load a
/// connection is never idle this long, so the test costs a round trip only on
/// a quiet node, where it does not matter.
const IDLE_BEFORE_TEST: Duration = Duration::from_secs(1);

/// Per-connection instrumentation: counts statements and commits for
/// `/metrics`, and remembers whether the connection itself has failed, so the
/// pool discards it instead of handing it out again.
struct Probe {
    /// A statement failed because the connection is gone.
    broken: bool,
    /// The failure epoch at which this connection last proved itself alive.
    epoch: u64,
    last_used: std::time::Instant,
}

impl Probe {
    fn new() -> Self {
        Self {
            broken: false,
            epoch: FAILURE_EPOCH.load(Ordering::Acquire),
            last_used: std::time::Instant::now(),
        }
    }
}

impl diesel::connection::Instrumentation for Probe {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                STATEMENTS.fetch_add(1, Ordering::Relaxed);
            }
            InstrumentationEvent::CommitTransaction { .. } => {
                TRANSACTIONS.fetch_add(1, Ordering::Relaxed);
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                self.last_used = std::time::Instant::now();
                if error.is_some_and(super::is_connection_failure) {
                    self.broken = true;
                    FAILURE_EPOCH.fetch_add(1, Ordering::AcqRel);
                }
            }
            _ => {}
        }
    }
}

fn probe(conn: &mut AnyConnection) -> Option<&mut Probe> {
    use diesel::Connection as _;
    conn.instrumentation().downcast_mut::<Probe>()
}

fn establish(url: &DatabaseUrl) -> Result<AnyConnection, ConnectionError> {
    match url {
        DatabaseUrl::Postgres(u) => {
            let mut conn = PgConnection::establish(&with_connect_timeout(u))?;
            conn.set_instrumentation(Probe::new());
            Ok(AnyConnection::Postgres(conn))
        }
        DatabaseUrl::Sqlite(path) => {
            let path = path.to_str().ok_or_else(|| {
                ConnectionError::InvalidConnectionUrl("the SQLite path is not valid UTF-8".into())
            })?;
            let mut conn = SqliteConnection::establish(path)?;
            conn.set_instrumentation(Probe::new());
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(AnyConnection::Sqlite(conn))
        }
    }
}

/// A server that drops packets must be reported as unreachable in seconds, not
/// after the operating system's TCP timeout: add libpq's `connect_timeout`
/// unless the URL sets one.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout=5")
}

pub struct Manager {
    url: DatabaseUrl,
    /// Set while new connections cannot be made: callers then wait briefly
    /// for one and get "unavailable" (503) instead of queueing for seconds.
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<AnyConnection, ConnectionError> {
        let result = establish(&self.url);
        if result.is_err() {
            FAILURE_EPOCH.fetch_add(1, Ordering::AcqRel);
        }
        self.down.store(result.is_err(), Ordering::Release);
        result
    }

    /// Called on every checkout. A connection is tested with `SELECT 1` only
    /// when it may be dead: a connection-level failure was seen since it last
    /// proved itself (a database restart kills every pooled connection at
    /// once), or it sat idle long enough for the database to have gone away.
    /// Otherwise it is handed out as it is: no extra round trip per request.
    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnectionError> {
        let epoch = FAILURE_EPOCH.load(Ordering::Acquire);
        let suspect = probe(conn)
            .is_none_or(|p| p.epoch != epoch || p.last_used.elapsed() > IDLE_BEFORE_TEST);
        if !suspect || !conn.is_postgres() {
            return Ok(());
        }
        conn.batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        if let Some(p) = probe(conn) {
            p.epoch = epoch;
        }
        Ok(())
    }

    /// Called when a connection returns to the pool: one whose socket failed,
    /// or whose transaction could not be ended, is dropped and replaced.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        probe(conn).is_some_and(|p| p.broken) || conn.is_broken()
    }
}

/// A pool of connections to one database. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    url: DatabaseUrl,
    /// Shared with the pool's manager: the last attempt to connect failed.
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// SQLite: the one connection every write transaction runs on, with group
    /// commit (see `group_commit`). None on PostgreSQL.
    writer: Option<std::sync::Arc<super::group_commit::GroupWriter>>,
    /// Group commit of standalone audit records; started on first use.
    batcher: std::sync::Arc<std::sync::OnceLock<super::audit_batch::AuditBatcher>>,
    /// Recently read clients (see `client_cache`).
    pub(crate) clients: std::sync::Arc<super::client_cache::ClientCache>,
}

/// One PostgreSQL transaction on a given connection (see [`Database::transaction`];
/// SQLite transactions run on the group-commit writer instead).
fn postgres_transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StorageError>,
{
    let mut caller_error = None;
    let result = conn.transaction::<T, Abort, _>(|c| {
        f(c).map_err(|e| {
            caller_error = Some(e);
            Abort::Caller
        })
    });
    match result {
        Ok(v) => Ok(v),
        Err(Abort::Caller) => Err(caller_error.unwrap_or_else(|| StorageError::NotFound.into())),
        Err(Abort::Diesel(e)) => Err(StorageError::from(e).into()),
    }
}

/// Marks a transaction rolled back because the closure returned its own error.
enum Abort {
    Diesel(diesel::result::Error),
    Caller,
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Self::Diesel(e)
    }
}

impl Database {
    /// Connect once directly (so a failure says why), then build the pool.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, StorageError> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StorageError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut first = establish(url).map_err(|e| {
            StorageError::Unavailable(format!("{}: {}", url.redacted(), e.to_string().trim()))
        })?;
        if let AnyConnection::Sqlite(c) = &mut first {
            // Persistent for the database file; set once.
            c.batch_execute("PRAGMA journal_mode = WAL;")
                .map_err(|e| StorageError::Unavailable(format!("{}: {e}", url.redacted())))?;
        }
        let writer = match first {
            AnyConnection::Sqlite(_) => Some(std::sync::Arc::new(
                super::group_commit::GroupWriter::new(first),
            )),
            AnyConnection::Postgres(_) => None,
        };
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            // Also caps r2d2's back-off between attempts to reconnect at half of
            // this: once the database is back, a new connection follows within 1 s.
            .connection_timeout(Duration::from_secs(2))
            // `Manager::is_valid` tests only connections that may be dead.
            .test_on_check_out(true)
            .build_unchecked(Manager {
                url: url.clone(),
                down: down.clone(),
            });
        Ok(Self {
            pool,
            down,
            writer,
            url: url.clone(),
            batcher: Default::default(),
            clients: Default::default(),
        })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        self.url.is_postgres()
    }

    /// A connection from the pool (blocking).
    ///
    /// Waits up to 5 s for a connection while the database is reachable (every
    /// connection busy), but only 1 s while it is known to be down, so that
    /// requests during an outage fail fast with "unavailable" instead of piling up.
    pub fn conn(&self) -> Result<PooledConnection<Manager>, StorageError> {
        let wait = if self.down.load(Ordering::Acquire) {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(5)
        };
        self.pool.get_timeout(wait).map_err(|e: r2d2::PoolError| {
            tracing::warn!(error = %e, "no database connection available");
            StorageError::Unavailable(
                "no connection available (unreachable, or every connection busy)".into(),
            )
        })
    }

    /// Run `f` in one transaction: everything it wrote commits together, or nothing does.
    ///
    /// On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the write lock
    /// up front: a deferred transaction that reads first and writes later can fail
    /// with SQLITE_BUSY at once (its snapshot is stale) instead of waiting its turn.
    ///
    /// On SQLite the transaction runs on the writer connection and may share
    /// its COMMIT (one fsync) with concurrent ones; it returns once durable.
    pub fn transaction<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StorageError>,
    {
        let _span = tracing::info_span!("db.transaction").entered();
        if let Some(writer) = &self.writer {
            return writer.run(f);
        }
        let mut conn = self.conn()?;
        postgres_transaction(&mut conn, f)
    }

    /// Record a standalone audit event, group-committed with concurrent ones;
    /// durable when this returns.
    pub fn append_audit_batched(
        &self,
        event: crate::audit::AuditEvent,
    ) -> Result<(), StorageError> {
        self.batcher
            .get_or_init(|| super::audit_batch::AuditBatcher::start(self.clone()))
            .append(super::audit_batch::Record::Audit(event))
    }

    /// Record a disclosure of a read-only answer (userinfo, introspection),
    /// group-committed with concurrent ones; durable when this returns.
    pub fn append_disclosure_batched(
        &self,
        disclosure: crate::domain::disclosure::Disclosure,
    ) -> Result<(), StorageError> {
        self.batcher
            .get_or_init(|| super::audit_batch::AuditBatcher::start(self.clone()))
            .append(super::audit_batch::Record::Disclosure(disclosure))
    }

    /// Run blocking database work on the blocking pool, never on an async worker.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Database) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|_| StorageError::Unavailable("database worker interrupted".into()))?
    }

    /// Is the database answering? Used by `/readyz`; waits at most `timeout`.
    pub fn ping(&self, timeout: Duration) -> bool {
        match self.pool.get_timeout(timeout) {
            Ok(mut c) => c.batch_execute("SELECT 1").is_ok(),
            Err(_) => false,
        }
    }
}
