//! The JSON side of passkeys, called by /static/webauthn.js: sign-in (modal
//! or autofill), sign-up of a patient account, and adding a passkey to one's
//! account. Each call carries the page's CSRF token and must be JSON, which a
//! cross-site form cannot send without a CORS preflight.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use actix_web::http::header;

use crate::authn::login::LoginFailure;
use crate::authn::passkey_flow::{self, RegistrationError};
use crate::authn::signin::{self, Input, Outcome, SignIn};
use crate::oidc::interaction::csrf_ok;
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::handlers::account::{self, AccountUser};
use crate::web::handlers::interaction::{self, continue_url};
use crate::web::handlers::signin_page::{
    REFUSED, add_session_cookies, login_failure, signin_browser, unmet_error,
};

const PASSKEY_REFUSED: &str = "That passkey was not accepted. Try again, or sign in another way.";
use crate::web::pages::{Browser, browser};

fn reply(status: StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

/// An error for the script; the route's envelope is `{error, message}`.
fn error(status: StatusCode, code: &'static str, message: &str) -> WebError {
    WebError::new(status, code, message)
}

/// A failed passkey sign-in, mapped as on the pages (`signin_page::login_failure`).
fn login_error(f: LoginFailure) -> WebError {
    login_failure(f, ("passkey_refused", PASSKEY_REFUSED))
}

fn registration_error(e: RegistrationError) -> WebError {
    let (status, code) = match e {
        RegistrationError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        RegistrationError::UsernameUnavailable => (StatusCode::CONFLICT, "username_unavailable"),
        RegistrationError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        RegistrationError::Refused(_) => (StatusCode::BAD_REQUEST, "passkey_refused"),
        RegistrationError::Expired => (StatusCode::BAD_REQUEST, "expired"),
        RegistrationError::Policy(_) => (StatusCode::FORBIDDEN, "policy"),
        RegistrationError::NotConfigured => (StatusCode::SERVICE_UNAVAILABLE, "not_configured"),
    };
    error(status, code, &e.to_string())
}

/// A ceremony's options for the script.
fn options(options: Value, ceremony: String) -> HttpResponse {
    reply(
        StatusCode::OK,
        json!({ "ceremony": ceremony, "options": options }),
    )
}

#[derive(Deserialize)]
pub struct Start {
    #[serde(default)]
    interaction: String,
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
pub struct Finish {
    #[serde(default)]
    interaction: String,
    csrf: String,
    ceremony: String,
    credential: Value,
}

/// The browser, if the request carries this page's CSRF token, and the
/// interaction (unless it is the account pages') is still open in it.
async fn checked(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    interaction: &str,
    csrf: &str,
) -> Result<Browser, WebError> {
    let b = browser(state, req);
    if b.is_new || interaction.len() > 64 || !csrf_ok(&b.token, interaction, csrf) {
        let expired = "This page has expired. Reload it and try again.";
        return Err(error(StatusCode::FORBIDDEN, "csrf", expired));
    }
    if interaction == signin::ACCOUNT {
        return Ok(b);
    }
    match interaction::load_page(state, interaction.to_string(), b.token.clone()).await {
        Ok(Some(_)) => Ok(b),
        Ok(None) => Err(error(
            StatusCode::BAD_REQUEST,
            "expired",
            interaction::EXPIRED,
        )),
        Err(_) => Err(login_error(LoginFailure::Unavailable)),
    }
}

/// Sign-up must be enabled.
fn signup_enabled(state: &WebState) -> Result<(), WebError> {
    if state.ctx.config.signup_enabled {
        return Ok(());
    }
    let off = "Sign-up is not enabled here.";
    Err(error(StatusCode::NOT_FOUND, "not_found", off))
}

/// `POST /login/passkey/start`
pub async fn sign_in_start(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Start>,
) -> Result<HttpResponse, WebError> {
    checked(&state, &req, &body.interaction, &body.csrf).await?;
    if !state.ctx.passkeys.available() {
        return Err(registration_error(RegistrationError::NotConfigured));
    }
    let (o, ceremony) = passkey_flow::start_sign_in(&state.ctx)
        .await
        .map_err(login_error)?;
    Ok(options(o, ceremony))
}

/// `POST /login/passkey/finish`: a passkey signs in on its own, or completes
/// a password sign-in of the same account as its second factor.
pub async fn sign_in_finish(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Finish>,
) -> Result<HttpResponse, WebError> {
    let body = body.into_inner();
    let b = checked(&state, &req, &body.interaction, &body.csrf).await?;
    let who = signin_browser(&req, &b).requester();
    let (user, factor) =
        passkey_flow::finish_sign_in(&state.ctx, &body.ceremony, body.credential, &who)
            .await
            .map_err(login_error)?;
    let input = Input::Passkey { user, factor };
    signed_in(&state, &req, &b, &body.interaction, input).await
}

/// Run the sign-in step of a verified passkey and answer the script: where
/// to go next, or why not.
async fn signed_in(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    id: &str,
    input: Input,
) -> Result<HttpResponse, WebError> {
    let browser = signin_browser(req, b);
    let s = SignIn {
        deps: crate::authn::Deps::of(&state.ctx),
        browser: &browser,
        interaction: id,
        required_acr: None,
    };
    match signin::step(&s, input).await {
        Outcome::Done { session_cookie } => {
            let mut res = reply(StatusCode::OK, json!({ "redirect": continue_url(id) }));
            add_session_cookies(&mut res, b, session_cookie);
            Ok(res)
        }
        Outcome::Unmet if !interaction::own_pages(id) => unmet(state, req, b, id).await,
        // A refusal (no secret was revealed: a passkey proves possession).
        Outcome::Unmet | Outcome::Refused => Err(refused()),
        Outcome::Unavailable => Err(login_error(LoginFailure::Unavailable)),
        Outcome::LoginForm {
            failure: Some(f), ..
        } => Err(login_error(f)),
        _ => Err(login_error(LoginFailure::Invalid)),
    }
}

fn refused() -> WebError {
    error(StatusCode::FORBIDDEN, "access_denied", REFUSED)
}

/// More than this passkey gave (a device-bound key after a synced one): as on
/// the password path, the client hears unmet_authentication_requirements; the
/// page follows the redirect.
async fn unmet(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    id: &str,
) -> Result<HttpResponse, WebError> {
    let res = interaction::fail(state, req, id, &b.token, unmet_error()).await;
    let to = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok());
    // form_post: the response is a page the script cannot follow.
    let to = to.ok_or_else(refused)?;
    Ok(reply(StatusCode::OK, json!({ "redirect": to })))
}

/// `POST /signup/start`: options to create a patient account's first passkey.
pub async fn signup_start(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Start>,
) -> Result<HttpResponse, WebError> {
    signup_enabled(&state)?;
    checked(&state, &req, &body.interaction, &body.csrf).await?;
    let (o, ceremony) =
        passkey_flow::start_signup(&state.ctx, &body.username, &body.display_name, &body.email)
            .await
            .map_err(registration_error)?;
    Ok(options(o, ceremony))
}

/// `POST /signup/finish`: create the account with its passkey, and sign in.
pub async fn signup_finish(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Finish>,
) -> Result<HttpResponse, WebError> {
    signup_enabled(&state)?;
    let body = body.into_inner();
    let b = checked(&state, &req, &body.interaction, &body.csrf).await?;
    let who = signin_browser(&req, &b).requester();
    let (user, factor) =
        passkey_flow::finish_signup(&state.ctx, &body.ceremony, body.credential, &who)
            .await
            .map_err(registration_error)?;
    let input = Input::SignedUp { user, factor };
    signed_in(&state, &req, &b, &body.interaction, input).await
}

/// The account pages' caller: this page's CSRF token, a live session, and a
/// recent sign-in (changing passkeys changes how the account is protected).
async fn account_caller(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    csrf: &str,
) -> Result<(Browser, AccountUser), WebError> {
    let b = checked(state, req, interaction::ACCOUNT, csrf).await?;
    let user = account::signed_in(state, &b)
        .await
        .map_err(|_| error(StatusCode::UNAUTHORIZED, "login_required", "Sign in first."))?;
    if !user.recent(state) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "reauthenticate",
            "For your security, sign in again before changing your passkeys.",
        ));
    }
    Ok((b, user))
}

/// `POST /account/passkeys/start`
pub async fn register_start(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Start>,
) -> Result<HttpResponse, WebError> {
    let (_, user) = account_caller(&state, &req, &body.csrf).await?;
    let (o, ceremony) = passkey_flow::start_registration(&state.ctx, &user.user, &body.name)
        .await
        .map_err(registration_error)?;
    Ok(options(o, ceremony))
}

/// `POST /account/passkeys/finish`: store the passkey; the first second
/// factor of an account also brings its recovery codes, shown once.
pub async fn register_finish(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Finish>,
) -> Result<HttpResponse, WebError> {
    let body = body.into_inner();
    let (b, user) = account_caller(&state, &req, &body.csrf).await?;
    let who = signin_browser(&req, &b).requester();
    let (passkey, codes) = passkey_flow::finish_registration(
        &state.ctx,
        &user.user,
        &body.ceremony,
        body.credential,
        &who,
    )
    .await
    .map_err(registration_error)?;
    let done = json!({ "name": passkey.name, "recovery_codes": codes, "redirect": "/account" });
    Ok(reply(StatusCode::OK, done))
}
