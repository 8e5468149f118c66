//! Discovery, JWKS, token, introspection, revocation, PAR and userinfo: each
//! parses the request, makes one call into `oidc`, and renders the result.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::oidc::client_auth::{self, ClientCredentials};
use crate::oidc::{OAuthError, grants, introspect, par, revoke, userinfo};
use crate::web::WebState;
use crate::web::oauth::{self, bearer_error, call, client_error, error_json, json_no_store};

pub async fn discovery(state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .content_type("application/json")
        .body(state.discovery.clone())
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
) -> Result<T, HttpResponse>
where
    F: FnOnce(
            &crate::oidc::Provider,
            &crate::storage::clients::Client,
            &crate::oidc::params::Params,
        ) -> Result<T, OAuthError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let params = oauth::form(req, body).map_err(|e| error_json(&e))?;
    let creds: ClientCredentials =
        client_auth::credentials(&params, oauth::header_str(req, header::AUTHORIZATION))
            .map_err(|e| client_error(&e, true))?;
    let used_basic = creds.basic.is_some();
    let outcome = call(&state, move |p| {
        let audience = p.endpoint(path);
        match client_auth::authenticate(p, &creds, &audience) {
            Ok(client) => Ok(op(p, &client, &params).map_err(|e| (e, false))),
            Err(f) => Ok(Err((f.error, f.used_basic))),
        }
    })
    .await
    .map_err(|e| error_json(&e))?;
    outcome.map_err(|(e, basic)| client_error(&e, basic && used_basic))
}

pub async fn token(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    match client_endpoint(state, &req, &body, "/token", |p, client, params| {
        grants::exchange(p, client, params)
    })
    .await
    {
        Ok(tokens) => json_no_store(StatusCode::OK, &tokens),
        Err(res) => res,
    }
}

pub async fn introspection(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    match client_endpoint(state, &req, &body, "/introspect", introspect::introspect).await {
        Ok(v) => json_no_store(StatusCode::OK, &v),
        Err(res) => res,
    }
}

pub async fn revocation(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    match client_endpoint(state, &req, &body, "/revoke", revoke::revoke).await {
        Ok(()) => HttpResponse::Ok()
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .finish(),
        Err(res) => res,
    }
}

pub async fn pushed_authorization(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    match client_endpoint(state, &req, &body, "/par", par::push).await {
        Ok(v) => json_no_store(StatusCode::CREATED, &v),
        Err(res) => res,
    }
}

/// RFC 6750 §2.1 (header) and §2.2 (form body, POST only); never the query string.
pub async fn userinfo(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let header_token = match oauth::header_str(&req, header::AUTHORIZATION) {
        Some(h) if h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ") => {
            Some(h[7..].trim().to_string())
        }
        Some(_) => {
            return bearer_error(&OAuthError::invalid_request(
                "the Authorization header is not a Bearer token",
            ));
        }
        None => None,
    };
    let form_token = if req.method() == actix_web::http::Method::POST && !body.is_empty() {
        match oauth::form(&req, &body)
            .and_then(|p| p.get("access_token").map(|t| t.map(str::to_string)))
        {
            Ok(t) => t,
            Err(e) => return bearer_error(&e),
        }
    } else {
        None
    };
    let token = match (header_token, form_token) {
        (Some(_), Some(_)) => {
            return bearer_error(&OAuthError::invalid_request(
                "send the access token in one place only",
            ));
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return oauth::bearer_missing(),
    };
    match call(&state, move |p| userinfo::claims(p, &token)).await {
        Ok(claims) => json_no_store(StatusCode::OK, &claims),
        Err(e) => bearer_error(&e),
    }
}
