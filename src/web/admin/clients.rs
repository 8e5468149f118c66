//! `/admin/api/clients`: register, list, show and remove relying parties, with
//! the same inputs and rules as `ward client add`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Actor;
use super::run;
use crate::manage;
use crate::manage::records::Client;
use crate::web::WebState;
use crate::web::error::WebError;

/// A registered client. Times are Unix milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientOut {
    pub client_id: String,
    pub name: String,
    /// `confidential` or `public`.
    #[serde(rename = "type")]
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub first_party: bool,
    pub require_par: bool,
    /// Public keys for `private_key_jwt` (RFC 7523), when registered.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes those keys instead (fetched and cached).
    pub jwks_uri: Option<String>,
    /// The tenant whose roles of this client narrow its `system/` scopes.
    pub tenant: Option<String>,
    pub id_token_alg: String,
    pub access_token_seconds: Option<i64>,
    pub authz_resources: Vec<String>,
    pub min_acr: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub shared_workstation: bool,
    /// `required`, or `optional`: a confidential client that may send a
    /// `nonce` instead of PKCE (docs/oidc.md).
    pub pkce: String,
    /// `public` or `pairwise` (OIDC Core §8): which `sub` the client sees.
    pub subject_type: String,
    /// A pairwise client's sector: the host its `sub` values are derived for.
    pub sector: Option<String>,
    /// Where the pairwise client lists its redirect URIs, when registered.
    pub sector_identifier_uri: Option<String>,
    /// What the client uses personal data for (shown on the consent page).
    pub purpose: Option<String>,
    /// The only user claims it may receive; absent: every claim of its scopes.
    pub claims: Option<Vec<String>>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Client> for ClientOut {
    fn from(c: &Client) -> Self {
        Self {
            client_id: c.id.to_string(),
            name: c.name.clone(),
            client_type: c.client_type.as_str().to_string(),
            redirect_uris: c.redirect_uris.clone(),
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str().to_string())
                .collect(),
            scopes: c.scopes.clone(),
            first_party: c.first_party,
            require_par: c.require_par,
            jwks: c.jwks.clone(),
            jwks_uri: c.jwks_uri.clone(),
            tenant: c.tenant.clone(),
            id_token_alg: c.id_token_alg.clone(),
            access_token_seconds: c.access_token_seconds,
            authz_resources: c.authz_resources.clone(),
            min_acr: c.min_acr.map(|a| a.to_string()),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            shared_workstation: c.shared_workstation,
            pkce: c.pkce.as_str().to_string(),
            subject_type: c.subject.subject_type().as_str().to_string(),
            sector: c.subject.sector().map(str::to_string),
            sector_identifier_uri: c.subject.sector_identifier_uri().map(str::to_string),
            purpose: c.purpose.clone(),
            claims: c.allowed_claims.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new registration, as `ward client add` takes it. Omitted lists take the
/// CLI's defaults (grants `authorization_code refresh_token`, scopes
/// `openid profile email`, no authorization resources).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    pub client_id: String,
    /// `confidential` or `public`.
    #[serde(rename = "type")]
    pub client_type: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub first_party: bool,
    #[serde(default)]
    pub require_par: bool,
    /// A JWKS of public keys: the client authenticates with `private_key_jwt`
    /// and gets no secret.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<serde_json::Value>,
    /// Or the https URL where the client publishes its JWKS (not with
    /// `jwks`); fetched when it authenticates, cached, fetched again for an
    /// unknown `kid` (docs/smart.md, "Backend Services").
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// The tenant whose roles of this client narrow its `system/` scopes
    /// (required with them; grant roles at `/admin/api/clients/{id}/roles`).
    #[serde(default)]
    pub tenant: Option<String>,
    /// `RS256` (default) or `ES256`.
    pub id_token_alg: Option<String>,
    pub access_token_seconds: Option<i64>,
    #[serde(default)]
    pub authz_resources: Vec<String>,
    /// The weakest acr the client accepts: `aal1`, `aal2`, `phr` or `phrh`.
    #[serde(default)]
    pub min_acr: Option<String>,
    /// Where the browser may go after logging out (RP-Initiated Logout 1.0).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where Ward POSTs logout tokens (Back-Channel Logout 1.0).
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// Used on shared workstations: a short idle timeout and "switch user".
    #[serde(default)]
    pub shared_workstation: bool,
    /// `required` (default) or `optional`; `optional` only for a confidential
    /// client, which must then send scope `openid` and a `nonce` whenever it
    /// sends no `code_challenge` (docs/oidc.md).
    #[serde(default)]
    pub pkce: Option<String>,
    /// `public` (default) or `pairwise` (OIDC Core §8): a pairwise client sees
    /// a `sub` per sector that apps of other sectors cannot link.
    #[serde(default)]
    pub subject_type: Option<String>,
    /// A pairwise client's sector (§8.1): an https URL serving a JSON array
    /// of redirect URIs that lists all of the client's, fetched once at
    /// registration (no redirects, 64 KiB, 5 s). Without it the sector is
    /// the one host of the redirect URIs.
    #[serde(default)]
    pub sector_identifier_uri: Option<String>,
    /// What the client uses personal data for, shown on the consent page
    /// (at most 500 characters, no line breaks).
    #[serde(default)]
    pub purpose: Option<String>,
    /// The only user claims it may receive (`["email", "name"]`), each a
    /// claim of one of its scopes; absent: every claim of its scopes.
    #[serde(default)]
    pub claims: Option<Vec<String>>,
}

/// A change to what a client registered about personal data. A field left
/// out stays as it is; `null` removes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    /// A new purpose text (every user is asked to consent again), or `null`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub purpose: Option<Option<String>>,
    /// A new claims allow-list, or `null` for every claim of its scopes.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub claims: Option<Option<Vec<String>>>,
}

/// A member that is present, `null` or not: `Some(None)` for `null`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The registration, with the secret of a confidential client: shown once,
/// stored only as a hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: ClientOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList {
    pub clients: Vec<ClientOut>,
}

#[utoipa::path(
    get, path = "/admin/api/clients", tag = "clients",
    responses((status = 200, description = "Every registered client", body = ClientList))
)]
pub async fn list(state: web::Data<WebState>, actor: Actor) -> Result<HttpResponse, WebError> {
    let who = actor.audit_name();
    let clients = run(&state, move |ctx| manage::clients::list(ctx, &who)).await?;
    Ok(HttpResponse::Ok().json(ClientList {
        clients: clients.iter().map(ClientOut::from).collect(),
    }))
}

#[utoipa::path(
    post, path = "/admin/api/clients", tag = "clients", request_body = NewClient,
    responses(
        (status = 201, description = "Registered; the secret shows once", body = CreatedClient),
        (status = 409, description = "The client id is taken"),
        (status = 422, description = "A value is refused"),
    )
)]
pub async fn create(
    state: web::Data<WebState>,
    actor: Actor,
    body: web::Json<NewClient>,
) -> Result<HttpResponse, WebError> {
    let input = input_of(body.into_inner())?;
    let who = actor.audit_name();
    let created = run(&state, move |ctx| manage::clients::add(ctx, &who, input)).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{}/clients/{}", super::PREFIX, created.client.id),
        ))
        .json(CreatedClient {
            client: ClientOut::from(&created.client),
            client_secret: created.secret,
        }))
}

/// The manage layer's input from the request body; the type and the PKCE
/// policy are parsed here, the rest is validated by `manage::clients::add`.
fn input_of(b: NewClient) -> Result<manage::clients::NewClientInput, WebError> {
    let client_type = b
        .client_type
        .parse()
        .map_err(|e: crate::domain::InvalidValue| WebError::invalid_value("type", e.to_string()))?;
    let pkce = match b.pkce.as_deref() {
        Some(p) => p.parse().map_err(|e: crate::domain::InvalidValue| {
            WebError::invalid_value("pkce", e.to_string())
        })?,
        None => crate::domain::PkcePolicy::Required,
    };
    let subject_type = match b.subject_type.as_deref() {
        Some(t) => t.parse().map_err(|e: crate::domain::InvalidValue| {
            WebError::invalid_value("subject_type", e.to_string())
        })?,
        None => crate::domain::SubjectType::Public,
    };
    Ok(manage::clients::NewClientInput {
        client_id: b.client_id,
        name: b.name,
        client_type,
        redirect_uris: b.redirect_uris,
        grant_types: b.grant_types,
        scopes: b.scopes,
        first_party: b.first_party,
        require_par: b.require_par,
        // The manage layer validates the JWKS from its text, as read from a file.
        jwks: b.jwks.map(|j| j.to_string()),
        jwks_uri: b.jwks_uri,
        tenant: b.tenant,
        id_token_alg: b.id_token_alg,
        access_token_seconds: b.access_token_seconds,
        authz_resources: b.authz_resources,
        min_acr: b.min_acr,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        backchannel_logout_uri: b.backchannel_logout_uri,
        shared_workstation: b.shared_workstation,
        pkce,
        subject_type,
        sector_identifier_uri: b.sector_identifier_uri,
        purpose: b.purpose,
        claims: b.claims,
    })
}

#[utoipa::path(
    get, path = "/admin/api/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "Client id")),
    responses(
        (status = 200, description = "The client", body = ClientOut),
        (status = 404, description = "No such client"),
    )
)]
pub async fn show(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let client = run(&state, move |ctx| manage::clients::show(ctx, &who, &id)).await?;
    Ok(HttpResponse::Ok().json(ClientOut::from(&client)))
}

#[utoipa::path(
    patch, path = "/admin/api/clients/{id}", tag = "clients", request_body = ClientPatch,
    params(("id" = String, Path, description = "Client id")),
    responses(
        (status = 200, description = "The client as changed", body = ClientOut),
        (status = 404, description = "No such client"),
        (status = 422, description = "A value is refused"),
    )
)]
pub async fn update(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<ClientPatch>,
) -> Result<HttpResponse, WebError> {
    let (who, id, b) = (actor.audit_name(), id.into_inner(), body.into_inner());
    let change = manage::client_privacy::PrivacyChange {
        purpose: b.purpose,
        claims: b.claims,
    };
    let client = run(&state, move |ctx| {
        manage::client_privacy::update_privacy(ctx, &who, &id, change)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ClientOut::from(&client)))
}

#[utoipa::path(
    delete, path = "/admin/api/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "Client id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such client"),
    )
)]
pub async fn remove(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    run(&state, move |ctx| manage::clients::remove(ctx, &who, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A client's new secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretOut {
    pub client_id: String,
    pub client_secret: String,
}

#[utoipa::path(
    post, path = "/admin/api/clients/{id}/secret", tag = "clients",
    params(("id" = String, Path, description = "Client id")),
    responses(
        (status = 200, description = "The new secret, shown once; the old one stops working within 2 s", body = SecretOut),
        (status = 404, description = "No confidential client with a secret"),
    )
)]
pub async fn rotate_secret(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let client_id = id.clone();
    let secret = run(&state, move |ctx| {
        manage::client_secret::rotate_secret(ctx, &who, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(SecretOut {
        client_id,
        client_secret: secret,
    }))
}
