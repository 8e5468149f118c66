//! SMART Backend Services (SMART App Launch 2.2.0 §"Backend Services") over
//! real HTTP on every backend, written from the guide as a backend service
//! would act: it publishes its keys at a `jwks_uri` (a loopback server here,
//! with the development switch on), signs an RS384 or ES384 client assertion,
//! and asks the token endpoint for `system/` scopes with client_credentials.
//! What it gets is its registration narrowed by its own roles in its tenant
//! (`g, client:<client_id>, role, tenant`); a key set that cannot be had is
//! `invalid_client`, fast, never a 500 (docs/smart.md).

mod common;

use std::time::{Duration, Instant};

use common::Backend;
use common::app::{TestApp, TestAppBuilder, claims};
use common::client_keys::{JWT_BEARER, Key, assertion_at, b64, now_plus};
use common::jwks_server::JwksServer;
use common::oidc::{Res, basic, post_form};
use serde_json::json;

const INSECURE: &str = "WARD_CLIENTS_ALLOW_INSECURE_JWKS_URI";
const SCOPES: &str = "system/*.rs system/Observation.c";

/// A Ward that may fetch key sets from loopback (the development switch, for
/// the CLI and the server), with the test clock.
fn ward(backend: Backend) -> TestAppBuilder {
    TestApp::new(backend).env(INSECURE, "true").clock()
}

/// `ward client add ID` for a backend service: keys at `jwks_uri`, tenant st-mary.
fn backend_client(b: TestAppBuilder, id: &str, jwks_uri: &str) -> TestAppBuilder {
    b.client(
        id,
        &[
            "--type",
            "confidential",
            "--grant-type",
            "client_credentials",
            "--scope",
            SCOPES,
            "--jwks-uri",
            jwks_uri,
            "--tenant",
            "st-mary",
        ],
    )
}

/// A key server publishing one ES384 key, `k`, at `/jwks`.
fn one_key() -> (JwksServer, Key) {
    let keys = JwksServer::start();
    let key = Key::p384();
    keys.publish("/jwks", &json!({"keys": [key.jwk("k")]}));
    (keys, key)
}

/// The clock offset the test moved the server by, in ms.
struct Clock(i64);

/// POST client_credentials for `scope` with an assertion by `client`.
fn token(w: &TestApp, clock: &Clock, client: &str, key: (&Key, &str, &str), scope: &str) -> Res {
    let (key, alg, kid) = key;
    let jti = uuid::Uuid::new_v4().to_string();
    let aud = format!("{}/token", w.issuer);
    let a = assertion_at(key, (alg, kid), client, &aud, &jti, now_plus(clock.0));
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", a.as_str()),
    ];
    if !scope.is_empty() {
        form.push(("scope", scope));
    }
    post_form(&w.server, "/token", None, &form)
}

fn error(r: &Res) -> (u16, String) {
    (
        r.status,
        r.json()["error"].as_str().unwrap_or("").to_string(),
    )
}

fn granted(r: &Res) -> String {
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        at["scope"], body["scope"],
        "the token says what was granted"
    );
    assert_eq!(at["sub"], at["client_id"]);
    body["scope"].as_str().unwrap().to_string()
}

fn es384_and_rs384_backend_services_from_a_loopback_jwks_uri(backend: Backend) {
    let keys = JwksServer::start();
    let (ec, rsa) = (Key::p384(), Key::rsa());
    keys.publish("/ec", &json!({"keys": [ec.jwk("ec-1")]}));
    keys.publish("/rsa", &json!({"keys": [rsa.jwk("rsa-1")]}));
    let b = backend_client(ward(backend), "lab-feed", &keys.url("/ec"));
    let w = backend_client(b, "registry", &keys.url("/rsa"))
        .ward(&[
            "policy", "grant", "--client", "lab-feed", "nurse", "--tenant", "st-mary",
        ])
        .ward(&[
            "policy",
            "grant",
            "--client",
            "registry",
            "receptionist",
            "--tenant",
            "st-mary",
        ])
        .start();
    let clock = Clock(0);
    // A nurse's role: Observation c r s, Patient r s. The registration has
    // no update or delete, and Observation.c only alone.
    let lab = (&ec, "ES384", "ec-1");
    assert_eq!(
        granted(&token(
            &w,
            &clock,
            "lab-feed",
            lab,
            "system/Observation.cruds"
        )),
        "system/Observation.rs"
    );
    assert_eq!(
        granted(&token(
            &w,
            &clock,
            "lab-feed",
            lab,
            "system/Observation.c system/*.rs"
        )),
        "system/Observation.c system/Observation.rs system/Patient.rs"
    );
    // Without `scope`: the registration, narrowed.
    assert_eq!(
        granted(&token(&w, &clock, "lab-feed", lab, "")),
        "system/Observation.rs system/Patient.rs system/Observation.c"
    );
    // RS384: a receptionist sees Patient and Appointment, never Observation.
    let reg = (&rsa, "RS384", "rsa-1");
    assert_eq!(
        granted(&token(&w, &clock, "registry", reg, "system/*.rs")),
        "system/Appointment.rs system/Patient.rs"
    );
    assert_eq!(
        error(&token(&w, &clock, "registry", reg, "system/Observation.rs")),
        (400, "invalid_scope".into()),
        "nothing the role allows"
    );
    // Each set was fetched once, then cached.
    assert_eq!((keys.hits("/ec"), keys.hits("/rsa")), (1, 1));
    // The grant and the narrowing are on record.
    let reduced = w.env.count(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'token.issued' \
         AND client_id = 'lab-feed' AND details LIKE '%scope_reduced%'",
    );
    assert!(reduced >= 2, "{reduced}");
}

per_backend!(es384_and_rs384_backend_services_from_a_loopback_jwks_uri);

fn a_rotated_key_is_fetched_for_its_new_kid(backend: Backend) {
    let keys = JwksServer::start();
    let (old, new) = (Key::p384(), Key::rsa());
    keys.publish("/jwks", &json!({"keys": [old.jwk("2026-11")]}));
    let w = backend_client(ward(backend), "feed", &keys.url("/jwks"))
        .ward(&[
            "policy", "grant", "--client", "feed", "nurse", "--tenant", "st-mary",
        ])
        .start();
    let mut clock = Clock(0);
    let scope = "system/Patient.rs";
    assert_eq!(
        granted(&token(
            &w,
            &clock,
            "feed",
            (&old, "ES384", "2026-11"),
            scope
        )),
        scope
    );
    // The service rotates: the new key is published beside the old one.
    keys.publish(
        "/jwks",
        &json!({"keys": [old.jwk("2026-11"), new.jwk("2026-12")]}),
    );
    // Ward refetches for an unknown kid at most every 10 s per client.
    clock.0 += 11_000;
    w.advance(11_000);
    assert_eq!(
        granted(&token(
            &w,
            &clock,
            "feed",
            (&new, "RS384", "2026-12"),
            scope
        )),
        scope
    );
    assert_eq!(keys.hits("/jwks"), 2);
    // A made-up kid right after makes Ward ask no more.
    let forged = Key::p384();
    for _ in 0..5 {
        let r = token(&w, &clock, "feed", (&forged, "ES384", "made-up"), scope);
        assert_eq!(error(&r), (401, "invalid_client".into()));
    }
    assert_eq!(keys.hits("/jwks"), 2, "rate-limited per client");
}

per_backend!(a_rotated_key_is_fetched_for_its_new_kid);

fn a_jwks_uri_that_redirects_is_huge_or_hangs_is_invalid_client_fast(backend: Backend) {
    let (keys, key) = one_key();
    let mut b = ward(backend);
    for (id, path) in [
        ("redirects", "/redirect/jwks"),
        ("huge", "/huge"),
        ("hangs", "/hang"),
        ("missing", "/nothing-here"),
    ] {
        b = backend_client(b, id, &keys.url(path));
    }
    let w = b.start();
    let clock = Clock(0);
    for id in ["redirects", "huge", "hangs", "missing"] {
        let started = Instant::now();
        let r = token(&w, &clock, id, (&key, "ES384", "k"), "system/Patient.rs");
        assert_eq!(
            error(&r),
            (401, "invalid_client".into()),
            "{id}: {}",
            r.body
        );
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{id}: {:?}",
            started.elapsed()
        );
        assert!(
            !r.body.contains("127.0.0.1"),
            "{id}: no detail leaks: {}",
            r.body
        );
    }
    // The redirect was not followed.
    assert_eq!(keys.hits("/jwks"), 0);
    assert_eq!(keys.hits("/redirect/jwks"), 1);
}

per_backend!(a_jwks_uri_that_redirects_is_huge_or_hangs_is_invalid_client_fast);

fn none_and_hs256_assertions_are_refused_without_fetching(backend: Backend) {
    let (keys, _) = one_key();
    let w = backend_client(ward(backend), "feed", &keys.url("/jwks")).start();
    let aud = format!("{}/token", w.issuer);
    let claims = json!({"iss": "feed", "sub": "feed", "aud": aud, "exp": now_plus(0) + 60,
        "jti": "j"});
    let body = b64(claims.to_string().as_bytes());
    let unsigned = format!("{}.{body}.", b64(br#"{"alg":"none"}"#));
    let hs_input = format!("{}.{body}", b64(br#"{"alg":"HS256","kid":"k"}"#));
    // HMAC keyed with the public key's text: the classic confusion attack.
    let hs = format!("{hs_input}.{}", b64(&[7u8; 32]));
    for a in [unsigned, hs] {
        let r = post_form(
            &w.server,
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &a),
            ],
        );
        assert_eq!(error(&r), (401, "invalid_client".into()), "{a}");
    }
    assert_eq!(keys.hits("/jwks"), 0);
}

per_backend!(none_and_hs256_assertions_are_refused_without_fetching);

fn a_policy_change_shrinks_the_next_token(backend: Backend) {
    let (keys, key) = one_key();
    let w = backend_client(ward(backend), "feed", &keys.url("/jwks"))
        .ward(&[
            "policy",
            "grant",
            "--client",
            "feed",
            "physician",
            "--tenant",
            "st-mary",
        ])
        .start();
    let clock = Clock(0);
    let scope = "system/Observation.rs system/Patient.rs";
    let k = (&key, "ES384", "k");
    assert_eq!(granted(&token(&w, &clock, "feed", k, scope)), scope);
    // The service is moved to the front desk (another process, the CLI).
    w.env.ok(
        &[
            "policy",
            "grant",
            "--client",
            "feed",
            "receptionist",
            "--tenant",
            "st-mary",
        ],
        None,
    );
    w.env.ok(
        &[
            "policy",
            "revoke",
            "--client",
            "feed",
            "physician",
            "--tenant",
            "st-mary",
        ],
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = granted(&token(&w, &clock, "feed", k, scope));
        if got == "system/Patient.rs" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the role change never showed: {got}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

per_backend!(a_policy_change_shrinks_the_next_token);

fn system_scopes_are_for_key_clients_only(backend: Backend) {
    let (keys, key) = one_key();
    let w = backend_client(ward(backend), "feed", &keys.url("/jwks"))
        .ward(&[
            "policy", "grant", "--client", "feed", "nurse", "--tenant", "st-mary",
        ])
        .client(
            "secret-svc",
            &[
                "--type",
                "confidential",
                "--grant-type",
                "client_credentials",
                "--scope",
                "api",
            ],
        )
        .client(
            "spa",
            &[
                "--type",
                "public",
                "--redirect-uri",
                "https://spa.example/cb",
            ],
        )
        .start();
    let clock = Clock(0);
    // Registration: system/ scopes need keys, client_credentials and a tenant.
    let add = |args: &[&str]| {
        let mut all = vec!["client", "add", "x", "--scope", "system/Patient.rs"];
        all.extend_from_slice(args);
        w.env.fails(&all, None)
    };
    let uri = keys.url("/jwks");
    let cc: &[&str] = &["--grant-type", "client_credentials"];
    let secret_only: &[&str] = &["--type", "confidential"];
    let public: &[&str] = &["--type", "public", "--redirect-uri", "https://x.example/cb"];
    let keyed: &[&str] = &["--type", "confidential", "--jwks-uri", uri.as_str()];
    let code_only: &[&str] = &["--redirect-uri", "https://x.example/cb"];
    assert!(add(&[secret_only, cc].concat()).contains("private_key_jwt"));
    assert!(add(public).contains("private_key_jwt"));
    assert!(add(&[keyed, code_only].concat()).contains("client_credentials"));
    assert!(add(&[keyed, cc].concat()).contains("--tenant"));
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM clients WHERE id = 'x'"),
        0
    );
    // The token endpoint: a secret client asking for system/ scopes.
    let secret = w.secret("secret-svc");
    let r = post_form(
        &w.server,
        "/token",
        Some(&basic("secret-svc", secret)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "system/Patient.rs"),
        ],
    );
    assert_eq!(error(&r), (400, "invalid_scope".into()), "{}", r.body);
    // A public client cannot use client_credentials at all.
    let r = post_form(
        &w.server,
        "/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "spa"),
            ("scope", "system/Patient.rs"),
        ],
    );
    assert_eq!(error(&r).1, "unauthorized_client", "{}", r.body);
    // A backend client: no user/ or patient/ scopes, no typos, nothing unregistered.
    let k = (&key, "ES384", "k");
    for scope in [
        "user/Patient.rs",
        "patient/Patient.rs",
        "system/Patient.rw",
        "system/patient.rs",
        "system/Patient.cruds?x",
        "openid",
        "system/Patient.d",
    ] {
        let r = token(&w, &clock, "feed", k, scope);
        assert_eq!(
            error(&r),
            (400, "invalid_scope".into()),
            "{scope}: {}",
            r.body
        );
    }
    assert_eq!(
        granted(&token(&w, &clock, "feed", k, "system/Patient.rs")),
        "system/Patient.rs"
    );
}

per_backend!(system_scopes_are_for_key_clients_only);

fn a_jwks_uri_must_be_https_when_the_switch_is_off(backend: Backend) {
    let w = TestApp::new(backend).start();
    let add = |uri: &str| {
        w.env.fails(
            &[
                "client",
                "add",
                "feed",
                "--type",
                "confidential",
                "--grant-type",
                "client_credentials",
                "--scope",
                "api",
                "--jwks-uri",
                uri,
            ],
            None,
        )
    };
    assert!(add("http://127.0.0.1:9/jwks").contains("https"));
    assert!(add("https://127.0.0.1/jwks").contains("loopback"));
    assert!(add("https://169.254.169.254/latest/meta-data").contains("link-local"));
    assert!(add("https://localhost/jwks").contains("loopback"));
    // Not both a key set and its URL.
    let file = w.env.dir.path().join("jwks.json");
    std::fs::write(&file, json!({"keys": [Key::p384().jwk("k")]}).to_string()).unwrap();
    let both = w.env.fails(
        &[
            "client",
            "add",
            "feed",
            "--type",
            "confidential",
            "--jwks-file",
            file.to_str().unwrap(),
            "--jwks-uri",
            "https://keys.example/jwks",
        ],
        None,
    );
    assert!(both.contains("cannot be used with"), "{both}");
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM clients WHERE id = 'feed'"),
        0
    );
    // An https URL on a public name is taken; the client gets no secret.
    let out = w.env.ok(
        &[
            "client",
            "add",
            "feed",
            "--json",
            "--type",
            "confidential",
            "--grant-type",
            "client_credentials",
            "--scope",
            "api",
            "--jwks-uri",
            "https://keys.example/jwks",
        ],
        None,
    );
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["jwks_uri"], "https://keys.example/jwks");
    assert!(created.get("client_secret").is_none(), "{created}");
}

per_backend!(a_jwks_uri_must_be_https_when_the_switch_is_off);

fn client_roles_are_granted_only_to_registered_clients_and_go_with_them(backend: Backend) {
    let keys = JwksServer::start();
    let w = backend_client(ward(backend), "feed", &keys.url("/jwks")).start();
    let err = w.env.fails(
        &[
            "policy", "grant", "--client", "nope", "nurse", "--tenant", "st-mary",
        ],
        None,
    );
    assert!(err.contains("no client"), "{err}");
    w.env.ok(
        &[
            "policy", "grant", "--client", "feed", "nurse", "--tenant", "st-mary",
        ],
        None,
    );
    let again = w.env.fails(
        &[
            "policy", "grant", "--client", "feed", "nurse", "--tenant", "st-mary",
        ],
        None,
    );
    assert!(again.contains("already"), "{again}");
    // The client's roles and what they allow, per tenant.
    let shown: serde_json::Value = serde_json::from_str(
        &w.env
            .ok(&["policy", "show", "--client", "feed", "--json"], None),
    )
    .unwrap();
    assert_eq!(shown["subject"], "client:feed", "{shown}");
    assert_eq!(shown["tenants"][0]["tenant"], "st-mary", "{shown}");
    assert_eq!(shown["tenants"][0]["roles"], serde_json::json!(["nurse"]));
    let perms = shown["tenants"][0]["permissions"].to_string();
    assert!(perms.contains("fhir:Observation:r"), "{perms}");
    let err = w.env.fails(&["policy", "show", "--client", "nope"], None);
    assert!(err.contains("no client"), "{err}");
    let export = w.env.ok(&["policy", "export"], None);
    assert!(
        export.contains("g, client:feed, nurse, st-mary"),
        "{export}"
    );
    // The export imports back as it is.
    let file = w.env.dir.path().join("policy.csv");
    std::fs::write(&file, &export).unwrap();
    w.env
        .ok(&["policy", "import", file.to_str().unwrap()], None);
    assert_eq!(w.env.ok(&["policy", "export"], None), export);
    // Removing the client removes its roles: a client registered later
    // under the same id starts with none.
    w.env.ok(&["client", "remove", "feed"], None);
    let export = w.env.ok(&["policy", "export"], None);
    assert!(!export.contains("client:feed"), "{export}");
    // A stale assignment can still be revoked by id; a missing one is refused.
    let err = w.env.fails(
        &[
            "policy", "revoke", "--client", "feed", "nurse", "--tenant", "st-mary",
        ],
        None,
    );
    assert!(err.contains("has no role"), "{err}");
    let granted = w.env.count(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'policy.grant' \
         AND client_id = 'feed' AND outcome = 'success'",
    );
    assert_eq!(granted, 1);
}

per_backend!(client_roles_are_granted_only_to_registered_clients_and_go_with_them);
