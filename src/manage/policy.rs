//! The authorization policy: import, export, grant, revoke, show.
//!
//! Each change is one transaction holding the rule change, the policy version
//! bump (which every node polls) and the audit record. After a change this
//! process reloads its own engine at once; other nodes follow within the poll
//! interval (app::sealer).

use serde::Serialize;

use crate::audit::{AuditEvent, Outcome};
use crate::authz::{self, AuthzError, Rule, rules};
use crate::context::AppContext;
use crate::domain::records::Client;
use crate::domain::{ClientId, InvalidValue, UserId};
use crate::store::policy::{GrantRefused, PolicyRow, RoleGrant};
use crate::store::{AuditLogStore, PolicyStore};

use super::{ManageError, audited};

impl From<AuthzError> for ManageError {
    fn from(e: AuthzError) -> Self {
        match e {
            AuthzError::InvalidRule { line, message } => Self::Invalid(InvalidValue::new(
                "policy",
                format!("line {line}: {message}"),
            )),
            AuthzError::Storage(s) => Self::Storage(s),
            AuthzError::Engine(m) => Self::Internal(m),
        }
    }
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

/// Follow our own change at once rather than at the next poll. Best effort:
/// the change is committed, and the background poll retries the reload.
pub(crate) fn reload(ctx: &AppContext) {
    if let Err(e) = ctx.authz.reload(&ctx.db) {
        tracing::warn!(error = %e, "reloading the policy after a change failed; the next poll retries");
    }
}

/// A tenant or role name as typed on the command line or in the admin API.
fn name(field: &'static str, value: &str) -> Result<String, ManageError> {
    rules::check_name(value).map_err(|m| InvalidValue::new(field, m))?;
    Ok(value.to_string())
}

/// What an import wrote.
#[derive(Debug, Serialize)]
pub struct ImportSummary {
    pub permissions: usize,
    pub assignments: usize,
    pub version: i64,
}

/// Replace the whole policy with `csv`. Every line is validated first; an
/// invalid file changes nothing.
pub fn import(ctx: &AppContext, actor: &str, csv: &str) -> Result<ImportSummary, ManageError> {
    let refusal = || event(ctx, actor, "policy.import");
    let summary = audited(ctx, refusal, || {
        let parsed = rules::parse_csv(csv)?;
        let rows: Vec<_> = parsed.iter().map(authz::to_row).collect();
        let assignments = parsed
            .iter()
            .filter(|r| matches!(r, Rule::Assignment { .. }))
            .count();
        let permissions = parsed.len() - assignments;
        let now = ctx.clock.now_ms();
        // Names exactly which policy was imported: the SHA-256 of its
        // canonical export, comparable with `ward policy export | sha256sum`.
        let sha256 = crate::crypto::secrets::hash(&rules::to_csv(&parsed));
        let record = |replaced: i64, version: i64| {
            event(ctx, actor, "policy.import")
                .detail("permissions", permissions as i64)
                .detail("assignments", assignments as i64)
                .detail("replaced", replaced)
                .detail("version", version)
                .detail("sha256", sha256.as_str())
        };
        let version = ctx.db.replace_policy(&rows, now, record)?;
        Ok(ImportSummary {
            permissions,
            assignments,
            version,
        })
    })?;
    reload(ctx);
    Ok(summary)
}

/// The whole policy as CSV, in a stable order (permissions, then assignments).
pub fn export(ctx: &AppContext, actor: &str) -> Result<String, ManageError> {
    let (_, rows) = ctx.db.policy(|version, count| {
        event(ctx, actor, "policy.export")
            .detail("rules", count as i64)
            .detail("version", version)
    })?;
    Ok(rules::to_csv(&authz::from_rows(&rows)))
}

/// One role assignment, as granted or revoked.
#[derive(Debug, Serialize)]
pub struct Assignment {
    pub user_id: String,
    pub username: Option<String>,
    pub role: String,
    pub tenant: String,
    /// The policy version that holds the change.
    pub version: i64,
}

/// An assignment about to be made: its rule `g, <user id>, role, tenant`
/// and its `policy.grant` record. Shared with `users::add_with_role`, which
/// creates a user and its first role in one transaction.
pub(crate) struct Assigning<'a> {
    rule: PolicyRow,
    role: &'a str,
    tenant: &'a str,
    record: Box<dyn Fn(i64) -> AuditEvent + 'a>,
}

impl<'a> Assigning<'a> {
    pub(crate) fn new(event: AuditEvent, user_id: &'a str, role: &'a str, tenant: &'a str) -> Self {
        Self::of(event.subject(user_id), user_id.to_string(), role, tenant)
    }

    /// `g, client:<client_id>, role, tenant`, its record naming the client.
    fn for_client(event: AuditEvent, client_id: &ClientId, role: &'a str, tenant: &'a str) -> Self {
        let subject = authz::client_subject(client_id);
        let event = event.client(client_id).detail("subject", subject.as_str());
        Self::of(event, subject, role, tenant)
    }

    fn of(event: AuditEvent, subject: String, role: &'a str, tenant: &'a str) -> Self {
        Self {
            rule: authz::to_row(&Rule::assignment(&subject, role, tenant)),
            role,
            tenant,
            record: Box::new(move |version| {
                event
                    .clone()
                    .detail("role", role)
                    .detail("tenant", tenant)
                    .detail("version", version)
            }),
        }
    }

    pub(crate) fn grant(&self, now: i64) -> RoleGrant<'_> {
        RoleGrant {
            rule: &self.rule,
            role: self.role,
            tenant: self.tenant,
            now,
            audit: &*self.record,
        }
    }

    /// The error a refused grant reports.
    pub(crate) fn refused(&self, why: GrantRefused) -> ManageError {
        let (role, tenant) = (self.role, self.tenant);
        match why {
            GrantRefused::NoSuchRole => ManageError::NotFound(format!(
                "no role `{role}` in tenant `{tenant}` (a role exists where it has permissions)"
            )),
            GrantRefused::AlreadyGranted => ManageError::Conflict(format!(
                "{} already has role `{role}` in `{tenant}`",
                if self.rule.v0.starts_with(rules::CLIENT_PREFIX) {
                    "the client"
                } else {
                    "the user"
                }
            )),
        }
    }
}

/// Check a role and tenant before a transaction that grants them.
pub(crate) fn parse_role(role: &str, tenant: &str) -> Result<(String, String), ManageError> {
    Ok((name("role", role)?, name("tenant", tenant)?))
}

/// What a refused grant or revoke asked for: `who` is the field naming the
/// user (`query`) or the client (`client_id`), and its value.
fn asked(
    ctx: &AppContext,
    actor: &str,
    kind: &str,
    who: (&str, &str),
    role: &str,
    tenant: &str,
) -> AuditEvent {
    event(ctx, actor, kind)
        .detail(who.0, who.1)
        .detail("role", role)
        .detail("tenant", tenant)
}

/// Make an assignment with its `policy.grant` record; the new version.
fn assign(ctx: &AppContext, assigning: &Assigning<'_>) -> Result<i64, ManageError> {
    ctx.db
        .grant_role(&assigning.grant(ctx.clock.now_ms()))?
        .map_err(|why| assigning.refused(why))
}

/// Remove `g, subject, role, tenant` with its `policy.revoke` record, which
/// `name` completes with whose it was; the new version, or NotFound saying
/// `missing` when there is no such assignment.
fn unassign(
    ctx: &AppContext,
    actor: &str,
    (subject, role, tenant): (&str, &str, &str),
    name: impl Fn(AuditEvent) -> AuditEvent,
    missing: impl FnOnce() -> String,
) -> Result<i64, ManageError> {
    let rule = authz::to_row(&Rule::assignment(subject, role, tenant));
    let record = |version: i64| {
        name(event(ctx, actor, "policy.revoke"))
            .detail("role", role)
            .detail("tenant", tenant)
            .detail("version", version)
    };
    ctx.db
        .revoke_role(&rule, ctx.clock.now_ms(), record)?
        .ok_or_else(|| ManageError::NotFound(missing()))
}

/// `g, <user id>, role, tenant`; the user is named by username or id.
pub fn grant(
    ctx: &AppContext,
    actor: &str,
    user: &str,
    role: &str,
    tenant: &str,
) -> Result<Assignment, ManageError> {
    let refusal = || asked(ctx, actor, "policy.grant", ("query", user), role, tenant);
    let done = audited(ctx, refusal, || {
        let (role, tenant) = parse_role(role, tenant)?;
        let found = super::users::find(ctx, user)?;
        let granted = event(ctx, actor, "policy.grant");
        let version = assign(
            ctx,
            &Assigning::new(granted, found.id.as_str(), &role, &tenant),
        )?;
        Ok(Assignment {
            user_id: found.id.to_string(),
            username: Some(found.username.to_string()),
            role,
            tenant,
            version,
        })
    })?;
    reload(ctx);
    Ok(done)
}

/// Remove an assignment. The user is named by username or id; an id that no
/// longer names a user still works, so that stale assignments can be removed.
pub fn revoke(
    ctx: &AppContext,
    actor: &str,
    user: &str,
    role: &str,
    tenant: &str,
) -> Result<Assignment, ManageError> {
    let refusal = || asked(ctx, actor, "policy.revoke", ("query", user), role, tenant);
    let done = audited(ctx, refusal, || {
        let (role, tenant) = parse_role(role, tenant)?;
        let (user_id, username) = match super::users::find(ctx, user) {
            Ok(u) => (u.id.to_string(), Some(u.username.to_string())),
            Err(ManageError::NotFound(_)) if UserId::parse(user).is_some() => {
                (user.to_string(), None)
            }
            Err(e) => return Err(e),
        };
        let version = unassign(
            ctx,
            actor,
            (&user_id, &role, &tenant),
            |e| e.subject(&user_id),
            || format!("{user} has no role `{role}` in `{tenant}`"),
        )?;
        Ok(Assignment {
            user_id,
            username,
            role,
            tenant,
            version,
        })
    })?;
    reload(ctx);
    Ok(done)
}

/// One role assignment of a client, as granted or revoked.
#[derive(Debug, Serialize)]
pub struct ClientAssignment {
    pub client_id: ClientId,
    /// The policy subject: `client:<client_id>`.
    pub subject: String,
    pub role: String,
    pub tenant: String,
    /// The policy version that holds the change.
    pub version: i64,
}

/// `g, client:<client_id>, role, tenant`: a registered client holds a role
/// for what it does on its own behalf (SMART Backend Services: its `system/`
/// scopes are narrowed by these roles' `fhir:` permissions; docs/smart.md).
/// A client id that is not registered is refused.
pub fn grant_client(
    ctx: &AppContext,
    actor: &str,
    client_id: &str,
    role: &str,
    tenant: &str,
) -> Result<ClientAssignment, ManageError> {
    let who = ("client_id", client_id);
    let refusal = || asked(ctx, actor, "policy.grant", who, role, tenant);
    let done = audited(ctx, refusal, || {
        let (role, tenant) = parse_role(role, tenant)?;
        let client = registered(ctx, client_id)?;
        let granted = event(ctx, actor, "policy.grant");
        let version = assign(
            ctx,
            &Assigning::for_client(granted, &client.id, &role, &tenant),
        )?;
        Ok(ClientAssignment {
            subject: authz::client_subject(&client.id),
            client_id: client.id,
            role,
            tenant,
            version,
        })
    })?;
    reload(ctx);
    Ok(done)
}

/// Remove a client's assignment. A client id that is no longer registered
/// still works, so that stale assignments can be removed.
pub fn revoke_client(
    ctx: &AppContext,
    actor: &str,
    client_id: &str,
    role: &str,
    tenant: &str,
) -> Result<ClientAssignment, ManageError> {
    let who = ("client_id", client_id);
    let refusal = || asked(ctx, actor, "policy.revoke", who, role, tenant);
    let done = audited(ctx, refusal, || {
        let (role, tenant) = parse_role(role, tenant)?;
        // Not looked up: a removed client's id is still a client id.
        let id = ClientId::exact(client_id).ok_or_else(|| {
            let subject = format!("{}{client_id}", rules::CLIENT_PREFIX);
            let why = rules::check_subject(&subject).err();
            InvalidValue::new("client_id", why.unwrap_or("is not a client id"))
        })?;
        let subject = authz::client_subject(&id);
        let version = unassign(
            ctx,
            actor,
            (&subject, &role, &tenant),
            |e| e.client(&id).detail("subject", subject.as_str()),
            || format!("client `{id}` has no role `{role}` in `{tenant}`"),
        )?;
        Ok(ClientAssignment {
            client_id: id.clone(),
            subject: subject.clone(),
            role,
            tenant,
            version,
        })
    })?;
    reload(ctx);
    Ok(done)
}

/// A user's roles and permissions in one tenant.
#[derive(Debug, Serialize)]
pub struct TenantAccess {
    pub tenant: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

/// Everything a user may do, tenant by tenant.
#[derive(Debug, Serialize)]
pub struct UserAccess {
    pub user_id: String,
    pub username: String,
    pub policy_version: i64,
    pub tenants: Vec<TenantAccess>,
}

/// A user's roles and permissions per tenant, from the current policy.
pub fn show(ctx: &AppContext, actor: &str, user: &str) -> Result<UserAccess, ManageError> {
    let refusal = || event(ctx, actor, "policy.view").detail("query", user);
    audited(ctx, refusal, || {
        let found = super::users::find(ctx, user)?;
        // Answer from the database's policy, not from a snapshot a poll behind.
        ctx.authz.reload_if_changed(&ctx.db)?;
        let engine = ctx.authz.current();
        let id = found.id.as_str();
        let tenants = access_by_tenant(&engine, id);
        ctx.db
            .record_audit(&event(ctx, actor, "policy.view").subject(id))?;
        Ok(UserAccess {
            user_id: id.to_string(),
            username: found.username.to_string(),
            policy_version: engine.version(),
            tenants,
        })
    })
}

/// Everything a client may do on its own behalf, tenant by tenant.
#[derive(Debug, Serialize)]
pub struct ClientAccess {
    pub client_id: ClientId,
    /// Its subject in the policy, `client:<client_id>`.
    pub subject: String,
    pub policy_version: i64,
    pub tenants: Vec<TenantAccess>,
}

/// A registered client's roles and permissions per tenant (`g,
/// client:<client_id>, role, tenant`), from the current policy.
pub fn show_client(
    ctx: &AppContext,
    actor: &str,
    client_id: &str,
) -> Result<ClientAccess, ManageError> {
    let refusal = || event(ctx, actor, "policy.view").detail("client_id", client_id);
    audited(ctx, refusal, || {
        let client = registered(ctx, client_id)?;
        ctx.authz.reload_if_changed(&ctx.db)?;
        let engine = ctx.authz.current();
        let subject = authz::client_subject(&client.id);
        let tenants = access_by_tenant(&engine, &subject);
        ctx.db.record_audit(
            &event(ctx, actor, "policy.view")
                .client(&client.id)
                .detail("client_id", client.id.as_str()),
        )?;
        Ok(ClientAccess {
            client_id: client.id,
            subject,
            policy_version: engine.version(),
            tenants,
        })
    })
}

/// The registered client `client_id` names; an id no client could have
/// names none.
fn registered(ctx: &AppContext, client_id: &str) -> Result<Client, ManageError> {
    ClientId::exact(client_id)
        .map(|id| crate::store::ClientStore::client(&ctx.db, &id))
        .transpose()?
        .flatten()
        .ok_or_else(|| ManageError::NotFound(format!("no client `{client_id}`")))
}

/// `subject`'s roles and permissions in each tenant where it holds a role.
pub(crate) fn access_by_tenant(
    engine: &authz::engine::PolicyEngine,
    subject: &str,
) -> Vec<TenantAccess> {
    engine
        .tenants(subject)
        .into_iter()
        .map(|tenant| TenantAccess {
            roles: engine.roles(subject, &tenant),
            permissions: engine.permissions(subject, &tenant),
            tenant,
        })
        .collect()
}

/// Write the seed policy (policies/policy.csv) if the policy was never written,
/// with its audit record; true if this call seeded it. Safe when several nodes
/// start together: one seeds, the others find the version moved.
pub fn seed_if_empty(db: &impl PolicyStore, actor: &str, now: i64) -> Result<bool, ManageError> {
    // The common case, every start after the first, costs one read.
    if db.policy_version()? != 0 {
        return Ok(false);
    }
    let seed = rules::parse_csv(authz::SEED_POLICY)?;
    let rows: Vec<_> = seed.iter().map(authz::to_row).collect();
    let record = |version: i64| {
        AuditEvent::new(now, actor, "policy.seed", Outcome::Success)
            .detail("permissions", rows.len() as i64)
            .detail("version", version)
    };
    Ok(db.seed_policy(&rows, now, record)?)
}
