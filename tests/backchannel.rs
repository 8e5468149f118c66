//! OpenID Connect Back-Channel Logout 1.0 over real HTTP, on every backend: a
//! test RP on loopback receives the logout token when the session ends and
//! verifies it (signature against /jwks, `events`, `sid`, no `nonce`); a
//! notification to an RP that is down is retried and survives a Ward restart.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::Backend;
use common::app::{TestApp, id_claims};
use common::logout_rp::{Rp, verify};
use common::oidc::{self, Browser};
use serde_json::Value;

fn setup(backend: Backend, rp: &Rp) -> TestApp {
    let uri = format!("http://127.0.0.1:{}/backchannel", rp.port);
    TestApp::new(backend)
        .user("alice")
        .first_party(
            "app",
            "openid",
            &["--id-token-alg", "ES256", "--backchannel-logout-uri", &uri],
        )
        .start()
}

/// Sign in through the app; the browser and the ID token's claims.
fn sign_in(w: &TestApp) -> (Browser, Value) {
    let (b, t) = w.sign_in("app", "alice", &[("scope", "openid")]);
    (b, id_claims(&t))
}

fn sign_out(b: &mut Browser) {
    let page = b.get("/account");
    let csrf = oidc::hidden(&page.body, "csrf");
    assert_eq!(
        b.post("/account", &[("csrf", &csrf), ("action", "sign_out")])
            .status,
        303
    );
}

fn the_rp_receives_a_verifiable_logout_token(backend: Backend) {
    let rp = Rp::start();
    let w = setup(backend, &rp);
    let (env, server) = (&w.env, &w.server);
    let d = common::get(&server.url("/.well-known/openid-configuration")).2;
    assert!(d.contains("\"backchannel_logout_supported\":true"), "{d}");
    let (mut b, id) = sign_in(&w);
    sign_out(&mut b);
    let token = rp
        .wait_token(Duration::from_secs(10))
        .expect("a logout token");
    let c = verify(server, &token);
    assert_eq!(c["iss"], id["iss"]);
    assert_eq!(c["aud"], "app");
    assert_eq!(c["sub"], id["sub"]);
    assert_eq!(c["sid"], id["sid"], "the sid of the session the RP saw");
    assert!(c["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(
        c.get("nonce").is_none(),
        "a logout token never has a nonce (§2.4)"
    );
    assert!(c["jti"].is_string() && c["iat"].is_i64());
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM logout_outbox WHERE delivered_at IS NOT NULL"),
        1
    );
}

per_backend!(the_rp_receives_a_verifiable_logout_token);

fn notifications_are_retried_and_survive_a_restart(backend: Backend) {
    let rp = Rp::start();
    rp.down.store(true, Ordering::SeqCst);
    let mut w = setup(backend, &rp);
    let (mut b, id) = sign_in(&w);
    sign_out(&mut b);
    // The RP is down: Ward keeps trying.
    let deadline = Instant::now() + Duration::from_secs(10);
    while w
        .env
        .count("SELECT COALESCE(MAX(attempts), 0) AS n FROM logout_outbox")
        < 2
    {
        assert!(Instant::now() < deadline, "no retries");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM logout_outbox WHERE delivered_at IS NOT NULL"),
        0
    );
    // Ward restarts; the RP comes back; the notification arrives.
    w.restart_with(|| rp.down.store(false, Ordering::SeqCst));
    let token = rp
        .wait_token(Duration::from_secs(20))
        .expect("delivered after the restart");
    assert_eq!(verify(&w.server, &token)["sid"], id["sid"]);
}

per_backend!(notifications_are_retried_and_survive_a_restart);
