//! The world of an admin API test, signing in through the pages (with a TOTP
//! code computed here), and calling the API.

use std::collections::HashMap;

use crate::common::PASSWORD;
use crate::common::app::TestApp;
use crate::common::oidc::{Browser, REDIRECT, Res, hidden, pkce};
use crate::common::totp::{mid_step, totp};
use serde_json::Value;

pub use crate::common::app::claims;

/// Ward's admin console client (`admin_console_client_id`): the admin API
/// takes only its tokens, with the `ward:admin` scope.
pub const CLIENT: &str = "ward-console";
pub const PROBLEM: &str = "application/problem+json";

pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The first administrator `admin` (as a new deployment bootstraps it),
/// `alice`, and the first-party console client.
pub fn world(backend: crate::common::Backend) -> TestApp {
    TestApp::new(backend)
        .user_with("admin", &["--role", "ward-admin", "--tenant", "ward"])
        .user("alice")
        .confidential(
            CLIENT,
            REDIRECT,
            &[
                "--first-party",
                "--grant-type",
                "authorization_code",
                "--grant-type",
                "client_credentials",
                "--scope",
                "openid profile email api ward:admin",
            ],
        )
        // Long enough access tokens for the whole test; the sign-in's age is what the API checks.
        .serve_env("WARD_TOKENS_ACCESS_TOKEN_SECONDS", "900")
        .start()
}

/// Sign in through the pages: the password, then, when given the app's secret,
/// a TOTP code. Returns the browser (signed in) and the token response.
pub fn sign_in(w: &TestApp, username: &str, totp_secret: Option<&str>) -> (Browser, Value) {
    let p = pkce();
    let mut b = w.browser();
    let res = b.get(&w.authorize_url(CLIENT, &p, &[("scope", "openid profile ward:admin")]));
    let page = b.get(res.location());
    assert_eq!(page.status, 200, "{}", page.body);
    let (interaction, csrf) = (
        hidden(&page.body, "interaction"),
        hidden(&page.body, "csrf"),
    );
    let mut res = b.sign_in(&interaction, &csrf, username, PASSWORD);
    assert_eq!(res.status, 303, "{}", res.body);
    if let Some(secret) = totp_secret {
        // The step after the enrolment's: accepted (±1 step) and not a replay.
        res = b.then_second_factor(&res, "totp", &totp(secret, mid_step() + 30));
        assert_eq!(res.status, 303, "{}", res.body);
    }
    let tokens = w.finish(&mut b, res, CLIENT, &p);
    (b, tokens)
}

/// A user's aal1 (password) token, then their aal2 (password + TOTP) token.
pub fn tokens(w: &TestApp, username: &str) -> (String, String) {
    let (mut b, weak) = sign_in(w, username, None);
    assert_eq!(
        claims(weak["access_token"].as_str().unwrap())["acr"],
        "aal1"
    );
    let secret = b.enrol_totp();
    let (_, strong) = sign_in(w, username, Some(&secret));
    assert_eq!(
        claims(strong["access_token"].as_str().unwrap())["acr"],
        "aal2"
    );
    (
        weak["access_token"].as_str().unwrap().to_string(),
        strong["access_token"].as_str().unwrap().to_string(),
    )
}

/// One admin API call; `body` is sent as JSON.
pub fn call(w: &TestApp, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Res {
    call_as(
        w,
        method,
        path,
        token,
        body.map(|b| ("application/json", b)),
    )
}

pub fn call_as(
    w: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &str)>,
) -> Res {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let url = if path.starts_with("/admin") {
        format!("{}{path}", w.server.base)
    } else {
        format!("{}/admin/api{path}", w.server.base)
    };
    let mut req = ureq::http::Request::builder().method(method).uri(&url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = match body {
        Some((ct, text)) => agent.run(
            req.header("content-type", ct)
                .body(text.to_string())
                .unwrap(),
        ),
        None => agent.run(req.body(()).unwrap()),
    };
    let mut res = res.expect("request");
    let headers: HashMap<String, String> = res
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Res {
        status: res.status().as_u16(),
        headers,
        body: res.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// A success with JSON, or panic with the body.
pub fn ok(res: Res, status: u16) -> Value {
    assert_eq!(res.status, status, "{}", res.body);
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    }
}

/// An RFC 9457 problem with this status (and, when given, this type suffix).
pub fn problem(res: &Res, status: u16, kind: Option<&str>) -> Value {
    assert_eq!(res.status, status, "{}", res.body);
    assert_eq!(
        res.headers.get("content-type").map(String::as_str),
        Some(PROBLEM),
        "{}",
        res.body
    );
    let p = res.json();
    assert_eq!(p["status"], status);
    assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
    match kind {
        Some(k) => assert_eq!(p["type"], format!("https://ward.dev/problems/{k}"), "{p}"),
        None => assert_eq!(p["type"], "about:blank", "{p}"),
    }
    p
}

/// The newest audit records of a type (through the API), newest first.
pub fn audit(w: &TestApp, token: &str, query: &str) -> Vec<Value> {
    ok(
        call(w, "GET", &format!("/audit?{query}"), Some(token), None),
        200,
    )["records"]
        .as_array()
        .unwrap()
        .clone()
}
