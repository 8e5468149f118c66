//! "Connected apps" (`/account/apps`, docs/privacy.md): the apps a person has
//! consented to, what each may receive and since when, and withdrawing one
//! (GDPR Art. 7(3): as easy as giving it). Withdrawing goes through a
//! confirmation page whose form carries the account pages' CSRF token; it
//! needs no recent sign-in, since it only takes access away.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::account::{AccountUser, SIGN_IN_AGAIN, account_form, field, signed_in};
use crate::clock::to_rfc3339;
use crate::domain::consent::ConsentGiven;
use crate::manage::ManageError;
use crate::manage::consents::{self, ConnectedApp};
use crate::oidc::claims;
use crate::oidc::interaction::{consent_items, csrf_token};
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::handlers::interaction::ACCOUNT;
use crate::web::oauth;
use crate::web::pages::{Browser, browser, page, remember_browser, render, see_other};

/// `GET /account/apps`
pub async fn list(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let b = browser(&state, &req);
    let Ok(who) = signed_in(&state, &b).await else {
        return sign_in_first(&b);
    };
    apps_page(&state, &req, &who, StatusCode::OK, (None, None)).await
}

/// `GET /account/apps/withdraw?client=…`: what withdrawing means, and the form.
pub async fn confirm(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let b = browser(&state, &req);
    let Ok(who) = signed_in(&state, &b).await else {
        return sign_in_first(&b);
    };
    let client = oauth::query(&req)
        .get("client")
        .ok()
        .flatten()
        .unwrap_or("")
        .to_string();
    let Ok(apps) = load(&state, &who).await else {
        return unavailable(&req);
    };
    let Some(app) = apps.iter().find(|a| a.consent.client_id.as_str() == client) else {
        let gone = "That app has no access to withdraw. It may have been withdrawn already.";
        return apps_page(
            &state,
            &req,
            &who,
            StatusCode::NOT_FOUND,
            (Some(gone), None),
        )
        .await;
    };
    let view = context! { app => app_view(app), csrf => csrf_token(&b.token, ACCOUNT) };
    render(
        &state,
        &req,
        StatusCode::OK,
        "pages/withdraw_app.html",
        view,
    )
}

/// `POST /account/apps/withdraw`: withdraw, then the list with what happened.
pub async fn withdraw(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Some((b, who, form)) = account_form(&state, &req, &body).await? else {
        return Ok(see_other(SIGN_IN_AGAIN));
    };
    let (ctx, user, ip) = (state.ctx.clone(), who.user.clone(), b.ip.clone());
    let client = field(&form, "client");
    let done = web::block(move || consents::withdraw_own(&ctx, &user, &client, ip)).await;
    let (status, message) = match done {
        Ok(Ok(_)) => (StatusCode::OK, (None, Some(WITHDRAWN))),
        Ok(Err(ManageError::Conflict(_))) => (StatusCode::CONFLICT, (Some(ALREADY), None)),
        Ok(Err(ManageError::NotFound(_))) => (StatusCode::NOT_FOUND, (Some(NONE), None)),
        _ => (StatusCode::SERVICE_UNAVAILABLE, (Some(LATER), None)),
    };
    Ok(apps_page(&state, &req, &who, status, message).await)
}

const WITHDRAWN: &str = "Access withdrawn. The app was signed out and can no longer get your details; if you use it again, it has to ask you first.";
const ALREADY: &str = "You had already withdrawn that app's access.";
const NONE: &str = "That app has no access to withdraw.";
const LATER: &str = "Withdrawing is not possible right now. Try again in a moment.";

fn sign_in_first(b: &Browser) -> HttpResponse {
    let mut res = see_other(SIGN_IN_AGAIN);
    remember_browser(&mut res, b);
    res
}

fn unavailable(req: &HttpRequest) -> HttpResponse {
    page(
        req,
        StatusCode::SERVICE_UNAVAILABLE,
        "Your connected apps cannot be shown right now.",
    )
}

async fn load(state: &web::Data<WebState>, who: &AccountUser) -> Result<Vec<ConnectedApp>, ()> {
    let (ctx, user) = (state.ctx.clone(), who.user.clone());
    match web::block(move || consents::own(&ctx, &user)).await {
        Ok(Ok(apps)) => Ok(apps),
        _ => Err(()),
    }
}

async fn apps_page(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    who: &AccountUser,
    status: StatusCode,
    (error, notice): (Option<&str>, Option<&str>),
) -> HttpResponse {
    let Ok(apps) = load(state, who).await else {
        return unavailable(req);
    };
    let apps: Vec<minijinja::Value> = apps.iter().map(app_view).collect();
    let view = context! { apps, error, notice };
    render(state, req, status, "pages/connected_apps.html", view)
}

/// One app as the pages show it: what it may do and receive, in plain words.
fn app_view(app: &ConnectedApp) -> minijinja::Value {
    let c = &app.consent;
    let first_party = c.given_by == ConsentGiven::FirstParty;
    context! {
        name => app.name,
        client_id => c.client_id.to_string(),
        since => to_rfc3339(c.given_at),
        how => if first_party { "your organisation's app, allowed by its policy" } else { "you allowed it" },
        first_party,
        purpose => c.purpose,
        abilities => consent_items(&c.scopes).into_iter().map(|i| i.text).collect::<Vec<_>>(),
        claims => claims::consented(c).iter().map(|n| claims::describe(n)).collect::<Vec<_>>(),
    }
}
