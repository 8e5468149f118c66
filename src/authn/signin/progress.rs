//! A sign-in in progress, kept server-side between pages: a row named by the
//! hash of a random cookie value, holding the [`Progress`] as JSON. It lives
//! ten minutes, and every step stores it under a new id (the old one is
//! consumed), so a cookie that leaked one step ago is worth nothing.

use super::{AccountFactors, Progress};
use crate::authn::login::{LoginFailure, normalise_username};
use crate::context::AppContext;
use crate::crypto::secrets;
use crate::storage::{self, AnyConnection, StorageError, users::User};
use crate::store::UserStore;

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
    ctx: &AppContext,
    cookie: Option<&str>,
) -> Result<Option<(Progress, Option<User>, AccountFactors)>, LoginFailure> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let hash = secrets::hash(cookie);
    let now = ctx.clock.now_ms();
    ctx.db
        .run(move |db| {
            let mut c = db.conn()?;
            let Some(row) = storage::login_progress::find(&mut c, &hash, now)? else {
                return Ok(None);
            };
            let Ok(progress) = serde_json::from_str::<Progress>(&row.state) else {
                return Ok(None);
            };
            let user = match &progress.user_id {
                Some(id) => db.user(id).map_err(|_| LoginFailure::Unavailable)?,
                None => None,
            };
            let factors = match &user {
                Some(u) => account_factors(&mut c, u)?,
                None => AccountFactors::default(),
            };
            Ok(Some((progress, user, factors)))
        })
        .await
}

/// Store `progress` under a new id, consuming the one named by `old`;
/// returns the new cookie value.
pub async fn save(
    ctx: &AppContext,
    old: Option<&str>,
    progress: &Progress,
) -> Result<String, LoginFailure> {
    let id = secrets::generate(32);
    let now = ctx.clock.now_ms();
    let row = storage::login_progress::ProgressRow {
        id_hash: secrets::hash(&id),
        user_id: progress.user_id.clone(),
        state: serde_json::to_string(progress).map_err(|_| LoginFailure::Unavailable)?,
        created_at: now,
        expires_at: now + LIFETIME_MS,
    };
    let old = old.map(secrets::hash);
    ctx.db
        .run(move |db| {
            db.transaction(|c| {
                if let Some(old) = &old {
                    storage::login_progress::finish(c, old)?;
                }
                storage::login_progress::insert(c, &row)
            })
        })
        .await?;
    Ok(id)
}

/// What protects `user`'s account.
pub async fn account_of(ctx: &AppContext, user: &User) -> Result<AccountFactors, LoginFailure> {
    let user = user.clone();
    Ok(ctx
        .db
        .run(move |db| account_factors(&mut *db.conn()?, &user))
        .await?)
}

/// The account with this (typed) name, if any.
pub async fn user_by_name(ctx: &AppContext, typed: &str) -> Result<Option<User>, LoginFailure> {
    let name = normalise_username(typed);
    ctx.db
        .run(move |db| {
            Ok::<_, LoginFailure>(storage::users::find_by_username(&mut *db.conn()?, &name)?)
        })
        .await
}

pub fn account_factors(c: &mut AnyConnection, user: &User) -> Result<AccountFactors, StorageError> {
    let id = user.id.as_str();
    Ok(AccountFactors {
        password: storage::users::password_hash(c, &user.id)?.is_some(),
        totp: storage::second_factors::totp(c, id)?.is_some_and(|t| t.confirmed_at.is_some()),
        passkeys: storage::passkeys::count_for_user(c, id)?,
        recovery_codes: storage::second_factors::unused_recovery_codes(c, id)?,
        email: user.email.clone().filter(|_| user.email_verified),
    })
}
