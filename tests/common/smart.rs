//! A SMART on FHIR world for the launch tests (docs/smart.md): two FHIR
//! servers in two tenants, an EHR client allowed to launch apps in st-mary,
//! an app, another app, a nurse, a patient and a receptionist.

use serde_json::Value;

use super::Backend;
use super::app::{TestApp, TestAppBuilder};
use super::oidc::{Browser, Res, param, pkce};

/// St Mary's FHIR server (tenant st-mary).
pub const FHIR: &str = "https://fhir.st-mary.example/r4";
/// Riverside's (tenant riverside).
pub const RIVERSIDE_FHIR: &str = "https://fhir.riverside.example/r4";

/// What the app is registered for.
pub const APP_SCOPES: &str = "openid fhirUser launch launch/patient launch/encounter \
    offline_access online_access patient/*.rs user/*.rs";

/// The EHR client's own role: it may launch apps in st-mary only.
const EHR_POLICY: &str =
    "\np, ehr-launcher, st-mary, smart, launch\ng, client:ehr, ehr-launcher, st-mary\n";

/// The builder with the world's users, clients, FHIR servers and policy; the
/// caller may add more before `start`.
pub fn builder(backend: Backend) -> TestAppBuilder {
    let b = TestApp::new(backend)
        .clock()
        .user("dana")
        .user("pat")
        .user("rita")
        .ward(&["policy", "grant", "dana", "nurse", "--tenant", "st-mary"])
        .ward(&["policy", "grant", "pat", "patient", "--tenant", "st-mary"])
        .ward(&[
            "policy",
            "grant",
            "rita",
            "receptionist",
            "--tenant",
            "st-mary",
        ])
        .ward(&["user", "set", "dana", "--fhir-user", "Practitioner/9"])
        .ward(&["user", "set", "pat", "--fhir-user", "Patient/123"])
        .ward(&["fhir", "add", FHIR, "--tenant", "st-mary"])
        .ward(&["fhir", "add", RIVERSIDE_FHIR, "--tenant", "riverside"])
        .first_party("app", APP_SCOPES, &[])
        .first_party("other-app", APP_SCOPES, &[])
        .first_party("ehr", "openid", &[])
        .first_party("ehr2", "openid", &[]);
    let policy = b.run(&["policy", "export"]);
    assert!(policy.status.success());
    let path = b.dir().join("policy-with-ehr.csv");
    let mut text = String::from_utf8(policy.stdout).unwrap();
    text.push_str(EHR_POLICY);
    std::fs::write(&path, text).unwrap();
    b.ward(&["policy", "import", path.to_str().unwrap()])
}

pub fn world(backend: Backend) -> TestApp {
    builder(backend).start()
}

/// `POST /smart/launch` as the EHR client `ehr` with `form`.
pub fn mint_as(w: &TestApp, ehr: &str, form: &[(&str, &str)]) -> Res {
    w.post_as(ehr, "/smart/launch", form)
}

/// A launch for `app` in st-mary with patient 123, minted by `ehr`.
pub fn mint(w: &TestApp, app: &str, more: &[(&str, &str)]) -> String {
    let mut form = vec![
        ("tenant", "st-mary"),
        ("app_client_id", app),
        ("patient", "123"),
    ];
    form.extend_from_slice(more);
    let r = mint_as(w, "ehr", &form);
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert_eq!(body["expires_in"], 300, "{body}");
    body["launch"].as_str().unwrap().to_string()
}

/// The error and its description `/authorize` redirects back with, before
/// any sign-in, or None when the request goes on to the sign-in.
pub fn authorize_error(
    w: &TestApp,
    client: &str,
    extra: &[(&str, &str)],
) -> Option<(String, String)> {
    let mut b = Browser::new(&w.server);
    let res = b.get(&w.authorize_url(client, &pkce(), extra));
    assert_eq!(res.status, 303, "{}", res.body);
    let loc = res.location();
    if loc.starts_with("/login") {
        return None;
    }
    Some((
        param(loc, "error").unwrap_or_else(|| panic!("no error: {loc}")),
        param(loc, "error_description").unwrap_or_default(),
    ))
}

/// Sign `user` in for `client` with `extra`: the final redirect's error and
/// description, or the token response.
pub fn sign_in(
    w: &TestApp,
    client: &str,
    user: &str,
    extra: &[(&str, &str)],
) -> Result<Value, (String, String)> {
    let mut b = w.browser();
    let p = pkce();
    let res = b.authorize(&w.authorize_url(client, &p, extra), user);
    let loc = res.location().to_string();
    if let Some(code) = param(&loc, "code") {
        return Ok(w.tokens(client, &code, &p));
    }
    Err((
        param(&loc, "error").unwrap_or_else(|| panic!("neither code nor error: {loc}")),
        param(&loc, "error_description").unwrap_or_default(),
    ))
}
