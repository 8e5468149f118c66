//! Property-based fuzzing (proptest) of every parser that takes input from
//! outside, through the crate's public API: request parameters, redirect URI
//! matching, PKCE, client credentials, JWTs, the `claims` parameter, logout
//! requests, TOTP codes, WebAuthn JSON, configuration (TOML and WARD_*),
//! Casbin names and policy CSV, the admin API's JSON bodies and the domain
//! values they become. Properties: no panic; parse then render round-trips
//! where both exist; each case finishes well within a second at the size
//! limits. Private parsers have property tests next to them in src/.
//!
//! `WARD_FUZZ_CASES=100000 cargo test --release fuzz` runs longer (docs/fuzzing.md).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use ward::oidc::params::{MAX_VALUE_LEN, Params};
use ward::oidc::{claims::ClaimsRequest, client_auth, jwt, logout, pkce, redirect};

/// Cases per property: `WARD_FUZZ_CASES`, or a default that keeps the suite near a minute.
fn config() -> ProptestConfig {
    let cases = std::env::var("WARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    ProptestConfig {
        cases,
        // Shrinking an unexpected failure must not run for ever in CI.
        max_shrink_iters: 2048,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Generous bound for one parse of an input at the size limit.
const BOUND: Duration = Duration::from_secs(1);

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(took < BOUND, "{what} took {took:?}");
    out
}

/// Text that looks like what parsers see: known tokens, separators, escapes and any char.
fn texty(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => any::<char>().prop_map(|c| c.to_string()),
        2 => "[a-zA-Z0-9_.~-]{0,12}",
        2 => prop::sample::select(vec![
            "=", "&", "%", "%2", "%zz", "%00", "+", ";", ":", "/", "//", "?", "#", "@", "[", "]",
            "\"", "\\", ".", "..", " ", "\u{0}", "é", "{", "}", ",", "\n", "\r\n",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 0..max).prop_map(|v| v.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        texty(8).prop_map(Value::String),
        prop::sample::select(vec![
            "sub",
            "email",
            "acr",
            "phrh",
            "aal2",
            "openid",
            "S256",
            "confidential",
            "public",
            "https://app.example.org/cb",
            "http://127.0.0.1/cb",
            "alice",
            "ward",
            "nurse",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "userinfo", "id_token", "essential", "value", "values", "sub", "acr", "email",
            "username", "password", "display_name", "client_id", "type", "redirect_uris",
            "grant_types", "scopes", "name", "first_party", "require_par", "jwks", "keys", "kty",
            "crv", "x", "y", "n", "e", "kid", "alg", "use", "id_token_alg", "access_token_seconds",
            "authz_resources", "min_acr", "post_logout_redirect_uris", "backchannel_logout_uri",
            "shared_workstation", "pkce", "status", "role", "tenant", "note", "given_name",
            "family_name", "middle_name", "birthdate", "locale", "zoneinfo", "phone_number",
            "phone_number_verified", "address", "formatted", "street_address", "locality",
            "region", "postal_code", "country", "id", "rawId", "response", "clientDataJSON",
            "authenticatorData", "signature", "userHandle", "attestationObject", "extensions",
        ])
        .prop_map(str::to_string),
        1 => texty(6),
    ]
}

/// Named `fuzz::*` so that `cargo test fuzz` selects them.
mod fuzz {
    use super::*;

    proptest! {
        #![proptest_config(config())]

        // ---- Request parameters (query strings and form bodies) ----

        #[test]
        fn params_parse_any_text(text in texty(200)) {
            let p = timed("Params::parse", || Params::parse(&text));
            let _ = p.first_repeated();
            for (k, _) in p.pairs() {
                let _ = p.get(k);
            }
            let _ = p.require("client_id");
        }

        #[test]
        fn params_round_trip(pairs in prop::collection::vec((texty(10), texty(20)), 0..12)) {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            s.extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let p = Params::parse(&s.finish());
            prop_assert_eq!(p.pairs(), &pairs[..]);
        }

        #[test]
        fn params_at_the_size_limit(n in 0usize..16_000, name in "[a-z_]{1,20}", fill in any::<char>()) {
            // A 64 KiB body: thousands of short pairs, or one value at and beyond the limit.
            let many = "a=1&".repeat(n);
            let p = timed("Params::parse (many pairs)", || Params::parse(&many));
            prop_assert_eq!(p.first_repeated().is_some(), n > 1);
            let long = format!("{name}={}", fill.to_string().repeat(64 * 1024 / fill.len_utf8()));
            let encoded_len: usize = url::form_urlencoded::byte_serialize(fill.to_string().as_bytes()).map(str::len).sum();
            let p = timed("Params::parse (long value)", || Params::parse(&long));
            let _ = encoded_len;
            let value_len = p.pairs().first().map(|(_, v)| v.len()).unwrap_or(0);
            prop_assert_eq!(p.get(&name).is_err(), value_len > MAX_VALUE_LEN);
        }

        // ---- Redirect URIs (RFC 8252 §7.3) ----

        #[test]
        fn redirect_match_is_exact_but_for_a_loopback_port(
            registered in prop::collection::vec(redirect_uri(), 1..4),
            requested in redirect_uri(),
        ) {
            if timed("redirect::matches", || redirect::matches(&registered, &requested)) {
                prop_assert!(
                    registered.iter().any(|r| *r == requested || same_but_loopback_port(r, &requested)),
                    "{requested} matched {registered:?}"
                );
            }
        }

        #[test]
        fn loopback_ports_always_match(
            ip in prop::sample::select(vec!["127.0.0.1", "[::1]", "127.0.0.53"]),
            port in prop::option::of(1u16..),
            other in 1u16..,
            path in "(/[a-zA-Z0-9._~-]{0,8}){1,3}",
        ) {
            let reg = match port {
                Some(p) => format!("http://{ip}:{p}{path}"),
                None => format!("http://{ip}{path}"),
            };
            let req = format!("http://{ip}:{other}{path}");
            // url normalises dot segments; only paths it keeps as written may vary in port.
            if url::Url::parse(&reg).map(|u| u.path() == path).unwrap_or(false) {
                prop_assert!(redirect::matches(std::slice::from_ref(&reg), &req), "{req} vs {reg}");
            }
            let https = req.replacen("http", "https", 1);
            prop_assert!(!redirect::matches(&[reg], &https));
        }

        #[test]
        fn redirect_uri_values(text in redirect_uri()) {
            if let Ok(u) = ward::domain::RedirectUri::parse(&text) {
                let again = ward::domain::RedirectUri::parse(u.as_str());
                prop_assert!(again.is_ok());
                let again = again.unwrap();
                prop_assert_eq!(again.as_str(), u.as_str());
            }
        }

        // ---- PKCE ----

        #[test]
        fn pkce_any_input(challenge in prop::option::of(texty(60)), method in prop::option::of(texty(8)), verifier in texty(200)) {
            if let Ok(c) = pkce::check_challenge(challenge.as_deref(), method.as_deref()) {
                prop_assert_eq!(c.len(), 43);
            }
            let _ = pkce::verify(&verifier, challenge.as_deref().unwrap_or_default());
            let _ = pkce::check_redemption(challenge.as_deref(), Some(&verifier));
        }

        #[test]
        fn pkce_round_trip(verifier in "[A-Za-z0-9._~-]{43,128}") {
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            prop_assert_eq!(pkce::check_challenge(Some(&challenge), Some("S256")).unwrap(), challenge.clone());
            prop_assert!(pkce::verify(&verifier, &challenge));
            prop_assert!(pkce::check_redemption(Some(&challenge), Some(&verifier)).is_ok());
            let longer = format!("{verifier}x");
            prop_assert!(!pkce::verify(&longer, &challenge));
        }

        // ---- Client authentication: HTTP Basic and form credentials ----

        #[test]
        fn client_credentials_any_header(header in texty(80), form in texty(80)) {
            let params = Params::parse(&form);
            let _ = client_auth::credentials(&params, Some(&header));
            let _ = client_auth::credentials(&params, Some(&format!("Basic {header}")));
            let b64 = STANDARD.encode(header.as_bytes());
            let _ = client_auth::credentials(&params, Some(&format!("basic {b64}")));
        }

        #[test]
        fn client_basic_round_trip(id in texty(20), secret in texty(30)) {
            // RFC 6749 §2.3.1: form-urlencode each, join with ':', base64.
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(&id), enc(&secret))));
            let c = client_auth::credentials(&Params::default(), Some(&header)).unwrap();
            prop_assert_eq!(c.basic, Some((id, secret)));
        }

        // ---- JWTs (client assertions, id_token_hint) ----

        #[test]
        fn jwt_decode_any_text(text in texty(120), parts in prop::collection::vec(texty(30), 0..5)) {
            let _ = jwt::decode(&text);
            let _ = jwt::decode(&parts.join("."));
            let b64: Vec<String> = parts.iter().map(|p| URL_SAFE_NO_PAD.encode(p.as_bytes())).collect();
            let _ = jwt::decode(&b64.join("."));
        }

        #[test]
        fn jwt_decode_round_trip(header in json_object(), claims in json_object(), sig in prop::collection::vec(any::<u8>(), 0..80)) {
            let token = format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string()),
                URL_SAFE_NO_PAD.encode(&sig)
            );
            // What serde_json reads back from its own rendering (floats may differ in the last digit).
            let reread = |v: &Value| serde_json::from_str::<Value>(&v.to_string()).unwrap();
            match jwt::decode(&token) {
                Some(d) => {
                    prop_assert_eq!(&d.header, &reread(&header));
                    prop_assert_eq!(&d.claims, &reread(&claims));
                    prop_assert!(d.kid().is_some() == header.get("kid").is_some_and(Value::is_string));
                }
                None => prop_assert!(token.len() > jwt::MAX_TOKEN_LEN),
            }
        }

        #[test]
        fn jwt_at_the_size_limit(extra in 0usize..64, fill in "[A-Za-z0-9_-]") {
            let body = fill.repeat(jwt::MAX_TOKEN_LEN / 2 + extra);
            let token = format!("{body}.{body}.{body}");
            prop_assert!(timed("jwt::decode", || jwt::decode(&token)).is_none());
        }

        // ---- The claims parameter (OIDC Core §5.5) ----

        #[test]
        fn claims_any_text(text in texty(120)) {
            let _ = timed("ClaimsRequest::parse", || ClaimsRequest::parse(&text));
        }

        #[test]
        fn claims_parse_render_round_trip(v in json_value()) {
            if let Ok(c) = ClaimsRequest::parse(&v.to_string()) {
                let _ = (c.names(), c.scopes(), c.required_sub(), c.is_empty());
                let rendered = serde_json::to_string(&c).unwrap();
                let again = ClaimsRequest::parse(&rendered).unwrap();
                prop_assert_eq!(&again, &c);
            }
        }

        #[test]
        fn claims_at_the_size_limit(depth in 0usize..2048, width in 0usize..400) {
            // Parameters are at most 4,096 bytes: deep nesting and many members.
            let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let _ = timed("claims (deep)", || ClaimsRequest::parse(&deep));
            let members: Vec<String> = (0..width).map(|i| format!("\"c{i}\":null")).collect();
            let wide = format!("{{\"userinfo\":{{{}}}}}", members.join(","));
            let parsed = timed("claims (wide)", || ClaimsRequest::parse(&wide)).unwrap();
            prop_assert_eq!(parsed.userinfo.len(), width);
        }

        // ---- RP-initiated logout ----

        #[test]
        fn logout_request_any_params(text in texty(200)) {
            if let Ok(r) = logout::LogoutRequest::parse(&Params::parse(&text)) {
                for v in [&r.id_token_hint, &r.client_id, &r.post_logout_redirect_uri, &r.state, &r.ui_locales].into_iter().flatten() {
                    prop_assert!(!v.is_empty() && v.len() <= MAX_VALUE_LEN);
                }
            }
        }

        // ---- TOTP codes ----

        #[test]
        fn totp_any_code(secret in prop::collection::vec(any::<u8>(), 0..40), code in texty(12), now in any::<i64>(), last in any::<i64>()) {
            let _ = ward::authn::totp::verify(&secret, &code, now, last);
        }

        // ---- Casbin names and policy CSV (`ward policy import`) ----

        #[test]
        fn policy_csv_any_text(text in texty(200)) {
            let _ = timed("parse_csv", || ward::authz::rules::parse_csv(&text));
            for name in text.split([',', '\n']) {
                let _ = ward::authz::rules::check_name(name);
            }
        }

        #[test]
        fn policy_csv_round_trip(rows in prop::collection::vec(policy_row(), 0..12)) {
            let text = rows.join("\n");
            if let Ok(rules) = ward::authz::rules::parse_csv(&text) {
                let rendered = ward::authz::rules::to_csv(&rules);
                let mut again = ward::authz::rules::parse_csv(&rendered).unwrap();
                let mut rules = rules;
                // Rendered in a canonical order.
                again.sort();
                rules.sort();
                prop_assert_eq!(again, rules);
            }
        }

        // ---- Domain values (CLI, admin API, account pages) ----

        #[test]
        fn address_json(v in json_value()) {
            let _ = ward::domain::profile::Address::parse_json(&v.to_string());
        }

        // ---- Configuration: TOML text and WARD_* values ----

        #[test]
        fn config_any_toml_and_env(
            lines in prop::collection::vec(toml_line(), 0..12),
            env in prop::collection::vec((env_key(), texty(20)), 0..6),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("ward.toml");
            std::fs::write(&file, lines.join("\n")).unwrap();
            let mut env: Vec<(String, String)> = env;
            env.push(("WARD_DATA_DIR".into(), dir.path().join("data").display().to_string()));
            let _ = timed("Config::load", || ward::config::Config::load(Some(&file), &env));
        }

        #[test]
        fn domain_values(text in texty(60)) {
            use ward::domain::{self, profile};
            if let Ok(v) = domain::ClientId::parse(&text) {
                let again = domain::ClientId::parse(v.as_str()).unwrap();
                prop_assert_eq!(again.as_str(), v.as_str());
            }
            if let Ok(list) = domain::Scope::parse_list(&text) {
                let joined = list.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
                prop_assert_eq!(domain::Scope::parse_list(&joined).unwrap().len(), list.len());
            }
            if let Ok(u) = domain::Username::parse(&text) {
                let again = domain::Username::parse(u.as_str()).unwrap();
                prop_assert_eq!(again.as_str(), u.as_str());
            }
            if let Ok(e) = domain::Email::parse(&text) {
                let again = domain::Email::parse(e.as_str()).unwrap();
                prop_assert_eq!(again.as_str(), e.as_str());
            }
            let _ = domain::DisplayName::parse(&text);
            let _ = domain::UserId::parse(&text);
            for f in [profile::birthdate, profile::locale, profile::zoneinfo, profile::phone_number] {
                if let Ok(v) = f(&text) {
                    prop_assert_eq!(f(&v).unwrap(), v);
                }
            }
            if let Ok(v) = profile::name_part("given_name", &text) {
                prop_assert_eq!(profile::name_part("given_name", &v).unwrap(), v);
            }
        }

        // ---- Admin API JSON bodies ----

        #[test]
        fn admin_bodies_any_json(v in json_value()) {
            use ward::web::admin::{break_glass, clients, roles, users};
            let text = v.to_string();
            let _ = serde_json::from_str::<clients::NewClient>(&text);
            let _ = serde_json::from_str::<roles::RoleGrant>(&text);
            let _ = serde_json::from_str::<break_glass::Review>(&text);
            let _ = serde_json::from_str::<users::StatusChange>(&text);
            if let Ok(u) = serde_json::from_str::<users::NewUser>(&text) {
                let _ = ward::domain::Username::parse(&u.username);
                u.email.as_deref().map(ward::domain::Email::parse);
                u.display_name.as_deref().map(ward::domain::DisplayName::parse);
            }
            if let Ok(p) = serde_json::from_str::<users::ProfileChange>(&text) {
                use ward::domain::profile;
                for (f, v) in [
                    (profile::birthdate as fn(&str) -> _, &p.birthdate),
                    (profile::locale, &p.locale),
                    (profile::zoneinfo, &p.zoneinfo),
                    (profile::phone_number, &p.phone_number),
                ] {
                    if let Some(Some(s)) = v {
                        let _ = f(s);
                    }
                }
                if let Some(Some(a)) = p.address {
                    let _ = ward::domain::profile::Address::from(a).checked();
                }
            }
        }

        // ---- WebAuthn JSON (passkey sign-in and registration bodies) ----

        #[test]
        fn passkey_assertion_json(
            client_data in prop::collection::vec(any::<u8>(), 0..200),
            auth_data in prop::collection::vec(any::<u8>(), 0..120),
            user_handle in prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
            raw_id in prop::collection::vec(any::<u8>(), 0..64),
            extra in json_value(),
        ) {
            let passkeys = ward::authn::passkeys::Passkeys::new(
                &url::Url::parse("https://login.example.org").unwrap(),
                "Ward",
            )
            .unwrap();
            let b = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
            let body = json!({
                "id": b(&raw_id),
                "rawId": b(&raw_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b(&client_data),
                    "authenticatorData": b(&auth_data),
                    "signature": b(&auth_data),
                    "userHandle": user_handle.as_deref().map(b),
                },
                "extensions": extra,
            });
            if let Ok(cred) = serde_json::from_value(body) {
                let _ = passkeys.identify(&cred);
            }
            let _ = serde_json::from_value::<webauthn_rs::prelude::PublicKeyCredential>(extra.clone());
            let _ = serde_json::from_value::<webauthn_rs::prelude::RegisterPublicKeyCredential>(extra);
        }
    }
}

/// A line of ward.toml: a known key with a value of any type, a table header, or junk.
fn toml_line() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "issuer",
        "listen",
        "data_dir",
        "database_url",
        "database_pool_size",
        "migrate_on_start",
        "master_key",
        "log_format",
        "log_level",
        "trusted_proxies",
        "tls_cert",
        "require_par",
        "signup_enabled",
        "reauth_seconds",
        "consent_policy_version",
        "request_timeout_seconds",
        "memory_kib",
        "iterations",
        "access_token_seconds",
        "authorization_code_seconds",
        "idle_seconds",
        "networks",
        "staff_aaguids",
        "transport",
        "from",
        "host",
        "port",
        "weights",
        "rules",
        "ehr:write",
        "admin_max_auth_age_seconds",
        "admin_console_client_id",
        "otlp_endpoint",
        "service_name",
        "ceremony_seconds",
        "geoip_file",
        "deny_networks",
    ]);
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        texty(20).prop_map(|s| format!("{s:?}")),
        Just("[\"10.0.0.0/8\", \"::1/128\", \"300.1.1.1/33\"]".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        Just("inf".to_string()),
        Just("\"http://localhost:8080\"".to_string()),
        Just("\"127.0.0.1:0\"".to_string()),
        Just("\"aal2\"".to_string()),
    ];
    let table = prop::sample::select(vec![
        "[password]",
        "[tokens]",
        "[session]",
        "[session.aal2]",
        "[session.shared_workstation]",
        "[risk]",
        "[risk.weights]",
        "[[risk.rules]]",
        "[passkeys]",
        "[mail]",
        "[mail.smtp]",
        "[break_glass]",
        "[scope_min_acr]",
        "[telemetry]",
        "[nope]",
    ]);
    prop_oneof![
        4 => (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => table.prop_map(str::to_string),
        1 => texty(20),
    ]
}

fn env_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "WARD_ISSUER", "WARD_LISTEN", "WARD_DATABASE_URL", "WARD_DATABASE_POOL_SIZE",
            "WARD_MIGRATE_ON_START", "WARD_LOG_FORMAT", "WARD_LOG_LEVEL", "WARD_TRUSTED_PROXIES",
            "WARD_TLS_CERT", "WARD_PASSWORD_MEMORY_KIB", "WARD_TOKENS_ACCESS_TOKEN_SECONDS",
            "WARD_SESSION_SHARED_WORKSTATION_NETWORKS", "WARD_RISK_ALLOW_NETWORKS",
            "WARD_PASSKEYS_STAFF_AAGUIDS", "WARD_MAIL_TRANSPORT", "WARD_MAIL_SMTP_PORT",
            "WARD_BREAK_GLASS_NOTIFY", "WARD_REQUEST_TIMEOUT_SECONDS", "WARD_MASTER_KEY",
        ])
        .prop_map(str::to_string),
        1 => texty(10).prop_map(|s| format!("WARD_{s}")),
    ]
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json_value()), 0..5)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn redirect_uri() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec![
        "http://",
        "https://",
        "HTTP://",
        "org.example.app:/",
        "javascript:",
        "",
    ]);
    let host = prop::sample::select(vec![
        "127.0.0.1",
        "127.0.0.2",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "localhost",
        "app.example.org",
        "APP.example.org",
        "user@127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.1",
        "",
    ]);
    let port = prop::option::of(prop_oneof![
        any::<u16>().prop_map(|p| p.to_string()),
        Just(String::new()),
        Just("080".to_string()),
        Just("99999".to_string()),
    ]);
    let path = prop::sample::select(vec![
        "/cb", "/CB", "/cb/", "/a/../cb", "/./cb", "/%63b", "/cb?x=1", "/cb#f", "", "/cb?", "//cb",
    ]);
    (scheme, host, port, path, prop::option::of(texty(4))).prop_map(|(s, h, p, path, junk)| {
        let port = p.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{s}{h}{port}{path}{}", junk.unwrap_or_default())
    })
}

/// Equal as text except for the port of an `http` loopback IP literal (RFC 8252 §7.3).
fn same_but_loopback_port(registered: &str, requested: &str) -> bool {
    fn split(uri: &str) -> Option<(&str, &str, &str)> {
        let scheme = uri.get(..7)?;
        let rest = &uri[7..];
        if !scheme.eq_ignore_ascii_case("http://") {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let host = match authority.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => authority,
        };
        Some((scheme, host, tail))
    }
    let (Some((s1, h1, t1)), Some((s2, h2, t2))) = (split(registered), split(requested)) else {
        return false;
    };
    if s1 != s2 {
        return false;
    }
    let loopback_literal = |h: &str| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
    };
    h1 == h2 && t1 == t2 && loopback_literal(h1)
}

fn policy_row() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => "[a-z][a-z0-9-]{0,10}",
        1 => texty(6),
        1 => Just("*".to_string()),
    ];
    prop_oneof![
        (name.clone(), name.clone(), name.clone(), name.clone())
            .prop_map(|(r, t, o, a)| format!("p, {r}, {t}, {o}, {a}")),
        (name.clone(), name.clone(), name.clone())
            .prop_map(|(s, r, t)| format!("g, {s}, {r}, {t}")),
        Just(String::new()),
        Just("# comment".to_string()),
        texty(30),
    ]
}
