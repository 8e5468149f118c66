//! A user's browser sessions, for administrators: list them, end one, end all.
//!
//! A session is named by its `sid`, the value in ID tokens (derived from the
//! stored hash): neither the session id nor its hash ever leaves Ward.

use serde::Serialize;

use crate::audit::{AuditEvent, Outcome};
use crate::context::AppContext;
use crate::domain::{Acr, Amr, ClientId, InvalidValue, SessionId, UserId};
use crate::oidc::tokens::sid;
use crate::session::{self, EndReason, EndedBy, Ending};
use crate::store::admin_sessions::SweepGroup;
use crate::store::{SessionAdminStore, SessionRow};

use super::{ManageError, audited};

/// One session as an administrator sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub sid: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub auth_time: i64,
    pub acr: Acr,
    pub amr: Vec<Amr>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<i64>,
    /// When each factor was proven (amr value -> Unix ms).
    pub factor_times: std::collections::BTreeMap<Amr, i64>,
    /// Started on a shared workstation (a shorter idle timeout).
    pub shared_workstation: bool,
    /// Usable now: not ended, not past its absolute or idle timeout.
    pub live: bool,
}

/// One page of a user's sessions, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct SessionPage {
    pub user_id: String,
    pub sessions: Vec<SessionInfo>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

pub(crate) fn info(ctx: &AppContext, row: &SessionRow) -> SessionInfo {
    SessionInfo {
        sid: sid(&row.id_hash),
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
        expires_at: row.expires_at,
        auth_time: row.auth_time,
        acr: row.acr,
        amr: row.amr.clone(),
        ip: row.ip.clone(),
        user_agent: row.user_agent.clone(),
        ended_at: row.ended_at,
        factor_times: row.factor_times.clone(),
        shared_workstation: row.shared_workstation,
        live: crate::session::is_live(row, ctx.clock.now_ms(), &ctx.config.session),
    }
}

/// A paging cursor, `<created_at>.<sid>` of the last session of a page: it
/// names the row without revealing its hash.
fn cursor(row: &SessionRow) -> String {
    format!("{}.{}", row.created_at, sid(&row.id_hash))
}

fn bad_cursor() -> ManageError {
    InvalidValue::new("after", "is not a cursor from a previous page").into()
}

/// The (created_at, hash) a cursor names, among the user's sessions.
/// (A session's start and hash never change, so this read needs no
/// transaction with the page it starts.)
fn resolve_cursor(
    ctx: &AppContext,
    user_id: &str,
    text: &str,
) -> Result<(i64, SessionId), ManageError> {
    let (at, wanted) = text.split_once('.').ok_or_else(bad_cursor)?;
    let at: i64 = at.parse().map_err(|_| bad_cursor())?;
    let hash = ctx
        .db
        .session_hashes_at(user_id, at)?
        .into_iter()
        .find(|h| sid(h) == wanted)
        .ok_or_else(bad_cursor)?;
    Ok((at, hash))
}

/// A user's sessions (live and recently ended), newest first, `limit` a page.
pub fn list(
    ctx: &AppContext,
    actor: &str,
    user: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<SessionPage, ManageError> {
    let refusal = || event(ctx, actor, "session.list").detail("query", user);
    audited(ctx, refusal, || {
        let found = super::users::find(ctx, user)?;
        let uid = found.id.as_str();
        let limit = limit.clamp(1, 1_000);
        let before = after.map(|a| resolve_cursor(ctx, uid, a)).transpose()?;
        let before = before.as_ref().map(|(at, h)| (*at, h));
        let record = |rows: &[SessionRow]| {
            event(ctx, actor, "session.list")
                .subject(uid)
                .detail("count", rows.len())
        };
        let rows = ctx.db.user_sessions(uid, before, limit, record)?;
        let next = (rows.len() as i64 == limit)
            .then(|| rows.last().map(cursor))
            .flatten();
        Ok(SessionPage {
            user_id: uid.to_string(),
            sessions: rows.iter().map(|r| info(ctx, r)).collect(),
            next,
        })
    })
}

/// End one session of a user, named by its `sid`.
pub fn end(ctx: &AppContext, actor: &str, user: &str, wanted: &str) -> Result<(), ManageError> {
    let refusal = || {
        event(ctx, actor, "session.ended")
            .detail("query", user)
            .detail("sid", wanted)
    };
    audited(ctx, refusal, || {
        let found = super::users::find(ctx, user)?;
        let uid = found.id.as_str();
        let hash = ctx
            .db
            .session_hashes(uid)?
            .into_iter()
            .find(|h| sid(h) == wanted)
            .ok_or_else(|| {
                ManageError::NotFound(format!("{} has no session `{wanted}`", found.username))
            })?;
        if !end_one(
            ctx,
            &found.id,
            &hash,
            EndReason::Admin,
            &EndedBy::admin(actor),
        )? {
            return Err(ManageError::Conflict(format!(
                "the session `{wanted}` has already ended"
            )));
        }
        Ok(())
    })
}

/// End every open session of a user (a lost device, a departure); returns the
/// `sid`s ended. The user must sign in again in every browser, but access and
/// refresh tokens already issued do not depend on the session: disabling the
/// account is what stops those at once.
pub fn end_all(ctx: &AppContext, actor: &str, user: &str) -> Result<Vec<String>, ManageError> {
    let refusal = || event(ctx, actor, "session.ended").detail("query", user);
    audited(ctx, refusal, || {
        let found = super::users::find(ctx, user)?;
        let uid = found.id.as_str();
        let now = ctx.clock.now_ms();
        let open = ctx.db.open_session_hashes(uid, now)?;
        let mut ended = Vec::with_capacity(open.len());
        // One by one: the result names exactly the sessions this call ended
        // (a concurrent sign-out may end one of them first).
        for hash in open {
            if end_one(
                ctx,
                &found.id,
                &hash,
                EndReason::Admin,
                &EndedBy::admin(actor),
            )? {
                ended.push(sid(&hash));
            }
        }
        Ok(ended)
    })
}

/// End a session through `session::end` (audit record, grants and
/// back-channel notices in one transaction); false if it had already ended.
fn end_one(
    ctx: &AppContext,
    user_id: &UserId,
    hash: &SessionId,
    reason: EndReason,
    by: &EndedBy,
) -> Result<bool, ManageError> {
    let ending = Ending {
        id_hash: hash,
        user_id,
        acr: None,
    };
    Ok(session::end::end(
        &ctx.db,
        ending,
        reason,
        by,
        ctx.clock.now_ms(),
    )?)
}

/// A user's own sign-out of the session `row` (`reason`: sign-out, switch
/// user or an RP-initiated logout), from the address `ip`, for `client` when
/// a client asked. False if the session had already ended.
pub fn sign_out(
    ctx: &AppContext,
    row: &SessionRow,
    reason: EndReason,
    ip: Option<String>,
    client: Option<&ClientId>,
) -> Result<bool, ManageError> {
    let by = EndedBy::user(&row.user_id, ip).for_client(client);
    Ok(session::end::end(
        &ctx.db,
        row.into(),
        reason,
        &by,
        ctx.clock.now_ms(),
    )?)
}

/// End the user's other sessions from `/account`, or only the one named by
/// `sid`; never `current` (that is "Sign out"). Returns how many ended.
pub fn end_others(
    ctx: &AppContext,
    user_id: &UserId,
    current: &SessionId,
    only: Option<&str>,
    ip: Option<String>,
) -> Result<usize, ManageError> {
    let hashes = ctx.db.session_hashes(user_id.as_str())?;
    let by = EndedBy::user(user_id, ip);
    let mut ended = 0;
    for hash in hashes {
        let wanted = only.is_none_or(|s| sid(&hash) == s);
        if &hash != current && wanted && end_one(ctx, user_id, &hash, EndReason::ByUser, &by)? {
            ended += 1;
        }
    }
    Ok(ended)
}

/// End the open sessions that timed out (idle or absolute, per their level),
/// each with a `session.expired` audit record and back-channel notifications.
/// Run by the background task; safe on several nodes at once (a session ends
/// once). Returns how many it ended.
pub fn end_timed_out(ctx: &AppContext) -> Result<usize, ManageError> {
    let now = ctx.clock.now_ms();
    let policy = ctx.config.session;
    let levels: [(&[Acr], u32); 3] = [
        (&[Acr::Aal1], policy.aal1.idle_seconds),
        (&[Acr::Aal2, Acr::Phr], policy.aal2.idle_seconds),
        (&[Acr::Phrh], policy.aal3.idle_seconds),
    ];
    let groups: Vec<SweepGroup> = levels
        .iter()
        .flat_map(|(acr_in, idle)| {
            [false, true].map(|shared| SweepGroup {
                shared_workstation: shared,
                acr_in,
                idle_ms: i64::from(if shared {
                    (*idle).min(policy.shared_idle_seconds)
                } else {
                    *idle
                }) * 1000,
            })
        })
        .collect();
    let candidates = ctx.db.timeout_candidates(now, &groups, 500)?;
    let mut ended = 0;
    for row in candidates {
        let Err(expiry) = crate::session::check(&row, now, &policy) else {
            continue;
        };
        let reason = EndReason::TimedOut(expiry);
        let done = session::end::end(&ctx.db, (&row).into(), reason, &EndedBy::system(), now)?;
        ended += usize::from(done);
    }
    Ok(ended)
}
