//! Reading and verifying the audit trail.

use serde::Serialize;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use crate::audit::{AuditEvent, AuditRecord, ChainVerifier, Outcome, VerifyFailure, sealed};
use crate::context::AppContext;
use crate::crypto::data_key::{self, DataKey};
use crate::crypto::keyring::Keyring;
use crate::store::AuditLogStore;
use crate::store::audit_log::{Person, RecordSealer};

use super::ManageError;

const PAGE: i64 = 1_000;
/// Records chained per transaction. Small, so that sealing never holds the
/// (SQLite) write lock long enough to show in the latency of token requests.
const SEAL_BATCH: i64 = 64;

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub verified: u64,
    pub pending: i64,
    pub ok: bool,
    pub first_bad_id: Option<i64>,
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
}

/// Seal what is pending, then walk the whole chain. The walk itself is read-only
/// and pages through the table, so it runs in constant memory.
pub fn verify(ctx: &AppContext, actor: &str) -> Result<VerifyReport, ManageError> {
    seal_all(ctx)?;
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    let mut failure: Option<VerifyFailure> = None;
    'pages: loop {
        let page = ctx.db.sealed_audit_after(after, PAGE)?;
        if page.is_empty() {
            break;
        }
        for r in &page {
            if let Err(f) = verifier.check(r) {
                failure = Some(f);
                break 'pages;
            }
            after = r.seq.unwrap_or(after);
        }
    }
    let pending = ctx.db.pending_audit_count()?;
    let report = VerifyReport {
        verified: verifier.verified,
        pending,
        ok: failure.is_none(),
        first_bad_id: failure.as_ref().map(|f| f.id),
        first_bad_seq: failure.as_ref().map(|f| f.seq),
        problem: failure.map(|f| f.problem),
    };
    let mut e = AuditEvent::new(
        ctx.clock.now_ms(),
        actor,
        "audit.verify",
        if report.ok {
            Outcome::Success
        } else {
            Outcome::Failure
        },
    )
    .detail("verified", report.verified);
    if let Some(id) = report.first_bad_id {
        e = e.reason("chain_broken").detail("first_bad_id", id);
    }
    ctx.db.record_audit(&e)?;
    Ok(report)
}

/// Record a standalone event (one that accompanies no other change), e.g. a server start.
pub fn record(ctx: &AppContext, event: &AuditEvent) -> Result<(), ManageError> {
    ctx.db.record_audit(event)?;
    Ok(())
}

/// Seal every pending record now (the CLI does this after each command).
pub fn seal_all(ctx: &AppContext) -> Result<usize, ManageError> {
    let mut total = 0;
    loop {
        // Small batches: each holds the write lock only briefly.
        let sealer = KeyringSealer::new(&ctx.keyring);
        let n = ctx.db.seal_audit(SEAL_BATCH, ctx.clock.now_ms(), &sealer)?;
        total += n;
        if n < SEAL_BATCH as usize {
            return Ok(total);
        }
        // Let waiting request transactions in between two full batches.
        std::thread::sleep(std::time::Duration::from_micros(500));
    }
}

/// Seals records under people's data keys with the keyring (see
/// `audit::sealed`); the keys it opened are kept for its batch.
struct KeyringSealer<'a> {
    keyring: &'a Keyring,
    opened: RefCell<HashMap<String, DataKey>>,
}

impl<'a> KeyringSealer<'a> {
    fn new(keyring: &'a Keyring) -> Self {
        Self {
            keyring,
            opened: RefCell::new(HashMap::new()),
        }
    }
}

/// A person's data key, opened with the keyring; None (logged) when it does
/// not open (sealed by another master key, or damaged).
fn open_key(keyring: &Keyring, user_id: &str, sealed: &str) -> Option<DataKey> {
    match keyring.open(&data_key::context(user_id), sealed) {
        Ok(bytes) => DataKey::from_slice(&bytes),
        Err(e) => {
            tracing::warn!(error = %e, user_id, "a data key does not open");
            None
        }
    }
}

impl RecordSealer for KeyringSealer<'_> {
    fn new_key(&self, user_id: &str) -> Option<String> {
        let key = DataKey::generate();
        let sealed = self
            .keyring
            .seal(&data_key::context(user_id), key.as_bytes());
        self.opened.borrow_mut().insert(user_id.to_string(), key);
        Some(sealed)
    }

    fn protect(&self, record: &mut AuditRecord, person: &str, state: &Person) -> bool {
        match state {
            Person::Absent => true,
            Person::Unkeyed => false,
            Person::Erased => {
                sealed::erase(record);
                true
            }
            Person::Key(stored) => {
                let mut opened = self.opened.borrow_mut();
                if !opened.contains_key(person) {
                    let Some(key) = open_key(self.keyring, person, stored) else {
                        return false;
                    };
                    opened.insert(person.to_string(), key);
                }
                sealed::seal(record, person, &opened[person]);
                true
            }
        }
    }
}

/// Records as readers see them: each sealed one opened with its person's
/// data key, or shown as about an erased subject when the key is gone
/// (docs/audit.md "Sealed records"). Every read path goes through this.
pub fn open_records(ctx: &AppContext, records: &mut [AuditRecord]) -> Result<(), ManageError> {
    let people: Vec<String> = records
        .iter()
        .filter_map(sealed::sealed_for)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys: HashMap<String, DataKey> = ctx
        .db
        .data_keys(&people)?
        .into_iter()
        .filter_map(|(id, k)| open_key(&ctx.keyring, &id, &k).map(|key| (id, key)))
        .collect();
    for r in records.iter_mut() {
        if let Some(person) = sealed::sealed_for(r) {
            sealed::open(r, keys.get(&person));
        }
    }
    Ok(())
}

pub fn tail(ctx: &AppContext, actor: &str, n: i64) -> Result<Vec<AuditRecord>, ManageError> {
    let mut records = ctx.db.audit_tail(n.clamp(1, 10_000))?;
    open_records(ctx, &mut records)?;
    let e = AuditEvent::new(ctx.clock.now_ms(), actor, "audit.read", Outcome::Success)
        .detail("count", records.len());
    ctx.db.record_audit(&e)?;
    Ok(records)
}

/// What an audit query asks for (`GET /admin/api/audit`).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub event_type: Option<String>,
    /// A user id: the records about that user.
    pub subject: Option<String>,
    /// Records after this id, oldest first; without it, the newest first.
    pub after_id: Option<i64>,
    pub limit: i64,
}

/// Event types and user ids are short names; anything else matches nothing
/// and is refused rather than sent to the database.
fn check_filter(field: &'static str, value: &str) -> Result<(), ManageError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
    if ok {
        Ok(())
    } else {
        Err(crate::domain::InvalidValue::new(field, "is not an event type or a user id").into())
    }
}

/// Filtered records (see [`AuditQuery`]); the read is itself recorded.
pub fn query(
    ctx: &AppContext,
    actor: &str,
    q: &AuditQuery,
) -> Result<Vec<AuditRecord>, ManageError> {
    for (field, value) in [("event_type", &q.event_type), ("subject", &q.subject)] {
        if let Some(v) = value {
            check_filter(field, v)?;
        }
    }
    let mut records = ctx.db.audit_query(
        q.event_type.as_deref(),
        q.subject.as_deref(),
        q.after_id,
        q.limit.clamp(1, 1_000),
    )?;
    open_records(ctx, &mut records)?;
    let mut e = AuditEvent::new(ctx.clock.now_ms(), actor, "audit.read", Outcome::Success)
        .detail("count", records.len());
    if let Some(t) = &q.event_type {
        e = e.detail("event_type", t.as_str());
    }
    if let Some(s) = &q.subject {
        e = e.detail("subject", s.as_str());
    }
    ctx.db.record_audit(&e)?;
    Ok(records)
}

/// Stream every record in insertion order to `sink`, one page at a time,
/// opened (`open_records`): the export is for reading; `ward audit verify`
/// checks the chain over the stored, sealed form.
pub fn export(
    ctx: &AppContext,
    actor: &str,
    mut sink: impl FnMut(&AuditRecord) -> std::io::Result<()>,
) -> Result<u64, ManageError> {
    let mut after = 0;
    let mut count = 0u64;
    loop {
        let mut page = ctx.db.audit_after_id(after, PAGE)?;
        if page.is_empty() {
            break;
        }
        open_records(ctx, &mut page)?;
        for r in &page {
            sink(r).map_err(|e| ManageError::Internal(format!("cannot write the export: {e}")))?;
            after = r.id;
            count += 1;
        }
    }
    let e = AuditEvent::new(ctx.clock.now_ms(), actor, "audit.export", Outcome::Success)
        .detail("count", count);
    ctx.db.record_audit(&e)?;
    Ok(count)
}

/// A valid admin API token refused by the guard: who, which route, and why.
#[derive(Debug, Clone)]
pub struct AdminDenial {
    pub user_id: String,
    pub method: String,
    pub route: String,
    pub permission: String,
    /// `forbidden` or `step_up`.
    pub reason: &'static str,
    pub ip: Option<String>,
}

/// Record a refused admin API request: someone signed in tried an admin route.
pub fn record_admin_denial(ctx: &AppContext, d: &AdminDenial) -> Result<(), ManageError> {
    let mut event = AuditEvent::new(
        ctx.clock.now_ms(),
        format!("user:{}", d.user_id),
        "admin.denied",
        Outcome::Failure,
    )
    .subject(&d.user_id)
    .reason(d.reason)
    .detail("method", d.method.as_str())
    .detail("route", d.route.as_str())
    .detail("permission", d.permission.as_str());
    event.ip = d.ip.clone();
    record(ctx, &event)
}

/// Record a server start or stop (`server.start`, `server.stop`) and where it listens.
pub fn record_lifecycle(
    ctx: &AppContext,
    kind: &'static str,
    addr: &str,
) -> Result<(), ManageError> {
    let event = AuditEvent::new(ctx.clock.now_ms(), "system", kind, Outcome::Success)
        .detail("listen", addr)
        .detail("version", env!("CARGO_PKG_VERSION"))
        .detail("pid", std::process::id());
    record(ctx, &event)
}
