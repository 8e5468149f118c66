//! RS384 and ES384 client assertions at the token endpoint, which SMART App
//! Launch 2.2.0 requires of an authorization server that takes asymmetric
//! client authentication (docs/smart.md, docs/oidc.md), over real HTTP on every
//! backend. The keys are made here with RustCrypto, as a client would.

mod common;

use common::client_keys::{Key, assertion_at, b64, now_plus};
use common::oidc::{self, post_form};
use common::{Backend, TestEnv};
use serde_json::json;

fn assertion(key: &Key, alg: &str, kid: &str, aud: &str, jti: &str) -> String {
    assertion_at(key, (alg, kid), "svc", aud, jti, now_plus(0))
}

fn es384_and_rs384_client_assertions_are_accepted(backend: Backend) {
    let env = TestEnv::new(backend);
    let ec = Key::p384();
    let rsa = Key::rsa();
    // A third key pinned to RS256 by its JWK `alg`.
    let pinned = Key::rsa();
    let mut pinned_jwk = pinned.jwk("pinned");
    pinned_jwk["alg"] = json!("RS256");
    let jwks = env.dir.path().join("jwks.json");
    let set = json!({"keys": [ec.jwk("ec"), rsa.jwk("rsa"), pinned_jwk]});
    std::fs::write(&jwks, set.to_string()).unwrap();
    oidc::service_client(&env, "svc", &["--jwks-file", jwks.to_str().unwrap()]);
    let server = oidc::serve_with_issuer(&env, &[]);
    let token_url = format!("{}/token", server.base);
    let call = |a: &str| {
        let res = post_form(
            &server,
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", a),
            ],
        );
        (res.status, res.json()["error"].as_str().map(String::from))
    };
    assert_eq!(
        call(&assertion(&ec, "ES384", "ec", &token_url, "j1")),
        (200, None)
    );
    assert_eq!(
        call(&assertion(&rsa, "RS384", "rsa", &token_url, "j2")),
        (200, None)
    );
    assert_eq!(
        call(&assertion(&rsa, "RS256", "rsa", &token_url, "j3")),
        (200, None)
    );
    assert_eq!(
        call(&assertion(&pinned, "RS256", "pinned", &token_url, "j4")),
        (200, None)
    );
    let refused = (401, Some("invalid_client".to_string()));
    // The RS256-pinned key is not tried for RS384.
    assert_eq!(
        call(&assertion(&pinned, "RS384", "pinned", &token_url, "j5")),
        refused
    );
    // An RS256 signature presented as RS384 does not verify.
    let mut lying = assertion(&rsa, "RS256", "rsa", &token_url, "j6");
    let forged_header = b64(json!({"alg": "RS384", "kid": "rsa"}).to_string().as_bytes());
    lying = format!("{forged_header}{}", &lying[lying.find('.').unwrap()..]);
    assert_eq!(call(&lying), refused);
    // Algorithms Ward does not take from a public key.
    for alg in ["none", "HS256", "RS512", "es384"] {
        assert_eq!(
            call(&assertion(&ec, alg, "ec", &token_url, &format!("j-{alg}"))),
            refused,
            "{alg}"
        );
    }
    // Discovery says so.
    let meta = common::oidc::Browser::new(&server)
        .get("/.well-known/openid-configuration")
        .json();
    let algs = &meta["token_endpoint_auth_signing_alg_values_supported"];
    for alg in ["RS256", "RS384", "ES256", "ES384"] {
        assert!(
            algs.as_array().unwrap().iter().any(|a| a == alg),
            "{alg}: {algs}"
        );
    }
}

per_backend!(es384_and_rs384_client_assertions_are_accepted);
