//! Consent records for administrators (CLI and admin API) and for the person
//! on `/account/apps`: list them, withdraw one (docs/privacy.md). A
//! withdrawal marks the record, revokes the client's grants and codes for the
//! user, queues back-channel logout notices and writes its audit record in
//! one transaction (`ConsentAdminStore::withdraw_consent`); the next
//! authorization asks again.

use crate::audit::{AuditEvent, Outcome};
use crate::clock::to_rfc3339;
use crate::context::AppContext;
use crate::domain::ClientId;
use crate::domain::consent::{ConsentRecord, ConsentWithdrawn};
use crate::domain::records::User;
use crate::store::consents::{WithdrawOutcome, Withdrawal};
use crate::store::{ClientStore, ConsentAdminStore};

use super::{ManageError, audited, users};

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

/// A user's consents (the latest version per client, or every version with
/// `history`), and the user they belong to. Audited as `consent.list`.
pub fn list(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    history: bool,
) -> Result<(User, Vec<ConsentRecord>), ManageError> {
    let refusal = || event(ctx, actor, "consent.list").detail("query", ident);
    audited(ctx, refusal, || {
        let user = users::find(ctx, ident)?;
        let record = event(ctx, actor, "consent.list")
            .subject(user.id.as_str())
            .detail("history", history);
        let list = ctx.db.user_consents(user.id.as_str(), history, &record)?;
        Ok((user, list))
    })
}

/// An app the person has a live consent for, with its display name.
#[derive(Debug, Clone)]
pub struct ConnectedApp {
    pub consent: ConsentRecord,
    /// The client's name (its id if it was removed since).
    pub name: String,
}

/// The person's own live consents, for "Connected apps", by app name.
pub fn own(ctx: &AppContext, user: &User) -> Result<Vec<ConnectedApp>, ManageError> {
    let actor = format!("user:{}", user.id);
    let record = event(ctx, &actor, "consent.list").subject(user.id.as_str());
    let list = ctx.db.user_consents(user.id.as_str(), false, &record)?;
    let mut apps = Vec::new();
    for consent in list.into_iter().filter(ConsentRecord::is_live) {
        let name = ctx
            .db
            .client(&consent.client_id)?
            .map_or_else(|| consent.client_id.to_string(), |c| c.name);
        apps.push(ConnectedApp { consent, name });
    }
    apps.sort_by_key(|a| a.name.to_lowercase());
    Ok(apps)
}

/// Withdraw `ident`'s consent for `client_id` (an administrator, `how` says
/// through what). NotFound without a consent, Conflict when it was already
/// withdrawn; both audited as refusals.
pub fn withdraw(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    client_id: &str,
    how: ConsentWithdrawn,
) -> Result<Withdrawal, ManageError> {
    let refusal = || {
        event(ctx, actor, "consent.withdraw")
            .detail("query", ident)
            .detail("client_id", client_id)
    };
    audited(ctx, refusal, || {
        let user = users::find(ctx, ident)?;
        withdraw_for(ctx, actor, &user, client_id, how, None)
    })
}

/// The person withdraws their own consent on `/account/apps`.
pub fn withdraw_own(
    ctx: &AppContext,
    user: &User,
    client_id: &str,
    ip: Option<String>,
) -> Result<Withdrawal, ManageError> {
    let actor = format!("user:{}", user.id);
    let refusal = || {
        let mut e = event(ctx, &actor, "consent.withdraw")
            .subject(user.id.as_str())
            .detail("client_id", client_id);
        e.ip = ip.clone();
        e
    };
    audited(ctx, refusal, || {
        withdraw_for(
            ctx,
            &actor,
            user,
            client_id,
            ConsentWithdrawn::Account,
            ip.clone(),
        )
    })
}

fn withdraw_for(
    ctx: &AppContext,
    actor: &str,
    user: &User,
    client_id: &str,
    how: ConsentWithdrawn,
    ip: Option<String>,
) -> Result<Withdrawal, ManageError> {
    let uid = user.id.as_str();
    // An id no client could have has no consent either.
    let no_consent = || {
        ManageError::NotFound(format!(
            "{} has no consent for `{client_id}`",
            user.username
        ))
    };
    let client_id = &ClientId::exact(client_id).ok_or_else(no_consent)?;
    let record = |w: &Withdrawal| {
        let mut e = event(ctx, actor, "consent.withdraw")
            .subject(uid)
            .client(client_id)
            .detail("consent", w.record.id.as_str())
            .detail("version", w.record.version)
            .detail("withdrawn_by", how.as_str())
            .detail("grants_revoked", w.grants_revoked)
            .detail("codes_revoked", w.codes_revoked)
            .detail("logouts_queued", w.logouts_queued);
        e.ip = ip.clone();
        e
    };
    let now = ctx.clock.now_ms();
    match ctx
        .db
        .withdraw_consent(uid, client_id.as_str(), how, now, record)?
    {
        WithdrawOutcome::Withdrawn(w) => Ok(w),
        WithdrawOutcome::NoConsent => Err(no_consent()),
        WithdrawOutcome::AlreadyWithdrawn(r) => Err(ManageError::Conflict(format!(
            "the consent of {} for `{client_id}` was already withdrawn{}",
            user.username,
            r.withdrawn_at
                .map(|at| format!(" at {}", to_rfc3339(at)))
                .unwrap_or_default()
        ))),
    }
}
