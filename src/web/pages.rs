//! What every HTML page handler needs: the browser's cookies and address,
//! cookies, redirects, error pages, templates and the per-page CSP.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::crypto::secrets;
use crate::session;
use crate::web::{WebState, client_ip, error, oauth};

/// The browser behind a request.
pub struct Browser {
    pub https: bool,
    pub session: Option<String>,
    /// The browser's id from its signed device cookie (new if it had none).
    pub token: String,
    /// The signed cookie value carrying `token`.
    pub signed_token: String,
    pub is_new: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Browser {
    /// The hash of the device id, as stored (`known_devices`, `sessions`).
    pub fn device_hash(&self) -> String {
        secrets::hash(&self.token)
    }
}

pub fn browser(state: &WebState, req: &HttpRequest) -> Browser {
    let https = state.ctx.config.serves_https();
    let key = &state.ctx.device_key;
    let cookie = req.cookie(session::browser_cookie_name(https));
    let signed = cookie
        .as_ref()
        .and_then(|c| session::device::verify(key, c.value()));
    // A cookie from before the cookie was signed (a bare random id) is taken
    // once and reissued signed, so that upgrading forgets no browser.
    let legacy = cookie
        .as_ref()
        .map(|c| c.value())
        .filter(|v| signed.is_none() && !v.contains('.') && (32..=64).contains(&v.len()))
        .map(str::to_string);
    let is_new = signed.is_none();
    let existing = signed.or(legacy);
    let xff = client_ip::forwarded_for(
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok()),
    );
    let token = existing.unwrap_or_else(|| secrets::generate(32));
    Browser {
        https,
        session: req
            .cookie(session::cookie_name(https))
            .map(|c| c.value().to_string()),
        is_new,
        signed_token: session::device::sign(key, &token),
        token,
        ip: client_ip::resolve(
            req.peer_addr().map(|a| a.ip()),
            xff.as_deref(),
            &state.ctx.config.trusted_proxies,
        )
        .map(|i| i.to_string()),
        user_agent: oauth::header_str(req, header::USER_AGENT).map(str::to_string),
    }
}

pub fn cookie(
    name: &'static str,
    value: String,
    https: bool,
    max_age: Option<i64>,
) -> Cookie<'static> {
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

/// Tell the browser to drop the cookie `name` (an empty one that has expired).
pub fn remove_cookie(res: &mut HttpResponse, name: &'static str, https: bool) {
    let mut gone = cookie(name, String::new(), https, Some(0));
    gone.make_removal();
    let _ = res.add_cookie(&gone);
}

/// Drop the browser's session cookie, once its session has ended.
pub fn forget_session(res: &mut HttpResponse, b: &Browser) {
    remove_cookie(res, session::cookie_name(b.https), b.https);
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// An error for a page's handler to return: rendered as the HTML error page
/// (the route kind `Page`), with the code `page` would give it.
pub fn page_error(status: StatusCode, message: &str) -> error::WebError {
    let code = if status.is_server_error() {
        "server_error"
    } else {
        "invalid_request"
    };
    error::WebError::new(status, code, message)
}

pub fn page(req: &HttpRequest, status: StatusCode, message: &str) -> HttpResponse {
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

pub fn render(
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
pub fn allow_form_action(res: &mut HttpResponse, redirect_uri: &str, with_self: bool) {
    let source = match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => return,
    };
    let own = if with_self { "'self' " } else { "" };
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action {own}{source}; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// Give a browser seen for the first time its long-lived, signed browser
/// cookie, which binds interactions and CSRF tokens to it and is the device
/// the risk engine knows (docs/risk.md).
pub fn remember_browser(res: &mut HttpResponse, b: &Browser) {
    if b.is_new {
        let _ = res.add_cookie(&cookie(
            session::browser_cookie_name(b.https),
            b.signed_token.clone(),
            b.https,
            Some(session::device::MAX_AGE_SECONDS),
        ));
    }
}
