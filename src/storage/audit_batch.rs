//! Group commit for standalone audit records (e.g. one per client_credentials
//! token) and for the disclosure rows of read-only answers (userinfo,
//! introspection: docs/privacy.md). Callers block until their record is
//! committed, so nothing is acknowledged before it is durable; concurrent
//! records share one transaction, so thousands of issuances a second do not
//! mean thousands of commits.

use std::sync::mpsc;

use super::{Database, StorageError, audit, disclosures};
use crate::audit::AuditEvent;
use crate::domain::disclosure::Disclosure;

/// What the writer writes.
pub enum Record {
    Audit(AuditEvent),
    Disclosure(Disclosure),
}

/// Most records in one transaction.
const MAX_BATCH: usize = 512;

type Reply = mpsc::SyncSender<Result<(), String>>;

pub struct AuditBatcher {
    jobs: mpsc::Sender<(Record, Reply)>,
}

impl AuditBatcher {
    pub fn start(db: Database) -> Self {
        let (jobs, queue) = mpsc::channel::<(Record, Reply)>();
        std::thread::Builder::new()
            .name("ward-audit-writer".into())
            .spawn(move || {
                // While one batch commits, the next one gathers.
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    let result = write(&db, &batch).map_err(|e| e.to_string());
                    for (_, reply) in batch {
                        let _ = reply.send(result.clone());
                    }
                }
            })
            .map(|_| ())
            .unwrap_or_else(
                |e| tracing::error!(error = %e, "cannot start the audit writer thread"),
            );
        Self { jobs }
    }

    pub fn append(&self, record: Record) -> Result<(), StorageError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send((record, reply))
            .map_err(|_| StorageError::Unavailable("the audit writer stopped".into()))?;
        match answer.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StorageError::Unavailable(e)),
            Err(_) => Err(StorageError::Unavailable("the audit writer stopped".into())),
        }
    }
}

/// One batch in one transaction: the audit records in one multi-row INSERT,
/// the disclosures in another.
fn write(db: &Database, batch: &[(Record, Reply)]) -> Result<(), StorageError> {
    let mut events: Vec<&AuditEvent> = Vec::new();
    let mut rows: Vec<&Disclosure> = Vec::new();
    for (record, _) in batch {
        match record {
            Record::Audit(e) => events.push(e),
            Record::Disclosure(d) => rows.push(d),
        }
    }
    db.transaction(|c| {
        if !events.is_empty() {
            audit::append_many(c, &events)?;
        }
        disclosures::insert_many(c, &rows)
    })
}
