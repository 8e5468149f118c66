//! The token endpoint's grants against the in-memory store.

use super::*;
use crate::domain::UserStatus;
use crate::oidc::testing::{self, CHALLENGE, NOW, REDIRECT, VERIFIER};
use crate::store::memory::MemoryStore;

fn redeem(store: &MemoryStore, client: &Client, code: &str) -> Result<TokenResponse, OAuthError> {
    redeem_with(store, client, code, REDIRECT, VERIFIER, NOW)
}

fn redeem_with(
    store: &MemoryStore,
    client: &Client,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let mut p = testing::provider(store);
    p.now = now;
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    if !verifier.is_empty() {
        pairs.push(("code_verifier", verifier));
    }
    exchange(&p, client, &testing::params(&pairs))
}

fn refresh(
    store: &MemoryStore,
    client: &Client,
    token: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let mut pairs = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(s) = scope {
        pairs.push(("scope", s));
    }
    exchange(&testing::provider(store), client, &testing::params(&pairs))
}

/// A code exchanged for tokens with a refresh token: (store, response).
fn with_refresh_token() -> (MemoryStore, TokenResponse) {
    let (store, user) = testing::store();
    let scope = ["openid", "profile", "offline_access"];
    let code = testing::code(&store, "app", &user, &scope, Some(CHALLENGE));
    let tokens = redeem(&store, &testing::public_client(), &code).unwrap();
    assert!(tokens.refresh_token.is_some());
    (store, tokens)
}

fn assert_invalid_grant(r: Result<TokenResponse, OAuthError>) {
    assert_eq!(r.unwrap_err().code, "invalid_grant");
}

#[test]
fn grant_type_is_parsed_at_the_edge() {
    let (store, _) = testing::store();
    let p = testing::provider(&store);
    let client = testing::confidential_client();
    let go = |pairs: &[(&str, &str)]| exchange(&p, &client, &testing::params(pairs)).unwrap_err();
    assert_eq!(go(&[]).code, "invalid_request");
    assert_eq!(
        go(&[("grant_type", "password")]).code,
        "unsupported_grant_type"
    );
    assert_eq!(
        go(&[("grant_type", "implicit")]).code,
        "unsupported_grant_type"
    );
    assert_eq!(
        go(&[("grant_type", "urn:x")]).code,
        "unsupported_grant_type"
    );
    let twice = [
        ("grant_type", "refresh_token"),
        ("grant_type", "refresh_token"),
    ];
    assert_eq!(go(&twice).code, "invalid_request");
    // A grant the client is not registered for.
    let public = testing::public_client();
    let e = exchange(
        &p,
        &public,
        &testing::params(&[("grant_type", "client_credentials")]),
    );
    assert_eq!(e.unwrap_err().code, "unauthorized_client");
}

#[test]
fn code_exchange_issues_tokens_once() {
    let (store, user) = testing::store();
    let code = testing::code(
        &store,
        "app",
        &user,
        &["openid", "profile"],
        Some(CHALLENGE),
    );
    let tokens = redeem(&store, &testing::public_client(), &code).unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.scope, "openid profile");
    assert!(tokens.id_token.is_some(), "openid: an ID token");
    // OIDC Core §11: no refresh token without offline_access.
    assert_eq!(tokens.refresh_token, None);
    let grants = store.grants();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].facts.user_id.as_str(), user);
    assert!(store.audit_types().contains(&"token.issued".to_string()));
}

/// RFC 6749 §4.1.2: a second use fails and revokes what the first issued.
#[test]
fn code_reuse_revokes_its_grant() {
    let (store, user) = testing::store();
    let client = testing::public_client();
    let code = testing::code(&store, "app", &user, &["openid"], Some(CHALLENGE));
    redeem(&store, &client, &code).unwrap();
    assert_invalid_grant(redeem(&store, &client, &code));
    let grants = store.grants();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].revoked_at, Some(NOW));
    assert_eq!(store.audit_types().last().unwrap(), "token.code_reuse");
}

/// Without the verifier, a stolen used code cannot revoke the real client's tokens.
#[test]
fn code_reuse_without_the_verifier_revokes_nothing() {
    let (store, user) = testing::store();
    let client = testing::public_client();
    let code = testing::code(&store, "app", &user, &["openid"], Some(CHALLENGE));
    redeem(&store, &client, &code).unwrap();
    let other = "x".repeat(43);
    assert_invalid_grant(redeem_with(&store, &client, &code, REDIRECT, &other, NOW));
    assert_eq!(store.grants()[0].revoked_at, None);
}

#[test]
fn code_with_wrong_redirect_uri_verifier_or_client_is_refused() {
    let (store, user) = testing::store();
    let client = testing::public_client();
    let code = testing::code(&store, "app", &user, &["openid"], Some(CHALLENGE));
    let e = redeem_with(
        &store,
        &client,
        &code,
        "https://app.example/other",
        VERIFIER,
        NOW,
    );
    assert_eq!(e.unwrap_err().code, "invalid_grant");
    let wrong = "y".repeat(43);
    let e = redeem_with(&store, &client, &code, REDIRECT, &wrong, NOW).unwrap_err();
    assert_eq!(
        (e.code, e.description.as_str()),
        ("invalid_grant", "PKCE verification failed")
    );
    let e = redeem_with(&store, &client, &code, REDIRECT, "", NOW).unwrap_err();
    assert_eq!(e.code, "invalid_request", "a missing verifier");
    assert_invalid_grant(redeem(&store, &testing::confidential_client(), &code));
    // None of the failures consumed the code.
    redeem(&store, &client, &code).unwrap();
}

#[test]
fn expired_or_unknown_code_is_refused() {
    let (store, user) = testing::store();
    let client = testing::public_client();
    let code = testing::code(&store, "app", &user, &["openid"], Some(CHALLENGE));
    assert_invalid_grant(redeem_with(
        &store,
        &client,
        &code,
        REDIRECT,
        VERIFIER,
        NOW + 60_000,
    ));
    assert_invalid_grant(redeem(&store, &client, "no-such-code"));
    assert!(store.grants().is_empty());
}

#[test]
fn code_of_a_disabled_user_is_refused() {
    let (store, user) = testing::store();
    let code = testing::code(&store, "app", &user, &["openid"], Some(CHALLENGE));
    store.set_user_status(&user, UserStatus::Disabled);
    assert_invalid_grant(redeem(&store, &testing::public_client(), &code));
}

/// RFC 9700 §4.8.2: a verifier for a code issued without a challenge is refused.
#[test]
fn code_without_challenge_takes_no_verifier() {
    let (store, user) = testing::store();
    let client = testing::confidential_client();
    let code = testing::code(&store, "svc", &user, &["openid"], None);
    assert_invalid_grant(redeem(&store, &client, &code));
    redeem_with(&store, &client, &code, REDIRECT, "", NOW).unwrap();
}

#[test]
fn refresh_rotates_the_token() {
    let (store, first) = with_refresh_token();
    let client = testing::public_client();
    let old = first.refresh_token.unwrap();
    let next = refresh(&store, &client, &old, None).unwrap();
    let new = next.refresh_token.unwrap();
    assert_ne!(new, old);
    assert_eq!(next.scope, "openid profile offline_access");
    assert!(next.id_token.is_some());
    refresh(&store, &client, &new, None).unwrap();
}

/// RFC 9700 §4.14.2: a rotated-out token revokes the whole family.
#[test]
fn refresh_reuse_revokes_the_family() {
    let (store, first) = with_refresh_token();
    let client = testing::public_client();
    let old = first.refresh_token.unwrap();
    let new = refresh(&store, &client, &old, None)
        .unwrap()
        .refresh_token
        .unwrap();
    assert_invalid_grant(refresh(&store, &client, &old, None));
    assert_eq!(store.audit_types().last().unwrap(), "token.refresh_reuse");
    assert!(store.grants()[0].revoked_at.is_some());
    assert_invalid_grant(refresh(&store, &client, &new, None));
}

/// RFC 6749 §6: the scope may be narrowed, never broadened.
#[test]
fn refresh_scope_narrowing() {
    let (store, first) = with_refresh_token();
    let client = testing::public_client();
    let token = first.refresh_token.unwrap();
    let e = refresh(&store, &client, &token, Some("openid email")).unwrap_err();
    assert_eq!(e.code, "invalid_scope");
    let narrowed = refresh(&store, &client, &token, Some("profile")).unwrap();
    assert_eq!(narrowed.scope, "profile");
    assert_eq!(narrowed.id_token, None, "no openid, no ID token");
    // The grant keeps its scope: the next refresh may ask for all of it again.
    let again = narrowed.refresh_token.unwrap();
    let full = refresh(&store, &client, &again, None).unwrap();
    assert_eq!(full.scope, "openid profile offline_access");
}

#[test]
fn refresh_for_a_disabled_user_or_another_client_is_refused() {
    let (store, first) = with_refresh_token();
    let token = first.refresh_token.unwrap();
    let mut other = testing::confidential_client();
    other.id = testing::client_id("other");
    assert_invalid_grant(refresh(&store, &other, &token, None));
    let user = store.grants()[0].facts.user_id.clone();
    store.set_user_status(user.as_str(), UserStatus::Disabled);
    assert_invalid_grant(refresh(&store, &testing::public_client(), &token, None));
    assert_invalid_grant(refresh(&store, &testing::public_client(), "unknown", None));
}

#[test]
fn client_credentials_needs_a_confidential_client() {
    let (store, _) = testing::store();
    let p = testing::provider(&store);
    let mut public = testing::public_client();
    public.grant_types.push(GrantType::ClientCredentials);
    let e = client_credentials::exchange(&p, &public, &testing::params(&[])).unwrap_err();
    assert_eq!(e.code, "unauthorized_client");
}

#[test]
fn client_credentials_scope_limits() {
    let (store, _) = testing::store();
    let p = testing::provider(&store);
    let client = testing::confidential_client();
    let cc = |scope: Option<&str>| {
        let mut pairs = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            pairs.push(("scope", s));
        }
        exchange(&p, &client, &testing::params(&pairs))
    };
    // By default: the client's scopes, without those about a user.
    let all = cc(None).unwrap();
    assert_eq!(all.scope, "api:read api:write");
    assert_eq!((all.refresh_token, all.id_token), (None, None));
    assert_eq!(cc(Some("api:read")).unwrap().scope, "api:read");
    for bad in ["openid", "offline_access api:read", "api:admin"] {
        assert_eq!(cc(Some(bad)).unwrap_err().code, "invalid_scope", "{bad}");
    }
    assert_eq!(store.audit_types(), ["token.issued", "token.issued"]);
}

/// SMART Backend Services: a client with keys, registered for `system/`
/// scopes in tenant st-mary, where it holds a role reading Observations.
fn backend_client() -> Client {
    let mut c = testing::confidential_client();
    c.id = testing::client_id("lab-feed");
    c.secret_hash = None;
    c.jwks_uri = Some("https://lab.example/jwks".into());
    c.tenant = Some("st-mary".into());
    c.scopes = vec!["system/*.rs".into(), "api:read".into()];
    c
}

fn backend_policy() -> std::sync::Arc<crate::authz::PolicyEngine> {
    let rules = crate::authz::rules::parse_csv(
        "p, reader, st-mary, fhir:Observation, r\n\
         p, reader, st-mary, fhir:Observation, s\n\
         p, reader, st-mary, fhir:Patient, r\n\
         p, reader, riverside, fhir:Appointment, r\n\
         g, client:lab-feed, reader, st-mary\n\
         g, client:lab-feed, reader, riverside\n",
    )
    .unwrap();
    std::sync::Arc::new(crate::authz::PolicyEngine::build(1, &rules).unwrap())
}

#[test]
fn system_scopes_are_narrowed_by_the_registration_and_the_clients_roles() {
    let (store, _) = testing::store();
    let mut p = testing::provider(&store);
    p.policy = backend_policy();
    let client = backend_client();
    let cc = |client: &Client, scope: &str| {
        let mut pairs = vec![("grant_type", "client_credentials")];
        if !scope.is_empty() {
            pairs.push(("scope", scope));
        }
        exchange(&p, client, &testing::params(&pairs))
    };
    // Its roles in st-mary only: Appointment (riverside) never shows.
    assert_eq!(
        cc(&client, "system/*.rs").unwrap().scope,
        "system/Observation.rs system/Patient.r"
    );
    assert_eq!(
        cc(&client, "system/Observation.cruds api:read")
            .unwrap()
            .scope,
        "system/Observation.rs api:read"
    );
    assert_eq!(
        cc(&client, "").unwrap().scope,
        "system/Observation.rs system/Patient.r api:read"
    );
    // The narrowing is on record, the request beside the grant.
    let last = store.audit_events().pop().unwrap();
    assert_eq!(last.details["requested_scope"], "system/*.rs api:read");
    assert_eq!(last.details["scope_reduced"], true);
    for bad in [
        "system/Appointment.rs",
        "system/Observation.d",
        "system/Observation.rw",
        "user/Observation.rs",
        "patient/Observation.rs",
        "openid",
    ] {
        assert_eq!(cc(&client, bad).unwrap_err().code, "invalid_scope", "{bad}");
    }
    // Without a tenant, or with another, its roles count for nothing.
    let mut elsewhere = client.clone();
    elsewhere.tenant = Some("st-jude".into());
    assert_eq!(
        cc(&elsewhere, "system/Observation.rs").unwrap_err().code,
        "invalid_scope"
    );
    assert_eq!(
        cc(&elsewhere, "system/Observation.rs api:read")
            .unwrap()
            .scope,
        "api:read"
    );
    // A client with a secret gets no system/ scope, even if registered for one.
    let mut secret = client.clone();
    secret.jwks_uri = None;
    secret.secret_hash = Some("x".into());
    assert_eq!(
        cc(&secret, "system/Patient.r").unwrap_err().code,
        "invalid_scope"
    );
    assert_eq!(cc(&secret, "").unwrap().scope, "api:read");
}
