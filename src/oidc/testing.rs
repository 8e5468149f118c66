//! Unit-test helpers for the protocol core: a [`Provider`] over a
//! [`MemoryStore`], and ready-made clients, users and codes.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use super::Provider;
use super::keys::KeySet;
use super::params::Params;
use crate::audit::{AuditEvent, Outcome};
use crate::authz::engine::PolicyEngine;
use crate::config::TokenLifetimes;
use crate::crypto::pairwise::PairwiseKey;
use crate::crypto::secrets;
use crate::crypto::signing::{self, Algorithm};
use crate::domain::records::Client;
use crate::domain::records::{Profile, User};
use crate::domain::{ClientId, ClientType, GrantType, PkcePolicy, Subject, UserId, UserStatus};
use crate::jwks::ClientKeys;
use crate::risk::RiskPolicy;
use crate::store::memory::MemoryStore;
use crate::store::{AuthFacts, CodeRow, GrantStore};

pub const ISSUER: &str = "https://ward.example";
/// The provider's clock: 2023-11-14T22:13:20Z.
pub const NOW: i64 = 1_700_000_000_000;
pub const REDIRECT: &str = "https://app.example/cb";
/// The confidential test client's secret.
pub const SECRET: &str = "s3cret-of-the-confidential-client";
/// An RFC 7636 verifier and its S256 challenge (RFC 7636 Appendix B).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = signing::generate(Algorithm::Es256).expect("an ES256 key");
        let jwk = key.public_jwk.clone();
        KeySet::new(vec![key], vec![jwk])
    })
}

/// The unit tests' key-set cache: it never reaches the network (a URL
/// fetched here fails as refused).
pub fn client_keys() -> &'static ClientKeys {
    static CACHE: OnceLock<ClientKeys> = OnceLock::new();
    CACHE.get_or_init(|| ClientKeys::new(Box::new(Offline)))
}

struct Offline;

impl crate::jwks::Fetch for Offline {
    fn fetch(&self, _: &str) -> Result<serde_json::Value, crate::jwks::FetchError> {
        Err(crate::jwks::FetchError::Refused(
            "is not fetched in unit tests",
        ))
    }
}

/// The unit tests' pairwise subject key: fixed, so a `sub` is the same in
/// every test run.
pub fn pairwise_key() -> &'static PairwiseKey {
    static KEY: OnceLock<PairwiseKey> = OnceLock::new();
    KEY.get_or_init(|| PairwiseKey::from_slice(&[42; 32]).expect("32 bytes"))
}

/// A provider at [`NOW`] over `store`, with default lifetimes, policy and risk.
pub fn provider(store: &MemoryStore) -> Provider<'_> {
    static RISK: OnceLock<RiskPolicy> = OnceLock::new();
    static ACR: OnceLock<BTreeMap<String, crate::domain::Acr>> = OnceLock::new();
    Provider {
        store,
        keys: keys(),
        issuer: ISSUER,
        tokens: TokenLifetimes {
            access_token_seconds: 300,
            id_token_seconds: 300,
            refresh_token_seconds: 86_400,
            authorization_code_seconds: 60,
            smart_launch_seconds: 300,
        },
        require_par: false,
        now: NOW,
        policy: Arc::new(PolicyEngine::empty().expect("an empty policy")),
        risk: RISK.get_or_init(RiskPolicy::default),
        geo: None,
        scope_min_acr: ACR.get_or_init(BTreeMap::new),
        client_keys: client_keys(),
        pairwise_key: pairwise_key(),
        consent_policy_version: "1",
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A client id the tests spell out.
pub fn client_id(id: &str) -> ClientId {
    ClientId::parse(id).expect("a client id")
}

/// A public client `app` (PKCE required) for the code and refresh grants.
pub fn public_client() -> Client {
    Client {
        id: client_id("app"),
        name: "App".into(),
        client_type: ClientType::Public,
        secret_hash: None,
        redirect_uris: strings(&[REDIRECT]),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: strings(&["openid", "profile", "email", "offline_access"]),
        created_at: 0,
        updated_at: 0,
        first_party: false,
        require_par: false,
        jwks: None,
        jwks_uri: None,
        tenant: None,
        id_token_alg: "ES256".into(),
        access_token_seconds: None,
        authz_resources: Vec::new(),
        min_acr: None,
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout_uri: None,
        shared_workstation: false,
        pkce: PkcePolicy::Required,
        subject: Subject::Public,
        purpose: None,
        allowed_claims: None,
    }
}

/// A confidential client `svc` with [`SECRET`], every grant and an API scope.
pub fn confidential_client() -> Client {
    Client {
        id: client_id("svc"),
        client_type: ClientType::Confidential,
        secret_hash: Some(secrets::hash(SECRET)),
        grant_types: vec![
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ],
        scopes: strings(&[
            "openid",
            "profile",
            "offline_access",
            "api:read",
            "api:write",
        ]),
        ..public_client()
    }
}

/// An active user `alice`.
pub fn user() -> User {
    User {
        id: UserId::generate(),
        username: "alice".into(),
        email: Some("alice@example.org".into()),
        email_verified: true,
        display_name: Some("Alice".into()),
        status: UserStatus::Active,
        created_at: 0,
        updated_at: 0,
        account_type: "staff".into(),
        profile: Profile::default(),
    }
}

/// A store holding [`public_client`], [`confidential_client`] and [`user`]; the user's id.
pub fn store() -> (MemoryStore, String) {
    let store = MemoryStore::new();
    store.add_client(public_client());
    store.add_client(confidential_client());
    let user = user();
    let id = user.id.to_string();
    store.add_user(user, None);
    (store, id)
}

pub fn params(pairs: &[(&str, &str)]) -> Params {
    Params::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// A code issued at [`NOW`] to `client_id` for `user_id`, with [`CHALLENGE`]
/// (or none) and `scope`; returns the code.
pub fn code(
    store: &MemoryStore,
    client_id: &str,
    user_id: &str,
    scope: &[&str],
    challenge: Option<&str>,
) -> String {
    let code = secrets::generate(32);
    let row = CodeRow {
        code_hash: secrets::hash(&code),
        client_id: self::client_id(client_id),
        redirect_uri: REDIRECT.into(),
        scope: strings(scope),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: challenge.map(str::to_string),
        facts: AuthFacts {
            user_id: UserId::parse(user_id).expect("a user id"),
            auth_time: NOW - 1000,
            acr: crate::domain::Acr::Aal1,
            amr: vec![crate::domain::Amr::Pwd],
            session_hash: Some(crate::domain::SessionId::from_hash("session-hash")),
            tenant: None,
        },
        created_at: NOW,
        expires_at: NOW + 60_000,
        consumed_at: None,
        grant_id: None,
        user_active: true,
        claims: None,
        smart: None,
    };
    let audit = AuditEvent::new(NOW, "test", "authorization.code_issued", Outcome::Success);
    assert!(store.create_code(&row, None, &audit).unwrap());
    code
}
