//! Errors at the HTTP edge: one type, [`WebError`], and one place that turns
//! it into a response, [`render_errors`]. The envelope is chosen by the kind
//! of route ([`RouteKind::of`], one table): RFC 6749 JSON at the protocol
//! endpoints, RFC 9457 problem+json at the admin API, `{error, message}` JSON
//! for the passkey script, an HTML page (or JSON, when asked) for browsers.
//! Nothing internal (SQL, paths, stack traces) reaches the response: a
//! `WebError` carries only a status, a machine code and a safe message.

use std::borrow::Cow;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective, ContentType, HeaderName};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError, web};
use minijinja::context;

use super::WebState;
use super::middleware::RequestId;
use crate::oidc::OAuthError;

/// The kind of route a request went to, which decides how its errors look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// Protocol endpoints: RFC 6749 §5.2 `{error, error_description}`, no-store.
    OAuth,
    /// The admin API: RFC 9457 problem+json.
    Api,
    /// Pages for people: the HTML error page (JSON when the client asks for it).
    Page,
    /// The JSON endpoints of /static/webauthn.js: `{error, message}`.
    Script,
}

/// How a row of [`ROUTE_KINDS`] matches a path.
enum Paths {
    /// This path only.
    Exact(&'static str),
    /// This path and everything below it (whole segments: `/par` is not `/parx`).
    Under(&'static str),
}

impl Paths {
    fn matches(&self, path: &str) -> bool {
        match self {
            Paths::Exact(p) => path == *p,
            Paths::Under(p) => path
                .strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        }
    }
}

/// The one table of route kinds; a path that no row matches is a
/// [`RouteKind::Page`]. Rows name routes exactly, so that an unknown path
/// next to a JSON route still gets the page a browser can show; only the
/// admin API answers every path under its prefix itself.
const ROUTE_KINDS: &[(Paths, RouteKind)] = &[
    (Paths::Under(super::admin::PREFIX), RouteKind::Api),
    (Paths::Exact("/token"), RouteKind::OAuth),
    (Paths::Exact("/introspect"), RouteKind::OAuth),
    (Paths::Exact("/revoke"), RouteKind::OAuth),
    (Paths::Exact("/par"), RouteKind::OAuth),
    (Paths::Exact("/smart/launch"), RouteKind::OAuth),
    (Paths::Exact("/userinfo"), RouteKind::OAuth),
    (Paths::Exact("/jwks"), RouteKind::OAuth),
    (
        Paths::Exact("/.well-known/openid-configuration"),
        RouteKind::OAuth,
    ),
    (
        Paths::Exact("/.well-known/oauth-authorization-server"),
        RouteKind::OAuth,
    ),
    (
        Paths::Exact("/.well-known/smart-configuration"),
        RouteKind::OAuth,
    ),
    (Paths::Exact("/login/passkey/start"), RouteKind::Script),
    (Paths::Exact("/login/passkey/finish"), RouteKind::Script),
    (Paths::Exact("/signup/start"), RouteKind::Script),
    (Paths::Exact("/signup/finish"), RouteKind::Script),
    (Paths::Exact("/account/passkeys/start"), RouteKind::Script),
    (Paths::Exact("/account/passkeys/finish"), RouteKind::Script),
];

impl RouteKind {
    pub fn of(path: &str) -> Self {
        ROUTE_KINDS
            .iter()
            .find(|(paths, _)| paths.matches(path))
            .map_or(RouteKind::Page, |(_, kind)| *kind)
    }
}

/// The admin API's problem type (RFC 9457 §3.1) of an error, when it has one
/// beyond its status; without it the problem is `about:blank`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    /// The type URI (docs/admin-api.md).
    pub uri: &'static str,
    pub title: &'static str,
    /// For `invalid-value`: the input field that was refused.
    pub field: Option<&'static str>,
}

/// An error answered at the HTTP edge. It says what may be told: a status, a
/// machine code (`error`), a message safe to show, and the headers that go
/// with it (`Retry-After`, `WWW-Authenticate`, `Allow`).
#[derive(Debug, Clone)]
pub struct WebError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    pub retry_after: Option<u64>,
    pub headers: Vec<(HeaderName, String)>,
    /// Boxed: most errors have none, and a `Result` carrying a `WebError` stays small.
    pub problem: Option<Box<ProblemType>>,
    /// The status and headers say it all: no body (RFC 6750 §3.1's bare challenge).
    pub bare: bool,
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl WebError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
            headers: Vec::new(),
            problem: None,
            bare: false,
        }
    }

    /// 400 `invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 403 `access_denied`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "access_denied", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500: the log has the cause, the response never does.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Ward could not complete the request. The X-Request-Id header names it in the logs.",
        )
    }

    /// 503: the database (or another dependency) is not answering.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "Ward cannot answer right now; try again shortly.",
        )
    }

    /// `Retry-After` in seconds (RFC 9110 §10.2.3).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// A header sent with the error, whatever its envelope.
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The admin API's problem type for this error.
    pub fn problem(mut self, problem: ProblemType) -> Self {
        self.problem = Some(Box::new(problem));
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.code = code.into();
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// No body: the status and the headers are the answer.
    pub fn bare(mut self) -> Self {
        self.bare = true;
        self
    }

    /// This error in the envelope of `kind`.
    pub fn render(&self, kind: RouteKind, req: &HttpRequest) -> HttpResponse {
        let mut res = self.start();
        match kind {
            RouteKind::OAuth => {
                no_store(&mut res);
                res.insert_header((header::PRAGMA, "no-cache"));
                self.json(
                    res,
                    serde_json::json!({ "error": self.code, "error_description": self.message }),
                )
            }
            RouteKind::Api => {
                no_store(&mut res);
                if self.bare {
                    return res.finish();
                }
                res.content_type(super::admin::problem::CONTENT_TYPE)
                    .body(super::admin::problem::Problem::of(self).to_json())
            }
            RouteKind::Script => {
                no_store(&mut res);
                self.json(
                    res,
                    serde_json::json!({ "error": self.code, "message": self.message }),
                )
            }
            RouteKind::Page => self.page(res, req),
        }
    }

    /// The status, `Retry-After` and the extra headers.
    fn start(&self) -> HttpResponseBuilder {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        for (name, value) in &self.headers {
            if let Ok(v) = header::HeaderValue::from_str(value) {
                res.insert_header((name.clone(), v));
            }
        }
        res
    }

    fn json(&self, mut res: HttpResponseBuilder, body: serde_json::Value) -> HttpResponse {
        if self.bare {
            res.finish()
        } else {
            res.json(body)
        }
    }

    /// The HTML error page, or `{error, error_description, request_id}` for a
    /// client that asks for JSON.
    fn page(&self, mut res: HttpResponseBuilder, req: &HttpRequest) -> HttpResponse {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        if wants_json(req) {
            return self.json(
                res,
                serde_json::json!({ "error": self.code, "error_description": self.message, "request_id": request_id }),
            );
        }
        let (status, message) = (self.status, &self.message);
        let title = status.canonical_reason().unwrap_or("Error");
        let html = req
            .app_data::<web::Data<WebState>>()
            .and_then(|s| {
                s.views
                    .render(
                        "pages/error.html",
                        context! { status => status.as_u16(), title, message, request_id },
                    )
                    .ok()
            })
            .unwrap_or_else(|| {
                format!(
                    "<!doctype html><title>{}</title><p>{title}</p>",
                    status.as_u16()
                )
            });
        res.content_type(ContentType::html()).body(html)
    }
}

fn no_store(res: &mut HttpResponseBuilder) {
    res.insert_header(CacheControl(vec![CacheDirective::NoStore]));
}

fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(|a| a.contains("application/json") && !a.contains("text/html"))
        .unwrap_or(false)
}

/// Outside [`render_errors`] (which re-renders it for its route) an error is
/// plain JSON with its headers.
impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.json(
            self.start(),
            serde_json::json!({ "error": self.code, "error_description": self.message }),
        )
    }
}

impl From<OAuthError> for WebError {
    fn from(e: OAuthError) -> Self {
        Self::new(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            e.code,
            e.description,
        )
    }
}

/// Middleware: a response carrying a [`WebError`] (a handler's `Err`, or a
/// middleware's `req.error_response(e)`) is rendered in the envelope of its
/// route. Headers that inner layers added to the error's response are kept.
/// A middleware that fails with `Err(e)` instead reaches actix unrendered, so
/// none of ours do.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let Some(web_error) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<WebError>())
    else {
        return Ok(res.map_into_left_body());
    };
    let mut rendered = web_error.render(RouteKind::of(res.request().path()), res.request());
    let own: Vec<HeaderName> = rendered.headers().keys().cloned().collect();
    for (name, value) in res.headers() {
        if !own.contains(name) && name != header::CONTENT_TYPE {
            rendered.headers_mut().append(name.clone(), value.clone());
        }
    }
    let (req, _) = res.into_parts();
    Ok(ServiceResponse::new(req, rendered).map_into_right_body())
}

/// Render an error for a person (HTML) or a program (JSON).
pub fn page(req: &HttpRequest, status: StatusCode, code: &str, message: &str) -> HttpResponse {
    WebError::new(status, code.to_string(), message).render(RouteKind::Page, req)
}

#[cfg(test)]
mod tests;
