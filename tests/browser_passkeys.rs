mod common;

use std::time::Duration;

use common::browser::{Callback, Driver, serve_on_localhost};
use common::oidc::{self, authorize_url, pkce};
use common::{Backend, TestEnv};

#[test]
fn probe() {
    let Some(browser) = Driver::start() else {
        return;
    };
    let env = TestEnv::new(Backend::Sqlite);
    let callback = Callback::start();
    oidc::client(
        &env,
        "rp",
        &["--type", "confidential", "--redirect-uri", &callback.url, "--name", "Clinic Portal"],
    );
    let (server, issuer) = serve_on_localhost(&env, &[("WARD_SIGNUP_ENABLED", "true")]);
    let auth = browser.add_virtual_authenticator();
    if std::env::var("DEV_BYPASS_CSP").is_ok() {
        browser.cmd("POST", "/goog/cdp/execute", Some(serde_json::json!({"cmd":"Page.setBypassCSP","params":{"enabled":true}})));
    }
    let p = pkce();
    let url = authorize_url(&server, "rp", &p, &[("scope", "openid"), ("redirect_uri", &callback.url)])
        .replacen(&server.base, &issuer, 1);
    browser.goto(&url);
    browser.wait_url("login", |u| u.contains("/login?"));
    eprintln!("cond available: {}", browser.js("return 1"));
    browser.click("a[href^='/signup']");
    browser.wait_url("signup", |u| u.contains("/signup?"));
    eprintln!("log raw: {:?}", browser.try_cmd("POST", "/se/log", Some(serde_json::json!({"type":"browser"}))));
    let (_, h, _) = common::get(&browser.url().replacen(&issuer, &server.base, 1));
    eprintln!("headers: {h:?}");
    browser.type_into("#username", "pat");
    browser.type_into("#display_name", "Pat Patient");
    browser.click("#signup-form button[type=submit]");
    let u = browser.wait_url("after signup", |u| !u.contains("/signup?"));
    eprintln!("after signup: {u}");
    eprintln!("creds: {:?}", auth.credentials());
    browser.goto(&format!("{issuer}/account"));
    browser.wait_url("account", |u| u.ends_with("/account"));
    browser.click("form[action='/account'] input[value=sign_out] ~ button");
    browser.wait_url("signed out", |u| !u.ends_with("/account"));
    browser.cmd("POST", "/goog/cdp/execute", Some(serde_json::json!({"cmd":"Page.addScriptToEvaluateOnNewDocument","params":{"source": r#"
(function(){ var log = []; window.__wardGets = log; var orig = navigator.credentials.get.bind(navigator.credentials);
  navigator.credentials.get = function(o){ var e = {mediation: o && o.mediation || null, state: 'pending'}; log.push(e);
    return orig(o).then(function(c){ e.state='resolved'; return c; }, function(err){ e.state='rejected:'+err.name; throw err; }); }; })();
"#}})));
    let saved = auth.take_credentials();
    let p = pkce();
    let url = authorize_url(&server, "rp", &p, &[("scope", "openid"), ("redirect_uri", &callback.url)])
        .replacen(&server.base, &issuer, 1);
    browser.goto(&url);
    for i in 0..12 {
        eprintln!("{i}: {} gets={} err={}", browser.url(), browser.js("return JSON.stringify(window.__wardGets)"), browser.js("var e=document.getElementById('passkey-error'); return e? e.textContent : null"));
        std::thread::sleep(Duration::from_millis(250));
    }
    auth.restore(&saved);
    eprintln!("restored: {:?}", auth.credentials().len());
    for i in 0..12 {
        eprintln!("{i}: {} gets={}", browser.url(), browser.js("return window.__wardGets ? JSON.stringify(window.__wardGets) : null"));
        std::thread::sleep(Duration::from_millis(250));
    }
    browser.click("#username");
    for i in 0..12 {
        eprintln!("after focus {i}: {} gets={}", browser.url(), browser.js("return window.__wardGets ? JSON.stringify(window.__wardGets) : null"));
        std::thread::sleep(Duration::from_millis(250));
    }
    browser.click("#passkey-signin");
    for i in 0..12 {
        eprintln!("after button {i}: {} gets={}", browser.url(), browser.js("return window.__wardGets ? JSON.stringify(window.__wardGets) : null"));
        std::thread::sleep(Duration::from_millis(250));
    }
    drop(server);
}
