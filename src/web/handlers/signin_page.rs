//! Rendering a sign-in's outcome as HTML: the login and verify pages, the
//! redirects between them and on into the flow, and the answers for the
//! client (`unmet_authentication_requirements`, `access_denied`). The
//! decisions are `authn::signin`'s; this is presentation only.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::authn::login::LoginFailure;
use crate::authn::signin::{self, AccountFactors, Next, Outcome, Progress, progress};
use crate::oidc::interaction::csrf_token;
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::handlers::interaction::{self, PageInfo, continue_url};
use crate::web::pages::{
    Browser, allow_form_action, cookie, page, remember_browser, remove_cookie, render, see_other,
};

pub(crate) const UNAVAILABLE: &str = "Signing in is not possible right now. Try again in a moment.";

/// The answer to a wrong password, and to a refusal right after a correct one.
const WRONG_PASSWORD: &str =
    "The username or password is not correct, or signing in from here needs more than a password.";

const WRONG_CODE: &str = "That code is not correct.";

/// Shown when the risk policy refuses a sign-in to Ward's own pages.
pub(crate) const REFUSED: &str = "This sign-in was refused by the security policy. If you think this is a mistake, contact your administrator.";

/// Shown when Ward's own pages need a factor the account does not have.
const UNMET_ACCOUNT: &str = "This sign-in needs a second factor (an authenticator app or a passkey), and this account has none. Contact your administrator.";

/// What the sign-in knows of this browser.
pub(crate) fn signin_browser(req: &HttpRequest, b: &Browser) -> signin::Browser {
    signin::Browser {
        ip: b.ip.clone(),
        user_agent: b.user_agent.clone(),
        token: b.token.clone(),
        session: b.session.clone(),
        progress: req
            .cookie(progress::cookie_name(b.https))
            .map(|c| c.value().to_string()),
    }
}

/// A page of one interaction: its id, the browser and what the page shows.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub id: &'a str,
    pub b: &'a Browser,
    pub info: &'a PageInfo,
}

/// Render `outcome` for the HTML pages.
pub(crate) async fn respond(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    at: At<'_>,
    outcome: Outcome,
) -> HttpResponse {
    let At { id, b, .. } = at;
    match outcome {
        Outcome::LoginForm { username, failure } => {
            let failed = failure.map(|f| login_failure(f, ("invalid", WRONG_PASSWORD)));
            login_page(state, req, at, &username, failed)
        }
        Outcome::Verify {
            progress_cookie,
            sent,
        } => to_verify(at, progress_cookie, sent),
        Outcome::VerifyAgain {
            progress,
            account,
            failure,
        } => verify_again(state, req, at, (&progress, &account), failure),
        Outcome::Restart => see_other(&format!("/login?interaction={id}")),
        Outcome::Done { session_cookie } => {
            let mut res = see_other(&continue_url(id));
            add_session_cookies(&mut res, b, session_cookie);
            res
        }
        Outcome::Unmet if interaction::own_pages(id) => {
            page(req, StatusCode::FORBIDDEN, UNMET_ACCOUNT)
        }
        Outcome::Unmet => interaction::fail(state, req, id, &b.token, unmet_error()).await,
        Outcome::Refused if interaction::own_pages(id) => page(req, StatusCode::FORBIDDEN, REFUSED),
        Outcome::Refused => {
            let denied = crate::oidc::risk::denied();
            interaction::fail(state, req, id, &b.token, denied).await
        }
        Outcome::Unavailable => page(req, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
    }
}

/// On to the verify page, keeping the sign-in so far in its cookie.
fn to_verify(at: At<'_>, progress_cookie: Option<String>, sent: bool) -> HttpResponse {
    let At { id, b, .. } = at;
    let sent = if sent { "&sent=1" } else { "" };
    let mut res = see_other(&format!("/login/verify?interaction={id}{sent}"));
    if let Some(value) = progress_cookie {
        let max_age = Some(progress::LIFETIME_MS / 1000);
        let _ = res.add_cookie(&cookie(
            progress::cookie_name(b.https),
            value,
            b.https,
            max_age,
        ));
    }
    res
}

/// The verify page again, saying why the last answer was not accepted.
fn verify_again(
    state: &WebState,
    req: &HttpRequest,
    at: At<'_>,
    (progress, account): (&Progress, &AccountFactors),
    failure: LoginFailure,
) -> HttpResponse {
    let failed = login_failure(failure, ("invalid", WRONG_CODE));
    if failed.status == StatusCode::SERVICE_UNAVAILABLE {
        return page(req, failed.status, &failed.message);
    }
    let view = VerifyView {
        progress,
        account,
        error: Some(&failed.message),
        notice: None,
    };
    let res = verify_page(state, req, failed.status, at, view);
    with_retry_after(res, failed.retry_after)
}

/// The error the client hears when the sign-in cannot reach what it needs.
pub(crate) fn unmet_error() -> crate::oidc::OAuthError {
    crate::oidc::OAuthError::unmet_authentication_requirements(
        "the account has no factor that meets the required authentication level",
    )
}

/// Set the new session's cookie and drop the finished sign-in's.
pub(crate) fn add_session_cookies(res: &mut HttpResponse, b: &Browser, session: String) {
    let _ = res.add_cookie(&cookie(
        crate::session::cookie_name(b.https),
        session,
        b.https,
        None,
    ));
    remove_cookie(res, progress::cookie_name(b.https), b.https);
}

/// The login form, with the name typed and a failure's status and message.
pub(crate) fn login_page(
    state: &WebState,
    req: &HttpRequest,
    at: At<'_>,
    username: &str,
    failed: Option<WebError>,
) -> HttpResponse {
    let At { id, b, info } = at;
    if let Some(e) = failed.as_ref()
        && e.status == StatusCode::SERVICE_UNAVAILABLE
    {
        return page(req, e.status, &e.message);
    }
    let username = match username {
        "" => info.login_hint.clone().unwrap_or_default(),
        typed => typed.to_string(),
    };
    let (status, error, retry) = match failed {
        Some(e) => (e.status, Some(e.message), e.retry_after),
        None => (StatusCode::OK, None, None),
    };
    let ctx = context! {
        interaction => id,
        csrf => csrf_token(&b.token, id),
        client_name => info.client_name,
        username,
        error,
        signup => state.ctx.config.signup_enabled && !interaction::own_pages(id),
    };
    let mut res = render(state, req, status, "pages/login.html", ctx);
    allow_form_action(&mut res, &info.redirect_uri, true);
    remember_browser(&mut res, b);
    with_retry_after(res, retry)
}

/// What the verify page shows: the sign-in so far and a message.
pub(crate) struct VerifyView<'a> {
    pub progress: &'a Progress,
    pub account: &'a AccountFactors,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

/// The page for the next factor.
pub(crate) fn verify_page(
    state: &WebState,
    req: &HttpRequest,
    status: StatusCode,
    at: At<'_>,
    view: VerifyView<'_>,
) -> HttpResponse {
    let At { id, b, info } = at;
    let VerifyView {
        progress,
        account,
        error,
        notice,
    } = view;
    let known = Some(account).filter(|_| progress.user_id.is_some());
    let step = match signin::rules::next_for(progress, known, info.required_acr) {
        Next::Password => "password",
        Next::SecondFactor => "second",
        Next::Passkey => "passkey",
        Next::Code | Next::Done(_) | Next::Unmet => "code",
    };
    let ctx = context! {
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
    };
    let mut res = render(state, req, status, "pages/verify.html", ctx);
    allow_form_action(&mut res, &info.redirect_uri, true);
    remember_browser(&mut res, b);
    res
}

/// The one mapping of a sign-in failure to its answer (status, code, message
/// and `Retry-After`), for the HTML pages and the passkey script alike.
/// `invalid` is the code and message of a wrong answer, which depend on what
/// was asked (a password, a code, a passkey); none says which part was wrong.
pub(crate) fn login_failure(f: LoginFailure, invalid: (&'static str, &str)) -> WebError {
    match f {
        LoginFailure::Invalid => WebError::new(StatusCode::UNAUTHORIZED, invalid.0, invalid.1),
        LoginFailure::Throttled { retry_after_secs } => {
            let wait = if retry_after_secs >= 120 {
                format!("{} minutes", retry_after_secs / 60)
            } else {
                format!("{retry_after_secs} seconds")
            };
            WebError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!("Too many failed attempts. Wait {wait} before trying again."),
            )
            .retry_after(retry_after_secs.max(1).unsigned_abs())
        }
        LoginFailure::Unavailable => {
            WebError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", UNAVAILABLE)
        }
    }
}

fn with_retry_after(mut res: HttpResponse, retry: Option<u64>) -> HttpResponse {
    if let Some(v) = retry.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_maps_the_same_for_every_kind_of_answer() {
        let wrong = login_failure(LoginFailure::Invalid, ("invalid", WRONG_CODE));
        assert_eq!(
            (wrong.status, wrong.message.as_str(), wrong.retry_after),
            (StatusCode::UNAUTHORIZED, WRONG_CODE, None)
        );
        assert_eq!(wrong.code, "invalid");
        let passkey = login_failure(LoginFailure::Invalid, ("passkey_refused", "No."));
        assert_eq!(
            (passkey.code.as_ref(), passkey.message.as_str()),
            ("passkey_refused", "No.")
        );

        let soon = login_failure(
            LoginFailure::Throttled {
                retry_after_secs: 30,
            },
            ("invalid", WRONG_PASSWORD),
        );
        assert_eq!(soon.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(soon.code, "throttled");
        assert_eq!(
            soon.message,
            "Too many failed attempts. Wait 30 seconds before trying again."
        );
        assert_eq!(soon.retry_after, Some(30));
        let later = login_failure(
            LoginFailure::Throttled {
                retry_after_secs: 900,
            },
            ("invalid", WRONG_PASSWORD),
        );
        assert!(later.message.contains("Wait 15 minutes"));
        assert_eq!(later.retry_after, Some(900));
        let now = login_failure(
            LoginFailure::Throttled {
                retry_after_secs: 0,
            },
            ("invalid", WRONG_PASSWORD),
        );
        assert_eq!(now.retry_after, Some(1), "Retry-After is at least a second");

        let down = login_failure(LoginFailure::Unavailable, ("invalid", WRONG_PASSWORD));
        assert_eq!(
            (down.status, down.code.as_ref(), down.message.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable", UNAVAILABLE)
        );
    }
}
