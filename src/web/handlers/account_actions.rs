//! The changes `/account` makes to how an account is protected, each behind
//! a recent sign-in (checked by the caller): passkeys, authenticator app,
//! password, email address, profile and break-glass. Each is one call into
//! `authn::account` or `manage`; this maps the form to it and the answer to
//! the notice shown.

use actix_web::web;

use super::account::{AccountUser, field, requester};
use crate::app::AppContext;
use crate::authn::account::{self, AccountError};
use crate::clock::to_rfc3339;
use crate::manage::ManageError;
use crate::oidc::params::Params;
use crate::web::pages::Browser;

/// Apply `action`; the notice to show, or why it was refused.
pub(super) async fn apply(
    ctx: &AppContext,
    who: &AccountUser,
    b: &Browser,
    action: &str,
    form: &Params,
) -> Result<String, AccountError> {
    let (user, actor) = (&who.user, requester(b));
    let done = |notice: &str| notice.to_string();
    match action {
        "rename_passkey" => {
            account::rename_passkey(ctx, user, &field(form, "id"), &field(form, "name"))
                .await
                .map(|()| done("Passkey renamed."))
        }
        "remove_passkey" => account::remove_passkey(ctx, user, &field(form, "id"), &actor)
            .await
            .map(|()| done("Passkey removed.")),
        "remove_totp" => account::remove_totp(ctx, user, &actor)
            .await
            .map(|()| done("Authenticator app removed.")),
        "change_password" => {
            let (current, new) = (field(form, "current_password"), field(form, "new_password"));
            account::change_password(ctx, user, current, new, &actor)
                .await
                .map(|()| done("Password changed."))
        }
        "send_email_code" => {
            account::send_email_verification(ctx, user, &field(form, "email"), &actor)
                .await
                .map(|()| done("We sent a code to that address. Enter it below to verify it."))
        }
        "verify_email" => account::verify_email(ctx, user, &field(form, "code"), &actor)
            .await
            .map(|()| done("Email address verified.")),
        "update_profile" => update_profile(ctx, who, b, form).await,
        "break_glass" => break_glass(ctx, who, b, form).await,
        _ => Err(AccountError::Refused("Unknown action.".into())),
    }
}

async fn update_profile(
    ctx: &AppContext,
    who: &AccountUser,
    b: &Browser,
    form: &Params,
) -> Result<String, AccountError> {
    let change = profile_change(form);
    let (ctx, user, actor) = (ctx.clone(), who.user.clone(), requester(b));
    let done = web::block(move || {
        let now = ctx.clock.now_ms();
        crate::manage::users::set_own_profile(&ctx, &user, change, || {
            account::event(&user, now, "user.profile_update", &actor)
        })
    })
    .await;
    match done {
        Ok(Ok(_)) => Ok("Your details were saved.".into()),
        Ok(Err(ManageError::Invalid(e))) => Err(AccountError::Refused(format!("Not saved: {e}."))),
        _ => Err(AccountError::Unavailable),
    }
}

/// Break-glass (docs/authorization.md): emergency access in one tenant, time-boxed and reviewed.
async fn break_glass(
    ctx: &AppContext,
    who: &AccountUser,
    b: &Browser,
    form: &Params,
) -> Result<String, AccountError> {
    let (ctx, session) = (ctx.clone(), who.session.clone());
    let (user, ip) = (who.user.clone(), b.ip.clone());
    let (tenant, reason) = (field(form, "tenant"), field(form, "reason"));
    let done = web::block(move || {
        let elevator = crate::manage::break_glass::Elevator {
            user: &user,
            acr: session.acr,
            auth_time: session.auth_time,
            ip,
        };
        crate::manage::break_glass::elevate(&ctx, &elevator, &tenant, &reason)
    })
    .await;
    match done {
        Ok(Ok(e)) => Ok(format!(
            "Emergency access at {} is on until {}. It is recorded and will be reviewed.",
            e.tenant,
            to_rfc3339(e.expires_at)
        )),
        Ok(Err(ManageError::Refused(why))) => Err(AccountError::Refused(why)),
        _ => Err(AccountError::Unavailable),
    }
}

/// The profile form: every field is sent, so every field is set (an empty one
/// cleared); the user cannot mark their own phone number verified.
fn profile_change(form: &Params) -> crate::manage::users::ProfileChange {
    let value = |name: &str| Some(Some(field(form, name)).filter(|v| !v.trim().is_empty()));
    let address = crate::domain::profile::Address {
        formatted: None,
        street_address: Some(field(form, "street_address")),
        locality: Some(field(form, "locality")),
        region: Some(field(form, "region")),
        postal_code: Some(field(form, "postal_code")),
        country: Some(field(form, "country")),
    };
    let empty = [
        &address.street_address,
        &address.locality,
        &address.region,
        &address.postal_code,
        &address.country,
    ]
    .iter()
    .all(|v| v.as_deref().is_none_or(|v| v.trim().is_empty()));
    crate::manage::users::ProfileChange {
        display_name: value("display_name"),
        given_name: value("given_name"),
        family_name: value("family_name"),
        middle_name: value("middle_name"),
        birthdate: value("birthdate"),
        locale: value("locale"),
        zoneinfo: value("zoneinfo"),
        phone_number: value("phone_number"),
        phone_number_verified: None,
        address: Some((!empty).then_some(address)),
    }
}
