//! Self-service changes to one's own factors: passkeys, TOTP, recovery codes,
//! password and email address. Each change is audited in its transaction and
//! mailed to the user. Callers check that the session's authentication is
//! recent; this module refuses what would leave an account unprotected.

use crate::audit::{AuditEvent, Outcome};
use crate::authn::login::{self, LoginFailure, Requester};
use crate::authn::{recovery, totp};
use crate::clock::Millis;
use crate::context::AppContext;
use crate::storage::users::User;
use crate::storage::{self, AnyConnection, StorageError};

/// Why a change was refused; the message is fit for the user.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Refused(String),
    #[error("That code is not correct.")]
    WrongCode,
    #[error("Too many failed attempts. Wait {0} seconds before trying again.")]
    Throttled(i64),
    #[error("This change is not possible right now. Try again in a moment.")]
    Unavailable,
}

impl From<StorageError> for AccountError {
    fn from(_: StorageError) -> Self {
        Self::Unavailable
    }
}

impl From<LoginFailure> for AccountError {
    fn from(f: LoginFailure) -> Self {
        match f {
            LoginFailure::Invalid => Self::WrongCode,
            LoginFailure::Throttled { retry_after_secs } => Self::Throttled(retry_after_secs),
            LoginFailure::Unavailable => Self::Unavailable,
        }
    }
}

pub fn event(user: &User, now: Millis, kind: &str, who: &Requester) -> AuditEvent {
    let mut e = AuditEvent::new(now, format!("user:{}", user.id), kind, Outcome::Success)
        .subject(user.id.as_str());
    e.ip = who.ip.clone();
    e.user_agent = who.user_agent.clone();
    e
}

/// Recovery codes for an account that has never had any: generated when the
/// first second factor is enrolled, and returned to be shown once.
pub fn first_recovery_codes(
    c: &mut AnyConnection,
    user_id: &str,
    now: Millis,
) -> Result<Option<Vec<String>>, StorageError> {
    if storage::second_factors::has_recovery_codes(c, user_id)? {
        return Ok(None);
    }
    let codes = recovery::generate();
    let hashes: Vec<String> = codes.iter().filter_map(|c| recovery::hash(c)).collect();
    storage::second_factors::replace_recovery_codes(c, user_id, &hashes, now)?;
    Ok(Some(codes))
}

/// A TOTP enrolment awaiting its first code: what the page shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TotpEnrolment {
    pub secret: String,
    pub uri: String,
    /// `data:` URL of the QR code (SVG rendered here).
    pub qr: String,
}

fn enrolment(ctx: &AppContext, user: &User, secret: &[u8]) -> TotpEnrolment {
    use base64::Engine;
    let uri = totp::otpauth_uri(
        secret,
        &ctx.config
            .issuer_url
            .host_str()
            .unwrap_or("Ward")
            .replace(':', ""),
        &user.username,
    );
    let svg = totp::qr_svg(&uri).unwrap_or_default();
    TotpEnrolment {
        secret: totp::secret_text(secret),
        qr: format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(svg)
        ),
        uri,
    }
}

/// Start (or show again) a TOTP enrolment.
pub async fn begin_totp(ctx: &AppContext, user: &User) -> Result<TotpEnrolment, AccountError> {
    let uid = user.id.to_string();
    let (keyring, now) = (ctx.keyring.clone(), ctx.clock.now_ms());
    let secret = ctx
        .db
        .run(move |db| {
            db.transaction(|c| match storage::second_factors::totp(c, &uid)? {
                Some(t) if t.confirmed_at.is_some() => Ok::<_, AccountError>(None),
                Some(t) => Ok(Some(
                    keyring
                        .open(&login::totp_context(&uid), &t.secret_sealed)
                        .map_err(|_| AccountError::Unavailable)?,
                )),
                None => {
                    let secret = totp::generate_secret();
                    let sealed = keyring.seal(&login::totp_context(&uid), &secret);
                    storage::second_factors::begin_totp(c, &uid, &sealed, now)?;
                    Ok(Some(zeroize::Zeroizing::new(secret)))
                }
            })
        })
        .await?;
    let secret = secret.ok_or_else(|| {
        AccountError::Refused(
            "An authenticator app is already set up. Remove it first to set up another.".into(),
        )
    })?;
    Ok(enrolment(ctx, user, &secret))
}

/// Confirm a pending enrolment with its first code. Returns recovery codes
/// when this is the account's first second factor.
pub async fn confirm_totp(
    ctx: &AppContext,
    user: &User,
    code: &str,
    who: &Requester,
) -> Result<Option<Vec<String>>, AccountError> {
    let check = login::Check {
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
    let enabled = event(user, now, "totp.enabled", who);
    let outcome = ctx
        .db
        .run(move |db| {
            db.transaction(|c| {
                let Some(row) =
                    storage::second_factors::totp(c, &uid)?.filter(|t| t.confirmed_at.is_none())
                else {
                    return Ok::<_, AccountError>(Err(()));
                };
                let secret = keyring
                    .open(&login::totp_context(&uid), &row.secret_sealed)
                    .map_err(|_| AccountError::Unavailable)?;
                let Ok(step) = totp::verify(&secret, &code, now, row.last_step) else {
                    return Ok(Err(()));
                };
                if !storage::second_factors::accept_totp_step(c, &uid, step, now)? {
                    return Ok(Err(()));
                }
                storage::audit::append(c, &enabled)?;
                Ok(Ok(first_recovery_codes(c, &uid, now)?))
            })
        })
        .await?;
    match outcome {
        Ok(codes) => {
            login::notify(ctx, user, "totp_enabled", serde_json::json!({}));
            Ok(codes)
        }
        Err(()) => Err(check.failed("bad_code").await.into()),
    }
}

pub async fn remove_totp(
    ctx: &AppContext,
    user: &User,
    who: &Requester,
) -> Result<(), AccountError> {
    let uid = user.id.to_string();
    let removed = event(user, ctx.clock.now_ms(), "totp.removed", who);
    let done = ctx
        .db
        .run(move |db| {
            db.transaction(|c| {
                let gone = storage::second_factors::remove_totp(c, &uid)?;
                if gone {
                    storage::audit::append(c, &removed)?;
                }
                Ok::<_, StorageError>(gone)
            })
        })
        .await?;
    if done {
        login::notify(ctx, user, "totp_removed", serde_json::json!({}));
    }
    Ok(())
}

/// A new set of recovery codes; the old set stops working.
pub async fn regenerate_recovery_codes(
    ctx: &AppContext,
    user: &User,
    who: &Requester,
) -> Result<Vec<String>, AccountError> {
    let codes = recovery::generate();
    let hashes: Vec<String> = codes.iter().filter_map(|c| recovery::hash(c)).collect();
    let (uid, now) = (user.id.to_string(), ctx.clock.now_ms());
    let e = event(user, now, "recovery_codes.generated", who);
    ctx.db
        .run(move |db| {
            db.transaction(|c| {
                storage::second_factors::replace_recovery_codes(c, &uid, &hashes, now)?;
                storage::audit::append(c, &e)
            })
        })
        .await?;
    login::notify(
        ctx,
        user,
        "recovery_codes_regenerated",
        serde_json::json!({}),
    );
    Ok(codes)
}

/// Remove a passkey, unless it is the last way into an account without a password.
pub async fn remove_passkey(
    ctx: &AppContext,
    user: &User,
    credential_id: &str,
    who: &Requester,
) -> Result<(), AccountError> {
    let (uid, cred) = (user.id.to_string(), credential_id.to_string());
    let id = user.id.clone();
    let e = event(user, ctx.clock.now_ms(), "passkey.removed", who)
        .detail("credential_id", credential_id);
    ctx.db
        .run(move |db| {
            db.transaction(|c| {
                let has_password = storage::users::password_hash(c, &id)?.is_some();
                let count = storage::passkeys::count_for_user(c, &uid)?;
                if !has_password && count <= 1 {
                    return Err(AccountError::Refused(
                        "This is the last passkey on an account without a password: removing it would leave no way to sign in. Add another passkey first.".into(),
                    ));
                }
                if !storage::passkeys::remove(c, &uid, &cred)? {
                    return Err(AccountError::Refused("There is no such passkey on this account.".into()));
                }
                storage::audit::append(c, &e)?;
                Ok(())
            })
        })
        .await
}

pub async fn rename_passkey(
    ctx: &AppContext,
    user: &User,
    credential_id: &str,
    name: &str,
) -> Result<(), AccountError> {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AccountError::Refused(
            "A passkey name has 1 to 64 characters.".into(),
        ));
    }
    let (uid, cred) = (user.id.to_string(), credential_id.to_string());
    let renamed = ctx
        .db
        .run(move |db| storage::passkeys::rename(&mut *db.conn()?, &uid, &cred, &name))
        .await?;
    if renamed {
        Ok(())
    } else {
        Err(AccountError::Refused(
            "There is no such passkey on this account.".into(),
        ))
    }
}

/// Change (or set) the password; the current one is required when there is one.
pub async fn change_password(
    ctx: &AppContext,
    user: &User,
    current: String,
    new: String,
    who: &Requester,
) -> Result<(), AccountError> {
    crate::authn::password::check_policy(&new)
        .map_err(|e| AccountError::Refused(format!("The new password is not accepted: {e}.")))?;
    let id = user.id.clone();
    let stored = ctx
        .db
        .run(move |db| storage::users::password_hash(&mut *db.conn()?, &id))
        .await?;
    if stored.is_some() && !ctx.passwords.verify_async(current, stored).await {
        let check = login::Check {
            ctx,
            who,
            username: user.username.clone(),
            kind: "password",
            now: ctx.clock.now_ms(),
        };
        return Err(match check.failed("bad_password").await {
            LoginFailure::Invalid => {
                AccountError::Refused("The current password is not correct.".into())
            }
            other => other.into(),
        });
    }
    let hash = ctx
        .passwords
        .hash_async(new)
        .await
        .map_err(|_| AccountError::Unavailable)?;
    let (id, now) = (user.id.clone(), ctx.clock.now_ms());
    let e = event(user, now, "password.changed", who);
    ctx.db
        .run(move |db| {
            db.transaction(|c| {
                storage::users::set_password_hash(c, &id, &hash, now)?;
                storage::audit::append(c, &e)
            })
        })
        .await?;
    login::notify(ctx, user, "password_changed", serde_json::json!({}));
    Ok(())
}

/// Set the address (if new) and send it a verification code.
pub async fn send_email_verification(
    ctx: &AppContext,
    user: &User,
    email: &str,
    who: &Requester,
) -> Result<(), AccountError> {
    let email = crate::domain::Email::parse(email.trim())
        .map_err(|e| AccountError::Refused(format!("Email: {e}")))?
        .as_str()
        .to_string();
    let now = ctx.clock.now_ms();
    if user.email.as_deref() != Some(email.as_str()) || !user.email_verified {
        let (uid, addr) = (user.id.to_string(), email.clone());
        ctx.db
            .run(move |db| storage::users::set_email(&mut *db.conn()?, &uid, &addr, now))
            .await?;
    }
    if !login::issue_email_code(ctx, user, &email, "verify_email", now, who).await? {
        return Err(AccountError::Refused(
            "Too many codes were sent to this account in the last hour. Try again later.".into(),
        ));
    }
    Ok(())
}

/// Prove the address with the code sent to it.
pub async fn verify_email(
    ctx: &AppContext,
    user: &User,
    code: &str,
    who: &Requester,
) -> Result<(), AccountError> {
    let email =
        login::verify_email_code(ctx, &user.username, Some(user), "verify_email", code, who)
            .await?;
    let (uid, now) = (user.id.to_string(), ctx.clock.now_ms());
    let e = event(user, now, "email.verified", who).detail("email", email.as_str());
    ctx.db
        .run(move |db| {
            db.transaction(|c| {
                storage::users::mark_email_verified(c, &uid, &email, now)?;
                storage::audit::append(c, &e)
            })
        })
        .await?;
    Ok(())
}

/// What the account page shows of an account.
pub struct Overview {
    pub factors: crate::authn::signin::AccountFactors,
    pub passkeys: Vec<storage::passkeys::PasskeyRow>,
    /// The most recent sessions (live and ended), newest first.
    pub sessions: Vec<crate::store::SessionRow>,
}

/// The account page's view of `user`'s account.
pub async fn overview(ctx: &AppContext, user: &User) -> Result<Overview, AccountError> {
    let user = user.clone();
    ctx.db
        .run(move |db| {
            let mut c = db.conn()?;
            let uid = user.id.as_str();
            Ok(Overview {
                factors: crate::authn::signin::progress::account_factors(&mut c, &user)?,
                passkeys: storage::passkeys::for_user(&mut c, uid)?,
                sessions: storage::sessions::for_user(&mut c, uid, None, 50)?,
            })
        })
        .await
}
