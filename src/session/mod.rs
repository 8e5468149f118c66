//! Server-side browser sessions: the cookie holds a random id, the database its
//! SHA-256 hash. Idle and absolute timeouts are enforced on every use.

use crate::clock::Millis;
use crate::config::SessionLifetimes;
use crate::crypto::secrets;
use crate::oidc::store::SessionRow;

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
    pub user_id: String,
    pub acr: String,
    pub amr: Vec<String>,
    pub auth_time: Millis,
}

/// A new session: the cookie value (shown once to the browser) and the row to store.
pub fn start(
    auth: &Authentication,
    ip: Option<String>,
    user_agent: Option<String>,
    now: Millis,
    limits: SessionLifetimes,
) -> (String, SessionRow) {
    let id = secrets::generate(32);
    let row = SessionRow {
        id_hash: secrets::hash(&id),
        user_id: auth.user_id.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + i64::from(limits.absolute_seconds) * 1000,
        auth_time: auth.auth_time,
        acr: auth.acr.clone(),
        amr: auth.amr.clone(),
        ip,
        user_agent: user_agent.map(|ua| ua.chars().take(512).collect()),
        ended_at: None,
    };
    (id, row)
}

/// Is the session still usable at `now`?
pub fn is_live(row: &SessionRow, now: Millis, limits: SessionLifetimes) -> bool {
    row.ended_at.is_none()
        && now < row.expires_at
        && now - row.last_seen_at < i64::from(limits.idle_seconds) * 1000
}

/// Update `last_seen_at` at most once a minute, to keep reads from becoming writes.
pub fn needs_touch(row: &SessionRow, now: Millis) -> bool {
    now - row.last_seen_at > 60_000
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SessionLifetimes = SessionLifetimes {
        idle_seconds: 1800,
        absolute_seconds: 43_200,
    };

    fn auth() -> Authentication {
        Authentication {
            user_id: "u".into(),
            acr: "aal1".into(),
            amr: vec!["pwd".into()],
            auth_time: 0,
        }
    }

    #[test]
    fn idle_and_absolute_timeouts() {
        let (id, mut row) = start(&auth(), None, None, 0, LIMITS);
        assert_eq!(row.id_hash, secrets::hash(&id));
        assert!(is_live(&row, 1_799_000, LIMITS));
        assert!(!is_live(&row, 1_800_000, LIMITS), "idle for 30 minutes");
        row.last_seen_at = 43_000_000;
        assert!(is_live(&row, 43_100_000, LIMITS));
        assert!(!is_live(&row, 43_200_000, LIMITS), "12 hours at most");
        row.ended_at = Some(1);
        assert!(!is_live(&row, 43_100_000, LIMITS));
    }
}
