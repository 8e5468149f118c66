//! The real `ward serve` over HTTP, on every backend.

mod common;

use std::time::Duration;

use common::http_types::header;
use common::{Backend, Server, TestEnv, backends, get, get_with};

fn health_readiness_metrics_and_the_root_page(backend: Backend) {
    let env = TestEnv::new(backend);
    let server = env.serve();

    let (status, _, body) = get(&server.url("/healthz"));
    assert_eq!(status, 200, "{backend:?}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["status"],
        "ok"
    );

    let (status, _, body) = get(&server.url("/readyz"));
    assert_eq!(status, 200, "{backend:?}: {body}");
    assert!(body.contains("\"ready\""));

    let (status, headers, body) = get(&server.url("/"));
    assert_eq!(status, 200);
    assert!(
        header(&headers, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let text = body.replace("&#x2f;", "/");
    assert!(
        text.contains("http://localhost:8080/.well-known/openid-configuration"),
        "root page names the discovery URL"
    );
    assert!(
        text.contains("ward user add") && text.contains("ward client add"),
        "root page says what to do next"
    );
    assert!(body.contains(if backend == Backend::Postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    }));

    let (status, _, css) = get(&server.url("/static/ward.css"));
    assert_eq!(status, 200);
    assert!(css.contains("body"));

    let (status, headers, body) = get(&server.url("/metrics"));
    assert_eq!(status, 200);
    assert!(
        header(&headers, "content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        body.contains(r#"ward_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{body}"
    );
    assert!(
        body.contains(
            r#"ward_http_request_duration_seconds_bucket{method="GET",route="/readyz",status="200""#
        ),
        "{body}"
    );
}

per_backend!(health_readiness_metrics_and_the_root_page);

#[test]
fn every_response_carries_security_headers_and_a_request_id() {
    let env = TestEnv::new(Backend::Sqlite);
    let server = env.serve();
    let mut ids = Vec::new();
    for path in [
        "/",
        "/healthz",
        "/metrics",
        "/no/such/page",
        "/static/ward.css",
    ] {
        let (_, headers, _) = get(&server.url(path));
        let csp =
            header(&headers, "content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP"));
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(
            header(&headers, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header(&headers, "referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
        // Plain http on localhost: HSTS would be wrong here.
        assert_eq!(
            header(&headers, "strict-transport-security"),
            None,
            "{path}"
        );
        ids.push(
            header(&headers, "x-request-id")
                .unwrap_or_else(|| panic!("{path}: no request id"))
                .to_string(),
        );
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "request ids are unique");
}

#[test]
fn hsts_is_sent_when_the_issuer_is_https() {
    let env =
        TestEnv::new(Backend::Sqlite).with_env("WARD_ISSUER", "https://login.hospital.example");
    let server = env.serve();
    let (_, headers, _) = get(&server.url("/healthz"));
    assert!(
        header(&headers, "strict-transport-security")
            .unwrap()
            .contains("max-age=")
    );
}

#[test]
fn unknown_pages_get_an_html_page_or_json_never_a_stack_trace() {
    let env = TestEnv::new(Backend::Sqlite);
    let server = env.serve();
    let (status, headers, body) = get(&server.url("/does-not-exist"));
    assert_eq!(status, 404);
    assert!(
        header(&headers, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("There is nothing at this address"));
    let (status, _, body) = get_with(
        &server.url("/does-not-exist"),
        &[("accept", "application/json")],
    );
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["error"],
        "not_found"
    );
}

#[test]
fn ready_line_means_healthz_answers_at_once() {
    let env = TestEnv::new(Backend::Sqlite);
    let server = env.serve();
    // No retry: the ready line is printed only once the socket is bound.
    let (status, _, _) = get(&server.url("/healthz"));
    assert_eq!(status, 200);
}

fn sigterm_stops_gracefully_and_chains_the_last_records(backend: Backend) {
    let env = TestEnv::new(backend);
    let mut server = env.serve();
    assert_eq!(get(&server.url("/healthz")).0, 200);
    let status = server.terminate();
    assert!(status.success(), "{backend:?}: exit status {status:?}");
    // The shutdown sealed everything: nothing left unchained.
    assert_eq!(
        env.count("SELECT COUNT(*) AS n FROM audit_events WHERE seq IS NULL"),
        0
    );
    assert!(env.count("SELECT COUNT(*) AS n FROM audit_events") > 0);
}

per_backend!(sigterm_stops_gracefully_and_chains_the_last_records);

#[test]
fn readyz_reports_a_lost_database() {
    if !backends().contains(&Backend::Postgres) {
        return; // needs a database server that can go away
    }
    let env = TestEnv::new(Backend::Postgres);
    let server = env.serve();
    assert_eq!(get(&server.url("/readyz")).0, 200);
    // Take the database away under the running server.
    let name = env.database_url.rsplit('/').next().unwrap().to_string();
    let admin = std::env::var("WARD_TEST_DATABASE_URL").unwrap();
    let st = std::process::Command::new("psql")
        .arg(&admin)
        .arg("-c")
        .arg(format!("DROP DATABASE {name} WITH (FORCE)"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let started = std::time::Instant::now();
    let (status, _, body) = get(&server.url("/readyz"));
    assert_eq!(status, 503, "{body}");
    assert!(!body.contains(&name), "no connection detail leaks: {body}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Liveness is not readiness.
    assert_eq!(get(&server.url("/healthz")).0, 200);
}

#[test]
fn plain_http_issuer_off_loopback_refuses_to_start() {
    let env =
        TestEnv::new(Backend::Sqlite).with_env("WARD_ISSUER", "http://login.hospital.example");
    let err = Server::try_start(&env, &[])
        .err()
        .expect("must refuse to start");
    assert!(err.contains("issuer") && err.contains("https"), "{err}");
    assert!(
        !env.data_dir().join("ward.db").exists(),
        "nothing was created"
    );
}

#[test]
fn an_occupied_port_is_a_clear_error() {
    let env = TestEnv::new(Backend::Sqlite);
    let first = env.serve();
    let addr = first.base.trim_start_matches("http://").to_string();
    let err = Server::try_start(&env, &[("WARD_LISTEN", addr.as_str())])
        .err()
        .expect("second bind must fail");
    assert!(err.contains("cannot listen on"), "{err}");
}

#[test]
fn built_in_tls_serves_https_with_hsts() {
    let env = TestEnv::new(Backend::Sqlite);
    let cert = env.dir.path().join("cert.pem");
    let key = env.dir.path().join("key.pem");
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (installed by .ci/run)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(
        &env,
        &[
            ("WARD_TLS_CERT", cert.to_str().unwrap()),
            ("WARD_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);

    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(vec![
            ureq::tls::Certificate::from_pem(&std::fs::read(&cert).unwrap())
                .unwrap()
                .to_owned(),
        ])))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let url = server.url("/healthz").replace("127.0.0.1", "localhost");
    let res = agent.get(&url).call().expect("https request");
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("strict-transport-security").is_some());

    // A key that does not match its certificate is refused at start with an explanation.
    let other = env.dir.path().join("other.pem");
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-out",
        ])
        .arg(&other)
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = Server::try_start(
        &env,
        &[
            ("WARD_TLS_CERT", cert.to_str().unwrap()),
            ("WARD_TLS_KEY", other.to_str().unwrap()),
        ],
    )
    .err()
    .expect("mismatched key must be refused");
    assert!(err.contains("TLS"), "{err}");
}

/// SIGTERM while sign-ins are being processed: every accepted request still
/// gets its answer, then the server exits cleanly.
#[test]
fn in_flight_requests_finish_after_sigterm() {
    use common::oidc::{self, Browser, REDIRECT, pkce};
    let env = TestEnv::new(Backend::Sqlite);
    oidc::user(&env, "alice");
    oidc::confidential(&env, "rp", REDIRECT, &["--first-party"]);
    let mut server = oidc::serve_with_issuer(&env, &[]);
    let p = pkce();
    let mut pages: Vec<(Browser, String, String)> = (0..6)
        .map(|_| oidc::on_login_page(&server, "rp", &p, &[("scope", "openid")]))
        .collect();
    let statuses = std::thread::scope(|s| {
        let handles: Vec<_> = pages
            .iter_mut()
            .map(|(b, i, c)| s.spawn(move || b.sign_in(i, c, "alice", common::PASSWORD).status))
            .collect();
        // The sign-ins queue for argon2 (one at a time on this machine): they are in flight now.
        std::thread::sleep(Duration::from_millis(40));
        let status = server.terminate();
        assert!(status.success(), "clean exit: {status:?}");
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<u16>>()
    });
    assert!(
        statuses.iter().all(|s| *s == 303),
        "every in-flight sign-in was answered: {statuses:?}"
    );
}
