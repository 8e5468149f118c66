//! Client authentication at the token, introspection, revocation and PAR
//! endpoints: client_secret_basic, client_secret_post, private_key_jwt (RFC 7523)
//! and none (public clients).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::error::OAuthError;
use super::params::Params;
use super::{Provider, jwt};
use crate::crypto::secrets;
use crate::crypto::verify::{JwsAlg, Verifier};
use crate::domain::records::Client;
use crate::domain::{ClientId, ClientType};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Client assertions must expire within this many seconds (a replay window bound).
const MAX_ASSERTION_LIFETIME: i64 = 600;

/// What the request carried.
#[derive(Debug, Default)]
pub struct ClientCredentials {
    pub basic: Option<(String, String)>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
}

/// A failed authentication, and whether the client tried HTTP Basic (then the
/// 401 carries `WWW-Authenticate: Basic`, RFC 6749 §5.2).
#[derive(Debug)]
pub struct AuthFailure {
    pub error: OAuthError,
    pub used_basic: bool,
}

pub fn credentials(
    params: &Params,
    authorization: Option<&str>,
) -> Result<ClientCredentials, OAuthError> {
    let basic = match authorization {
        // `get`, not slicing: byte 6 may be inside a multi-byte character.
        Some(h) if h.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("basic ")) && h.len() > 6 => {
            Some(parse_basic(&h[6..])?)
        }
        _ => None,
    };
    Ok(ClientCredentials {
        basic,
        client_id: params.get("client_id")?.map(str::to_string),
        client_secret: params.get("client_secret")?.map(str::to_string),
        assertion_type: params.get("client_assertion_type")?.map(str::to_string),
        assertion: params.get("client_assertion")?.map(str::to_string),
    })
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined by ':' and base64-encoded.
fn parse_basic(value: &str) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError::invalid_client("malformed HTTP Basic credentials");
    let decoded = STANDARD.decode(value.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Ok((
        unescape(id).ok_or_else(bad)?,
        unescape(secret).ok_or_else(bad)?,
    ))
}

fn fail(error: OAuthError, used_basic: bool) -> AuthFailure {
    AuthFailure { error, used_basic }
}

/// Authenticate the client. `audience` is the endpoint's URL, which a client
/// assertion's `aud` must name (or the issuer).
pub fn authenticate(
    p: &Provider,
    creds: &ClientCredentials,
    audience: &str,
) -> Result<Client, AuthFailure> {
    let used_basic = creds.basic.is_some();
    let methods = usize::from(creds.basic.is_some())
        + usize::from(creds.client_secret.is_some())
        + usize::from(creds.assertion.is_some());
    if methods > 1 {
        return Err(fail(
            OAuthError::invalid_request("use exactly one client authentication method"),
            used_basic,
        ));
    }
    let unknown = || {
        fail(
            OAuthError::invalid_client("client authentication failed"),
            used_basic,
        )
    };
    let storage = |e| fail(OAuthError::from(e), used_basic);

    if let Some(assertion) = &creds.assertion {
        return authenticate_assertion(p, creds, assertion, audience).map_err(|e| fail(e, false));
    }
    let (id, secret) = match (&creds.basic, &creds.client_id, &creds.client_secret) {
        (Some((id, secret)), body_id, None) => {
            if body_id.as_ref().is_some_and(|b| b != id) {
                return Err(fail(
                    OAuthError::invalid_request("client_id differs from the authenticated client"),
                    true,
                ));
            }
            (id.as_str(), Some(secret.as_str()))
        }
        (None, Some(id), secret) => (id.as_str(), secret.as_deref()),
        _ => {
            return Err(fail(
                OAuthError::invalid_client("client authentication is required"),
                used_basic,
            ));
        }
    };
    // An id Ward could never have registered names no client: the same
    // refusal, after the same work, as an unknown one.
    let client = match ClientId::exact(id) {
        Some(id) => p.store.client(&id).map_err(storage)?,
        None => None,
    };
    match (client, secret) {
        (Some(c), Some(secret)) => match &c.secret_hash {
            Some(hash) if secrets::verify(secret, hash) => Ok(c),
            _ => Err(unknown()),
        },
        (Some(c), None) if c.client_type == ClientType::Public => Ok(c),
        (None, Some(secret)) => {
            // Same work as a known client, so timing does not reveal which ids exist.
            let _ = secrets::verify(secret, &secrets::hash("ward-no-such-client"));
            Err(unknown())
        }
        _ => Err(unknown()),
    }
}

fn authenticate_assertion(
    p: &Provider,
    creds: &ClientCredentials,
    assertion: &str,
    audience: &str,
) -> Result<Client, OAuthError> {
    let bad = || OAuthError::invalid_client("the client assertion is invalid");
    if creds.assertion_type.as_deref() != Some(JWT_BEARER) {
        return Err(OAuthError::invalid_request(format!(
            "client_assertion_type must be {JWT_BEARER}"
        )));
    }
    let decoded = jwt::decode(assertion).ok_or_else(bad)?;
    let claims = &decoded.claims;
    let iss = claims.get("iss").and_then(Value::as_str).ok_or_else(bad)?;
    // RFC 7523 §3: iss and sub are both the client_id.
    if claims.get("sub").and_then(Value::as_str) != Some(iss)
        || creds.client_id.as_deref().is_some_and(|c| c != iss)
    {
        return Err(bad());
    }
    // The claims are checked before the signature: an assertion that cannot
    // pass never makes Ward fetch a client's key set.
    let exp = check_claims(p, claims, audience).ok_or_else(bad)?;
    let iss = ClientId::exact(iss).ok_or_else(bad)?;
    let client = p.store.client(&iss)?.ok_or_else(bad)?;
    // The header names the algorithm; each registered key is tried only for
    // it (ES256, ES384, RS256, RS384: SMART App Launch requires the 384s).
    // `none` and the HMAC algorithms are not among them, and are refused
    // here, before any key set is fetched.
    let alg = decoded.alg().and_then(JwsAlg::parse).ok_or_else(bad)?;
    let set = key_set(p, &client, decoded.kid())?;
    let keys = set.get("keys").and_then(Value::as_array).ok_or_else(bad)?;
    let verified = keys
        .iter()
        .filter(|k| {
            decoded.kid().is_none() || k.get("kid").and_then(Value::as_str) == decoded.kid()
        })
        .any(|k| Verifier::for_alg(k, alg).is_some_and(|v| decoded.verify(&v)));
    if !verified {
        return Err(bad());
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(bad)?;
    // RFC 7523 §3 item 7: a jti may be used once.
    if !p
        .store
        .remember_assertion(&client.id, jti, exp * 1000, p.now)?
    {
        return Err(OAuthError::invalid_client(
            "the client assertion was already used",
        ));
    }
    Ok(client)
}

/// RFC 7523 §3: `aud` names this endpoint, the token endpoint or the issuer,
/// and `exp` is in the future but not too far (a bound on the replay window).
/// The `exp`, or None.
fn check_claims(p: &Provider, claims: &Value, audience: &str) -> Option<i64> {
    let ours = |a: &str| a == audience || a == p.issuer || a == p.endpoint("/token");
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => ours(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(ours),
        _ => false,
    };
    let now = p.now_secs();
    let exp = claims.get("exp").and_then(Value::as_i64)?;
    (aud_ok && exp > now && exp <= now + MAX_ASSERTION_LIFETIME).then_some(exp)
}

/// A client's key set, borrowed from its registration or shared with the cache.
enum KeySet<'c> {
    Registered(&'c Value),
    Fetched(std::sync::Arc<Value>),
}

impl std::ops::Deref for KeySet<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        match self {
            KeySet::Registered(v) => v,
            KeySet::Fetched(v) => v,
        }
    }
}

/// The client's public keys: as registered, or fetched from its `jwks_uri`
/// (cached; fetched again for an unknown `kid`, rate-limited: `crate::jwks`).
/// Any failure to get them is `invalid_client`, never a 500; the log says
/// why, naming the client and the host but not the URL's path or query.
fn key_set<'c>(
    p: &Provider,
    client: &'c Client,
    kid: Option<&str>,
) -> Result<KeySet<'c>, OAuthError> {
    let bad = || OAuthError::invalid_client("the client assertion is invalid");
    if let Some(set) = &client.jwks {
        return Ok(KeySet::Registered(set));
    }
    let uri = client.jwks_uri.as_deref().ok_or_else(bad)?;
    p.client_keys
        .keys(client.id.as_str(), uri, kid, p.now)
        .map(KeySet::Fetched)
        .map_err(|e| {
            let host = url::Url::parse(uri)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            tracing::warn!(client_id = %client.id, host = %host, error = %e, "the client's jwks_uri gave no key set");
            OAuthError::invalid_client("the client's key set could not be fetched from its jwks_uri")
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::crypto::signing::{self, Algorithm, SigningKeyMaterial};
    use crate::oidc::testing::{self, ISSUER, NOW, SECRET};
    use crate::store::memory::MemoryStore;

    /// Regression (found by tests/fuzz_parsers.rs): a header whose sixth byte is
    /// inside a multi-byte character panicked on slicing.
    #[test]
    fn authorization_with_a_multibyte_character_at_byte_six() {
        for h in ["A7-🴥xyz", "Basicé", "Basic", "bäsic abc"] {
            let c = credentials(&Params::default(), Some(h)).unwrap();
            assert_eq!(c.basic, None, "{h}");
        }
        assert!(credentials(&Params::default(), Some("Basic é")).is_err());
    }

    fn basic(id: &str, secret: &str) -> ClientCredentials {
        let header = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        credentials(&Params::default(), Some(&header)).unwrap()
    }

    fn post(id: &str, secret: Option<&str>) -> ClientCredentials {
        ClientCredentials {
            client_id: Some(id.into()),
            client_secret: secret.map(str::to_string),
            ..Default::default()
        }
    }

    fn auth(store: &MemoryStore, creds: &ClientCredentials) -> Result<Client, AuthFailure> {
        let p = testing::provider(store);
        authenticate(&p, creds, &p.endpoint("/token"))
    }

    fn code_of(r: Result<Client, AuthFailure>) -> (&'static str, bool) {
        let e = r.unwrap_err();
        (e.error.code, e.used_basic)
    }

    #[test]
    fn client_secret_basic_and_post() {
        let (store, _) = testing::store();
        assert_eq!(
            auth(&store, &basic("svc", SECRET)).unwrap().id.as_str(),
            "svc"
        );
        assert_eq!(
            auth(&store, &post("svc", Some(SECRET)))
                .unwrap()
                .id
                .as_str(),
            "svc"
        );
        // RFC 6749 §2.3.1: both halves are form-urlencoded before base64.
        let creds = basic("svc", "a%3Ab+c");
        assert_eq!(creds.basic, Some(("svc".into(), "a:b c".into())));
    }

    #[test]
    fn wrong_secret_or_unknown_client_is_invalid_client() {
        let (store, _) = testing::store();
        assert_eq!(
            code_of(auth(&store, &basic("svc", "wrong"))),
            ("invalid_client", true)
        );
        assert_eq!(
            code_of(auth(&store, &post("svc", Some("wrong")))),
            ("invalid_client", false)
        );
        assert_eq!(
            code_of(auth(&store, &post("nope", Some(SECRET)))).0,
            "invalid_client"
        );
        // An id spelled otherwise than registered, or one no client could
        // have, names no client: the same refusal as an unknown one.
        for id in [
            " svc",
            "svc ",
            "s v c",
            "0b5f2a3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        ] {
            assert_eq!(
                code_of(auth(&store, &post(id, Some(SECRET)))),
                ("invalid_client", false),
                "{id:?}"
            );
            assert_eq!(
                code_of(auth(&store, &basic(id, SECRET))),
                ("invalid_client", true),
                "{id:?}"
            );
        }
        // A confidential client must authenticate.
        assert_eq!(
            code_of(auth(&store, &post("svc", None))).0,
            "invalid_client"
        );
        assert_eq!(
            code_of(auth(&store, &ClientCredentials::default())).0,
            "invalid_client"
        );
    }

    #[test]
    fn public_client_uses_none() {
        let (store, _) = testing::store();
        assert_eq!(auth(&store, &post("app", None)).unwrap().id.as_str(), "app");
        // A public client has no secret: presenting one fails.
        assert_eq!(
            code_of(auth(&store, &post("app", Some("x")))).0,
            "invalid_client"
        );
    }

    #[test]
    fn one_method_and_one_client_id_only() {
        let (store, _) = testing::store();
        let mut both = basic("svc", SECRET);
        both.client_secret = Some(SECRET.into());
        assert_eq!(code_of(auth(&store, &both)), ("invalid_request", true));
        let mut other_id = basic("svc", SECRET);
        other_id.client_id = Some("app".into());
        assert_eq!(code_of(auth(&store, &other_id)), ("invalid_request", true));
    }

    /// A store whose client `jwt` authenticates with private_key_jwt and `key`.
    fn jwt_client() -> (MemoryStore, SigningKeyMaterial) {
        let (store, _) = testing::store();
        let key = signing::generate(Algorithm::Es256).unwrap();
        let mut client = testing::confidential_client();
        client.id = ClientId::parse("jwt").unwrap();
        client.secret_hash = None;
        client.jwks = Some(json!({ "keys": [key.public_jwk.clone()] }));
        store.add_client(client);
        (store, key)
    }

    fn assertion(key: &SigningKeyMaterial, changes: serde_json::Value) -> ClientCredentials {
        let mut claims = json!({
            "iss": "jwt",
            "sub": "jwt",
            "aud": format!("{ISSUER}/token"),
            "exp": NOW / 1000 + 60,
            "jti": "jti-1",
        });
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        let header = json!({ "alg": "ES256", "kid": key.kid });
        let token = jwt::encode(&header, &claims, &key.signer().unwrap()).unwrap();
        ClientCredentials {
            assertion_type: Some(JWT_BEARER.into()),
            assertion: Some(token),
            ..Default::default()
        }
    }

    #[test]
    fn private_key_jwt_good_assertion() {
        let (store, key) = jwt_client();
        assert_eq!(
            auth(&store, &assertion(&key, json!({})))
                .unwrap()
                .id
                .as_str(),
            "jwt"
        );
        // The issuer itself is an accepted audience too.
        let creds = assertion(&key, json!({ "aud": [ISSUER], "jti": "jti-2" }));
        assert_eq!(auth(&store, &creds).unwrap().id.as_str(), "jwt");
    }

    #[test]
    fn private_key_jwt_wrong_audience_expired_or_too_long() {
        let (store, key) = jwt_client();
        let now = NOW / 1000;
        for changes in [
            json!({ "aud": "https://elsewhere.example/token" }),
            json!({ "exp": now }),
            json!({ "exp": now - 10 }),
            json!({ "exp": now + MAX_ASSERTION_LIFETIME + 1 }),
            json!({ "sub": "other" }),
            json!({ "jti": "" }),
        ] {
            let r = auth(&store, &assertion(&key, changes.clone()));
            assert_eq!(code_of(r), ("invalid_client", false), "{changes}");
        }
    }

    /// RFC 7523 §3 item 7: a jti is accepted once.
    #[test]
    fn private_key_jwt_replayed_jti() {
        let (store, key) = jwt_client();
        let creds = assertion(&key, json!({}));
        auth(&store, &creds).unwrap();
        let e = auth(&store, &creds).unwrap_err().error;
        assert_eq!(e.code, "invalid_client");
        assert!(e.description.contains("already used"));
    }

    #[test]
    fn private_key_jwt_wrong_key_or_type() {
        let (store, key) = jwt_client();
        let other = signing::generate(Algorithm::Es256).unwrap();
        let mut forged = assertion(&other, json!({}));
        assert_eq!(code_of(auth(&store, &forged)).0, "invalid_client");
        // Nor does the right key's kid make another key's signature good.
        let good = assertion(&key, json!({ "jti": "jti-3" }));
        let sig = forged
            .assertion
            .as_ref()
            .unwrap()
            .rsplit('.')
            .next()
            .unwrap();
        let body = good.assertion.as_ref().unwrap().rsplit_once('.').unwrap().0;
        forged.assertion = Some(format!("{body}.{sig}"));
        assert_eq!(code_of(auth(&store, &forged)).0, "invalid_client");
        let mut wrong_type = assertion(&key, json!({ "jti": "jti-4" }));
        wrong_type.assertion_type = Some("urn:other".into());
        assert_eq!(code_of(auth(&store, &wrong_type)).0, "invalid_request");
    }
}
