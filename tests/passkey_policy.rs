//! The passkey rules of the account page, over real HTTP on every backend:
//! the staff AAGUID allow-list (device-bound keys of approved models only),
//! the last passkey of a password-less account cannot be removed, and a
//! passkey's failures count against its account like every other factor.

mod common;

use serde_json::{Value, json};

use common::oidc::{Browser, hidden};
use common::webauthn::SoftAuthenticator;
use common::{Backend, Server, TestEnv};

/// The soft authenticator's AAGUID (tests/common/webauthn.rs).
const SOFT_AAGUID: &str = "77617264-2d73-6f66-742d-617574686e21";

struct Ward {
    server: Server,
    origin: String,
}

fn serve(env: &TestEnv, extra: &[(&str, &str)]) -> Ward {
    let (server, origin) = common::oidc::serve_on(env, "localhost", extra);
    Ward { server, origin }
}

/// POST JSON with the browser's cookies, keeping the cookies it sets; (status, body).
fn post_json(b: &mut Browser, path: &str, body: &Value) -> (u16, Value) {
    let res = b.post_json(path, body);
    (
        res.status,
        serde_json::from_str(&res.body).unwrap_or(Value::Null),
    )
}

/// Sign in to /account with the password; returns the page's CSRF token.
fn account(w: &Ward, username: &str) -> (Browser, String) {
    let mut b = Browser::new(&w.server);
    let res = b.account_sign_in(username);
    assert_eq!(res.location(), "/account", "{}", res.body);
    let page = b.get("/account");
    let csrf = hidden(&page.body, "csrf");
    (b, csrf)
}

/// Add a passkey on the account page: (status, body) of the finish call.
fn add_passkey(
    w: &Ward,
    b: &mut Browser,
    csrf: &str,
    authn: &mut SoftAuthenticator,
) -> (u16, Value) {
    let res = b.add_passkey(&w.origin, csrf, authn);
    (
        res.status,
        serde_json::from_str(&res.body).unwrap_or(Value::Null),
    )
}

fn staff_passkeys_must_be_device_bound_approved_models(backend: Backend) {
    let env = TestEnv::new(backend);
    common::oidc::user(&env, "nurse");
    // Only some other model is approved: the soft authenticator is refused.
    let w = serve(
        &env,
        &[(
            "WARD_PASSKEYS_STAFF_AAGUIDS",
            "cb69481e-8ff7-4039-93ec-0a2729a154a8",
        )],
    );
    let (mut b, csrf) = account(&w, "nurse");
    let (status, body) = add_passkey(&w, &mut b, &csrf, &mut SoftAuthenticator::new());
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("policy")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("approved model"));
    assert_eq!(env.count("SELECT COUNT(*) AS n FROM passkeys"), 0);
    // The refusal's audit record is written right after the answer.
    let audited = (0..50).any(|_| {
        let n = env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'passkey.register' AND reason = 'policy'");
        std::thread::sleep(std::time::Duration::from_millis(if n == 1 { 0 } else { 100 }));
        n == 1
    });
    assert!(audited, "the policy refusal is audited");
    drop(w);

    // Approved model: a synced (backup-eligible) credential is still refused; a device-bound one is taken.
    let w = serve(&env, &[("WARD_PASSKEYS_STAFF_AAGUIDS", SOFT_AAGUID)]);
    let (mut b, csrf) = account(&w, "nurse");
    let mut synced = SoftAuthenticator::new();
    synced.backup_eligible = true;
    synced.backup_state = true;
    assert_eq!(add_passkey(&w, &mut b, &csrf, &mut synced).0, 403);
    let (status, body) = add_passkey(&w, &mut b, &csrf, &mut SoftAuthenticator::new());
    assert_eq!(status, 200, "{body}");
    // The first second factor brings the recovery codes, once.
    assert_eq!(body["recovery_codes"].as_array().unwrap().len(), 10);
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM passkeys WHERE backup_eligible = FALSE"),
        1
    );
}

per_backend!(staff_passkeys_must_be_device_bound_approved_models);

/// The value of a `data-` attribute on the page.
fn data_attr(html: &str, name: &str) -> String {
    let marker = format!("data-{name}=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no data-{name}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

fn the_last_passkey_of_a_passwordless_account_stays(backend: Backend) {
    let env = TestEnv::new(backend);
    common::oidc::user(&env, "staff");
    common::oidc::client(
        &env,
        "app",
        &[
            "--type",
            "public",
            "--redirect-uri",
            common::oidc::REDIRECT,
            "--first-party",
        ],
    );
    let w = serve(&env, &[("WARD_SIGNUP_ENABLED", "true")]);

    // Staff (with a password) may remove their only passkey.
    let (mut b, csrf) = account(&w, "staff");
    assert_eq!(
        add_passkey(&w, &mut b, &csrf, &mut SoftAuthenticator::new()).0,
        200
    );
    let page = b.get("/account");
    let res = b.post(
        "/account",
        &[
            ("csrf", &csrf),
            ("action", "remove_passkey"),
            ("id", &hidden(&page.body, "id")),
        ],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("Passkey removed."));

    // A patient who signed up with a passkey only cannot remove it.
    let mut p = Browser::new(&w.server);
    let url = common::oidc::authorize_url(
        &w.server,
        "app",
        &common::oidc::pkce(),
        &[("scope", "openid")],
    );
    let res = p.get(
        &url.replace(&w.server.url(""), "")
            .replace("http://127.0.0.1", ""),
    );
    let interaction = res
        .location()
        .split("interaction=")
        .nth(1)
        .unwrap()
        .to_string();
    let page = p.get(&format!("/signup?interaction={interaction}"));
    assert_eq!(page.status, 200, "{}", page.body);
    let body = json!({ "interaction": interaction, "csrf": data_attr(&page.body, "csrf"), "username": "pat", "display_name": "", "email": "" });
    let (status, started) = post_json(&mut p, "/signup/start", &body);
    assert_eq!(status, 200, "{started}");
    let mut authn = SoftAuthenticator::new();
    let credential = authn.register(&started["options"], &w.origin);
    let (status, done) = post_json(
        &mut p,
        "/signup/finish",
        &json!({ "interaction": interaction, "csrf": data_attr(&page.body, "csrf"), "ceremony": started["ceremony"], "credential": credential }),
    );
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        done["redirect"]
            .as_str()
            .map(|r| r.starts_with("/authorize/resume")),
        Some(true)
    );
    let page = p.get("/account");
    assert_eq!(page.status, 200, "signed in by the sign-up: {}", page.body);
    let res = p.post(
        "/account",
        &[
            ("csrf", &hidden(&page.body, "csrf")),
            ("action", "remove_passkey"),
            ("id", &hidden(&page.body, "id")),
        ],
    );
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(
        res.body
            .contains("last passkey on an account without a password"),
        "{}",
        res.body
    );
    assert_eq!(env.count("SELECT COUNT(*) AS n FROM passkeys"), 1);
}

per_backend!(the_last_passkey_of_a_passwordless_account_stays);
