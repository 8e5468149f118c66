//! RP-Initiated Logout 1.0 over real HTTP, on every backend: with an
//! id_token_hint the session ends at once and the browser goes to the
//! registered post-logout URI with `state`; without one Ward asks first; an
//! unregistered URI is never redirected to; after logout `prompt=none` is
//! `login_required`.

mod common;

use common::Backend;
use common::app::TestApp;
use common::oidc::{Browser, hidden};

const BYE: &str = "http://127.0.0.1:9999/bye";

fn world(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .user("alice")
        .first_party("app", "openid", &["--post-logout-redirect-uri", BYE])
        .start()
}

/// A signed-in browser and its ID token.
fn signed_in(w: &TestApp) -> (Browser, String) {
    let (b, t) = w.sign_in("app", "alice", &[("scope", "openid")]);
    (b, t["id_token"].as_str().unwrap().to_string())
}

fn silent(w: &TestApp, b: &mut Browser) -> Option<String> {
    w.silent(b, "app")
}

fn query(pairs: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(pairs);
    q.finish()
}

fn logout_with_a_hint_ends_the_session_and_returns_to_the_client(backend: Backend) {
    let w = world(backend);
    let (mut b, id_token) = signed_in(&w);
    assert_eq!(silent(&w, &mut b).as_deref(), Some("code"), "signed in");
    // Discovery advertises the endpoint.
    let d = common::get(&w.server.url("/.well-known/openid-configuration")).2;
    assert!(
        d.contains(&format!(
            "\"end_session_endpoint\":\"{}/logout\"",
            w.server.url("").trim_end_matches('/')
        )),
        "{d}"
    );

    // An unregistered URI: an error page, never a redirect, and the session lives on.
    let res = b.get(&format!(
        "/logout?{}",
        query(&[
            ("id_token_hint", &id_token),
            (
                "post_logout_redirect_uri",
                "http://127.0.0.1:9999/elsewhere"
            )
        ])
    ));
    assert_eq!(res.status, 400);
    assert!(!res.headers.contains_key("location"));
    assert_eq!(silent(&w, &mut b).as_deref(), Some("code"));
    // A client_id contradicting the hint: refused too.
    let res = b.get(&format!(
        "/logout?{}",
        query(&[("id_token_hint", &id_token), ("client_id", "other")])
    ));
    assert_eq!(res.status, 400);

    let res = b.get(&format!(
        "/logout?{}",
        query(&[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", BYE),
            ("state", "s-1"),
            ("ui_locales", "en")
        ])
    ));
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), format!("{BYE}?state=s-1"));
    assert_eq!(silent(&w, &mut b).as_deref(), Some("login_required"));
    assert_eq!(w.env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'session.ended' AND reason = 'rp_logout'"), 1);
}

per_backend!(logout_with_a_hint_ends_the_session_and_returns_to_the_client);

fn without_a_hint_ward_asks_first(backend: Backend) {
    let w = world(backend);
    let (mut b, _) = signed_in(&w);
    let res = b.get(&format!(
        "/logout?{}",
        query(&[
            ("client_id", "app"),
            ("post_logout_redirect_uri", BYE),
            ("state", "s-2")
        ])
    ));
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("Sign out?"));
    assert_eq!(
        silent(&w, &mut b).as_deref(),
        Some("code"),
        "asking ends nothing"
    );
    // A forged confirmation is refused.
    let forged = b.post("/logout/confirm", &[("csrf", "00"), ("client_id", "app")]);
    assert_eq!(forged.status, 403);
    let page = b.get(&format!(
        "/logout?{}",
        query(&[
            ("client_id", "app"),
            ("post_logout_redirect_uri", BYE),
            ("state", "s-2")
        ])
    ));
    let res = b.post(
        "/logout/confirm",
        &[
            ("csrf", &hidden(&page.body, "csrf")),
            ("client_id", "app"),
            ("post_logout_redirect_uri", BYE),
            ("state", "s-2"),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), format!("{BYE}?state=s-2"));
    assert_eq!(silent(&w, &mut b).as_deref(), Some("login_required"));
    // A forged hint is no hint: ask.
    let (mut b, id_token) = signed_in(&w);
    let mut parts: Vec<&str> = id_token.split('.').collect();
    parts[2] = "AAAA";
    let res = b.get(&format!(
        "/logout?{}",
        query(&[("id_token_hint", &parts.join("."))])
    ));
    assert_eq!(res.status, 200);
    assert!(res.body.contains("Sign out?"));
}

per_backend!(without_a_hint_ward_asks_first);
