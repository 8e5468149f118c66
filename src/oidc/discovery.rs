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
        // OIDC Core §8: per client (`ward client add --subject-type`).
        "subject_types_supported": ["public", "pairwise"],
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

/// What Ward can do of SMART App Launch 2.2.0, as `capabilities` says it
/// (§"Capabilities"). Truthful: a capability is listed only once it works end
/// to end (docs/smart.md says what is missing).
pub const SMART_CAPABILITIES: [&str; 19] = [
    // An EHR mints a launch at POST /smart/launch; the app presents it.
    "launch-ehr",
    // `launch/patient` without an EHR: a patient user's own record, or the
    // patient a staff member chooses on Ward's picker (oidc::smart_picker).
    "launch-standalone",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-passthrough-banner",
    "context-passthrough-style",
    "context-standalone-patient",
    // `launch/encounter` without an EHR: the encounter picker.
    "context-standalone-encounter",
    // POST to /authorize (RFC 6749 §3.1 allows it; SMART lists it separately).
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    // private_key_jwt with RS384/ES384 (and RS256/ES256).
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "permission-offline",
    // online_access: a refresh token that ends with the session.
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
];

/// `/.well-known/smart-configuration` (SMART App Launch 2.2.0 §"SMART on
/// FHIR OAuth authorization Endpoints and Capabilities"): the endpoints, and
/// only the grants, methods, scopes and capabilities Ward honours for SMART.
pub fn smart_configuration(issuer: &str) -> Value {
    let e = |p: &str| format!("{issuer}{p}");
    let scopes: Vec<&str> = super::STANDARD_SCOPES
        .into_iter()
        .chain(super::SMART_SCOPES)
        .chain([
            "user/*.cruds",
            "user/*.rs",
            "user/*.read",
            "user/*.write",
            "patient/*.cruds",
            "patient/*.rs",
            "patient/*.read",
            "patient/*.write",
            // Backend Services: client_credentials with private_key_jwt only.
            "system/*.cruds",
            "system/*.rs",
            "system/*.read",
            "system/*.write",
        ])
        .collect();
    json!({
        "issuer": issuer,
        "jwks_uri": e("/jwks"),
        "authorization_endpoint": e("/authorize"),
        "token_endpoint": e("/token"),
        "introspection_endpoint": e("/introspect"),
        "revocation_endpoint": e("/revoke"),
        "userinfo_endpoint": e("/userinfo"),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "ES256", "ES384"],
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": SMART_CAPABILITIES,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smart_configuration_agrees_with_the_openid_metadata() {
        let oidc = metadata("https://id.example", false);
        let smart = smart_configuration("https://id.example");
        for field in [
            "issuer",
            "jwks_uri",
            "authorization_endpoint",
            "token_endpoint",
            "introspection_endpoint",
            "revocation_endpoint",
            "grant_types_supported",
            "token_endpoint_auth_methods_supported",
            "token_endpoint_auth_signing_alg_values_supported",
            "response_types_supported",
            "code_challenge_methods_supported",
        ] {
            assert_eq!(smart[field], oidc[field], "{field}");
        }
        // PKCE S256 only (SMART 2: SHALL support S256, SHALL NOT support plain).
        assert_eq!(smart["code_challenge_methods_supported"], json!(["S256"]));
        let scopes = smart["scopes_supported"].as_array().unwrap();
        assert!(scopes.iter().any(|s| s == "system/*.rs"), "{scopes:?}");
        // Nothing Ward cannot do yet.
        let caps = smart["capabilities"].as_array().unwrap();
        for missing in ["permission-v3", "context-banner"] {
            assert!(!caps.iter().any(|c| c == missing), "{missing}");
        }
        for present in [
            "launch-ehr",
            "launch-standalone",
            "permission-patient",
            "context-standalone-encounter",
        ] {
            assert!(caps.iter().any(|c| c == present), "{present}");
        }
    }
}
