//! Consent records (`consent_records`): one row per version of a user's
//! consent for a client. The live consent is the latest version, unless it
//! was withdrawn. Withdrawal also revokes what the consent let the client
//! hold: its grants (and so their refresh tokens) and unredeemed codes.

use diesel::prelude::*;

use super::schema::{authorization_codes, consent_records, consents, grants};
use super::{AnyConnection, StorageError, from_json_list, parse_client_id, to_json_list};
use crate::clock::Millis;
use crate::domain::consent::{ConsentRecord, ConsentWithdrawn};

#[derive(Queryable, Selectable)]
#[diesel(table_name = consent_records)]
struct Row {
    id: String,
    user_id: String,
    client_id: String,
    version: i64,
    scopes: String,
    claims: Option<String>,
    purpose: Option<String>,
    given_at: i64,
    given_by: String,
    policy_version: String,
    withdrawn_at: Option<i64>,
    withdrawn_by: Option<String>,
}

impl TryFrom<Row> for ConsentRecord {
    type Error = StorageError;
    fn try_from(r: Row) -> Result<Self, StorageError> {
        let corrupt = |c: &str| StorageError::Corrupt(format!("consent_records.{c}"));
        Ok(Self {
            scopes: from_json_list("consent_records.scopes", &r.scopes)?,
            claims: r
                .claims
                .as_deref()
                .map(|c| from_json_list("consent_records.claims", c))
                .transpose()?,
            given_by: r.given_by.parse().map_err(|_| corrupt("given_by"))?,
            withdrawn_by: r
                .withdrawn_by
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| corrupt("withdrawn_by"))?,
            id: r.id,
            user_id: r.user_id,
            client_id: parse_client_id("consent_records.client_id", &r.client_id)?,
            version: r.version,
            purpose: r.purpose,
            given_at: r.given_at,
            policy_version: r.policy_version,
            withdrawn_at: r.withdrawn_at,
        })
    }
}

/// The latest version of `user_id`'s consent for `client_id`, withdrawn or not.
pub fn latest(
    conn: &mut AnyConnection,
    user_id: &str,
    client_id: &str,
) -> Result<Option<ConsentRecord>, StorageError> {
    consent_records::table
        .filter(consent_records::user_id.eq(user_id))
        .filter(consent_records::client_id.eq(client_id))
        .order(consent_records::version.desc())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(ConsentRecord::try_from)
        .transpose()
}

/// Store `record` as the next version of its user's consent for its client
/// (its `version` is ignored); the record as stored.
pub fn insert_next(
    conn: &mut AnyConnection,
    record: &ConsentRecord,
) -> Result<ConsentRecord, StorageError> {
    let last: Option<i64> = consent_records::table
        .filter(consent_records::user_id.eq(&record.user_id))
        .filter(consent_records::client_id.eq(record.client_id.as_str()))
        .select(diesel::dsl::max(consent_records::version))
        .first(conn)?;
    let stored = ConsentRecord {
        version: last.unwrap_or(0) + 1,
        ..record.clone()
    };
    diesel::insert_into(consent_records::table)
        .values((
            consent_records::id.eq(&stored.id),
            consent_records::user_id.eq(&stored.user_id),
            consent_records::client_id.eq(stored.client_id.as_str()),
            consent_records::version.eq(stored.version),
            consent_records::scopes.eq(to_json_list(&stored.scopes)),
            consent_records::claims.eq(stored.claims.as_deref().map(to_json_list)),
            consent_records::purpose.eq(stored.purpose.as_deref()),
            consent_records::given_at.eq(stored.given_at),
            consent_records::given_by.eq(stored.given_by.as_str()),
            consent_records::policy_version.eq(&stored.policy_version),
            consent_records::withdrawn_at.eq(stored.withdrawn_at),
            consent_records::withdrawn_by.eq(stored.withdrawn_by.map(ConsentWithdrawn::as_str)),
        ))
        .execute(conn)?;
    Ok(stored)
}

/// A user's consents: the latest version per client (live or withdrawn), or
/// with `history` every version; by client, then version.
pub fn for_user(
    conn: &mut AnyConnection,
    user_id: &str,
    history: bool,
) -> Result<Vec<ConsentRecord>, StorageError> {
    let rows: Vec<Row> = consent_records::table
        .filter(consent_records::user_id.eq(user_id))
        .order((
            consent_records::client_id.asc(),
            consent_records::version.asc(),
        ))
        .select(Row::as_select())
        .load(conn)?;
    let mut out: Vec<ConsentRecord> = Vec::with_capacity(rows.len());
    for row in rows {
        let record = ConsentRecord::try_from(row)?;
        if !history && out.last().is_some_and(|l| l.client_id == record.client_id) {
            out.pop();
        }
        out.push(record);
    }
    Ok(out)
}

/// Mark the version `id` withdrawn, unless it already is; whether it changed.
pub fn withdraw(
    conn: &mut AnyConnection,
    id: &str,
    how: ConsentWithdrawn,
    now: Millis,
) -> Result<bool, StorageError> {
    let n = diesel::update(
        consent_records::table
            .find(id)
            .filter(consent_records::withdrawn_at.is_null()),
    )
    .set((
        consent_records::withdrawn_at.eq(Some(now)),
        consent_records::withdrawn_by.eq(Some(how.as_str())),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// What a withdrawal took back from the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Revoked {
    pub grants: usize,
    pub codes: usize,
}

/// Revoke every live grant of this user for this client (their refresh
/// tokens die with them) and consume its unredeemed codes (a redemption then
/// fails with `invalid_grant`); also forget the pre-records consent row.
pub fn revoke_access(
    conn: &mut AnyConnection,
    user_id: &str,
    client_id: &str,
    now: Millis,
) -> Result<Revoked, StorageError> {
    let grants = diesel::update(
        grants::table
            .filter(grants::user_id.eq(user_id))
            .filter(grants::client_id.eq(client_id))
            .filter(grants::revoked_at.is_null()),
    )
    .set(grants::revoked_at.eq(Some(now)))
    .execute(conn)?;
    let codes = diesel::update(
        authorization_codes::table
            .filter(authorization_codes::user_id.eq(user_id))
            .filter(authorization_codes::client_id.eq(client_id))
            .filter(authorization_codes::consumed_at.is_null()),
    )
    .set(authorization_codes::consumed_at.eq(Some(now)))
    .execute(conn)?;
    diesel::delete(consents::table.find((user_id, client_id))).execute(conn)?;
    Ok(Revoked { grants, codes })
}
