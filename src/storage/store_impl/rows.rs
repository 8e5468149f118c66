//! Rows of the grant tables as stored, and their conversion to the `store` types.

use diesel::prelude::*;

use crate::clock::Millis;
use crate::domain::SessionId;
use crate::domain::claims::ClaimsRequest;
use crate::smart::SmartGrant;
use crate::storage::schema::{authorization_codes, grants, users as users_table};
use crate::storage::{
    AnyConnection, StorageError, from_typed_list, parse_acr, parse_client_id, parse_user_id,
};
use crate::store::{AuthFacts, CodeRow, GrantRow};

/// A stored claims request (OIDC Core §5.5), JSON text.
pub(super) fn claims_from(
    column: &str,
    text: Option<String>,
) -> Result<Option<ClaimsRequest>, StorageError> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|_| StorageError::Corrupt(format!("{column} is not a claims request")))
}

pub(super) fn claims_to(claims: Option<&ClaimsRequest>) -> Option<String> {
    claims.and_then(|c| serde_json::to_string(c).ok())
}

/// A stored SMART context (`aud`, launch context), JSON text.
pub(super) fn smart_from(
    column: &str,
    text: Option<String>,
) -> Result<Option<SmartGrant>, StorageError> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|_| StorageError::Corrupt(format!("{column} is not a SMART context")))
}

pub(super) fn smart_to(smart: Option<&SmartGrant>) -> Option<String> {
    smart.and_then(|c| serde_json::to_string(c).ok())
}

fn scopes_from(text: &str) -> Vec<String> {
    text.split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A grants row as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = grants)]
pub(super) struct GrantDb {
    id: String,
    client_id: String,
    user_id: String,
    scope: String,
    session_hash: Option<String>,
    auth_time: i64,
    acr: String,
    amr: String,
    nonce: Option<String>,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    tenant: Option<String>,
    claims: Option<String>,
    smart: Option<String>,
}

/// A grant with its user's status.
pub(super) type GrantTuple = (GrantDb, String);
pub(super) type RefreshTuple = (String, String, i64, Option<i64>);

pub(super) fn grant_from((g, status): GrantTuple) -> Result<GrantRow, StorageError> {
    Ok(GrantRow {
        id: g.id,
        client_id: parse_client_id("grants.client_id", &g.client_id)?,
        scope: scopes_from(&g.scope),
        nonce: g.nonce,
        facts: AuthFacts {
            user_id: parse_user_id("grants.user_id", &g.user_id)?,
            auth_time: g.auth_time,
            acr: parse_acr("grants.acr", &g.acr)?,
            amr: from_typed_list("grants.amr", &g.amr)?,
            session_hash: g.session_hash.map(SessionId::from_hash),
            tenant: g.tenant,
        },
        created_at: g.created_at,
        expires_at: g.expires_at,
        revoked_at: g.revoked_at,
        user_active: status == "active",
        claims: claims_from("grants.claims", g.claims)?,
        smart: smart_from("grants.smart", g.smart)?,
    })
}

pub(super) fn load_grant(
    c: &mut AnyConnection,
    id: &str,
) -> Result<Option<GrantRow>, StorageError> {
    grants::table
        .inner_join(users_table::table)
        .filter(grants::id.eq(id))
        .select((GrantDb::as_select(), users_table::status))
        .first::<GrantTuple>(c)
        .optional()?
        .map(grant_from)
        .transpose()
}

pub(super) fn revoke_grant_in(
    c: &mut AnyConnection,
    id: &str,
    now: Millis,
) -> Result<(), StorageError> {
    diesel::update(grants::table.find(id).filter(grants::revoked_at.is_null()))
        .set(grants::revoked_at.eq(Some(now)))
        .execute(c)?;
    Ok(())
}

/// An authorization_codes row as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = authorization_codes)]
pub(super) struct CodeDb {
    code_hash: String,
    client_id: String,
    user_id: String,
    redirect_uri: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    session_hash: Option<String>,
    auth_time: i64,
    acr: String,
    amr: String,
    created_at: i64,
    expires_at: i64,
    consumed_at: Option<i64>,
    grant_id: Option<String>,
    tenant: Option<String>,
    claims: Option<String>,
    smart: Option<String>,
}

/// A code with its user's status.
pub(super) fn code_from((c, status): (CodeDb, String)) -> Result<CodeRow, StorageError> {
    Ok(CodeRow {
        code_hash: c.code_hash,
        client_id: parse_client_id("authorization_codes.client_id", &c.client_id)?,
        redirect_uri: c.redirect_uri,
        scope: scopes_from(&c.scope),
        nonce: c.nonce,
        code_challenge: c.code_challenge,
        facts: AuthFacts {
            user_id: parse_user_id("authorization_codes.user_id", &c.user_id)?,
            auth_time: c.auth_time,
            acr: parse_acr("authorization_codes.acr", &c.acr)?,
            amr: from_typed_list("authorization_codes.amr", &c.amr)?,
            session_hash: c.session_hash.map(SessionId::from_hash),
            tenant: c.tenant,
        },
        created_at: c.created_at,
        expires_at: c.expires_at,
        consumed_at: c.consumed_at,
        grant_id: c.grant_id,
        user_active: status == "active",
        claims: claims_from("authorization_codes.claims", c.claims)?,
        smart: smart_from("authorization_codes.smart", c.smart)?,
    })
}
