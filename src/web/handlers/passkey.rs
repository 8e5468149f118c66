//! The JSON side of passkeys, called by /static/webauthn.js: sign-in (modal
//! or autofill), sign-up of a patient account, and adding a passkey to one's
//! account. Each call carries the page's CSRF token and must be JSON, which a
//! cross-site form cannot send without a CORS preflight.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::authn::login::{self, LoginFailure, Progress};
use crate::authn::passkey_flow::{self, RegistrationError};
use crate::oidc::interaction::csrf_ok;
use crate::web::WebState;
use crate::web::handlers::account::{self, AccountUser};
use crate::web::handlers::interaction::{self, continue_url};
use crate::web::handlers::login::{load_progress, requester, start_session};
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
    let who = requester(&b);
    let (user, factor) =
        match passkey_flow::finish_sign_in(&state.ctx, &body.ceremony, body.credential, &who).await
        {
            Ok(v) => v,
            Err(f) => return login_error(f),
        };
    let now = state.ctx.clock.now_ms();
    let earlier = match load_progress(&state, &req, &b).await {
        Ok(Some((p, _, _))) if p.user_id.as_deref() == Some(user.id.as_str()) => Some(p),
        Ok(_) => None,
        Err(f) => return login_error(f),
    };
    let mut progress = earlier.unwrap_or_else(|| Progress::new(&user.username));
    progress.user_id = Some(user.id.to_string());
    progress.username = user.username.clone();
    progress.prove(factor, now);
    finish_json(&state, &req, &b, &body.interaction, &progress).await
}

async fn finish_json(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    id: &str,
    progress: &Progress,
) -> HttpResponse {
    let login::Next::Done(auth) = login::next(progress, Some(&Default::default())) else {
        return login_error(LoginFailure::Invalid);
    };
    use crate::web::handlers::login_risk::{REFUSED, SignInRisk, sign_in_risk};
    match sign_in_risk(state, b, id, progress).await {
        Ok(SignInRisk::Allow) => {}
        Ok(SignInRisk::StepUp(acr)) if crate::domain::acr::acr_satisfies(&auth.acr, &acr) => {}
        // More than this passkey gave (a device-bound key after a synced
        // one): as on the password path, the client hears
        // unmet_authentication_requirements; the page follows the redirect.
        Ok(SignInRisk::StepUp(_)) if id != interaction::ACCOUNT => {
            let unmet = crate::oidc::OAuthError::unmet_authentication_requirements(
                "the sign-in does not meet the level the security policy requires",
            );
            let res = interaction::fail(state, req, id, &b.token, unmet).await;
            return match res
                .headers()
                .get(actix_web::http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
            {
                Some(to) => reply(StatusCode::OK, json!({ "redirect": to })),
                // form_post: the response is a page the script cannot follow.
                None => error(StatusCode::FORBIDDEN, "access_denied", REFUSED),
            };
        }
        // A refusal (no secret was revealed: a passkey proves possession).
        Ok(_) => return error(StatusCode::FORBIDDEN, "access_denied", REFUSED),
        Err(_) => return login_error(LoginFailure::Unavailable),
    }
    match start_session(state, req, b, &auth, &progress.username, id).await {
        Ok(session) => {
            let mut res = reply(StatusCode::OK, json!({ "redirect": continue_url(id) }));
            let _ = res.add_cookie(&session);
            res
        }
        Err(f) => login_error(f),
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
    let who = requester(&b);
    let (user, factor) = match passkey_flow::finish_signup(
        &state.ctx,
        &body.ceremony,
        body.credential,
        &who,
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return registration_error(e),
    };
    let mut progress = Progress::new(&user.username);
    progress.user_id = Some(user.id.to_string());
    progress.prove(factor, state.ctx.clock.now_ms());
    finish_json(&state, &req, &b, &body.interaction, &progress).await
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
    let who = requester(&b);
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
