//! Password hashing must not stall the async workers: while ten argon2id
//! verifications run, `/healthz` still answers promptly. Its own test binary so
//! that no other test competes for the two cores.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestEnv, get};
use ward::app::{AppContext, OpenOptions};

#[test]
fn ten_password_verifications_do_not_delay_healthz() {
    let env = TestEnv::new(Backend::Sqlite).with_env("WARD_LISTEN", "127.0.0.1:0");
    let ctx = AppContext::open(env.config(), OpenOptions { migrate: true }).unwrap();
    let hash = ctx.passwords.hash(common::PASSWORD).unwrap();

    let (tx, rx) = std::sync::mpsc::channel();
    let server_ctx = ctx.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let bound = ward::web::bind(server_ctx.clone()).unwrap();
            tx.send((bound.addr, bound.server.handle())).unwrap();
            // The verifications run on the same runtime as the server, as login handlers will.
            let _ = bound.server.await;
        })
    });
    let (addr, _handle) = rx.recv().unwrap();
    let url = format!("http://{addr}/healthz");

    let mut baseline = Duration::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(get(&url).0, 200);
        baseline = baseline.max(t.elapsed());
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let verifications = {
        let ctx = ctx.clone();
        let hash = hash.clone();
        runtime.spawn(async move {
            let started = Instant::now();
            let all = (0..10).map(|_| {
                ctx.passwords
                    .verify_async(common::PASSWORD.to_string(), Some(hash.clone()))
            });
            let results = futures_util::future::join_all(all).await;
            (results, started.elapsed())
        })
    };

    let mut worst = Duration::ZERO;
    let mut probes = 0;
    while !verifications.is_finished() {
        let t = Instant::now();
        assert_eq!(get(&url).0, 200);
        worst = worst.max(t.elapsed());
        probes += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    let (results, took) = runtime.block_on(verifications).unwrap();
    assert!(results.iter().all(|ok| *ok), "every verification succeeded");
    assert!(
        probes >= 3,
        "healthz was probed while the hashes ran ({probes} probes in {took:?})"
    );
    assert!(
        worst <= baseline + Duration::from_millis(50),
        "healthz took {worst:?} during hashing (baseline {baseline:?}, hashing took {took:?})"
    );
}
