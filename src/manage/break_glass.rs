//! Break-glass emergency access: elevate (the user, from the account page),
//! list and sign off (auditors, through the admin API). Each change and each
//! refusal is audited; auditors are mailed of every elevation.

use crate::audit::{AuditEvent, Outcome};
use crate::authz::emergency::{self, ELEVATE};
use crate::clock::{Millis, to_rfc3339};
use crate::context::AppContext;
use crate::domain::Acr;
use crate::domain::records::User;
use crate::store::ElevationStore;
use crate::store::elevations::Elevation;

use super::{ManageError, audited};

/// The signed-in user asking, with their session's proof.
pub struct Elevator<'a> {
    pub user: &'a User,
    pub acr: Acr,
    pub auth_time: Millis,
    pub ip: Option<String>,
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

/// Elevate `who` to the emergency role of `tenant` for the configured time,
/// after a fresh strong sign-in and with a written reason.
pub fn elevate(
    ctx: &AppContext,
    who: &Elevator<'_>,
    tenant: &str,
    reason: &str,
) -> Result<Elevation, ManageError> {
    let actor = format!("user:{}", who.user.id);
    let refusal = || {
        let mut e = event(ctx, &actor, "break_glass.elevated")
            .subject(who.user.id.as_str())
            .detail("tenant", tenant);
        e.ip = who.ip.clone();
        e
    };
    audited(ctx, refusal, || {
        let now = ctx.clock.now_ms();
        let uid = who.user.id.as_str();
        let request = emergency::Request {
            permitted: ctx.authz.allowed(uid, tenant, ELEVATE.0, ELEVATE.1),
            acr: who.acr,
            auth_time: who.auth_time,
            now,
            max_auth_age_ms: i64::from(ctx.config.break_glass.max_auth_age_seconds) * 1000,
            reason,
        };
        let reason = emergency::check(&request).map_err(|r| ManageError::Refused(r.to_string()))?;
        let elevation = Elevation {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: uid.to_string(),
            tenant: tenant.to_string(),
            reason,
            started_at: now,
            expires_at: now + i64::from(ctx.config.break_glass.seconds) * 1000,
            reviewed_by: None,
            reviewed_at: None,
            review_note: None,
        };
        // Its own event type, with the reason: the trail is where reviewers look first.
        let mut e = refusal()
            .detail("id", elevation.id.as_str())
            .detail("reason", elevation.reason.as_str())
            .detail("expires_at", elevation.expires_at);
        e.ip = who.ip.clone();
        ctx.db.start_elevation(&elevation, &e)?;
        notify_auditors(ctx, who.user, &elevation);
        Ok(elevation)
    })
}

/// Mail every configured auditor, in the background when there is a runtime.
fn notify_auditors(ctx: &AppContext, user: &User, e: &Elevation) {
    for to in &ctx.config.break_glass.notify {
        let vars = serde_json::json!({
            "name": "auditor",
            "user": user.username,
            "tenant": e.tenant,
            "when": to_rfc3339(e.started_at),
            "reason": e.reason,
            "expires": to_rfc3339(e.expires_at),
            "id": e.id,
        });
        let (mailer, to) = (ctx.mailer.clone(), to.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Err(e) = mailer.send_async(to, "break_glass_elevated", vars).await {
                        tracing::warn!(error = %e, "break-glass notification not sent");
                    }
                });
            }
            Err(_) => {
                if let Err(e) = mailer.send(&to, "break_glass_elevated", vars) {
                    tracing::warn!(error = %e, "break-glass notification not sent");
                }
            }
        }
    }
}

/// The review list: elevations newest first (only those not signed off when `pending`).
pub fn list(
    ctx: &AppContext,
    actor: &str,
    pending: bool,
    limit: i64,
) -> Result<Vec<Elevation>, ManageError> {
    let limit = limit.clamp(1, 500);
    let read = event(ctx, actor, "break_glass.list").detail("pending_only", pending);
    Ok(ctx.db.elevations(pending, limit, &read)?)
}

/// An auditor signs an elevation off; it leaves the review list.
pub fn sign_off(
    ctx: &AppContext,
    actor: &str,
    reviewer_id: &str,
    id: &str,
    note: &str,
) -> Result<Elevation, ManageError> {
    let refusal = || event(ctx, actor, "break_glass.reviewed").detail("id", id);
    audited(ctx, refusal, || {
        let note = note.trim();
        if note.chars().count() > 1000 {
            return Err(ManageError::Refused(
                "The review note has at most 1000 characters.".into(),
            ));
        }
        if note
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ManageError::Refused(
                "The review note may not contain control characters.".into(),
            ));
        }
        // Who used an elevation never changes: checked before the change,
        // which itself happens only once (`review_elevation`).
        let Some(found) = ctx.db.elevation(id)? else {
            return Err(ManageError::NotFound(format!(
                "no break-glass elevation `{id}`"
            )));
        };
        if found.user_id == reviewer_id {
            return Err(ManageError::Refused(
                "An elevation is reviewed by someone else than the person who used it.".into(),
            ));
        }
        let record = event(ctx, actor, "break_glass.reviewed")
            .subject(found.user_id.as_str())
            .detail("id", id)
            .detail("note", note);
        ctx.db
            .review_elevation(id, reviewer_id, note, ctx.clock.now_ms(), &record)?
            .ok_or_else(|| ManageError::Conflict(format!("elevation `{id}` was already reviewed")))
    })
}
