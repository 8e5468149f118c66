//! Self-service sessions over real HTTP, on every backend: the account page
//! lists where the account is signed in; signing out another session (or all
//! others) ends it, its non-offline grants with it, and is audited.

mod common;

use common::Backend;
use common::app::TestApp;
use common::oidc::{Browser, hidden};
use serde_json::Value;

fn world(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .user("alice")
        .first_party("app", "openid offline_access", &[])
        .start()
}

/// A new browser signed in through the app: it, and the token response.
fn app_session(w: &TestApp, scope: &str) -> (Browser, Value) {
    w.sign_in("app", "alice", &[("scope", scope)])
}

fn active(w: &TestApp, token: &str) -> bool {
    w.active("app", token)
}

fn silent(w: &TestApp, b: &mut Browser) -> Option<String> {
    w.silent(b, "app")
}

fn signing_out_other_sessions_ends_them_and_their_grants(backend: Backend) {
    let w = world(backend);
    let (mut other, t) = app_session(&w, "openid");
    let (mut offline, t_offline) = app_session(&w, "openid offline_access");
    assert!(active(&w, t["access_token"].as_str().unwrap()));

    // The account page, in a third browser, lists all three, this one first.
    let mut me = Browser::new(&w.server);
    let res = me.account_sign_in("alice");
    assert_eq!(res.location(), "/account");
    let page = me.get("/account");
    assert!(page.body.contains("Where you are signed in"));
    assert_eq!(
        page.body.matches("Sign out this session").count(),
        2,
        "{}",
        page.body
    );
    let first = page.body.find("This browser").unwrap();
    assert!(first < page.body.find("Sign out this session").unwrap());

    // One session, by its sid: the offline grant outlives it.
    let sids: Vec<String> = page
        .body
        .split("name=\"sid\" value=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect();
    let offline_sid = oidc_sid(&t_offline);
    assert!(sids.contains(&offline_sid));
    let res = me.post(
        "/account",
        &[
            ("csrf", &hidden(&page.body, "csrf")),
            ("action", "end_session"),
            ("sid", &offline_sid),
        ],
    );
    assert!(res.body.contains("Signed out 1 session."), "{}", res.body);
    assert_eq!(silent(&w, &mut offline).as_deref(), Some("login_required"));
    let r = w.refresh("app", t_offline["refresh_token"].as_str().unwrap());
    assert_eq!(
        r.status, 200,
        "offline_access outlives the sign-in: {}",
        r.body
    );

    // All others: the remaining one ends, and its (online) grant with it.
    let page = me.get("/account");
    let res = me.post(
        "/account",
        &[
            ("csrf", &hidden(&page.body, "csrf")),
            ("action", "end_other_sessions"),
        ],
    );
    assert!(res.body.contains("Signed out 1 session."), "{}", res.body);
    assert_eq!(silent(&w, &mut other).as_deref(), Some("login_required"));
    assert!(
        !active(&w, t["access_token"].as_str().unwrap()),
        "the session's grant ended with it"
    );
    // This browser is still signed in.
    assert_eq!(me.get("/account").status, 200);
    assert_eq!(w.env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'session.ended' AND reason = 'self'"), 2);
}

per_backend!(signing_out_other_sessions_ends_them_and_their_grants);

fn oidc_sid(t: &Value) -> String {
    use base64::Engine;
    let payload = t["id_token"].as_str().unwrap().split('.').nth(1).unwrap();
    let c: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    c["sid"].as_str().unwrap().to_string()
}

fn the_cli_lists_and_ends_a_users_sessions(backend: Backend) {
    let w = world(backend);
    let (mut one, t1) = app_session(&w, "openid");
    let (mut two, _) = app_session(&w, "openid");
    let page: Value =
        serde_json::from_str(&w.env.ok(&["session", "list", "alice", "--json"], None)).unwrap();
    let live: Vec<&Value> = page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["live"] == true)
        .collect();
    assert_eq!(live.len(), 2, "{page}");
    let table = w.env.ok(&["session", "list", "alice"], None);
    assert!(table.contains("SID") && table.contains("live"), "{table}");

    // One by sid, then the rest; a bare revoke is a usage error.
    let sid = oidc_sid(&t1);
    w.env.ok(&["session", "revoke", "alice", &sid], None);
    // A sid may begin with `-` (base64url): still a sid, not an option.
    let out = w.env.fails(
        &["session", "revoke", "alice", "-AAAAAAAAAAAAAAAAAAAAA"],
        None,
    );
    assert!(!out.contains("unexpected argument"), "{out}");
    assert_eq!(silent(&w, &mut one).as_deref(), Some("login_required"));
    assert_eq!(silent(&w, &mut two).as_deref(), Some("code"));
    w.env.fails(&["session", "revoke", "alice"], None);
    let out = w.env.ok(&["session", "revoke", "alice", "--all"], None);
    assert!(out.contains("1 session(s)"), "{out}");
    assert_eq!(silent(&w, &mut two).as_deref(), Some("login_required"));
}

per_backend!(the_cli_lists_and_ends_a_users_sessions);

/// Only the scope `offline_access` itself lets a grant outlive its session:
/// a scope that merely contains the word (an API's `api:offline_access`)
/// ends with the sign-in like any other.
fn only_the_offline_access_scope_outlives_the_session(backend: Backend) {
    let w = TestApp::new(backend)
        .user("alice")
        .first_party("app", "openid api:offline_access", &[])
        .start();
    let (_b, t) = w.sign_in("app", "alice", &[("scope", "openid api:offline_access")]);
    let token = t["access_token"].as_str().unwrap();
    assert!(w.active("app", token));
    let mut me = Browser::new(&w.server);
    me.account_sign_in("alice");
    let page = me.get("/account");
    let res = me.post(
        "/account",
        &[
            ("csrf", &hidden(&page.body, "csrf")),
            ("action", "end_session"),
            ("sid", &oidc_sid(&t)),
        ],
    );
    assert!(res.body.contains("Signed out 1 session."), "{}", res.body);
    assert!(
        !w.active("app", token),
        "a grant without offline_access ends with its session"
    );
}

per_backend!(only_the_offline_access_scope_outlives_the_session);
