//! The sign-in pages: password (`/login`), the next factor (`/login/verify`)
//! and recovery by emailed or recovery code (`/login/recover`). Each handler
//! turns the form into an `authn::signin::Input`, calls `signin::step` once
//! and renders the outcome (`signin_page`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::authn::signin::{self, Input, SignIn};
use crate::oidc::params::Params;
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::handlers::interaction::{self, PageInfo, checked_form, page_request};
use crate::web::handlers::signin_page::{
    At, UNAVAILABLE, VerifyView, respond, signin_browser, verify_page,
};
use crate::web::pages::{Browser, browser, page, page_error, see_other};

/// A posted sign-in form: its interaction (checked against this browser's
/// CSRF token), its fields, and what the interaction's pages show.
struct Posted {
    id: String,
    form: Params,
    b: Browser,
    info: PageInfo,
}

async fn posted(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    body: &web::Bytes,
) -> Result<Posted, WebError> {
    let b = browser(state, req);
    let (id, form) = checked_form(req, body, &b)?;
    match interaction::load_page(state, id.clone(), b.token.clone()).await {
        Ok(Some(info)) => Ok(Posted { id, form, b, info }),
        Ok(None) => Err(page_error(StatusCode::BAD_REQUEST, interaction::EXPIRED)),
        Err(e) => Err(page_error(StatusCode::SERVICE_UNAVAILABLE, &e.description)),
    }
}

/// Run one step of the sign-in of `id` in this browser and render it.
async fn run(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    (id, b, info): (&str, &Browser, &PageInfo),
    input: Input,
) -> HttpResponse {
    let browser = signin_browser(req, b);
    let s = SignIn {
        deps: crate::authn::Deps::of(&state.ctx),
        browser: &browser,
        interaction: id,
        required_acr: info.required_acr,
    };
    let outcome = signin::step(&s, input).await;
    respond(state, req, At { id, b, info }, outcome).await
}

fn field(form: &Params, name: &str) -> String {
    form.get(name)
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_string()
}

/// `GET /login?interaction=…`: the form, or a step-up from the browser's session.
pub async fn login_form(
    state: web::Data<WebState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let (id, b, info) = page_request(&state, &req).await?;
    Ok(run(&state, &req, (&id, &b, &info), Input::Open).await)
}

/// `POST /login`: the password.
pub async fn login_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let p = posted(&state, &req, &body).await?;
    let input = Input::Password {
        username: field(&p.form, "username"),
        password: field(&p.form, "password"),
    };
    Ok(run(&state, &req, (&p.id, &p.b, &p.info), input).await)
}

/// `GET /login/verify?interaction=…`
pub async fn verify_form(
    state: web::Data<WebState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let (id, b, info) = page_request(&state, &req).await?;
    let notice = req
        .query_string()
        .contains("sent=1")
        .then(|| code_sent_notice(&state));
    let browser = signin_browser(&req, &b);
    let at = At {
        id: &id,
        b: &b,
        info: &info,
    };
    Ok(
        match signin::progress::load(
            &crate::authn::Deps::of(&state.ctx),
            browser.progress.as_deref(),
        )
        .await
        {
            Ok(Some((progress, _, account))) => {
                let view = VerifyView {
                    progress: &progress,
                    account: &account,
                    error: None,
                    notice: notice.as_deref(),
                };
                verify_page(&state, &req, StatusCode::OK, at, view)
            }
            Ok(None) => see_other(&format!("/login?interaction={id}")),
            Err(_) => page(&req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
        },
    )
}

fn code_sent_notice(state: &WebState) -> String {
    let minutes = match (state.ctx.config.email_code_seconds / 60).max(1) {
        1 => "1 minute".to_string(),
        n => format!("{n} minutes"),
    };
    format!(
        "If the account has a verified email address, a code is on its way. It is valid for {minutes}."
    )
}

/// `POST /login/verify`: a TOTP, recovery or emailed code, or a request to email one.
pub async fn verify_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let p = posted(&state, &req, &body).await?;
    let input = match field(&p.form, "method").as_str() {
        "send_email" => Input::SendEmailCode,
        method => Input::Code {
            method: method.to_string(),
            code: field(&p.form, "code"),
        },
    };
    Ok(run(&state, &req, (&p.id, &p.b, &p.info), input).await)
}

/// `GET /login/recover?interaction=…`: sign in without the usual factor.
pub async fn recover_form(
    state: web::Data<WebState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let (id, b, info) = page_request(&state, &req).await?;
    Ok(interaction::interaction_page(
        &state,
        &req,
        (&id, &b, &info),
        "pages/recover.html",
        context! { username => info.login_hint },
    ))
}

/// `POST /login/recover`: start a recovery sign-in for the name typed; an
/// email code is sent when asked for. The answer is the same for every name.
pub async fn recover_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let p = posted(&state, &req, &body).await?;
    let input = Input::Recover {
        username: field(&p.form, "username"),
        send_email: field(&p.form, "method") == "send_email",
    };
    Ok(run(&state, &req, (&p.id, &p.b, &p.info), input).await)
}

/// `GET /signup?interaction=…`: create a patient account with a passkey (when enabled).
pub async fn signup_form(
    state: web::Data<WebState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    if !state.ctx.config.signup_enabled {
        return Ok(page(
            &req,
            StatusCode::NOT_FOUND,
            "Accounts are created by an administrator here.",
        ));
    }
    let (id, b, info) = page_request(&state, &req).await?;
    Ok(interaction::interaction_page(
        &state,
        &req,
        (&id, &b, &info),
        "pages/signup.html",
        context! {},
    ))
}
