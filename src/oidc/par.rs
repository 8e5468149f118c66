//! RFC 9126 pushed authorization requests.

use serde_json::{Value, json};

use super::Provider;
use super::authorize::{self, AuthorizeError, REQUEST_URI_PREFIX};
use super::error::OAuthError;
use super::params::Params;
use crate::crypto::secrets;
use crate::domain::records::Client;
use crate::store::AuthRequestRow;

/// Lifetime of a request_uri (RFC 9126 §2.2 suggests 5 to 600 s).
pub const LIFETIME_SECS: i64 = 60;

pub fn push(p: &Provider, client: &Client, params: &Params) -> Result<Value, OAuthError> {
    if params.get("request_uri")?.is_some() {
        return Err(OAuthError::invalid_request("request_uri cannot be pushed"));
    }
    let request = authorize::validate(p, params, client, true).map_err(|e| match e {
        AuthorizeError::Page(e) => e,
        AuthorizeError::Redirect(r) => {
            let get = |k: &str| {
                r.params
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            match get("error").as_str() {
                "invalid_scope" => OAuthError::invalid_scope(get("error_description")),
                "unauthorized_client" => OAuthError::unauthorized_client(get("error_description")),
                "unsupported_response_type" => {
                    OAuthError::unsupported_response_type(get("error_description"))
                }
                "request_not_supported" => {
                    OAuthError::request_not_supported(get("error_description"))
                }
                _ => OAuthError::invalid_request(get("error_description")),
            }
        }
    })?;
    let id = secrets::generate(32);
    p.store.save_auth_request(&AuthRequestRow {
        id_hash: secrets::hash(&id),
        client_id: client.id.clone(),
        params: serde_json::to_string(&request).map_err(|_| OAuthError::server_error())?,
        pushed: true,
        browser_hash: None,
        created_at: p.now,
        expires_at: p.now + LIFETIME_SECS * 1000,
    })?;
    Ok(json!({ "request_uri": format!("{REQUEST_URI_PREFIX}{id}"), "expires_in": LIFETIME_SECS }))
}
