//! Ending a session: the one path behind every way a session ends (sign-out,
//! switch user, RP-initiated logout, the account page's "end other sessions",
//! an administrator, a timeout). The session row is marked ended, its
//! session-bound grants are revoked, every client it reached gets a
//! back-channel logout notice queued (Back-Channel Logout 1.0 §2.7), and the
//! audit record is written: all in one transaction (`end_session`).

use crate::audit::{AuditEvent, Outcome};
use crate::clock::Millis;
use crate::domain::{Acr, ClientId, SessionId, UserId};
use crate::store::{SessionStore, StoreError};

use super::{Expiry, sid};

/// Why a session ends: the audit record's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// "Sign out" on Ward's own pages.
    SignOut,
    /// "Switch user" on a shared workstation.
    SwitchUser,
    /// RP-Initiated Logout 1.0 (`/logout`).
    RpLogout,
    /// The user ended one of their other sessions from `/account`.
    ByUser,
    /// An administrator (CLI or admin API).
    Admin,
    /// Its idle or absolute timeout passed.
    TimedOut(Expiry),
}

impl EndReason {
    pub fn code(self) -> &'static str {
        match self {
            EndReason::SignOut => "sign_out",
            EndReason::SwitchUser => "switch_user",
            EndReason::RpLogout => "rp_logout",
            EndReason::ByUser => "self",
            EndReason::Admin => "admin",
            EndReason::TimedOut(expiry) => expiry.code(),
        }
    }
}

/// Who ends the session, as the audit trail names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedBy {
    /// `user:<id>`, an administrator's actor string, or `system`.
    pub actor: String,
    pub ip: Option<String>,
    /// The client that asked (RP-initiated logout).
    pub client: Option<ClientId>,
}

impl EndedBy {
    /// The session's own user (or the person at its browser).
    pub fn user(user_id: &UserId, ip: Option<String>) -> Self {
        Self {
            actor: format!("user:{user_id}"),
            ip,
            client: None,
        }
    }

    pub fn admin(actor: &str) -> Self {
        Self {
            actor: actor.to_string(),
            ip: None,
            client: None,
        }
    }

    /// Ward itself (the timeout sweep, a timed-out session found in use).
    pub fn system() -> Self {
        Self::admin("system")
    }

    pub fn for_client(mut self, client: Option<&ClientId>) -> Self {
        self.client = client.cloned();
        self
    }
}

/// The session being ended.
#[derive(Debug, Clone, Copy)]
pub struct Ending<'a> {
    pub id_hash: &'a SessionId,
    pub user_id: &'a UserId,
    /// The session's level, recorded when it timed out (None: not read).
    pub acr: Option<Acr>,
}

impl<'a> From<&'a crate::store::SessionRow> for Ending<'a> {
    fn from(row: &'a crate::store::SessionRow) -> Self {
        Ending {
            id_hash: &row.id_hash,
            user_id: &row.user_id,
            acr: Some(row.acr),
        }
    }
}

/// The audit record of a session's end: `session.expired` for a timeout
/// (with the session's level, which chose the timeout), `session.ended`
/// otherwise, told apart by the reason. The session is named by its `sid`.
pub fn event(session: Ending<'_>, reason: EndReason, by: &EndedBy, now: Millis) -> AuditEvent {
    let kind = match reason {
        EndReason::TimedOut(_) => "session.expired",
        _ => "session.ended",
    };
    let mut e = AuditEvent::new(now, by.actor.as_str(), kind, Outcome::Success)
        .subject(session.user_id.as_str())
        .reason(reason.code())
        .detail("sid", sid(session.id_hash));
    if let (EndReason::TimedOut(_), Some(acr)) = (reason, session.acr) {
        e = e.detail("acr", acr.as_str());
    }
    if let Some(client) = &by.client {
        e = e.client(client);
    }
    e.ip = by.ip.clone();
    e
}

/// End `session` (see the module comment); false if it had already ended, in
/// which case nothing is written.
pub fn end(
    store: &dyn SessionStore,
    session: Ending<'_>,
    reason: EndReason,
    by: &EndedBy,
    now: Millis,
) -> Result<bool, StoreError> {
    store.end_session(session.id_hash, now, &event(session, reason, by, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: &str = "00000000-0000-4000-8000-000000000001";

    fn u1() -> UserId {
        UserId::parse(U1).unwrap()
    }

    fn ending() -> Ending<'static> {
        static HASH: std::sync::LazyLock<SessionId> =
            std::sync::LazyLock::new(|| SessionId::from_hash("hash"));
        static USER: std::sync::LazyLock<UserId> = std::sync::LazyLock::new(u1);
        Ending {
            id_hash: &HASH,
            user_id: &USER,
            acr: Some(Acr::Aal2),
        }
    }

    #[test]
    fn a_sign_out_is_recorded_as_ended_by_its_user() {
        let e = event(
            ending(),
            EndReason::SignOut,
            &EndedBy::user(&u1(), Some("192.0.2.1".into())),
            7,
        );
        assert_eq!(e.event_type, "session.ended");
        assert_eq!(e.actor, format!("user:{U1}"));
        assert_eq!(e.subject_user.as_deref(), Some(U1));
        assert_eq!(e.reason.as_deref(), Some("sign_out"));
        assert_eq!(e.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(e.details["sid"], sid(&SessionId::from_hash("hash")));
        assert!(e.details.get("acr").is_none());
    }

    #[test]
    fn a_timeout_is_an_expiry_by_the_system_with_the_level() {
        let e = event(
            ending(),
            EndReason::TimedOut(Expiry::Idle),
            &EndedBy::system(),
            7,
        );
        assert_eq!(e.event_type, "session.expired");
        assert_eq!(e.actor, "system");
        assert_eq!(e.reason.as_deref(), Some("idle_timeout"));
        assert_eq!(e.details["acr"], "aal2");
    }

    #[test]
    fn a_logout_names_the_client_that_asked() {
        let app = ClientId::parse("app").unwrap();
        let by = EndedBy::user(&u1(), None).for_client(Some(&app));
        let e = event(ending(), EndReason::RpLogout, &by, 7);
        assert_eq!(e.client_id.as_deref(), Some("app"));
        assert_eq!(e.reason.as_deref(), Some("rp_logout"));
    }
}
