//! The risk engine over real HTTP, on every backend: each signal changes the
//! outcome of a real sign-in or authorization request, and the audit trail
//! records the decision with its reasons (docs/risk.md).
//!
//! Addresses come from X-Forwarded-For (the test is the trusted proxy), so a
//! browser can "move" between networks on loopback.

mod common;

use common::app::{TestApp, id_claims};
use common::oidc::{Browser, Res, follow, param, pkce};
use common::totp::{mid_step, totp};
use common::{Backend, PASSWORD};
use serde_json::Value;

const PARIS_NET: &str = "198.51.100.7";
const NEW_YORK_NET: &str = "203.0.113.9";

fn world(backend: Backend) -> TestApp {
    let builder = TestApp::new(backend)
        .users(&["alice", "bob", "carol", "dave", "erin", "frank"])
        .first_party("app", "openid ehr:write", &[]);
    let geo = builder.dir().join("geo.csv");
    std::fs::write(
        &geo,
        "network,geoname_id,latitude,longitude\n\
         198.51.100.0/24,2988507,48.8566,2.3522\n\
         203.0.113.0/24,5128581,40.7128,-74.0060\n",
    )
    .unwrap();
    builder
        .serve_env("WARD_TRUSTED_PROXIES", "127.0.0.1/32")
        .serve_env("WARD_RISK_WEIGHTS_NEW_DEVICE", "50")
        .serve_env("WARD_RISK_WEIGHTS_NEW_NETWORK", "50")
        .serve_env("WARD_RISK_WEIGHTS_ACCOUNT_FAILURES", "50")
        .serve_env("WARD_RISK_WEIGHTS_ADDRESS_FAILURES", "50")
        .serve_env("WARD_RISK_WEIGHTS_TRUSTED_NETWORK", "-100")
        .serve_env("WARD_RISK_ADDRESS_FAILURES_THRESHOLD", "4")
        .serve_env("WARD_RISK_SENSITIVE_SCOPES", "ehr:write")
        .serve_env("WARD_RISK_ALLOW_NETWORKS", "10.0.0.0/8")
        .serve_env("WARD_RISK_DENY_NETWORKS", "192.0.2.128/25")
        .serve_env("WARD_RISK_GEOIP_FILE", &geo.display().to_string())
        .start()
}

fn browser_at(w: &TestApp, ip: &str) -> Browser {
    let mut b = Browser::new(&w.server);
    b.set_header("x-forwarded-for", ip);
    b.set_header("user-agent", "Firefox/140");
    b
}

/// Sign in through the app as `user` (password); the redirect to the app.
fn sign_in(w: &TestApp, b: &mut Browser, user: &str, scope: &str) -> Res {
    w.authorize(b, "app", user, &[("scope", scope)])
}

/// To the login page of a new request, then submit `password`: the answer.
fn try_password(w: &TestApp, b: &mut Browser, user: &str, password: &str) -> Res {
    let (interaction, csrf) = w.login_form(b, "app", &[("scope", "openid")]);
    b.sign_in(&interaction, &csrf, user, password)
}

/// The login page's error message.
fn login_error(res: &Res) -> String {
    res.body
        .split("id=\"login-error\">")
        .nth(1)
        .and_then(|r| r.split("</p>").next())
        .unwrap_or_else(|| panic!("no login error: {}", res.body))
        .to_string()
}

fn error_of(res: &Res) -> Option<String> {
    param(res.location(), "error")
}

/// The reason and details of the latest `kind` audit record about `user_id`.
fn audited(w: &TestApp, kind: &str, user_id: &str) -> Option<(String, Value)> {
    let records = w.env.audit_records();
    let last = records
        .iter()
        .rev()
        .find(|r| r["event_type"] == kind && r["subject_user"] == user_id)?;
    Some((
        last["reason"].as_str().unwrap_or_default().to_string(),
        serde_json::from_str(last["details"].as_str().unwrap()).unwrap(),
    ))
}

fn user_id(w: &TestApp, name: &str) -> String {
    let out = w.env.ok(&["user", "show", name, "--json"], None);
    serde_json::from_str::<Value>(&out).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn sign_in_signals_change_the_outcome_and_are_audited(backend: Backend) {
    let w = world(backend);

    // bob: a first sign-in has no history to differ from: allowed, nothing audited.
    let mut home = browser_at(&w, PARIS_NET);
    let res = sign_in(&w, &mut home, "bob", "openid");
    assert!(
        param(res.location(), "code").is_some(),
        "{}",
        res.location()
    );
    let bob = user_id(&w, "bob");
    assert_eq!(audited(&w, "risk.step_up", &bob), None);

    // A new browser (same network): step-up to aal2, which a
    // password-only account cannot give. Right after a correct password
    // the refusal looks exactly like a wrong password (no oracle).
    let mut other = browser_at(&w, PARIS_NET);
    let wrong = try_password(&w, &mut other, "bob", "not the password");
    let res = try_password(&w, &mut other, "bob", PASSWORD);
    assert_eq!((res.status, wrong.status), (401, 401));
    assert_eq!(login_error(&res), login_error(&wrong));
    let refused = w
        .env
        .audit_records()
        .into_iter()
        .filter(|r| {
            r["event_type"] == "login.password"
                && r["reason"] == "risk_refused"
                && r["details"].as_str().unwrap().contains("bob")
        })
        .count();
    assert_eq!(refused, 1, "counted as a failure");
    let (reason, details) = audited(&w, "risk.step_up", &bob).expect("audited");
    assert_eq!(reason, "new_device");
    assert_eq!(details["stage"], "sign_in");
    assert_eq!(details["required_acr"], "aal2");
    assert_eq!(details["score"], 50);
    assert!(
        details["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("browser"),
        "{details}"
    );

    // A trusted network outweighs the new browser: allowed.
    let mut ward_pc = browser_at(&w, "10.1.2.3");
    let res = sign_in(&w, &mut ward_pc, "bob", "openid");
    assert!(
        param(res.location(), "code").is_some(),
        "{}",
        res.location()
    );

    // carol: Paris, then minutes later the same browser in New York: a
    // new network and impossible travel (GeoIP), audited together.
    let mut laptop = browser_at(&w, PARIS_NET);
    assert!(
        param(
            sign_in(&w, &mut laptop, "carol", "openid").location(),
            "code"
        )
        .is_some()
    );
    laptop.set_header("x-forwarded-for", NEW_YORK_NET);
    let res = sign_in(&w, &mut laptop, "carol", "openid");
    // 50 (network) + 60 (travel) = 110 ≥ 100: refused outright.
    assert_eq!(error_of(&res).as_deref(), Some("access_denied"));
    let (reason, details) = audited(&w, "risk.denied", &user_id(&w, "carol")).expect("audited");
    assert_eq!(reason, "new_network,impossible_travel");
    assert_eq!(details["score"], 110);

    // dave: three wrong passwords, then the right one, in his own
    // browser on his own network: recent failures on the account.
    let mut b = browser_at(&w, "198.51.100.20");
    assert!(param(sign_in(&w, &mut b, "dave", "openid").location(), "code").is_some());
    let (i, c) = w.login_form(&mut b, "app", &[("scope", "openid"), ("prompt", "login")]);
    for _ in 0..3 {
        assert_eq!(b.sign_in(&i, &c, "dave", "wrong password").status, 401);
    }
    let res = b.sign_in(&i, &c, "dave", PASSWORD);
    assert_eq!(res.status, 401, "answered like a wrong password");
    let (reason, details) = audited(&w, "risk.step_up", &user_id(&w, "dave")).expect("audited");
    assert_eq!(reason, "account_failures");
    assert_eq!(details["stage"], "sign_in");

    // erin: four failures from one address (for other accounts), then
    // erin, already signed in there, comes back to the app.
    let mut b = browser_at(&w, "198.51.100.99");
    assert!(param(sign_in(&w, &mut b, "erin", "openid").location(), "code").is_some());
    let mut attacker = browser_at(&w, "198.51.100.99");
    let (i, c) = w.login_form(&mut attacker, "app", &[("scope", "openid")]);
    for who in ["nobody1", "nobody2", "nobody3", "nobody4"] {
        assert_eq!(attacker.sign_in(&i, &c, who, "guess").status, 401);
    }
    let res = b.get(&w.authorize_url("app", &pkce(), &[("scope", "openid")]));
    let res = follow(&mut b, res);
    assert_eq!(
        error_of(&res).as_deref(),
        Some("unmet_authentication_requirements")
    );
    let (reason, _) = audited(&w, "risk.step_up", &user_id(&w, "erin")).expect("audited");
    assert_eq!(reason, "address_failures");

    // frank: a denied network is refused whatever else is true (after a
    // password: like a wrong password).
    let mut b = browser_at(&w, "192.0.2.200");
    let res = try_password(&w, &mut b, "frank", PASSWORD);
    assert_eq!(res.status, 401);
    let (reason, _) = audited(&w, "risk.denied", &user_id(&w, "frank")).expect("audited");
    assert!(reason.starts_with("denied_network"), "{reason}");
}

per_backend!(sign_in_signals_change_the_outcome_and_are_audited);

fn session_signals_ask_for_more_proof(backend: Backend) {
    let w = world(backend);
    let alice = user_id(&w, "alice");
    // A password session, then an authenticator app enrolled on the account page.
    let mut b = browser_at(&w, PARIS_NET);
    let secret = b.password_session_with_totp("alice");

    // The (password) session is enough for an ordinary request.
    let res = b.get(&w.authorize_url("app", &pkce(), &[("scope", "openid")]));
    assert!(
        param(res.location(), "code").is_some(),
        "{}",
        res.location()
    );

    // A sensitive scope from a session with no strong sign-in: step-up
    // to aal2 (sensitive 40 + stale 30), asking only for the TOTP code.
    let p = pkce();
    let res = b.get(&w.authorize_url("app", &p, &[("scope", "openid ehr:write")]));
    let res = follow(&mut b, res);
    assert!(
        res.body.contains("name=\"code\""),
        "verify page: {}",
        res.body
    );
    let (reason, details) = audited(&w, "risk.step_up", &alice).expect("audited");
    assert_eq!(reason, "sensitive_request,stale_strong_auth");
    assert_eq!(details["stage"], "authorize");
    let res = b.second_factor(&res, "totp", &totp(&secret, mid_step() + 30));
    let res = follow(&mut b, res);
    let code = param(res.location(), "code").expect("a code after the step-up");
    let t = w.exchange("app", &code, &p.verifier);
    let id = id_claims(&t.json());
    assert_eq!(id["acr"], "aal2");
    assert!(id["amr"].as_array().unwrap().contains(&"otp".into()));

    // The same session cookie from another user agent: a fresh sign-in
    // is wanted even though the session is aal2 (its past proves nothing).
    let before = audit_count(&w, &alice);
    b.set_header("user-agent", "curl/8.0");
    let res = b.get(&w.authorize_url("app", &pkce(), &[("scope", "openid")]));
    assert!(res.location().starts_with("/login"), "{}", res.location());
    assert_eq!(audit_count(&w, &alice), before + 1);
    let (reason, details) = audited(&w, "risk.step_up", &alice).expect("audited");
    assert_eq!(reason, "user_agent_changed");
    assert_eq!(details["max_auth_age_seconds"], 0);
}

per_backend!(session_signals_ask_for_more_proof);

fn audit_count(w: &TestApp, user_id: &str) -> i64 {
    w.env.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event_type LIKE 'risk.%' AND subject_user = '{user_id}'"
    ))
}
