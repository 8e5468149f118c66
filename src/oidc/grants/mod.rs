//! The token endpoint's grants, one file each, assembled by [`exchange`].

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use serde::Serialize;

use super::Provider;
use super::error::OAuthError;
use super::params::Params;
use crate::storage::clients::Client;

/// RFC 6749 §5.1 (plus `id_token`, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// Dispatch on `grant_type` for an authenticated client.
pub fn exchange(
    p: &Provider,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    if let Some(name) = params.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "parameter `{name}` is repeated"
        )));
    }
    let grant_type = params.require("grant_type")?;
    let allowed = |g: &str| {
        if client.grant_types.iter().any(|c| c == g) {
            Ok(())
        } else {
            Err(OAuthError::unauthorized_client(format!(
                "this client may not use the {g} grant"
            )))
        }
    };
    match grant_type {
        "authorization_code" => {
            allowed(grant_type)?;
            authorization_code::exchange(p, client, params)
        }
        "refresh_token" => {
            allowed(grant_type)?;
            refresh_token::exchange(p, client, params)
        }
        "client_credentials" => {
            allowed(grant_type)?;
            client_credentials::exchange(p, client, params)
        }
        "password" => Err(OAuthError::unsupported_grant_type(
            "the password grant is not supported (RFC 9700 §2.4)",
        )),
        _ => Err(OAuthError::unsupported_grant_type("unsupported grant_type")),
    }
}
