//! The browser side of the code flow: `/authorize`, the login and consent pages,
//! and the resume step that brings the user back into the flow.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::authn::login::{self, LoginFailure, LoginInput, LoginState, Requester};
use crate::crypto::secrets;
use crate::oidc::authorize::{self, AuthorizationResponse, AuthorizeError, Next, ResponseMode};
use crate::oidc::interaction::{self, Step, csrf_ok, csrf_token, describe_scope};
use crate::oidc::params::Params;
use crate::oidc::store::OidcStore;
use crate::oidc::{OAuthError, Provider};
use crate::session;
use crate::web::oauth::{self, call};
use crate::web::{WebState, client_ip, error};

struct Browser {
    https: bool,
    session: Option<String>,
    token: String,
    is_new: bool,
    ip: Option<String>,
    user_agent: Option<String>,
}

fn browser(state: &WebState, req: &HttpRequest) -> Browser {
    let https = state.ctx.config.serves_https();
    let existing = req
        .cookie(session::browser_cookie_name(https))
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 32 && v.len() <= 64);
    let xff = client_ip::forwarded_for(
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok()),
    );
    Browser {
        https,
        session: req
            .cookie(session::cookie_name(https))
            .map(|c| c.value().to_string()),
        is_new: existing.is_none(),
        token: existing.unwrap_or_else(|| secrets::generate(32)),
        ip: client_ip::resolve(
            req.peer_addr().map(|a| a.ip()),
            xff.as_deref(),
            &state.ctx.config.trusted_proxies,
        )
        .map(|i| i.to_string()),
        user_agent: oauth::header_str(req, header::USER_AGENT).map(str::to_string),
    }
}

fn cookie(name: &'static str, value: String, https: bool, max_age: Option<i64>) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .finish();
    if let Some(secs) = max_age {
        c.set_max_age(CookieDuration::seconds(secs));
    }
    c
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn page(req: &HttpRequest, status: StatusCode, message: &str) -> HttpResponse {
    error::page(
        req,
        status,
        if status.is_server_error() {
            "server_error"
        } else {
            "invalid_request"
        },
        message,
    )
}

fn render(
    state: &WebState,
    req: &HttpRequest,
    status: StatusCode,
    name: &str,
    ctx: minijinja::Value,
) -> HttpResponse {
    match state.views.render(name, ctx) {
        Ok(html) => HttpResponse::build(status)
            .content_type(ContentType::html())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, template = name, "rendering failed");
            page(
                req,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered.",
            )
        }
    }
}

/// Where a form on this response may send the browser: the client's redirect
/// URI (an origin, or the scheme of a native app's private-use URI), and Ward
/// itself when `with_self`. Browsers apply `form-action` to every redirect that
/// follows a form submission, so the login and consent pages, whose POST ends
/// in a redirect to the client, need the client's origin too.
fn allow_form_action(res: &mut HttpResponse, redirect_uri: &str, with_self: bool) {
    let source = match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => return,
    };
    let own = if with_self { "'self' " } else { "" };
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action {own}{source}; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

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
            let path = if next == Next::Consent {
                "/consent"
            } else {
                "/login"
            };
            see_other(&format!("{path}?interaction={interaction}"))
        }
    };
    if b.is_new {
        let _ = res.add_cookie(&cookie(
            session::browser_cookie_name(b.https),
            b.token.clone(),
            b.https,
            Some(400 * 24 * 3600),
        ));
    }
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
            interaction::proceed(p, request, &client, current.as_ref(), &token, None)
        })())
    })
    .await;
    finish(&state, &req, &b, outcome)
}

fn interaction_id(req: &HttpRequest, form: Option<&Params>) -> Option<String> {
    let from = |p: &Params| p.get("interaction").ok().flatten().map(str::to_string);
    form.and_then(from)
        .or_else(|| from(&oauth::query(req)))
        .filter(|i| i.len() <= 64)
}

const EXPIRED: &str = "This sign-in request has expired, was already completed, or was started in another browser. Return to the application and sign in again.";

/// `GET /authorize/resume`: back into the flow after signing in or consenting.
pub async fn resume(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let Some(id) = interaction_id(&req, None) else {
        return page(&req, StatusCode::BAD_REQUEST, EXPIRED);
    };
    let b = browser(&state, &req);
    let (cookie, token, limits) = (b.session.clone(), b.token.clone(), state.ctx.config.session);
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
        ))
    })
    .await;
    finish(&state, &req, &b, outcome)
}

/// What the login and consent pages show about the request.
struct PageInfo {
    client_name: String,
    redirect_uri: String,
    login_hint: Option<String>,
    scopes: Vec<String>,
}

async fn load_page(
    state: &web::Data<WebState>,
    id: String,
    token: String,
) -> Result<Option<PageInfo>, OAuthError> {
    call(state, move |p: &Provider| {
        let Some(found) = interaction::load(p, &id, Some(&token))? else {
            return Ok(None);
        };
        let client = p.store.client(&found.request.client_id)?;
        Ok(Some(PageInfo {
            client_name: client
                .map(|c| c.name)
                .unwrap_or_else(|| found.request.client_id.clone()),
            login_hint: found.request.login_hint.clone(),
            scopes: found.request.scope.clone(),
            redirect_uri: found.request.redirect_uri.clone(),
        }))
    })
    .await
}

/// What the login form shows besides the request: the username typed and an error.
struct LoginView<'a> {
    id: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

fn login_page(
    state: &WebState,
    req: &HttpRequest,
    status: StatusCode,
    b: &Browser,
    info: &PageInfo,
    view: LoginView<'_>,
) -> HttpResponse {
    let username = if view.username.is_empty() {
        info.login_hint.clone().unwrap_or_default()
    } else {
        view.username.to_string()
    };
    let mut res = render(
        state,
        req,
        status,
        "pages/login.html",
        context! {
            interaction => view.id,
            csrf => csrf_token(&b.token, view.id),
            client_name => info.client_name,
            username,
            error => view.error,
        },
    );
    allow_form_action(&mut res, &info.redirect_uri, true);
    res
}

/// The interaction named in the query, checked against this browser, with what
/// its pages show; or the error page to answer instead.
// HttpResponse is actix's own (large) type; boxing it here would only add noise.
#[allow(clippy::result_large_err)]
async fn page_request(
    state: &web::Data<WebState>,
    req: &HttpRequest,
) -> Result<(String, Browser, PageInfo), HttpResponse> {
    let id =
        interaction_id(req, None).ok_or_else(|| page(req, StatusCode::BAD_REQUEST, EXPIRED))?;
    let b = browser(state, req);
    match load_page(state, id.clone(), b.token.clone()).await {
        Ok(Some(info)) => Ok((id, b, info)),
        Ok(None) => Err(page(req, StatusCode::BAD_REQUEST, EXPIRED)),
        Err(e) => Err(page(
            req,
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &e.description,
        )),
    }
}

/// `GET /login?interaction=…`
pub async fn login_form(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    match page_request(&state, &req).await {
        Ok((id, b, info)) => login_page(
            &state,
            &req,
            StatusCode::OK,
            &b,
            &info,
            LoginView {
                id: &id,
                username: "",
                error: None,
            },
        ),
        Err(res) => res,
    }
}

// HttpResponse is actix's own (large) type; boxing it here would only add noise.
#[allow(clippy::result_large_err)]
fn checked_form(
    req: &HttpRequest,
    body: &web::Bytes,
    b: &Browser,
) -> Result<(String, Params), HttpResponse> {
    let form =
        oauth::form(req, body).map_err(|e| page(req, StatusCode::BAD_REQUEST, &e.description))?;
    let id = interaction_id(req, Some(&form))
        .ok_or_else(|| page(req, StatusCode::BAD_REQUEST, EXPIRED))?;
    let csrf = form.get("csrf").ok().flatten().unwrap_or_default();
    if b.is_new || !csrf_ok(&b.token, &id, csrf) {
        return Err(page(
            req,
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        ));
    }
    Ok((id, form))
}

/// `POST /login`: check the password, start a session, resume the flow.
pub async fn login_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let b = browser(&state, &req);
    let (id, form) = match checked_form(&req, &body, &b) {
        Ok(v) => v,
        Err(res) => return res,
    };
    let info = match load_page(&state, id.clone(), b.token.clone()).await {
        Ok(Some(info)) => info,
        Ok(None) => return page(&req, StatusCode::BAD_REQUEST, EXPIRED),
        Err(e) => return page(&req, StatusCode::SERVICE_UNAVAILABLE, &e.description),
    };
    let username = form
        .get("username")
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_string();
    let password = form
        .get("password")
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_string();
    let who = Requester {
        ip: b.ip.clone(),
        user_agent: b.user_agent.clone(),
    };
    // The page posts username and password together: two steps of the machine.
    let mut step = login::advance(
        &state.ctx,
        LoginState::Identify,
        LoginInput::Username(username.clone()),
        &who,
    )
    .await;
    if let Ok(s) = step {
        step = login::advance(&state.ctx, s, LoginInput::Password(password), &who).await;
    }
    let auth = match step {
        Ok(LoginState::Done(a)) => a,
        Ok(_) | Err(LoginFailure::Invalid) => {
            return login_page(
                &state,
                &req,
                StatusCode::UNAUTHORIZED,
                &b,
                &info,
                LoginView {
                    id: &id,
                    username: &username,
                    error: Some("The username or password is not correct."),
                },
            );
        }
        Err(LoginFailure::Throttled { retry_after_secs }) => {
            let wait = if retry_after_secs >= 120 {
                format!("{} minutes", retry_after_secs / 60)
            } else {
                format!("{retry_after_secs} seconds")
            };
            let message = format!("Too many failed attempts. Wait {wait} before trying again.");
            let mut res = login_page(
                &state,
                &req,
                StatusCode::TOO_MANY_REQUESTS,
                &b,
                &info,
                LoginView {
                    id: &id,
                    username: &username,
                    error: Some(&message),
                },
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return res;
        }
        Err(LoginFailure::Unavailable) => {
            return page(
                &req,
                StatusCode::SERVICE_UNAVAILABLE,
                "Signing in is not possible right now. Try again in a moment.",
            );
        }
    };
    let limits = state.ctx.config.session;
    let now = state.ctx.clock.now_ms();
    let (session_id, row) = session::start(&auth, b.ip.clone(), b.user_agent.clone(), now, limits);
    let event = login::success_event(&auth, b.ip.clone(), b.user_agent.clone())
        .detail("sid", crate::oidc::tokens::sid(&row.id_hash));
    let db = state.ctx.db.clone();
    let previous = b.session.as_deref().map(secrets::hash);
    if !matches!(
        web::block(move || db.create_session(&row, previous.as_deref(), &event)).await,
        Ok(Ok(()))
    ) {
        return page(
            &req,
            StatusCode::SERVICE_UNAVAILABLE,
            "Signing in is not possible right now. Try again in a moment.",
        );
    }
    let mut res = see_other(&format!("/authorize/resume?interaction={id}"));
    let _ = res.add_cookie(&cookie(
        session::cookie_name(b.https),
        session_id,
        b.https,
        None,
    ));
    res
}

/// `GET /consent?interaction=…`
pub async fn consent_form(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (id, b, info) = match page_request(&state, &req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let mut res = render(
        &state,
        &req,
        StatusCode::OK,
        "pages/consent.html",
        context! {
            interaction => id,
            csrf => csrf_token(&b.token, &id),
            client_name => info.client_name,
            scopes => info.scopes.iter().map(|s| describe_scope(s)).collect::<Vec<_>>(),
        },
    );
    allow_form_action(&mut res, &info.redirect_uri, true);
    res
}

/// `POST /consent`: remember the approval (or send `access_denied`), then resume.
pub async fn consent_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let b = browser(&state, &req);
    let (id, form) = match checked_form(&req, &body, &b) {
        Ok(v) => v,
        Err(res) => return res,
    };
    let approve = form.get("decision").ok().flatten() == Some("approve");
    let (cookie, token, limits) = (b.session.clone(), b.token.clone(), state.ctx.config.session);
    let id2 = id.clone();
    let outcome = call(&state, move |p| {
        let Some(found) = interaction::load(p, &id2, Some(&token))? else {
            return Ok(Err(OAuthError::invalid_request(EXPIRED)));
        };
        let Some((_, user)) = interaction::current_session(p, cookie.as_deref(), limits)? else {
            return Ok(Ok(None));
        };
        let req = &found.request;
        let event = |outcome| {
            crate::audit::AuditEvent::new(
                p.now,
                format!("user:{}", user.id),
                "consent.decision",
                outcome,
            )
            .subject(user.id.as_str())
            .client(&req.client_id)
            .detail("scope", req.scope.join(" "))
        };
        if approve {
            p.store.save_consent(
                user.id.as_str(),
                &req.client_id,
                &req.scope,
                p.now,
                &event(crate::audit::Outcome::Success),
            )?;
            Ok(Ok(None))
        } else {
            p.store.use_auth_request(&found.id_hash, p.now)?;
            p.store
                .audit(event(crate::audit::Outcome::Failure).reason("consent_denied"))?;
            Ok(Ok(Some(req.target().error(
                p.issuer,
                &OAuthError::access_denied("the user declined"),
            ))))
        }
    })
    .await;
    match outcome {
        Ok(Ok(None)) => see_other(&format!("/authorize/resume?interaction={id}")),
        Ok(Ok(Some(denied))) => respond(&state, &req, &denied),
        Ok(Err(e)) | Err(e) => page(&req, StatusCode::BAD_REQUEST, &e.description),
    }
}
