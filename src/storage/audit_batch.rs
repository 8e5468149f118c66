//! Group commit for standalone audit records (e.g. one per client_credentials
//! token). Callers block until their record is committed, so nothing is
//! acknowledged before it is durable; concurrent records share one transaction,
//! so thousands of issuances a second do not mean thousands of commits.

use std::sync::mpsc;

use super::{Database, StorageError, audit};
use crate::audit::AuditEvent;

/// Most records in one transaction.
const MAX_BATCH: usize = 512;

type Reply = mpsc::SyncSender<Result<(), String>>;

pub struct AuditBatcher {
    jobs: mpsc::Sender<(AuditEvent, Reply)>,
}

impl AuditBatcher {
    pub fn start(db: Database) -> Self {
        let (jobs, queue) = mpsc::channel::<(AuditEvent, Reply)>();
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
                    let result = db
                        .transaction(|c| {
                            let events: Vec<&AuditEvent> =
                                batch.iter().map(|(event, _)| event).collect();
                            audit::append_many(c, &events)
                        })
                        .map_err(|e| e.to_string());
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

    pub fn append(&self, event: AuditEvent) -> Result<(), StorageError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send((event, reply))
            .map_err(|_| StorageError::Unavailable("the audit writer stopped".into()))?;
        match answer.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StorageError::Unavailable(e)),
            Err(_) => Err(StorageError::Unavailable("the audit writer stopped".into())),
        }
    }
}
