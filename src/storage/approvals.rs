//! Requests for a second administrator's approval. Rows are read into the
//! store's [`Approval`]; a row is decided once (a conditional UPDATE).

use diesel::prelude::*;

use super::schema::approvals;
use super::{AnyConnection, StorageError, columns};
use crate::clock::Millis;

pub use crate::store::approvals::Approval;

type Row = (
    String,
    String,
    String,
    String,
    String,
    Millis,
    Millis,
    Option<String>,
    Option<Millis>,
    Option<String>,
);

columns!(
    COLUMNS = approvals(
        id,
        kind,
        subject,
        details,
        requested_by,
        requested_at,
        expires_at,
        decided_by,
        decided_at,
        decision,
    )
);

fn to_approval(r: Row) -> Result<Approval, StorageError> {
    let details = serde_json::from_str(&r.3)
        .map_err(|_| StorageError::Corrupt("approvals.details is not JSON".into()))?;
    Ok(Approval {
        id: r.0,
        kind: r.1,
        subject: r.2,
        details,
        requested_by: r.4,
        requested_at: r.5,
        expires_at: r.6,
        decided_by: r.7,
        decided_at: r.8,
        decision: r.9,
    })
}

pub fn insert(conn: &mut AnyConnection, a: &Approval) -> Result<(), StorageError> {
    diesel::insert_into(approvals::table)
        .values((
            approvals::id.eq(&a.id),
            approvals::kind.eq(&a.kind),
            approvals::subject.eq(&a.subject),
            approvals::details.eq(a.details.to_string()),
            approvals::requested_by.eq(&a.requested_by),
            approvals::requested_at.eq(a.requested_at),
            approvals::expires_at.eq(a.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Approval>, StorageError> {
    if !super::storable_key(id) {
        return Ok(None);
    }
    approvals::table
        .find(id)
        .select(COLUMNS)
        .first::<Row>(conn)
        .optional()?
        .map(to_approval)
        .transpose()
}

/// Requests, newest first; only those undecided and unexpired at `open_at` if given.
pub fn list(
    conn: &mut AnyConnection,
    open_at: Option<Millis>,
    limit: i64,
) -> Result<Vec<Approval>, StorageError> {
    let mut q = approvals::table
        .select(COLUMNS)
        .order(approvals::requested_at.desc())
        .limit(limit)
        .into_boxed();
    if let Some(now) = open_at {
        q = q
            .filter(approvals::decided_at.is_null())
            .filter(approvals::expires_at.gt(now));
    }
    q.load::<Row>(conn)?.into_iter().map(to_approval).collect()
}

/// Decide an open request; false if it was decided already or has expired.
pub fn decide(
    conn: &mut AnyConnection,
    id: &str,
    by: &str,
    decision: &str,
    now: Millis,
) -> Result<bool, StorageError> {
    let n = diesel::update(
        approvals::table
            .find(id)
            .filter(approvals::decided_at.is_null())
            .filter(approvals::expires_at.gt(now)),
    )
    .set((
        approvals::decided_by.eq(by),
        approvals::decided_at.eq(now),
        approvals::decision.eq(decision),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
