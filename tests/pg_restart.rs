//! Ward survives a PostgreSQL restart (issue #11, defect 1): during the outage
//! requests get 503 with Retry-After, never 500; once the database is back,
//! `/readyz` and `/token` answer 200 within 2 s without restarting Ward, under
//! load and on an idle node alike. The database is a private cluster of this
//! test's own (never the shared server on 5432).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::oidc::{self, REDIRECT, basic};
use common::pg_cluster::PgCluster;
use common::{Backend, Server, TestEnv};

struct Answer {
    at: Instant,
    status: u16,
    retry_after: bool,
}

fn token(server: &Server, secret: &str) -> Answer {
    let res = oidc::post_form(
        server,
        "/token",
        Some(&basic("svc", secret)),
        &[("grant_type", "client_credentials")],
    );
    Answer {
        at: Instant::now(),
        status: res.status,
        retry_after: res.headers.contains_key("retry-after"),
    }
}

fn ready(server: &Server) -> u16 {
    common::get(&server.url("/readyz")).0
}

/// Poll `f` every 50 ms until it answers 200; how long that took.
fn time_to_200(mut f: impl FnMut() -> u16, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if f() == 200 {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn ward_recovers_from_a_postgresql_restart() {
    let Some(pg) = PgCluster::start() else {
        eprintln!("skipped: PostgreSQL's server binaries are not installed");
        return;
    };
    // A temporary directory of its own, and the private cluster's database.
    let mut env = TestEnv::new(Backend::Sqlite);
    env.backend = Backend::Postgres;
    env.database_url = pg.create_database("ward");
    let secret = oidc::client(
        &env,
        "svc",
        &[
            "--type",
            "confidential",
            "--grant-type",
            "client_credentials",
            "--scope",
            "api",
            "--redirect-uri",
            REDIRECT,
        ],
    )
    .expect("a secret");
    let server = Arc::new(oidc::serve_with_issuer(&env, &[]));
    assert_eq!(token(&server, &secret).status, 200);

    // Under load: four clients request tokens throughout the restart.
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (server, secret, stop) = (server.clone(), secret.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                while !stop.load(Ordering::Relaxed) && answers.len() < 20_000 {
                    answers.push(token(&server, &secret));
                }
                answers
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let down = Instant::now();
    pg.stop();
    std::thread::sleep(Duration::from_secs(2));
    pg.start_again();
    let up = Instant::now();
    let readyz_after = time_to_200(|| ready(&server), Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let answers: Vec<Answer> = load
        .into_iter()
        .flat_map(|h| h.join().expect("load thread"))
        .collect();

    let unexpected: Vec<u16> = answers
        .iter()
        .map(|a| a.status)
        .filter(|s| *s != 200 && *s != 503)
        .collect();
    assert!(
        unexpected.is_empty(),
        "statuses other than 200 and 503: {unexpected:?}"
    );
    assert!(
        answers.iter().all(|a| a.status != 503 || a.retry_after),
        "a 503 without Retry-After"
    );
    let during = answers
        .iter()
        .filter(|a| a.at > down && a.at < up)
        .collect::<Vec<_>>();
    assert!(
        during.iter().any(|a| a.status == 503),
        "the outage was not seen ({} answers during it)",
        during.len()
    );
    let readyz_after = readyz_after.expect("/readyz never recovered");
    assert!(
        readyz_after <= Duration::from_secs(2),
        "/readyz took {readyz_after:?} to recover"
    );
    let late_failures = answers
        .iter()
        .filter(|a| a.at > up + Duration::from_secs(2) && a.status != 200)
        .count();
    assert_eq!(
        late_failures, 0,
        "/token still failing 2 s after the restart"
    );
    assert!(
        answers
            .iter()
            .any(|a| a.at > up && a.at <= up + Duration::from_secs(2) && a.status == 200),
        "no token within 2 s of the restart"
    );

    // An idle node: no request at all while the database crashes (immediate
    // shutdown, as after kill -9) and recovers. Its pooled connections are all
    // dead; the first requests afterwards must not be.
    std::thread::sleep(Duration::from_secs(1));
    pg.crash();
    std::thread::sleep(Duration::from_secs(1));
    pg.start_again();
    let first = token(&server, &secret);
    assert_eq!(first.status, 200, "the first token after an idle restart");
    let readyz_idle = time_to_200(|| ready(&server), Duration::from_secs(10));
    assert!(readyz_idle.is_some_and(|d| d <= Duration::from_secs(2)));

    // Nothing acknowledged was lost across the restart and the crash: every
    // 200 above is an issued token with its audit record, and the chain holds.
    drop(server);
    let issued =
        env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'token.issued'");
    let acknowledged = answers.iter().filter(|a| a.status == 200).count() as i64 + 2;
    assert!(
        issued >= acknowledged,
        "{acknowledged} tokens acknowledged, {issued} recorded"
    );
    env.ok(&["audit", "verify"], None);
}
