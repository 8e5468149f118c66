//! Scaling out (#15): two Ward nodes on one PostgreSQL database behind a
//! round-robin proxy on loopback, as docs/deploy.md describes. A sign-in on
//! node A is redeemed on node B; a logout on A reaches the relying party's
//! back-channel endpoint exactly once although both nodes run the sender; and
//! one node killed (SIGKILL) under load costs no request once the proxy has
//! dropped it. PostgreSQL only: SQLite is one node's embedded database.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::logout_rp::{Rp, verify};
use common::oidc::{self, Browser, REDIRECT, basic, free_port, param, pkce, post_form};
use common::proxy::Proxy;
use common::{Backend, Server, TestEnv};

/// A node listening on `port`, with the proxy's URL as its issuer.
fn node(env: &TestEnv, port: u16, issuer: &str) -> Server {
    let listen = format!("127.0.0.1:{port}");
    Server::start(env, &[("WARD_LISTEN", &listen), ("WARD_ISSUER", issuer)])
}

/// Fields drop in order: the nodes stop before their database is dropped.
struct Cluster {
    a: Server,
    b: Server,
    proxy: Proxy,
    env: TestEnv,
    app_secret: String,
    svc_secret: String,
}

fn cluster(rp: &Rp) -> Option<Cluster> {
    if !common::postgres_configured() {
        eprintln!("skipped: WARD_TEST_DATABASE_URL is not set (several nodes need PostgreSQL)");
        return None;
    }
    let env = TestEnv::new(Backend::Postgres);
    oidc::user(&env, "alice");
    let app_secret = oidc::confidential(
        &env,
        "app",
        REDIRECT,
        &[
            "--first-party",
            "--scope",
            "openid",
            "--id-token-alg",
            "ES256",
            "--backchannel-logout-uri",
            &rp.uri(),
        ],
    )
    .unwrap();
    let svc_secret = oidc::service_client(&env, "svc", &[]).unwrap();
    let (port_a, port_b) = (free_port(), free_port());
    let proxy = Proxy::start(&[port_a, port_b]);
    let issuer = proxy.url();
    let a = node(&env, port_a, &issuer);
    let b = node(&env, port_b, &issuer);
    Some(Cluster {
        a,
        b,
        proxy,
        env,
        app_secret,
        svc_secret,
    })
}

/// Sign-in on A, code exchange on B, refresh and userinfo across both, logout
/// on A: one logout token at the RP.
#[test]
fn a_session_spans_the_nodes_and_logout_is_sent_once() {
    let rp = Rp::start();
    let Some(c) = cluster(&rp) else { return };
    let mut browser = Browser::new(&c.a);
    let p = pkce();
    let url = oidc::authorize_url(&c.a, "app", &p, &[("scope", "openid")]);
    let res = browser.authorize(&url, "alice");
    let code = param(res.location(), "code").expect("a code from node A");

    let auth = basic("app", &c.app_secret);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", p.verifier.as_str()),
    ];
    let tokens = post_form(&c.b, "/token", Some(&auth), &form);
    assert_eq!(
        tokens.status, 200,
        "node B redeems A's code: {}",
        tokens.body
    );
    let tokens = tokens.json();
    let id = oidc::jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], c.proxy.url(), "one issuer for every node");
    // B's access token is good on A.
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, body) = common::get_with(
        &c.a.url("/userinfo"),
        &[("authorization", &format!("Bearer {access}"))],
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(id["sub"].as_str().unwrap()), "{body}");
    // The code is spent on every node: replayed on A it is refused, and the
    // tokens B issued for it are revoked everywhere (RFC 6749 §4.1.2).
    let again = post_form(&c.a, "/token", Some(&auth), &form);
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(again.json()["error"], "invalid_grant");
    let (status, _, body) = common::get_with(
        &c.b.url("/userinfo"),
        &[("authorization", &format!("Bearer {access}"))],
    );
    assert_eq!(status, 401, "revoked on B by a replay on A: {body}");

    // Logout on A; both nodes run the back-channel sender.
    let page = browser.get("/account");
    let csrf = oidc::hidden(&page.body, "csrf");
    let out = browser.post("/account", &[("csrf", &csrf), ("action", "sign_out")]);
    assert_eq!(out.status, 303, "{}", out.body);
    let token = rp
        .wait_token(Duration::from_secs(10))
        .expect("a logout token");
    let claims = verify(&c.b, &token);
    assert_eq!(claims["sid"], id["sid"]);
    assert_eq!(claims["iss"], c.proxy.url());
    // Give the other node's sender several of its one-second rounds.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        rp.bodies.lock().unwrap().len(),
        1,
        "exactly one notification although two nodes send"
    );
    assert_eq!(
        c.env
            .count("SELECT COUNT(*) AS n FROM logout_outbox WHERE delivered_at IS NOT NULL"),
        1
    );
}

/// One client_credentials request through the proxy on a fresh connection
/// (so that each request is balanced anew): whether it got a token.
fn token_through(proxy_url: &str, auth: &str) -> bool {
    common::http()
        .post(&format!("{proxy_url}/token"))
        .header("authorization", auth)
        .header("connection", "close")
        .send_form([("grant_type", "client_credentials"), ("scope", "api")])
        .map(|mut r| {
            r.status() == 200
                && r.body_mut()
                    .read_to_string()
                    .is_ok_and(|b| b.contains("access_token"))
        })
        .unwrap_or(false)
}

/// Node B is killed with SIGKILL while four clients request tokens through
/// the proxy: every request that starts after the proxy dropped B succeeds.
#[test]
fn a_node_killed_under_load_costs_no_request_once_dropped() {
    let rp = Rp::start();
    let Some(mut c) = cluster(&rp) else { return };
    let auth = basic("svc", &c.svc_secret);
    let url = c.proxy.url();
    // (started, succeeded) for every request.
    let log: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (log, stop, url, auth) = (log.clone(), stop.clone(), url.clone(), auth.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let ok = token_through(&url, &auth);
                    log.lock().unwrap().push((started, ok));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let served_before = c.proxy.served();
    assert!(
        served_before.iter().all(|&n| n > 0),
        "both nodes serve: {served_before:?}"
    );
    c.b.child.kill().expect("SIGKILL node B");
    c.b.child.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    let dropped = c.proxy.dropped_at(1).expect("the proxy dropped node B");
    assert!(
        c.proxy.dropped_at(0).is_none(),
        "node A stays in the rotation"
    );
    let log = log.lock().unwrap();
    let after: Vec<_> = log.iter().filter(|(t, _)| *t >= dropped).collect();
    assert!(
        after.len() >= 20,
        "load went on after the drop: {}",
        after.len()
    );
    let failed = after.iter().filter(|(_, ok)| !ok).count();
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed after the drop",
        after.len()
    );
    let before_kill = log.iter().filter(|(t, ok)| *t < dropped && *ok).count();
    assert!(before_kill >= 20, "load before the kill: {before_kill}");
    // Node A is still healthy and serves on.
    assert!(token_through(&c.a.base, &auth));
    assert_eq!(common::get(&c.a.url("/readyz")).0, 200);
}
