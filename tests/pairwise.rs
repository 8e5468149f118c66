//! Pairwise subject identifiers (OpenID Connect Core 1.0 §8.1) over real
//! HTTP, on every backend. A patient signs in to apps of two sectors: each
//! sector sees its own `sub`, stable across sign-ins, and every answer about
//! the patient to a client (ID token, access token, userinfo, introspection
//! of both tokens, back-channel logout token) carries the `sub` that client
//! sees; a public client sees the local id. A pairwise `sub` coming back (an
//! `id_token_hint`, a `claims` request's `sub`) still names the patient.
//! The sector document is served by a loopback server, with the development
//! switch on; registrations without a usable sector are refused, with
//! nothing written (docs/privacy.md).

mod common;
#[allow(dead_code)]
#[path = "admin_api/support.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Backend;
use common::app::{TestApp, claims, id_claims};
use common::jwks_server::JwksServer;
use common::oidc::{Browser, REDIRECT, hidden, param, pkce};
use serde_json::{Value, json};

/// A second redirect URI on the host of `REDIRECT`: the same sector.
const SAME_HOST: &str = "http://127.0.0.1:8888/cb";
/// A client of another sector (its redirect URI's host).
const OTHER: &str = "https://b.example/cb";
/// Redirect URIs on two hosts, listed by a sector document.
const LISTED: [&str; 2] = ["https://c1.example/cb", "https://c2.example/cb"];

/// The RP's back-channel endpoint: records (path, logout token) of each POST.
struct Rp {
    port: u16,
    tokens: Arc<Mutex<Vec<(String, String)>>>,
}

impl Rp {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tokens = Arc::new(Mutex::new(Vec::new()));
        let seen = tokens.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let (mut first, mut length) = (String::new(), 0);
                let _ = reader.read_line(&mut first);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let path = first.split(' ').nth(1).unwrap_or("").to_string();
                let token = url::form_urlencoded::parse(&body)
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                seen.lock().unwrap().push((path, token));
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Self { port, tokens }
    }

    fn uri(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The claims of the logout token POSTed to `path`, waiting for it.
    fn logout_claims(&self, path: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some((_, t)) = self.tokens.lock().unwrap().iter().find(|(p, _)| p == path) {
                return claims(t);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no logout token at {path}");
    }
}

/// A Ward with the development switch (under its general name) on, so that
/// the sector document may come from loopback, and these clients, all
/// first-party (no consent page):
/// - `a1` pairwise, redirect `REDIRECT`: sector 127.0.0.1, back-channel logout;
/// - `a2` pairwise, redirect `SAME_HOST`: sector 127.0.0.1;
/// - `c` pairwise, redirects `LISTED` on two hosts, sector document on
///   127.0.0.1: sector 127.0.0.1;
/// - `b` pairwise, redirect `OTHER`: sector b.example, back-channel logout;
/// - `pub` public, redirect `REDIRECT`.
fn world(backend: Backend, sector: &JwksServer, rp: &Rp) -> TestApp {
    sector.publish("/sector.json", &json!(LISTED));
    let doc = sector.url("/sector.json");
    let scope = "openid offline_access";
    let with = pairwise;
    let (bc_a1, bc_b) = (rp.uri("/bc/a1"), rp.uri("/bc/b"));
    TestApp::new(backend)
        .env("WARD_CLIENTS_ALLOW_INSECURE_FETCH", "true")
        .users(&["alice", "bob"])
        .first_party("a1", scope, &with(&["--backchannel-logout-uri", &bc_a1]))
        .confidential("a2", SAME_HOST, &with(&["--first-party", "--scope", scope]))
        .confidential(
            "c",
            LISTED[0],
            &with(&[
                "--redirect-uri",
                LISTED[1],
                "--sector-identifier-uri",
                &doc,
                "--first-party",
                "--scope",
                scope,
            ]),
        )
        .confidential(
            "b",
            OTHER,
            &with(&[
                "--first-party",
                "--scope",
                scope,
                "--backchannel-logout-uri",
                &bc_b,
            ]),
        )
        .first_party("pub", scope, &[])
        .start()
}

/// `--subject-type pairwise` and `more`.
fn pairwise<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--subject-type", "pairwise"];
    args.extend_from_slice(more);
    args
}

/// In `b`, authorize `client` at `redirect_uri` as `user` and redeem the code.
fn tokens(w: &TestApp, b: &mut Browser, client: &str, redirect_uri: &str, user: &str) -> Value {
    let p = pkce();
    let url = w.authorize_url(
        client,
        &p,
        &[
            ("redirect_uri", redirect_uri),
            ("scope", "openid offline_access"),
        ],
    );
    let res = b.authorize(&url, user);
    assert!(
        res.location().starts_with(redirect_uri),
        "{}",
        res.location()
    );
    let code = param(res.location(), "code").expect("a code");
    let t = w.exchange_at(client, redirect_uri, &code, &p.verifier);
    assert_eq!(t.status, 200, "{}", t.body);
    t.json()
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("no {k} in {v}"))
}

/// The `sub` of every answer `client` gets about the tokens `t`: the ID
/// token's, after checking the access token, userinfo and the introspection
/// of both tokens carry the same.
fn agreed_sub(w: &TestApp, client: &str, t: &Value) -> String {
    let sub = text(&id_claims(t), "sub").to_string();
    let access = text(t, "access_token");
    assert_eq!(
        claims(access)["sub"],
        sub.as_str(),
        "{client}: access token"
    );
    let (status, _, body) = common::get_with(
        &w.server.url("/userinfo"),
        &[("authorization", &format!("Bearer {access}"))],
    );
    assert_eq!(status, 200, "{client}: {body}");
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["sub"], sub.as_str(), "{client}: userinfo");
    for token in [access, text(t, "refresh_token")] {
        let res = w.post_as(client, "/introspect", &[("token", token)]);
        assert_eq!(res.status, 200, "{}", res.body);
        let v = res.json();
        assert_eq!(v["active"], true, "{client}: {v}");
        assert_eq!(v["sub"], sub.as_str(), "{client}: introspection");
    }
    sub
}

fn silent(w: &TestApp, b: &mut Browser, client: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![("scope", "openid"), ("prompt", "none")];
    params.extend_from_slice(extra);
    let res = b.get(&w.authorize_url(client, &pkce(), &params));
    param(res.location(), "error")
        .or(param(res.location(), "code").map(|_| "code".into()))
        .unwrap_or_else(|| panic!("{} {}", res.status, res.location()))
}

fn each_sector_sees_its_own_stable_sub_in_every_answer(backend: Backend) {
    let (sector, rp) = (JwksServer::start(), Rp::start());
    let w = world(backend, &sector, &rp);
    let alice = w.user_id("alice").to_string();
    let d = common::get(&w.server.url("/.well-known/openid-configuration")).2;
    let d: Value = serde_json::from_str(&d).unwrap();
    assert_eq!(d["subject_types_supported"], json!(["public", "pairwise"]));

    let mut first = w.browser();
    let t_a1 = tokens(&w, &mut first, "a1", REDIRECT, "alice");
    let a1 = agreed_sub(&w, "a1", &t_a1);
    let b = agreed_sub(&w, "b", &tokens(&w, &mut first, "b", OTHER, "alice"));
    let a2 = agreed_sub(&w, "a2", &tokens(&w, &mut first, "a2", SAME_HOST, "alice"));
    let c = agreed_sub(&w, "c", &tokens(&w, &mut first, "c", LISTED[1], "alice"));
    let public = agreed_sub(&w, "pub", &tokens(&w, &mut first, "pub", REDIRECT, "alice"));
    // Different sectors, different subs; one sector (by redirect host or by
    // its document's host), one sub; a public client, the local id.
    assert_ne!(a1, b);
    assert_eq!(a1, a2);
    assert_eq!(a1, c);
    assert_eq!(public, alice);
    for pairwise in [&a1, &b] {
        assert_ne!(pairwise, &alice);
        assert_eq!(pairwise.len(), 43, "{pairwise}");
    }

    // Another sign-in, in another browser: the same subs; another user, others.
    let mut second = w.browser();
    let t_b = tokens(&w, &mut second, "b", OTHER, "alice");
    assert_eq!(
        agreed_sub(&w, "a1", &tokens(&w, &mut second, "a1", REDIRECT, "alice")),
        a1
    );
    assert_eq!(agreed_sub(&w, "b", &t_b), b);
    let bob = agreed_sub(
        &w,
        "a1",
        &tokens(&w, &mut w.browser(), "a1", REDIRECT, "bob"),
    );
    assert_ne!(bob, a1);

    // The way back: a pairwise sub in an id_token_hint or a `claims`
    // request's `sub` names alice; her local id does not, to this client.
    let hint = text(&t_a1, "id_token");
    assert_eq!(
        silent(&w, &mut first, "a1", &[("id_token_hint", hint)]),
        "code"
    );
    let wants = |sub: &str| json!({"id_token": {"sub": {"value": sub}}}).to_string();
    assert_eq!(
        silent(&w, &mut first, "a1", &[("claims", &wants(&a1))]),
        "code"
    );
    assert_eq!(
        silent(&w, &mut first, "a1", &[("claims", &wants(&alice))]),
        "login_required"
    );
    // RP-initiated logout with b's ID token ends the second browser's session
    // without asking (the hint names its user).
    let res = second.get(&format!("/logout?id_token_hint={}", text(&t_b, "id_token")));
    assert!(!res.body.contains("Sign out?"), "{}", res.body);
    assert_eq!(silent(&w, &mut second, "a1", &[]), "login_required");

    // Signing out of the first browser: each client's logout token carries its sub.
    let page = first.get("/account");
    let csrf = hidden(&page.body, "csrf");
    let res = first.post("/account", &[("csrf", &csrf), ("action", "sign_out")]);
    assert_eq!(res.status, 303);
    assert_eq!(rp.logout_claims("/bc/a1")["sub"], a1.as_str());
    assert_eq!(rp.logout_claims("/bc/b")["sub"], b.as_str());
}

per_backend!(each_sector_sees_its_own_stable_sub_in_every_answer);

/// `ward client add` with `args`: the error it fails with.
fn refused(w: &TestApp, id: &str, args: &[&str]) -> String {
    let mut all = vec!["client", "add", id, "--type", "confidential"];
    all.extend_from_slice(args);
    w.env.fails(&all, None)
}

fn a_pairwise_client_without_a_usable_sector_is_refused(backend: Backend) {
    let (sector, rp) = (JwksServer::start(), Rp::start());
    let w = world(backend, &sector, &rp);
    sector.publish("/short.json", &json!([LISTED[0]]));
    sector.publish("/object.json", &json!({"redirect_uris": LISTED}));
    let listed = |uri: &str| {
        pairwise(&[
            "--redirect-uri",
            LISTED[0],
            "--redirect-uri",
            LISTED[1],
            "--sector-identifier-uri",
        ])
        .into_iter()
        .map(str::to_string)
        .chain([uri.to_string()])
        .collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            pairwise(&["--redirect-uri", LISTED[0], "--redirect-uri", LISTED[1]])
                .iter()
                .map(|s| s.to_string())
                .collect(),
            "different hosts",
        ),
        (
            pairwise(&["--grant-type", "client_credentials", "--scope", "api"])
                .iter()
                .map(|s| s.to_string())
                .collect(),
            "needs a sector",
        ),
        (
            listed(&sector.url("/redirect/sector.json")),
            "redirects are not followed",
        ),
        (listed(&sector.url("/short.json")), LISTED[1]),
        (listed(&sector.url("/object.json")), "not a JSON array"),
        (listed(&sector.url("/missing.json")), "HTTP 404"),
        (listed(&sector.url("/huge")), "larger than"),
        (listed(&sector.url("/hang")), "time limit"),
        (
            ["--redirect-uri", REDIRECT, "--sector-identifier-uri"]
                .iter()
                .map(|s| s.to_string())
                .chain([sector.url("/sector.json")])
                .collect(),
            "for pairwise clients",
        ),
    ];
    for (args, needle) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = refused(&w, "refused", &args);
        assert!(
            err.contains("sector_identifier_uri") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
    // The redirect was not followed, and a public client's document not
    // fetched: only `c`'s registration asked for it.
    assert_eq!(sector.hits("/redirect/sector.json"), 1);
    assert_eq!(sector.hits("/sector.json"), 1);
    // Nothing written, every refusal on the record.
    let err = w.env.fails(&["client", "show", "refused"], None);
    assert!(err.contains("no client"), "{err}");
    let failures = w.env.count(
        "SELECT COUNT(*) AS n FROM audit_events \
         WHERE event_type = 'client.create' AND outcome = 'failure'",
    );
    assert_eq!(failures, cases.len() as i64);
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM clients WHERE id = 'refused'"),
        0
    );
}

per_backend!(a_pairwise_client_without_a_usable_sector_is_refused);

/// The admin API with a pairwise console: the administrator's token carries
/// the console's pairwise `sub`, and the API still knows who they are (the
/// grant's user). It registers pairwise clients with the CLI's rules: the
/// sector in the answer, a bad sector a 422 problem naming the field.
fn the_admin_api_registers_pairwise_clients_and_accepts_pairwise_tokens(backend: Backend) {
    let sector = JwksServer::start();
    sector.publish("/sector.json", &json!(LISTED));
    let w = TestApp::new(backend)
        .env("WARD_CLIENTS_ALLOW_INSECURE_FETCH", "true")
        .user_with("admin", &["--role", "ward-admin", "--tenant", "ward"])
        .confidential(
            support::CLIENT,
            REDIRECT,
            &[
                "--first-party",
                "--scope",
                "openid profile email ward:admin",
                "--subject-type",
                "pairwise",
            ],
        )
        .serve_env("WARD_TOKENS_ACCESS_TOKEN_SECONDS", "900")
        .start();
    let (_, t) = support::tokens(&w, "admin");
    assert_ne!(claims(&t)["sub"], w.user_id("admin"), "a pairwise sub");
    let console = support::ok(
        support::call(
            &w,
            "GET",
            &format!("/clients/{}", support::CLIENT),
            Some(&t),
            None,
        ),
        200,
    );
    assert_eq!(
        (&console["subject_type"], &console["sector"]),
        (&json!("pairwise"), &json!("127.0.0.1"))
    );

    let body = json!({
        "client_id": "listed", "type": "confidential", "redirect_uris": LISTED,
        "subject_type": "pairwise", "sector_identifier_uri": sector.url("/sector.json"),
    });
    let res = support::call(&w, "POST", "/clients", Some(&t), Some(&body.to_string()));
    let created = support::ok(res, 201);
    assert_eq!(created["subject_type"], "pairwise");
    assert_eq!(created["sector"], "127.0.0.1");
    assert_eq!(created["sector_identifier_uri"], sector.url("/sector.json"));
    let records = support::audit(&w, &t, "event_type=client.create");
    assert_eq!(
        records[0]["details"]["subject_type"], "pairwise",
        "{records:?}"
    );

    for (body, needle) in [
        (
            json!({"client_id": "two-hosts", "type": "confidential", "redirect_uris": LISTED,
                   "subject_type": "pairwise"}),
            "different hosts",
        ),
        (
            json!({"client_id": "redirected", "type": "confidential", "redirect_uris": LISTED,
                   "subject_type": "pairwise",
                   "sector_identifier_uri": sector.url("/redirect/sector.json")}),
            "redirects are not followed",
        ),
    ] {
        let res = support::call(&w, "POST", "/clients", Some(&t), Some(&body.to_string()));
        let p = support::problem(&res, 422, Some("invalid-value"));
        assert_eq!(p["field"], "sector_identifier_uri", "{p}");
        assert!(p["detail"].as_str().unwrap().contains(needle), "{p}");
    }
    let res = support::call(
        &w,
        "POST",
        "/clients",
        Some(&t),
        Some(&json!({"client_id": "odd", "type": "public", "subject_type": "secret"}).to_string()),
    );
    let p = support::problem(&res, 422, Some("invalid-value"));
    assert_eq!(p["field"], "subject_type", "{p}");
    for id in ["two-hosts", "redirected", "odd"] {
        let res = support::call(&w, "GET", &format!("/clients/{id}"), Some(&t), None);
        support::problem(&res, 404, Some("not-found"));
    }
}

per_backend!(the_admin_api_registers_pairwise_clients_and_accepts_pairwise_tokens);
