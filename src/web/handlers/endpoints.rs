//! Discovery, JWKS, token, introspection, revocation, PAR and userinfo: each
//! parses the request, makes one call into `oidc`, and renders the result.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::manage::records::Client;
use crate::oidc::client_auth::{self, ClientCredentials};
use crate::oidc::{OAuthError, grants, introspect, par, revoke, smart_launch, userinfo};
use crate::web::WebState;
use crate::web::error::WebError;
use crate::web::oauth::{self, bearer_error, call, client_error, json_no_store};

pub async fn discovery(state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .content_type("application/json")
        .body(state.discovery.clone())
}

/// SMART App Launch's discovery document (docs/smart.md). Readable from any
/// origin: apps running in a browser fetch it before anything else, and it
/// holds nothing but public metadata.
pub async fn smart_configuration(state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .content_type("application/json")
        .body(state.smart_configuration.clone())
}

pub async fn jwks(state: web::Data<WebState>) -> HttpResponse {
    let keys = state.ctx.keyset();
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(300),
        ]))
        .content_type("application/jwk-set+json")
        .json(keys.jwks())
}

/// Parse the form and the client's credentials, authenticate, then run `op`.
async fn client_endpoint<T, F>(
    state: web::Data<WebState>,
    req: &HttpRequest,
    body: &web::Bytes,
    path: &'static str,
    op: F,
) -> Result<T, WebError>
where
    F: FnOnce(
            &crate::oidc::Provider,
            &Client,
            &crate::oidc::params::Params,
        ) -> Result<T, OAuthError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let params = oauth::form(req, body)?;
    let creds: ClientCredentials =
        client_auth::credentials(&params, oauth::header_str(req, header::AUTHORIZATION))
            .map_err(|e| client_error(e, true))?;
    let used_basic = creds.basic.is_some();
    let outcome = call(&state, move |p| {
        let audience = p.endpoint(path);
        match client_auth::authenticate(p, &creds, &audience) {
            Ok(client) => {
                // The authenticated client, on the request's span (and trace).
                tracing::Span::current().record("client_id", client.id.as_str());
                Ok(op(p, &client, &params).map_err(|e| (e, false)))
            }
            Err(f) => Ok(Err((f.error, f.used_basic))),
        }
    })
    .await?;
    outcome.map_err(|(e, basic)| client_error(e, basic && used_basic))
}

pub async fn token(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let tokens = client_endpoint(state, &req, &body, "/token", |p, client, params| {
        grants::exchange(p, client, params)
    })
    .await?;
    Ok(json_no_store(StatusCode::OK, &tokens))
}

pub async fn introspection(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let v = client_endpoint(state, &req, &body, "/introspect", introspect::introspect).await?;
    Ok(json_no_store(StatusCode::OK, &v))
}

pub async fn revocation(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    client_endpoint(state, &req, &body, "/revoke", revoke::revoke).await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .finish())
}

/// SMART EHR launch (docs/smart.md): an authenticated EHR client mints a
/// single-use `launch` value for an app.
pub async fn smart_launch(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let v = client_endpoint(state, &req, &body, "/smart/launch", smart_launch::mint).await?;
    Ok(json_no_store(StatusCode::OK, &v))
}

pub async fn pushed_authorization(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let v = client_endpoint(state, &req, &body, "/par", par::push).await?;
    Ok(json_no_store(StatusCode::CREATED, &v))
}

/// RFC 6750 §2.1 (header) and §2.2 (form body, POST only); never the query string.
pub async fn userinfo(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let token = access_token(&req, &body)?;
    let claims = call(&state, move |p| userinfo::claims(p, &token))
        .await
        .map_err(bearer_error)?;
    Ok(json_no_store(StatusCode::OK, &claims))
}

/// The access token of a userinfo request, from exactly one place.
fn access_token(req: &HttpRequest, body: &web::Bytes) -> Result<String, WebError> {
    let header_token = match oauth::header_str(req, header::AUTHORIZATION) {
        Some(h) if h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ") => {
            Some(h[7..].trim().to_string())
        }
        Some(_) => {
            return Err(bearer_error(OAuthError::invalid_request(
                "the Authorization header is not a Bearer token",
            )));
        }
        None => None,
    };
    let form_token = if req.method() == actix_web::http::Method::POST && !body.is_empty() {
        oauth::form(req, body)
            .and_then(|p| p.get("access_token").map(|t| t.map(str::to_string)))
            .map_err(bearer_error)?
    } else {
        None
    };
    match (header_token, form_token) {
        (Some(_), Some(_)) => Err(bearer_error(OAuthError::invalid_request(
            "send the access token in one place only",
        ))),
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => Err(oauth::bearer_missing()),
    }
}
