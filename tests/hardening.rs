//! Defects found by testing Ward from outside (issue #11): races between
//! parallel requests, slow request bodies, malformed request heads.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::oidc::{self, Browser, REDIRECT, param, pkce};
use common::{Backend, TestEnv};

per_backend!(parallel_first_authorizations_in_one_session);

/// Two tabs or a silent-renew iframe right after sign-in: several `/authorize`
/// requests of one session reach a client the session has not seen yet, at
/// once. Each gets a code; none gets `server_error` (the session's note of the
/// client was a look-then-insert that lost its race on PostgreSQL).
fn parallel_first_authorizations_in_one_session(backend: Backend) {
    let env = TestEnv::new(backend);
    oidc::user(&env, "alice");
    for id in ["portal", "renew"] {
        oidc::client(
            &env,
            id,
            &[
                "--type",
                "public",
                "--redirect-uri",
                REDIRECT,
                "--first-party",
                "--scope",
                "openid profile email offline_access",
            ],
        );
    }
    let server = oidc::serve_with_issuer(&env, &[]);
    let mut refused = Vec::new();
    for _ in 0..6 {
        let mut b = Browser::new(&server);
        let res = b.authorize(
            &oidc::authorize_url(&server, "portal", &pkce(), &[]),
            "alice",
        );
        assert!(
            param(res.location(), "code").is_some(),
            "{}",
            res.location()
        );
        let cookies = b.cookies.clone();
        let urls: Vec<String> = (0..8)
            .map(|_| oidc::authorize_url(&server, "renew", &pkce(), &[]))
            .collect();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(urls.len()));
        let handles: Vec<_> = urls
            .into_iter()
            .map(|url| {
                let mut tab = Browser::new(&server);
                tab.cookies = cookies.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    let res = tab.get(&url);
                    (res.status, res.headers.get("location").cloned())
                })
            })
            .collect();
        for h in handles {
            let (status, location) = h.join().expect("request thread");
            let location = location.unwrap_or_default();
            if status != 303 || param(&location, "code").is_none() {
                refused.push(format!("{status} {location}"));
            }
        }
    }
    assert!(
        refused.is_empty(),
        "parallel authorizations refused: {refused:?}"
    );
    // One note per session and client, however many requests raced.
    let notes = env.count("SELECT COUNT(*) AS n FROM session_clients WHERE client_id = 'renew'");
    assert_eq!(notes, 6);
}

/// A `POST /token` whose body trickles in a byte a second is answered 408
/// once `request_timeout_seconds` have passed, and the connection is closed:
/// a few hundred such clients cannot pin a node.
#[test]
fn a_slowly_sent_body_times_out() {
    let env = TestEnv::new(Backend::Sqlite);
    let server = oidc::serve_with_issuer(&env, &[("WARD_REQUEST_TIMEOUT_SECONDS", "2")]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    stream
        .write_all(
            format!(
                "POST /token HTTP/1.1\r\nHost: {addr}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let mut answer = Vec::new();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(12) {
        // One byte a second, as long as the server listens.
        let _ = stream.write_all(b"g");
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            match stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        if closed {
            break;
        }
    }
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "expected 408 after {elapsed:?}, got: {text}"
    );
    assert!(closed, "the connection stays open after the 408");
    assert!(
        elapsed < Duration::from_secs(6),
        "the body deadline of 2 s took {elapsed:?}"
    );
    assert!(text.contains("invalid_request"), "{text}");

    // A body that arrives in time is served as before.
    let res = oidc::post_form(&server, "/token", None, &[("grant_type", "nonsense")]);
    assert_eq!(res.status, 401, "{}", res.body);
    assert_eq!(res.json()["error"], "invalid_client");
}

/// Garbage request heads are the client's problem: they are counted in
/// `/metrics` and never logged at ERROR (anyone who reaches the port could
/// otherwise flood the error log).
#[test]
fn malformed_request_heads_are_counted_not_logged_as_errors() {
    let env = TestEnv::new(Backend::Sqlite);
    let mut server = oidc::serve_with_issuer(&env, &[("WARD_LOG", "info")]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let garbage: [&[u8]; 4] = [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET /\x01\x02 HTTP/1.1\r\n\r\n",
        b"POST /token HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    ];
    let sent = 40;
    for i in 0..sent {
        let mut s = TcpStream::connect(&addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(garbage[i % garbage.len()]).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
    let (status, _, metrics) = common::get(&server.url("/metrics"));
    assert_eq!(status, 200);
    let counted: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ward_http_client_connection_errors_total "))
        .expect("the counter is exported")
        .trim()
        .parse()
        .unwrap();
    assert!(counted >= sent as u64, "counted {counted} of {sent}");
    server.terminate();
    let log = server.stderr();
    assert!(
        !log.contains("request parse error") && !log.contains("ERROR"),
        "client errors reached the log:\n{log}"
    );
}
