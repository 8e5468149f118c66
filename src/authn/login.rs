//! The login state machine: identify, then a first factor, then done. The login
//! page renders the state it is given and posts what the user entered;
//! [`advance`] moves the sign-in on. Passkeys (which identify and prove at
//! once), a second factor (TOTP) and email codes become further states and
//! inputs here, without the page learning the rules.

use crate::app::AppContext;
use crate::audit::{AuditEvent, Outcome};
use crate::authn::throttle;
use crate::domain::{UserStatus, Username};
use crate::oidc::store::OidcStore;
use crate::session::Authentication;
use crate::storage;
use crate::storage::throttle as throttle_store;

/// ACR for a single-factor (password) login: NIST SP 800-63B AAL1.
pub const ACR_AAL1: &str = "aal1";

/// Why a login failed. One message for the user in every case, so the answer
/// never tells whether an account exists; the reason goes to the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    Invalid,
    /// Too many failures for this account name or from this address: try again later.
    Throttled {
        retry_after_secs: i64,
    },
    Unavailable,
}

impl From<crate::storage::StorageError> for LoginFailure {
    fn from(_: crate::storage::StorageError) -> Self {
        Self::Unavailable
    }
}

struct PasswordAttempt {
    pub username: String,
    pub password: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Verify a username and password, throttled per account name and per
/// address. Unknown users, users without a password and disabled users cost one
/// argon2 verification like everyone else, and are throttled alike, so neither
/// the answer nor its timing tells whether an account exists.
async fn password_step(
    ctx: &AppContext,
    attempt: PasswordAttempt,
) -> Result<Authentication, LoginFailure> {
    let username = Username::parse(&attempt.username)
        .map(|u| u.as_str().to_string())
        .unwrap_or_default();
    let account = throttle_store::account_key(&username);
    let address = attempt.ip.as_deref().map(throttle_store::address_key);
    let now = ctx.clock.now_ms();
    let event = |outcome, kind: &str, reason: Option<&str>| {
        let mut e = AuditEvent::new(now, "anonymous", kind, outcome);
        e.ip = attempt.ip.clone();
        e.user_agent = attempt.user_agent.clone();
        if let Some(r) = reason {
            e = e.reason(r);
        }
        e.detail("username", username.as_str())
    };

    // Refused before any password work while a delay or lock is in force.
    let keys: Vec<String> = std::iter::once(account.clone())
        .chain(address.clone())
        .collect();
    let blocked = ctx
        .db
        .run(move |db| throttle_store::blocked_until(&mut *db.conn()?, &keys, now))
        .await?;
    if let Some(until) = blocked {
        let e = event(Outcome::Failure, "login.throttled", Some("throttled"));
        let db = ctx.db.clone();
        let _ = tokio::task::spawn_blocking(move || db.audit(e)).await;
        return Err(LoginFailure::Throttled {
            retry_after_secs: ((until - now) / 1000).max(1),
        });
    }

    let lookup = {
        let username = username.clone();
        ctx.db
            .run(move |db| {
                db.user_with_password(&username)
                    .map_err(|_| LoginFailure::Unavailable)
            })
            .await
    };
    let found = lookup?;
    let hash = found.as_ref().and_then(|(_, h)| h.clone());
    let ok = ctx.passwords.verify_async(attempt.password, hash).await;
    let failure_reason = match &found {
        None => Some("unknown_user"),
        Some((u, _)) if u.status != UserStatus::Active => Some("account_disabled"),
        Some(_) if !ok => Some("bad_password"),
        Some(_) => None,
    };
    if let Some(reason) = failure_reason {
        // The counters and the failure's audit record change together.
        let failed = event(Outcome::Failure, "login.password", Some(reason));
        let locked = event(Outcome::Failure, "login.locked", Some("too_many_failures"));
        ctx.db
            .run(move |db| {
                db.transaction(|c| {
                    let n = throttle_store::record_failure(
                        c,
                        &account,
                        now,
                        None,
                        throttle::account_blocked_until,
                    )?;
                    if let Some(address) = &address {
                        throttle_store::record_failure(
                            c,
                            address,
                            now,
                            Some(throttle::ADDRESS_WINDOW),
                            throttle::address_blocked_until,
                        )?;
                    }
                    storage::audit::append(c, &failed.detail("consecutive_failures", n))?;
                    if n == throttle::ACCOUNT_LOCK_AT {
                        storage::audit::append(c, &locked)?;
                    }
                    Ok::<_, LoginFailure>(())
                })
            })
            .await?;
        return Err(LoginFailure::Invalid);
    }
    let (user, _) = found.ok_or(LoginFailure::Invalid)?;
    // A success ends the account's run of failures (not the address's).
    ctx.db
        .run(move |db| throttle_store::reset(&mut *db.conn()?, &account))
        .await?;
    Ok(Authentication {
        user_id: user.id.to_string(),
        acr: ACR_AAL1.into(),
        amr: vec!["pwd".into()],
        auth_time: now,
    })
}

/// Where a sign-in stands.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginState {
    /// Who is signing in is not known yet.
    Identify,
    /// The first factor is due. Reached for any username, so that the next
    /// step never tells whether the account exists.
    FirstFactor { username: String },
    /// Signed in.
    Done(Authentication),
}

/// What the user entered on the page.
pub enum LoginInput {
    Username(String),
    Password(String),
}

/// Who is asking, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One transition of the login state machine. Input that does not fit the
/// state (a password before a username, anything after `Done`) is refused.
pub async fn advance(
    ctx: &AppContext,
    state: LoginState,
    input: LoginInput,
    who: &Requester,
) -> Result<LoginState, LoginFailure> {
    match (state, input) {
        (LoginState::Identify, LoginInput::Username(username)) => {
            Ok(LoginState::FirstFactor { username })
        }
        (LoginState::FirstFactor { username }, LoginInput::Password(password)) => {
            let attempt = PasswordAttempt {
                username,
                password,
                ip: who.ip.clone(),
                user_agent: who.user_agent.clone(),
            };
            password_step(ctx, attempt).await.map(LoginState::Done)
        }
        _ => Err(LoginFailure::Invalid),
    }
}

/// The audit record that accompanies a new session.
pub fn success_event(
    auth: &Authentication,
    ip: Option<String>,
    user_agent: Option<String>,
) -> AuditEvent {
    let mut e = AuditEvent::new(
        auth.auth_time,
        format!("user:{}", auth.user_id),
        "login.password",
        Outcome::Success,
    )
    .subject(&auth.user_id)
    .detail("acr", auth.acr.as_str())
    .detail("amr", auth.amr.clone());
    e.ip = ip;
    e.user_agent = user_agent;
    e
}
