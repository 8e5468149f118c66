//! `parse` and `validate` against the in-memory store: which errors are shown
//! to the user (client or redirect URI not trusted) and which go back to the
//! client, and the PKCE, nonce, prompt and PAR rules.

use super::*;
use crate::domain::{GrantType, PkcePolicy};
use crate::oidc::testing::{self, CHALLENGE, REDIRECT};
use crate::store::AuthRequestStore;
use crate::store::memory::MemoryStore;

/// A valid request of the public client, with `changes` applied (an empty
/// value removes the parameter).
fn request(changes: &[(&str, &str)]) -> Params {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in changes {
        pairs.retain(|(name, _)| name != k);
        if !v.is_empty() {
            pairs.push((k, v));
        }
    }
    testing::params(&pairs)
}

fn run(store: &MemoryStore, params: &Params) -> Result<AuthorizationRequest, AuthorizeError> {
    parse(&testing::provider(store), params)
}

fn page_error(r: Result<AuthorizationRequest, AuthorizeError>) -> OAuthError {
    match r {
        Err(AuthorizeError::Page(e)) => e,
        other => panic!("expected an error page, got {other:?}"),
    }
}

/// The error sent to the client, as (error, response); checks `state` and `iss` came back.
fn redirected(r: Result<AuthorizationRequest, AuthorizeError>) -> (String, AuthorizationResponse) {
    let Err(AuthorizeError::Redirect(resp)) = r else {
        panic!("expected a redirect, got {r:?}");
    };
    let get = |name: &str| {
        resp.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(resp.target.redirect_uri, REDIRECT);
    assert_eq!(get("iss").as_deref(), Some(testing::ISSUER), "RFC 9207");
    assert_eq!(get("state"), resp.target.state);
    (get("error").expect("an error code"), resp)
}

#[test]
fn a_valid_request_is_accepted() {
    let (store, _) = testing::store();
    let req = run(&store, &request(&[("nonce", "n1"), ("max_age", "0")])).unwrap();
    assert_eq!(req.client_id, testing::client_id("app"));
    assert_eq!(req.redirect_uri, REDIRECT);
    assert_eq!(req.scope, ["openid", "profile"]);
    assert_eq!(req.state.as_deref(), Some("xyz"));
    assert_eq!(req.nonce.as_deref(), Some("n1"));
    assert_eq!(req.code_challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(req.response_mode, ResponseMode::Query);
    assert_eq!(req.max_age, Some(0));
}

#[test]
fn unknown_or_missing_client_is_shown_not_redirected() {
    let (store, _) = testing::store();
    let e = page_error(run(&store, &request(&[("client_id", "nope")])));
    assert_eq!(e.code, "invalid_request");
    assert!(e.description.contains("unknown client_id"));
    let e = page_error(run(&store, &request(&[("client_id", "")])));
    assert_eq!(e.code, "invalid_request");
    // Spelled otherwise than registered, or no client's id at all: unknown.
    for id in [" app", "app ", "a p p", &"a".repeat(129)] {
        let e = page_error(run(&store, &request(&[("client_id", id)])));
        assert_eq!(e.code, "invalid_request", "{id:?}");
        assert!(e.description.contains("unknown client_id"), "{id:?}");
    }
}

#[test]
fn bad_redirect_uri_is_shown_not_redirected() {
    let (store, _) = testing::store();
    for uri in ["https://evil.example/cb", "https://app.example/cb/", ""] {
        let e = page_error(run(&store, &request(&[("redirect_uri", uri)])));
        assert_eq!(e.code, "invalid_request", "{uri}");
    }
    // A repeated redirect_uri: nothing to trust.
    let mut pairs = request(&[]).pairs().to_vec();
    pairs.push(("redirect_uri".into(), REDIRECT.into()));
    page_error(run(&store, &Params::new(pairs)));
}

#[test]
fn response_type_must_be_code() {
    let (store, _) = testing::store();
    let (code, resp) = redirected(run(&store, &request(&[("response_type", "")])));
    assert_eq!(code, "invalid_request");
    assert_eq!(resp.target.state.as_deref(), Some("xyz"));
    for other in ["token", "id_token", "code id_token"] {
        let (code, _) = redirected(run(&store, &request(&[("response_type", other)])));
        assert_eq!(code, "unsupported_response_type", "{other}");
    }
}

#[test]
fn errors_use_the_requested_response_mode() {
    let (store, _) = testing::store();
    let r = run(
        &store,
        &request(&[("response_mode", "form_post"), ("response_type", "")]),
    );
    let (_, resp) = redirected(r);
    assert_eq!(resp.target.response_mode, ResponseMode::FormPost);
    // An unsupported mode is itself an error, delivered by query.
    let (code, resp) = redirected(run(&store, &request(&[("response_mode", "fragment")])));
    assert_eq!(code, "invalid_request");
    assert_eq!(resp.target.response_mode, ResponseMode::Query);
}

#[test]
fn repeated_parameters_request_objects_and_registration_are_refused() {
    let (store, _) = testing::store();
    let mut pairs = request(&[]).pairs().to_vec();
    pairs.push(("scope".into(), "openid".into()));
    let (code, _) = redirected(run(&store, &Params::new(pairs)));
    assert_eq!(code, "invalid_request");
    let (code, _) = redirected(run(&store, &request(&[("request", "eyJ...")])));
    assert_eq!(code, "request_not_supported");
    let (code, _) = redirected(run(&store, &request(&[("registration", "{}")])));
    assert_eq!(code, "registration_not_supported");
}

#[test]
fn pkce_s256_is_required_and_plain_refused() {
    let (store, _) = testing::store();
    let (code, _) = redirected(run(
        &store,
        &request(&[("code_challenge", ""), ("code_challenge_method", "")]),
    ));
    assert_eq!(code, "invalid_request");
    let r = run(&store, &request(&[("code_challenge_method", "plain")]));
    let (code, resp) = redirected(r);
    assert_eq!(code, "invalid_request");
    assert!(resp.params.iter().any(|(_, v)| v.contains("plain")));
    let (code, _) = redirected(run(&store, &request(&[("code_challenge_method", "")])));
    assert_eq!(code, "invalid_request");
    let (code, _) = redirected(run(&store, &request(&[("code_challenge", "short")])));
    assert_eq!(code, "invalid_request");
}

/// A confidential client registered with `pkce = optional` may go without a
/// challenge, but then must send scope openid and a nonce (RFC 9700 §2.1.1).
#[test]
fn optional_pkce_client_rules() {
    let store = MemoryStore::new();
    let mut optional = testing::confidential_client();
    optional.pkce = PkcePolicy::Optional;
    store.add_client(optional);
    let no_pkce = [
        ("client_id", "svc"),
        ("code_challenge", ""),
        ("code_challenge_method", ""),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = no_pkce.to_vec();
        all.extend_from_slice(extra);
        run(&store, &request(&all))
    };
    let req = with(&[("nonce", "n1")]).unwrap();
    assert_eq!(req.code_challenge, None);
    // Without a nonce, or without openid, the code would be unbound.
    let (code, _) = redirected(with(&[]));
    assert_eq!(code, "invalid_request");
    let (code, _) = redirected(with(&[("nonce", "n1"), ("scope", "profile")]));
    assert_eq!(code, "invalid_request");
    // A method without a challenge is an error; a challenge sent is still checked.
    let (code, _) = redirected(with(&[("nonce", "n1"), ("code_challenge_method", "S256")]));
    assert_eq!(code, "invalid_request");
    let r = with(&[
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "plain"),
    ]);
    assert_eq!(redirected(r).0, "invalid_request");
}

/// A public client always needs PKCE, whatever its stored row says.
#[test]
fn public_clients_cannot_make_pkce_optional() {
    let store = MemoryStore::new();
    let mut public = testing::public_client();
    public.pkce = PkcePolicy::Optional;
    store.add_client(public);
    let r = run(
        &store,
        &request(&[
            ("code_challenge", ""),
            ("code_challenge_method", ""),
            ("nonce", "n1"),
        ]),
    );
    assert_eq!(redirected(r).0, "invalid_request");
}

#[test]
fn scopes_must_be_allowed_and_openid_is_not_required() {
    let (store, _) = testing::store();
    let (code, _) = redirected(run(&store, &request(&[("scope", "openid api:read")])));
    assert_eq!(code, "invalid_scope");
    // A plain OAuth request (no openid) with PKCE needs no nonce.
    let req = run(&store, &request(&[("scope", "profile")])).unwrap();
    assert_eq!(req.scope, ["profile"]);
    assert_eq!(req.nonce, None);
    // Duplicates are dropped.
    let req = run(&store, &request(&[("scope", "openid openid email")])).unwrap();
    assert_eq!(req.scope, ["openid", "email"]);
}

#[test]
fn prompt_and_max_age_rules() {
    let (store, _) = testing::store();
    let req = run(&store, &request(&[("prompt", "login consent")])).unwrap();
    assert_eq!(req.prompt, ["login", "consent"]);
    for bad in ["none login", "bogus"] {
        let (code, _) = redirected(run(&store, &request(&[("prompt", bad)])));
        assert_eq!(code, "invalid_request", "{bad}");
    }
    for bad in ["-1", "soon", "1.5"] {
        let (code, _) = redirected(run(&store, &request(&[("max_age", bad)])));
        assert_eq!(code, "invalid_request", "{bad}");
    }
}

#[test]
fn par_required_by_the_client_or_the_provider() {
    let store = MemoryStore::new();
    let mut client = testing::public_client();
    client.require_par = true;
    store.add_client(client.clone());
    let p = testing::provider(&store);
    let (code, _) = redirected(validate(&p, &request(&[]), &client, false));
    assert_eq!(code, "invalid_request");
    assert!(validate(&p, &request(&[]), &client, true).is_ok());

    let (store, _) = testing::store();
    let mut p = testing::provider(&store);
    p.require_par = true;
    let client = testing::public_client();
    assert!(redirected(validate(&p, &request(&[]), &client, false)).0 == "invalid_request");
    // A pushed request cannot itself carry a request_uri.
    let r = validate(&p, &request(&[("request_uri", "urn:x")]), &client, true);
    assert_eq!(redirected(r).0, "invalid_request");
}

#[test]
fn client_without_the_code_grant_is_unauthorized() {
    let store = MemoryStore::new();
    let mut client = testing::confidential_client();
    client.grant_types = vec![GrantType::ClientCredentials];
    store.add_client(client);
    let (code, _) = redirected(run(&store, &request(&[("client_id", "svc")])));
    assert_eq!(code, "unauthorized_client");
}

/// RFC 9126 §4: a pushed request is bound to its client and single use.
#[test]
fn pushed_requests_are_single_use_and_bound_to_their_client() {
    let (store, _) = testing::store();
    let p = testing::provider(&store);
    let client = testing::public_client();
    let pushed = validate(&p, &request(&[]), &client, true).unwrap();
    store
        .save_auth_request(&crate::store::AuthRequestRow {
            id_hash: secrets::hash("abc"),
            client_id: testing::client_id("app"),
            params: serde_json::to_string(&pushed).unwrap(),
            pushed: true,
            browser_hash: None,
            created_at: p.now,
            expires_at: p.now + 60_000,
        })
        .unwrap();
    let uri = format!("{REQUEST_URI_PREFIX}abc");
    let by = |client_id: &str| {
        parse(
            &p,
            &testing::params(&[("client_id", client_id), ("request_uri", &uri)]),
        )
    };
    assert_eq!(page_error(by("svc")).code, "invalid_request_uri");
    assert_eq!(by("app").unwrap(), pushed);
    assert_eq!(page_error(by("app")).code, "invalid_request_uri");
}
