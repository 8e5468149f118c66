//! OAuth clients (relying parties).

use diesel::prelude::*;

use super::schema::clients;
use super::{
    AnyConnection, StorageError, conflict_as, from_json_list, from_typed_list, parse_acr,
    parse_client_id, to_json_list, to_typed_list,
};
pub use crate::domain::records::Client;
use crate::domain::{Acr, Subject, SubjectType};

#[derive(Queryable, Selectable)]
#[diesel(table_name = clients)]
struct ClientRow {
    id: String,
    name: String,
    client_type: String,
    secret_hash: Option<String>,
    redirect_uris: String,
    grant_types: String,
    scopes: String,
    created_at: i64,
    updated_at: i64,
    first_party: bool,
    require_par: bool,
    jwks: Option<String>,
    id_token_alg: String,
    access_token_seconds: Option<i64>,
    authz_resources: String,
    min_acr: Option<String>,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: Option<String>,
    shared_workstation: bool,
    pkce: String,
    jwks_uri: Option<String>,
    tenant: Option<String>,
    subject_type: String,
    sector: Option<String>,
    sector_identifier_uri: Option<String>,
    purpose: Option<String>,
    allowed_claims: Option<String>,
}

/// The three subject columns as one value; a pairwise client without a
/// sector (or an unknown type) is corrupt, never read as public.
fn subject_of(
    subject_type: &str,
    sector: Option<String>,
    sector_identifier_uri: Option<String>,
) -> Result<Subject, StorageError> {
    let corrupt = || StorageError::Corrupt("clients.subject_type".into());
    match subject_type.parse::<SubjectType>().map_err(|_| corrupt())? {
        SubjectType::Public => Ok(Subject::Public),
        SubjectType::Pairwise => Ok(Subject::Pairwise {
            sector: sector.ok_or_else(corrupt)?,
            sector_identifier_uri,
        }),
    }
}

impl TryFrom<ClientRow> for Client {
    type Error = StorageError;
    fn try_from(r: ClientRow) -> Result<Self, StorageError> {
        Ok(Self {
            subject: subject_of(&r.subject_type, r.sector, r.sector_identifier_uri)?,
            client_type: r
                .client_type
                .parse()
                .map_err(|_| StorageError::Corrupt("clients.client_type".into()))?,
            redirect_uris: from_json_list("clients.redirect_uris", &r.redirect_uris)?,
            grant_types: from_typed_list("clients.grant_types", &r.grant_types)?,
            scopes: from_json_list("clients.scopes", &r.scopes)?,
            id: parse_client_id("clients.id", &r.id)?,
            name: r.name,
            secret_hash: r.secret_hash,
            created_at: r.created_at,
            updated_at: r.updated_at,
            first_party: r.first_party,
            require_par: r.require_par,
            jwks: r
                .jwks
                .map(|j| serde_json::from_str(&j))
                .transpose()
                .map_err(|_| StorageError::Corrupt("clients.jwks is not JSON".into()))?,
            jwks_uri: r.jwks_uri,
            tenant: r.tenant,
            id_token_alg: r.id_token_alg,
            access_token_seconds: r.access_token_seconds,
            authz_resources: from_json_list("clients.authz_resources", &r.authz_resources)?,
            min_acr: r
                .min_acr
                .as_deref()
                .map(|a| parse_acr("clients.min_acr", a))
                .transpose()?,
            post_logout_redirect_uris: from_json_list(
                "clients.post_logout_redirect_uris",
                &r.post_logout_redirect_uris,
            )?,
            backchannel_logout_uri: r.backchannel_logout_uri,
            shared_workstation: r.shared_workstation,
            // An unknown value fails closed: it is never read as `optional`.
            pkce: r
                .pkce
                .parse()
                .map_err(|_| StorageError::Corrupt("clients.pkce".into()))?,
            purpose: r.purpose,
            allowed_claims: r
                .allowed_claims
                .as_deref()
                .map(|c| from_json_list("clients.allowed_claims", c))
                .transpose()?,
        })
    }
}

pub fn insert(conn: &mut AnyConnection, client: &Client) -> Result<(), StorageError> {
    diesel::insert_into(clients::table)
        .values((
            clients::id.eq(client.id.as_str()),
            clients::name.eq(&client.name),
            clients::client_type.eq(client.client_type.as_str()),
            clients::secret_hash.eq(client.secret_hash.as_deref()),
            clients::redirect_uris.eq(to_json_list(&client.redirect_uris)),
            clients::grant_types.eq(to_typed_list(&client.grant_types)),
            clients::scopes.eq(to_json_list(&client.scopes)),
            clients::created_at.eq(client.created_at),
            clients::updated_at.eq(client.updated_at),
            clients::first_party.eq(client.first_party),
            clients::require_par.eq(client.require_par),
            clients::jwks.eq(client.jwks.as_ref().map(|j| j.to_string())),
            clients::id_token_alg.eq(&client.id_token_alg),
            clients::access_token_seconds.eq(client.access_token_seconds),
            clients::authz_resources.eq(to_json_list(&client.authz_resources)),
            clients::min_acr.eq(client.min_acr.map(Acr::as_str)),
            clients::post_logout_redirect_uris.eq(to_json_list(&client.post_logout_redirect_uris)),
            clients::backchannel_logout_uri.eq(client.backchannel_logout_uri.as_deref()),
            clients::shared_workstation.eq(client.shared_workstation),
            clients::pkce.eq(client.pkce.as_str()),
            clients::jwks_uri.eq(client.jwks_uri.as_deref()),
            clients::tenant.eq(client.tenant.as_deref()),
            clients::subject_type.eq(client.subject.subject_type().as_str()),
            clients::sector.eq(client.subject.sector()),
            clients::sector_identifier_uri.eq(client.subject.sector_identifier_uri()),
            clients::purpose.eq(client.purpose.as_deref()),
            clients::allowed_claims.eq(client.allowed_claims.as_deref().map(to_json_list)),
        ))
        .execute(conn)
        .map_err(conflict_as("a client with that client_id"))?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Client>, StorageError> {
    if !super::storable_key(id) {
        return Ok(None);
    }
    clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .map(Client::try_from)
        .transpose()
}

pub fn list(conn: &mut AnyConnection) -> Result<Vec<Client>, StorageError> {
    clients::table
        .select(ClientRow::as_select())
        .order(clients::id.asc())
        .load(conn)?
        .into_iter()
        .map(Client::try_from)
        .collect()
}

pub fn delete(conn: &mut AnyConnection, id: &str) -> Result<(), StorageError> {
    if !super::storable_key(id) {
        return Err(StorageError::NotFound);
    }
    let n = diesel::delete(clients::table.find(id)).execute(conn)?;
    if n == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

/// Replace what a client registered about its use of personal data (its
/// purpose text and claims allow-list); false if there is no such client.
pub fn set_privacy_terms(conn: &mut AnyConnection, client: &Client) -> Result<bool, StorageError> {
    let n = diesel::update(clients::table.find(client.id.as_str()))
        .set((
            clients::purpose.eq(client.purpose.as_deref()),
            clients::allowed_claims.eq(client.allowed_claims.as_deref().map(to_json_list)),
            clients::updated_at.eq(client.updated_at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// A new secret hash for a client that has a secret; false if there is no
/// such client (or it is public, or authenticates with its keys).
pub fn set_secret_hash(
    conn: &mut AnyConnection,
    id: &str,
    hash: &str,
    now: i64,
) -> Result<bool, StorageError> {
    if !super::storable_key(id) {
        return Ok(false);
    }
    let n = diesel::update(
        clients::table
            .find(id)
            .filter(clients::secret_hash.is_not_null()),
    )
    .set((
        clients::secret_hash.eq(Some(hash)),
        clients::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
