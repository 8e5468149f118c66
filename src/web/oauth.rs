//! HTTP plumbing shared by the protocol handlers: form bodies, running protocol
//! calls on the blocking pool, and the RFC-shaped errors (rendered as RFC 6749
//! JSON by `web::error` at these routes).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::WebState;
use super::error::WebError;
use crate::oidc::params::Params;
use crate::oidc::{OAuthError, Provider};

/// Largest form body accepted at the protocol endpoints (a 413 beyond).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Run a protocol operation on the blocking pool (it reads and writes the database).
pub async fn call<T, F>(state: &web::Data<WebState>, f: F) -> Result<T, OAuthError>
where
    F: FnOnce(&Provider) -> Result<T, OAuthError> + Send + 'static,
    T: Send + 'static,
{
    call_on(state, f).await
}

/// [`call`] for code that holds a plain `&WebState`.
pub async fn call_on<T, F>(state: &WebState, f: F) -> Result<T, OAuthError>
where
    F: FnOnce(&Provider) -> Result<T, OAuthError> + Send + 'static,
    T: Send + 'static,
{
    let ctx = state.ctx.clone();
    // The blocking thread continues the request's span (its trace's parent link).
    let span = tracing::Span::current();
    web::block(move || {
        span.in_scope(|| {
            let keys = ctx.keyset();
            let p = ctx.provider(&keys);
            f(&p)
        })
    })
    .await
    .map_err(|_| OAuthError::server_error())?
}

/// Parameters of a POST: `application/x-www-form-urlencoded` only (RFC 6749 §3.2).
pub fn form(req: &HttpRequest, body: &web::Bytes) -> Result<Params, OAuthError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("the body is not UTF-8"))?;
    Ok(Params::parse(text))
}

pub fn query(req: &HttpRequest) -> Params {
    Params::parse(req.query_string())
}

pub fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A JSON success with `Cache-Control: no-store` (RFC 6749 §5.1).
pub fn json_no_store<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

/// `invalid_client` after HTTP Basic carries `WWW-Authenticate: Basic` (RFC 6749 §5.2).
pub fn client_error(e: OAuthError, used_basic: bool) -> WebError {
    let challenge = e.status == 401 && used_basic;
    let e = WebError::from(e);
    if challenge {
        e.header(
            header::WWW_AUTHENTICATE,
            "Basic realm=\"ward\", charset=\"UTF-8\"",
        )
    } else {
        e
    }
}

/// RFC 6750 §3: errors at a protected resource.
pub fn bearer_error(e: OAuthError) -> WebError {
    let challenge = format!(
        "Bearer realm=\"ward\", error=\"{}\", error_description=\"{}\"",
        e.code,
        e.description.replace('"', "'")
    );
    WebError::from(e).header(header::WWW_AUTHENTICATE, challenge)
}

/// RFC 6750 §3.1: a request without any credentials gets 401 and a bare
/// challenge, with no error code.
pub fn bearer_missing() -> WebError {
    WebError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_request",
        "no access token",
    )
    .header(header::WWW_AUTHENTICATE, "Bearer realm=\"ward\"")
    .bare()
}

/// 405 for POST-only endpoints, with `Allow`.
pub async fn post_only() -> Result<HttpResponse, WebError> {
    Err(WebError::from(OAuthError::invalid_request(
        "this endpoint accepts POST only",
    ))
    .with_status(StatusCode::METHOD_NOT_ALLOWED)
    .header(header::ALLOW, "POST"))
}

/// Property-based fuzzing of the protocol endpoints' body parsing; the HTTP
/// edge as a whole is fuzzed by tests/fuzz_http.rs (docs/fuzzing.md).
#[cfg(test)]
mod fuzz {
    use actix_web::test::TestRequest;
    use proptest::prelude::*;

    use super::*;

    fn cases() -> u32 {
        std::env::var("WARD_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1024)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn form_bodies(
            ct in prop_oneof![
                Just("application/x-www-form-urlencoded".to_string()),
                Just("Application/X-WWW-Form-Urlencoded ; charset=utf-8".to_string()),
                Just("application/json".to_string()),
                "[ -~]{0,40}",
            ],
            body in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..200),
                ".{0,200}".prop_map(String::into_bytes),
            ],
            query in "[ -~]{0,100}",
        ) {
            let req = TestRequest::post()
                .uri(&format!("/token?{}", url::form_urlencoded::byte_serialize(query.as_bytes())
                    .collect::<String>()
                    .replace("%26", "&")
                    .replace("%3D", "=")))
                .insert_header((header::CONTENT_TYPE, ct.as_str()))
                .to_http_request();
            let body = web::Bytes::from(body);
            let is_form = ct.split(';').next().unwrap_or_default().trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded");
            match form(&req, &body) {
                Ok(p) => {
                    prop_assert!(is_form);
                    let text = std::str::from_utf8(&body).unwrap();
                    let again = Params::parse(text);
                    prop_assert_eq!(p.pairs(), again.pairs());
                }
                Err(e) => {
                    prop_assert_eq!(e.code, "invalid_request");
                    prop_assert!(!is_form || std::str::from_utf8(&body).is_err());
                }
            }
            let _ = query_params_of(&req);
        }
    }

    fn query_params_of(req: &HttpRequest) -> Params {
        query(req)
    }
}
