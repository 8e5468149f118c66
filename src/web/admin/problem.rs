//! RFC 9457 problem details: how a [`WebError`] looks at the admin API, and
//! the admin API's problem types. Every error of the API is one, including
//! those actix would otherwise answer in plain text (bad JSON, a bad path or
//! query, an unknown route, a wrong method). Nothing internal reaches a
//! response: server-side failures are logged and answered with a generic detail.

use actix_web::error;
use actix_web::http::StatusCode;
use actix_web::http::header;
use serde::Serialize;
use utoipa::ToSchema;

use crate::manage::ManageError;
use crate::web::error::{ProblemType, WebError};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// The problem types of the admin API, documented in docs/admin-api.md. A type
/// is a stable identifier for programs; the title is its human name.
macro_rules! ptype {
    ($name:literal, $title:literal) => {
        ProblemType {
            uri: concat!("https://ward.dev/problems/", $name),
            title: $title,
            field: None,
        }
    };
}

const UNAUTHORIZED: ProblemType = ptype!("unauthorized", "Unauthorized");
const STEP_UP: ProblemType = ptype!(
    "insufficient-user-authentication",
    "Insufficient User Authentication"
);
const FORBIDDEN: ProblemType = ptype!("forbidden", "Forbidden");
const INVALID_REQUEST: ProblemType = ptype!("invalid-request", "Invalid Request");
const INVALID_VALUE: ProblemType = ptype!("invalid-value", "Invalid Value");
const NOT_FOUND: ProblemType = ptype!("not-found", "Not Found");
const CONFLICT: ProblemType = ptype!("conflict", "Conflict");
const REFUSED: ProblemType = ptype!("refused", "Refused");

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
}

impl Problem {
    /// The problem+json body of a [`WebError`] at the admin API.
    pub fn of(e: &WebError) -> Self {
        let (kind, title, field) = match e.problem.as_deref() {
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
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The admin API's errors. Each has its problem type; the machine code is the
/// type's last segment.
impl WebError {
    fn typed(status: StatusCode, problem: ProblemType, detail: impl Into<String>) -> Self {
        let code = problem.uri.rsplit('/').next().unwrap_or("error");
        WebError::new(status, code, detail).problem(problem)
    }

    /// No bearer token at all: a bare challenge (RFC 6750 §3.1, no error code).
    pub fn no_token() -> Self {
        Self::typed(
            StatusCode::UNAUTHORIZED,
            UNAUTHORIZED,
            "Send a Ward access token: `Authorization: Bearer <token>`.",
        )
        .header(header::WWW_AUTHENTICATE, "Bearer realm=\"ward\"")
    }

    /// An invalid, expired or revoked token, or one not issued to a user.
    pub fn invalid_token(description: &str) -> Self {
        Self::typed(StatusCode::UNAUTHORIZED, UNAUTHORIZED, description).header(
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
        Self::typed(StatusCode::UNAUTHORIZED, STEP_UP, description).header(
            header::WWW_AUTHENTICATE,
            format!(
                "Bearer realm=\"ward\", error=\"insufficient_user_authentication\", \
                 error_description=\"{}\", acr_values=\"{acr_values}\", max_age=\"{max_age}\"",
                quoted(description)
            ),
        )
    }

    /// The caller lacks the route's permission.
    pub fn missing_permission(resource: &str, action: &str) -> Self {
        Self::typed(
            StatusCode::FORBIDDEN,
            FORBIDDEN,
            format!(
                "This needs the permission `{resource}:{action}` in the `{}` tenant.",
                crate::authz::WARD_TENANT
            ),
        )
    }

    /// The request's syntax: a body that is not the expected JSON, a bad query
    /// or path parameter.
    pub fn invalid_input(detail: impl Into<String>) -> Self {
        Self::typed(StatusCode::BAD_REQUEST, INVALID_REQUEST, detail)
    }

    /// Well-formed, but a value is refused (a username, a redirect URI...).
    pub fn invalid_value(field: &'static str, detail: impl Into<String>) -> Self {
        let problem = ProblemType {
            field: Some(field),
            ..INVALID_VALUE
        };
        Self::typed(StatusCode::UNPROCESSABLE_ENTITY, problem, detail)
    }

    pub fn method_not_allowed(allow: String) -> Self {
        let detail = format!("This resource accepts {allow}.");
        WebError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", detail)
            .header(header::ALLOW, allow)
    }

    pub fn no_route() -> Self {
        WebError::not_found(
            "There is no admin API route at this address; see /admin/api/openapi.json.",
        )
    }
}

/// A value inside a quoted-string of a challenge: no quotes or backslashes.
fn quoted(text: &str) -> String {
    text.replace(['"', '\\'], "'")
}

impl From<ManageError> for WebError {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::Invalid(v) => Self::invalid_value(v.field, v.message),
            ManageError::Policy(p) => Self::invalid_value("password", p.to_string()),
            ManageError::Conflict(m) => Self::typed(StatusCode::CONFLICT, CONFLICT, m),
            ManageError::NotFound(m) => Self::typed(StatusCode::NOT_FOUND, NOT_FOUND, m),
            ManageError::Refused(m) => Self::typed(StatusCode::FORBIDDEN, REFUSED, m),
            e if e.is_unavailable() => WebError::unavailable()
                .with_message("The database is not answering; try again shortly."),
            other => {
                tracing::error!(error = %other, "admin API operation failed");
                WebError::internal()
            }
        }
    }
}

/// `web::JsonConfig`'s error handler: a body that is not the expected JSON.
pub fn json_error(e: error::JsonPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    use error::JsonPayloadError as J;
    let problem = match &e {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => WebError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The JSON body is larger than the admin API accepts (64 KiB).",
        ),
        J::ContentType => WebError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as `Content-Type: application/json`.",
        ),
        // serde's message names the field and what it expected; it quotes only
        // the caller's own input.
        J::Deserialize(d) => WebError::invalid_input(format!("The JSON body is not valid: {d}")),
        _ => WebError::invalid_input("The body could not be read as JSON."),
    };
    problem.into()
}

/// `web::PathConfig`'s error handler.
pub fn path_error(e: error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    WebError::invalid_input(format!("A path parameter is not valid: {e}")).into()
}

/// `web::QueryConfig`'s error handler.
pub fn query_error(e: error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    WebError::invalid_input(format!("A query parameter is not valid: {e}")).into()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;
    use crate::web::error::RouteKind;

    fn problem_of(e: &WebError) -> serde_json::Value {
        serde_json::to_value(Problem::of(e)).unwrap()
    }

    #[test]
    fn problems_are_rfc_9457_json_with_their_headers() {
        let req = TestRequest::get().uri("/admin/api/users").to_http_request();
        let res = WebError::step_up("sign in \"again\"", "aal2 phr phrh", 900)
            .render(RouteKind::Api, &req);
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
        let body = problem_of(&WebError::missing_permission("users", "read"));
        assert_eq!(body["type"], "https://ward.dev/problems/forbidden");
        assert_eq!(body["status"], 403);
        assert!(body.get("headers").is_none() && body.get("field").is_none());
        let blank = serde_json::to_value(Problem::of(&WebError::internal())).unwrap();
        assert_eq!(
            (blank["type"].as_str(), blank["title"].as_str()),
            (Some("about:blank"), Some("Internal Server Error"))
        );
        let invalid = problem_of(&WebError::invalid_value("username", "taken"));
        assert_eq!(
            (invalid["title"].as_str(), invalid["field"].as_str()),
            (Some("Invalid Value"), Some("username"))
        );
    }

    #[test]
    fn internal_errors_say_nothing_about_the_cause() {
        let e = WebError::from(ManageError::Internal("SELECT secret FROM x".into()));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !problem_of(&e)["detail"]
                .as_str()
                .unwrap()
                .contains("SELECT")
        );
    }
}
