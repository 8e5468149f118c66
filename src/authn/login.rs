//! The check of each sign-in factor (password, TOTP, recovery and emailed
//! codes), throttled and audited, and what accompanies a sign-in (the
//! success record, notification mails). What comes next is decided by
//! `authn::signin`.

use crate::audit::{AuditEvent, Outcome};
use crate::authn::deps::Deps;
use crate::authn::throttle;
use crate::clock::Millis;
use crate::domain::records::User;
use crate::domain::{UserStatus, Username};
use crate::session::Authentication;
use crate::store::throttle::{account_key, address_key};
use crate::store::{NewEmailCode, StoreError};

/// Why a step failed. One message for the user in every case, so the answer
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

impl From<StoreError> for LoginFailure {
    fn from(_: StoreError) -> Self {
        Self::Unavailable
    }
}

/// Who is asking, for the audit trail and per-address throttling.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub fn normalise_username(typed: &str) -> String {
    Username::parse(typed)
        .map(|u| u.as_str().to_string())
        .unwrap_or_default()
}

/// One factor check's bookkeeping: the throttle keys and the audit records.
pub(crate) struct Check<'a> {
    pub deps: &'a Deps,
    pub who: &'a Requester,
    pub username: String,
    pub kind: &'static str,
    pub now: Millis,
}

impl Check<'_> {
    pub fn event(&self, outcome: Outcome, kind: &str, reason: Option<&str>) -> AuditEvent {
        let mut e = AuditEvent::new(self.now, "anonymous", kind, outcome);
        e.ip = self.who.ip.clone();
        e.user_agent = self.who.user_agent.clone();
        if let Some(r) = reason {
            e = e.reason(r);
        }
        e.detail("username", self.username.as_str())
    }

    /// The throttle keys: the account name (when one is known: a failed
    /// passkey assertion may name no account) and the client address.
    fn keys(&self) -> (Option<String>, Option<String>) {
        (
            (!self.username.is_empty()).then(|| account_key(&self.username)),
            self.who.ip.as_deref().map(address_key),
        )
    }

    /// Refuse before any work while a delay or lock is in force.
    pub async fn not_blocked(&self) -> Result<(), LoginFailure> {
        let (account, address) = self.keys();
        let keys: Vec<String> = account.into_iter().chain(address).collect();
        let now = self.now;
        let blocked = self.deps.run(move |s| s.blocked_until(&keys, now)).await?;
        if let Some(until) = blocked {
            let e = self
                .event(Outcome::Failure, "login.throttled", Some("throttled"))
                .detail("factor", self.kind);
            // The refusal is recorded before it is given (or the request fails).
            self.deps.run(move |s| s.audit(e)).await?;
            return Err(LoginFailure::Throttled {
                retry_after_secs: ((until - now) / 1000).max(1),
            });
        }
        Ok(())
    }

    /// Count a failure against the account name and the address, with its
    /// audit record in the same transaction; a lock is audited too.
    pub async fn failed(&self, reason: &str) -> LoginFailure {
        let (account, address) = self.keys();
        let now = self.now;
        let failed = self.event(
            Outcome::Failure,
            &format!("login.{}", self.kind),
            Some(reason),
        );
        let locked = self.event(Outcome::Failure, "login.locked", Some("too_many_failures"));
        let result = self
            .deps
            .run(move |s| {
                let events = |n: i64| {
                    let mut events = vec![failed.clone().detail("consecutive_failures", n)];
                    if n == throttle::ACCOUNT_LOCK_AT {
                        events.push(locked.clone());
                    }
                    events
                };
                let account = account.as_deref().map(|k| (k, throttle::ACCOUNT));
                let address = address.as_deref().map(|k| (k, throttle::ADDRESS));
                s.count_failure(account, address, now, &events)
            })
            .await;
        match result {
            Ok(_) => LoginFailure::Invalid,
            Err(e) => e.into(),
        }
    }
}

/// Verify a username and password. Unknown users, users without a password and
/// disabled users cost one argon2 verification like everyone else, and are
/// throttled alike, so neither the answer nor its timing tells whether an
/// account exists.
pub async fn verify_password(
    deps: &Deps,
    username: &str,
    password: String,
    who: &Requester,
) -> Result<User, LoginFailure> {
    let check = Check {
        deps,
        who,
        username: normalise_username(username),
        kind: "password",
        now: deps.now(),
    };
    check.not_blocked().await?;
    let name = check.username.clone();
    let found = deps
        .run(move |s| s.user_with_password(&name).map_err(LoginFailure::from))
        .await?;
    let hash = found.as_ref().and_then(|(_, h)| h.clone());
    let ok = deps.passwords.verify_async(password, hash).await;
    let reason = match &found {
        None => Some("unknown_user"),
        Some((u, _)) if u.status != UserStatus::Active => Some("account_disabled"),
        Some(_) if !ok => Some("bad_password"),
        Some(_) => None,
    };
    if let Some(reason) = reason {
        return Err(check.failed(reason).await);
    }
    let (user, _) = found.ok_or(LoginFailure::Invalid)?;
    Ok(user)
}

/// Verify a TOTP code for `user`: ±1 step, each step once.
pub async fn verify_totp(
    deps: &Deps,
    user: &User,
    code: &str,
    who: &Requester,
) -> Result<(), LoginFailure> {
    let check = Check {
        deps,
        who,
        username: user.username.clone(),
        kind: "totp",
        now: deps.now(),
    };
    check.not_blocked().await?;
    let (uid, code, now, keyring) = (
        user.id.to_string(),
        code.to_string(),
        check.now,
        deps.keyring.clone(),
    );
    let outcome = deps
        .run(move |s| {
            let Some(row) = s.totp(&uid)? else {
                return Ok::<_, LoginFailure>(Err("no_totp"));
            };
            if row.confirmed_at.is_none() {
                return Ok(Err("no_totp"));
            }
            let secret = keyring
                .open(&totp_context(&uid), &row.secret_sealed)
                .map_err(|_| LoginFailure::Unavailable)?;
            match crate::authn::totp::verify(&secret, &code, now, row.last_step) {
                Ok(step) if s.accept_totp_step(&uid, step, now)? => Ok(Ok(())),
                Ok(_) | Err(crate::authn::totp::TotpRejection::Replayed) => {
                    Ok(Err("replayed_code"))
                }
                Err(crate::authn::totp::TotpRejection::Invalid) => Ok(Err("bad_code")),
            }
        })
        .await?;
    match outcome {
        Ok(()) => Ok(()),
        Err(reason) => Err(check.failed(reason).await),
    }
}

pub use crate::store::factors::totp_secret_context as totp_context;

/// Use one of `user`'s recovery codes. A use is audited and mailed.
pub async fn verify_recovery_code(
    deps: &Deps,
    user: &User,
    code: &str,
    who: &Requester,
) -> Result<(), LoginFailure> {
    let check = Check {
        deps,
        who,
        username: user.username.clone(),
        kind: "recovery_code",
        now: deps.now(),
    };
    check.not_blocked().await?;
    let Some(hash) = crate::authn::recovery::hash(code) else {
        return Err(check.failed("bad_code").await);
    };
    let (uid, now) = (user.id.to_string(), check.now);
    let used = check
        .event(Outcome::Success, "recovery_code.used", None)
        .subject(user.id.as_str());
    let remaining = deps
        .run(move |s| {
            s.use_recovery_code(&uid, &hash, now, used)
                .map_err(LoginFailure::from)
        })
        .await?;
    let Some(remaining) = remaining else {
        return Err(check.failed("bad_code").await);
    };
    notify(
        deps,
        user,
        "recovery_code_used",
        serde_json::json!({ "remaining": remaining }),
    );
    Ok(())
}

pub use crate::authn::throttle::MAX_EMAIL_CODES_PER_HOUR;

/// Email a sign-in code to the account named `username`, if it exists and has
/// a verified address. The answer is the same either way; sending happens in
/// the background so the timing tells nothing either. At most
/// [`MAX_EMAIL_CODES_PER_HOUR`] codes per account.
pub async fn send_sign_in_code(
    deps: &Deps,
    username: &str,
    who: &Requester,
) -> Result<Option<User>, LoginFailure> {
    let name = normalise_username(username);
    let now = deps.now();
    let user = deps
        .run(move |s| s.user_with_password(&name).map_err(LoginFailure::from))
        .await?
        .map(|(u, _)| u)
        .filter(|u| u.status == UserStatus::Active);
    let Some(user) = user else { return Ok(None) };
    let Some(email) = user.email.clone().filter(|_| user.email_verified) else {
        return Ok(Some(user));
    };
    // Rate-limited or not, the answer is the same.
    issue_email_code(deps, &user, &email, "sign_in", now, who).await?;
    Ok(Some(user))
}

/// Store a new code for `purpose` and mail it; false when rate-limited.
pub async fn issue_email_code(
    deps: &Deps,
    user: &User,
    email: &str,
    purpose: &'static str,
    now: Millis,
    who: &Requester,
) -> Result<bool, LoginFailure> {
    let code = numeric_code();
    let lifetime = i64::from(deps.config.email_code_seconds) * 1000;
    let row = NewEmailCode {
        user_id: user.id.to_string(),
        purpose: purpose.to_string(),
        code_hash: crate::crypto::secrets::hash(&code),
        email: email.to_string(),
        created_at: now,
        expires_at: now + lifetime,
    };
    let key = format!("mail:{}", user.id);
    let mut event = AuditEvent::new(now, "anonymous", "email_code.sent", Outcome::Success)
        .subject(user.id.as_str())
        .detail("purpose", purpose);
    event.ip = who.ip.clone();
    let sent = deps
        .run(move |s| {
            s.issue_email_code(&key, throttle::EMAIL_CODES, &row, &event)
                .map_err(LoginFailure::from)
        })
        .await?;
    if sent {
        let template = if purpose == "verify_email" {
            "verify_email"
        } else {
            "sign_in_code"
        };
        let vars = serde_json::json!({
            "name": display_name(user),
            "code": code,
            "minutes": (lifetime / 60_000).max(1),
            "link": format!("{}/account", deps.config.issuer),
        });
        let (mailer, to) = (deps.mailer.clone(), email.to_string());
        tokio::spawn(async move {
            if let Err(e) = mailer.send_async(to, template, vars).await {
                tracing::warn!(error = %e, "email code not sent");
            }
        });
    }
    Ok(sent)
}

fn numeric_code() -> String {
    let mut bytes = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    format!("{:08}", u64::from_le_bytes(bytes) % 100_000_000)
}

/// Check an emailed code. `user` is None for an unknown account: the check
/// fails the same way, and counts against the name typed.
pub async fn verify_email_code(
    deps: &Deps,
    username: &str,
    user: Option<&User>,
    purpose: &'static str,
    code: &str,
    who: &Requester,
) -> Result<String, LoginFailure> {
    let check = Check {
        deps,
        who,
        username: normalise_username(username),
        kind: "email_code",
        now: deps.now(),
    };
    check.not_blocked().await?;
    let Some(user) = user else {
        return Err(check.failed("unknown_user").await);
    };
    let (uid, code, now) = (user.id.to_string(), code.trim().to_string(), check.now);
    let result = deps
        .run(move |s| {
            s.consume_email_code(&uid, purpose, &code, now)
                .map_err(LoginFailure::from)
        })
        .await?;
    match result {
        Some(email) => Ok(email),
        None => Err(check.failed("bad_code").await),
    }
}

/// A success ends the account's run of failures (not the address's).
pub async fn reset_failures(deps: &Deps, username: &str) -> Result<(), LoginFailure> {
    let key = account_key(username);
    deps.run(move |s| s.reset_failures(&key).map_err(LoginFailure::from))
        .await
}

pub async fn user_by_id(deps: &Deps, user_id: &str) -> Result<Option<User>, LoginFailure> {
    let id = user_id.to_string();
    deps.run(move |s| s.user(&id).map_err(LoginFailure::from))
        .await
}

pub fn display_name(user: &User) -> String {
    user.display_name
        .clone()
        .unwrap_or_else(|| user.username.clone())
}

/// Mail a notification to the user's verified address, in the background.
pub fn notify(deps: &Deps, user: &User, template: &'static str, mut vars: serde_json::Value) {
    let Some(to) = user.email.clone().filter(|_| user.email_verified) else {
        return;
    };
    if !deps.mailer.enabled() {
        return;
    }
    if let Some(map) = vars.as_object_mut() {
        map.insert("name".into(), display_name(user).into());
        map.entry("when")
            .or_insert_with(|| crate::clock::to_rfc3339(deps.now()).into());
    }
    let mailer = deps.mailer.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.send_async(to, template, vars).await {
            tracing::warn!(error = %e, template, "notification not sent");
        }
    });
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
        "login.success",
        Outcome::Success,
    )
    .subject(auth.user_id.as_str())
    .detail("acr", auth.acr.as_str())
    .detail(
        "amr",
        auth.amr.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
    );
    e.ip = ip;
    e.user_agent = user_agent;
    e
}
