//! Consent records and data minimisation over real HTTP, on every backend
//! (docs/privacy.md): a consent given on the page is recorded with the
//! client's purpose and the claims shared, shown on Connected apps and
//! withdrawn there; the client's refresh token then fails, its back-channel
//! logout arrives and the next authorization asks again. A new purpose, a
//! wider request or a wider allow-list asks again; a client never receives a
//! claim outside its allow-list; withdrawing twice is a clear error.

mod common;

use std::time::Duration;

use common::app::{TestApp, claims, id_claims};
use common::logout_rp::{Rp, verify};
use common::oidc::{Browser, Pkce, Res, hidden, pkce};
use common::{Backend, PASSWORD};
use serde_json::Value;

const PURPOSE: &str = "Book and move your clinic appointments.";

fn world(backend: Backend, rp: &Rp) -> TestApp {
    TestApp::new(backend)
        .user("alice")
        .confidential(
            "rp",
            common::oidc::REDIRECT,
            &[
                "--name",
                "Clinic Portal",
                "--scope",
                "openid profile email offline_access",
                "--purpose",
                PURPOSE,
                "--id-token-alg",
                "ES256",
                "--backchannel-logout-uri",
                &rp.uri(),
            ],
        )
        .confidential(
            "narrow",
            common::oidc::REDIRECT,
            &["--scope", "openid profile email", "--claims", "email"],
        )
        .start()
}

/// Walk an authorization of `client` in `b` (signing in as alice when asked)
/// up to the consent page; None when it went straight back to the client.
fn consent_page(
    w: &TestApp,
    b: &mut Browser,
    client: &str,
    p: &Pkce,
    extra: &[(&str, &str)],
) -> Option<Res> {
    let mut res = b.get(&w.authorize_url(client, p, extra));
    for _ in 0..6 {
        assert_eq!(res.status, 303, "{}", res.body);
        let loc = res.location().to_string();
        if loc.starts_with("/login") {
            let page = b.get(&loc);
            let form = [
                ("interaction", hidden(&page.body, "interaction")),
                ("csrf", hidden(&page.body, "csrf")),
                ("username", "alice".to_string()),
                ("password", PASSWORD.to_string()),
            ];
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            res = b.post("/login", &form);
        } else if loc.starts_with("/consent") {
            let page = b.get(&loc);
            assert_eq!(page.status, 200, "{}", page.body);
            return Some(page);
        } else if loc.starts_with('/') {
            res = b.get(&loc);
        } else {
            return None;
        }
    }
    panic!("too many redirects");
}

/// Allow on the consent page, follow to the client and redeem: the tokens.
fn allow(w: &TestApp, b: &mut Browser, page: &Res, client: &str, p: &Pkce) -> Value {
    let (interaction, csrf) = (
        hidden(&page.body, "interaction"),
        hidden(&page.body, "csrf"),
    );
    let res = b.post(
        "/consent",
        &[
            ("interaction", &interaction),
            ("csrf", &csrf),
            ("decision", "approve"),
        ],
    );
    w.finish(b, res, client, p)
}

/// Consent to `scope` (plus `extra`) for `client` on the page: the tokens.
fn consent(w: &TestApp, b: &mut Browser, client: &str, extra: &[(&str, &str)]) -> Value {
    let p = pkce();
    let page = consent_page(w, b, client, &p, extra).expect("the consent page");
    allow(w, b, &page, client, &p)
}

fn userinfo(w: &TestApp, tokens: &Value) -> Value {
    let at = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = common::get_with(
        &w.server.url("/userinfo"),
        &[("authorization", &format!("Bearer {at}"))],
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Withdraw on `/account/apps`: the confirmation page, then its form.
fn withdraw_on_the_page(b: &mut Browser, client: &str) -> Res {
    let confirm = b.get(&format!("/account/apps/withdraw?client={client}"));
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(
        confirm.body.contains("Withdraw the access of"),
        "{}",
        confirm.body
    );
    let csrf = hidden(&confirm.body, "csrf");
    b.post(
        "/account/apps/withdraw",
        &[("csrf", &csrf), ("client", client)],
    )
}

fn a_consent_is_shown_withdrawn_and_asked_for_again(backend: Backend) {
    let rp = Rp::start();
    let w = world(backend, &rp);
    let mut b = w.browser();
    let p = pkce();
    let scope = [("scope", "openid email offline_access")];
    let page = consent_page(&w, &mut b, "rp", &p, &scope).expect("asked first");
    // The page says why, and exactly what the app will receive.
    assert!(page.body.contains(PURPOSE), "{}", page.body);
    assert!(page.body.contains("Your email address"), "{}", page.body);
    assert!(!page.body.contains("Your full name"), "{}", page.body);
    let t = allow(&w, &mut b, &page, "rp", &p);
    let id = id_claims(&t);
    let refresh = t["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    // The record: version 1, from the page, with the purpose and the claims.
    let list: Value =
        serde_json::from_str(&w.env.ok(&["user", "consents", "alice", "--json"], None)).unwrap();
    let c = &list[0];
    assert_eq!(
        (c["client_id"].as_str(), c["version"].as_i64()),
        (Some("rp"), Some(1)),
        "{list}"
    );
    assert_eq!(c["given_by"], "page");
    assert_eq!(c["purpose"], PURPOSE);
    assert_eq!(c["claims"], serde_json::json!(["email", "email_verified"]));
    assert_eq!(c["policy_version"], "1");
    assert!(c["withdrawn_at"].is_null());
    // Remembered: the same request goes straight back to the client.
    assert!(consent_page(&w, &mut b, "rp", &pkce(), &scope).is_none());
    // Connected apps lists it: name, purpose, what it receives.
    let apps = b.get("/account/apps");
    assert_eq!(apps.status, 200, "{}", apps.body);
    for text in [
        "Clinic Portal",
        PURPOSE,
        "Your email address",
        "Withdraw access of Clinic Portal",
    ] {
        assert!(apps.body.contains(text), "{text}: {}", apps.body);
    }
    // A form from elsewhere (no CSRF token) withdraws nothing.
    let forged = b.post(
        "/account/apps/withdraw",
        &[("csrf", "00"), ("client", "rp")],
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    let done = withdraw_on_the_page(&mut b, "rp");
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Access withdrawn"), "{}", done.body);
    assert!(
        !done.body.contains("Withdraw access of Clinic Portal"),
        "{}",
        done.body
    );
    // The refresh token is dead (RFC 6749 §5.2).
    let res = w.refresh("rp", &refresh);
    assert_eq!(
        (res.status, res.json()["error"].as_str()),
        (400, Some("invalid_grant")),
        "{}",
        res.body
    );
    // The RP hears of it on its back-channel, for the session it saw.
    let token = rp
        .wait_token(Duration::from_secs(10))
        .expect("a logout token");
    let logout = verify(&w.server, &token);
    assert_eq!((&logout["sub"], &logout["sid"]), (&id["sub"], &id["sid"]));
    assert_eq!(logout["aud"], "rp");
    // The next authorization asks again.
    assert!(consent_page(&w, &mut b, "rp", &pkce(), &scope).is_some());
    // Withdrawing again, from a second tab: a clear message, nothing changes.
    let csrf = hidden(&b.get("/account").body, "csrf");
    let again = b.post(
        "/account/apps/withdraw",
        &[("csrf", &csrf), ("client", "rp")],
    );
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("already withdrawn"), "{}", again.body);
    let c =
        &serde_json::from_str::<Value>(&w.env.ok(&["user", "consents", "alice", "--json"], None))
            .unwrap()[0];
    assert_eq!(
        (c["withdrawn_by"].as_str(), c["version"].as_i64()),
        (Some("account"), Some(1)),
        "{c}"
    );
    assert_eq!(
        w.env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'consent.withdraw' AND outcome = 'success'"),
        1
    );
}

fn a_new_purpose_or_a_wider_request_asks_again(backend: Backend) {
    let rp = Rp::start();
    let w = world(backend, &rp);
    let mut b = w.browser();
    consent(&w, &mut b, "rp", &[("scope", "openid email")]);
    assert!(consent_page(&w, &mut b, "rp", &pkce(), &[("scope", "openid email")]).is_none());
    // A scope more: asked, and the page lists the new claims.
    let p = pkce();
    let page = consent_page(&w, &mut b, "rp", &p, &[("scope", "openid email profile")])
        .expect("asked for the wider scope");
    assert!(page.body.contains("Your full name"), "{}", page.body);
    allow(&w, &mut b, &page, "rp", &p);
    // A claim more through the `claims` parameter (OIDC Core §5.5) than the
    // scopes consented cover: here none; `phone` is not the client's.
    let wider = r#"{"userinfo":{"name":null,"phone_number":null}}"#;
    assert!(
        consent_page(
            &w,
            &mut b,
            "rp",
            &pkce(),
            &[("scope", "openid email"), ("claims", wider)]
        )
        .is_none()
    );
    // The purpose changes: everyone is asked again (after the client cache's 2 s).
    w.env.ok(
        &[
            "client",
            "update",
            "rp",
            "--purpose",
            "Share your results with your GP.",
        ],
        None,
    );
    std::thread::sleep(Duration::from_millis(2100));
    let p = pkce();
    let page = consent_page(&w, &mut b, "rp", &p, &[("scope", "openid email")])
        .expect("a new purpose asks");
    assert!(
        page.body.contains("Share your results with your GP."),
        "{}",
        page.body
    );
    allow(&w, &mut b, &page, "rp", &p);
    let history: Value = serde_json::from_str(
        &w.env
            .ok(&["user", "consents", "alice", "--history", "--json"], None),
    )
    .unwrap();
    let versions: Vec<(i64, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["version"].as_i64().unwrap(),
                c["purpose"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (1, PURPOSE.to_string()),
            (2, PURPOSE.to_string()),
            (3, "Share your results with your GP.".to_string())
        ]
    );
}

fn a_client_never_receives_a_claim_outside_its_allow_list(backend: Backend) {
    let rp = Rp::start();
    let w = world(backend, &rp);
    let mut b = w.browser();
    let asked = r#"{"id_token":{"name":null,"email":null,"preferred_username":null},"userinfo":{"name":null,"given_name":null}}"#;
    let extra = [("scope", "openid profile email"), ("claims", asked)];
    let p = pkce();
    let page = consent_page(&w, &mut b, "narrow", &p, &extra).expect("the consent page");
    // The page shows what will be shared: the email address, nothing else.
    assert!(page.body.contains("Your email address"), "{}", page.body);
    for absent in ["Your full name", "Your username", "Whether your email"] {
        assert!(!page.body.contains(absent), "{absent}: {}", page.body);
    }
    let t = allow(&w, &mut b, &page, "narrow", &p);
    let id = id_claims(&t);
    assert_eq!(id["email"], "alice@example.org", "{id}");
    for absent in ["name", "preferred_username", "email_verified"] {
        assert!(id.get(absent).is_none(), "{absent} in the ID token: {id}");
    }
    let info = userinfo(&w, &t);
    assert_eq!(info["email"], "alice@example.org", "{info}");
    for absent in [
        "name",
        "given_name",
        "preferred_username",
        "updated_at",
        "email_verified",
    ] {
        assert!(info.get(absent).is_none(), "{absent} from userinfo: {info}");
    }
    assert_eq!(
        claims(t["access_token"].as_str().unwrap())["scope"],
        "openid profile email"
    );
    // The list grows by `name`: asked again, and then the name is released.
    w.env.ok(
        &["client", "update", "narrow", "--claims", "email,name"],
        None,
    );
    std::thread::sleep(Duration::from_millis(2100));
    let p = pkce();
    let page = consent_page(&w, &mut b, "narrow", &p, &extra).expect("a wider list asks");
    assert!(page.body.contains("Your full name"), "{}", page.body);
    let t = allow(&w, &mut b, &page, "narrow", &p);
    assert_eq!(id_claims(&t)["name"], "Test Person");
    assert_eq!(userinfo(&w, &t)["name"], "Test Person");
    // Narrowed again: the next userinfo answer leaves it out at once.
    w.env
        .ok(&["client", "update", "narrow", "--claims", "email"], None);
    std::thread::sleep(Duration::from_millis(2100));
    assert!(userinfo(&w, &t).get("name").is_none());
}

fn withdrawing_from_the_cli_twice_is_a_clear_error(backend: Backend) {
    let rp = Rp::start();
    let w = world(backend, &rp);
    let mut b = w.browser();
    let t = consent(
        &w,
        &mut b,
        "rp",
        &[("scope", "openid email offline_access")],
    );
    let out = w.env.ok(&["user", "withdraw-consent", "alice", "rp"], None);
    assert!(out.contains("1 grant(s) revoked"), "{out}");
    let res = w.refresh("rp", t["refresh_token"].as_str().unwrap());
    assert_eq!(res.json()["error"], "invalid_grant", "{}", res.body);
    let again = w
        .env
        .fails(&["user", "withdraw-consent", "alice", "rp"], None);
    assert!(again.contains("already withdrawn"), "{again}");
    let none = w
        .env
        .fails(&["user", "withdraw-consent", "alice", "narrow"], None);
    assert!(none.contains("no consent"), "{none}");
    let c =
        &serde_json::from_str::<Value>(&w.env.ok(&["user", "consents", "alice", "--json"], None))
            .unwrap()[0];
    assert_eq!(c["withdrawn_by"], "cli");
    // Bad registrations are refused with the reason, and nothing is stored.
    for (args, why) in [
        (&["--claims", "shoe_size"][..], "not a claim Ward knows"),
        (&["--claims", "phone_number"][..], "`phone` scope"),
        (&["--purpose", "two\nlines"][..], "control characters"),
    ] {
        let mut all = vec![
            "client",
            "add",
            "bad",
            "--type",
            "public",
            "--redirect-uri",
            common::oidc::REDIRECT,
        ];
        all.extend_from_slice(args);
        let err = w.env.fails(&all, None);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM clients WHERE id = 'bad'"),
        0
    );
    let err = w
        .env
        .fails(&["client", "update", "rp", "--claims", "address"], None);
    assert!(err.contains("`address` scope"), "{err}");
}

fn a_client_holding_only_an_offline_grant_hears_of_the_withdrawal(backend: Backend) {
    let rp = Rp::start();
    let w = world(backend, &rp);
    let mut b = w.browser();
    let t = consent(
        &w,
        &mut b,
        "rp",
        &[("scope", "openid email offline_access")],
    );
    let id = id_claims(&t);
    // The session ends: the RP hears of it for its sid, and the offline
    // grant lives on.
    w.env.ok(&["session", "revoke", "alice", "--all"], None);
    let ended = rp
        .wait_token(Duration::from_secs(10))
        .expect("the session's logout token");
    assert_eq!(verify(&w.server, &ended)["sid"], id["sid"]);
    rp.bodies.lock().unwrap().clear();
    let res = w.refresh("rp", t["refresh_token"].as_str().unwrap());
    assert_eq!(res.status, 200, "{}", res.body);
    let refresh = res.json()["refresh_token"].as_str().unwrap().to_string();
    // Withdrawn with no live session: one logout token about the person,
    // `sub` without `sid` (Back-Channel Logout 1.0 §2.4).
    let out = w.env.ok(&["user", "withdraw-consent", "alice", "rp"], None);
    assert!(out.contains("1 grant(s) revoked"), "{out}");
    let token = rp
        .wait_token(Duration::from_secs(10))
        .expect("a logout token for the offline grant");
    let logout = verify(&w.server, &token);
    assert_eq!(logout["sub"], id["sub"], "{logout}");
    assert!(logout.get("sid").is_none(), "{logout}");
    assert_eq!(logout["aud"], "rp");
    let res = w.refresh("rp", &refresh);
    assert_eq!(res.json()["error"], "invalid_grant", "{}", res.body);
    // Exactly one notice.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(rp.bodies.lock().unwrap().len(), 1);
}

per_backend!(
    a_consent_is_shown_withdrawn_and_asked_for_again,
    a_new_purpose_or_a_wider_request_asks_again,
    a_client_never_receives_a_claim_outside_its_allow_list,
    withdrawing_from_the_cli_twice_is_a_clear_error,
    a_client_holding_only_an_offline_grant_hears_of_the_withdrawal,
);
