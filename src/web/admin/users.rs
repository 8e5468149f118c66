//! `/admin/api/users`: list, create, show, enable or disable, profile, reset MFA.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Actor;
use super::{page_limit, run};
use crate::domain::UserStatus;
use crate::domain::profile::Address;
use crate::manage;
use crate::manage::records::User;
use crate::web::WebState;
use crate::web::error::WebError;

/// A user account. Times are Unix milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    /// `active` or `disabled`.
    pub status: String,
    /// `staff` (created by an administrator) or `patient` (signed up).
    pub account_type: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The standard profile claims (OIDC Core §5.1); absent when not given.
    pub profile: ProfileOut,
}

/// A user's profile claims (OIDC Core §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressIo>,
}

/// The `address` claim (OIDC Core §5.1.1); every member optional.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressIo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl From<&Address> for AddressIo {
    fn from(a: &Address) -> Self {
        Self {
            formatted: a.formatted.clone(),
            street_address: a.street_address.clone(),
            locality: a.locality.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
        }
    }
}

impl From<AddressIo> for Address {
    fn from(a: AddressIo) -> Self {
        Self {
            formatted: a.formatted,
            street_address: a.street_address,
            locality: a.locality,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            display_name: u.display_name.clone(),
            status: u.status.as_str().to_string(),
            account_type: u.account_type.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
            profile: ProfileOut {
                given_name: u.profile.given_name.clone(),
                family_name: u.profile.family_name.clone(),
                middle_name: u.profile.middle_name.clone(),
                birthdate: u.profile.birthdate.clone(),
                locale: u.profile.locale.clone(),
                zoneinfo: u.profile.zoneinfo.clone(),
                phone_number: u.profile.phone_number.clone(),
                phone_number_verified: u.profile.phone_number_verified,
                address: u.profile.address.as_ref().map(AddressIo::from),
            },
        }
    }
}

/// One page of users in username order.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<UserOut>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsers {
    /// Start after this username (the previous page's `next`).
    pub after: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

/// A new account. Without a password it signs in with a passkey or an
/// emailed code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// 8+ characters, not a common password (NIST SP 800-63B).
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Disabled,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `disabled` stops sign-in and every token of the user at once;
    /// `active` re-enables it and lifts a brute-force lock.
    pub status: Status,
}

/// Present and `null`: clear; present with a value: set; absent: unchanged.
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A change to a user's name and profile claims (OIDC Core §5.1). A member
/// left out stays as it is; `null` clears it. A new phone number is
/// unverified unless `phone_number_verified` is `true`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// The `name` claim.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub family_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub middle_name: Option<Option<String>>,
    /// `YYYY-MM-DD` or `YYYY`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub birthdate: Option<Option<String>>,
    /// A BCP 47 language tag, e.g. `en-US`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    /// An IANA time zone, e.g. `Europe/Paris`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub zoneinfo: Option<Option<String>>,
    /// E.164 recommended, e.g. `+1 604 555 1234`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone_number: Option<Option<String>>,
    pub phone_number_verified: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<AddressIo>)]
    pub address: Option<Option<AddressIo>>,
}

/// What a reset removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaReset {
    pub user: UserOut,
    pub passkeys: usize,
    pub totp: bool,
    pub recovery_codes: usize,
}

#[utoipa::path(
    get, path = "/admin/api/users", tag = "users", params(ListUsers),
    responses((status = 200, description = "Users in username order", body = UserPage))
)]
pub async fn list(
    state: web::Data<WebState>,
    actor: Actor,
    q: web::Query<ListUsers>,
) -> Result<HttpResponse, WebError> {
    let limit = page_limit(q.limit)?;
    let after = q.into_inner().after;
    let who = actor.audit_name();
    let users = run(&state, move |ctx| {
        manage::users::list(ctx, &who, after.as_deref(), limit)
    })
    .await?;
    let next = (users.len() as i64 == limit)
        .then(|| users.last().map(|u| u.username.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(UserPage {
        users: users.iter().map(UserOut::from).collect(),
        next,
    }))
}

#[utoipa::path(
    post, path = "/admin/api/users", tag = "users", request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = UserOut),
        (status = 409, description = "The username is taken"),
        (status = 422, description = "A value is refused"),
    )
)]
pub async fn create(
    state: web::Data<WebState>,
    actor: Actor,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, WebError> {
    let NewUser {
        username,
        email,
        display_name,
        password,
    } = body.into_inner();
    let who = actor.audit_name();
    let input = manage::users::NewUserInput {
        username,
        email,
        display_name,
        password,
    };
    let user = run(&state, move |ctx| manage::users::add(ctx, &who, input)).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{}/users/{}", super::PREFIX, user.id),
        ))
        .json(UserOut::from(&user)))
}

#[utoipa::path(
    get, path = "/admin/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "The user", body = UserOut),
        (status = 404, description = "No such user"),
    )
)]
pub async fn show(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let user = run(&state, move |ctx| manage::users::show(ctx, &who, &id)).await?;
    Ok(HttpResponse::Ok().json(UserOut::from(&user)))
}

#[utoipa::path(
    patch, path = "/admin/api/users/{id}", tag = "users", request_body = StatusChange,
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "The user after the change", body = UserOut),
        (status = 404, description = "No such user"),
    )
)]
pub async fn set_status(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<StatusChange>,
) -> Result<HttpResponse, WebError> {
    let status = match body.status {
        Status::Active => UserStatus::Active,
        Status::Disabled => UserStatus::Disabled,
    };
    let (who, id) = (actor.audit_name(), id.into_inner());
    let user = run(&state, move |ctx| {
        manage::users::set_status(ctx, &who, &id, status)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserOut::from(&user)))
}

#[utoipa::path(
    patch, path = "/admin/api/users/{id}/profile", tag = "users", request_body = ProfileChange,
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "The user after the change", body = UserOut),
        (status = 404, description = "No such user"),
        (status = 422, description = "A value is refused"),
    )
)]
pub async fn set_profile(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<ProfileChange>,
) -> Result<HttpResponse, WebError> {
    let b = body.into_inner();
    let change = manage::users::ProfileChange {
        display_name: b.display_name,
        given_name: b.given_name,
        family_name: b.family_name,
        middle_name: b.middle_name,
        birthdate: b.birthdate,
        locale: b.locale,
        zoneinfo: b.zoneinfo,
        phone_number: b.phone_number,
        phone_number_verified: b.phone_number_verified,
        address: b.address.map(|a| a.map(Address::from)),
    };
    let (who, id) = (actor.audit_name(), id.into_inner());
    let user = run(&state, move |ctx| {
        manage::users::set_profile(ctx, &who, &id, change)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserOut::from(&user)))
}

#[utoipa::path(
    post, path = "/admin/api/users/{id}/reset-mfa", tag = "users",
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "Second factors removed", body = MfaReset),
        (status = 404, description = "No such user"),
    )
)]
pub async fn reset_mfa(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let (user, removed) = run(&state, move |ctx| manage::users::reset_mfa(ctx, &who, &id)).await?;
    Ok(HttpResponse::Ok().json(MfaReset {
        user: UserOut::from(&user),
        passkeys: removed.passkeys,
        totp: removed.totp,
        recovery_codes: removed.recovery_codes,
    }))
}
