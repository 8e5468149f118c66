//! Group commit of SQLite write transactions.
//!
//! SQLite has one writer, and with `synchronous = FULL` every COMMIT waits for
//! an fsync. One fsync per token exchange caps a node at a few thousand
//! exchanges a second however fast the rest is. Here every write transaction
//! of the process runs on one writer connection, and transactions that arrive
//! while others are running share one COMMIT, so one fsync makes a whole batch
//! durable. Each caller still waits until its own batch has committed: a
//! response is never sent for a write that is not on disk.
//!
//! Each caller runs its closure itself, under the writer's lock, in a savepoint
//! of the batch's transaction: a caller whose closure fails rolls back only its
//! own work. The first caller of a batch needs no savepoint (nobody else is in
//! the batch yet; a failure rolls the whole, one-member transaction back), so
//! a lone request runs exactly the statements it ran before.
//!
//! A batch commits when its last member has run and nobody else is waiting to
//! join it, or when it is full.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use diesel::connection::SimpleConnection;

use super::{AnyConnection, StorageError};

/// Most transactions in one commit: bounds how long the first of them waits.
const MAX_BATCH: usize = 32;

/// Failed batches remembered for their waiting members.
const FAILURES_KEPT: usize = 64;

pub struct GroupWriter {
    state: Mutex<State>,
    /// Signalled whenever a batch has finished (committed or failed).
    finished: Condvar,
    /// Callers that want to run a transaction but do not hold the lock yet:
    /// the open batch waits for them rather than paying a second fsync.
    arriving: AtomicUsize,
}

struct State {
    conn: AnyConnection,
    open: Option<Batch>,
    last_id: u64,
    /// Every batch up to this id has finished.
    finished_upto: u64,
    failed: VecDeque<u64>,
}

struct Batch {
    id: u64,
    members: usize,
}

impl GroupWriter {
    pub fn new(conn: AnyConnection) -> Self {
        Self {
            state: Mutex::new(State {
                conn,
                open: None,
                last_id: 0,
                finished_upto: 0,
                failed: VecDeque::new(),
            }),
            finished: Condvar::new(),
            arriving: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` in a write transaction; returns once that transaction is durable
    /// (or has failed).
    pub fn run<T, E>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StorageError>,
    {
        self.arriving.fetch_add(1, Ordering::AcqRel);
        let mut st = self.lock();
        self.arriving.fetch_sub(1, Ordering::AcqRel);

        let first = st.open.is_none();
        if first {
            Self::begin(&mut st)?;
        } else if let Err(e) = st.conn.batch_execute("SAVEPOINT member") {
            self.abandon(st);
            return Err(StorageError::from(e).into());
        }
        let id = st.open.as_ref().map_or(0, |b| b.id);

        // A panic inside `f` must not leave half of its writes in the batch for
        // the next member to commit: the whole batch is rolled back and failed.
        let result =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut st.conn))) {
                Ok(result) => result,
                Err(panic) => {
                    self.abandon(st);
                    std::panic::resume_unwind(panic);
                }
            };

        let undone = match (&result, first) {
            (Ok(_), true) => Ok(()),
            (Err(_), true) => {
                // Alone in the batch: roll the whole transaction back.
                let undone = st.conn.batch_execute("ROLLBACK");
                st.open = None;
                st.finished_upto = id;
                drop(st);
                self.finished.notify_all();
                return match undone {
                    Ok(()) => result,
                    Err(e) => result.and(Err(StorageError::from(e).into())),
                };
            }
            (Ok(_), false) => st.conn.batch_execute("RELEASE member"),
            (Err(_), false) => st.conn.batch_execute("ROLLBACK TO member; RELEASE member"),
        };
        if let Err(e) = undone {
            self.abandon(st);
            return result.and(Err(StorageError::from(e).into()));
        }
        if let Some(batch) = st.open.as_mut() {
            batch.members += 1;
        }
        if !self.wait_until_durable(st, id) {
            return result.and(Err(StorageError::Unavailable(
                "the transaction could not be committed".into(),
            )
            .into()));
        }
        result
    }

    /// Open a batch, its caller its first member. IMMEDIATE: take the write
    /// lock now (other processes, such as the CLI, wait in SQLite's busy
    /// handler rather than failing later).
    fn begin(st: &mut State) -> Result<(), StorageError> {
        st.conn.batch_execute("BEGIN IMMEDIATE")?;
        st.last_id += 1;
        st.open = Some(Batch {
            id: st.last_id,
            members: 0,
        });
        Ok(())
    }

    /// Wait until batch `id` is durable; commit it ourselves when nobody else
    /// is about to join it (or it is full). False if it failed.
    fn wait_until_durable(&self, mut st: MutexGuard<'_, State>, id: u64) -> bool {
        loop {
            if st.finished_upto >= id {
                break;
            }
            let full = st.open.as_ref().is_some_and(|b| b.members >= MAX_BATCH);
            if self.arriving.load(Ordering::Acquire) == 0 || full {
                self.commit(&mut st);
                self.finished.notify_all();
                break;
            }
            st = self.finished.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        !st.failed.contains(&id)
    }

    /// Fail the open batch ([`Self::abort`]), let go of the writer and wake
    /// the members waiting for it.
    fn abandon(&self, mut st: MutexGuard<'_, State>) {
        self.abort(&mut st);
        drop(st);
        self.finished.notify_all();
    }

    fn commit(&self, st: &mut State) {
        let Some(batch) = st.open.take() else { return };
        match st.conn.batch_execute("COMMIT") {
            Ok(()) => super::connection::count_commit(),
            Err(e) => {
                tracing::error!(error = %e, members = batch.members, "a group commit failed");
                let _ = st.conn.batch_execute("ROLLBACK");
                Self::remember_failure(st, batch.id);
            }
        }
        st.finished_upto = batch.id;
    }

    /// The batch's transaction is unusable: roll it back and fail every member.
    fn abort(&self, st: &mut State) {
        if let Some(batch) = st.open.take() {
            let _ = st.conn.batch_execute("ROLLBACK");
            Self::remember_failure(st, batch.id);
            st.finished_upto = batch.id;
        }
    }

    fn remember_failure(st: &mut State, id: u64) {
        st.failed.push_back(id);
        if st.failed.len() > FAILURES_KEPT {
            st.failed.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use crate::config::DatabaseUrl;
    use crate::storage::{Database, StorageError};

    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn count(db: &Database, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<N>(&mut *db.conn().unwrap())
            .unwrap()
            .n
    }

    /// Concurrent transactions, some of which fail after writing: every
    /// successful one is durable, no failed one leaves a row behind, and each
    /// caller gets its own result.
    #[test]
    fn concurrent_transactions_commit_together_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(&DatabaseUrl::Sqlite(dir.path().join("t.db")), 4).unwrap();
        db.transaction(|c| {
            c.batch_execute("CREATE TABLE t (v TEXT PRIMARY KEY)")
                .map_err(StorageError::from)
        })
        .unwrap();
        let db = Arc::new(db);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut ok = 0;
                    for i in 0..60 {
                        let fail = i % 4 == 3;
                        let result = db.transaction(|c| {
                            diesel::sql_query(format!("INSERT INTO t (v) VALUES ('{t}-{i}')"))
                                .execute(c)
                                .map_err(StorageError::from)?;
                            if fail {
                                // After a write: it must be undone, and only it.
                                return Err(StorageError::Conflict("deliberate"));
                            }
                            Ok(i)
                        });
                        match result {
                            Ok(v) => {
                                assert_eq!(v, i);
                                ok += 1;
                            }
                            Err(StorageError::Conflict("deliberate")) => assert!(fail),
                            Err(e) => panic!("unexpected: {e}"),
                        }
                    }
                    ok
                })
            })
            .collect();
        let ok: i64 = threads.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(ok, 8 * 45);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM t"), ok);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM t WHERE CAST(substr(v, instr(v, '-') + 1) AS INTEGER) % 4 = 3"
            ),
            0
        );
    }

    /// A panic inside a transaction rolls its writes back; the writer goes on.
    #[test]
    fn a_panicking_transaction_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(&DatabaseUrl::Sqlite(dir.path().join("t.db")), 2).unwrap();
        db.transaction(|c| {
            c.batch_execute("CREATE TABLE t (v TEXT PRIMARY KEY)")
                .map_err(StorageError::from)
        })
        .unwrap();
        let db2 = db.clone();
        let panicked = std::thread::spawn(move || {
            let _: Result<(), StorageError> = db2.transaction(|c| {
                diesel::sql_query("INSERT INTO t (v) VALUES ('half')")
                    .execute(c)
                    .map_err(StorageError::from)?;
                panic!("in the middle of a transaction");
            });
        })
        .join();
        assert!(panicked.is_err());
        db.transaction(|c| {
            diesel::sql_query("INSERT INTO t (v) VALUES ('whole')")
                .execute(c)
                .map_err(StorageError::from)
        })
        .unwrap();
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM t WHERE v = 'half'"),
            0
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM t WHERE v = 'whole'"),
            1
        );
    }
}
