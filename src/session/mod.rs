//! Server-side browser sessions: the cookie holds a random id, the database its
//! SHA-256 hash. Idle and absolute timeouts are enforced on every use.

pub mod device;
pub mod end;

pub use end::{EndReason, EndedBy, Ending};

use crate::clock::Millis;
use crate::config::SessionPolicy;
use crate::crypto::secrets;
use crate::domain::{Acr, Amr, SessionId, UserId};
use crate::store::SessionRow;

/// The `sid` claim for a session (OIDC Front/Back-Channel Logout): derived from
/// the stored hash, so the session id itself never appears in a token.
pub fn sid(session: &SessionId) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("sid:{session}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The session a request's session cookie value names (its SHA-256 hash).
pub fn id_of(cookie_value: &str) -> SessionId {
    SessionId::from_hash(secrets::hash(cookie_value))
}

/// Cookie names: the `__Host-` prefix (which requires Secure) over HTTPS.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-ward_session"
    } else {
        "ward_session"
    }
}

/// The long-lived per-browser cookie that binds sign-in interactions to the browser that started them.
pub fn browser_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-ward_browser"
    } else {
        "ward_browser"
    }
}

/// How the user authenticated.
#[derive(Debug, Clone, PartialEq)]
pub struct Authentication {
    pub user_id: UserId,
    pub acr: Acr,
    pub amr: Vec<Amr>,
    pub auth_time: Millis,
    /// When each factor was proven, by amr value.
    pub factor_times: std::collections::BTreeMap<Amr, Millis>,
}

/// Where a session is started from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The hash of the browser's device cookie.
    pub device_hash: Option<String>,
    /// A shared workstation (by client or address range): a shorter idle timeout.
    pub shared_workstation: bool,
}

/// A new session: the cookie value (shown once to the browser) and the row to store.
pub fn start(
    auth: &Authentication,
    origin: Origin,
    now: Millis,
    policy: &SessionPolicy,
) -> (String, SessionRow) {
    let limits = policy.limits(auth.acr, origin.shared_workstation);
    let id = secrets::generate(32);
    let row = SessionRow {
        id_hash: id_of(&id),
        user_id: auth.user_id.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + i64::from(limits.absolute_seconds) * 1000,
        auth_time: auth.auth_time,
        acr: auth.acr,
        amr: auth.amr.clone(),
        ip: origin.ip,
        user_agent: origin.user_agent.map(|ua| ua.chars().take(512).collect()),
        ended_at: None,
        device_hash: origin.device_hash,
        factor_times: auth.factor_times.clone(),
        shared_workstation: origin.shared_workstation,
    };
    (id, row)
}

/// Why a session can no longer be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Signed out or revoked.
    Ended,
    /// Unused longer than its level's idle timeout.
    Idle,
    /// Older than its level's absolute lifetime.
    Absolute,
}

impl Expiry {
    /// For the audit trail and back-channel logout bookkeeping.
    pub fn code(self) -> &'static str {
        match self {
            Expiry::Ended => "ended",
            Expiry::Idle => "idle_timeout",
            Expiry::Absolute => "absolute_timeout",
        }
    }
}

/// Is the session still usable at `now`? Both limits follow the session's
/// assurance level (NIST SP 800-63B §4.2.3, §4.3.3) and its workstation.
pub fn check(row: &SessionRow, now: Millis, policy: &SessionPolicy) -> Result<(), Expiry> {
    let limits = policy.limits(row.acr, row.shared_workstation);
    if row.ended_at.is_some() {
        Err(Expiry::Ended)
    } else if now >= row.expires_at {
        // Fixed at the start from the level's absolute lifetime; a step-up
        // starts a new session (a new id), so the level never changes later.
        Err(Expiry::Absolute)
    } else if now - row.last_seen_at >= i64::from(limits.idle_seconds) * 1000 {
        Err(Expiry::Idle)
    } else {
        Ok(())
    }
}

pub fn is_live(row: &SessionRow, now: Millis, policy: &SessionPolicy) -> bool {
    check(row, now, policy).is_ok()
}

/// Update `last_seen_at` at most once a minute, to keep reads from becoming
/// writes, and at least every half idle timeout, so that a session in use
/// never looks idle (with a one-minute timeout, every 30 seconds).
pub fn needs_touch(row: &SessionRow, now: Millis, policy: &SessionPolicy) -> bool {
    let idle = i64::from(policy.limits(row.acr, row.shared_workstation).idle_seconds) * 1000;
    now - row.last_seen_at > (idle / 2).min(60_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SessionLifetimes;

    const POLICY: SessionPolicy = SessionPolicy {
        aal1: SessionLifetimes {
            idle_seconds: 1800,
            absolute_seconds: 43_200,
        },
        aal2: SessionLifetimes {
            idle_seconds: 1800,
            absolute_seconds: 43_200,
        },
        aal3: SessionLifetimes {
            idle_seconds: 900,
            absolute_seconds: 43_200,
        },
        shared_idle_seconds: 300,
    };

    fn auth(acr: Acr) -> Authentication {
        Authentication {
            user_id: UserId::generate(),
            acr,
            amr: vec![Amr::Pwd],
            auth_time: 0,
            factor_times: [(Amr::Pwd, 0)].into(),
        }
    }

    #[test]
    fn idle_and_absolute_timeouts() {
        let (id, mut row) = start(&auth(Acr::Aal2), Origin::default(), 0, &POLICY);
        assert_eq!(row.id_hash.as_str(), secrets::hash(&id));
        assert_eq!(row.factor_times.get(&Amr::Pwd), Some(&0));
        assert!(is_live(&row, 1_799_000, &POLICY));
        assert_eq!(check(&row, 1_800_000, &POLICY), Err(Expiry::Idle));
        row.last_seen_at = 43_000_000;
        assert!(is_live(&row, 43_100_000, &POLICY));
        assert_eq!(check(&row, 43_200_000, &POLICY), Err(Expiry::Absolute));
        row.ended_at = Some(1);
        assert_eq!(check(&row, 43_100_000, &POLICY), Err(Expiry::Ended));
    }

    #[test]
    fn limits_follow_the_assurance_level_and_workstation() {
        let (_, row) = start(&auth(Acr::Phrh), Origin::default(), 0, &POLICY);
        assert!(is_live(&row, 899_000, &POLICY));
        assert_eq!(
            check(&row, 900_000, &POLICY),
            Err(Expiry::Idle),
            "AAL3: 15 min"
        );
        let (_, row) = start(&auth(Acr::Phr), Origin::default(), 0, &POLICY);
        assert!(is_live(&row, 1_000_000, &POLICY), "phr is AAL2: 30 min");
        let shared = Origin {
            shared_workstation: true,
            ..Origin::default()
        };
        let (_, row) = start(&auth(Acr::Aal2), shared, 0, &POLICY);
        assert!(row.shared_workstation);
        assert_eq!(
            check(&row, 300_000, &POLICY),
            Err(Expiry::Idle),
            "shared: 5 min"
        );
    }
}
