use crate::app::AppContext;
use crate::audit::{AuditEvent, Outcome};
use crate::crypto::secrets;
use crate::domain::{ClientId, ClientType, GrantType, InvalidValue, RedirectUri, Scope};
use crate::storage::clients::{self, Client};
use crate::storage::{self, StorageError};

use super::{ManageError, audited};

pub struct NewClientInput {
    pub client_id: String,
    pub name: Option<String>,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
}

/// The stored client and, for a confidential client, its secret: shown once, never stored.
pub struct CreatedClient {
    pub client: Client,
    pub secret: Option<String>,
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

pub const DEFAULT_GRANTS: [&str; 2] = ["authorization_code", "refresh_token"];
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// A client registration that passed every check.
struct Validated {
    id: ClientId,
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    scopes: Vec<String>,
}

fn validate(input: &NewClientInput) -> Result<Validated, ManageError> {
    let id = ClientId::parse(&input.client_id)?;
    let mut grants: Vec<GrantType> = Vec::new();
    let requested: Vec<&str> = if input.grant_types.is_empty() {
        DEFAULT_GRANTS.to_vec()
    } else {
        input.grant_types.iter().map(String::as_str).collect()
    };
    for g in requested {
        let g: GrantType = g.parse()?;
        if !grants.contains(&g) {
            grants.push(g);
        }
    }
    if input.client_type == ClientType::Public && grants.contains(&GrantType::ClientCredentials) {
        return Err(InvalidValue::new(
            "grant_type",
            "a public client cannot use client_credentials: it has no secret to authenticate with",
        )
        .into());
    }
    let redirects = input
        .redirect_uris
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
    let scopes = Scope::parse_list(&scope_text)?
        .into_iter()
        .map(|s| s.as_str().to_string())
        .collect();
    Ok(Validated {
        id,
        redirect_uris: redirects,
        grant_types: grants.iter().map(|g| g.as_str().to_string()).collect(),
        scopes,
    })
}

pub fn add(
    ctx: &AppContext,
    actor: &str,
    input: NewClientInput,
) -> Result<CreatedClient, ManageError> {
    let refusal =
        || event(ctx, actor, "client.create").detail("client_id", input.client_id.clone());
    audited(ctx, refusal, || {
        let Validated {
            id,
            redirect_uris,
            grant_types,
            scopes,
        } = validate(&input)?;
        let name = match input.name.as_deref().map(str::trim) {
            Some(n) if n.chars().count() > 128 || n.chars().any(char::is_control) => {
                return Err(InvalidValue::new(
                    "name",
                    "must be at most 128 characters without control characters",
                )
                .into());
            }
            Some(n) if !n.is_empty() => n.to_string(),
            _ => id.as_str().to_string(),
        };
        let secret = (input.client_type == ClientType::Confidential).then(|| secrets::generate(32));
        let now = ctx.clock.now_ms();
        let client = Client {
            id: id.as_str().to_string(),
            name,
            client_type: input.client_type,
            secret_hash: secret.as_deref().map(secrets::hash),
            redirect_uris,
            grant_types,
            scopes,
            created_at: now,
            updated_at: now,
        };
        ctx.db.transaction(|c| {
            clients::insert(c, &client).map_err(|e| match e {
                StorageError::Conflict(_) => {
                    ManageError::Conflict(format!("a client `{id}` already exists"))
                }
                other => other.into(),
            })?;
            storage::audit::append(
                c,
                &event(ctx, actor, "client.create")
                    .client(&client.id)
                    .detail("client_type", client.client_type.as_str())
                    .detail("redirect_uris", client.redirect_uris.clone())
                    .detail("grant_types", client.grant_types.clone())
                    .detail("scopes", client.scopes.clone()),
            )?;
            Ok::<_, ManageError>(())
        })?;
        Ok(CreatedClient { client, secret })
    })
}

pub fn show(ctx: &AppContext, actor: &str, id: &str) -> Result<Client, ManageError> {
    let refusal = || event(ctx, actor, "client.view").detail("client_id", id);
    audited(ctx, refusal, || {
        ctx.db.transaction(|c| {
            let client = clients::find(c, id)?
                .ok_or_else(|| ManageError::NotFound(format!("no client `{id}`")))?;
            storage::audit::append(c, &event(ctx, actor, "client.view").client(id))?;
            Ok(client)
        })
    })
}

pub fn list(ctx: &AppContext, actor: &str) -> Result<Vec<Client>, ManageError> {
    ctx.db.transaction(|c| {
        let list = clients::list(c)?;
        storage::audit::append(
            c,
            &event(ctx, actor, "client.list").detail("count", list.len()),
        )?;
        Ok(list)
    })
}

pub fn remove(ctx: &AppContext, actor: &str, id: &str) -> Result<(), ManageError> {
    let refusal = || event(ctx, actor, "client.remove").detail("client_id", id);
    audited(ctx, refusal, || {
        ctx.db.transaction(|c| {
            clients::delete(c, id).map_err(|e| match e {
                StorageError::NotFound => ManageError::NotFound(format!("no client `{id}`")),
                other => other.into(),
            })?;
            storage::audit::append(c, &event(ctx, actor, "client.remove").client(id))?;
            Ok(())
        })
    })
}
