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
use crate::web::handlers::account::{self, AccountUser};
use crate::web::handlers::interaction::{self, continue_url};
use crate::web::handlers::signin_page::{
    REFUSED, add_session_cookies, signin_browser, unmet_error,
};
use crate::web::pages::{Browser, browser};

fn reply(status: StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

fn error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    reply(status, json!({ "error": code, "message": message }))
}

fn login_error(f: LoginFailure) -> HttpResponse {
    match f {
        LoginFailure::Invalid => error(
            StatusCode::UNAUTHORIZED,
            "passkey_refused",
            "That passkey was not accepted. Try again, or sign in another way.",
        ),
        LoginFailure::Throttled { retry_after_secs } => error(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            &format!(
                "Too many failed attempts. Wait {retry_after_secs} seconds before trying again."
            ),
        ),
        LoginFailure::Unavailable => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Signing in is not possible right now. Try again in a moment.",
        ),
    }
}

fn registration_error(e: RegistrationError) -> HttpResponse {
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

/// The browser, if the request carries this page's CSRF token; else the answer.
#[allow(clippy::result_large_err)]
fn checked(
    state: &WebState,
    req: &HttpRequest,
    interaction: &str,
    csrf: &str,
) -> Result<Browser, HttpResponse> {
    let b = browser(state, req);
    if b.is_new || interaction.len() > 64 || !csrf_ok(&b.token, interaction, csrf) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "csrf",
            "This page has expired. Reload it and try again.",
        ));
    }
    Ok(b)
}

/// The interaction must still be open in this browser.
async fn open_interaction(
    state: &web::Data<WebState>,
    b: &Browser,
    id: &str,
) -> Result<(), HttpResponse> {
    match interaction::load_page(state, id.to_string(), b.token.clone()).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(error(
            StatusCode::BAD_REQUEST,
            "expired",
            interaction::EXPIRED,
        )),
        Err(_) => Err(login_error(LoginFailure::Unavailable)),
    }
}

/// `POST /login/passkey/start`
pub async fn sign_in_start(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Start>,
) -> HttpResponse {
    let b = match checked(&state, &req, &body.interaction, &body.csrf) {
        Ok(b) => b,
        Err(res) => return res,
    };
    if let Err(res) = open_interaction(&state, &b, &body.interaction).await {
        return res;
    }
    if !state.ctx.passkeys.available() {
        return registration_error(RegistrationError::NotConfigured);
    }
    match passkey_flow::start_sign_in(&state.ctx).await {
        Ok((options, ceremony)) => reply(
            StatusCode::OK,
            json!({ "ceremony": ceremony, "options": options }),
        ),
        Err(f) => login_error(f),
    }
}

/// `POST /login/passkey/finish`: a passkey signs in on its own, or completes
/// a password sign-in of the same account as its second factor.
pub async fn sign_in_finish(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Finish>,
) -> HttpResponse {
    let body = body.into_inner();
    let b = match checked(&state, &req, &body.interaction, &body.csrf) {
        Ok(b) => b,
        Err(res) => return res,
    };
    if let Err(res) = open_interaction(&state, &b, &body.interaction).await {
        return res;
    }
    let who = signin_browser(&req, &b).requester();
    match passkey_flow::finish_sign_in(&state.ctx, &body.ceremony, body.credential, &who).await {
        Ok((user, factor)) => {
            let input = Input::Passkey { user, factor };
            signed_in(&state, &req, &b, &body.interaction, input).await
        }
        Err(f) => login_error(f),
    }
}

/// Run the sign-in step of a verified passkey and answer the script: where
/// to go next, or why not.
async fn signed_in(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    id: &str,
    input: Input,
) -> HttpResponse {
    let browser = signin_browser(req, b);
    let s = SignIn {
        app: &state.ctx,
        browser: &browser,
        interaction: id,
        required_acr: None,
    };
    match signin::step(&s, input).await {
        Outcome::Done { session_cookie } => {
            let mut res = reply(StatusCode::OK, json!({ "redirect": continue_url(id) }));
            add_session_cookies(&mut res, b, session_cookie);
            res
        }
        // More than this passkey gave (a device-bound key after a synced
        // one): as on the password path, the client hears
        // unmet_authentication_requirements; the page follows the redirect.
        Outcome::Unmet if id != signin::ACCOUNT => {
            let res = interaction::fail(state, req, id, &b.token, unmet_error()).await;
            match res
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
            {
                Some(to) => reply(StatusCode::OK, json!({ "redirect": to })),
                // form_post: the response is a page the script cannot follow.
                None => error(StatusCode::FORBIDDEN, "access_denied", REFUSED),
            }
        }
        // A refusal (no secret was revealed: a passkey proves possession).
        Outcome::Unmet | Outcome::Refused => error(StatusCode::FORBIDDEN, "access_denied", REFUSED),
        Outcome::Unavailable => login_error(LoginFailure::Unavailable),
        Outcome::LoginForm {
            failure: Some(f), ..
        } => login_error(f),
        _ => login_error(LoginFailure::Invalid),
    }
}

/// `POST /signup/start`: options to create a patient account's first passkey.
pub async fn signup_start(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Start>,
) -> HttpResponse {
    if !state.ctx.config.signup_enabled {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Sign-up is not enabled here.",
        );
    }
    let b = match checked(&state, &req, &body.interaction, &body.csrf) {
        Ok(b) => b,
        Err(res) => return res,
    };
    if let Err(res) = open_interaction(&state, &b, &body.interaction).await {
        return res;
    }
    match passkey_flow::start_signup(&state.ctx, &body.username, &body.display_name, &body.email)
        .await
    {
        Ok((options, ceremony)) => reply(
            StatusCode::OK,
            json!({ "ceremony": ceremony, "options": options }),
        ),
        Err(e) => registration_error(e),
    }
}

/// `POST /signup/finish`: create the account with its passkey, and sign in.
pub async fn signup_finish(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Finish>,
) -> HttpResponse {
    if !state.ctx.config.signup_enabled {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Sign-up is not enabled here.",
        );
    }
    let body = body.into_inner();
    let b = match checked(&state, &req, &body.interaction, &body.csrf) {
        Ok(b) => b,
        Err(res) => return res,
    };
    if let Err(res) = open_interaction(&state, &b, &body.interaction).await {
        return res;
    }
    let who = signin_browser(&req, &b).requester();
    match passkey_flow::finish_signup(&state.ctx, &body.ceremony, body.credential, &who).await {
        Ok((user, factor)) => {
            let input = Input::SignedUp { user, factor };
            signed_in(&state, &req, &b, &body.interaction, input).await
        }
        Err(e) => registration_error(e),
    }
}

/// The account pages' caller: this page's CSRF token, a live session, and a
/// recent sign-in (changing passkeys changes how the account is protected).
#[allow(clippy::result_large_err)]
async fn account_caller(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    csrf: &str,
) -> Result<(Browser, AccountUser), HttpResponse> {
    let b = checked(state, req, interaction::ACCOUNT, csrf)?;
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
) -> HttpResponse {
    let (_, user) = match account_caller(&state, &req, &body.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    match passkey_flow::start_registration(&state.ctx, &user.user, &body.name).await {
        Ok((options, ceremony)) => reply(
            StatusCode::OK,
            json!({ "ceremony": ceremony, "options": options }),
        ),
        Err(e) => registration_error(e),
    }
}

/// `POST /account/passkeys/finish`: store the passkey; the first second
/// factor of an account also brings its recovery codes, shown once.
pub async fn register_finish(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Json<Finish>,
) -> HttpResponse {
    let body = body.into_inner();
    let (b, user) = match account_caller(&state, &req, &body.csrf).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let who = signin_browser(&req, &b).requester();
    match passkey_flow::finish_registration(
        &state.ctx,
        &user.user,
        &body.ceremony,
        body.credential,
        &who,
    )
    .await
    {
        Ok((passkey, codes)) => reply(
            StatusCode::OK,
            json!({ "name": passkey.name, "recovery_codes": codes, "redirect": "/account" }),
        ),
        Err(e) => registration_error(e),
    }
}
