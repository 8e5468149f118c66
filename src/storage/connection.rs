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
// committed audit record survives a power cut.
const SQLITE_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;";

/// Statements executed by this process, on every connection (for `/metrics`
/// and the benchmarks' "statements per token exchange").
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Serialises this process's SQLite write transactions (see `transaction_on`).
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());
static TRANSACTIONS: AtomicU64 = AtomicU64::new(0);

pub fn statements_executed() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}

pub fn transactions_committed() -> u64 {
    TRANSACTIONS.load(Ordering::Relaxed)
}

fn count(event: InstrumentationEvent<'_>) {
    match event {
        InstrumentationEvent::StartQuery { .. } => {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
        }
        InstrumentationEvent::CommitTransaction { .. } => {
            TRANSACTIONS.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
}

fn establish(url: &DatabaseUrl) -> Result<AnyConnection, ConnectionError> {
    match url {
        DatabaseUrl::Postgres(u) => {
            let mut conn = PgConnection::establish(&with_connect_timeout(u))?;
            conn.set_instrumentation(count);
            Ok(AnyConnection::Postgres(conn))
        }
        DatabaseUrl::Sqlite(path) => {
            let path = path.to_str().ok_or_else(|| {
                ConnectionError::InvalidConnectionUrl("the SQLite path is not valid UTF-8".into())
            })?;
            let mut conn = SqliteConnection::establish(path)?;
            conn.set_instrumentation(count);
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
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<AnyConnection, ConnectionError> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// A pool of connections to one database. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    url: DatabaseUrl,
    /// Group commit of standalone audit records; started on first use.
    batcher: std::sync::Arc<std::sync::OnceLock<super::audit_batch::AuditBatcher>>,
    /// Recently read clients (see `client_cache`).
    pub(crate) clients: std::sync::Arc<super::client_cache::ClientCache>,
}

/// One transaction on a given connection (see [`Database::transaction`]).
pub(crate) fn transaction_on<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StorageError>,
{
    if !conn.is_postgres() {
        // SQLite has one writer at a time. Waiting for it here, on a fair lock,
        // instead of in SQLite's busy handler (which sleeps in growing steps)
        // keeps the tail latency of concurrent writes low. Other processes
        // (the CLI) still meet the busy timeout.
        let _writer = SQLITE_WRITER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        return sqlite_immediate(conn, f);
    }
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

/// `BEGIN IMMEDIATE ... COMMIT` around `f` on a SQLite connection, rolled back if `f` fails.
fn sqlite_immediate<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StorageError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    fn inner(conn: &mut AnyConnection) -> &mut SqliteConnection {
        match conn {
            AnyConnection::Sqlite(c) => c,
            AnyConnection::Postgres(_) => unreachable!("only called for SQLite connections"),
        }
    }
    AnsiTransactionManager::begin_transaction_sql(inner(conn), "BEGIN IMMEDIATE")
        .map_err(StorageError::from)?;
    match f(conn) {
        Ok(v) => {
            AnsiTransactionManager::commit_transaction(inner(conn)).map_err(StorageError::from)?;
            Ok(v)
        }
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(inner(conn));
            Err(e)
        }
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
        drop(first);
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            // No `SELECT 1` before every use: it would add a round trip to each request.
            // A broken connection fails its statement, and r2d2 replaces it.
            .test_on_check_out(false)
            .build_unchecked(Manager { url: url.clone() });
        Ok(Self {
            pool,
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
    pub fn conn(&self) -> Result<PooledConnection<Manager>, StorageError> {
        self.pool.get().map_err(|e: r2d2::PoolError| {
            tracing::warn!(error = %e, "no database connection available");
            StorageError::Unavailable(
                "no connection available within 5 s (unreachable, or every connection busy)".into(),
            )
        })
    }

    /// Run `f` in one transaction: everything it wrote commits together, or nothing does.
    ///
    /// On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the write lock
    /// up front: a deferred transaction that reads first and writes later can fail
    /// with SQLITE_BUSY at once (its snapshot is stale) instead of waiting its turn.
    pub fn transaction<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StorageError>,
    {
        let mut conn = self.conn()?;
        transaction_on(&mut conn, f)
    }

    /// Record a standalone audit event, group-committed with concurrent ones;
    /// durable when this returns.
    pub fn append_audit_batched(
        &self,
        event: crate::audit::AuditEvent,
    ) -> Result<(), StorageError> {
        self.batcher
            .get_or_init(|| super::audit_batch::AuditBatcher::start(self.pool.clone()))
            .append(event)
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
