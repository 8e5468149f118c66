//! Self-service changes to one's own factors: passkeys, TOTP, recovery codes,
//! password and email address. Each change is audited in its transaction and
//! mailed to the user. Callers check that the session's authentication is
//! recent; this module refuses what would leave an account unprotected.

use crate::audit::{AuditEvent, Outcome};
use crate::authn::deps::Deps;
use crate::authn::login::{self, LoginFailure, Requester};
use crate::authn::{recovery, totp};
use crate::clock::Millis;
use crate::context::AppContext;
use crate::domain::records::User;
use crate::store::{PasskeyRemoval, PasskeyRow, SessionRow, StoreError, TotpRow};

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

impl From<StoreError> for AccountError {
    fn from(_: StoreError) -> Self {
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

/// A fresh set of recovery codes and their hashes. An account that has
/// never had any gets them with its first second factor (the store decides,
/// in the enrolment's transaction), and they are shown once.
pub fn fresh_recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes = recovery::generate();
    let hashes = codes.iter().filter_map(|c| recovery::hash(c)).collect();
    (codes, hashes)
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
    let deps = Deps::of(ctx);
    let uid = user.id.to_string();
    let (keyring, now) = (&deps.keyring, deps.now());
    let fresh = zeroize::Zeroizing::new(totp::generate_secret());
    let sealed = keyring.seal(&login::totp_context(&uid), &fresh);
    let id = uid.clone();
    let pending = deps
        .run(move |s| s.begin_totp(&id, &sealed, now).map_err(AccountError::from))
        .await?;
    let sealed = pending.ok_or_else(|| {
        AccountError::Refused(
            "An authenticator app is already set up. Remove it first to set up another.".into(),
        )
    })?;
    let secret = keyring
        .open(&login::totp_context(&uid), &sealed)
        .map_err(|_| AccountError::Unavailable)?;
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
    let deps = Deps::of(ctx);
    let check = login::Check {
        deps: &deps,
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
    let enabled = event(user, now, "totp.enabled", who);
    let (codes, hashes) = fresh_recovery_codes();
    let outcome = deps
        .run(move |s| {
            let step_of = |row: &TotpRow| {
                let secret = keyring
                    .open(&login::totp_context(&row.user_id), &row.secret_sealed)
                    .map_err(|_| StoreError::Unavailable)?;
                Ok(totp::verify(&secret, &code, now, row.last_step).ok())
            };
            s.confirm_totp(&uid, now, &step_of, &enabled, &hashes)
                .map_err(AccountError::from)
        })
        .await?;
    match outcome {
        Some(first) => {
            login::notify(&deps, user, "totp_enabled", serde_json::json!({}));
            Ok(first.then_some(codes))
        }
        None => Err(check.failed("bad_code").await.into()),
    }
}

pub async fn remove_totp(
    ctx: &AppContext,
    user: &User,
    who: &Requester,
) -> Result<(), AccountError> {
    let deps = Deps::of(ctx);
    let uid = user.id.to_string();
    let removed = event(user, deps.now(), "totp.removed", who);
    let done = deps
        .run(move |s| s.remove_totp(&uid, &removed).map_err(AccountError::from))
        .await?;
    if done {
        login::notify(&deps, user, "totp_removed", serde_json::json!({}));
    }
    Ok(())
}

/// A new set of recovery codes; the old set stops working.
pub async fn regenerate_recovery_codes(
    ctx: &AppContext,
    user: &User,
    who: &Requester,
) -> Result<Vec<String>, AccountError> {
    let deps = Deps::of(ctx);
    let (codes, hashes) = fresh_recovery_codes();
    let (uid, now) = (user.id.to_string(), deps.now());
    let e = event(user, now, "recovery_codes.generated", who);
    deps.run(move |s| {
        s.replace_recovery_codes(&uid, &hashes, now, &e)
            .map_err(AccountError::from)
    })
    .await?;
    login::notify(
        &deps,
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
    let deps = Deps::of(ctx);
    let (id, cred) = (user.id.clone(), credential_id.to_string());
    let e = event(user, deps.now(), "passkey.removed", who).detail("credential_id", credential_id);
    let removal = deps
        .run(move |s| s.remove_passkey(&id, &cred, &e).map_err(AccountError::from))
        .await?;
    match removal {
        PasskeyRemoval::Removed => Ok(()),
        PasskeyRemoval::LastWayIn => Err(AccountError::Refused(
            "This is the last passkey on an account without a password: removing it would leave no way to sign in. Add another passkey first.".into(),
        )),
        PasskeyRemoval::NotFound => Err(AccountError::Refused(
            "There is no such passkey on this account.".into(),
        )),
    }
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
    let renamed = Deps::of(ctx)
        .run(move |s| {
            s.rename_passkey(&uid, &cred, &name)
                .map_err(AccountError::from)
        })
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
    let deps = Deps::of(ctx);
    let id = user.id.clone();
    let stored = deps
        .run(move |s| s.password_hash(&id).map_err(AccountError::from))
        .await?;
    if stored.is_some() && !deps.passwords.verify_async(current, stored).await {
        let check = login::Check {
            deps: &deps,
            who,
            username: user.username.clone(),
            kind: "password",
            now: deps.now(),
        };
        return Err(match check.failed("bad_password").await {
            LoginFailure::Invalid => {
                AccountError::Refused("The current password is not correct.".into())
            }
            other => other.into(),
        });
    }
    let hash = deps
        .passwords
        .hash_async(new)
        .await
        .map_err(|_| AccountError::Unavailable)?;
    let (id, now) = (user.id.clone(), deps.now());
    let e = event(user, now, "password.changed", who);
    deps.run(move |s| {
        s.set_password(&id, &hash, now, &e)
            .map_err(AccountError::from)
    })
    .await?;
    login::notify(&deps, user, "password_changed", serde_json::json!({}));
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
    let deps = Deps::of(ctx);
    let now = deps.now();
    if user.email.as_deref() != Some(email.as_str()) || !user.email_verified {
        let (uid, addr) = (user.id.to_string(), email.clone());
        deps.run(move |s| s.set_email(&uid, &addr, now).map_err(AccountError::from))
            .await?;
    }
    if !login::issue_email_code(&deps, user, &email, "verify_email", now, who).await? {
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
    let deps = Deps::of(ctx);
    let email =
        login::verify_email_code(&deps, &user.username, Some(user), "verify_email", code, who)
            .await?;
    let (uid, now) = (user.id.to_string(), deps.now());
    let e = event(user, now, "email.verified", who).detail("email", email.as_str());
    deps.run(move |s| {
        s.verify_email(&uid, &email, now, &e)
            .map_err(AccountError::from)
    })
    .await?;
    Ok(())
}

/// What the account page shows of an account.
pub struct Overview {
    pub factors: crate::authn::signin::AccountFactors,
    pub passkeys: Vec<PasskeyRow>,
    /// The most recent sessions (live and ended), newest first.
    pub sessions: Vec<SessionRow>,
}

/// The account page's view of `user`'s account.
pub async fn overview(ctx: &AppContext, user: &User) -> Result<Overview, AccountError> {
    let user = user.clone();
    Deps::of(ctx)
        .run(move |s| {
            let uid = user.id.as_str();
            Ok(Overview {
                factors: crate::authn::signin::progress::account_factors(s, &user)?,
                passkeys: s.passkeys(uid)?,
                sessions: s.user_sessions(&user.id, 50)?,
            })
        })
        .await
}
