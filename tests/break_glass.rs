//! Break-glass emergency access over real HTTP, on every backend: refused
//! without a fresh multi-factor sign-in or without a reason; with both it
//! works, shows in tokens, expires on time, and leaves its audit record, the
//! auditors' email and a review item.

mod common;

use std::time::{Duration, Instant};

use common::app::{TestApp, claims};
use common::oidc::{Browser, Res, hidden, pkce};
use common::totp::{mid_step, totp};
use common::{Backend, PASSWORD};
use serde_json::Value;

fn world(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .smtp()
        .user("dana")
        .ward(&[
            "policy",
            "grant",
            "dana",
            "physician",
            "--tenant",
            "st-mary",
        ])
        .first_party(
            "ehr",
            "openid roles offline_access",
            &[
                "--authz-resource",
                "ehr",
                "--authz-resource",
                "demographics",
            ],
        )
        .serve_env("WARD_BREAK_GLASS_SECONDS", "4")
        .serve_env("WARD_BREAK_GLASS_NOTIFY", "auditor@example.org")
        .start()
}

/// Sign in to /account; with `totp_secret`, answer the second factor too.
fn account_sign_in(w: &TestApp, totp_secret: Option<&str>) -> Browser {
    let mut b = Browser::new(&w.server);
    let mut res = b.account_sign_in("dana");
    if let Some(secret) = totp_secret {
        res = b.then_second_factor(&res, "totp", &totp(secret, mid_step() + 30));
    }
    assert_eq!(res.location(), "/account", "{}", res.body);
    b
}

fn break_glass(b: &mut Browser, reason: &str) -> Res {
    let page = b.get("/account");
    assert!(page.body.contains("Emergency access"), "{}", page.body);
    b.post(
        "/account",
        &[
            ("csrf", &hidden(&page.body, "csrf")),
            ("action", "break_glass"),
            ("tenant", "st-mary"),
            ("reason", reason),
        ],
    )
}

fn token(w: &TestApp) -> Value {
    let p = pkce();
    let mut b = Browser::new(&w.server);
    let url = w.authorize_url(
        "ehr",
        &p,
        &[
            ("scope", "openid roles offline_access"),
            ("tenant", "st-mary"),
        ],
    );
    let res = b.get(&url);
    let page = b.get(res.location());
    let res = b.sign_in(
        &hidden(&page.body, "interaction"),
        &hidden(&page.body, "csrf"),
        "dana",
        PASSWORD,
    );
    // Used before dana enrols an authenticator app: the password is the whole sign-in.
    w.finish(&mut b, res, "ehr", &p)
}

fn refresh(w: &TestApp, refresh_token: &str) -> Value {
    let r = w.refresh("ehr", refresh_token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn roles(t: &Value) -> Vec<String> {
    claims(t["access_token"].as_str().unwrap())["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn break_glass_needs_fresh_mfa_and_a_reason_and_is_bounded_audited_and_reviewable(
    backend: Backend,
) {
    let w = world(backend);
    // A token from before: physician only. Its refresh token follows dana's roles.
    let before = token(&w);
    assert_eq!(roles(&before), ["physician"]);

    // A password-only session is not a strong sign-in.
    let mut b = account_sign_in(&w, None);
    let res = break_glass(&mut b, "Unconscious patient, no consent possible");
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(
        res.body.contains("fresh sign-in with a second factor"),
        "{}",
        res.body
    );

    // Enrol an authenticator app, then sign in again with it.
    let secret = b.enrol_totp();
    let mut b = account_sign_in(&w, Some(&secret));
    // No reason, no access.
    let res = break_glass(&mut b, "urgent");
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Give the reason"), "{}", res.body);
    assert_eq!(w.env.count("SELECT COUNT(*) AS n FROM break_glass"), 0);
    // Fresh MFA and a reason: elevated.
    let res = break_glass(&mut b, "Unconscious patient in A&E, no consent possible");
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(
        res.body.contains("Emergency access at st-mary is on until"),
        "{}",
        res.body
    );

    // Tokens show it: the emergency role, its permissions (as far as the client sees), the claim.
    let during = refresh(&w, before["refresh_token"].as_str().unwrap());
    assert_eq!(roles(&during), ["emergency", "physician"]);
    let at = claims(during["access_token"].as_str().unwrap());
    assert_eq!(
        at["permissions"],
        serde_json::json!(["demographics:read", "ehr:read", "ehr:write"])
    );
    let bg = &at["break_glass"];
    assert!(
        bg["id"].is_string() && bg["exp"].as_i64().unwrap() > 0,
        "{at}"
    );

    // Its own audit event, with the reason; refusals audited too.
    assert_eq!(w.env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'break_glass.elevated' AND outcome = 'success'"), 1);
    assert_eq!(w.env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'break_glass.elevated' AND outcome = 'failure'"), 2);
    // The auditors are mailed.
    let mail = w
        .smtp()
        .wait_for("auditor@example.org", Duration::from_secs(10))
        .expect("auditor mail");
    let text = mail.text_body().unwrap();
    assert!(
        text.contains("dana") && text.contains("Unconscious patient in A&E"),
        "{text}"
    );
    // It is on the review list until signed off.
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM break_glass WHERE reviewed_at IS NULL"),
        1
    );

    // It ends on time (4 s here): the next token is back to physician only.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut t = during;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        t = refresh(&w, t["refresh_token"].as_str().unwrap());
        if roles(&t) == ["physician"] {
            assert!(
                claims(t["access_token"].as_str().unwrap())
                    .get("break_glass")
                    .is_none()
            );
            break;
        }
        assert!(Instant::now() < deadline, "the elevation did not end");
    }
}

per_backend!(break_glass_needs_fresh_mfa_and_a_reason_and_is_bounded_audited_and_reviewable);
