//! SMART on FHIR clinical scopes over real HTTP on every backend (docs/smart.md):
//! the granted scope is what the client is registered for, narrowed by the
//! user's roles in the tenant, re-evaluated on refresh; malformed or
//! unregistered ones are `invalid_scope`.

mod common;

use std::time::{Duration, Instant};

use common::Backend;
use common::app::{TestApp, claims};
use common::oidc::{Browser, param, pkce};
use serde_json::Value;

const REGISTERED: &str = "openid offline_access user/*.rs user/Observation.c";
/// The FHIR server the tokens are for: SMART requests name it in `aud`.
const FHIR: &str = "https://fhir.st-mary.example/r4";

fn world(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .user("dana")
        .ward(&["policy", "grant", "dana", "nurse", "--tenant", "st-mary"])
        .ward(&["fhir", "add", FHIR, "--tenant", "st-mary"])
        .first_party("chart", REGISTERED, &[])
        .start()
}

fn tokens(w: &TestApp, scope: &str) -> Value {
    w.sign_in("chart", "dana", &[("scope", scope), ("aud", FHIR)])
        .1
}

/// The error `/authorize` redirects back with for `scope`, before any sign-in.
fn authorize_error(w: &TestApp, scope: &str) -> Option<String> {
    let mut b = Browser::new(&w.server);
    let res = b.get(&w.authorize_url("chart", &pkce(), &[("scope", scope), ("aud", FHIR)]));
    param(res.location(), "error")
}

fn clinical_scopes_are_granted_as_far_as_client_and_roles_allow(backend: Backend) {
    let w = world(backend);
    // A nurse: Observation c r s, Patient r s, no Appointment at all. The
    // client asked for more than it is registered for on Observation.
    let t = tokens(
        &w,
        "openid offline_access user/Observation.cruds user/Appointment.rs user/Observation.c",
    );
    let granted = "openid offline_access user/Observation.rs user/Observation.c";
    assert_eq!(t["scope"], granted, "{t}");
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["scope"], granted, "{at}");

    // A wildcard request is granted as the types the nurse's roles name.
    let t = tokens(&w, "openid user/*.rs");
    assert_eq!(
        t["scope"], "openid user/Observation.rs user/Patient.rs",
        "{t}"
    );
}

per_backend!(clinical_scopes_are_granted_as_far_as_client_and_roles_allow);

fn refresh_re_evaluates_clinical_scopes_against_the_policy(backend: Backend) {
    let w = world(backend);
    let t = tokens(
        &w,
        "openid offline_access user/Observation.rs user/Appointment.rs",
    );
    assert_eq!(t["scope"], "openid offline_access user/Observation.rs");
    let mut refresh = t["refresh_token"].as_str().unwrap().to_string();
    // Dana moves from the ward to the front desk (another process, the CLI).
    w.env.ok(
        &[
            "policy",
            "grant",
            "dana",
            "receptionist",
            "--tenant",
            "st-mary",
        ],
        None,
    );
    w.env.ok(
        &["policy", "revoke", "dana", "nurse", "--tenant", "st-mary"],
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = w.refresh("chart", &refresh);
        assert_eq!(r.status, 200, "{}", r.body);
        let body = r.json();
        refresh = body["refresh_token"].as_str().unwrap().to_string();
        // Receptionists never see an Observation; the Appointment scope the
        // grant held all along is now within the policy.
        if body["scope"] == "openid offline_access user/Appointment.rs" {
            let at = claims(body["access_token"].as_str().unwrap());
            assert_eq!(at["scope"], body["scope"]);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the role change never showed: {body}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

per_backend!(refresh_re_evaluates_clinical_scopes_against_the_policy);

fn malformed_or_unregistered_clinical_scopes_are_invalid_scope(backend: Backend) {
    let w = world(backend);
    for scope in [
        "openid user/Observation.sr",          // letters out of cruds order
        "openid user/Observation.rr",          // a letter twice
        "openid user/observation.rs",          // not a resource type name
        "openid user/Observation.read?x=1",    // a query on a v1 scope
        "openid user/Observation.d",           // not within the registration
        "openid patient/Observation.rs",       // another compartment
        "openid user/Observation.rs?category", // a query without a value
    ] {
        assert_eq!(
            authorize_error(&w, scope).as_deref(),
            Some("invalid_scope"),
            "{scope}"
        );
    }
    // A scope the client is registered for goes on to the sign-in.
    assert_eq!(authorize_error(&w, "openid user/Observation.rs"), None);
}

per_backend!(malformed_or_unregistered_clinical_scopes_are_invalid_scope);

fn registration_refuses_malformed_and_unsupported_clinical_scopes(backend: Backend) {
    let w = world(backend);
    let add = |scope: &str| {
        w.env.fails(
            &[
                "client",
                "add",
                "app",
                "--type",
                "confidential",
                "--redirect-uri",
                "https://app.example/cb",
                "--scope",
                scope,
            ],
            None,
        )
    };
    assert!(add("openid user/Observation.sr").contains("cruds"));
    assert!(add("openid patient/Observation.rw").contains("cruds"));
    // system/ scopes are for backend clients with keys (tests/smart_backend.rs).
    assert!(add("openid system/*.rs").contains("private_key_jwt"));
    // None of the refused registrations left a client behind.
    let listed = w.env.ok(&["client", "list", "--json"], None);
    assert!(!listed.contains("\"app\""), "{listed}");
}

per_backend!(registration_refuses_malformed_and_unsupported_clinical_scopes);

fn client_credentials_gets_no_user_scopes(backend: Backend) {
    let w = TestApp::new(backend)
        .confidential(
            "svc",
            "https://svc.example/cb",
            &[
                "--grant-type",
                "client_credentials",
                "--scope",
                "api user/*.rs",
            ],
        )
        .start();
    let r = w.post_as(
        "svc",
        "/token",
        &[("grant_type", "client_credentials"), ("scope", "user/*.rs")],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_scope");
    // Without a scope parameter the client gets its registered scopes that
    // need no user.
    let r = w.post_as("svc", "/token", &[("grant_type", "client_credentials")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["scope"], "api");
}

per_backend!(client_credentials_gets_no_user_scopes);

/// `/.well-known/smart-configuration` at Ward's root: the endpoints Ward
/// serves, and capabilities only for what works (docs/smart.md).
fn the_smart_configuration_is_served_and_truthful(backend: Backend) {
    let w = world(backend);
    let res = Browser::new(&w.server).get("/.well-known/smart-configuration");
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.headers["content-type"].starts_with("application/json"));
    assert_eq!(res.headers["access-control-allow-origin"], "*");
    let smart = res.json();
    let oidc = Browser::new(&w.server)
        .get("/.well-known/openid-configuration")
        .json();
    for field in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
    ] {
        assert_eq!(smart[field], oidc[field], "{field}");
    }
    let caps: Vec<&str> = smart["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in [
        "permission-v2",
        "permission-user",
        "client-confidential-asymmetric",
    ] {
        assert!(caps.contains(&c), "{c}: {caps:?}");
    }
    // What works since the launch context landed (tests/smart_launch.rs,
    // tests/smart_standalone.rs, tests/smart_picker.rs).
    for c in [
        "launch-ehr",
        "launch-standalone",
        "context-ehr-patient",
        "context-ehr-encounter",
        "context-passthrough-banner",
        "context-passthrough-style",
        "context-standalone-patient",
        "context-standalone-encounter",
        "permission-patient",
        "permission-online",
    ] {
        assert!(caps.contains(&c), "{c}: {caps:?}");
    }
    // `authorize-post` is listed, so a POST to /authorize must work: it
    // leads to the sign-in like a GET.
    let p = pkce();
    let url = w.authorize_url(
        "chart",
        &p,
        &[("scope", "openid user/Observation.rs"), ("aud", FHIR)],
    );
    let query = url.split_once('?').unwrap().1.to_string();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let form: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = Browser::new(&w.server).post("/authorize", &form);
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(res.location().contains("/login"), "{}", res.location());
}

per_backend!(the_smart_configuration_is_served_and_truthful);
