//! Step-up over real HTTP, on every backend: `acr_values`, an essential `acr`
//! in `claims` and a client's minimum acr; Ward asks only for the missing
//! factor, the new ID token carries the new acr, amr and auth_time, and a level
//! the account cannot reach is `unmet_authentication_requirements`.

mod common;

use common::app::{TestApp, amr, id_claims};
use common::oidc::{self, Browser, Res, follow, param, pkce};
use common::totp::{mid_step, totp};
use common::{Backend, PASSWORD};
use serde_json::Value;

fn world(backend: Backend) -> TestApp {
    let w = TestApp::new(backend)
        .users(&["alice", "bob"])
        .first_party("app", "openid", &[])
        .first_party("strict", "openid", &["--min-acr", "aal2"])
        .start();
    assert_eq!(w.secret("app").len(), w.secret("strict").len());
    w
}

fn id_token(w: &TestApp, res: &Res, p: &oidc::Pkce) -> Value {
    let code =
        param(res.location(), "code").unwrap_or_else(|| panic!("no code: {}", res.location()));
    id_claims(&w.tokens("app", &code, p))
}

fn step_up_from_password_to_password_and_totp(backend: Backend) {
    let w = world(backend);
    // A password session, then an authenticator app enrolled on the account page.
    let mut b = Browser::new(&w.server);
    let secret = b.password_session_with_totp("alice");

    // Without a requirement the session's password sign-in is enough.
    let p = pkce();
    let res = b.get(&w.authorize_url("app", &p, &[("scope", "openid")]));
    let res = follow(&mut b, res);
    let before = id_token(&w, &res, &p);
    assert_eq!(
        (before["acr"].as_str(), amr(&before)),
        (Some("aal1"), vec!["pwd".to_string()])
    );

    // prompt=none cannot step up.
    let res = b.get(&w.authorize_url(
        "app",
        &pkce(),
        &[
            ("scope", "openid"),
            ("acr_values", "aal2"),
            ("prompt", "none"),
        ],
    ));
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("login_required")
    );

    // acr_values=aal2: only the missing factor is asked for.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let p = pkce();
    let res = b.get(&w.authorize_url("app", &p, &[("scope", "openid"), ("acr_values", "aal2")]));
    let res = b.get(res.location());
    assert!(
        res.location().starts_with("/login/verify?"),
        "straight to the second factor: {}",
        res.location()
    );
    let page = b.get(res.location());
    assert!(
        page.body.contains("Code from your authenticator app")
            && !page.body.contains("current-password"),
        "{}",
        page.body
    );
    let res = b.second_factor(&page, "totp", &totp(&secret, mid_step() + 30));
    let res = follow(&mut b, res);
    let after = id_token(&w, &res, &p);
    assert_eq!(after["acr"], "aal2");
    assert_eq!(amr(&after), ["pwd", "otp", "mfa"]);
    assert!(
        after["auth_time"].as_i64() > before["auth_time"].as_i64(),
        "{before} {after}"
    );
    assert_ne!(
        after["sid"], before["sid"],
        "a new session id after a step-up"
    );

    // An essential acr in `claims` that the session now meets: no interaction.
    let p = pkce();
    let essential = r#"{"id_token":{"acr":{"essential":true,"values":["aal2"]}}}"#;
    let res = b.get(&w.authorize_url("app", &p, &[("scope", "openid"), ("claims", essential)]));
    let res = follow(&mut b, res);
    assert_eq!(id_token(&w, &res, &p)["acr"], "aal2");

    // phr: alice has no passkey, so the level cannot be met.
    let res = b.get(&w.authorize_url(
        "app",
        &pkce(),
        &[("scope", "openid"), ("acr_values", "phr")],
    ));
    let res = follow(&mut b, res);
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("unmet_authentication_requirements"),
        "{}",
        res.location()
    );
}

per_backend!(step_up_from_password_to_password_and_totp);

fn a_clients_minimum_acr_is_enforced(backend: Backend) {
    let w = world(backend);
    // bob has a password only: the strict client (min aal2) cannot be satisfied.
    let p = pkce();
    let (mut b, interaction, csrf) =
        oidc::on_login_page(&w.server, "strict", &p, &[("scope", "openid")]);
    let res = b.sign_in(&interaction, &csrf, "bob", PASSWORD);
    let res = follow(&mut b, res);
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("unmet_authentication_requirements"),
        "{}",
        res.location()
    );
    // The ordinary client is fine with the same account.
    let (mut b, interaction, csrf) =
        oidc::on_login_page(&w.server, "app", &p, &[("scope", "openid")]);
    let res = b.sign_in(&interaction, &csrf, "bob", PASSWORD);
    let res = follow(&mut b, res);
    assert!(param(res.location(), "code").is_some());
}

per_backend!(a_clients_minimum_acr_is_enforced);
