//! SMART on FHIR administration (docs/smart.md): the FHIR servers Ward
//! issues tokens for (`ward fhir`, `/admin/api/fhir-servers`) and each user's
//! FHIR resource (`ward user set --fhir-user`, the admin API). Each change is
//! checked here and written with its audit record in one transaction.

use crate::audit::{AuditEvent, Outcome};
use crate::context::AppContext;
use crate::domain::InvalidValue;
use crate::smart::launch::check_fhir_user;
use crate::smart::registry::check_base_url;
use crate::store::{FhirAdminStore, FhirServer};

use super::{ManageError, audited};

/// Input as the audit record of a refusal keeps it: at most 200 characters.
fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

/// Register the FHIR server at `base_url` for `tenant`: the only `aud` its
/// apps may send is exactly this URL, and its users sign in to this tenant.
pub fn add(
    ctx: &AppContext,
    actor: &str,
    base_url: &str,
    tenant: &str,
) -> Result<FhirServer, ManageError> {
    let refusal = || {
        event(ctx, actor, "fhir_server.add")
            .detail("base_url", clip(base_url))
            .detail("tenant", clip(tenant))
    };
    audited(ctx, refusal, || {
        check_base_url(base_url).map_err(|e| InvalidValue::new("base_url", e))?;
        crate::authz::rules::check_name(tenant)
            .map_err(|e| InvalidValue::new("tenant", format!("tenant: {e}")))?;
        if tenant == crate::authz::WARD_TENANT {
            return Err(InvalidValue::new(
                "tenant",
                "the `ward` tenant is Ward's own; register the FHIR server for an organisation",
            )
            .into());
        }
        let server = FhirServer {
            id: uuid::Uuid::new_v4().simple().to_string(),
            base_url: base_url.to_string(),
            tenant: tenant.to_string(),
            created_at: ctx.clock.now_ms(),
        };
        let added = event(ctx, actor, "fhir_server.add")
            .detail("id", server.id.as_str())
            .detail("base_url", base_url)
            .detail("tenant", tenant);
        if !ctx.db.add_fhir_server(&server, &added)? {
            return Err(ManageError::Conflict(format!(
                "a FHIR server `{base_url}` is already registered"
            )));
        }
        Ok(server)
    })
}

/// Every registered FHIR server, by base URL.
pub fn list(ctx: &AppContext, actor: &str) -> Result<Vec<FhirServer>, ManageError> {
    Ok(ctx.db.list_fhir_servers(&|list| {
        event(ctx, actor, "fhir_server.list").detail("count", list.len())
    })?)
}

/// Remove the FHIR server with this id or base URL. Tokens already issued
/// for it stay valid until they expire; no new request may name it.
pub fn remove(ctx: &AppContext, actor: &str, ident: &str) -> Result<FhirServer, ManageError> {
    let refusal = || event(ctx, actor, "fhir_server.remove").detail("query", clip(ident));
    audited(ctx, refusal, || {
        ctx.db
            .remove_fhir_server(ident, &|s| {
                event(ctx, actor, "fhir_server.remove")
                    .detail("id", s.id.as_str())
                    .detail("base_url", s.base_url.as_str())
                    .detail("tenant", s.tenant.as_str())
            })?
            .ok_or_else(|| ManageError::NotFound(format!("no FHIR server `{ident}`")))
    })
}

/// Set (or, with None, clear) the FHIR resource of the user `ident` (id or
/// username): a relative reference such as `Patient/123` (docs/smart.md).
/// Returns the user's id.
pub fn set_fhir_user(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    fhir_user: Option<&str>,
) -> Result<String, ManageError> {
    let refusal = || event(ctx, actor, "user.fhir_user_set").detail("query", clip(ident));
    audited(ctx, refusal, || {
        if let Some(f) = fhir_user {
            check_fhir_user(f).map_err(|e| InvalidValue::new("fhir_user", e))?;
        }
        let user = super::users::find(ctx, ident)?;
        let id = user.id.to_string();
        let set = event(ctx, actor, "user.fhir_user_set")
            .subject(&id)
            .detail("fhir_user", fhir_user.unwrap_or_default());
        if !ctx.db.set_fhir_user(&id, fhir_user, &set)? {
            return Err(ManageError::NotFound(format!("no user `{ident}`")));
        }
        Ok(id)
    })
}
