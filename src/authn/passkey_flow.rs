//! Passkey ceremonies end to end: options out, the authenticator's answer in,
//! with the ceremony state kept server-side (single use, five minutes), every
//! refusal audited, and the AAGUID allow-list for staff applied.

use serde_json::{Value, json};
use webauthn_rs::prelude::{Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Uuid};

use crate::audit::{AuditEvent, Outcome};
use crate::authn::deps::Deps;
use crate::authn::factors::Factor;
use crate::authn::login::{Check, LoginFailure, Requester};
use crate::authn::passkeys::{CeremonyState, PasskeyError};
use crate::context::AppContext;
use crate::crypto::secrets;
use crate::domain::UserStatus;
use crate::domain::records::User;
use crate::store::{CeremonyRow, NewPatient, PasskeyRow, StoreError};

/// Why a registration did not happen; the message is fit for the user, and
/// [`RegistrationError::audit_reason`] is what the audit trail records.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The authenticator's answer failed verification (the reason is for the audit trail).
    #[error("The passkey could not be registered. Try again, or use another device.")]
    Refused(String),
    /// The ceremony is unknown, used or expired.
    #[error("This request has expired. Try again.")]
    Expired,
    /// A registration policy says no; the message explains it.
    #[error("{0}")]
    Policy(String),
    #[error("That username is taken or not allowed.")]
    UsernameUnavailable,
    #[error("{0}")]
    Invalid(String),
    #[error("Registering passkeys is not possible right now. Try again in a moment.")]
    Unavailable,
    #[error("Passkeys are not available on this server: its address is not a domain name.")]
    NotConfigured,
}

impl RegistrationError {
    /// The reason recorded in the audit trail.
    pub fn audit_reason(&self) -> String {
        match self {
            Self::Refused(r) => r.clone(),
            Self::Expired => "unknown_or_expired_ceremony".into(),
            Self::Policy(_) => "policy".into(),
            Self::UsernameUnavailable => "username_unavailable".into(),
            Self::Invalid(_) => "invalid_input".into(),
            Self::Unavailable => "unavailable".into(),
            Self::NotConfigured => "not_configured".into(),
        }
    }
}

/// A taken username (or credential) comes back from the store as `None`,
/// never as an error; every store error means Ward cannot register now.
impl From<StoreError> for RegistrationError {
    fn from(_: StoreError) -> Self {
        Self::Unavailable
    }
}

async fn save_ceremony(
    ctx: &AppContext,
    kind: &str,
    user_id: Option<String>,
    state: &CeremonyState,
    context: Value,
) -> Result<String, StoreError> {
    let id = secrets::generate(32);
    let now = ctx.clock.now_ms();
    let row = CeremonyRow {
        id_hash: secrets::hash(&id),
        kind: kind.to_string(),
        user_id,
        state: serde_json::to_string(state)
            .map_err(|e| StoreError::Internal(format!("ceremony state: {e}")))?,
        context: context.to_string(),
        created_at: now,
        expires_at: now + i64::from(ctx.config.passkeys.ceremony_seconds) * 1000,
    };
    Deps::of(ctx).run(move |s| s.save_ceremony(&row)).await?;
    Ok(id)
}

/// Take (single use) the ceremony `id` of `kind`; None if unknown, used, expired or another kind.
async fn take_ceremony(
    ctx: &AppContext,
    id: &str,
    kind: &'static str,
) -> Result<Option<(CeremonyRow, CeremonyState)>, StoreError> {
    let hash = secrets::hash(id);
    let now = ctx.clock.now_ms();
    let row = Deps::of(ctx)
        .run(move |s| s.take_ceremony(&hash, now))
        .await?;
    Ok(row.filter(|r| r.kind == kind).and_then(|r| {
        let state = serde_json::from_str(&r.state).ok()?;
        Some((r, state))
    }))
}

/// Options for a usernameless sign-in (modal or autofill) and the ceremony id.
pub async fn start_sign_in(ctx: &AppContext) -> Result<(Value, String), LoginFailure> {
    let (options, state) = ctx
        .passkeys
        .start_authentication()
        .map_err(|_| LoginFailure::Unavailable)?;
    let id = save_ceremony(ctx, "authenticate", None, &state, json!({})).await?;
    Ok((json!(options), id))
}

/// Verify a sign-in assertion: which user, and the passkey factor it proves.
pub async fn finish_sign_in(
    ctx: &AppContext,
    ceremony: &str,
    credential: Value,
    who: &Requester,
) -> Result<(User, Factor), LoginFailure> {
    let deps = Deps::of(ctx);
    let check = Check {
        deps: &deps,
        who,
        username: String::new(),
        kind: "passkey",
        now: deps.now(),
    };
    check.not_blocked().await?;
    let Some((_, CeremonyState::Authenticate(state))) =
        take_ceremony(ctx, ceremony, "authenticate").await?
    else {
        return Err(check.failed("unknown_or_expired_ceremony").await);
    };
    let Ok(credential) = serde_json::from_value::<PublicKeyCredential>(credential) else {
        return Err(check.failed("malformed_credential").await);
    };
    let (user_uuid, cred_id) = match ctx.passkeys.identify(&credential) {
        Ok(v) => v,
        Err(e) => return Err(check.failed(&reason(&e)).await),
    };
    let lookup = cred_id.clone();
    let found = deps
        .run(move |s| {
            let row = s.passkey(&lookup)?;
            let user = match &row {
                Some(r) => s.user(&r.user_id)?,
                None => None,
            };
            Ok::<_, LoginFailure>(row.zip(user))
        })
        .await?;
    let Some((row, user)) = found.filter(|(r, _)| r.user_id == user_uuid.to_string()) else {
        return Err(check.failed("unknown_credential").await);
    };
    // The account is known now: its own delays and lock apply, as for every factor.
    let check = Check {
        username: user.username.clone(),
        ..check
    };
    check.not_blocked().await?;
    if user.status != UserStatus::Active {
        return Err(check.failed("account_disabled").await);
    }
    let Ok(passkey) = serde_json::from_str::<Passkey>(&row.passkey) else {
        return Err(LoginFailure::Unavailable);
    };
    let (asserted, updated) =
        match ctx
            .passkeys
            .finish_authentication(&credential, state, user_uuid, &passkey)
        {
            Ok(v) => v,
            Err(e) => return Err(check.failed(&reason(&e)).await),
        };
    let json = serde_json::to_string(&updated).map_err(|_| LoginFailure::Unavailable)?;
    let now = check.now;
    let id = asserted.credential_id.clone();
    deps.run(move |s| {
        s.record_passkey_use(&id, &json, asserted.backup_state, now)
            .map_err(LoginFailure::from)
    })
    .await?;
    Ok((
        user,
        Factor::Passkey {
            device_bound: !row.backup_eligible,
        },
    ))
}

fn reason(e: &PasskeyError) -> String {
    match e {
        PasskeyError::Refused(r) | PasskeyError::Config(r) => {
            format!("webauthn:{}", r.chars().take(80).collect::<String>())
        }
    }
}

fn not_configured(e: PasskeyError) -> RegistrationError {
    match e {
        PasskeyError::Config(_) => RegistrationError::NotConfigured,
        PasskeyError::Refused(_) => RegistrationError::Unavailable,
    }
}

fn webauthn_user_id(user: &User) -> Result<Uuid, RegistrationError> {
    Uuid::parse_str(user.id.as_str()).map_err(|_| RegistrationError::Unavailable)
}

/// Options to add a passkey to `user`'s account.
pub async fn start_registration(
    ctx: &AppContext,
    user: &User,
    name: &str,
) -> Result<(Value, String), RegistrationError> {
    let name = passkey_name(name)?;
    let uid = user.id.to_string();
    let existing = Deps::of(ctx)
        .run(move |s| s.passkeys(&uid).map_err(RegistrationError::from))
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
        .map(|p| p.cred_id().to_vec())
        .collect();
    let display = crate::authn::login::display_name(user);
    let (options, state) = ctx
        .passkeys
        .start_registration(webauthn_user_id(user)?, &user.username, &display, existing)
        .map_err(not_configured)?;
    let id = save_ceremony(
        ctx,
        "register",
        Some(user.id.to_string()),
        &state,
        json!({ "name": name }),
    )
    .await?;
    Ok((json!(options), id))
}

fn passkey_name(name: &str) -> Result<String, RegistrationError> {
    let name = name.trim();
    let name = if name.is_empty() { "Passkey" } else { name };
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(RegistrationError::Invalid(
            "A passkey name has at most 64 characters.".into(),
        ));
    }
    Ok(name.to_string())
}

/// Verify a registration and describe the new passkey (not stored yet).
fn verify_registration(
    ctx: &AppContext,
    row: &CeremonyRow,
    state: CeremonyState,
    credential: Value,
    account_type: &str,
) -> Result<PasskeyRow, RegistrationError> {
    let CeremonyState::Register(state) = state else {
        return Err(RegistrationError::Refused("wrong ceremony".into()));
    };
    let credential = serde_json::from_value::<RegisterPublicKeyCredential>(credential)
        .map_err(|_| RegistrationError::Refused("malformed credential".into()))?;
    let registered = ctx
        .passkeys
        .finish_registration(&credential, &state)
        .map_err(|e| RegistrationError::Refused(reason(&e)))?;
    let allow = &ctx.config.passkeys.staff_aaguids;
    if account_type == "staff" && !allow.is_empty() {
        // Staff keys must be device-bound models on the list (self-reported AAGUID: see docs/mfa.md).
        if !allow.contains(&registered.aaguid) || registered.backup_eligible {
            return Err(RegistrationError::Policy(
                "Staff accounts need a device-bound security key of an approved model. Ask your administrator which keys are approved.".into(),
            ));
        }
    }
    let context: Value = serde_json::from_str(&row.context).unwrap_or_default();
    let now = ctx.clock.now_ms();
    Ok(PasskeyRow {
        credential_id: registered.credential_id,
        user_id: row.user_id.clone().unwrap_or_default(),
        name: context["name"].as_str().unwrap_or("Passkey").to_string(),
        passkey: serde_json::to_string(&registered.passkey)
            .map_err(|_| RegistrationError::Unavailable)?,
        aaguid: registered.aaguid.to_string(),
        backup_eligible: registered.backup_eligible,
        backup_state: registered.backup_state,
        created_at: now,
        last_used_at: None,
    })
}

/// Record a refused registration, then give the refusal back. The record is
/// written before the answer; if it cannot be, the answer is `Unavailable`:
/// an audit write that fails fails the request.
async fn refused(
    ctx: &AppContext,
    who: &Requester,
    kind: &str,
    subject: Option<&str>,
    error: RegistrationError,
) -> RegistrationError {
    let mut e = AuditEvent::new(ctx.clock.now_ms(), "anonymous", kind, Outcome::Failure)
        .reason(&error.audit_reason());
    if let Some(s) = subject {
        e = e.subject(s);
    }
    e.ip = who.ip.clone();
    e.user_agent = who.user_agent.clone();
    match Deps::of(ctx).run(move |s| s.audit(e)).await {
        Ok(()) => error,
        Err(_) => RegistrationError::Unavailable,
    }
}

/// Store a passkey registered on `user`'s account. Returns the new passkey and
/// the recovery codes generated if this was the account's first second factor.
pub async fn finish_registration(
    ctx: &AppContext,
    user: &User,
    ceremony: &str,
    credential: Value,
    who: &Requester,
) -> Result<(PasskeyRow, Option<Vec<String>>), RegistrationError> {
    let taken = take_ceremony(ctx, ceremony, "register").await?;
    let Some((row, state)) = taken.filter(|(r, _)| r.user_id.as_deref() == Some(user.id.as_str()))
    else {
        let expired = RegistrationError::Expired;
        let subject = Some(user.id.as_str());
        return Err(refused(ctx, who, "passkey.register", subject, expired).await);
    };
    let passkey = match verify_registration(ctx, &row, state, credential, &user.account_type) {
        Ok(p) => p,
        Err(e) => {
            let subject = Some(user.id.as_str());
            return Err(refused(ctx, who, "passkey.register", subject, e).await);
        }
    };
    let mut event = AuditEvent::new(
        passkey.created_at,
        format!("user:{}", user.id),
        "passkey.registered",
        Outcome::Success,
    )
    .subject(user.id.as_str())
    .detail("name", passkey.name.as_str())
    .detail("aaguid", passkey.aaguid.as_str())
    .detail("backup_eligible", passkey.backup_eligible);
    event.ip = who.ip.clone();
    let (codes, hashes) = crate::authn::account::fresh_recovery_codes();
    let (deps, stored) = (Deps::of(ctx), passkey.clone());
    let added = deps
        .run(move |s| s.add_passkey(&stored, &event, &hashes))
        .await?;
    // A credential registered already: the answer a taken name gets.
    let first = added.ok_or(RegistrationError::UsernameUnavailable)?;
    let codes = first.then_some(codes);
    crate::authn::login::notify(
        &deps,
        user,
        "passkey_added",
        json!({ "passkey_name": passkey.name }),
    );
    Ok((passkey, codes))
}

/// A new patient account with a passkey and nothing else: the first step.
pub async fn start_signup(
    ctx: &AppContext,
    username: &str,
    display_name: &str,
    email: &str,
) -> Result<(Value, String), RegistrationError> {
    let username = crate::domain::Username::parse(username)
        .map_err(|e| RegistrationError::Invalid(format!("Username: {e}")))?;
    let email = email.trim();
    let email = if email.is_empty() {
        None
    } else {
        Some(
            crate::domain::Email::parse(email)
                .map_err(|e| RegistrationError::Invalid(format!("Email: {e}")))?
                .as_str()
                .to_string(),
        )
    };
    let display = display_name.trim();
    if display.chars().count() > 128 || display.chars().any(char::is_control) {
        return Err(RegistrationError::Invalid(
            "A name has at most 128 characters.".into(),
        ));
    }
    // Sign-up necessarily tells whether a name is taken; say so before the
    // browser creates a passkey that could never be used.
    let name = username.as_str().to_string();
    if Deps::of(ctx)
        .run(move |s| s.user_by_username(&name).map_err(RegistrationError::from))
        .await?
        .is_some()
    {
        return Err(RegistrationError::UsernameUnavailable);
    }
    let user_id = Uuid::new_v4();
    let display = if display.is_empty() {
        username.as_str()
    } else {
        display
    };
    let (options, state) = ctx
        .passkeys
        .start_registration(user_id, username.as_str(), display, Vec::new())
        .map_err(not_configured)?;
    let context = json!({
        "username": username.as_str(),
        "display_name": display,
        "email": email,
        "name": "Passkey",
    });
    let id = save_ceremony(ctx, "signup", Some(user_id.to_string()), &state, context).await?;
    Ok((json!(options), id))
}

/// Create the patient account and its passkey together, or neither.
pub async fn finish_signup(
    ctx: &AppContext,
    ceremony: &str,
    credential: Value,
    who: &Requester,
) -> Result<(User, Factor), RegistrationError> {
    let Some((row, state)) = take_ceremony(ctx, ceremony, "signup").await? else {
        let expired = RegistrationError::Expired;
        return Err(refused(ctx, who, "user.signup", None, expired).await);
    };
    let passkey = match verify_registration(ctx, &row, state, credential, "patient") {
        Ok(p) => p,
        Err(e) => return Err(refused(ctx, who, "user.signup", None, e).await),
    };
    let context: Value = serde_json::from_str(&row.context).unwrap_or_default();
    let now = passkey.created_at;
    let uid = passkey.user_id.clone();
    let mut event = AuditEvent::new(now, format!("user:{uid}"), "user.signup", Outcome::Success)
        .subject(uid.as_str())
        .detail("username", context["username"].as_str().unwrap_or_default())
        .detail("aaguid", passkey.aaguid.as_str());
    event.ip = who.ip.clone();
    event.user_agent = who.user_agent.clone();
    let device_bound = !passkey.backup_eligible;
    let patient = NewPatient {
        id: uid,
        username: context["username"].as_str().unwrap_or_default().to_string(),
        display_name: context["display_name"].as_str().map(str::to_string),
        email: context["email"].as_str().map(str::to_string),
        created_at: now,
    };
    let created = Deps::of(ctx)
        .run(move |s| s.sign_up(&patient, &passkey, &event))
        .await
        .map_err(RegistrationError::from)
        .and_then(|user| user.ok_or(RegistrationError::UsernameUnavailable));
    match created {
        Ok(user) => Ok((user, Factor::Passkey { device_bound })),
        // A name taken between start and finish: nothing was written; say why in the trail.
        Err(e) => Err(refused(ctx, who, "user.signup", None, e).await),
    }
}
