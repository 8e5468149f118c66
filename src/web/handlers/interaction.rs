//! The browser side of the code flow: `/authorize`, the login and consent pages,
//! and the resume step that brings the user back into the flow.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::domain::records::User;
use crate::oidc::authorize::{
    self, AuthorizationRequest, AuthorizationResponse, AuthorizeError, Next, ResponseMode,
};
use crate::oidc::claims;
use crate::oidc::consent::Decision;
use crate::oidc::interaction::{self, Step, consent_items, csrf_ok, csrf_token};
use crate::oidc::params::Params;
use crate::oidc::{OAuthError, Provider};
use crate::store::SessionRow;
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::handlers::signin_page;
use crate::web::oauth::{self, call};
use crate::web::pages::{
    Browser, allow_form_action, browser, page, page_error, remember_browser, render, see_other,
};

/// Deliver an authorization response: a redirect, or an auto-submitting form (form_post).
fn respond(state: &WebState, req: &HttpRequest, response: &AuthorizationResponse) -> HttpResponse {
    match response.target.response_mode {
        ResponseMode::Query => see_other(&response.redirect_url()),
        ResponseMode::FormPost => {
            let mut res = render(
                state,
                req,
                StatusCode::OK,
                "pages/form_post.html",
                context! { action => response.target.redirect_uri, params => response.params },
            );
            // This page posts to the client: only this response's CSP allows it.
            allow_form_action(&mut res, &response.target.redirect_uri, false);
            res
        }
    }
}

fn finish(
    state: &WebState,
    req: &HttpRequest,
    b: &Browser,
    outcome: Result<Result<Step, AuthorizeError>, OAuthError>,
) -> HttpResponse {
    let mut res = match outcome {
        Err(e) | Ok(Err(AuthorizeError::Page(e))) => page(
            req,
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            &e.description,
        ),
        Ok(Err(AuthorizeError::Redirect(r))) => respond(state, req, &r),
        Ok(Ok(Step::Respond(r))) => respond(state, req, &r),
        Ok(Ok(Step::Interact { interaction, next })) => {
            let path = match next {
                Next::Consent => "/consent",
                Next::ChooseTenant => "/tenant",
                Next::ConfirmUser => "/continue",
                Next::Pick(pick) => super::picker::path(pick),
                Next::Login | Next::Issue => "/login",
            };
            see_other(&format!("{path}?interaction={interaction}"))
        }
    };
    remember_browser(&mut res, b);
    res
}

/// `GET|POST /authorize`.
pub async fn authorize(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let params = if req.method() == actix_web::http::Method::POST {
        match oauth::form(&req, &body) {
            Ok(p) => p,
            Err(e) => return page(&req, StatusCode::BAD_REQUEST, &e.description),
        }
    } else {
        oauth::query(&req)
    };
    let b = browser(&state, &req);
    let (cookie, token, limits) = (b.session.clone(), b.token.clone(), state.ctx.config.session);
    let seen = crate::authn::signin::risk::seen(&signin_page::signin_browser(&req, &b));
    let outcome = call(&state, move |p| {
        Ok((|| {
            let request = authorize::parse(p, &params)?;
            let client = p
                .store
                .client(&request.client_id)
                .map_err(|e| AuthorizeError::Page(e.into()))?
                .ok_or_else(|| {
                    AuthorizeError::Page(OAuthError::invalid_request("unknown client_id"))
                })?;
            let current = interaction::current_session(p, cookie.as_deref(), limits)
                .map_err(AuthorizeError::Page)?;
            interaction::proceed(p, request, &client, current.as_ref(), &token, None, &seen)
        })())
    })
    .await;
    finish(&state, &req, &b, outcome)
}

pub(crate) fn interaction_id(req: &HttpRequest, form: Option<&Params>) -> Option<String> {
    let from = |p: &Params| p.get("interaction").ok().flatten().map(str::to_string);
    form.and_then(from)
        .or_else(|| from(&oauth::query(req)))
        .filter(|i| i.len() <= 64)
}

/// The pseudo-interaction of a sign-in to Ward's own account pages.
pub const ACCOUNT: &str = crate::authn::signin::ACCOUNT;

/// The pseudo-interaction of a sign-in to the admin console (`/admin`): like
/// the account pages', but it must reach `aal2` (docs/admin-console.md).
pub const ADMIN: &str = "admin";

/// A sign-in to Ward's own pages (account or admin console), not an app's.
pub fn own_pages(interaction: &str) -> bool {
    interaction == ACCOUNT || interaction == ADMIN
}

/// Where a finished sign-in continues: back into the authorization flow, or to Ward's own pages.
pub fn continue_url(interaction: &str) -> String {
    if interaction == ACCOUNT {
        "/account".into()
    } else if interaction == ADMIN {
        "/admin".into()
    } else {
        format!("/authorize/resume?interaction={interaction}")
    }
}

pub(crate) const EXPIRED: &str = "This sign-in request has expired, was already completed, or was started in another browser. Return to the application and sign in again.";

/// `GET /authorize/resume`: back into the flow after signing in or consenting.
pub async fn resume(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let Some(id) = interaction_id(&req, None) else {
        return page(&req, StatusCode::BAD_REQUEST, EXPIRED);
    };
    let b = browser(&state, &req);
    let (cookie, token, limits) = (b.session.clone(), b.token.clone(), state.ctx.config.session);
    let seen = crate::authn::signin::risk::seen(&signin_page::signin_browser(&req, &b));
    let outcome = call(&state, move |p| {
        let Some(found) = interaction::load(p, &id, Some(&token))? else {
            return Ok(Err(AuthorizeError::Page(OAuthError::invalid_request(
                EXPIRED,
            ))));
        };
        let Some(client) = p.store.client(&found.request.client_id)? else {
            return Ok(Err(AuthorizeError::Page(OAuthError::invalid_request(
                "unknown client_id",
            ))));
        };
        let current = interaction::current_session(p, cookie.as_deref(), limits)?;
        Ok(interaction::proceed(
            p,
            found.request.clone(),
            &client,
            current.as_ref(),
            &token,
            Some((&id, &found)),
            &seen,
        ))
    })
    .await;
    finish(&state, &req, &b, outcome)
}

/// What the login and consent pages show about the request.
#[derive(Default)]
pub(crate) struct PageInfo {
    pub client_name: String,
    pub redirect_uri: String,
    pub login_hint: Option<String>,
    pub scopes: Vec<String>,
    /// The user claims the app would receive (docs/privacy.md).
    pub claims: Vec<String>,
    /// What the app says it uses them for.
    pub purpose: Option<String>,
    /// The acr the sign-in must reach (the request's and the client's, the stronger).
    pub required_acr: Option<crate::domain::Acr>,
}

/// What the sign-in pages show for Ward's own pages: the account pages, or
/// the admin console, which (like the admin API) needs a multi-factor sign-in.
fn own_page_info(state: &WebState, id: &str) -> Option<PageInfo> {
    let (client_name, required_acr) = match id {
        ACCOUNT => ("your Ward account", None),
        ADMIN => ("Ward's admin console", Some(crate::domain::Acr::Aal2)),
        _ => return None,
    };
    Some(PageInfo {
        client_name: client_name.into(),
        redirect_uri: state.ctx.config.issuer.clone(),
        required_acr,
        ..PageInfo::default()
    })
}

pub(crate) async fn load_page(
    state: &web::Data<WebState>,
    id: String,
    token: String,
) -> Result<Option<PageInfo>, OAuthError> {
    if let Some(info) = own_page_info(state, &id) {
        return Ok(Some(info));
    }
    call(state, move |p: &Provider| {
        let Some(found) = interaction::load(p, &id, Some(&token))? else {
            return Ok(None);
        };
        let client = p.store.client(&found.request.client_id)?;
        let wanted = client
            .as_ref()
            .map(|c| crate::oidc::consent::Wanted::of(&found.request, c));
        Ok(Some(PageInfo {
            claims: wanted.map(|w| w.claims).unwrap_or_default(),
            purpose: client.as_ref().and_then(|c| c.purpose.clone()),
            required_acr: client
                .as_ref()
                .and_then(|c| authorize::needed_acr(&found.request, c, p.scope_min_acr)),
            client_name: client
                .map(|c| c.name)
                .unwrap_or_else(|| found.request.client_id.to_string()),
            login_hint: found.request.login_hint.clone(),
            scopes: found.request.consent_scopes(),
            redirect_uri: found.request.redirect_uri.clone(),
        }))
    })
    .await
}

/// The interaction named in the query, checked against this browser, with what
/// its pages show; or the error page to answer instead.
pub(crate) async fn page_request(
    state: &web::Data<WebState>,
    req: &HttpRequest,
) -> Result<(String, Browser, PageInfo), WebError> {
    let id =
        interaction_id(req, None).ok_or_else(|| page_error(StatusCode::BAD_REQUEST, EXPIRED))?;
    let b = browser(state, req);
    match load_page(state, id.clone(), b.token.clone()).await {
        Ok(Some(info)) => Ok((id, b, info)),
        Ok(None) => Err(page_error(StatusCode::BAD_REQUEST, EXPIRED)),
        Err(e) => Err(page_error(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &e.description,
        )),
    }
}

/// A posted form of an interaction's page: its interaction id and fields, if
/// it carries this browser's CSRF token for that interaction.
pub(crate) fn checked_form(
    req: &HttpRequest,
    body: &web::Bytes,
    b: &Browser,
) -> Result<(String, Params), WebError> {
    let form =
        oauth::form(req, body).map_err(|e| page_error(StatusCode::BAD_REQUEST, &e.description))?;
    let id = interaction_id(req, Some(&form))
        .ok_or_else(|| page_error(StatusCode::BAD_REQUEST, EXPIRED))?;
    let csrf = form.get("csrf").ok().flatten().unwrap_or_default();
    if b.is_new || !csrf_ok(&b.token, &id, csrf) {
        return Err(page_error(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        ));
    }
    Ok((id, form))
}

/// Render one of the interaction's pages: `template` with the interaction id,
/// its CSRF token and the client's name, plus `extra`; the CSP lets its form
/// lead on to the client, and a new browser gets its cookie.
pub(crate) fn interaction_page(
    state: &WebState,
    req: &HttpRequest,
    (id, b, info): (&str, &Browser, &PageInfo),
    template: &str,
    extra: minijinja::Value,
) -> HttpResponse {
    let ctx = context! {
        interaction => id,
        csrf => csrf_token(&b.token, id),
        client_name => info.client_name,
        ..extra
    };
    let mut res = render(state, req, StatusCode::OK, template, ctx);
    allow_form_action(&mut res, &info.redirect_uri, true);
    remember_browser(&mut res, b);
    res
}

/// `GET /consent?interaction=…`
pub async fn consent_form(
    state: web::Data<WebState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let (id, b, info) = page_request(&state, &req).await?;
    let items = consent_items(&info.scopes);
    let optional = items.iter().any(|i| i.optional);
    let claims: Vec<&str> = info.claims.iter().map(|c| claims::describe(c)).collect();
    let purpose = info.purpose.clone();
    Ok(interaction_page(
        &state,
        &req,
        (&id, &b, &info),
        "pages/consent.html",
        context! { items, optional, claims, purpose },
    ))
}

/// `POST /consent`: remember the approval (or send `access_denied`), then resume.
pub async fn consent_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b = browser(&state, &req);
    let (id, form) = checked_form(&req, &body, &b)?;
    let decision = match form.get("decision").ok().flatten() {
        Some("approve") => Decision::Approve {
            kept: form.all("keep").map(str::to_owned).collect(),
        },
        _ => Decision::Deny,
    };
    let (cookie, token, limits) = (b.session.clone(), b.token.clone(), state.ctx.config.session);
    let id2 = id.clone();
    let outcome = call(&state, move |p| {
        let Some(found) = interaction::load(p, &id2, Some(&token))? else {
            return Ok(Err(OAuthError::invalid_request(EXPIRED)));
        };
        let Some((_, user)) = interaction::current_session(p, cookie.as_deref(), limits)? else {
            return Ok(Ok(None));
        };
        Ok(crate::oidc::consent::decide(p, &found, &user, decision))
    })
    .await;
    Ok(match outcome {
        Ok(Ok(None)) => see_other(&format!("/authorize/resume?interaction={id}")),
        Ok(Ok(Some(denied))) => respond(&state, &req, &denied),
        Ok(Err(e)) | Err(e) => page(&req, StatusCode::BAD_REQUEST, &e.description),
    })
}

/// `GET /tenant?interaction=…`: choose the organisation to sign in to the app for.
pub async fn tenant_form(
    state: web::Data<WebState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let (id, b, info) = page_request(&state, &req).await?;
    let (cookie, limits) = (b.session.clone(), state.ctx.config.session);
    let choices = call(&state, move |p| {
        Ok(interaction::current_session(p, cookie.as_deref(), limits)?
            .map(|(_, user)| authorize::tenant_choices(p, user.id.as_str())))
    })
    .await;
    let Ok(Some(tenants)) = choices else {
        return Ok(page(&req, StatusCode::BAD_REQUEST, EXPIRED));
    };
    Ok(interaction_page(
        &state,
        &req,
        (&id, &b, &info),
        "pages/tenant.html",
        context! { tenants },
    ))
}

/// `POST /tenant`: record the choice (one of the user's organisations), then resume.
pub async fn tenant_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let b = browser(&state, &req);
    let (id, form) = checked_form(&req, &body, &b)?;
    let chosen = form
        .get("tenant")
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_string();
    let outcome = amend_request(&state, &b, &id, move |p, request, _, user| {
        // A SMART request's tenant is its FHIR server's: not for choosing.
        if request.smart.is_some()
            || !authorize::tenant_choices(p, user.id.as_str()).contains(&chosen)
        {
            return false;
        }
        request.tenant = Some(chosen);
        true
    })
    .await;
    Ok(match outcome {
        Ok(true) => see_other(&format!("/authorize/resume?interaction={id}")),
        Ok(false) => page(
            &req,
            StatusCode::BAD_REQUEST,
            "Choose one of the organisations listed.",
        ),
        Err(e) => page(&req, StatusCode::SERVICE_UNAVAILABLE, &e.description),
    })
}

/// A choice made on an interaction page (the tenant, "continue as …"):
/// `amend` changes the request of this browser's live interaction, given the
/// live session and its user, and says whether the choice is acceptable; the
/// changed request is stored. False when the interaction or session is gone
/// or the choice was refused.
pub(crate) async fn amend_request<F>(
    state: &web::Data<WebState>,
    b: &Browser,
    id: &str,
    amend: F,
) -> Result<bool, OAuthError>
where
    F: FnOnce(&Provider, &mut AuthorizationRequest, &SessionRow, &User) -> bool + Send + 'static,
{
    let (cookie, token, limits, id) = (
        b.session.clone(),
        b.token.clone(),
        state.ctx.config.session,
        id.to_string(),
    );
    call(state, move |p| {
        let Some(found) = interaction::load(p, &id, Some(&token))? else {
            return Ok(false);
        };
        let Some((session, user)) = interaction::current_session(p, cookie.as_deref(), limits)?
        else {
            return Ok(false);
        };
        let mut request = found.request.clone();
        if !amend(p, &mut request, &session, &user) {
            return Ok(false);
        }
        let params = serde_json::to_string(&request).map_err(|_| OAuthError::server_error())?;
        p.store.update_auth_request(&found.id_hash, &params)?;
        Ok(true)
    })
    .await
}

/// End an interaction with an error for the client (e.g.
/// `unmet_authentication_requirements`): the request is used up and the
/// browser goes back to the client with the error.
pub(crate) async fn fail(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    id: &str,
    browser_token: &str,
    error: OAuthError,
) -> HttpResponse {
    let (id, token) = (id.to_string(), browser_token.to_string());
    let outcome = call(state, move |p| {
        let Some(found) = interaction::load(p, &id, Some(&token))? else {
            return Ok(None);
        };
        p.store.use_auth_request(&found.id_hash, p.now)?;
        Ok(Some(found.request.target().error(p.issuer, &error)))
    })
    .await;
    match outcome {
        Ok(Some(response)) => respond(state, req, &response),
        _ => page(req, StatusCode::BAD_REQUEST, EXPIRED),
    }
}
