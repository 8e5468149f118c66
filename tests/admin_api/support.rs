//! The world of an admin API test, signing in through the pages (with a TOTP
//! code computed here), and calling the API.

use std::collections::HashMap;

use crate::common::oidc::{self, Browser, REDIRECT, Res, basic, hidden, param, pkce, post_form};
use crate::common::totp::{mid_step, totp};
use crate::common::{PASSWORD, Server, TestEnv};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

pub const CLIENT: &str = "console";
pub const PROBLEM: &str = "application/problem+json";

pub struct World {
    pub env: TestEnv,
    pub server: Server,
    pub secret: String,
    pub admin: String,
    pub alice: String,
}

pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn world(backend: crate::common::Backend) -> World {
    let env = TestEnv::new(backend);
    // The first administrator, as a new deployment bootstraps it.
    let out = env.ok(
        &[
            "user",
            "add",
            "admin",
            "--role",
            "ward-admin",
            "--tenant",
            "ward",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    let admin = parse(&out)["id"].as_str().unwrap().to_string();
    let alice = oidc::user(&env, "alice");
    let secret = oidc::client(
        &env,
        CLIENT,
        &[
            "--type",
            "confidential",
            "--redirect-uri",
            REDIRECT,
            "--first-party",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "client_credentials",
            "--scope",
            "openid profile email api",
        ],
    )
    .unwrap();
    // Long enough access tokens for the whole test; the sign-in's age is what the API checks.
    let server = oidc::serve_with_issuer(&env, &[("WARD_TOKENS_ACCESS_TOKEN_SECONDS", "900")]);
    World {
        env,
        server,
        secret,
        admin,
        alice,
    }
}

pub fn claims(jwt: &str) -> Value {
    parse(
        &String::from_utf8(
            URL_SAFE_NO_PAD
                .decode(jwt.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap(),
    )
}

/// Follow the redirects back to the client and redeem the code: the token response.
pub fn finish(w: &World, b: &mut Browser, mut res: Res, p: &oidc::Pkce) -> Value {
    while res.status == 303 && res.location().starts_with('/') {
        res = b.get(res.location());
    }
    let code = param(res.location(), "code")
        .unwrap_or_else(|| panic!("no code: {} {}", res.status, res.body));
    let t = post_form(
        &w.server,
        "/token",
        Some(&basic(CLIENT, &w.secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
        ],
    );
    assert_eq!(t.status, 200, "{}", t.body);
    t.json()
}

/// Sign in through the pages: the password, then, when given the app's secret,
/// a TOTP code. Returns the browser (signed in) and the token response.
pub fn sign_in(w: &World, username: &str, totp_secret: Option<&str>) -> (Browser, Value) {
    let p = pkce();
    let (mut b, interaction, csrf) =
        oidc::on_login_page(&w.server, CLIENT, &p, &[("scope", "openid profile")]);
    let mut res = b.sign_in(&interaction, &csrf, username, PASSWORD);
    assert_eq!(res.status, 303, "{}", res.body);
    if let Some(secret) = totp_secret {
        let at = res.location().to_string();
        assert!(at.starts_with("/login/verify"), "{at}");
        let page = b.get(&at);
        // The step after the enrolment's: accepted (±1 step) and not a replay.
        let code = totp(secret, mid_step() + 30);
        res = b.post(
            "/login/verify",
            &[
                ("interaction", &hidden(&page.body, "interaction")),
                ("csrf", &hidden(&page.body, "csrf")),
                ("method", "totp"),
                ("code", &code),
            ],
        );
        assert_eq!(res.status, 303, "{}", res.body);
    }
    let tokens = finish(w, &mut b, res, &p);
    (b, tokens)
}

/// Enrol an authenticator app on the account pages of a signed-in browser.
pub fn enrol_totp(b: &mut Browser) -> String {
    let page = b.get("/account/totp");
    assert_eq!(page.status, 200, "{}", page.body);
    let start = page.body.find("<code id=\"totp-secret\">").unwrap() + 23;
    let secret = page.body[start..]
        .split("</code>")
        .next()
        .unwrap()
        .to_string();
    let res = b.post(
        "/account/totp",
        &[
            ("csrf", &hidden(&page.body, "csrf")),
            ("code", &totp(&secret, mid_step())),
        ],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    secret
}

/// A user's aal1 (password) token, then their aal2 (password + TOTP) token.
pub fn tokens(w: &World, username: &str) -> (String, String) {
    let (mut b, weak) = sign_in(w, username, None);
    assert_eq!(
        claims(weak["access_token"].as_str().unwrap())["acr"],
        "aal1"
    );
    let secret = enrol_totp(&mut b);
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
pub fn call(w: &World, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Res {
    call_as(
        w,
        method,
        path,
        token,
        body.map(|b| ("application/json", b)),
    )
}

pub fn call_as(
    w: &World,
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
pub fn audit(w: &World, token: &str, query: &str) -> Vec<Value> {
    ok(
        call(w, "GET", &format!("/audit?{query}"), Some(token), None),
        200,
    )["records"]
        .as_array()
        .unwrap()
        .clone()
}
