use crate::audit::{AuditEvent, Outcome};
use crate::context::AppContext;
use crate::domain::profile::{self, Address};
use crate::domain::{DisplayName, Email, InvalidValue, UserId, UserStatus, Username};
use crate::storage::users::{self, NewUser, Profile, User};
use crate::storage::{self, StorageError};

use super::{ManageError, audited};

pub struct NewUserInput {
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// `None` creates an account without a password (it will sign in with a passkey).
    pub password: Option<String>,
}

fn event(ctx: &AppContext, actor: &str, kind: &str) -> AuditEvent {
    AuditEvent::new(ctx.clock.now_ms(), actor, kind, Outcome::Success)
}

/// A role in a tenant to give a new user (`ward user add --role R --tenant T`),
/// so that a new deployment can create its first administrator.
pub struct InitialRole {
    pub role: String,
    pub tenant: String,
}

pub fn add(ctx: &AppContext, actor: &str, input: NewUserInput) -> Result<User, ManageError> {
    add_with_role(ctx, actor, input, None)
}

/// Create a user and, in the same transaction, grant it `role` (audited as
/// `policy.grant`): an administrator is never left half-created without its role.
pub fn add_with_role(
    ctx: &AppContext,
    actor: &str,
    input: NewUserInput,
    role: Option<InitialRole>,
) -> Result<User, ManageError> {
    let refusal = || event(ctx, actor, "user.create").detail("username", input.username.clone());
    let user = audited(ctx, refusal, || {
        let role = role
            .as_ref()
            .map(|r| super::policy::parse_role(&r.role, &r.tenant))
            .transpose()?;
        let username = Username::parse(&input.username)?;
        let email = input.email.as_deref().map(Email::parse).transpose()?;
        let display_name = input
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?;
        let hash = input
            .password
            .as_deref()
            .map(|p| ctx.passwords.hash(p))
            .transpose()?;
        let id = UserId::generate();
        let now = ctx.clock.now_ms();
        ctx.db.transaction(|c| {
            users::insert(
                c,
                &NewUser {
                    id: id.as_str(),
                    username: username.as_str(),
                    email: email.as_ref().map(Email::as_str),
                    email_verified: false,
                    display_name: display_name.as_ref().map(DisplayName::as_str),
                    status: UserStatus::Active.as_str(),
                    created_at: now,
                    updated_at: now,
                },
            )
            .map_err(|e| match e {
                StorageError::Conflict(_) => {
                    ManageError::Conflict(format!("the username `{username}` is already taken"))
                }
                other => other.into(),
            })?;
            if let Some(hash) = &hash {
                users::set_password_hash(c, &id, hash, now)?;
            }
            storage::audit::append(
                c,
                &event(ctx, actor, "user.create")
                    .subject(id.as_str())
                    .detail("username", username.as_str())
                    .detail("password", hash.is_some()),
            )?;
            if let Some((role, tenant)) = &role {
                let grant = event(ctx, actor, "policy.grant");
                super::policy::grant_in(c, grant, id.as_str(), role, tenant, now)?;
            }
            users::find_by_id(c, &id)?
                .ok_or_else(|| ManageError::Internal("the new user vanished".into()))
        })
    })?;
    if role.is_some()
        && let Err(e) = ctx.authz.reload(&ctx.db)
    {
        tracing::warn!(error = %e, "reloading the policy after a grant failed; the next poll retries");
    }
    Ok(user)
}

/// Find by id or username.
pub fn find(ctx: &AppContext, ident: &str) -> Result<User, ManageError> {
    let mut c = ctx.db.conn()?;
    let found = match UserId::parse(ident) {
        Some(id) => users::find_by_id(&mut c, &id)?,
        None => match Username::parse(ident) {
            Ok(name) => users::find_by_username(&mut c, name.as_str())?,
            Err(_) => None,
        },
    };
    found.ok_or_else(|| ManageError::NotFound(format!("no user `{ident}`")))
}

pub fn show(ctx: &AppContext, actor: &str, ident: &str) -> Result<User, ManageError> {
    let refusal = || event(ctx, actor, "user.view").detail("query", ident);
    audited(ctx, refusal, || {
        let user = find(ctx, ident)?;
        ctx.db.transaction(|c| {
            storage::audit::append(c, &event(ctx, actor, "user.view").subject(user.id.as_str()))
        })?;
        Ok(user)
    })
}

pub fn list(
    ctx: &AppContext,
    actor: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<User>, ManageError> {
    // The cursor is the last username of a page; PostgreSQL cannot compare text holding NUL.
    if after.is_some_and(|a| a.contains('\0')) {
        return Err(InvalidValue::new("after", "is not a username").into());
    }
    let list = ctx.db.transaction(|c| {
        let list = users::list(c, after, limit.clamp(1, 10_000))?;
        storage::audit::append(
            c,
            &event(ctx, actor, "user.list").detail("count", list.len()),
        )?;
        Ok::<_, ManageError>(list)
    })?;
    Ok(list)
}

pub fn set_status(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    status: UserStatus,
) -> Result<User, ManageError> {
    let kind = match status {
        UserStatus::Active => "user.enable",
        UserStatus::Disabled => "user.disable",
    };
    let refusal = || event(ctx, actor, kind).detail("query", ident);
    audited(ctx, refusal, || {
        let user = find(ctx, ident)?;
        let now = ctx.clock.now_ms();
        ctx.db.transaction(|c| {
            users::set_status(c, &user.id, status, now)?;
            if status == UserStatus::Active {
                // Enabling an account also lifts a brute-force lock on it.
                storage::throttle::reset(c, &storage::throttle::account_key(&user.username))?;
            }
            storage::audit::append(c, &event(ctx, actor, kind).subject(user.id.as_str()))?;
            users::find_by_id(c, &user.id)?
                .ok_or_else(|| ManageError::NotFound(format!("no user `{ident}`")))
        })
    })
}

pub fn set_password(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    password: &str,
) -> Result<User, ManageError> {
    let refusal = || event(ctx, actor, "user.set_password").detail("query", ident);
    audited(ctx, refusal, || {
        let user = find(ctx, ident)?;
        let hash = ctx.passwords.hash(password)?;
        let now = ctx.clock.now_ms();
        ctx.db.transaction(|c| {
            users::set_password_hash(c, &user.id, &hash, now)?;
            storage::audit::append(
                c,
                &event(ctx, actor, "user.set_password").subject(user.id.as_str()),
            )?;
            Ok::<_, ManageError>(())
        })?;
        Ok(user)
    })
}

/// The clients a user has consented to, with the scopes.
pub fn consents(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
) -> Result<Vec<storage::consents::Consent>, ManageError> {
    let user = find(ctx, ident)?;
    ctx.db.transaction(|c| {
        let list = storage::consents::for_user(c, user.id.as_str())?;
        storage::audit::append(
            c,
            &event(ctx, actor, "consent.list").subject(user.id.as_str()),
        )?;
        Ok(list)
    })
}

/// Withdraw a user's consent for a client: the next sign-in asks again.
pub fn revoke_consent(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    client_id: &str,
) -> Result<(), ManageError> {
    let refusal = || {
        event(ctx, actor, "consent.revoke")
            .detail("query", ident)
            .detail("client_id", client_id)
    };
    audited(ctx, refusal, || {
        let user = find(ctx, ident)?;
        ctx.db.transaction(|c| {
            let revoked = storage::consents::revoke_grants(
                c,
                user.id.as_str(),
                client_id,
                ctx.clock.now_ms(),
            )?;
            storage::consents::delete(c, user.id.as_str(), client_id).map_err(|e| match e {
                StorageError::NotFound => ManageError::NotFound(format!(
                    "{} has no consent for `{client_id}`",
                    user.username
                )),
                other => other.into(),
            })?;
            storage::audit::append(
                c,
                &event(ctx, actor, "consent.revoke")
                    .subject(user.id.as_str())
                    .client(client_id)
                    .detail("revoked_grants", revoked),
            )?;
            Ok(())
        })
    })
}

/// What `reset_mfa` removed.
#[derive(Debug, Default, serde::Serialize)]
pub struct RemovedFactors {
    pub passkeys: usize,
    pub totp: bool,
    pub recovery_codes: usize,
}

/// Remove every second factor of a user (a lost phone or key): passkeys, the
/// authenticator app and the recovery codes, in one audited transaction.
pub fn reset_mfa(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
) -> Result<(User, RemovedFactors), ManageError> {
    let refusal = || event(ctx, actor, "user.reset_mfa").detail("query", ident);
    audited(ctx, refusal, || {
        let user = find(ctx, ident)?;
        let uid = user.id.to_string();
        let removed = ctx.db.transaction(|c| {
            let removed = storage::second_factors::remove_all(c, &uid)?;
            let removed = RemovedFactors {
                passkeys: storage::passkeys::remove_all(c, &uid)?,
                totp: removed.0,
                recovery_codes: removed.1,
            };
            storage::audit::append(
                c,
                &event(ctx, actor, "user.reset_mfa")
                    .subject(user.id.as_str())
                    .detail("passkeys", removed.passkeys as i64)
                    .detail("totp", removed.totp)
                    .detail("recovery_codes", removed.recovery_codes as i64),
            )?;
            Ok::<_, ManageError>(removed)
        })?;
        Ok((user, removed))
    })
}

/// A change to a user's name and profile claims (OIDC Core §5.1). For each
/// field `None` leaves it as it is, `Some(None)` clears it and `Some(Some(v))`
/// sets it once it passes its check. A new phone number is unverified unless
/// `phone_number_verified` says otherwise.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<Option<String>>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    pub middle_name: Option<Option<String>>,
    pub birthdate: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub zoneinfo: Option<Option<String>>,
    pub phone_number: Option<Option<String>>,
    pub phone_number_verified: Option<bool>,
    pub address: Option<Option<Address>>,
}

impl ProfileChange {
    /// The user's display name and profile after the change, and the names of
    /// the fields it touched (for the audit record: names, never values).
    fn apply(
        self,
        user: &User,
    ) -> Result<(Option<String>, Profile, Vec<&'static str>), InvalidValue> {
        fn set(
            slot: &mut Option<String>,
            change: Option<Option<String>>,
            name: &'static str,
            check: impl Fn(&str) -> Result<String, InvalidValue>,
            touched: &mut Vec<&'static str>,
        ) -> Result<(), InvalidValue> {
            if let Some(v) = change {
                *slot = v
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(&check)
                    .transpose()?;
                touched.push(name);
            }
            Ok(())
        }
        let mut touched = Vec::new();
        let mut display_name = user.display_name.clone();
        let mut p = user.profile.clone();
        let old_phone = p.phone_number.clone();
        set(
            &mut display_name,
            self.display_name,
            "name",
            |v| DisplayName::parse(v).map(|d| d.as_str().to_string()),
            &mut touched,
        )?;
        let names = [
            (&mut p.given_name, self.given_name, "given_name"),
            (&mut p.family_name, self.family_name, "family_name"),
            (&mut p.middle_name, self.middle_name, "middle_name"),
        ];
        for (slot, change, name) in names {
            set(
                slot,
                change,
                name,
                |v| profile::name_part(name, v),
                &mut touched,
            )?;
        }
        set(
            &mut p.birthdate,
            self.birthdate,
            "birthdate",
            profile::birthdate,
            &mut touched,
        )?;
        set(
            &mut p.locale,
            self.locale,
            "locale",
            profile::locale,
            &mut touched,
        )?;
        set(
            &mut p.zoneinfo,
            self.zoneinfo,
            "zoneinfo",
            profile::zoneinfo,
            &mut touched,
        )?;
        set(
            &mut p.phone_number,
            self.phone_number,
            "phone_number",
            profile::phone_number,
            &mut touched,
        )?;
        match self.phone_number_verified {
            Some(v) => {
                p.phone_number_verified = v;
                touched.push("phone_number_verified");
            }
            None if p.phone_number != old_phone => p.phone_number_verified = false,
            None => {}
        }
        if p.phone_number.is_none() {
            p.phone_number_verified = false;
        }
        if let Some(a) = self.address {
            p.address = a.map(Address::checked).transpose()?;
            touched.push("address");
        }
        if touched.is_empty() {
            return Err(InvalidValue::new(
                "profile",
                "nothing to change: give at least one field",
            ));
        }
        Ok((display_name, p, touched))
    }
}

/// Change a user's name and profile claims (an administrator: CLI or admin API).
pub fn set_profile(
    ctx: &AppContext,
    actor: &str,
    ident: &str,
    change: ProfileChange,
) -> Result<User, ManageError> {
    let user = match find(ctx, ident) {
        Ok(u) => u,
        Err(e) => {
            super::audit_refusal(
                ctx,
                event(ctx, actor, "user.profile_update").detail("query", ident),
                &e,
            );
            return Err(e);
        }
    };
    update_profile(ctx, &user, change, || {
        event(ctx, actor, "user.profile_update")
    })
}

/// Change one's own profile (the account page); `event` is the audit record
/// to write, with who asked and from where.
pub fn set_own_profile(
    ctx: &AppContext,
    user: &User,
    change: ProfileChange,
    event: impl Fn() -> AuditEvent,
) -> Result<User, ManageError> {
    update_profile(ctx, user, change, event)
}

fn update_profile(
    ctx: &AppContext,
    user: &User,
    change: ProfileChange,
    event: impl Fn() -> AuditEvent,
) -> Result<User, ManageError> {
    let refusal = || event().subject(user.id.as_str());
    audited(ctx, refusal, || {
        let (display_name, profile, touched) = change.apply(user)?;
        let now = ctx.clock.now_ms();
        ctx.db.transaction(|c| {
            users::set_profile(c, &user.id, display_name.as_deref(), &profile, now)?;
            storage::audit::append(
                c,
                &event()
                    .subject(user.id.as_str())
                    .detail("fields", touched.clone()),
            )?;
            users::find_by_id(c, &user.id)?
                .ok_or_else(|| ManageError::NotFound(format!("no user `{}`", user.username)))
        })
    })
}
