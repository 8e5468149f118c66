//! Dual control: the changes one administrator may not make alone.
//!
//! Granting `ward-admin` in the `ward` tenant through the admin API (or the
//! console) only records a request; a second administrator approves it, and
//! the approval and the grant are one transaction. The requester may withdraw
//! (reject) their own request but never approve it. The CLI is not under dual
//! control: it runs on the host with the database's credentials and the master
//! key, which already give everything (docs/admin-api.md "Dual control").

use serde_json::json;

use super::erasure::ErasureDone;
use super::policy::{self, Assigning, Assignment};
use super::{ManageError, audited};
use crate::audit::{AuditEvent, Outcome};
use crate::authz::WARD_TENANT;
use crate::clock::Millis;
use crate::context::AppContext;
use crate::store::ApprovalStore;
use crate::store::approvals::{Approval, ApproveRefused};

/// The role whose grant needs a second administrator.
pub const DUAL_CONTROL_ROLE: &str = "ward-admin";
/// How long a request waits for its second administrator.
pub const APPROVAL_LIFETIME_MS: Millis = 24 * 3600 * 1000;
const ROLE_GRANT: &str = "role.grant";

/// Does granting `role` in `tenant` need a second administrator?
pub fn needs_second_admin(role: &str, tenant: &str) -> bool {
    tenant == WARD_TENANT && role == DUAL_CONTROL_ROLE
}

/// What an administrator's grant did: made at once, or waiting for approval.
#[derive(Debug)]
pub enum GrantOutcome {
    Granted(Assignment),
    Pending(Approval),
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

/// An administrator grants a role: at once, or, under dual control, as a
/// request that a second administrator approves.
pub fn grant_role(
    ctx: &AppContext,
    actor: &str,
    user: &str,
    role: &str,
    tenant: &str,
) -> Result<GrantOutcome, ManageError> {
    if !needs_second_admin(role, tenant) {
        return policy::grant(ctx, actor, user, role, tenant).map(GrantOutcome::Granted);
    }
    let refusal = || {
        event(ctx, actor, "approval.requested")
            .detail("kind", ROLE_GRANT)
            .detail("query", user)
    };
    audited(ctx, refusal, || {
        let found = super::users::find(ctx, user)?;
        let uid = found.id.to_string();
        if ctx.authz.roles(&uid, tenant).iter().any(|r| r == role) {
            return Err(ManageError::Conflict(format!(
                "the user already has role `{role}` in `{tenant}`"
            )));
        }
        let now = ctx.clock.now_ms();
        let approval = Approval {
            id: uuid::Uuid::new_v4().to_string(),
            kind: ROLE_GRANT.into(),
            subject: uid.clone(),
            details: json!({ "role": role, "tenant": tenant }),
            requested_by: actor.to_string(),
            requested_at: now,
            expires_at: now + APPROVAL_LIFETIME_MS,
            decided_by: None,
            decided_at: None,
            decision: None,
        };
        let record = event(ctx, actor, "approval.requested")
            .subject(uid.as_str())
            .detail("id", approval.id.as_str())
            .detail("kind", ROLE_GRANT)
            .detail("role", role)
            .detail("tenant", tenant);
        ctx.db.request_approval(&approval, &record)?;
        Ok(GrantOutcome::Pending(approval))
    })
}

/// Requests, newest first; only the open ones when `open_only`.
pub fn list(ctx: &AppContext, open_only: bool) -> Result<Vec<Approval>, ManageError> {
    let open_at = open_only.then(|| ctx.clock.now_ms());
    Ok(ctx.db.approvals(open_at, 200)?)
}

/// An open request of another administrator, or why it cannot be decided.
fn open_request(ctx: &AppContext, id: &str) -> Result<Approval, ManageError> {
    let found = ctx
        .db
        .approval(id)?
        .ok_or_else(|| ManageError::NotFound(format!("no approval request `{id}`")))?;
    if !found.is_open(ctx.clock.now_ms()) {
        return Err(ManageError::Conflict(format!(
            "approval request `{id}` was already decided or has expired"
        )));
    }
    Ok(found)
}

/// What an approval made.
#[derive(Debug)]
pub enum Approved {
    Grant(Assignment),
    Erasure(ErasureDone),
}

/// A second administrator approves a role grant: the grant is made now.
/// (Erasure requests are approved through [`approve_request`].)
pub fn approve(ctx: &AppContext, actor: &str, id: &str) -> Result<Assignment, ManageError> {
    if let Some(a) = ctx.db.approval(id)?
        && a.kind != ROLE_GRANT
    {
        return Err(ManageError::Conflict(format!(
            "approval request `{id}` is not a role grant"
        )));
    }
    match approve_request(ctx, actor, id)? {
        Approved::Grant(a) => Ok(a),
        Approved::Erasure(_) => Err(ManageError::Internal(
            "an erasure was approved where a role grant was expected".into(),
        )),
    }
}

/// A second administrator approves any request: the change is made now,
/// with the approval, in one transaction.
pub fn approve_request(ctx: &AppContext, actor: &str, id: &str) -> Result<Approved, ManageError> {
    let refusal = || event(ctx, actor, "approval.approved").detail("id", id);
    let done = audited(ctx, refusal, || {
        let found = open_request(ctx, id)?;
        if found.requested_by == actor {
            return Err(ManageError::Refused(
                "A second administrator must approve this: you asked for it.".into(),
            ));
        }
        match found.kind.as_str() {
            ROLE_GRANT => approve_grant(ctx, actor, &found).map(Approved::Grant),
            super::erasure::USER_ERASE => {
                super::erasure::approve(ctx, actor, &found).map(Approved::Erasure)
            }
            other => Err(ManageError::Internal(format!(
                "approval kind `{other}` is unknown"
            ))),
        }
    })?;
    policy::reload(ctx);
    Ok(done)
}

fn approve_grant(ctx: &AppContext, actor: &str, a: &Approval) -> Result<Assignment, ManageError> {
    let text = |k: &str| a.details[k].as_str().unwrap_or_default().to_string();
    let (role, tenant) = (text("role"), text("tenant"));
    let granted = event(ctx, actor, "policy.grant")
        .detail("approval", a.id.as_str())
        .detail("requested_by", a.requested_by.as_str());
    let assigning = Assigning::new(granted, &a.subject, &role, &tenant);
    let approved = event(ctx, actor, "approval.approved")
        .subject(a.subject.as_str())
        .detail("id", a.id.as_str())
        .detail("kind", ROLE_GRANT)
        .detail("requested_by", a.requested_by.as_str());
    let version = ctx
        .db
        .approve_role_grant(
            &a.id,
            actor,
            &assigning.grant(ctx.clock.now_ms()),
            &approved,
        )?
        .map_err(|why| match why {
            ApproveRefused::NotOpen => ManageError::Conflict(format!(
                "approval request `{}` was already decided or has expired",
                a.id
            )),
            ApproveRefused::Grant(g) => assigning.refused(g),
        })?;
    Ok(Assignment {
        user_id: a.subject.clone(),
        username: None,
        role: role.clone(),
        tenant: tenant.clone(),
        version,
    })
}

/// Reject an open request (its requester may withdraw it).
pub fn reject(ctx: &AppContext, actor: &str, id: &str) -> Result<Approval, ManageError> {
    let refusal = || event(ctx, actor, "approval.rejected").detail("id", id);
    audited(ctx, refusal, || {
        let found = open_request(ctx, id)?;
        let record = event(ctx, actor, "approval.rejected")
            .subject(found.subject.as_str())
            .detail("id", id)
            .detail("kind", found.kind.as_str());
        let now = ctx.clock.now_ms();
        if !ctx.db.reject_approval(id, actor, now, &record)? {
            return Err(ManageError::Conflict(format!(
                "approval request `{id}` was already decided or has expired"
            )));
        }
        Ok(Approval {
            decided_by: Some(actor.to_string()),
            decided_at: Some(now),
            decision: Some("rejected".into()),
            ..found
        })
    })
}
