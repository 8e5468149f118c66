//! A person's data as one JSON document (GDPR Art. 15 right of access and
//! Art. 20 portability; HIPAA 45 CFR 164.524): the profile, roles per
//! tenant, factors (metadata only), sessions, consent records, the
//! accounting of disclosures and the audit records about the person. The
//! one assembly behind `ward user export`, `GET /admin/api/users/{id}/export`
//! and "Download my data" on `/account` (docs/privacy.md, "Export").
//!
//! Never in it: the password hash, the TOTP secret, recovery codes (hashed
//! or not), a passkey's stored key material, session cookies or their
//! hashes, or any key. Every export is audited (`user.exported`), in the
//! transaction of its last read.

use serde::Serialize;
use serde_json::{Value, json};

use super::{ManageError, audited, disclosures, policy, sessions, users};
use crate::audit::{AuditEvent, AuditRecord, Outcome};
use crate::clock::to_rfc3339;
use crate::context::AppContext;
use crate::domain::records::User;
use crate::store::{
    AuditLogStore, ConsentAdminStore, FactorStore, PasskeyStore, SessionAdminStore, SessionRow,
};

/// Who asked for an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester<'a> {
    /// An administrator (`cli:…` or the admin API's `user:…`).
    Admin(&'a str),
    /// The person, on `/account`, after a fresh sign-in.
    SelfService,
}

/// The export of `ident` for an administrator: NotFound for an unknown user
/// (audited as a refusal).
pub fn export(ctx: &AppContext, actor: &str, ident: &str) -> Result<Value, ManageError> {
    let refusal = || {
        AuditEvent::new(ctx.clock.now_ms(), actor, "user.exported", Outcome::Success)
            .detail("query", ident)
            .detail("self_service", false)
    };
    audited(ctx, refusal, || {
        let user = users::find(ctx, ident)?;
        document(ctx, &user, Requester::Admin(actor))
    })
}

/// The person's own export ("Download my data"); the caller checked that
/// the sign-in is fresh.
pub fn export_own(ctx: &AppContext, user: &User) -> Result<Value, ManageError> {
    document(ctx, user, Requester::SelfService)
}

/// A factor, by its metadata.
#[derive(Debug, Serialize)]
struct Factor {
    kind: &'static str,
    name: Option<String>,
    created_at: Option<i64>,
    last_used_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<Value>,
}

fn factors(ctx: &AppContext, user: &User) -> Result<Vec<Factor>, ManageError> {
    let uid = user.id.as_str();
    let enrolled = ctx.db.enrolled(&user.id)?;
    let mut out = Vec::new();
    if enrolled.password {
        out.push(Factor {
            kind: "password",
            name: None,
            created_at: None,
            last_used_at: None,
            detail: None,
        });
    }
    if let Some(t) = ctx.db.totp(uid)?.filter(|t| t.confirmed_at.is_some()) {
        out.push(Factor {
            kind: "totp",
            name: Some("Authenticator app".into()),
            created_at: t.confirmed_at.or(Some(t.created_at)),
            last_used_at: None,
            detail: None,
        });
    }
    for p in ctx.db.passkeys(uid)? {
        out.push(Factor {
            kind: "passkey",
            name: Some(p.name),
            created_at: Some(p.created_at),
            last_used_at: p.last_used_at,
            detail: Some(json!({
                "credential_id": p.credential_id,
                "aaguid": p.aaguid,
                "backup_eligible": p.backup_eligible,
                "backed_up": p.backup_state,
            })),
        });
    }
    if enrolled.recovery_codes > 0 {
        out.push(Factor {
            kind: "recovery_codes",
            name: None,
            created_at: None,
            last_used_at: None,
            detail: Some(json!({ "unused": enrolled.recovery_codes })),
        });
    }
    Ok(out)
}

/// Every audit record about the person, oldest first.
fn audit_records(ctx: &AppContext, user: &User) -> Result<Vec<AuditRecord>, ManageError> {
    const PAGE: i64 = 1_000;
    let mut out: Vec<AuditRecord> = Vec::new();
    loop {
        let after = out.last().map(|r| r.id).or(Some(0));
        let mut page = ctx
            .db
            .audit_query(None, Some(user.id.as_str()), after, PAGE)?;
        // Records about a person are sealed under their data key once chained.
        super::audit_log::open_records(ctx, &mut page)?;
        let done = (page.len() as i64) < PAGE;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

fn audit_json(r: AuditRecord) -> Value {
    json!({
        "id": r.id,
        "recorded_at": r.recorded_at,
        "actor": r.actor,
        "subject_user": r.subject_user,
        "client_id": r.client_id,
        "ip": r.ip,
        "user_agent": r.user_agent,
        "event_type": r.event_type,
        "outcome": r.outcome,
        "reason": r.reason,
        "details": serde_json::from_str::<Value>(&r.details).unwrap_or(Value::Null),
    })
}

/// Assemble the document; the last read (the sessions) writes the
/// `user.exported` record in its transaction.
pub fn document(ctx: &AppContext, user: &User, who: Requester) -> Result<Value, ManageError> {
    let uid = user.id.as_str();
    ctx.authz.reload_if_changed(&ctx.db)?;
    let roles = policy::access_by_tenant(&ctx.authz.current(), uid);
    let factors = factors(ctx, user)?;
    let now = ctx.clock.now_ms();
    let (actor, self_service) = match who {
        Requester::Admin(a) => (a.to_string(), false),
        Requester::SelfService => (format!("user:{uid}"), true),
    };
    // Reading the consent history is recorded as such, as everywhere.
    let read = AuditEvent::new(now, actor.as_str(), "consent.list", Outcome::Success)
        .subject(uid)
        .detail("history", true)
        .detail("for", "export");
    let consents = ctx.db.user_consents(uid, true, &read)?;
    let disclosures = disclosures::all_of(ctx, user)?;
    let audit = audit_records(ctx, user)?;
    let counts = (consents.len(), disclosures.len(), audit.len());
    let record = |rows: &[SessionRow]| {
        AuditEvent::new(now, actor.as_str(), "user.exported", Outcome::Success)
            .subject(uid)
            .detail("self_service", self_service)
            .detail("sessions", rows.len())
            .detail("consents", counts.0)
            .detail("disclosures", counts.1)
            .detail("audit_records", counts.2)
    };
    let rows = ctx.db.user_sessions(uid, None, 10_000, record)?;
    let sessions: Vec<_> = rows.iter().map(|r| sessions::info(ctx, r)).collect();
    Ok(json!({
        "format": "ward-export/1",
        "exported_at": to_rfc3339(now),
        "issuer": ctx.config.issuer,
        "profile": user,
        "roles": roles,
        "factors": factors,
        "sessions": sessions,
        "consents": consents,
        "disclosures": disclosures,
        "audit_records": audit.into_iter().map(audit_json).collect::<Vec<_>>(),
    }))
}
