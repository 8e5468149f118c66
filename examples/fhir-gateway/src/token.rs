//! Checking Ward's access tokens (RFC 9068 JWTs) without calling Ward on each
//! request: the signature against Ward's published keys, cached and fetched
//! again when a token names a key the cache does not hold (key rotation);
//! `typ` `at+jwt`; the issuer; `aud` equal to this server's base URL (SMART
//! App Launch 2.2.0: a token is for the FHIR server named in `aud`); expiry.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

/// Why a token was refused; the gateway answers 401 `invalid_token` (RFC 6750 §3.1).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("the token is not an access token (typ must be at+jwt)")]
    NotAnAccessToken,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the issuer's keys cannot be fetched")]
    Keys,
    #[error("the token is invalid: {0}")]
    Invalid(String),
}

/// What the gateway needs from a valid token.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub scope: String,
    /// The patient in context, when the app was launched with one.
    #[serde(default)]
    pub patient: Option<String>,
    pub client_id: String,
}

/// Ward's signing keys, cached.
pub struct Keys {
    jwks_uri: String,
    issuer: String,
    audience: String,
    cache: Mutex<Cache>,
}

struct Cache {
    set: JwkSet,
    fetched: Option<Instant>,
}

/// At most one fetch per this interval: a flood of tokens with made-up key
/// ids must not become a flood of requests to Ward.
const REFETCH_AFTER: Duration = Duration::from_secs(10);

impl Keys {
    pub fn new(jwks_uri: String, issuer: String, audience: String) -> Keys {
        Keys {
            jwks_uri,
            issuer,
            audience,
            cache: Mutex::new(Cache {
                set: JwkSet { keys: Vec::new() },
                fetched: None,
            }),
        }
    }

    /// Check `token`; its claims if it is valid for this server.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !matches!(
            header.alg,
            Algorithm::ES256 | Algorithm::ES384 | Algorithm::RS256 | Algorithm::RS384
        ) {
            return Err(TokenError::Algorithm);
        }
        if !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
        {
            return Err(TokenError::NotAnAccessToken);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.key(&kid)?;
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        decode::<Claims>(token, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }

    fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.set.find(kid).is_none()
            && cache.fetched.is_none_or(|t| t.elapsed() >= REFETCH_AFTER)
        {
            cache.fetched = Some(Instant::now());
            cache.set = fetch(&self.jwks_uri)?;
        }
        let jwk = cache.set.find(kid).ok_or(TokenError::UnknownKey)?;
        DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey)
    }
}

fn fetch(jwks_uri: &str) -> Result<JwkSet, TokenError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .max_redirects(0)
        .build()
        .into();
    agent
        .get(jwks_uri)
        .call()
        .map_err(|_| TokenError::Keys)?
        .body_mut()
        .with_config()
        .limit(256 * 1024)
        .read_json::<JwkSet>()
        .map_err(|_| TokenError::Keys)
}
