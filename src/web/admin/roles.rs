//! `/admin/api/users/{id}/roles`: a user's roles per tenant, granting and
//! revoking them (the `ward policy show|grant|revoke` operations); and
//! `/admin/api/clients/{id}/roles`: a client's (`ward policy grant|revoke --client`).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::approvals::ApprovalOut;
use super::auth::Actor;
use super::run;
use crate::app::AppContext;
use crate::manage::approvals::GrantOutcome;
use crate::manage::policy::{Assignment, ClientAssignment};
use crate::manage::{self, ManageError};
use crate::web::WebState;
use crate::web::error::WebError;

/// A user's roles and permissions in one tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantRoles {
    pub tenant: String,
    pub roles: Vec<String>,
    /// `resource:action`, e.g. `ehr:read`.
    pub permissions: Vec<String>,
}

/// Everything a user may do, tenant by tenant, from the current policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRoles {
    pub user_id: String,
    pub username: String,
    pub policy_version: i64,
    pub tenants: Vec<TenantRoles>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleGrant {
    /// A role that has permissions in the tenant, e.g. `nurse`.
    pub role: String,
    /// The tenant (Casbin domain), e.g. `st-mary`, or `ward` for Ward itself.
    pub tenant: String,
}

/// One assignment as granted or revoked, with the policy version holding the change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentOut {
    pub user_id: String,
    /// Absent when revoking the assignment of a user who no longer exists.
    pub username: Option<String>,
    pub role: String,
    pub tenant: String,
    pub policy_version: i64,
}

impl From<Assignment> for AssignmentOut {
    fn from(a: Assignment) -> Self {
        Self {
            user_id: a.user_id,
            username: a.username,
            role: a.role,
            tenant: a.tenant,
            policy_version: a.version,
        }
    }
}

#[utoipa::path(
    get, path = "/admin/api/users/{id}/roles", tag = "roles",
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "Roles and permissions per tenant", body = UserRoles),
        (status = 404, description = "No such user"),
    )
)]
pub async fn show(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let access = run(&state, move |ctx| manage::policy::show(ctx, &who, &id)).await?;
    Ok(HttpResponse::Ok().json(UserRoles {
        user_id: access.user_id,
        username: access.username,
        policy_version: access.policy_version,
        tenants: access
            .tenants
            .into_iter()
            .map(|t| TenantRoles {
                tenant: t.tenant,
                roles: t.roles,
                permissions: t.permissions,
            })
            .collect(),
    }))
}

#[utoipa::path(
    post, path = "/admin/api/users/{id}/roles", tag = "roles", request_body = RoleGrant,
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 201, description = "Granted (all nodes within 2 s)", body = AssignmentOut),
        (status = 202, description = "`ward-admin` in `ward`: a request a second administrator approves (/admin/api/approvals)", body = ApprovalOut),
        (status = 404, description = "No such user, or no such role in the tenant"),
        (status = 409, description = "The user already has the role"),
        (status = 422, description = "Not a valid role or tenant name"),
    )
)]
pub async fn grant(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<RoleGrant>,
) -> Result<HttpResponse, WebError> {
    let (RoleGrant { role, tenant }, who, id) =
        (body.into_inner(), actor.audit_name(), id.into_inner());
    let (done, now) = run(&state, move |ctx| {
        let done = manage::approvals::grant_role(ctx, &who, &id, &role, &tenant)?;
        Ok((done, ctx.clock.now_ms()))
    })
    .await?;
    Ok(match done {
        GrantOutcome::Granted(a) => HttpResponse::Created().json(AssignmentOut::from(a)),
        GrantOutcome::Pending(a) => HttpResponse::Accepted().json(ApprovalOut::of(a, now)),
    })
}

#[utoipa::path(
    delete, path = "/admin/api/users/{id}/roles/{tenant}/{role}", tag = "roles",
    params(
        ("id" = String, Path, description = "User id, or username"),
        ("tenant" = String, Path, description = "Tenant"),
        ("role" = String, Path, description = "Role"),
    ),
    responses(
        (status = 200, description = "Revoked", body = AssignmentOut),
        (status = 404, description = "No such assignment"),
    )
)]
pub async fn revoke(
    state: web::Data<WebState>,
    actor: Actor,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, WebError> {
    let (id, tenant, role) = path.into_inner();
    let change = (id, role, tenant);
    assignment::<_, AssignmentOut>(state, actor, change, manage::policy::revoke, false).await
}

/// The signature of the `manage::policy` grants and revokes: context, actor,
/// holder (user or client), role, tenant.
type Change<T> = fn(&AppContext, &str, &str, &str, &str) -> Result<T, ManageError>;

/// Run a grant or revoke of `(holder, role, tenant)` as the actor; the
/// assignment as `O`, with 201 when `created`, else 200.
async fn assignment<T, O>(
    state: web::Data<WebState>,
    actor: Actor,
    (holder, role, tenant): (String, String, String),
    op: Change<T>,
    created: bool,
) -> Result<HttpResponse, WebError>
where
    T: Send + 'static,
    O: From<T> + Serialize,
{
    let who = actor.audit_name();
    let done = run(&state, move |ctx| op(ctx, &who, &holder, &role, &tenant)).await?;
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(O::from(done)))
}

/// One assignment of a client, as granted or revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientAssignmentOut {
    pub client_id: String,
    /// The policy subject, `client:<client_id>`.
    pub subject: String,
    pub role: String,
    pub tenant: String,
    pub policy_version: i64,
}

impl From<ClientAssignment> for ClientAssignmentOut {
    fn from(a: ClientAssignment) -> Self {
        Self {
            client_id: a.client_id,
            subject: a.subject,
            role: a.role,
            tenant: a.tenant,
            policy_version: a.version,
        }
    }
}

#[utoipa::path(
    post, path = "/admin/api/clients/{id}/roles", tag = "roles", request_body = RoleGrant,
    params(("id" = String, Path, description = "Client id (a registered client)")),
    responses(
        (status = 201, description = "Granted (all nodes within 2 s)", body = ClientAssignmentOut),
        (status = 404, description = "No such client, or no such role in the tenant"),
        (status = 409, description = "The client already has the role"),
        (status = 422, description = "Not a valid role or tenant name"),
    )
)]
pub async fn grant_client(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<RoleGrant>,
) -> Result<HttpResponse, WebError> {
    let RoleGrant { role, tenant } = body.into_inner();
    let change = (id.into_inner(), role, tenant);
    let op = manage::policy::grant_client;
    assignment::<_, ClientAssignmentOut>(state, actor, change, op, true).await
}

#[utoipa::path(
    delete, path = "/admin/api/clients/{id}/roles/{tenant}/{role}", tag = "roles",
    params(
        ("id" = String, Path, description = "Client id"),
        ("tenant" = String, Path, description = "Tenant"),
        ("role" = String, Path, description = "Role"),
    ),
    responses(
        (status = 200, description = "Revoked", body = ClientAssignmentOut),
        (status = 404, description = "No such assignment"),
    )
)]
pub async fn revoke_client(
    state: web::Data<WebState>,
    actor: Actor,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, WebError> {
    let (id, tenant, role) = path.into_inner();
    let change = (id, role, tenant);
    let op = manage::policy::revoke_client;
    assignment::<_, ClientAssignmentOut>(state, actor, change, op, false).await
}
