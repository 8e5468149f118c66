//! `/logout` (the `end_session_endpoint`, OpenID Connect RP-Initiated Logout
//! 1.0) and `/logout/confirm`. The rules are in `oidc::logout`; here the
//! session is ended and the browser sent on, or asked first.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::oidc::interaction::{csrf_ok, csrf_token, current_session};
use crate::oidc::logout::{self, LogoutDecision, LogoutRequest};
use crate::oidc::params::Params;
use crate::session;
use crate::store::SessionRow;
use crate::web::WebState;
use crate::web::handlers::account::end_session;
use crate::web::oauth::{self, call};
use crate::web::pages::{
    Browser, allow_form_action, browser, forget_session, page, remember_browser, render, see_other,
};

/// The CSRF binding of the confirmation form.
const LOGOUT: &str = "logout";

fn params(req: &HttpRequest, body: &web::Bytes) -> Result<Params, crate::oidc::OAuthError> {
    if req.method() == actix_web::http::Method::POST {
        oauth::form(req, body)
    } else {
        Ok(oauth::query(req))
    }
}

/// Decide for this browser: (decision, the live session).
async fn decide(
    state: &web::Data<WebState>,
    b: &Browser,
    request: LogoutRequest,
) -> Result<(LogoutDecision, Option<SessionRow>), crate::oidc::OAuthError> {
    let (cookie, limits) = (b.session.clone(), state.ctx.config.session);
    call(state, move |p| {
        let current = current_session(p, cookie.as_deref(), limits)?.map(|(s, _)| s);
        let decision = logout::decide(p, &request, current.as_ref().map(|s| s.user_id.as_str()))?;
        Ok((decision, current))
    })
    .await
}

/// End the session (audited), clear its cookie, and go where the client asked.
async fn finish(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    decision: &LogoutDecision,
    current: Option<SessionRow>,
) -> HttpResponse {
    if let Some(row) = current {
        let (reason, client) = (session::EndReason::RpLogout, decision.client_id.clone());
        if let Some(refused) = end_session(state, req, b, row, reason, client).await {
            return refused;
        }
    }
    let mut res = match &decision.redirect {
        Some(url) => see_other(url),
        None => render(
            state,
            req,
            StatusCode::OK,
            "pages/signed_out.html",
            context! {},
        ),
    };
    forget_session(&mut res, b);
    res
}

/// `GET|POST /logout`.
pub async fn logout(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let request = match params(&req, &body).and_then(|p| LogoutRequest::parse(&p)) {
        Ok(r) => r,
        Err(e) => return page(&req, StatusCode::BAD_REQUEST, &e.description),
    };
    let b = browser(&state, &req);
    let (decision, current) = match decide(&state, &b, request.clone()).await {
        Ok(v) => v,
        Err(e) => {
            return page(
                &req,
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                &e.description,
            );
        }
    };
    if decision.confirmed {
        return finish(&state, &req, &b, &decision, current).await;
    }
    confirm_page(&state, &req, &b, &decision, &request)
}

/// No usable hint: ask (§2), carrying what the confirmation needs.
fn confirm_page(
    state: &WebState,
    req: &HttpRequest,
    b: &Browser,
    decision: &LogoutDecision,
    request: &LogoutRequest,
) -> HttpResponse {
    let mut res = render(
        state,
        req,
        StatusCode::OK,
        "pages/logout.html",
        context! {
            csrf => csrf_token(&b.token, LOGOUT),
            client_id => decision.client_id,
            post_logout_redirect_uri => request.post_logout_redirect_uri,
            state => request.state,
        },
    );
    if let Some(uri) = &request.post_logout_redirect_uri {
        allow_form_action(&mut res, uri, true);
    }
    remember_browser(&mut res, b);
    res
}

/// `POST /logout/confirm`: the user said yes.
pub async fn confirm(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let b = browser(&state, &req);
    let form = match oauth::form(&req, &body) {
        Ok(f) => f,
        Err(e) => return page(&req, StatusCode::BAD_REQUEST, &e.description),
    };
    let presented = form.get("csrf").ok().flatten().unwrap_or_default();
    if b.is_new || !csrf_ok(&b.token, LOGOUT, presented) {
        return page(
            &req,
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        );
    }
    let request = match LogoutRequest::parse(&form) {
        Ok(r) => LogoutRequest {
            id_token_hint: None,
            ..r
        },
        Err(e) => return page(&req, StatusCode::BAD_REQUEST, &e.description),
    };
    match decide(&state, &b, request).await {
        Ok((decision, current)) => finish(&state, &req, &b, &decision, current).await,
        Err(e) => page(&req, StatusCode::BAD_REQUEST, &e.description),
    }
}
