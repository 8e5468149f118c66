//! Property-based fuzzing of the registration checks (admin API and CLI input);
//! tests/fuzz_parsers.rs has the rest and docs/fuzzing.md says how to run longer.

use proptest::prelude::*;

use super::*;

fn cases() -> u32 {
    std::env::var("WARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "console",
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            "implicit",
            "openid",
            "profile email",
            "api",
            "launch",
            "ehr:read",
            "https://app.example.org/cb",
            "http://127.0.0.1/cb",
            "http://evil.example/cb",
            "org.example.app:/cb",
            "javascript:x",
            "https://a#f",
            "x y",
        ])
        .prop_map(str::to_string),
        ".{0,40}",
    ]
}

fn jwk() -> impl Strategy<Value = serde_json::Value> {
    let s = prop_oneof![
        Just(serde_json::json!("EC")),
        Just(serde_json::json!("RSA")),
        Just(serde_json::json!("P-256")),
        Just(serde_json::json!(null)),
        Just(serde_json::json!(7)),
        ".{0,8}".prop_map(serde_json::Value::String),
    ];
    prop::collection::vec(
        (
            prop::sample::select(vec!["kty", "crv", "n", "e", "x", "y", "d", "p", "kid"]),
            s,
        ),
        0..6,
    )
    .prop_map(|kv| {
        serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn registration_checks_never_panic(
        id in text(),
        public in any::<bool>(),
        optional in any::<bool>(),
        redirects in prop::collection::vec(text(), 0..4),
        post_logout in prop::collection::vec(text(), 0..2),
        grants in prop::collection::vec(text(), 0..3),
        scopes in prop::collection::vec(text(), 0..4),
    ) {
        let client_type = if public { ClientType::Public } else { ClientType::Confidential };
        let mut input = NewClientInput::new(&id, client_type, &[]);
        input.redirect_uris = redirects;
        input.post_logout_redirect_uris = post_logout;
        input.grant_types = grants;
        input.scopes = scopes;
        input.pkce = if optional { PkcePolicy::Optional } else { PkcePolicy::Required };
        if let Ok(v) = validate(&input) {
            // What passed is what a later parse accepts, unchanged, and
            // what storage reads back exactly.
            let again = ClientId::parse(v.id.as_str()).unwrap();
            prop_assert_eq!(again.as_str(), v.id.as_str());
            let exact = ClientId::exact(v.id.as_str());
            prop_assert_eq!(exact.as_ref(), Some(&v.id));
            for u in v.redirect_uris.iter().chain(&v.post_logout_redirect_uris) {
                let again = RedirectUri::parse(u).unwrap();
                prop_assert_eq!(again.as_str(), u.as_str());
            }
            prop_assert!(!public || v.pkce == PkcePolicy::Required);
        }
    }

    #[test]
    fn jwks_checks_never_panic(keys in prop::collection::vec(jwk(), 0..22), text in ".{0,60}") {
        let _ = validate_jwks(&text);
        let doc = serde_json::json!({ "keys": keys }).to_string();
        if let Ok(v) = validate_jwks(&doc) {
            let n = v["keys"].as_array().map(Vec::len).unwrap_or(0);
            prop_assert!((1..=20).contains(&n));
        }
    }
}
