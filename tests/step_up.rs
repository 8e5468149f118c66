//! Step-up over real HTTP, on every backend: `acr_values`, an essential `acr`
//! in `claims` and a client's minimum acr; Ward asks only for the missing
//! factor, the new ID token carries the new acr, amr and auth_time, and a level
//! the account cannot reach is `unmet_authentication_requirements`.

mod common;

use common::oidc::{
    self, Browser, REDIRECT, Res, authorize_url, basic, follow, hidden, jwt_claims, param, pkce,
    post_form,
};
use common::totp::{mid_step, totp};
use common::{PASSWORD, Server, TestEnv, backends};
use serde_json::Value;

struct World {
    server: Server,
    secret: String,
    _env: TestEnv,
}

fn world(backend: common::Backend) -> World {
    let env = TestEnv::new(backend);
    oidc::user(&env, "alice");
    oidc::user(&env, "bob");
    let args = |min: Option<&'static str>| {
        let mut a = vec![
            "--type",
            "confidential",
            "--redirect-uri",
            REDIRECT,
            "--first-party",
            "--scope",
            "openid",
        ];
        if let Some(m) = min {
            a.extend(["--min-acr", m]);
        }
        a
    };
    let secret = oidc::client(&env, "app", &args(None)).unwrap();
    let strict = oidc::client(&env, "strict", &args(Some("aal2"))).unwrap();
    assert_eq!(secret.len(), strict.len());
    let server = oidc::serve_with_issuer(&env, &[]);
    World {
        server,
        secret,
        _env: env,
    }
}

fn id_token(w: &World, res: &Res, p: &oidc::Pkce) -> Value {
    let code =
        param(res.location(), "code").unwrap_or_else(|| panic!("no code: {}", res.location()));
    let t = post_form(
        &w.server,
        "/token",
        Some(&basic("app", &w.secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
        ],
    );
    assert_eq!(t.status, 200, "{}", t.body);
    jwt_claims(t.json()["id_token"].as_str().unwrap())
}

fn amr(c: &Value) -> Vec<String> {
    c["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn step_up_from_password_to_password_and_totp() {
    for backend in backends() {
        let w = world(backend);
        // A password session, then an authenticator app enrolled on the account page.
        let mut b = Browser::new(&w.server);
        let secret = b.password_session_with_totp("alice");

        // Without a requirement the session's password sign-in is enough.
        let p = pkce();
        let res = b.get(&authorize_url(&w.server, "app", &p, &[("scope", "openid")]));
        let res = follow(&mut b, res);
        let before = id_token(&w, &res, &p);
        assert_eq!(
            (before["acr"].as_str(), amr(&before)),
            (Some("aal1"), vec!["pwd".to_string()])
        );

        // prompt=none cannot step up.
        let res = b.get(&authorize_url(
            &w.server,
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
        let res = b.get(&authorize_url(
            &w.server,
            "app",
            &p,
            &[("scope", "openid"), ("acr_values", "aal2")],
        ));
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
        let res = b.post(
            "/login/verify",
            &[
                ("interaction", &hidden(&page.body, "interaction")),
                ("csrf", &hidden(&page.body, "csrf")),
                ("method", "totp"),
                ("code", &totp(&secret, mid_step() + 30)),
            ],
        );
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
        let res = b.get(&authorize_url(
            &w.server,
            "app",
            &p,
            &[("scope", "openid"), ("claims", essential)],
        ));
        let res = follow(&mut b, res);
        assert_eq!(id_token(&w, &res, &p)["acr"], "aal2");

        // phr: alice has no passkey, so the level cannot be met.
        let res = b.get(&authorize_url(
            &w.server,
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
}

#[test]
fn a_clients_minimum_acr_is_enforced() {
    for backend in backends() {
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
}
