//! OpenID Connect Discovery 1.0 §3 and RFC 8414 metadata. Only what works is advertised.

use serde_json::{Value, json};

pub fn metadata(issuer: &str, require_par: bool) -> Value {
    let e = |p: &str| format!("{issuer}{p}");
    // The token's own claims, then every user claim Ward keeps (OIDC Core §5.1).
    let claims_supported: Vec<&str> = [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "at_hash",
        "sid",
    ]
    .into_iter()
    .chain(super::claims::user_claim_names())
    .collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": e("/authorize"),
        "token_endpoint": e("/token"),
        "userinfo_endpoint": e("/userinfo"),
        "jwks_uri": e("/jwks"),
        "pushed_authorization_request_endpoint": e("/par"),
        "introspection_endpoint": e("/introspect"),
        "revocation_endpoint": e("/revoke"),
        "end_session_endpoint": e("/logout"),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "scopes_supported": super::STANDARD_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],

        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "ES256", "ES384"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims_supported,
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "acr_values_supported": crate::domain::acr::ACR_VALUES,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "require_pushed_authorization_requests": require_par,
        "authorization_response_iss_parameter_supported": true,
        "require_request_uri_registration": false,
    })
}
