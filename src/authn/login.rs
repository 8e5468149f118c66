//! The check of each sign-in factor (password, TOTP, recovery and emailed
//! codes), throttled and audited, and what accompanies a sign-in (the
//! success record, notification mails). What comes next is decided by
//! `authn::signin`.

use crate::audit::{AuditEvent, Outcome};
use crate::authn::throttle;
use crate::clock::Millis;
use crate::context::AppContext;
use crate::domain::{UserStatus, Username};
use crate::session::Authentication;
use crate::storage::users::User;
use crate::storage::{self, StorageError, throttle as throttle_store};
use crate::store::{AuditStore, UserStore};

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

impl From<StorageError> for LoginFailure {
    fn from(_: StorageError) -> Self {
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
    pub ctx: &'a AppContext,
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
            (!self.username.is_empty()).then(|| throttle_store::account_key(&self.username)),
            self.who.ip.as_deref().map(throttle_store::address_key),
        )
    }

    /// Refuse before any work while a delay or lock is in force.
    pub async fn not_blocked(&self) -> Result<(), LoginFailure> {
        let (account, address) = self.keys();
        let keys: Vec<String> = account.into_iter().chain(address).collect();
        let now = self.now;
        let blocked = self
            .ctx
            .db
            .run(move |db| throttle_store::blocked_until(&mut *db.conn()?, &keys, now))
            .await?;
        if let Some(until) = blocked {
            let e = self
                .event(Outcome::Failure, "login.throttled", Some("throttled"))
                .detail("factor", self.kind);
            let db = self.ctx.db.clone();
            let _ = tokio::task::spawn_blocking(move || db.audit(e)).await;
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
            .ctx
            .db
            .run(move |db| {
                db.transaction(|c| {
                    let n = match &account {
                        Some(account) => throttle_store::record_failure(
                            c,
                            account,
                            now,
                            None,
                            throttle::account_blocked_until,
                        )?,
                        None => 0,
                    };
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
            .await;
        match result {
            Ok(()) => LoginFailure::Invalid,
            Err(e) => e,
        }
    }
}

async fn find_user(ctx: &AppContext, user_id: &str) -> Result<Option<User>, LoginFailure> {
    let id = user_id.to_string();
    ctx.db
        .run(move |db| db.user(&id).map_err(|_| LoginFailure::Unavailable))
        .await
}

/// Verify a username and password. Unknown users, users without a password and
/// disabled users cost one argon2 verification like everyone else, and are
/// throttled alike, so neither the answer nor its timing tells whether an
/// account exists.
pub async fn verify_password(
    ctx: &AppContext,
    username: &str,
    password: String,
    who: &Requester,
) -> Result<User, LoginFailure> {
    let check = Check {
        ctx,
        who,
        username: normalise_username(username),
        kind: "password",
        now: ctx.clock.now_ms(),
    };
    check.not_blocked().await?;
    let name = check.username.clone();
    let found = ctx
        .db
        .run(move |db| {
            db.user_with_password(&name)
                .map_err(|_| LoginFailure::Unavailable)
        })
        .await?;
    let hash = found.as_ref().and_then(|(_, h)| h.clone());
    let ok = ctx.passwords.verify_async(password, hash).await;
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
    ctx: &AppContext,
    user: &User,
    code: &str,
    who: &Requester,
) -> Result<(), LoginFailure> {
    let check = Check {
        ctx,
        who,
        username: user.username.clone(),
        kind: "totp",
        now: ctx.clock.now_ms(),
    };
    check.not_blocked().await?;
    let (uid, code, now, keyring) = (
        user.id.to_string(),
        code.to_string(),
        check.now,
        ctx.keyring.clone(),
    );
    let outcome = ctx
        .db
        .run(move |db| {
            let mut c = db.conn()?;
            let Some(row) = storage::second_factors::totp(&mut c, &uid)? else {
                return Ok::<_, LoginFailure>(Err("no_totp"));
            };
            if row.confirmed_at.is_none() {
                return Ok(Err("no_totp"));
            }
            let secret = keyring
                .open(&totp_context(&uid), &row.secret_sealed)
                .map_err(|_| LoginFailure::Unavailable)?;
            match crate::authn::totp::verify(&secret, &code, now, row.last_step) {
                Ok(step) if storage::second_factors::accept_totp_step(&mut c, &uid, step, now)? => {
                    Ok(Ok(()))
                }
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

pub use crate::storage::second_factors::totp_secret_context as totp_context;

/// Use one of `user`'s recovery codes. A use is audited and mailed.
pub async fn verify_recovery_code(
    ctx: &AppContext,
    user: &User,
    code: &str,
    who: &Requester,
) -> Result<(), LoginFailure> {
    let check = Check {
        ctx,
        who,
        username: user.username.clone(),
        kind: "recovery_code",
        now: ctx.clock.now_ms(),
    };
    check.not_blocked().await?;
    let Some(hash) = crate::authn::recovery::hash(code) else {
        return Err(check.failed("bad_code").await);
    };
    let (uid, now) = (user.id.to_string(), check.now);
    let used = check
        .event(Outcome::Success, "recovery_code.used", None)
        .subject(user.id.as_str());
    let remaining = ctx
        .db
        .run(move |db| {
            db.transaction(|c| {
                if !storage::second_factors::use_recovery_code(c, &uid, &hash, now)? {
                    return Ok::<_, LoginFailure>(None);
                }
                let left = storage::second_factors::unused_recovery_codes(c, &uid)?;
                storage::audit::append(c, &used.detail("remaining", left))?;
                Ok(Some(left))
            })
        })
        .await?;
    let Some(remaining) = remaining else {
        return Err(check.failed("bad_code").await);
    };
    notify(
        ctx,
        user,
        "recovery_code_used",
        serde_json::json!({ "remaining": remaining }),
    );
    Ok(())
}

/// Codes Ward emails to one account in an hour, at most.
pub const MAX_EMAIL_CODES_PER_HOUR: i64 = 5;

/// Email a sign-in code to the account named `username`, if it exists and has
/// a verified address. The answer is the same either way; sending happens in
/// the background so the timing tells nothing either. At most
/// [`MAX_EMAIL_CODES_PER_HOUR`] codes per account.
pub async fn send_sign_in_code(
    ctx: &AppContext,
    username: &str,
    who: &Requester,
) -> Result<Option<User>, LoginFailure> {
    let name = normalise_username(username);
    let now = ctx.clock.now_ms();
    let lookup = name.clone();
    let user = ctx
        .db
        .run(move |db| {
            db.user_with_password(&lookup)
                .map_err(|_| LoginFailure::Unavailable)
        })
        .await?
        .map(|(u, _)| u)
        .filter(|u| u.status == UserStatus::Active);
    let Some(user) = user else { return Ok(None) };
    let Some(email) = user.email.clone().filter(|_| user.email_verified) else {
        return Ok(Some(user));
    };
    // Rate-limited or not, the answer is the same.
    issue_email_code(ctx, &user, &email, "sign_in", now, who).await?;
    Ok(Some(user))
}

/// Store a new code for `purpose` and mail it; false when rate-limited.
pub async fn issue_email_code(
    ctx: &AppContext,
    user: &User,
    email: &str,
    purpose: &'static str,
    now: Millis,
    who: &Requester,
) -> Result<bool, LoginFailure> {
    let code = numeric_code();
    let lifetime = i64::from(ctx.config.email_code_seconds) * 1000;
    let hash = crate::crypto::secrets::hash(&code);
    let (uid, addr) = (user.id.to_string(), email.to_string());
    let key = format!("mail:{uid}");
    let mut event = AuditEvent::new(now, "anonymous", "email_code.sent", Outcome::Success)
        .subject(user.id.as_str())
        .detail("purpose", purpose);
    event.ip = who.ip.clone();
    let sent = ctx
        .db
        .run(move |db| {
            db.transaction(|c| {
                if throttle_store::blocked_until(c, std::slice::from_ref(&key), now)?.is_some() {
                    return Ok::<_, LoginFailure>(false);
                }
                // Sends are counted like failures: five an hour, then none until the hour is over.
                throttle_store::record_failure(c, &key, now, Some(3_600_000), |n, now| {
                    if n >= MAX_EMAIL_CODES_PER_HOUR {
                        now + 3_600_000
                    } else {
                        now
                    }
                })?;
                storage::email_codes::replace(c, &uid, purpose, &hash, &addr, now, now + lifetime)?;
                storage::audit::append(c, &event)?;
                Ok(true)
            })
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
            "link": format!("{}/account", ctx.config.issuer),
        });
        let (mailer, to) = (ctx.mailer.clone(), email.to_string());
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
    ctx: &AppContext,
    username: &str,
    user: Option<&User>,
    purpose: &'static str,
    code: &str,
    who: &Requester,
) -> Result<String, LoginFailure> {
    let check = Check {
        ctx,
        who,
        username: normalise_username(username),
        kind: "email_code",
        now: ctx.clock.now_ms(),
    };
    check.not_blocked().await?;
    let Some(user) = user else {
        return Err(check.failed("unknown_user").await);
    };
    let (uid, code, now) = (user.id.to_string(), code.trim().to_string(), check.now);
    let result = ctx
        .db
        .run(move |db| {
            db.transaction(|c| storage::email_codes::consume(c, &uid, purpose, &code, now))
        })
        .await?;
    match result {
        storage::email_codes::CodeCheck::Accepted { email } => Ok(email),
        storage::email_codes::CodeCheck::Rejected => Err(check.failed("bad_code").await),
    }
}

/// A success ends the account's run of failures (not the address's).
pub async fn reset_failures(ctx: &AppContext, username: &str) -> Result<(), LoginFailure> {
    let key = throttle_store::account_key(username);
    ctx.db
        .run(move |db| throttle_store::reset(&mut *db.conn()?, &key))
        .await?;
    Ok(())
}

pub async fn user_by_id(ctx: &AppContext, user_id: &str) -> Result<Option<User>, LoginFailure> {
    find_user(ctx, user_id).await
}

pub fn display_name(user: &User) -> String {
    user.display_name
        .clone()
        .unwrap_or_else(|| user.username.clone())
}

/// Mail a notification to the user's verified address, in the background.
pub fn notify(ctx: &AppContext, user: &User, template: &'static str, mut vars: serde_json::Value) {
    let Some(to) = user.email.clone().filter(|_| user.email_verified) else {
        return;
    };
    if !ctx.mailer.enabled() {
        return;
    }
    if let Some(map) = vars.as_object_mut() {
        map.insert("name".into(), display_name(user).into());
        map.entry("when")
            .or_insert_with(|| crate::clock::to_rfc3339(ctx.clock.now_ms()).into());
    }
    let mailer = ctx.mailer.clone();
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
    .subject(&auth.user_id)
    .detail("acr", auth.acr.as_str())
    .detail("amr", auth.amr.clone());
    e.ip = ip;
    e.user_agent = user_agent;
    e
}
