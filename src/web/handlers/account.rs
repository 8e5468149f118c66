//! The self-service account pages (`/account`): passkeys, authenticator app,
//! recovery codes, password, email address and sign-out. Changing a factor
//! needs a recent sign-in (`reauth_seconds`); the rules about what may be
//! removed live in `authn::account`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::authn::account::{self, AccountError};
use crate::authn::login;
use crate::clock::to_rfc3339;
use crate::domain::ClientId;
use crate::domain::records::User;
use crate::oidc::interaction::{csrf_ok, csrf_token};
use crate::session::EndReason;
use crate::store::SessionRow;
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::handlers::interaction::ACCOUNT;
use crate::web::oauth;
use crate::web::pages::{
    Browser, browser, forget_session, page, remember_browser, render, see_other,
};

/// The signed-in user of the account pages and their session.
pub struct AccountUser {
    pub user: User,
    pub session: SessionRow,
}

impl AccountUser {
    /// Signed in recently enough to change factors.
    pub fn recent(&self, state: &WebState) -> bool {
        state.ctx.clock.now_ms() - self.session.auth_time
            <= i64::from(state.ctx.config.reauth_seconds) * 1000
    }
}

/// The live session of this browser and its (active) user.
pub async fn signed_in(state: &web::Data<WebState>, b: &Browser) -> Result<AccountUser, ()> {
    let browser = crate::authn::signin::Browser {
        session: b.session.clone(),
        ..Default::default()
    };
    match crate::authn::signin::start::signed_in(&crate::authn::Deps::of(&state.ctx), &browser)
        .await
    {
        Ok(Some((session, user))) => Ok(AccountUser { user, session }),
        _ => Err(()),
    }
}

/// Who is asking, for the audit trail and per-address throttling.
pub(super) fn requester(b: &Browser) -> crate::authn::login::Requester {
    crate::authn::login::Requester {
        ip: b.ip.clone(),
        user_agent: b.user_agent.clone(),
    }
}

pub(super) const SIGN_IN_AGAIN: &str = "/login?interaction=account";

fn passkey_kind(be: bool) -> &'static str {
    if be {
        "synced passkey"
    } else {
        "device-bound passkey"
    }
}

async fn account_page(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    who: &AccountUser,
    status: StatusCode,
    message: (Option<&str>, Option<&str>),
) -> HttpResponse {
    let Ok(overview) = account::overview(&state.ctx, &who.user).await else {
        return page(
            req,
            StatusCode::SERVICE_UNAVAILABLE,
            "Your account cannot be shown right now.",
        );
    };
    let view = account_view(state, b, who, overview, message);
    render(state, req, status, "pages/account.html", view)
}

/// What pages/account.html shows.
fn account_view(
    state: &WebState,
    b: &Browser,
    who: &AccountUser,
    overview: account::Overview,
    (error, notice): (Option<&str>, Option<&str>),
) -> minijinja::Value {
    let user = &who.user;
    context! {
        csrf => csrf_token(&b.token, ACCOUNT),
        username => user.username,
        display_name => login::display_name(user),
        acr => who.session.acr,
        recent => who.recent(state),
        email => user.email,
        email_verified => user.email_verified,
        profile => user.profile,
        profile_name => user.display_name,
        address => user.profile.address.clone().unwrap_or_default(),
        passkeys => passkey_rows(&overview),
        emergency_tenants => emergency_tenants(state, user.id.as_str()),
        sessions => session_rows(state, who, &overview),
        factors => overview.factors,
        emergency_minutes => state.ctx.config.break_glass.seconds / 60,
        error,
        notice,
    }
}

/// The tenants where this user may start emergency access (break-glass).
fn emergency_tenants(state: &WebState, uid: &str) -> Vec<String> {
    let (object, action) = crate::authz::emergency::ELEVATE;
    let authz = &state.ctx.authz;
    authz
        .tenants(uid)
        .into_iter()
        .filter(|t| authz.allowed(uid, t, object, action))
        .collect()
}

fn passkey_rows(overview: &account::Overview) -> Vec<minijinja::Value> {
    overview
        .passkeys
        .iter()
        .map(|p| {
            context! {
                id => p.credential_id,
                name => p.name,
                created => to_rfc3339(p.created_at),
                last_used => p.last_used_at.map(to_rfc3339),
                kind => passkey_kind(p.backup_eligible),
            }
        })
        .collect()
}

/// The live sessions, this one first: where else the account is signed in.
fn session_rows(
    state: &WebState,
    who: &AccountUser,
    overview: &account::Overview,
) -> Vec<minijinja::Value> {
    let now = state.ctx.clock.now_ms();
    let mut rows: Vec<_> = overview
        .sessions
        .iter()
        .filter(|s| crate::session::is_live(s, now, &state.ctx.config.session))
        .map(|s| {
            context! {
                sid => crate::oidc::tokens::sid(&s.id_hash),
                current => s.id_hash == who.session.id_hash,
                created => to_rfc3339(s.created_at),
                last_seen => to_rfc3339(s.last_seen_at),
                ip => s.ip,
                user_agent => s.user_agent,
                acr => s.acr,
            }
        })
        .collect();
    rows.sort_by_key(|s| !s.get_attr("current").map(|v| v.is_true()).unwrap_or(false));
    rows
}

/// `GET /account`
pub async fn show(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let b = browser(&state, &req);
    match signed_in(&state, &b).await {
        Ok(who) => {
            let notice = match oauth::query(&req).get("done").ok().flatten() {
                Some("passkey") => Some("Passkey added."),
                Some("totp") => Some("Authenticator app set up."),
                _ => None,
            };
            account_page(&state, &req, &b, &who, StatusCode::OK, (None, notice)).await
        }
        Err(()) => {
            let mut res = see_other(SIGN_IN_AGAIN);
            remember_browser(&mut res, &b);
            res
        }
    }
}

pub(super) fn field(form: &crate::oidc::params::Params, name: &str) -> String {
    form.get(name)
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_string()
}

/// A checked account form and its user, or the answer to send instead.
#[allow(clippy::result_large_err)]
pub(super) async fn account_form(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    body: &web::Bytes,
) -> Result<Option<(Browser, AccountUser, crate::oidc::params::Params)>, WebError> {
    let b = browser(state, req);
    let form = oauth::form(req, body).map_err(|e| WebError::bad_request(e.description))?;
    if b.is_new || !csrf_ok(&b.token, ACCOUNT, &field(&form, "csrf")) {
        return Err(WebError::new(
            StatusCode::FORBIDDEN,
            "invalid_request",
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        ));
    }
    // Not signed in (any more) is no error: the answer is the sign-in page.
    Ok(signed_in(state, &b).await.ok().map(|who| (b, who, form)))
}

/// `POST /account`: one change, named by `action`.
pub async fn change(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Some((b, who, form)) = account_form(&state, &req, &body).await? else {
        return Ok(see_other(SIGN_IN_AGAIN));
    };
    Ok(apply_change(state, req, b, who, form).await)
}

/// The change a `POST /account` names, for a signed-in account.
async fn apply_change(
    state: web::Data<WebState>,
    req: HttpRequest,
    b: Browser,
    who: AccountUser,
    form: crate::oidc::params::Params,
) -> HttpResponse {
    let action = field(&form, "action");
    let result = match action.as_str() {
        "sign_out" => return sign_out(&state, &req, &b, &who, EndReason::SignOut, "/").await,
        // Shared workstations: end this session (with back-channel logout)
        // and go straight to an empty sign-in form for the next person.
        "switch_user" => {
            return sign_out(&state, &req, &b, &who, EndReason::SwitchUser, SIGN_IN_AGAIN).await;
        }
        // Signing other sessions out protects the account: no recent sign-in needed.
        "end_session" | "end_other_sessions" => {
            let only = (action == "end_session").then(|| field(&form, "sid"));
            end_sessions(&state, &b, &who, only.as_deref()).await
        }
        // Everything else changes how the account is protected: a recent sign-in is required.
        _ if !who.recent(&state) => return see_other(SIGN_IN_AGAIN),
        "regenerate_recovery_codes" => {
            let actor = requester(&b);
            match account::regenerate_recovery_codes(&state.ctx, &who.user, &actor).await {
                Ok(codes) => return recovery_codes_page(&state, &req, &codes),
                Err(e) => Err(AccountError::Refused(e.to_string())),
            }
        }
        _ => super::account_actions::apply(&state.ctx, &who, &b, &action, &form).await,
    };
    changed(&state, &req, &b, result).await
}

/// The account page after a change, with its notice or error.
async fn changed(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    result: Result<String, AccountError>,
) -> HttpResponse {
    // Reload the user: the change may have altered it (email, say).
    let Ok(who) = signed_in(state, b).await else {
        return see_other(SIGN_IN_AGAIN);
    };
    let (status, message) = match &result {
        Ok(notice) => (StatusCode::OK, (None, Some(notice.as_str()))),
        Err(e) => (status_of(e), (Some(e.to_string()), None)),
    };
    let message = (message.0.as_deref(), message.1);
    account_page(state, req, b, &who, status, message).await
}

fn status_of(e: &AccountError) -> StatusCode {
    match e {
        AccountError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        AccountError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        AccountError::WrongCode => StatusCode::UNAUTHORIZED,
        AccountError::Refused(_) => StatusCode::BAD_REQUEST,
    }
}

/// "Signed out 1 session", or why not.
async fn end_sessions(
    state: &web::Data<WebState>,
    b: &Browser,
    who: &AccountUser,
    sid: Option<&str>,
) -> Result<String, AccountError> {
    match end_sessions_of(state, b, who, sid).await {
        Ok(0) => Ok("There was no such session.".to_string()),
        Ok(1) => Ok("Signed out 1 session.".to_string()),
        Ok(n) => Ok(format!("Signed out {n} sessions.")),
        Err(()) => Err(AccountError::Unavailable),
    }
}

/// End the user's other sessions, or the one named by `sid` (never this one:
/// that is "Sign out"). Returns how many ended.
async fn end_sessions_of(
    state: &web::Data<WebState>,
    b: &Browser,
    who: &AccountUser,
    sid: Option<&str>,
) -> Result<usize, ()> {
    let (ctx, uid, current) = (
        state.ctx.clone(),
        who.user.id.clone(),
        who.session.id_hash.clone(),
    );
    let (sid, ip) = (sid.map(str::to_string), b.ip.clone());
    web::block(move || {
        crate::manage::sessions::end_others(&ctx, &uid, &current, sid.as_deref(), ip)
    })
    .await
    .ok()
    .and_then(Result::ok)
    .ok_or(())
}

/// End the browser's session (`reason`: sign-out or switch user), forget the
/// cookie and go to `then`.
pub(crate) async fn sign_out(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    who: &AccountUser,
    reason: crate::session::EndReason,
    then: &str,
) -> HttpResponse {
    let row = who.session.clone();
    if let Some(refused) = end_session(state, req, b, row, reason, None).await {
        return refused;
    }
    let mut res = see_other(then);
    forget_session(&mut res, b);
    res
}

/// End `row` through `manage::sessions::sign_out` (`client`: the one that
/// asked, for RP-initiated logout). If it cannot be ended (the database is
/// down), the answer is the page that says so, and the caller must leave the
/// cookie alone: a sign-out that did not happen must not look as if it did.
pub(crate) async fn end_session(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    row: SessionRow,
    reason: crate::session::EndReason,
    client: Option<ClientId>,
) -> Option<HttpResponse> {
    let (ctx, ip) = (state.ctx.clone(), b.ip.clone());
    let ended = web::block(move || {
        crate::manage::sessions::sign_out(&ctx, &row, reason, ip, client.as_ref())
    })
    .await;
    (!matches!(ended, Ok(Ok(_)))).then(|| {
        page(
            req,
            StatusCode::SERVICE_UNAVAILABLE,
            "Signing out is not possible right now. Try again in a moment.",
        )
    })
}

fn recovery_codes_page(state: &WebState, req: &HttpRequest, codes: &[String]) -> HttpResponse {
    render(
        state,
        req,
        StatusCode::OK,
        "pages/recovery_codes.html",
        context! { codes },
    )
}

/// `GET /account/totp`: the QR code and secret of a new enrolment.
pub async fn totp_form(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let b = browser(&state, &req);
    let Ok(who) = signed_in(&state, &b).await else {
        return see_other(SIGN_IN_AGAIN);
    };
    if !who.recent(&state) {
        return see_other(SIGN_IN_AGAIN);
    }
    totp_page(&state, &req, &b, &who, StatusCode::OK, None).await
}

async fn totp_page(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    who: &AccountUser,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    match account::begin_totp(&state.ctx, &who.user).await {
        Ok(enrolment) => render(
            state,
            req,
            status,
            "pages/totp_setup.html",
            context! { csrf => csrf_token(&b.token, ACCOUNT), enrolment, error },
        ),
        Err(e) => {
            account_page(
                state,
                req,
                b,
                who,
                StatusCode::BAD_REQUEST,
                (Some(&e.to_string()), None),
            )
            .await
        }
    }
}

/// `POST /account/totp`: confirm the enrolment with a first code.
pub async fn totp_confirm(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Some((b, who, form)) = account_form(&state, &req, &body).await? else {
        return Ok(see_other(SIGN_IN_AGAIN));
    };
    if !who.recent(&state) {
        return Ok(see_other(SIGN_IN_AGAIN));
    }
    Ok(
        match account::confirm_totp(&state.ctx, &who.user, &field(&form, "code"), &requester(&b))
            .await
        {
            Ok(Some(codes)) => recovery_codes_page(&state, &req, &codes),
            Ok(None) => see_other("/account?done=totp"),
            Err(e) => {
                let status = if matches!(e, AccountError::Throttled(_)) {
                    StatusCode::TOO_MANY_REQUESTS
                } else {
                    StatusCode::UNAUTHORIZED
                };
                totp_page(&state, &req, &b, &who, status, Some(&e.to_string())).await
            }
        },
    )
}
