use crate::audit::{AuditEvent, Outcome};
use crate::context::AppContext;
use crate::domain::profile::{self, Address};
use crate::domain::records::{Profile, User};
use crate::domain::{DisplayName, Email, InvalidValue, UserId, UserStatus, Username};
use crate::store::admin_users::{NewUser, UserRefused};
use crate::store::{AuditLogStore, UserAdminStore, UserStore};

pub use crate::store::admin_users::RemovedFactors;

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

/// A new account's values, each checked, and its password hashed.
struct Checked {
    username: Username,
    email: Option<Email>,
    display_name: Option<DisplayName>,
    hash: Option<String>,
}

fn check(ctx: &AppContext, input: &NewUserInput) -> Result<Checked, ManageError> {
    Ok(Checked {
        username: Username::parse(&input.username)?,
        email: input.email.as_deref().map(Email::parse).transpose()?,
        display_name: input
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?,
        hash: input
            .password
            .as_deref()
            .map(|p| ctx.passwords.hash(p))
            .transpose()?,
    })
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
        let c = check(ctx, &input)?;
        let id = UserId::generate();
        let now = ctx.clock.now_ms();
        let new = NewUser {
            id: &id,
            username: c.username.as_str(),
            email: c.email.as_ref().map(Email::as_str),
            email_verified: false,
            display_name: c.display_name.as_ref().map(DisplayName::as_str),
            status: UserStatus::Active,
            now,
            password_hash: c.hash.as_deref(),
        };
        let created = event(ctx, actor, "user.create")
            .subject(id.as_str())
            .detail("username", c.username.as_str())
            .detail("password", c.hash.is_some());
        let assigning = role.as_ref().map(|(role, tenant)| {
            let granted = event(ctx, actor, "policy.grant");
            super::policy::Assigning::new(granted, id.as_str(), role, tenant)
        });
        let grant = assigning.as_ref().map(|a| a.grant(now));
        ctx.db
            .create_user(&new, &created, grant.as_ref())?
            .map_err(|why| match (why, &assigning) {
                (UserRefused::Role(why), Some(a)) => a.refused(why),
                _ => {
                    ManageError::Conflict(format!("the username `{}` is already taken", c.username))
                }
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
    let found = match UserId::parse(ident) {
        Some(id) => ctx.db.user(id.as_str())?,
        None => match Username::parse(ident) {
            Ok(name) => ctx.db.user_named(name.as_str())?,
            Err(_) => None,
        },
    };
    found.ok_or_else(|| ManageError::NotFound(format!("no user `{ident}`")))
}

pub fn show(ctx: &AppContext, actor: &str, ident: &str) -> Result<User, ManageError> {
    let refusal = || event(ctx, actor, "user.view").detail("query", ident);
    audited(ctx, refusal, || {
        let user = find(ctx, ident)?;
        ctx.db
            .record_audit(&event(ctx, actor, "user.view").subject(user.id.as_str()))?;
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
    let record = |list: &[User]| event(ctx, actor, "user.list").detail("count", list.len());
    Ok(ctx.db.users_page(after, limit.clamp(1, 10_000), record)?)
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
        // Enabling an account also lifts a brute-force lock on it.
        let unlock = (status == UserStatus::Active).then_some(user.username.as_str());
        let record = event(ctx, actor, kind).subject(user.id.as_str());
        ctx.db
            .set_user_status(&user.id, status, unlock, now, &record)?
            .ok_or_else(|| ManageError::NotFound(format!("no user `{ident}`")))
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
        let record = event(ctx, actor, "user.set_password").subject(user.id.as_str());
        ctx.db.set_user_password(&user.id, &hash, now, &record)?;
        Ok(user)
    })
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
        let record = |removed: &RemovedFactors| {
            event(ctx, actor, "user.reset_mfa")
                .subject(user.id.as_str())
                .detail("passkeys", removed.passkeys as i64)
                .detail("totp", removed.totp)
                .detail("recovery_codes", removed.recovery_codes as i64)
        };
        let removed = ctx.db.remove_second_factors(user.id.as_str(), record)?;
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

/// Apply one field's change to `slot`: trimmed, empty meaning none, checked;
/// its name goes to `touched`.
fn set_field(
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

/// A profile claim's check.
type Check = fn(&str) -> Result<String, InvalidValue>;

impl ProfileChange {
    /// The user's display name and profile after the change, and the names of
    /// the fields it touched (for the audit record: names, never values), in
    /// the order of the fields.
    fn apply(
        mut self,
        user: &User,
    ) -> Result<(Option<String>, Profile, Vec<&'static str>), InvalidValue> {
        let mut touched = Vec::new();
        let mut display_name = user.display_name.clone();
        set_field(
            &mut display_name,
            self.display_name.take(),
            "name",
            |v| DisplayName::parse(v).map(|d| d.as_str().to_string()),
            &mut touched,
        )?;
        let mut p = user.profile.clone();
        self.apply_names(&mut p, &mut touched)?;
        self.apply_claims(&mut p, &mut touched)?;
        self.apply_phone(&mut p, &mut touched)?;
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

    /// Given, family and middle name.
    fn apply_names(
        &mut self,
        p: &mut Profile,
        touched: &mut Vec<&'static str>,
    ) -> Result<(), InvalidValue> {
        let names = [
            (&mut p.given_name, self.given_name.take(), "given_name"),
            (&mut p.family_name, self.family_name.take(), "family_name"),
            (&mut p.middle_name, self.middle_name.take(), "middle_name"),
        ];
        for (slot, change, name) in names {
            set_field(slot, change, name, |v| profile::name_part(name, v), touched)?;
        }
        Ok(())
    }

    /// Birthdate, locale and time zone.
    fn apply_claims(
        &mut self,
        p: &mut Profile,
        touched: &mut Vec<&'static str>,
    ) -> Result<(), InvalidValue> {
        let claims: [(_, _, _, Check); 3] = [
            (
                &mut p.birthdate,
                self.birthdate.take(),
                "birthdate",
                profile::birthdate,
            ),
            (&mut p.locale, self.locale.take(), "locale", profile::locale),
            (
                &mut p.zoneinfo,
                self.zoneinfo.take(),
                "zoneinfo",
                profile::zoneinfo,
            ),
        ];
        for (slot, change, name, check) in claims {
            set_field(slot, change, name, check, touched)?;
        }
        Ok(())
    }

    /// The phone number: a new one is unverified unless the change says it
    /// is, and no number is never verified.
    fn apply_phone(
        &mut self,
        p: &mut Profile,
        touched: &mut Vec<&'static str>,
    ) -> Result<(), InvalidValue> {
        let old_phone = p.phone_number.clone();
        set_field(
            &mut p.phone_number,
            self.phone_number.take(),
            "phone_number",
            profile::phone_number,
            touched,
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
        Ok(())
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
        let record = event()
            .subject(user.id.as_str())
            .detail("fields", touched.clone());
        ctx.db
            .set_user_profile(&user.id, display_name.as_deref(), &profile, now, &record)?
            .ok_or_else(|| ManageError::NotFound(format!("no user `{}`", user.username)))
    })
}
