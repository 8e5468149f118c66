//! A real relying party (the `openidconnect` crate) against the real server:
//! discovery, code flow with PKCE and nonce through Ward's login and consent
//! pages, ID token verification against /jwks, userinfo, refresh, introspection
//! and revocation. On SQLite and on PostgreSQL.

mod common;

use common::oidc::{self, Browser, REDIRECT, param};
use common::{Backend, TestEnv};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IntrospectionUrl,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenIntrospectionResponse, TokenResponse,
};

/// openidconnect's HTTP client, over ureq.
fn http(
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, std::io::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let res = agent.run(request).map_err(std::io::Error::other)?;
    let (parts, mut body) = res.into_parts();
    let bytes = body.read_to_vec().map_err(std::io::Error::other)?;
    Ok(openidconnect::http::Response::from_parts(parts, bytes))
}

fn a_relying_party_runs_the_whole_flow(backend: Backend) {
    let env = TestEnv::new(backend);
    let user_id = oidc::user(&env, "alice");
    let secret = oidc::confidential(
        &env,
        "rp",
        REDIRECT,
        &[
            "--scope",
            "openid profile email offline_access",
            "--name",
            "Clinic Portal",
        ],
    )
    .unwrap();
    let server = oidc::serve_with_issuer(&env, &[]);

    // Discovery, exactly as an app developer would do it with only the issuer URL.
    let issuer = IssuerUrl::new(server.base.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover(&issuer, &http).expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("rp".into()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_introspection_url(IntrospectionUrl::new(format!("{}/introspect", server.base)).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The user signs in and consents through Ward's pages.
    let mut browser = Browser::new(&server);
    let back = browser.authorize(auth_url.as_str(), "alice");
    let location = back.location();
    assert!(location.starts_with(REDIRECT), "{backend:?}: {location}");
    assert_eq!(
        param(location, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    assert_eq!(
        param(location, "iss").as_deref(),
        Some(server.base.as_str()),
        "RFC 9207 iss"
    );
    let code = param(location, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request(&http)
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("ID token verifies against /jwks");
    assert_eq!(
        claims.subject().as_str(),
        user_id,
        "sub is the immutable user id"
    );
    assert!(claims.auth_time().is_some());
    assert_eq!(claims.auth_context_ref().map(|a| a.as_str()), Some("aal1"));
    assert_eq!(claims.auth_method_refs().unwrap()[0].as_str(), "pwd");
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&client.id_token_verifier()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    // RS256 by default.
    assert_eq!(
        format!("{:?}", id_token.signing_alg().unwrap()),
        "RsaSsaPkcs1V15Sha256"
    );

    // The access token is an RFC 9068 JWT.
    let header: serde_json::Value = {
        use base64::Engine;
        let h = tokens.access_token().secret().split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request(&http)
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), user_id);
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.org"));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));

    let intro = client
        .introspect(tokens.access_token())
        .request(&http)
        .expect("introspection");
    assert!(intro.active());
    assert_eq!(intro.sub(), Some(user_id.as_str()));

    // Refresh rotates the refresh token; the old one is then refused.
    let refresh = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request(&http)
        .expect("refresh");
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        refresh.secret()
    );
    assert!(refreshed.id_token().is_some());

    // Revocation: the access token stops working everywhere.
    // (openidconnect refuses a revocation URL over plain http, so this one call is raw HTTP.)
    let res = oidc::post_form(
        &server,
        "/revoke",
        Some(&oidc::basic("rp", &secret)),
        &[("token", refreshed.access_token().secret())],
    );
    assert_eq!(res.status, 200);
    assert!(
        !client
            .introspect(refreshed.access_token())
            .request(&http)
            .unwrap()
            .active()
    );
    assert!(
        client
            .user_info(refreshed.access_token().clone(), None)
            .unwrap()
            .request::<openidconnect::EmptyAdditionalClaims, openidconnect::core::CoreGenderClaim, _>(&http)
            .is_err()
    );

    // A second sign-in reuses the session and the remembered consent: no pages at all.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let res = browser.get(url.as_str());
    assert_eq!(res.status, 303);
    assert!(
        res.location().starts_with(REDIRECT),
        "single sign-on: {}",
        res.location()
    );
}

per_backend!(a_relying_party_runs_the_whole_flow);

/// A confidential relying party whose library sends no PKCE, registered with
/// `--pkce optional`: it signs in with a nonce, redeems the code without a
/// verifier, and the ID token carries its nonce (RFC 9700 §2.1.1).
fn a_confidential_relying_party_may_use_a_nonce_instead_of_pkce(backend: Backend) {
    let env = TestEnv::new(backend);
    let user_id = oidc::user(&env, "alice");
    let secret = oidc::confidential(&env, "legacy-rp", REDIRECT, &["--pkce", "optional"]).unwrap();
    let server = oidc::serve_with_issuer(&env, &[]);
    let issuer = IssuerUrl::new(server.base.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover(&issuer, &http).expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("legacy-rp".into()),
        Some(ClientSecret::new(secret)),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    // No set_pkce_challenge: the library sends scope openid and a nonce only.
    let (auth_url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    assert!(!auth_url.as_str().contains("code_challenge"));
    let back = Browser::new(&server).authorize(auth_url.as_str(), "alice");
    let code = param(back.location(), "code")
        .unwrap_or_else(|| panic!("{backend:?}: no code: {}", back.location()));
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request(&http)
        .expect("code exchange without code_verifier");
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the ID token verifies and carries the nonce");
    assert_eq!(claims.subject().as_str(), user_id);
    assert_eq!(
        claims.nonce().map(|n| n.secret().as_str()),
        Some(nonce.secret().as_str())
    );
}

per_backend!(a_confidential_relying_party_may_use_a_nonce_instead_of_pkce);
