//! The login state machine. A sign-in collects factors until the account's
//! rules are met: identify (a username, or a passkey that names its user),
//! then the first factor, then a second factor when the account has one.
//! [`next`] decides what is still missing; the verify functions check one
//! factor each, throttled and audited. Pages render what [`next`] says and
//! never learn the rules.

use serde::{Deserialize, Serialize};

use crate::app::AppContext;
use crate::audit::{AuditEvent, Outcome};
use crate::authn::factors::{self, Factor};
use crate::authn::throttle;
use crate::clock::Millis;
use crate::domain::{UserStatus, Username};
use crate::session::Authentication;
use crate::storage::users::User;
use crate::storage::{self, AnyConnection, StorageError, throttle as throttle_store};
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

/// A sign-in in progress, kept server-side between pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The account name typed (normalised), empty for a passkey-first sign-in.
    pub username: String,
    /// None while unknown, and for accounts that do not exist.
    pub user_id: Option<String>,
    pub factors: Vec<Factor>,
    /// When each factor was proven (same order as `factors`).
    pub proven_at: Vec<Millis>,
}

impl Progress {
    pub fn new(username: &str) -> Self {
        Self {
            username: normalise_username(username),
            user_id: None,
            factors: Vec::new(),
            proven_at: Vec::new(),
        }
    }

    pub fn prove(&mut self, factor: Factor, at: Millis) {
        if !self.factors.contains(&factor) {
            self.factors.push(factor);
            self.proven_at.push(at);
        }
    }
}

/// What protects an account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountFactors {
    pub password: bool,
    pub totp: bool,
    pub passkeys: i64,
    pub recovery_codes: i64,
    /// A verified address that can receive codes.
    pub email: Option<String>,
}

impl AccountFactors {
    /// A factor beyond the password that the account has enrolled.
    pub fn has_second_factor(&self) -> bool {
        self.totp || self.passkeys > 0
    }
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

/// What the sign-in needs next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Done(Authentication),
    /// The password (after an email or recovery code on an account that has one).
    Password,
    /// One of the account's second factors.
    SecondFactor,
    /// An email or recovery code (a recovery sign-in that has proven nothing yet).
    Code,
    /// Step-up to `phr`/`phrh`: only a passkey will do.
    Passkey,
    /// The client needs an acr the account has no factor for
    /// (`unmet_authentication_requirements`).
    Unmet,
}

/// The rules. A passkey is enough on its own (it is multi-factor). An account
/// with a password needs it; with a second factor enrolled, a password needs a
/// second factor (TOTP, passkey, recovery code or an email code). Accounts
/// without a password (patients with passkeys) may recover with an email or
/// recovery code alone, at AAL1. Unknown accounts never finish.
pub fn next(progress: &Progress, account: Option<&AccountFactors>) -> Next {
    let proven = &progress.factors;
    let done = |p: &Progress| {
        let a = factors::assess(&p.factors);
        Next::Done(Authentication {
            user_id: p.user_id.clone().unwrap_or_default(),
            acr: a.acr,
            amr: a.amr,
            auth_time: p.proven_at.iter().copied().max().unwrap_or(0),
            factor_times: p
                .factors
                .iter()
                .zip(&p.proven_at)
                .map(|(f, at)| (f.amr().to_string(), *at))
                .collect(),
        })
    };
    let Some(account) = account.filter(|_| progress.user_id.is_some()) else {
        return if proven.contains(&Factor::Password) {
            Next::SecondFactor
        } else {
            Next::Code
        };
    };
    if proven.iter().any(|f| matches!(f, Factor::Passkey { .. })) {
        return done(progress);
    }
    // A recovery sign-in starts with a code whatever the account, so that the
    // page shown before any proof says nothing about the account.
    if proven.is_empty() {
        return Next::Code;
    }
    if account.password && !proven.contains(&Factor::Password) {
        return Next::Password;
    }
    if account.password && proven.len() == 1 && account.has_second_factor() {
        return Next::SecondFactor;
    }
    done(progress)
}

/// [`next`] with a required acr (step-up, docs/mfa.md): when the usual rules
/// are met but the result is weaker than `required`, ask only for what is
/// missing, or say it cannot be met.
pub fn next_for(
    progress: &Progress,
    account: Option<&AccountFactors>,
    required: Option<&str>,
) -> Next {
    let n = next(progress, account);
    let (Next::Done(auth), Some(need), Some(account)) = (&n, required, account) else {
        return n;
    };
    if factors::acr_satisfies(&auth.acr, need) {
        return n;
    }
    let has_passkey = progress
        .factors
        .iter()
        .any(|f| matches!(f, Factor::Passkey { .. }));
    if need == factors::ACR_AAL2 {
        // A password and one of these makes AAL2; a passkey makes more.
        let second = account.totp || account.recovery_codes > 0 || account.passkeys > 0;
        return if second && (account.password || account.passkeys > 0) {
            Next::SecondFactor
        } else {
            Next::Unmet
        };
    }
    // phr / phrh: a passkey, unless one was used and was not enough (phrh from a synced key).
    if account.passkeys > 0 && !has_passkey {
        Next::Passkey
    } else {
        Next::Unmet
    }
}

/// The factors an existing session proved, read back from its amr, for a
/// step-up that asks only for what is missing.
pub fn factors_from_amr(amr: &[String]) -> Vec<Factor> {
    amr.iter()
        .filter_map(|a| match a.as_str() {
            "pwd" => Some(Factor::Password),
            "otp" => Some(Factor::Totp),
            "rec" => Some(Factor::RecoveryCode),
            "email" => Some(Factor::EmailCode),
            "hwk" => Some(Factor::Passkey { device_bound: true }),
            "swk" => Some(Factor::Passkey {
                device_bound: false,
            }),
            _ => None,
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(factors: &[Factor]) -> Progress {
        let mut p = Progress::new("alice");
        p.user_id = Some("u".into());
        for (i, f) in factors.iter().enumerate() {
            p.prove(*f, i as i64);
        }
        p
    }

    fn account(password: bool, totp: bool, passkeys: i64) -> AccountFactors {
        AccountFactors {
            password,
            totp,
            passkeys,
            ..Default::default()
        }
    }

    #[test]
    fn password_only_account_is_done_after_its_password() {
        let n = next(
            &progress(&[Factor::Password]),
            Some(&account(true, false, 0)),
        );
        assert!(matches!(n, Next::Done(a) if a.acr == "aal1"));
    }

    #[test]
    fn an_enrolled_second_factor_is_required() {
        let acct = account(true, true, 0);
        assert_eq!(
            next(&progress(&[Factor::Password]), Some(&acct)),
            Next::SecondFactor
        );
        let n = next(&progress(&[Factor::Password, Factor::Totp]), Some(&acct));
        assert!(matches!(n, Next::Done(a) if a.acr == "aal2" && a.auth_time == 1));
    }

    #[test]
    fn a_passkey_is_enough() {
        let n = next(
            &progress(&[Factor::Passkey {
                device_bound: false,
            }]),
            Some(&account(true, true, 1)),
        );
        assert!(matches!(n, Next::Done(a) if a.acr == "phr"));
    }

    #[test]
    fn codes_first_then_the_password_if_there_is_one() {
        let acct = account(true, true, 0);
        assert_eq!(next(&progress(&[]), Some(&acct)), Next::Code);
        assert_eq!(
            next(&progress(&[Factor::EmailCode]), Some(&acct)),
            Next::Password
        );
        let n = next(
            &progress(&[Factor::EmailCode, Factor::Password]),
            Some(&acct),
        );
        assert!(matches!(n, Next::Done(a) if a.acr == "aal1"));
        let patient = account(false, false, 1);
        assert_eq!(next(&progress(&[]), Some(&patient)), Next::Code);
        let n = next(&progress(&[Factor::RecoveryCode]), Some(&patient));
        assert!(matches!(n, Next::Done(a) if a.acr == "aal1"));
    }

    #[test]
    fn step_up_asks_only_for_what_is_missing() {
        let staff = account(true, true, 0);
        let pwd = progress(&[Factor::Password]);
        // A password-only account cannot reach aal2; with TOTP it is asked for.
        assert_eq!(
            next_for(&pwd, Some(&account(true, false, 0)), Some("aal2")),
            Next::Unmet
        );
        let mut totp_account = staff.clone();
        totp_account.totp = true;
        assert_eq!(
            next_for(&pwd, Some(&totp_account), Some("aal1")),
            next(&pwd, Some(&totp_account))
        );
        // phr needs a passkey; without one it cannot be met.
        let done = progress(&[Factor::Password, Factor::Totp]);
        assert_eq!(next_for(&done, Some(&staff), Some("phr")), Next::Unmet);
        assert_eq!(
            next_for(&done, Some(&account(true, true, 1)), Some("phr")),
            Next::Passkey
        );
        assert!(matches!(
            next_for(&done, Some(&staff), Some("aal2")),
            Next::Done(_)
        ));
        // A synced passkey does not make phrh.
        let synced = progress(&[Factor::Passkey {
            device_bound: false,
        }]);
        assert_eq!(
            next_for(&synced, Some(&account(false, false, 1)), Some("phrh")),
            Next::Unmet
        );
        assert_eq!(
            factors_from_amr(&["pwd".into(), "otp".into(), "mfa".into()]),
            vec![Factor::Password, Factor::Totp]
        );
    }

    #[test]
    fn unknown_accounts_never_finish() {
        let mut p = progress(&[Factor::Password]);
        p.user_id = None;
        assert_eq!(next(&p, None), Next::SecondFactor);
        p.factors.clear();
        assert_eq!(next(&p, None), Next::Code);
    }
}
