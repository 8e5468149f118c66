use crate::audit::{AuditEvent, Outcome};
use crate::context::AppContext;
use crate::crypto::secrets;
use crate::domain::consent::check_purpose;
use crate::domain::records::Client;
use crate::domain::{
    Acr, ClientId, ClientType, GrantType, InvalidValue, PkcePolicy, RedirectUri, Scope, Subject,
    SubjectType,
};
use crate::store::ClientAdminStore;

use super::{ManageError, audited};

pub struct NewClientInput {
    pub client_id: String,
    pub name: Option<String>,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub first_party: bool,
    pub require_par: bool,
    /// A JSON Web Key Set (text): the client authenticates with private_key_jwt instead of a secret.
    pub jwks: Option<String>,
    /// Or where the client publishes that key set (https; fetched and cached
    /// when it authenticates). At most one of `jwks` and `jwks_uri`.
    pub jwks_uri: Option<String>,
    /// The tenant whose roles of this client (`g, client:<id>, role, tenant`)
    /// narrow its SMART `system/` scopes; required with them.
    pub tenant: Option<String>,
    /// RS256 (default) or ES256.
    pub id_token_alg: Option<String>,
    pub access_token_seconds: Option<i64>,
    /// Permission resources whose permissions the client's tokens carry.
    pub authz_resources: Vec<String>,
    /// The weakest acr the client accepts (`aal1`, `aal2`, `phr`, `phrh`).
    pub min_acr: Option<String>,
    /// RP-Initiated Logout: where the browser may be sent after logging out.
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-Channel Logout: an absolute http(s) URI (http only on loopback).
    pub backchannel_logout_uri: Option<String>,
    /// Used on shared workstations (short idle timeout, "switch user").
    pub shared_workstation: bool,
    /// PKCE required (default) or optional (confidential clients only).
    pub pkce: PkcePolicy,
    /// `public` (default) or `pairwise` `sub` values (OIDC Core §8).
    pub subject_type: SubjectType,
    /// A pairwise client's list of redirect URIs (§8.1), fetched once here;
    /// without it the sector is the redirect URIs' one host.
    pub sector_identifier_uri: Option<String>,
    /// What the client uses personal data for, shown on the consent page.
    pub purpose: Option<String>,
    /// The user claims it may receive (data minimisation); None: every
    /// claim of its scopes.
    pub claims: Option<Vec<String>>,
}

impl NewClientInput {
    /// A client with defaults for everything but its id, type and redirect URIs.
    pub fn new(client_id: &str, client_type: ClientType, redirect_uris: &[&str]) -> Self {
        Self {
            client_id: client_id.to_string(),
            name: None,
            client_type,
            redirect_uris: redirect_uris.iter().map(|s| s.to_string()).collect(),
            grant_types: Vec::new(),
            scopes: Vec::new(),
            first_party: false,
            require_par: false,
            jwks: None,
            jwks_uri: None,
            tenant: None,
            id_token_alg: None,
            access_token_seconds: None,
            authz_resources: Vec::new(),
            min_acr: None,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            shared_workstation: false,
            pkce: PkcePolicy::Required,
            subject_type: SubjectType::Public,
            sector_identifier_uri: None,
            purpose: None,
            claims: None,
        }
    }
}

/// Parse a client's JWKS (`crypto::verify::public_key_set`, the one check
/// that fetched key sets pass too).
fn validate_jwks(text: &str) -> Result<serde_json::Value, InvalidValue> {
    crate::crypto::verify::public_key_set(text).map_err(|m| InvalidValue::new("jwks", m))
}

/// The stored client and, for a confidential client, its secret: shown once, never stored.
pub struct CreatedClient {
    pub client: Client,
    pub secret: Option<String>,
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

pub const DEFAULT_GRANTS: [GrantType; 2] = [GrantType::AuthorizationCode, GrantType::RefreshToken];
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// Grant types as their names (RFC 7591 §2 `grant_types`), for audit records.
pub fn grant_names(grants: &[GrantType]) -> Vec<&'static str> {
    grants.iter().map(|g| g.as_str()).collect()
}

/// A client registration that passed every check.
struct Validated {
    id: ClientId,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    grant_types: Vec<GrantType>,
    scopes: Vec<String>,
    pkce: PkcePolicy,
}

fn validate(input: &NewClientInput) -> Result<Validated, ManageError> {
    let id = ClientId::parse(&input.client_id)?;
    let mut grants: Vec<GrantType> = Vec::new();
    for g in &input.grant_types {
        let g: GrantType = g.parse()?;
        if !grants.contains(&g) {
            grants.push(g);
        }
    }
    if grants.is_empty() {
        grants = DEFAULT_GRANTS.to_vec();
    }
    if input.client_type == ClientType::Public && grants.contains(&GrantType::ClientCredentials) {
        return Err(InvalidValue::new(
            "grant_type",
            "a public client cannot use client_credentials: it has no secret to authenticate with",
        )
        .into());
    }
    let pkce = input.pkce.check_for(input.client_type)?;
    let redirects = input
        .redirect_uris
        .iter()
        .map(|u| RedirectUri::parse(u).map(|r| r.as_str().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let post_logout = input
        .post_logout_redirect_uris
        .iter()
        .map(|u| RedirectUri::parse(u).map(|r| r.as_str().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if grants.contains(&GrantType::AuthorizationCode) && redirects.is_empty() {
        return Err(InvalidValue::new(
            "redirect_uri",
            "the authorization_code grant needs at least one redirect URI",
        )
        .into());
    }
    let scope_text = if input.scopes.is_empty() {
        DEFAULT_SCOPES.join(" ")
    } else {
        input.scopes.join(" ")
    };
    let scopes = Scope::parse_list(&scope_text)?;
    for s in &scopes {
        crate::oidc::check_client_scope(s)?;
    }
    let scopes = scopes.iter().map(|s| s.as_str().to_string()).collect();
    Ok(Validated {
        id,
        redirect_uris: redirects,
        post_logout_redirect_uris: post_logout,
        grant_types: grants,
        scopes,
        pkce,
    })
}

/// The rest of a registration, each value checked.
struct Extras {
    name: String,
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
    tenant: Option<String>,
    id_token_alg: String,
    authz_resources: Vec<String>,
    min_acr: Option<Acr>,
    backchannel_logout_uri: Option<String>,
    purpose: Option<String>,
    allowed_claims: Option<Vec<String>>,
}

/// The client's public keys, or the URL where it publishes them (not both,
/// and not for a public client).
fn check_keys(
    input: &NewClientInput,
    allow_insecure_jwks_uri: bool,
) -> Result<(Option<serde_json::Value>, Option<String>), ManageError> {
    let jwks = input.jwks.as_deref().map(validate_jwks).transpose()?;
    let jwks_uri = input
        .jwks_uri
        .as_deref()
        .map(|u| {
            crate::jwks::address::check_uri(u, allow_insecure_jwks_uri)
                .map(|url| url.to_string())
                .map_err(|m| InvalidValue::new("jwks_uri", m))
        })
        .transpose()?;
    if jwks.is_some() && jwks_uri.is_some() {
        return Err(InvalidValue::new(
            "jwks_uri",
            "give the key set or its URL (jwks or jwks_uri), not both",
        )
        .into());
    }
    if (jwks.is_some() || jwks_uri.is_some()) && input.client_type == ClientType::Public {
        return Err(InvalidValue::new(
            "jwks",
            "a public client cannot authenticate with keys; make it confidential",
        )
        .into());
    }
    Ok((jwks, jwks_uri))
}

/// Check what [`validate`] does not, in the order the errors are reported.
fn check_extras(
    input: &NewClientInput,
    v: &Validated,
    allow_insecure_jwks_uri: bool,
) -> Result<Extras, ManageError> {
    let name = check_name(input.name.as_deref(), &v.id)?;
    let (jwks, jwks_uri) = check_keys(input, allow_insecure_jwks_uri)?;
    let tenant = input
        .tenant
        .as_deref()
        .map(|t| {
            crate::authz::rules::check_name(t)
                .map(|()| t.to_string())
                .map_err(|m| InvalidValue::new("tenant", m))
        })
        .transpose()?;
    let id_token_alg = match input.id_token_alg.as_deref().unwrap_or("RS256") {
        a @ ("RS256" | "ES256") => a.to_string(),
        other => {
            return Err(InvalidValue::new(
                "id_token_alg",
                format!("`{other}` is not RS256 or ES256"),
            )
            .into());
        }
    };
    if let Some(s) = input.access_token_seconds
        && !(10..=86_400).contains(&s)
    {
        return Err(InvalidValue::new("access_token_seconds", "must be 10 to 86400").into());
    }
    let authz_resources = check_authz_resources(&input.authz_resources)?;
    let min_acr = match &input.min_acr {
        Some(acr) => Some(Acr::parse(acr).map_err(|_| {
            InvalidValue::new(
                "min_acr",
                format!("`{acr}` is not one of aal1, aal2, phr, phrh"),
            )
        })?),
        None => None,
    };
    let backchannel_logout_uri = input
        .backchannel_logout_uri
        .as_deref()
        .map(check_backchannel_uri)
        .transpose()?;
    let purpose = input.purpose.as_deref().map(check_purpose).transpose()?;
    let allowed_claims = input
        .claims
        .as_deref()
        .map(|c| crate::oidc::claims::check_allow_list(c, &v.scopes))
        .transpose()?;
    Ok(Extras {
        purpose,
        allowed_claims,
        name,
        jwks,
        jwks_uri,
        tenant,
        id_token_alg,
        authz_resources,
        min_acr,
        backchannel_logout_uri,
    })
}

/// SMART Backend Services (SMART App Launch 2.2.0 §"Backend Services"):
/// `system/` scopes go to confidential clients that authenticate with
/// private_key_jwt (asymmetric keys, the only client authentication the
/// guide allows there), through client_credentials, and named with the
/// tenant whose roles for the client narrow them (docs/smart.md).
fn check_backend(input: &NewClientInput, v: &Validated, x: &Extras) -> Result<(), InvalidValue> {
    let Some(system) = v
        .scopes
        .iter()
        .find(|s| crate::oidc::smart_scopes::is_system(s))
    else {
        return Ok(());
    };
    let refuse = |why: &str| Err(InvalidValue::new("scope", format!("`{system}`: {why}")));
    if input.client_type != ClientType::Confidential || (x.jwks.is_none() && x.jwks_uri.is_none()) {
        return refuse(
            "system/ scopes are for confidential clients that authenticate with private_key_jwt \
             (register keys with --jwks-file or --jwks-uri; SMART Backend Services)",
        );
    }
    if !v.grant_types.contains(&GrantType::ClientCredentials) {
        return refuse(
            "system/ scopes are granted only through client_credentials; allow that grant type",
        );
    }
    if x.tenant.is_none() {
        return refuse(
            "a client with system/ scopes needs a tenant (--tenant): its roles there decide what it gets",
        );
    }
    Ok(())
}

/// `ward:admin` opens the admin API: only Ward's console client may hold it,
/// so that no other relying party can be given an administrator's token.
fn check_admin_scope(v: &Validated, console: &ClientId) -> Result<(), InvalidValue> {
    let admin = v.scopes.iter().any(|s| s == crate::oidc::ADMIN_SCOPE);
    if admin && v.id != *console {
        return Err(InvalidValue::new(
            "scope",
            format!(
                "`{}` is reserved for Ward's admin console client (`admin_console_client_id`, \
                 now `{console}`)",
                crate::oidc::ADMIN_SCOPE
            ),
        ));
    }
    Ok(())
}

/// The display name, trimmed; the client id when none is given.
fn check_name(name: Option<&str>, id: &ClientId) -> Result<String, InvalidValue> {
    match name.map(str::trim) {
        Some(n) if n.chars().count() > 128 || n.chars().any(char::is_control) => {
            Err(InvalidValue::new(
                "name",
                "must be at most 128 characters without control characters",
            ))
        }
        Some(n) if !n.is_empty() => Ok(n.to_string()),
        _ => Ok(id.as_str().to_string()),
    }
}

/// Permission resource names, each once.
fn check_authz_resources(names: &[String]) -> Result<Vec<String>, InvalidValue> {
    let mut resources = Vec::new();
    for r in names {
        crate::authz::rules::check_name(r)
            .map_err(|e| InvalidValue::new("authz_resource", format!("`{r}`: {e}")))?;
        if !resources.contains(r) {
            resources.push(r.clone());
        }
    }
    Ok(resources)
}

/// Back-Channel Logout 1.0 §2.2: an absolute http(s) URL, no fragment.
fn check_backchannel_uri(uri: &str) -> Result<String, InvalidValue> {
    let parsed = RedirectUri::parse(uri)?;
    if !parsed.as_str().starts_with("https://") && !parsed.as_str().starts_with("http://") {
        return Err(InvalidValue::new(
            "backchannel_logout_uri",
            "must be an http(s) URL",
        ));
    }
    Ok(parsed.as_str().to_string())
}

/// The client record a checked registration makes.
fn record(
    input: &NewClientInput,
    v: Validated,
    x: Extras,
    subject: Subject,
    secret: Option<&str>,
    now: i64,
) -> Client {
    Client {
        id: v.id,
        name: x.name,
        client_type: input.client_type,
        secret_hash: secret.map(secrets::hash),
        redirect_uris: v.redirect_uris,
        grant_types: v.grant_types,
        scopes: v.scopes,
        created_at: now,
        updated_at: now,
        first_party: input.first_party,
        require_par: input.require_par,
        jwks: x.jwks,
        jwks_uri: x.jwks_uri,
        tenant: x.tenant,
        id_token_alg: x.id_token_alg,
        access_token_seconds: input.access_token_seconds,
        authz_resources: x.authz_resources,
        min_acr: x.min_acr,
        post_logout_redirect_uris: v.post_logout_redirect_uris,
        backchannel_logout_uri: x.backchannel_logout_uri,
        shared_workstation: input.shared_workstation,
        pkce: v.pkce,
        subject,
        purpose: x.purpose,
        allowed_claims: x.allowed_claims,
    }
}

pub fn add(
    ctx: &AppContext,
    actor: &str,
    input: NewClientInput,
) -> Result<CreatedClient, ManageError> {
    let refusal =
        || event(ctx, actor, "client.create").detail("client_id", input.client_id.clone());
    audited(ctx, refusal, || {
        let checked = validate(&input)?;
        let extras = check_extras(&input, &checked, ctx.config.allow_insecure_jwks_uri)?;
        check_backend(&input, &checked, &extras)?;
        check_admin_scope(&checked, &ctx.config.admin_console_client_id)?;
        // Last, as it may fetch: the sector of a pairwise client (§8.1).
        let allow_insecure = ctx.config.allow_insecure_jwks_uri;
        let subject = super::sector::subject_of(
            input.subject_type,
            input.sector_identifier_uri.as_deref(),
            &checked.redirect_uris,
            allow_insecure,
            |uri| crate::jwks::fetch::get_text(uri, allow_insecure, "application/json"),
        )?;
        // A confidential client gets a secret unless it authenticates with its keys.
        let keys = extras.jwks.is_some() || extras.jwks_uri.is_some();
        let secret =
            (input.client_type == ClientType::Confidential && !keys).then(|| secrets::generate(32));
        let client = record(
            &input,
            checked,
            extras,
            subject,
            secret.as_deref(),
            ctx.clock.now_ms(),
        );
        let created = event(ctx, actor, "client.create")
            .client(&client.id)
            .detail("client_type", client.client_type.as_str())
            .detail("redirect_uris", client.redirect_uris.clone())
            .detail("grant_types", grant_names(&client.grant_types))
            .detail("scopes", client.scopes.clone())
            .detail("pkce", client.pkce.as_str())
            .detail("jwks_uri", client.jwks_uri.clone())
            .detail("tenant", client.tenant.clone())
            .detail("subject_type", client.subject.subject_type().as_str())
            .detail("sector", client.subject.sector())
            .detail(
                "sector_identifier_uri",
                client.subject.sector_identifier_uri(),
            )
            .detail("purpose", client.purpose.clone())
            .detail("claims", client.allowed_claims.clone());
        if !ctx.db.create_client(&client, &created)? {
            let id = &client.id;
            return Err(ManageError::Conflict(format!(
                "a client `{id}` already exists"
            )));
        }
        Ok(CreatedClient { client, secret })
    })
}

pub fn show(ctx: &AppContext, actor: &str, id: &str) -> Result<Client, ManageError> {
    let refusal = || event(ctx, actor, "client.view").detail("client_id", id);
    audited(ctx, refusal, || {
        let not_found = || ManageError::NotFound(format!("no client `{id}`"));
        // An id no client could have is as absent as an unregistered one.
        let id = ClientId::exact(id).ok_or_else(not_found)?;
        let viewed = event(ctx, actor, "client.view").client(&id);
        ctx.db.view_client(&id, &viewed)?.ok_or_else(not_found)
    })
}

pub fn list(ctx: &AppContext, actor: &str) -> Result<Vec<Client>, ManageError> {
    Ok(ctx
        .db
        .list_clients(|list| event(ctx, actor, "client.list").detail("count", list.len()))?)
}

pub fn remove(ctx: &AppContext, actor: &str, id: &str) -> Result<(), ManageError> {
    let refusal = || event(ctx, actor, "client.remove").detail("client_id", id);
    audited(ctx, refusal, || {
        let not_found = || ManageError::NotFound(format!("no client `{id}`"));
        let id = ClientId::exact(id).ok_or_else(not_found)?;
        let removed = event(ctx, actor, "client.remove").client(&id);
        if !ctx.db.remove_client(&id, &removed)? {
            return Err(not_found());
        }
        Ok(())
    })
}

/// Property-based fuzzing of the registration checks (admin API and CLI input).
#[cfg(test)]
#[path = "clients/tests.rs"]
mod fuzz;
