//! Session timeouts and shared workstations over real HTTP, on every
//! backend, with the server's clock moved by the test (`WARD_TEST_CLOCK_FILE`):
//! idle and absolute expiry, the sweep that ends sessions nobody returns to,
//! back-channel notifications for timed-out sessions, the short idle timeout
//! of shared workstations, "continue as …" and "switch user".

mod common;

use std::time::{Duration, Instant};

use common::Backend;
use common::app::TestApp;
use common::oidc::{Browser, Res, hidden, param, pkce};

const MINUTE: i64 = 60_000;

fn world(backend: Backend) -> TestApp {
    // Nobody listens there: the notifications stay in the outbox.
    let nobody = ["--backchannel-logout-uri", "http://127.0.0.1:9/logout"];
    let shared = [nobody[0], nobody[1], "--shared-workstation"];
    TestApp::new(backend)
        .users(&["alice", "bob"])
        .first_party("app", "openid", &nobody)
        .first_party("kiosk", "openid", &shared)
        .clock()
        .start()
}

fn expired(w: &TestApp, reason: &str) -> i64 {
    w.env.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'session.expired' AND reason = '{reason}'"
    ))
}

fn sign_in(w: &TestApp, b: &mut Browser, client: &str, user: &str) -> Res {
    w.authorize(b, client, user, &[("scope", "openid")])
}

/// `prompt=none`: a code, or the error the client gets.
fn silent(w: &TestApp, b: &mut Browser, client: &str) -> Result<String, String> {
    let res = b.get(&w.authorize_url(client, &pkce(), &[("scope", "openid"), ("prompt", "none")]));
    param(res.location(), "code").ok_or_else(|| param(res.location(), "error").unwrap())
}

fn idle_and_absolute_timeouts_end_sessions_and_notify_clients(backend: Backend) {
    let w = world(backend);

    // Idle: a password (aal1) session lives 30 minutes without use.
    let mut b = Browser::new(&w.server);
    assert!(param(sign_in(&w, &mut b, "app", "alice").location(), "code").is_some());
    w.advance(29 * MINUTE);
    assert!(silent(&w, &mut b, "app").is_ok(), "used within 30 minutes");
    w.advance(29 * MINUTE);
    assert!(
        silent(&w, &mut b, "app").is_ok(),
        "the use above reset the idle clock"
    );
    w.advance(31 * MINUTE);
    assert_eq!(silent(&w, &mut b, "app"), Err("login_required".into()));
    assert_eq!(expired(&w, "idle_timeout"), 1);
    // The client it reached is told (Back-Channel Logout), from the outbox.
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM logout_outbox WHERE client_id = 'app'"),
        1
    );

    // Absolute: used every 25 minutes, it still ends after 12 hours.
    let mut b = Browser::new(&w.server);
    assert!(param(sign_in(&w, &mut b, "app", "alice").location(), "code").is_some());
    let mut elapsed = 0;
    while elapsed + 25 * MINUTE < 12 * 60 * MINUTE {
        w.advance(25 * MINUTE);
        elapsed += 25 * MINUTE;
        assert!(silent(&w, &mut b, "app").is_ok(), "alive at {elapsed} ms");
    }
    w.advance(12 * 60 * MINUTE - elapsed);
    assert_eq!(silent(&w, &mut b, "app"), Err("login_required".into()));
    assert_eq!(expired(&w, "absolute_timeout"), 1);

    // A session nobody comes back to is ended by the sweep (every 5 s),
    // so its clients hear of it without the browser's help.
    let mut b = Browser::new(&w.server);
    assert!(param(sign_in(&w, &mut b, "app", "bob").location(), "code").is_some());
    let outbox = w.env.count("SELECT COUNT(*) AS n FROM logout_outbox");
    w.advance(31 * MINUTE);
    let deadline = Instant::now() + Duration::from_secs(15);
    while expired(&w, "idle_timeout") < 2 {
        assert!(
            Instant::now() < deadline,
            "the sweep did not end the session"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        w.env.count("SELECT COUNT(*) AS n FROM logout_outbox"),
        outbox + 1
    );
}

per_backend!(idle_and_absolute_timeouts_end_sessions_and_notify_clients);

fn shared_workstations_time_out_sooner_and_switch_user(backend: Backend) {
    let w = world(backend);

    // A sign-in through a shared-workstation client: idle after 5 minutes.
    let mut b = Browser::new(&w.server);
    assert!(param(sign_in(&w, &mut b, "kiosk", "alice").location(), "code").is_some());
    w.advance(6 * MINUTE);
    assert_eq!(silent(&w, &mut b, "kiosk"), Err("login_required".into()));

    // Alice signs in again; then another app is opened on the same
    // computer: whoever is at the keyboard is asked who they are.
    let mut b = Browser::new(&w.server);
    assert!(param(sign_in(&w, &mut b, "kiosk", "alice").location(), "code").is_some());
    let res = b.get(&w.authorize_url("app", &pkce(), &[("scope", "openid")]));
    assert!(
        res.location().starts_with("/continue"),
        "{}",
        res.location()
    );
    let page = b.get(res.location());
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Test Person"), "{}", page.body);
    let (i, c) = (
        hidden(&page.body, "interaction"),
        hidden(&page.body, "csrf"),
    );

    // "Continue" (alice is there): a code for alice.
    let res = b.post("/continue", &[("interaction", &i), ("csrf", &c)]);
    let res = b.get(res.location());
    assert!(
        param(res.location(), "code").is_some(),
        "{}",
        res.location()
    );

    // Next time it is bob at the keyboard: "switch user" ends alice's
    // session (both clients get logout tokens) and shows the sign-in form
    // of the same request, where bob signs in.
    let res = b.get(&w.authorize_url("app", &pkce(), &[("scope", "openid")]));
    let page = b.get(res.location());
    let (i, c) = (
        hidden(&page.body, "interaction"),
        hidden(&page.body, "csrf"),
    );
    let alice_cookie = b.cookies.get("ward_session").cloned();
    let outbox = w.env.count("SELECT COUNT(*) AS n FROM logout_outbox");
    let res = b.post("/switch-user", &[("interaction", &i), ("csrf", &c)]);
    assert!(
        res.location().starts_with("/login?interaction="),
        "{}",
        res.location()
    );
    assert_eq!(
        w.env.count("SELECT COUNT(*) AS n FROM logout_outbox"),
        outbox + 2,
        "kiosk and app"
    );
    assert_eq!(
        w.env.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'session.ended' AND reason = 'switch_user'"
        ),
        1
    );
    let login = b.get(res.location());
    assert_eq!(login.status, 200);
    let res = b.sign_in(
        &hidden(&login.body, "interaction"),
        &hidden(&login.body, "csrf"),
        "bob",
        common::PASSWORD,
    );
    let res = b.get(res.location());
    assert!(
        param(res.location(), "code").is_some(),
        "{}",
        res.location()
    );
    // A new session id for bob (no fixation).
    assert_ne!(b.cookies.get("ward_session").cloned(), alice_cookie);

    // A forged switch (no valid CSRF token) changes nothing.
    let res = b.post("/switch-user", &[("interaction", &i), ("csrf", "00")]);
    assert_eq!(res.status, 403);
}

per_backend!(shared_workstations_time_out_sooner_and_switch_user);
