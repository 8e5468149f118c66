//! The audit_events table: append inside the caller's transaction, seal in
//! batches, read back in chain order.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::schema::audit_events::dsl;
use super::schema::ward_meta;
use super::{AnyConnection, StorageError};
use crate::audit::chain::{GENESIS_HASH, record_hash};
use crate::audit::{AuditEvent, AuditRecord};
use crate::clock::Millis;
use crate::store::audit_log::{Person, RecordSealer};

pub use crate::store::audit_log::WithoutKeys;

/// PostgreSQL advisory lock held by the node sealing a batch: one sealer at a time per database.
const PG_SEALER_LOCK: i64 = 0x5741_5244_0002;

#[derive(Queryable, Selectable)]
#[diesel(table_name = super::schema::audit_events)]
struct Row {
    id: i64,
    recorded_at: i64,
    actor: String,
    subject_user: Option<String>,
    client_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    event_type: String,
    outcome: String,
    reason: Option<String>,
    details: String,
    seq: Option<i64>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

impl From<Row> for AuditRecord {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            recorded_at: r.recorded_at,
            actor: r.actor,
            subject_user: r.subject_user,
            client_id: r.client_id,
            ip: r.ip,
            user_agent: r.user_agent,
            event_type: r.event_type,
            outcome: r.outcome,
            reason: r.reason,
            details: r.details,
            seq: r.seq,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// Record an event in the caller's transaction (unchained until sealed).
pub fn append(conn: &mut AnyConnection, e: &AuditEvent) -> Result<(), StorageError> {
    diesel::insert_into(dsl::audit_events)
        .values((
            dsl::recorded_at.eq(e.recorded_at),
            dsl::actor.eq(&e.actor),
            dsl::subject_user.eq(e.subject_user.as_deref()),
            dsl::client_id.eq(e.client_id.as_deref()),
            dsl::ip.eq(e.ip.as_deref()),
            dsl::user_agent.eq(e.user_agent.as_deref()),
            dsl::event_type.eq(&e.event_type),
            dsl::outcome.eq(e.outcome.as_str()),
            dsl::reason.eq(e.reason.as_deref()),
            dsl::details.eq(e.details_json()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Record several events in one statement (a multi-row INSERT, in order): one
/// round trip for a whole group-committed batch instead of one per event.
pub fn append_many(conn: &mut AnyConnection, events: &[&AuditEvent]) -> Result<(), StorageError> {
    let details: Vec<String> = events.iter().map(|e| e.details_json()).collect();
    let rows: Vec<_> = events
        .iter()
        .zip(&details)
        .map(|(e, details)| {
            (
                dsl::recorded_at.eq(e.recorded_at),
                dsl::actor.eq(&e.actor),
                dsl::subject_user.eq(e.subject_user.as_deref()),
                dsl::client_id.eq(e.client_id.as_deref()),
                dsl::ip.eq(e.ip.as_deref()),
                dsl::user_agent.eq(e.user_agent.as_deref()),
                dsl::event_type.eq(&e.event_type),
                dsl::outcome.eq(e.outcome.as_str()),
                dsl::reason.eq(e.reason.as_deref()),
                dsl::details.eq(details.as_str()),
            )
        })
        .collect();
    super::on_backend!(conn, c => diesel::insert_into(dsl::audit_events).values(&rows).execute(c))?;
    Ok(())
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Chain up to `limit` pending records, oldest first, in one transaction,
/// each rewritten by `sealer` (its personal part sealed under its person's
/// data key, or erased) before it is hashed. The token responses among them
/// become their rows in the accounting of disclosures, in the same
/// transaction and one INSERT (`disclosures::of_token_record`).
///
/// Returns how many were sealed; 0 when nothing is pending or another node holds
/// the sealer lock. On PostgreSQL the lock is a transaction-scoped advisory lock
/// (an erasure takes it too, so that it never runs between the sealer reading a
/// person's state and using it); on SQLite the first statement writes the
/// sealer's row in `ward_meta`, which takes the database write lock. The UNIQUE
/// constraint on `seq` is the last line of defence: a second sealer could never
/// fork the chain, only fail.
pub fn seal_pending(
    db: &super::Database,
    limit: i64,
    now: Millis,
    sealer: &dyn RecordSealer,
) -> Result<usize, StorageError> {
    // On SQLite this runs on the writer connection, taking its turn with
    // request writes instead of colliding with them.
    db.transaction(|c| {
        if !take_sealer_lock(c, now)? {
            return Ok(0);
        }
        let pending: Vec<AuditRecord> = dsl::audit_events
            .filter(dsl::seq.is_null())
            .order(dsl::id.asc())
            .limit(limit)
            .select(Row::as_select())
            .load(c)?
            .into_iter()
            .map(AuditRecord::from)
            .collect();
        if pending.is_empty() {
            return Ok(0);
        }
        let persons = super::erasure::persons(c, &pending)?;
        let ids: Vec<String> = persons
            .iter()
            .flatten()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let people = super::erasure::people(c, &ids, now, sealer)?;
        let mut disclosed = Vec::new();
        let mut records = Vec::with_capacity(pending.len());
        for (mut record, person) in pending.into_iter().zip(persons) {
            if let Some(person) = person {
                let state = people.get(&person).unwrap_or(&Person::Absent);
                // Read before the personal part is sealed; an erased or
                // unknown person gets no row.
                let row = matches!(state, Person::Key(_))
                    .then(|| super::disclosures::of_token_record(&record))
                    .flatten();
                if !sealer.protect(&mut record, &person, state) {
                    break;
                }
                disclosed.extend(row);
            }
            records.push(record);
        }
        let sealed = chain(c, &records)?;
        super::disclosures::insert_many(c, &disclosed.iter().collect::<Vec<_>>())?;
        Ok(sealed)
    })
}

/// Chain `records` (sealed, in order) after the chain's head.
fn chain(c: &mut AnyConnection, records: &[AuditRecord]) -> Result<usize, StorageError> {
    let head: Option<(Option<i64>, Option<String>)> = dsl::audit_events
        .filter(dsl::seq.is_not_null())
        .order(dsl::seq.desc())
        .select((dsl::seq, dsl::hash))
        .first(c)
        .optional()?;
    let (mut seq, mut prev) = match head {
        Some((Some(s), Some(h))) => (s, h),
        Some(_) => return Err(StorageError::Corrupt("the chain head has no hash".into())),
        None => (0, GENESIS_HASH.to_string()),
    };
    for record in records {
        seq += 1;
        let hash = record_hash(&prev, record, seq);
        diesel::update(dsl::audit_events.find(record.id))
            .set((
                dsl::seq.eq(Some(seq)),
                dsl::prev_hash.eq(Some(&prev)),
                dsl::hash.eq(Some(&hash)),
                dsl::details.eq(&record.details),
                dsl::ip.eq(record.ip.as_deref()),
                dsl::user_agent.eq(record.user_agent.as_deref()),
            ))
            .execute(c)?;
        prev = hash;
    }
    Ok(records.len())
}

/// The sealer's lock (see [`seal_pending`]); false when another node holds it.
pub fn take_sealer_lock(c: &mut AnyConnection, now: Millis) -> Result<bool, StorageError> {
    match c {
        AnyConnection::Postgres(pg) => {
            let got: Locked = diesel::sql_query(format!(
                "SELECT pg_try_advisory_xact_lock({PG_SEALER_LOCK}) AS locked"
            ))
            .get_result(pg)?;
            Ok(got.locked)
        }
        AnyConnection::Sqlite(_) => {
            // Also takes the write lock against sealers in other processes.
            diesel::update(ward_meta::table.find("audit_sealer"))
                .set(ward_meta::updated_at.eq(now))
                .execute(c)?;
            Ok(true)
        }
    }
}

/// Wait for the sealer's lock in the caller's transaction (PostgreSQL; on
/// SQLite the transaction already excludes the sealer): an erasure and a
/// sealer batch never interleave.
pub fn wait_for_sealer(c: &mut AnyConnection) -> Result<(), StorageError> {
    if let AnyConnection::Postgres(pg) = c {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({PG_SEALER_LOCK})")).execute(pg)?;
    }
    Ok(())
}

/// Sealed records with `seq > after`, in chain order.
pub fn sealed_after(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditRecord>, StorageError> {
    Ok(dsl::audit_events
        .filter(dsl::seq.gt(after))
        .order(dsl::seq.asc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(AuditRecord::from)
        .collect())
}

/// All records with `id > after`, in insertion order (export).
pub fn after_id(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditRecord>, StorageError> {
    Ok(dsl::audit_events
        .filter(dsl::id.gt(after))
        .order(dsl::id.asc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(AuditRecord::from)
        .collect())
}

/// Records matching an optional event type and subject user. With `after_id`,
/// those with a larger id, oldest first (to follow the trail); without, the
/// newest first.
pub fn query(
    conn: &mut AnyConnection,
    event_type: Option<&str>,
    subject: Option<&str>,
    after_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRecord>, StorageError> {
    let mut q = dsl::audit_events
        .select(Row::as_select())
        .limit(limit)
        .into_boxed();
    if let Some(t) = event_type {
        q = q.filter(dsl::event_type.eq(t.to_string()));
    }
    if let Some(s) = subject {
        q = q.filter(dsl::subject_user.eq(s.to_string()));
    }
    q = match after_id {
        Some(after) => q.filter(dsl::id.gt(after)).order(dsl::id.asc()),
        None => q.order(dsl::id.desc()),
    };
    Ok(q.load(conn)?.into_iter().map(AuditRecord::from).collect())
}

/// The newest `n` records, oldest first.
pub fn tail(conn: &mut AnyConnection, n: i64) -> Result<Vec<AuditRecord>, StorageError> {
    let mut rows: Vec<AuditRecord> = dsl::audit_events
        .order(dsl::id.desc())
        .limit(n)
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(AuditRecord::from)
        .collect();
    rows.reverse();
    Ok(rows)
}

pub fn count_pending(conn: &mut AnyConnection) -> Result<i64, StorageError> {
    Ok(dsl::audit_events
        .filter(dsl::seq.is_null())
        .count()
        .get_result(conn)?)
}

/// Used by tests and by operators to prove the table refuses edits.
pub fn try_raw(conn: &mut AnyConnection, sql: &str) -> Result<(), StorageError> {
    conn.batch_execute(sql)?;
    Ok(())
}
