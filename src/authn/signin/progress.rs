//! A sign-in in progress, kept server-side between pages: a row named by the
//! hash of a random cookie value, holding the [`Progress`] as JSON. It lives
//! ten minutes, and every step stores it under a new id (the old one is
//! consumed), so a cookie that leaked one step ago is worth nothing.

use super::{AccountFactors, Progress};
use crate::authn::deps::Deps;
use crate::authn::login::{LoginFailure, normalise_username};
use crate::crypto::secrets;
use crate::domain::records::User;
use crate::store::{ProgressRow, Store, StoreError};

/// A sign-in in progress lives ten minutes.
pub const LIFETIME_MS: i64 = 10 * 60 * 1000;

/// The progress cookie's name: `__Host-` (which requires Secure) over HTTPS.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-ward_login"
    } else {
        "ward_login"
    }
}

/// The sign-in in progress named by `cookie`, with its user (None for an
/// unknown account) and what protects that account.
pub async fn load(
    deps: &Deps,
    cookie: Option<&str>,
) -> Result<Option<(Progress, Option<User>, AccountFactors)>, LoginFailure> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let hash = secrets::hash(cookie);
    let now = deps.now();
    deps.run(move |s| {
        let Some(row) = s.progress(&hash, now)? else {
            return Ok(None);
        };
        let Ok(progress) = serde_json::from_str::<Progress>(&row.state) else {
            return Ok(None);
        };
        let user = match &progress.user_id {
            Some(id) => s.user(id.as_str())?,
            None => None,
        };
        let factors = match &user {
            Some(u) => account_factors(s, u)?,
            None => AccountFactors::default(),
        };
        Ok::<_, LoginFailure>(Some((progress, user, factors)))
    })
    .await
}

/// Store `progress` under a new id, consuming the one named by `old`;
/// returns the new cookie value.
pub async fn save(
    deps: &Deps,
    old: Option<&str>,
    progress: &Progress,
) -> Result<String, LoginFailure> {
    let id = secrets::generate(32);
    let now = deps.now();
    let row = ProgressRow {
        id_hash: secrets::hash(&id),
        user_id: progress.user_id.as_ref().map(ToString::to_string),
        state: serde_json::to_string(progress).map_err(|_| LoginFailure::Unavailable)?,
        created_at: now,
        expires_at: now + LIFETIME_MS,
    };
    let old = old.map(secrets::hash);
    deps.run(move |s| {
        s.save_progress(&row, old.as_deref())
            .map_err(LoginFailure::from)
    })
    .await?;
    Ok(id)
}

/// What protects `user`'s account.
pub async fn account_of(deps: &Deps, user: &User) -> Result<AccountFactors, LoginFailure> {
    let user = user.clone();
    deps.run(move |s| account_factors(s, &user).map_err(LoginFailure::from))
        .await
}

/// The account with this (typed) name, if any.
pub async fn user_by_name(deps: &Deps, typed: &str) -> Result<Option<User>, LoginFailure> {
    let name = normalise_username(typed);
    deps.run(move |s| s.user_by_username(&name).map_err(LoginFailure::from))
        .await
}

/// What protects `user`'s account: the enrolled factors and a verified address.
pub fn account_factors(s: &dyn Store, user: &User) -> Result<AccountFactors, StoreError> {
    let enrolled = s.enrolled(&user.id)?;
    Ok(AccountFactors {
        password: enrolled.password,
        totp: enrolled.totp,
        passkeys: enrolled.passkeys,
        recovery_codes: enrolled.recovery_codes,
        email: user.email.clone().filter(|_| user.email_verified),
    })
}
