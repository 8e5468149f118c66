//! Erasure by crypto-shredding and legal holds (docs/privacy.md).
//!
//! `ward user erase` erases at once (the CLI runs on the host with the
//! database's credentials and the master key, which already give
//! everything); through the admin API an erasure is a request that a second
//! administrator approves (`manage::approvals`), and the approval and the
//! erasure are one transaction. Either way the erasure itself is one
//! transaction: an interrupted one (kill -9) either committed or left the
//! person untouched.

use serde::Serialize;
use serde_json::json;

use super::{ManageError, audited};
use crate::audit::{AuditEvent, Outcome};
use crate::authz::WARD_TENANT;
use crate::clock::Millis;
use crate::context::AppContext;
use crate::store::approvals::Approval;
use crate::store::erasure::{EraseRefused, Erased, Erasure, LegalHold};
use crate::store::{ApprovalStore, ErasureStore};

pub use super::approvals::APPROVAL_LIFETIME_MS;

/// The kind of an approval request for an erasure.
pub const USER_ERASE: &str = "user.erase";
/// The longest reason kept (it is stored and audited).
const MAX_REASON: usize = 500;

/// What an erasure did.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureDone {
    pub user_id: String,
    pub erased_at: Millis,
    #[serde(flatten)]
    pub erased: Erased,
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

/// The record of a refused operation on `ident`: about the user when there
/// is one (so it is sealed under their key, and erased with them), never
/// naming them in clear.
fn refusal_about(ctx: &AppContext, actor: &str, kind: &str, ident: &str) -> AuditEvent {
    let e = event(ctx, actor, kind);
    match super::users::find(ctx, ident) {
        Ok(u) => e.subject(u.id.as_str()),
        Err(_) => e.detail("query", ident),
    }
}

fn reason(text: &str) -> Result<String, ManageError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > MAX_REASON || t.chars().any(char::is_control) {
        return Err(crate::domain::InvalidValue::new(
            "reason",
            format!("must be 1 to {MAX_REASON} characters on one line"),
        )
        .into());
    }
    Ok(t.to_string())
}

fn on_hold(h: &LegalHold) -> ManageError {
    ManageError::Conflict(format!(
        "the user is under a legal hold (placed by {}: {}); release it first",
        h.placed_by, h.reason
    ))
}

fn refused(why: EraseRefused, ident: &str) -> ManageError {
    match why {
        EraseRefused::NoUser => ManageError::NotFound(format!("no user `{ident}`")),
        EraseRefused::OnHold(h) => on_hold(&h),
        EraseRefused::LastAdmin => ManageError::Conflict(
            "the user is the last holder of `ward-admin`: grant it to someone else first".into(),
        ),
        EraseRefused::NotOpen => {
            ManageError::Conflict("the erasure request was already decided or has expired".into())
        }
    }
}

/// The `user.erased` record: about nobody (its subject is erased with the
/// person), so the id is in its details, and no name or email.
fn erased_record(ctx: &AppContext, actor: &str, user_id: &str, reason: &str) -> AuditEvent {
    event(ctx, actor, "user.erased")
        .detail("erased_user", user_id)
        .detail("reason", reason)
}

fn run(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    reason: &str,
    approval: Option<(&Approval, &AuditEvent)>,
) -> Result<ErasureDone, ManageError> {
    let user = super::users::find(ctx, ident)?;
    let now = ctx.clock.now_ms();
    let mut record = erased_record(ctx, actor, user.id.as_str(), reason);
    if let Some((a, _)) = approval {
        record = record
            .detail("approval", a.id.as_str())
            .detail("requested_by", a.requested_by.as_str());
    }
    let erasure = Erasure {
        user_id: &user.id,
        username: user.username.as_str(),
        now,
        erased_by: approval.map_or(actor, |(a, _)| a.requested_by.as_str()),
        approval: approval.map(|(a, _)| (a.id.as_str(), actor)),
        reason,
        guarded_role: (super::approvals::DUAL_CONTROL_ROLE, WARD_TENANT),
    };
    let erased = ctx
        .db
        .erase_user(&erasure, &record, approval.map(|(_, e)| e))?
        .map_err(|why| refused(why, ident))?;
    // The erased rows are gone from the database; fold the write-ahead log in
    // so that their bytes are gone from its files too.
    if let Err(e) = ctx.db.checkpoint() {
        tracing::warn!(error = %e, "checkpointing after an erasure failed");
    }
    super::policy::reload(ctx);
    Ok(ErasureDone {
        user_id: user.id.to_string(),
        erased_at: now,
        erased,
    })
}

/// Erase a person now (`ward user erase`).
pub fn erase(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    why: &str,
) -> Result<ErasureDone, ManageError> {
    let refusal = || refusal_about(ctx, actor, "user.erased", ident);
    audited(ctx, refusal, || {
        let why = reason(why)?;
        run(ctx, actor, ident, &why, None)
    })
}

/// Ask for an erasure (the admin API): a request a second administrator
/// approves. Refused at once when it could not be carried out now.
pub fn request(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    why: &str,
) -> Result<Approval, ManageError> {
    let refusal =
        || refusal_about(ctx, actor, "approval.requested", ident).detail("kind", USER_ERASE);
    audited(ctx, refusal, || {
        let why = reason(why)?;
        let user = super::users::find(ctx, ident)?;
        let uid = user.id.to_string();
        if let Some(h) = ctx.db.legal_hold(&uid)? {
            return Err(on_hold(&h));
        }
        let now = ctx.clock.now_ms();
        let approval = Approval {
            id: uuid::Uuid::new_v4().to_string(),
            kind: USER_ERASE.into(),
            subject: uid.clone(),
            details: json!({ "reason": why }),
            requested_by: actor.to_string(),
            requested_at: now,
            expires_at: now + APPROVAL_LIFETIME_MS,
            decided_by: None,
            decided_at: None,
            decision: None,
        };
        let record = event(ctx, actor, "approval.requested")
            .detail("erased_user", uid.as_str())
            .detail("id", approval.id.as_str())
            .detail("kind", USER_ERASE);
        ctx.db.request_approval(&approval, &record)?;
        Ok(approval)
    })
}

/// A second administrator approved an erasure request: erase now, the
/// approval's decision in the same transaction.
pub(super) fn approve(
    ctx: &AppContext,
    actor: &str,
    a: &Approval,
) -> Result<ErasureDone, ManageError> {
    let why = a.details["reason"].as_str().unwrap_or_default().to_string();
    let approved = event(ctx, actor, "approval.approved")
        .detail("erased_user", a.subject.as_str())
        .detail("id", a.id.as_str())
        .detail("kind", USER_ERASE)
        .detail("requested_by", a.requested_by.as_str());
    run(ctx, actor, &a.subject, &why, Some((a, &approved)))
}

/// Place a legal hold (`ward user hold`): erasure is refused until released.
pub fn hold(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    why: &str,
) -> Result<LegalHold, ManageError> {
    let refusal = || refusal_about(ctx, actor, "legal_hold.placed", ident);
    audited(ctx, refusal, || {
        let why = reason(why)?;
        let user = super::users::find(ctx, ident)?;
        let h = LegalHold {
            user_id: user.id.to_string(),
            reason: why.clone(),
            placed_by: actor.to_string(),
            placed_at: ctx.clock.now_ms(),
        };
        let record = event(ctx, actor, "legal_hold.placed")
            .subject(user.id.as_str())
            .detail("reason", why.as_str());
        if !ctx.db.place_hold(&h, &record)? {
            return Err(ManageError::Conflict(
                "the user is already under a legal hold".into(),
            ));
        }
        Ok(h)
    })
}

/// Release a legal hold (`ward user release-hold`).
pub fn release(ctx: &AppContext, actor: &str, ident: &str) -> Result<String, ManageError> {
    let refusal = || refusal_about(ctx, actor, "legal_hold.released", ident);
    audited(ctx, refusal, || {
        let user = super::users::find(ctx, ident)?;
        let record = event(ctx, actor, "legal_hold.released").subject(user.id.as_str());
        if !ctx.db.release_hold(user.id.as_str(), &record)? {
            return Err(ManageError::Conflict(
                "the user is not under a legal hold".into(),
            ));
        }
        Ok(user.id.to_string())
    })
}
