//! Reads for the admin console (docs/admin-console.md): a user search and a
//! filtered, paged audit view, built on the same store reads as
//! `users::list` and `audit_log::query`, and recorded the same way.

use crate::audit::AuditRecord;
use crate::context::AppContext;
use crate::domain::records::User;
use crate::store::AuditLogStore;

use super::ManageError;

/// How many accounts a search looks through (in username order).
const USER_SCAN: i64 = 10_000;
/// How many audit records one console page looks through at most.
const AUDIT_SCAN: i64 = 10_000;
const AUDIT_PAGE: i64 = 1_000;

/// Users whose username or email address starts with `prefix` (any case), in
/// username order, at most `limit`; every user when `prefix` is empty. The
/// read is recorded as `user.list`, as the admin API's list is.
pub fn users(
    ctx: &AppContext,
    actor: &str,
    prefix: &str,
    limit: usize,
) -> Result<Vec<User>, ManageError> {
    let prefix = prefix.trim().to_lowercase();
    let all = super::users::list(ctx, actor, None, USER_SCAN)?;
    Ok(all
        .into_iter()
        .filter(|u| {
            u.username.as_str().to_lowercase().starts_with(&prefix)
                || u.email
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().starts_with(&prefix))
        })
        .take(limit)
        .collect())
}

/// What the console's audit page filters on. Each is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub event_type: Option<String>,
    /// A user id: the records about that user.
    pub subject: Option<String>,
    pub client_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// Unix ms, inclusive.
    pub from: Option<i64>,
    /// Unix ms, exclusive.
    pub to: Option<i64>,
    /// Records after this id, oldest first.
    pub after_id: i64,
    pub limit: usize,
}

/// One page of the audit view: the records, and where the next page starts
/// (None: nothing further).
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    pub next_after: Option<i64>,
    /// The latest `audit.verify` record: when the chain was last checked, and how.
    pub last_verify: Option<AuditRecord>,
}

fn check_outcome(o: &str) -> Result<(), ManageError> {
    match o {
        "success" | "failure" => Ok(()),
        _ => Err(crate::domain::InvalidValue::new("outcome", "is `success` or `failure`").into()),
    }
}

fn matches(f: &AuditFilter, r: &AuditRecord) -> bool {
    f.client_id
        .as_deref()
        .is_none_or(|c| r.client_id.as_deref() == Some(c))
        && f.outcome.as_deref().is_none_or(|o| r.outcome == o)
        && f.from.is_none_or(|t| r.recorded_at >= t)
        && f.to.is_none_or(|t| r.recorded_at < t)
}

/// Filtered records after `after_id`, oldest first. The event type and user
/// go to the database (through `audit_log::query`'s checks); client, outcome
/// and time are applied while paging, looking through at most 10,000
/// records per call: `next_after` then says where to go on. The read is
/// recorded as `audit.read` with the filters.
pub fn audit(ctx: &AppContext, actor: &str, f: &AuditFilter) -> Result<AuditPage, ManageError> {
    if let Some(o) = &f.outcome {
        check_outcome(o)?;
    }
    let query = super::audit_log::AuditQuery {
        event_type: f.event_type.clone(),
        subject: f.subject.clone(),
        after_id: Some(f.after_id),
        limit: AUDIT_PAGE,
    };
    // Checks the filters exactly as the admin API does, and records the read.
    let mut page = super::audit_log::query(ctx, actor, &query)?;
    let (mut records, mut scanned) = (Vec::new(), 0);
    loop {
        let full = page.len() as i64 == AUDIT_PAGE;
        scanned += page.len() as i64;
        let mut last = f.after_id;
        for r in page {
            last = r.id;
            // Ids follow time: past `to`, nothing further can match.
            let past = f.to.is_some_and(|t| r.recorded_at >= t);
            if matches(f, &r) {
                records.push(r);
            }
            if records.len() >= f.limit {
                return finish(ctx, records, Some(last));
            }
            if past {
                return finish(ctx, records, None);
            }
        }
        if !full {
            return finish(ctx, records, None);
        }
        if scanned >= AUDIT_SCAN {
            return finish(ctx, records, Some(last));
        }
        page = ctx.db.audit_query(
            f.event_type.as_deref(),
            f.subject.as_deref(),
            Some(last),
            AUDIT_PAGE,
        )?;
    }
}

fn finish(
    ctx: &AppContext,
    records: Vec<AuditRecord>,
    next_after: Option<i64>,
) -> Result<AuditPage, ManageError> {
    let last_verify = ctx
        .db
        .audit_query(Some("audit.verify"), None, None, 1)?
        .into_iter()
        .next();
    Ok(AuditPage {
        records,
        next_after,
        last_verify,
    })
}

/// A role in a tenant: what it permits and who holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RoleView {
    pub role: String,
    /// `object:action`, sorted.
    pub permissions: Vec<String>,
    /// Holders: (subject as stored, username when the subject is a user).
    pub members: Vec<(String, Option<String>)>,
}

/// One tenant's roles.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TenantView {
    pub tenant: String,
    pub roles: Vec<RoleView>,
}

/// The whole policy by tenant and role, with its version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PolicyOverview {
    pub version: i64,
    pub tenants: Vec<TenantView>,
}

/// Who holds which role in each tenant and what each role permits, from the
/// stored policy (read as `ward policy export` reads it, recorded as
/// `policy.view` with the version and the number of rules).
pub fn policy(ctx: &AppContext, actor: &str) -> Result<PolicyOverview, ManageError> {
    use crate::authz::Rule;
    use crate::store::{PolicyStore, UserStore};
    use std::collections::BTreeMap;
    let (version, rows) = ctx.db.policy(|version, count| {
        crate::audit::AuditEvent::new(
            ctx.clock.now_ms(),
            actor,
            "policy.view",
            crate::audit::Outcome::Success,
        )
        .detail("rules", count as i64)
        .detail("version", version)
    })?;
    let mut views: BTreeMap<(String, String), RoleView> = BTreeMap::new();
    for rule in crate::authz::from_rows(&rows) {
        match rule {
            Rule::Permission {
                role,
                tenant,
                object,
                action,
            } => view(&mut views, &tenant, &role)
                .permissions
                .push(format!("{object}:{action}")),
            Rule::Assignment {
                subject,
                role,
                tenant,
            } => {
                let name = ctx.db.user(&subject)?.map(|u| u.username);
                view(&mut views, &tenant, &role)
                    .members
                    .push((subject, name));
            }
        }
    }
    let mut tenants: Vec<TenantView> = Vec::new();
    for ((tenant, _), mut role) in views {
        role.permissions.sort();
        match tenants.last_mut() {
            Some(t) if t.tenant == tenant => t.roles.push(role),
            _ => tenants.push(TenantView {
                tenant,
                roles: vec![role],
            }),
        }
    }
    Ok(PolicyOverview { version, tenants })
}

fn view<'a>(
    views: &'a mut std::collections::BTreeMap<(String, String), RoleView>,
    tenant: &str,
    role: &str,
) -> &'a mut RoleView {
    views
        .entry((tenant.to_string(), role.to_string()))
        .or_insert_with(|| RoleView {
            role: role.to_string(),
            permissions: Vec::new(),
            members: Vec::new(),
        })
}

/// Open sessions of one tenant's users, by assurance level.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TenantSessions {
    /// A tenant, or empty for users who hold no role anywhere.
    pub tenant: String,
    /// (`acr`, count), weakest first.
    pub by_acr: Vec<(String, usize)>,
    pub total: usize,
}

/// Open sessions now, per tenant of their users (a user with roles in two
/// tenants counts in both) and per assurance level; the read is recorded as
/// `session.list` with the number of sessions.
pub fn session_counts(
    ctx: &AppContext,
    actor: &str,
) -> Result<(usize, Vec<TenantSessions>), ManageError> {
    use crate::store::SessionAdminStore;
    use std::collections::BTreeMap;
    let levels = ctx.db.open_session_levels(ctx.clock.now_ms())?;
    let mut by: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (user, acr) in &levels {
        let mut tenants = ctx.authz.tenants(user);
        if tenants.is_empty() {
            tenants.push(String::new());
        }
        for t in tenants {
            *by.entry(t).or_default().entry(acr.clone()).or_default() += 1;
        }
    }
    let order = |a: &str| {
        crate::domain::Acr::parse(a)
            .map(|a| a as u8)
            .unwrap_or(u8::MAX)
    };
    let counts = by
        .into_iter()
        .map(|(tenant, m)| {
            let mut by_acr: Vec<(String, usize)> = m.into_iter().collect();
            by_acr.sort_by_key(|(a, _)| order(a));
            let total = by_acr.iter().map(|(_, n)| n).sum();
            TenantSessions {
                tenant,
                by_acr,
                total,
            }
        })
        .collect();
    let e = crate::audit::AuditEvent::new(
        ctx.clock.now_ms(),
        actor,
        "session.list",
        crate::audit::Outcome::Success,
    )
    .detail("count", levels.len())
    .detail("open_by_tenant", true);
    ctx.db.record_audit(&e)?;
    Ok((levels.len(), counts))
}
