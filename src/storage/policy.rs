//! `policy_rules` and `policy_version`: the Casbin policy every node enforces.
//!
//! Every change bumps the version in the caller's transaction, and bumps it
//! *first*: on PostgreSQL the row lock on `policy_version` then serialises
//! concurrent changes from different nodes, so the existence checks below see
//! what the previous change committed. (SQLite transactions are already
//! serialised by `BEGIN IMMEDIATE`.) Nodes poll [`version`] and reload the rules
//! only when it moved.

use diesel::prelude::*;

use super::schema::policy_rules::dsl as rules;
use super::schema::policy_version::dsl as ver;
use super::{AnyConnection, StorageError};

pub use crate::store::policy::PolicyRow;

/// [`PolicyRow`] as diesel reads it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = super::schema::policy_rules)]
struct Row {
    ptype: String,
    v0: String,
    v1: String,
    v2: String,
    v3: String,
}

impl From<Row> for PolicyRow {
    fn from(r: Row) -> Self {
        let Row {
            ptype,
            v0,
            v1,
            v2,
            v3,
        } = r;
        PolicyRow {
            ptype,
            v0,
            v1,
            v2,
            v3,
        }
    }
}

/// The current policy version: 0 on a database whose policy was never written.
pub fn version(conn: &mut AnyConnection) -> Result<i64, StorageError> {
    Ok(ver::policy_version
        .find(1)
        .select(ver::version)
        .first::<i64>(conn)?)
}

/// The version and every rule, in insertion order.
///
/// The version is read first: a change committed between the two reads makes
/// the rules newer than the version, and the next poll sees a higher version
/// and reloads. The other order could pair old rules with the new version and
/// miss the change until the next one.
pub fn load(conn: &mut AnyConnection) -> Result<(i64, Vec<PolicyRow>), StorageError> {
    let version = version(conn)?;
    let rows = rules::policy_rules
        .order(rules::id.asc())
        .select(Row::as_select())
        .load::<Row>(conn)?
        .into_iter()
        .map(PolicyRow::from)
        .collect();
    Ok((version, rows))
}

/// How many rules the policy holds.
pub fn count(conn: &mut AnyConnection) -> Result<i64, StorageError> {
    Ok(rules::policy_rules.count().get_result(conn)?)
}

/// Increment the version (taking its row lock); returns the new version.
pub fn bump_version(conn: &mut AnyConnection, now: i64) -> Result<i64, StorageError> {
    diesel::update(ver::policy_version.find(1))
        .set((ver::version.eq(ver::version + 1), ver::updated_at.eq(now)))
        .execute(conn)?;
    version(conn)
}

type Db = <AnyConnection as diesel::Connection>::Backend;

fn matching(row: &PolicyRow) -> super::schema::policy_rules::BoxedQuery<'_, Db> {
    rules::policy_rules
        .filter(rules::ptype.eq(&row.ptype))
        .filter(rules::v0.eq(&row.v0))
        .filter(rules::v1.eq(&row.v1))
        .filter(rules::v2.eq(&row.v2))
        .filter(rules::v3.eq(&row.v3))
        .into_boxed()
}

/// One INSERT per row: diesel's multi-row insert is not available through the
/// two-backend connection, and a policy is hundreds of rows, written rarely.
fn insert_all(conn: &mut AnyConnection, rows: &[PolicyRow]) -> Result<(), StorageError> {
    for row in rows {
        diesel::insert_into(rules::policy_rules)
            .values((
                rules::ptype.eq(&row.ptype),
                rules::v0.eq(&row.v0),
                rules::v1.eq(&row.v1),
                rules::v2.eq(&row.v2),
                rules::v3.eq(&row.v3),
            ))
            .execute(conn)
            .map_err(super::conflict_as("a duplicate policy rule"))?;
    }
    Ok(())
}

/// Replace the whole policy (an import); returns the new version.
pub fn replace_all(
    conn: &mut AnyConnection,
    rows: &[PolicyRow],
    now: i64,
) -> Result<i64, StorageError> {
    let version = bump_version(conn, now)?;
    diesel::delete(rules::policy_rules).execute(conn)?;
    insert_all(conn, rows)?;
    Ok(version)
}

/// Add one rule; `Conflict` if it is already there. Returns the new version.
pub fn add(conn: &mut AnyConnection, row: &PolicyRow, now: i64) -> Result<i64, StorageError> {
    let version = bump_version(conn, now)?;
    let exists = matching(row).count().get_result::<i64>(conn)? > 0;
    if exists {
        return Err(StorageError::Conflict("that policy rule"));
    }
    insert_all(conn, std::slice::from_ref(row))?;
    Ok(version)
}

/// Remove one rule; `NotFound` if it is not there. Returns the new version.
pub fn remove(conn: &mut AnyConnection, row: &PolicyRow, now: i64) -> Result<i64, StorageError> {
    let version = bump_version(conn, now)?;
    let id = matching(row)
        .select(rules::id)
        .first::<i64>(conn)
        .optional()?
        .ok_or(StorageError::NotFound)?;
    diesel::delete(rules::policy_rules.find(id)).execute(conn)?;
    Ok(version)
}

/// Remove every assignment of `subject` (`g, subject, *, *`), bumping the
/// version when there was one; returns how many were removed.
pub fn remove_assignments_of(
    conn: &mut AnyConnection,
    subject: &str,
    now: i64,
) -> Result<usize, StorageError> {
    let of_subject = rules::policy_rules
        .filter(rules::ptype.eq("g"))
        .filter(rules::v0.eq(subject));
    if of_subject.count().get_result::<i64>(conn)? == 0 {
        return Ok(0);
    }
    bump_version(conn, now)?;
    Ok(diesel::delete(of_subject).execute(conn)?)
}

/// Write the seed policy if the policy was never written (version 0); true if
/// this call seeded it.
///
/// The conditional update is the guard: of several nodes starting together on
/// an empty database, one moves the version from 0 to 1 and the others, waiting
/// on its row lock, then match no row and leave the policy alone. An operator
/// who imports an empty policy has moved the version past 0, so the seed never
/// comes back.
pub fn seed_if_empty(
    conn: &mut AnyConnection,
    rows: &[PolicyRow],
    now: i64,
) -> Result<bool, StorageError> {
    let claimed = diesel::update(ver::policy_version.find(1).filter(ver::version.eq(0)))
        .set((ver::version.eq(1), ver::updated_at.eq(now)))
        .execute(conn)?;
    if claimed == 0 {
        return Ok(false);
    }
    // A rule written with the version left at 0 (by hand) is kept, not duplicated.
    if count(conn)? > 0 {
        return Ok(false);
    }
    insert_all(conn, rows)?;
    Ok(true)
}

/// Whether `role` has at least one permission in `tenant`: a grant of a role
/// that grants nothing is almost certainly a typo.
pub fn role_exists(
    conn: &mut AnyConnection,
    role: &str,
    tenant: &str,
) -> Result<bool, StorageError> {
    let n = rules::policy_rules
        .filter(rules::ptype.eq("p"))
        .filter(rules::v0.eq(role))
        .filter(rules::v1.eq(tenant))
        .count()
        .get_result::<i64>(conn)?;
    Ok(n > 0)
}
