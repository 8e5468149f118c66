//! The accounting of disclosures (`disclosures`, docs/privacy.md): one row
//! per disclosure; read newest first, a page at a time; purged after the
//! retention. A token response's row is written by the audit sealer from
//! the response's `token.issued` record ([`of_token_record`]); a userinfo
//! or introspection answer's is group-committed by the writer of
//! `audit_batch`.

use diesel::prelude::*;

use super::schema::{consent_records, disclosures};
use super::{
    AnyConnection, StorageError, from_json_list, parse_client_id, parse_user_id, to_json_list,
};
use crate::audit::AuditRecord;
use crate::clock::Millis;
use crate::domain::disclosure::{Before, Disclosure, TokenDisclosure};

/// The most rows one purge deletes (every minute), so that a backlog never
/// holds SQLite's write lock for long.
const PURGE_BATCH: i64 = 5_000;

/// The disclosure a pending `token.issued` record carries (its
/// [`TokenDisclosure`] detail), made when the record was; None for any
/// other record.
pub fn of_token_record(r: &AuditRecord) -> Option<Disclosure> {
    if r.event_type != "token.issued" || !r.details.contains(TokenDisclosure::DETAIL) {
        return None;
    }
    let mut details: serde_json::Value = serde_json::from_str(&r.details).ok()?;
    let detail = details.get_mut(TokenDisclosure::DETAIL)?.take();
    let token: TokenDisclosure = serde_json::from_value(detail).ok()?;
    token.into_disclosure(
        r.recorded_at,
        r.subject_user.as_deref()?,
        r.client_id.as_deref()?,
    )
}

/// Insert `rows` in one statement. The consent in force is looked up by the
/// same statement (a sub-select per row: the latest unwithdrawn version of
/// the person's consent for the client whose consent covers the disclosure),
/// so recording costs one INSERT and nothing more.
pub fn insert_many(conn: &mut AnyConnection, rows: &[&Disclosure]) -> Result<(), StorageError> {
    if rows.is_empty() {
        return Ok(());
    }
    let texts: Vec<(String, String)> = rows
        .iter()
        .map(|d| (to_json_list(&d.claims), to_json_list(&d.scopes)))
        .collect();
    let values: Vec<_> = rows
        .iter()
        .zip(&texts)
        .map(|(d, (claims, scopes))| {
            let consent_client = d.consent_client.as_ref().unwrap_or(&d.client_id);
            let consent = consent_records::table
                .filter(consent_records::user_id.eq(d.user_id.as_str()))
                .filter(consent_records::client_id.eq(consent_client.as_str()))
                .filter(consent_records::withdrawn_at.is_null())
                .order(consent_records::version.desc())
                .select(consent_records::id)
                .limit(1)
                .single_value();
            (
                disclosures::id.eq(d.id.as_str()),
                disclosures::disclosed_at.eq(d.disclosed_at),
                disclosures::user_id.eq(d.user_id.as_str()),
                disclosures::client_id.eq(d.client_id.as_str()),
                disclosures::sub.eq(d.sub.as_str()),
                disclosures::kind.eq(d.kind.as_str()),
                disclosures::claims.eq(claims.as_str()),
                disclosures::scopes.eq(scopes.as_str()),
                disclosures::consent_id.eq(consent),
                disclosures::tenant.eq(d.tenant.as_deref()),
            )
        })
        .collect();
    super::on_backend!(conn, c => diesel::insert_into(disclosures::table).values(values).execute(c))?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = disclosures)]
struct Row {
    id: String,
    disclosed_at: i64,
    user_id: String,
    client_id: String,
    sub: String,
    kind: String,
    claims: String,
    scopes: String,
    consent_id: Option<String>,
    tenant: Option<String>,
}

impl TryFrom<Row> for Disclosure {
    type Error = StorageError;
    fn try_from(r: Row) -> Result<Self, StorageError> {
        Ok(Self {
            user_id: parse_user_id("disclosures.user_id", &r.user_id)?,
            client_id: parse_client_id("disclosures.client_id", &r.client_id)?,
            kind: r
                .kind
                .parse()
                .map_err(|_| StorageError::Corrupt("disclosures.kind".into()))?,
            claims: from_json_list("disclosures.claims", &r.claims)?,
            scopes: from_json_list("disclosures.scopes", &r.scopes)?,
            id: r.id,
            disclosed_at: r.disclosed_at,
            sub: r.sub,
            consent_id: r.consent_id,
            tenant: r.tenant,
            consent_client: None,
        })
    }
}

/// Up to `limit` of `user_id`'s disclosures, newest first, starting after
/// `before` (a page's cursor) when given.
pub fn of_user(
    conn: &mut AnyConnection,
    user_id: &str,
    before: Option<&Before>,
    limit: i64,
) -> Result<Vec<Disclosure>, StorageError> {
    let mut q = disclosures::table
        .filter(disclosures::user_id.eq(user_id))
        .select(Row::as_select())
        .order((disclosures::disclosed_at.desc(), disclosures::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        q = match &b.id {
            Some(id) => q.filter(
                disclosures::disclosed_at
                    .lt(b.at)
                    .or(disclosures::disclosed_at
                        .eq(b.at)
                        .and(disclosures::id.lt(id.clone()))),
            ),
            None => q.filter(disclosures::disclosed_at.lt(b.at)),
        };
    }
    q.load::<Row>(conn)?
        .into_iter()
        .map(Disclosure::try_from)
        .collect()
}

/// Delete rows disclosed before `cutoff`, at most `PURGE_BATCH` per call.
/// Ids start with their time (`Disclosure::new_id`): the primary key's
/// index finds the old rows, and no index on the time is kept.
pub fn purge(conn: &mut AnyConnection, cutoff: Millis) -> Result<usize, StorageError> {
    let old: Vec<String> = disclosures::table
        .filter(disclosures::id.lt(Disclosure::first_id_at(cutoff)))
        .filter(disclosures::disclosed_at.lt(cutoff))
        .select(disclosures::id)
        .limit(PURGE_BATCH)
        .load(conn)?;
    if old.is_empty() {
        return Ok(0);
    }
    Ok(diesel::delete(disclosures::table.filter(disclosures::id.eq_any(&old))).execute(conn)?)
}
