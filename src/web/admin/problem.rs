//! RFC 9457 problem details: every error of the admin API, including those
//! actix would otherwise answer in plain text (bad JSON, a bad path or query,
//! an unknown route, a wrong method). Nothing internal reaches a response:
//! server-side failures are logged and answered with a generic detail.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective, HeaderValue};
use actix_web::{HttpResponse, ResponseError, error};
use serde::Serialize;
use utoipa::ToSchema;

use crate::manage::ManageError;
use crate::storage::StorageError;
use crate::web::error::WebError;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// The problem types of the admin API, documented in docs/admin-api.md. A type
/// is a stable identifier for programs; the title is its human name.
macro_rules! ptype {
    ($name:literal) => {
        concat!("https://ward.dev/problems/", $name)
    };
}

/// An error response body (RFC 9457 §3).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://ward.dev/problems/forbidden",
    "title": "Forbidden",
    "status": 403,
    "detail": "This needs the permission `users:write` in the `ward` tenant."
}))]
pub struct Problem {
    /// A URI naming the problem type, or `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    /// The HTTP status code, repeated for convenience.
    pub status: u16,
    /// What went wrong with this request, for a person to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For `invalid-value`: the input field that was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// `WWW-Authenticate` (401) or `Allow` (405), sent as headers.
    #[serde(skip)]
    headers: Vec<(header::HeaderName, String)>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.title)
    }
}

impl Problem {
    /// The problem+json body of a [`WebError`] at the admin API.
    pub fn of(e: &WebError) -> Self {
        let (kind, title, field) = match e.problem {
            Some(p) => (p.uri, p.title, p.field),
            None => (
                "about:blank",
                e.status.canonical_reason().unwrap_or("Error"),
                None,
            ),
        };
        Self {
            kind,
            title,
            status: e.status.as_u16(),
            detail: Some(e.message.clone()),
            field,
            headers: Vec::new(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: Option<String>,
    ) -> Self {
        Self {
            kind,
            title,
            status: status.as_u16(),
            detail,
            field: None,
            headers: Vec::new(),
        }
    }

    /// `about:blank`: the status code is the whole story (RFC 9457 §4.2.1),
    /// so the title is its reason phrase.
    pub fn blank(status: StatusCode, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        Self::new(status, "about:blank", title, Some(detail.into()))
    }

    fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// No bearer token at all: a bare challenge (RFC 6750 §3.1, no error code).
    pub fn no_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ptype!("unauthorized"),
            "Unauthorized",
            Some("Send a Ward access token: `Authorization: Bearer <token>`.".into()),
        )
        .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"ward\"".into())
    }

    /// An invalid, expired or revoked token, or one not issued to a user.
    pub fn invalid_token(description: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ptype!("unauthorized"),
            "Unauthorized",
            Some(description.to_string()),
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            format!(
                "Bearer realm=\"ward\", error=\"invalid_token\", error_description=\"{}\"",
                quoted(description)
            ),
        )
    }

    /// RFC 9470 §3: the token's authentication is too weak or too old. The
    /// challenge tells the client what to ask for at /authorize.
    pub fn step_up(description: &str, acr_values: &str, max_age: u32) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ptype!("insufficient-user-authentication"),
            "Insufficient User Authentication",
            Some(description.to_string()),
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            format!(
                "Bearer realm=\"ward\", error=\"insufficient_user_authentication\", \
                 error_description=\"{}\", acr_values=\"{acr_values}\", max_age=\"{max_age}\"",
                quoted(description)
            ),
        )
    }

    pub fn forbidden(resource: &str, action: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ptype!("forbidden"),
            "Forbidden",
            Some(format!(
                "This needs the permission `{resource}:{action}` in the `{}` tenant.",
                crate::authz::WARD_TENANT
            )),
        )
    }

    /// The request's syntax: a body that is not the expected JSON, a bad query
    /// or path parameter.
    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ptype!("invalid-request"),
            "Invalid Request",
            Some(detail.into()),
        )
    }

    /// Well-formed, but a value is refused (a username, a redirect URI...).
    pub fn invalid_value(field: &'static str, detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ptype!("invalid-value"),
            "Invalid Value",
            Some(detail.into()),
        );
        p.field = Some(field);
        p
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ptype!("not-found"),
            "Not Found",
            Some(detail.into()),
        )
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            ptype!("conflict"),
            "Conflict",
            Some(detail.into()),
        )
    }

    /// Something failed inside Ward; the log has the cause, the response never does.
    pub fn internal() -> Self {
        Self::blank(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Ward could not complete the request. The X-Request-Id header names it in the logs.",
        )
    }

    pub fn unavailable() -> Self {
        Self::blank(
            StatusCode::SERVICE_UNAVAILABLE,
            "The database is not answering; try again shortly.",
        )
    }

    pub fn method_not_allowed(allow: String) -> Self {
        Self::blank(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("This resource accepts {allow}."),
        )
        .with_header(header::ALLOW, allow)
    }

    pub fn no_route() -> Self {
        Self::blank(
            StatusCode::NOT_FOUND,
            "There is no admin API route at this address; see /admin/api/openapi.json.",
        )
    }
}

/// A value inside a quoted-string of a challenge: no quotes or backslashes.
fn quoted(text: &str) -> String {
    text.replace(['"', '\\'], "'")
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(CONTENT_TYPE)
            .insert_header(CacheControl(vec![CacheDirective::NoStore]));
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                res.insert_header((name.clone(), v));
            }
        }
        res.body(serde_json::to_string(self).unwrap_or_default())
    }
}

impl From<ManageError> for Problem {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::Invalid(v) => Self::invalid_value(v.field, v.message),
            ManageError::Policy(p) => Self::invalid_value("password", p.to_string()),
            ManageError::Conflict(m) => Self::conflict(m),
            ManageError::NotFound(m) => Self::not_found(m),
            ManageError::Refused(m) => {
                Self::new(StatusCode::FORBIDDEN, ptype!("refused"), "Refused", Some(m))
            }
            ManageError::Storage(StorageError::Unavailable(_)) => Self::unavailable(),
            other => {
                tracing::error!(error = %other, "admin API operation failed");
                Self::internal()
            }
        }
    }
}

/// `web::JsonConfig`'s error handler: a body that is not the expected JSON.
pub fn json_error(e: error::JsonPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    use error::JsonPayloadError as J;
    let problem = match &e {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => Problem::blank(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The JSON body is larger than the admin API accepts (64 KiB).",
        ),
        J::ContentType => Problem::blank(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the body as `Content-Type: application/json`.",
        ),
        // serde's message names the field and what it expected; it quotes only
        // the caller's own input.
        J::Deserialize(d) => Problem::invalid_request(format!("The JSON body is not valid: {d}")),
        _ => Problem::invalid_request("The body could not be read as JSON."),
    };
    error::InternalError::from_response(e, problem.error_response()).into()
}

/// `web::PathConfig`'s error handler.
pub fn path_error(e: error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    let problem = Problem::invalid_request(format!("A path parameter is not valid: {e}"));
    error::InternalError::from_response(e, problem.error_response()).into()
}

/// `web::QueryConfig`'s error handler.
pub fn query_error(e: error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    let problem = Problem::invalid_request(format!("A query parameter is not valid: {e}"));
    error::InternalError::from_response(e, problem.error_response()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_rfc_9457_json_with_their_headers() {
        let res = Problem::step_up("sign in \"again\"", "aal2 phr phrh", 900).error_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            CONTENT_TYPE
        );
        assert_eq!(
            res.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer realm=\"ward\", error=\"insufficient_user_authentication\", \
             error_description=\"sign in 'again'\", acr_values=\"aal2 phr phrh\", max_age=\"900\""
        );
        let body = serde_json::to_value(Problem::forbidden("users", "read")).unwrap();
        assert_eq!(body["type"], "https://ward.dev/problems/forbidden");
        assert_eq!(body["status"], 403);
        assert!(body.get("headers").is_none() && body.get("field").is_none());
        let blank = serde_json::to_value(Problem::internal()).unwrap();
        assert_eq!(
            (blank["type"].as_str(), blank["title"].as_str()),
            (Some("about:blank"), Some("Internal Server Error"))
        );
    }

    #[test]
    fn internal_errors_say_nothing_about_the_cause() {
        let p = Problem::from(ManageError::Internal("SELECT secret FROM x".into()));
        assert_eq!(p.status, 500);
        assert!(!p.detail.unwrap_or_default().contains("SELECT"));
    }
}
