//! OAuth 2.0 / OpenID Connect protocol errors: the RFC code, a safe description
//! and the HTTP status. Whether an error may go to the redirect URI is decided by
//! the authorization endpoint (only after client_id and redirect_uri are valid).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The `error` code from RFC 6749 §4.1.2.1/§5.2, RFC 6750 §3.1, OIDC Core §3.1.2.6, RFC 9126.
    pub code: &'static str,
    /// `error_description`: for the developer; never internal details.
    pub description: String,
    pub status: u16,
}

impl OAuthError {
    fn new(code: &'static str, status: u16, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            status,
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", 400, d)
    }
    /// RFC 6749 §5.2: 401 when the client authenticated (or tried to) via a header.
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new("invalid_client", 401, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new("invalid_grant", 400, d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new("unauthorized_client", 400, d)
    }
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new("unsupported_grant_type", 400, d)
    }
    pub fn unsupported_response_type(d: impl Into<String>) -> Self {
        Self::new("unsupported_response_type", 400, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new("invalid_scope", 400, d)
    }
    pub fn access_denied(d: impl Into<String>) -> Self {
        Self::new("access_denied", 403, d)
    }
    pub fn login_required(d: impl Into<String>) -> Self {
        Self::new("login_required", 400, d)
    }
    /// OpenID Connect Core Unmet Authentication Requirements 1.0 §2: the
    /// required acr cannot be met (the user has no suitable factor).
    pub fn unmet_authentication_requirements(d: impl Into<String>) -> Self {
        Self::new("unmet_authentication_requirements", 400, d)
    }
    /// OIDC Core §3.1.2.6: the user must interact (here: choose an organisation).
    pub fn interaction_required(d: impl Into<String>) -> Self {
        Self::new("interaction_required", 400, d)
    }
    pub fn consent_required(d: impl Into<String>) -> Self {
        Self::new("consent_required", 400, d)
    }
    pub fn request_not_supported(d: impl Into<String>) -> Self {
        Self::new("request_not_supported", 400, d)
    }
    pub fn registration_not_supported(d: impl Into<String>) -> Self {
        Self::new("registration_not_supported", 400, d)
    }
    pub fn invalid_request_uri(d: impl Into<String>) -> Self {
        Self::new("invalid_request_uri", 400, d)
    }
    /// RFC 6750 §3.1.
    pub fn invalid_token(d: impl Into<String>) -> Self {
        Self::new("invalid_token", 401, d)
    }
    pub fn insufficient_scope(d: impl Into<String>) -> Self {
        Self::new("insufficient_scope", 403, d)
    }
    pub fn server_error() -> Self {
        Self::new(
            "server_error",
            500,
            "the server could not complete the request; try again",
        )
    }
    pub fn temporarily_unavailable() -> Self {
        Self::new(
            "temporarily_unavailable",
            503,
            "the service is temporarily unavailable; try again",
        )
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "storage failure in the OpenID Connect core");
        match e {
            crate::store::StoreError::Unavailable => Self::temporarily_unavailable(),
            crate::store::StoreError::Internal(_) => Self::server_error(),
        }
    }
}
