//! Password hashing must not stall the server: while ten real sign-ins (argon2id
//! at the OWASP parameters) run through POST /login, `/healthz` still answers
//! within 50 ms of its usual time. Its own test binary, so that no other test
//! competes for the two cores.

mod common;

use std::time::{Duration, Instant};

use common::oidc::{self, Browser, REDIRECT, pkce};
use common::{Backend, PASSWORD, TestEnv, get};

#[test]
fn ten_concurrent_sign_ins_do_not_delay_healthz() {
    let env = TestEnv::new(Backend::Sqlite);
    oidc::user(&env, "alice");
    oidc::confidential(&env, "rp", REDIRECT, &["--first-party"]);
    let server = oidc::serve_with_issuer(&env, &[]);
    let health = format!("{}/healthz", server.base);

    // Ten browsers, each on the login page of its own sign-in.
    let p = pkce();
    let mut pending: Vec<(Browser, String, String)> = (0..10)
        .map(|_| oidc::on_login_page(&server, "rp", &p, &[("scope", "openid")]))
        .collect();

    let mut baseline = Duration::ZERO;
    for _ in 0..10 {
        let t = Instant::now();
        assert_eq!(get(&health).0, 200);
        baseline = baseline.max(t.elapsed());
    }

    let started = Instant::now();
    let (worst, probes, statuses) = std::thread::scope(|s| {
        let logins: Vec<_> = pending
            .iter_mut()
            .map(|(b, interaction, csrf)| {
                s.spawn(move || b.sign_in(interaction, csrf, "alice", PASSWORD).status)
            })
            .collect();
        let mut worst = Duration::ZERO;
        let mut probes = 0;
        while logins.iter().any(|h| !h.is_finished()) {
            let t = Instant::now();
            assert_eq!(get(&health).0, 200);
            worst = worst.max(t.elapsed());
            probes += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        let statuses: Vec<u16> = logins.into_iter().map(|h| h.join().unwrap()).collect();
        (worst, probes, statuses)
    });
    let took = started.elapsed();
    assert!(
        statuses.iter().all(|s| *s == 303),
        "every sign-in succeeded: {statuses:?}"
    );
    assert!(
        probes >= 3,
        "healthz was probed while the hashes ran ({probes} probes in {took:?})"
    );
    assert!(
        worst <= baseline + Duration::from_millis(50),
        "healthz took {worst:?} during ten sign-ins (baseline {baseline:?}, sign-ins took {took:?})"
    );
}
