//! The sign-in pages: password (`/login`), the next factor (`/login/verify`)
//! and recovery by emailed or recovery code (`/login/recover`). The rules of
//! what comes next live in `authn::login`; these handlers only carry a sign-in
//! in progress between pages (a cookie naming a server-side row) and render.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::authn::factors::Factor;
use crate::authn::login::{self, AccountFactors, LoginFailure, Next, Progress, Requester};
use crate::crypto::secrets;
use crate::oidc::interaction::csrf_token;
use crate::oidc::store::OidcStore;
use crate::session::{self, Authentication};
use crate::storage::{self, users::User};
use crate::web::WebState;
use crate::web::handlers::interaction::{self, PageInfo, checked_form, continue_url, page_request};
use crate::web::handlers::login_risk::{SignInRisk, refuse, sign_in_risk};
use crate::web::pages::{
    Browser, allow_form_action, browser, cookie, page, remember_browser, render, see_other,
};

/// A sign-in in progress lives ten minutes.
const PROGRESS_MS: i64 = 10 * 60 * 1000;

fn progress_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-ward_login"
    } else {
        "ward_login"
    }
}

const UNAVAILABLE: &str = "Signing in is not possible right now. Try again in a moment.";

pub fn requester(b: &Browser) -> Requester {
    Requester {
        ip: b.ip.clone(),
        user_agent: b.user_agent.clone(),
    }
}

/// The sign-in in progress named by this browser's cookie.
pub async fn load_progress(
    state: &WebState,
    req: &HttpRequest,
    b: &Browser,
) -> Result<Option<(Progress, Option<User>, AccountFactors)>, LoginFailure> {
    let Some(id) = req.cookie(progress_cookie_name(b.https)) else {
        return Ok(None);
    };
    let hash = secrets::hash(id.value());
    let now = state.ctx.clock.now_ms();
    state
        .ctx
        .db
        .run(move |db| {
            let mut c = db.conn()?;
            let Some(row) = storage::login_progress::find(&mut c, &hash, now)? else {
                return Ok(None);
            };
            let Ok(progress) = serde_json::from_str::<Progress>(&row.state) else {
                return Ok(None);
            };
            let user = match &progress.user_id {
                Some(id) => db.user(id).map_err(|_| LoginFailure::Unavailable)?,
                None => None,
            };
            let factors = match &user {
                Some(u) => login::account_factors(&mut c, u)?,
                None => AccountFactors::default(),
            };
            Ok(Some((progress, user, factors)))
        })
        .await
}

/// Store `progress` under a new id (a new id at every step) and set its cookie.
async fn save_progress(
    state: &WebState,
    req: &HttpRequest,
    b: &Browser,
    progress: &Progress,
    res: &mut HttpResponse,
) -> Result<(), LoginFailure> {
    let id = secrets::generate(32);
    let now = state.ctx.clock.now_ms();
    let row = storage::login_progress::ProgressRow {
        id_hash: secrets::hash(&id),
        user_id: progress.user_id.clone(),
        state: serde_json::to_string(progress).map_err(|_| LoginFailure::Unavailable)?,
        created_at: now,
        expires_at: now + PROGRESS_MS,
    };
    let old = req
        .cookie(progress_cookie_name(b.https))
        .map(|c| secrets::hash(c.value()));
    state
        .ctx
        .db
        .run(move |db| {
            db.transaction(|c| {
                if let Some(old) = &old {
                    storage::login_progress::finish(c, old)?;
                }
                storage::login_progress::insert(c, &row)
            })
        })
        .await?;
    let _ = res.add_cookie(&cookie(
        progress_cookie_name(b.https),
        id,
        b.https,
        Some(PROGRESS_MS / 1000),
    ));
    Ok(())
}

/// Finish a sign-in: a new session (a new id every time: no fixation), the
/// old session of this browser ended, the progress row consumed, a new-device
/// notice when this browser is new for the user, and the browser's network
/// and location remembered for the risk engine. `interaction`: the sign-in's
/// interaction id, whose client may mark the session as on a shared
/// workstation. Returns the session cookie.
pub async fn start_session(
    state: &WebState,
    req: &HttpRequest,
    b: &Browser,
    auth: &Authentication,
    username: &str,
    interaction: &str,
) -> Result<actix_web::cookie::Cookie<'static>, LoginFailure> {
    let policy = state.ctx.config.session;
    let now = state.ctx.clock.now_ms();
    let ip: Option<std::net::IpAddr> = b.ip.as_deref().and_then(|i| i.parse().ok());
    let shared = ip.is_some_and(|ip| {
        crate::risk::network::contains_any(&state.ctx.config.shared_workstation_networks, ip)
    }) || interaction::client_of(state, interaction, &b.token)
        .await
        .is_some_and(|c| c.shared_workstation);
    let origin = session::Origin {
        ip: b.ip.clone(),
        user_agent: b.user_agent.clone(),
        device_hash: Some(b.device_hash()),
        shared_workstation: shared,
    };
    let (session_id, row) = session::start(auth, origin, now, &policy);
    let network = ip.map(crate::risk::network::prefix);
    let location = ip.and_then(|ip| state.ctx.geo.as_ref().and_then(|g| g.lookup(ip)));
    let event = login::success_event(auth, b.ip.clone(), b.user_agent.clone())
        .detail("sid", crate::oidc::tokens::sid(&row.id_hash));
    let previous = b.session.as_deref().map(secrets::hash);
    let progress = req
        .cookie(progress_cookie_name(b.https))
        .map(|c| secrets::hash(c.value()));
    let device = b.device_hash();
    let uid = auth.user_id.clone();
    let new_device = state
        .ctx
        .db
        .run(move |db| {
            db.create_session(&row, previous.as_deref(), &event)
                .map_err(|_| LoginFailure::Unavailable)?;
            let mut c = db.conn()?;
            if let Some(p) = &progress {
                storage::login_progress::finish(&mut c, p)?;
            }
            let new_device = storage::login_progress::note_device(&mut c, &uid, &device, now)?;
            storage::risk_history::remember(&mut c, &uid, network.as_deref(), location, now)?;
            Ok::<_, LoginFailure>(new_device)
        })
        .await?;
    login::reset_failures(&state.ctx, username).await?;
    if new_device && let Some(user) = login::user_by_id(&state.ctx, &auth.user_id).await? {
        {
            login::notify(
                &state.ctx,
                &user,
                "new_device_sign_in",
                serde_json::json!({
                    "ip": b.ip.clone().unwrap_or_default(),
                    "user_agent": b.user_agent.clone().unwrap_or_default(),
                }),
            );
        }
    }
    Ok(cookie(
        session::cookie_name(b.https),
        session_id,
        b.https,
        None,
    ))
}

/// Where the sign-in goes after a factor was proven: finished (redirect on),
/// or the page for what is missing.
async fn proceed(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    (id, required): (&str, Option<&str>),
    progress: Progress,
    account: Option<&AccountFactors>,
) -> HttpResponse {
    let risk_need = match sign_in_risk(state, b, id, &progress).await {
        Ok(SignInRisk::Allow) => None,
        Ok(SignInRisk::StepUp(acr)) => Some(acr),
        Ok(SignInRisk::Deny) if progress.factors == [Factor::Password] => {
            return as_wrong_password(state, req, b, id, &progress.username).await;
        }
        Ok(SignInRisk::Deny) => return refuse(state, req, b, id).await,
        Err(_) => return page(req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
    };
    let required = crate::domain::acr::stronger(required, risk_need.as_deref());
    let next = login::next_for(&progress, account, required);
    // A risk refusal right after a correct password must not confirm the
    // password: it is answered exactly like a wrong one, and counted as one
    // (the reasons are in the audit trail).
    if progress.factors == [Factor::Password] && risk_need.is_some() && next == Next::Unmet {
        return as_wrong_password(state, req, b, id, &progress.username).await;
    }
    let result = match next {
        Next::Unmet => return unmet(state, req, b, id, &progress).await,
        Next::Done(auth) => start_session(state, req, b, &auth, &progress.username, id)
            .await
            .map(|session| {
                let mut res = see_other(&continue_url(id));
                let _ = res.add_cookie(&session);
                let mut gone = cookie(
                    progress_cookie_name(b.https),
                    String::new(),
                    b.https,
                    Some(0),
                );
                gone.make_removal();
                let _ = res.add_cookie(&gone);
                res
            }),
        _ => {
            let mut res = see_other(&format!("/login/verify?interaction={id}"));
            save_progress(state, req, b, &progress, &mut res)
                .await
                .map(|()| res)
        }
    };
    result.unwrap_or_else(|_| page(req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE))
}

/// The answer to a wrong password, and to a refusal right after a correct one.
const WRONG_PASSWORD: &str =
    "The username or password is not correct, or signing in from here needs more than a password.";

/// Answer a risk refusal after a password exactly like a wrong password:
/// the same page, status and wording, and a failure counted and audited
/// (reason `risk_refused`), so that the refusal does not confirm the password.
async fn as_wrong_password(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    id: &str,
    username: &str,
) -> HttpResponse {
    let who = requester(b);
    let check = login::Check {
        ctx: &state.ctx,
        who: &who,
        username: username.to_string(),
        kind: "password",
        now: state.ctx.clock.now_ms(),
    };
    let f = check.failed("risk_refused").await;
    let (status, message, retry) = failure_message(f, WRONG_PASSWORD);
    let info = match interaction::load_page(state, id.to_string(), b.token.clone()).await {
        Ok(Some(info)) if status != StatusCode::SERVICE_UNAVAILABLE => info,
        Ok(None) => return page(req, StatusCode::BAD_REQUEST, interaction::EXPIRED),
        _ => return page(req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
    };
    let res = login_page(
        state,
        req,
        status,
        b,
        &info,
        LoginView {
            id,
            username,
            error: Some(&message),
        },
    );
    with_retry_after(res, retry)
}

/// The client needs more than this account can prove: say so to the client
/// (OpenID Connect Core Unmet Authentication Requirements 1.0) and audit it.
async fn unmet(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    id: &str,
    progress: &Progress,
) -> HttpResponse {
    let mut event = crate::audit::AuditEvent::new(
        state.ctx.clock.now_ms(),
        "anonymous",
        "login.step_up",
        crate::audit::Outcome::Failure,
    )
    .reason("unmet_authentication_requirements")
    .detail("username", progress.username.as_str());
    event.ip = b.ip.clone();
    let db = state.ctx.db.clone();
    let _ = web::block(move || db.audit(event)).await;
    if id == interaction::ACCOUNT {
        // Ward's own pages have no client to tell: say it here.
        return page(
            req,
            StatusCode::FORBIDDEN,
            "This sign-in needs a second factor (an authenticator app or a passkey), and this account has none. Contact your administrator.",
        );
    }
    interaction::fail(
        state,
        req,
        id,
        &b.token,
        crate::oidc::OAuthError::unmet_authentication_requirements(
            "the account has no factor that meets the required authentication level",
        ),
    )
    .await
}

/// A step-up: the browser's session is weaker than the client needs. The
/// sign-in starts from what the session proved and asks only for the rest.
async fn step_up(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    b: &Browser,
    id: &str,
    need: &str,
) -> Option<HttpResponse> {
    let who = crate::web::handlers::account::signed_in(state, b)
        .await
        .ok()?;
    if crate::domain::acr::acr_satisfies(&who.session.acr, need) {
        return None;
    }
    let mut progress = Progress::new(&who.user.username);
    progress.user_id = Some(who.user.id.to_string());
    for f in login::factors_from_amr(&who.session.amr) {
        let at = who.session.factor_times.get(f.amr()).copied();
        progress.prove(f, at.unwrap_or(who.session.auth_time));
    }
    let user = who.user.clone();
    let account = state
        .ctx
        .db
        .run(move |db| login::account_factors(&mut *db.conn()?, &user))
        .await
        .ok()?;
    if login::next_for(&progress, Some(&account), Some(need)) == Next::Unmet {
        return Some(unmet(state, req, b, id, &progress).await);
    }
    let mut res = see_other(&format!("/login/verify?interaction={id}"));
    save_progress(state, req, b, &progress, &mut res)
        .await
        .ok()?;
    Some(res)
}

/// What the login page shows besides the request.
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
            signup => state.ctx.config.signup_enabled && view.id != interaction::ACCOUNT,
        },
    );
    allow_form_action(&mut res, &info.redirect_uri, true);
    remember_browser(&mut res, b);
    res
}

fn failure_message(f: LoginFailure, generic: &str) -> (StatusCode, String, Option<i64>) {
    match f {
        LoginFailure::Invalid => (StatusCode::UNAUTHORIZED, generic.to_string(), None),
        LoginFailure::Throttled { retry_after_secs } => {
            let wait = if retry_after_secs >= 120 {
                format!("{} minutes", retry_after_secs / 60)
            } else {
                format!("{retry_after_secs} seconds")
            };
            (
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many failed attempts. Wait {wait} before trying again."),
                Some(retry_after_secs),
            )
        }
        LoginFailure::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE.into(), None),
    }
}

fn with_retry_after(mut res: HttpResponse, retry: Option<i64>) -> HttpResponse {
    if let Some(v) = retry.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// `GET /login?interaction=…`
pub async fn login_form(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    match page_request(&state, &req).await {
        Ok((id, b, info)) => {
            if let Some(need) = info.required_acr.as_deref()
                && let Some(res) = step_up(&state, &req, &b, &id, need).await
            {
                return res;
            }
            login_page(
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
            )
        }
        Err(res) => res,
    }
}

fn field(form: &crate::oidc::params::Params, name: &str) -> String {
    form.get(name)
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_string()
}

/// `POST /login`: the password. Continues a recovery sign-in that already
/// proved an emailed or recovery code for the same account.
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
    let info = match interaction::load_page(&state, id.clone(), b.token.clone()).await {
        Ok(Some(info)) => info,
        Ok(None) => return page(&req, StatusCode::BAD_REQUEST, interaction::EXPIRED),
        Err(e) => return page(&req, StatusCode::SERVICE_UNAVAILABLE, &e.description),
    };
    let username = field(&form, "username");
    let who = requester(&b);
    let verified =
        login::verify_password(&state.ctx, &username, field(&form, "password"), &who).await;
    let user = match verified {
        Ok(user) => user,
        Err(f) => {
            let (status, message, retry) = failure_message(f, WRONG_PASSWORD);
            if status == StatusCode::SERVICE_UNAVAILABLE {
                return page(&req, status, &message);
            }
            let res = login_page(
                &state,
                &req,
                status,
                &b,
                &info,
                LoginView {
                    id: &id,
                    username: &username,
                    error: Some(&message),
                },
            );
            return with_retry_after(res, retry);
        }
    };
    let now = state.ctx.clock.now_ms();
    let earlier = match load_progress(&state, &req, &b).await {
        Ok(Some((p, _, _))) if p.user_id.as_deref() == Some(user.id.as_str()) => Some(p),
        Ok(_) => None,
        Err(_) => return page(&req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
    };
    let mut progress = earlier.unwrap_or_else(|| Progress::new(&user.username));
    progress.username = user.username.clone();
    progress.user_id = Some(user.id.to_string());
    progress.prove(Factor::Password, now);
    let u = user.clone();
    let account = match state
        .ctx
        .db
        .run(move |db| login::account_factors(&mut *db.conn()?, &u))
        .await
    {
        Ok(a) => a,
        Err(_) => return page(&req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
    };
    proceed(
        &state,
        &req,
        &b,
        (&id, info.required_acr.as_deref()),
        progress,
        Some(&account),
    )
    .await
}

/// What the verify page shows: the sign-in so far and a message.
struct VerifyView<'a> {
    id: &'a str,
    info: &'a PageInfo,
    progress: &'a Progress,
    account: &'a AccountFactors,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

/// Render the page for the next factor.
fn verify_page(
    state: &WebState,
    req: &HttpRequest,
    status: StatusCode,
    b: &Browser,
    view: VerifyView<'_>,
) -> HttpResponse {
    let VerifyView {
        id,
        info,
        progress,
        account,
        error,
        notice,
    } = view;
    let step = match login::next_for(
        progress,
        Some(account).filter(|_| progress.user_id.is_some()),
        info.required_acr.as_deref(),
    ) {
        Next::Password => "password",
        Next::SecondFactor => "second",
        Next::Passkey => "passkey",
        Next::Code | Next::Done(_) | Next::Unmet => "code",
    };
    let mut res = render(
        state,
        req,
        status,
        "pages/verify.html",
        context! {
            interaction => id,
            csrf => csrf_token(&b.token, id),
            client_name => info.client_name,
            step,
            username => progress.username,
            totp => account.totp,
            passkeys => account.passkeys > 0,
            recovery => account.recovery_codes > 0,
            email => account.email.is_some(),
            error,
            notice,
        },
    );
    allow_form_action(&mut res, &info.redirect_uri, true);
    remember_browser(&mut res, b);
    res
}

/// `GET /login/verify?interaction=…`
pub async fn verify_form(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (id, b, info) = match page_request(&state, &req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let minutes = match (state.ctx.config.email_code_seconds / 60).max(1) {
        1 => "1 minute".to_string(),
        n => format!("{n} minutes"),
    };
    let notice = req.query_string().contains("sent=1").then(|| {
        format!("If the account has a verified email address, a code is on its way. It is valid for {minutes}.")
    });
    match load_progress(&state, &req, &b).await {
        Ok(Some((progress, _, account))) => verify_page(
            &state,
            &req,
            StatusCode::OK,
            &b,
            VerifyView {
                id: &id,
                info: &info,
                progress: &progress,
                account: &account,
                error: None,
                notice: notice.as_deref(),
            },
        ),
        Ok(None) => see_other(&format!("/login?interaction={id}")),
        Err(_) => page(&req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
    }
}

/// `POST /login/verify`: a TOTP, recovery or emailed code, or a request to email one.
pub async fn verify_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let b = browser(&state, &req);
    let (id, form) = match checked_form(&req, &body, &b) {
        Ok(v) => v,
        Err(res) => return res,
    };
    let info = match interaction::load_page(&state, id.clone(), b.token.clone()).await {
        Ok(Some(info)) => info,
        Ok(None) => return page(&req, StatusCode::BAD_REQUEST, interaction::EXPIRED),
        Err(e) => return page(&req, StatusCode::SERVICE_UNAVAILABLE, &e.description),
    };
    let (mut progress, user, account) = match load_progress(&state, &req, &b).await {
        Ok(Some(v)) => v,
        Ok(None) => return see_other(&format!("/login?interaction={id}")),
        Err(_) => return page(&req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
    };
    let who = requester(&b);
    let code = field(&form, "code");
    let method = field(&form, "method");
    let outcome = match (method.as_str(), &user) {
        ("send_email", Some(u)) => {
            if let Some(email) = account.email.clone() {
                let now = state.ctx.clock.now_ms();
                let _ = login::issue_email_code(&state.ctx, u, &email, "sign_in", now, &who).await;
            }
            return see_other(&format!("/login/verify?interaction={id}&sent=1"));
        }
        ("send_email", None) => {
            return see_other(&format!("/login/verify?interaction={id}&sent=1"));
        }
        ("totp", Some(u)) => login::verify_totp(&state.ctx, u, &code, &who)
            .await
            .map(|()| Factor::Totp),
        ("recovery", Some(u)) => login::verify_recovery_code(&state.ctx, u, &code, &who)
            .await
            .map(|()| Factor::RecoveryCode),
        ("email", u) => login::verify_email_code(
            &state.ctx,
            &progress.username,
            u.as_ref(),
            "sign_in",
            &code,
            &who,
        )
        .await
        .map(|_| Factor::EmailCode),
        // An unknown account, or a method the page did not offer: fails like a wrong code.
        _ => Err(LoginFailure::Invalid),
    };
    match outcome {
        Ok(factor) => {
            progress.prove(factor, state.ctx.clock.now_ms());
            proceed(
                &state,
                &req,
                &b,
                (&id, info.required_acr.as_deref()),
                progress,
                Some(&account),
            )
            .await
        }
        Err(f) => {
            let (status, message, retry) = failure_message(f, "That code is not correct.");
            if status == StatusCode::SERVICE_UNAVAILABLE {
                return page(&req, status, &message);
            }
            let res = verify_page(
                &state,
                &req,
                status,
                &b,
                VerifyView {
                    id: &id,
                    info: &info,
                    progress: &progress,
                    account: &account,
                    error: Some(&message),
                    notice: None,
                },
            );
            with_retry_after(res, retry)
        }
    }
}

/// `GET /login/recover?interaction=…`: sign in without the usual factor.
pub async fn recover_form(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (id, b, info) = match page_request(&state, &req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    interaction::interaction_page(
        &state,
        &req,
        (&id, &b, &info),
        "pages/recover.html",
        context! { username => info.login_hint },
    )
}

/// `POST /login/recover`: start a recovery sign-in for the name typed; an
/// email code is sent when asked for. The answer is the same for every name.
pub async fn recover_submit(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let b = browser(&state, &req);
    let (id, form) = match checked_form(&req, &body, &b) {
        Ok(v) => v,
        Err(res) => return res,
    };
    let username = field(&form, "username");
    let who = requester(&b);
    let user = if field(&form, "method") == "send_email" {
        login::send_sign_in_code(&state.ctx, &username, &who).await
    } else {
        let name = login::normalise_username(&username);
        state
            .ctx
            .db
            .run(move |db| {
                Ok::<_, LoginFailure>(storage::users::find_by_username(&mut *db.conn()?, &name)?)
            })
            .await
    };
    let Ok(user) = user else {
        return page(&req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
    };
    let mut progress = Progress::new(&username);
    progress.user_id = user
        .filter(|u| u.status == crate::domain::UserStatus::Active)
        .map(|u| u.id.to_string());
    let sent = if field(&form, "method") == "send_email" {
        "&sent=1"
    } else {
        ""
    };
    let mut res = see_other(&format!("/login/verify?interaction={id}{sent}"));
    match save_progress(&state, &req, &b, &progress, &mut res).await {
        Ok(()) => res,
        Err(_) => page(&req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
    }
}

/// `GET /signup?interaction=…`: create a patient account with a passkey (when enabled).
pub async fn signup_form(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    if !state.ctx.config.signup_enabled {
        return page(
            &req,
            StatusCode::NOT_FOUND,
            "Accounts are created by an administrator here.",
        );
    }
    let (id, b, info) = match page_request(&state, &req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    interaction::interaction_page(
        &state,
        &req,
        (&id, &b, &info),
        "pages/signup.html",
        context! {},
    )
}
