//! The negative cases a security reviewer writes first, over raw HTTP, on every backend.

mod common;

use std::thread;

use common::app::{TestApp, exchange};
use common::oidc::{self, Browser, REDIRECT, authorize_url, basic, param, pkce, post_form};
use common::{Backend, TestEnv};

/// A user `alice`, a confidential client `rp` and a second client `other`.
fn world(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let scopes = "openid profile email offline_access";
    let builder = TestApp::new(backend)
        .user("alice")
        .confidential(
            "rp",
            REDIRECT,
            &[
                "--scope",
                scopes,
                "--grant-type",
                "authorization_code",
                "--grant-type",
                "refresh_token",
                "--grant-type",
                "client_credentials",
            ],
        )
        .confidential("other", REDIRECT, &["--scope", scopes])
        .client(
            "mobile",
            &[
                "--type",
                "public",
                "--redirect-uri",
                "http://127.0.0.1/cb",
                "--scope",
                "openid profile",
            ],
        )
        .confidential("fp", REDIRECT, &["--first-party"])
        .confidential("paronly", REDIRECT, &["--require-par"]);
    extra
        .iter()
        .fold(builder, |b, (k, v)| b.serve_env(k, v))
        .start()
}

fn code_for(w: &TestApp, client_id: &str) -> (String, oidc::Pkce) {
    let p = pkce();
    let mut b = Browser::new(&w.server);
    let res = b.authorize(&authorize_url(&w.server, client_id, &p, &[]), "alice");
    (param(res.location(), "code").expect("a code"), p)
}

fn redeem(w: &TestApp, client: (&str, &str), code: &str, verifier: &str) -> oidc::Res {
    exchange(&w.server, client.0, client.1, code, verifier)
}

fn altered_redirect_uris_never_receive_a_redirect(backend: Backend) {
    let w = world(backend, &[]);
    let p = pkce();
    for bad in [
        "http://127.0.0.1:9999/cb?extra=1",
        "http://127.0.0.1:9999/CB",
        "http://127.0.0.1:9999/cb/",
        "http://127.0.0.1:9999/cb/../cb",
        "http://127.0.0.1:9999/cb#x",
        "http://127.0.0.1:9999@evil.example/cb",
        "http://evil.example/http://127.0.0.1:9999/cb",
        "http://127.0.0.1.evil.example:9999/cb",
        "https://127.0.0.1:9999/cb",
        "http://localhost:9999/cb",
        "",
    ] {
        let url = authorize_url(&w.server, "rp", &p, &[]).replace(
            &format!("redirect_uri={}", urlencode(REDIRECT)),
            &format!("redirect_uri={}", urlencode(bad)),
        );
        let mut b = Browser::new(&w.server);
        let res = b.get(&url);
        assert!(
            res.status == 400 && !res.headers.contains_key("location"),
            "{backend:?} {bad}: {} {:?}",
            res.status,
            res.headers.get("location")
        );
        assert!(res.headers["content-type"].starts_with("text/html"));
    }
    // Unknown client: an HTML page, never a redirect.
    let res = Browser::new(&w.server).get(&authorize_url(&w.server, "nobody", &p, &[]));
    assert_eq!(res.status, 400);
    assert!(!res.headers.contains_key("location"));
    // A repeated redirect_uri or client_id is not trusted either.
    let url = format!(
        "{}&redirect_uri={}",
        authorize_url(&w.server, "rp", &p, &[]),
        urlencode(REDIRECT)
    );
    let res = Browser::new(&w.server).get(&url);
    assert!(res.status == 400 && !res.headers.contains_key("location"));
}

per_backend!(altered_redirect_uris_never_receive_a_redirect);

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn errors_after_validation_go_back_to_the_client_with_state_and_iss(backend: Backend) {
    let w = world(backend, &[]);
    let p = pkce();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("response_type", "token")], "unsupported_response_type"),
        (
            &[("response_type", "code id_token")],
            "unsupported_response_type",
        ),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("scope", "openid admin")], "invalid_scope"),
        (&[("prompt", "none login")], "invalid_request"),
        (&[("max_age", "-1")], "invalid_request"),
        (&[("request", "eyJ.x.y")], "request_not_supported"),
        (&[("prompt", "none")], "login_required"),
        (&[("response_mode", "fragment")], "invalid_request"),
    ];
    for (extra, expected) in cases {
        let url = authorize_url(&w.server, "rp", &p, extra);
        let res = Browser::new(&w.server).get(&url);
        assert_eq!(res.status, 303, "{backend:?} {extra:?}: {}", res.body);
        let loc = res.location();
        assert!(loc.starts_with(REDIRECT), "{loc}");
        assert_eq!(
            param(loc, "error").as_deref(),
            Some(*expected),
            "{extra:?}: {loc}"
        );
        assert_eq!(param(loc, "state").as_deref(), Some("st4te"));
        assert_eq!(param(loc, "iss").as_deref(), Some(w.server.base.as_str()));
    }
    // A missing code_challenge (PKCE is required for every client).
    let url = authorize_url(&w.server, "rp", &p, &[])
        .replace(&format!("&code_challenge={}", p.challenge), "");
    let res = Browser::new(&w.server).get(&url);
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("invalid_request")
    );
    // A repeated ordinary parameter.
    let res = Browser::new(&w.server).get(&format!(
        "{}&state=again",
        authorize_url(&w.server, "rp", &p, &[])
    ));
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("invalid_request")
    );
}

per_backend!(errors_after_validation_go_back_to_the_client_with_state_and_iss);

fn pkce_is_enforced_at_the_token_endpoint(backend: Backend) {
    let w = world(backend, &[]);
    let rp = ("rp", w.secret("rp"));
    let (code, _) = code_for(&w, "rp");
    let wrong = pkce();
    let res = redeem(&w, rp, &code, &wrong.verifier);
    assert_eq!(
        (res.status, res.json()["error"].as_str()),
        (400, Some("invalid_grant")),
        "{backend:?}"
    );
    let (code, _) = code_for(&w, "rp");
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic("rp", w.secret("rp"))),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(res.json()["error"], "invalid_request", "a missing verifier");
    let (code, p) = code_for(&w, "rp");
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic("rp", w.secret("rp"))),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9999/other"),
            ("code_verifier", &p.verifier),
        ],
    );
    assert_eq!(
        res.json()["error"],
        "invalid_grant",
        "a different redirect_uri"
    );
}

per_backend!(pkce_is_enforced_at_the_token_endpoint);

/// A confidential client registered with `--pkce optional` (RFC 9700 §2.1.1):
/// without a challenge it must send scope openid and a nonce; with one, PKCE is
/// enforced as for anyone; a verifier for a code issued without a challenge is
/// refused (PKCE downgrade, RFC 9700 §4.8.2). Other clients still need PKCE.
fn optional_pkce_needs_a_nonce_and_cannot_be_downgraded(backend: Backend) {
    let w = world(backend, &[]);
    let secret = oidc::client(
        &w.env,
        "nopkce",
        &[
            "--type",
            "confidential",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid profile email offline_access",
            "--pkce",
            "optional",
        ],
    )
    .unwrap();
    let nopkce = ("nopkce", secret.as_str());
    let error_of = |url: &str| {
        let res = Browser::new(&w.server).get(url);
        assert_eq!(res.status, 303, "{backend:?} {url}: {}", res.body);
        let loc = res.location().to_string();
        assert!(loc.starts_with(REDIRECT), "{loc}");
        assert_eq!(param(&loc, "state").as_deref(), Some("st4te"));
        (
            param(&loc, "error").unwrap_or_default(),
            param(&loc, "error_description").unwrap_or_default(),
        )
    };

    // Without a challenge: a nonce and scope openid, or invalid_request.
    for extra in [&[("nonce", "")][..], &[("scope", "profile email")][..]] {
        let (error, description) = error_of(&oidc::authorize_url_without_pkce(
            &w.server, "nopkce", extra,
        ));
        assert_eq!(error, "invalid_request", "{extra:?}");
        assert!(description.contains("nonce"), "{extra:?}: {description}");
    }
    let res = post_form(
        &w.server,
        "/par",
        Some(&basic(nopkce.0, nopkce.1)),
        &[
            ("response_type", "code"),
            ("client_id", "nopkce"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
        ],
    );
    assert_eq!(
        (res.status, res.json()["error"].as_str()),
        (400, Some("invalid_request")),
        "PAR without a nonce: {}",
        res.body
    );
    // A challenge it sends is checked as for anyone.
    let p = pkce();
    let (error, _) = error_of(&authorize_url(
        &w.server,
        "nopkce",
        &p,
        &[("code_challenge_method", "plain")],
    ));
    assert_eq!(error, "invalid_request");
    // A client with the default policy still needs PKCE, nonce or not.
    let (error, description) = error_of(&oidc::authorize_url_without_pkce(&w.server, "rp", &[]));
    assert_eq!(error, "invalid_request");
    assert!(description.contains("code_challenge"), "{description}");

    // A code issued without a challenge: a verifier is refused (downgrade)...
    let mut b = Browser::new(&w.server);
    let res = b.authorize(
        &oidc::authorize_url_without_pkce(&w.server, "nopkce", &[]),
        "alice",
    );
    let code = param(res.location(), "code").expect("a code without PKCE");
    let res = redeem(&w, nopkce, &code, &pkce().verifier);
    assert_eq!(
        (res.status, res.json()["error"].as_str()),
        (400, Some("invalid_grant")),
        "{backend:?}: a verifier for a code without a challenge"
    );
    // ...and it is redeemed without one; the ID token carries the nonce.
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic(nopkce.0, nopkce.1)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(res.status, 200, "{backend:?}: {}", res.body);
    let id_token = res.json()["id_token"].as_str().unwrap().to_string();
    assert_eq!(oidc::jwt_claims(&id_token)["nonce"], "n0nce");

    // A code issued with a challenge still needs its verifier.
    let res = b.authorize(&authorize_url(&w.server, "nopkce", &p, &[]), "alice");
    let code = param(res.location(), "code").expect("a code with PKCE");
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic(nopkce.0, nopkce.1)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(res.json()["error"], "invalid_request", "a missing verifier");
    assert_eq!(
        redeem(&w, nopkce, &code, &pkce().verifier).json()["error"],
        "invalid_grant",
        "a wrong verifier"
    );
    assert_eq!(redeem(&w, nopkce, &code, &p.verifier).status, 200);
}

per_backend!(optional_pkce_needs_a_nonce_and_cannot_be_downgraded);

fn a_reused_code_fails_and_revokes_what_it_issued(backend: Backend) {
    let w = world(backend, &[]);
    let rp = ("rp", w.secret("rp"));
    let (code, p) = code_for(&w, "rp");
    let first = redeem(&w, rp, &code, &p.verifier);
    assert_eq!(first.status, 200, "{}", first.body);
    let tokens = first.json();
    let second = redeem(&w, rp, &code, &p.verifier);
    assert_eq!(
        (second.status, second.json()["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Everything the first redemption issued is revoked.
    let at = tokens["access_token"].as_str().unwrap();
    let intro = post_form(
        &w.server,
        "/introspect",
        Some(&basic("rp", w.secret("rp"))),
        &[("token", at)],
    );
    assert_eq!(intro.json()["active"], false, "{backend:?}");
    let rt = tokens["refresh_token"].as_str().unwrap();
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic("rp", w.secret("rp"))),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    );
    assert_eq!(res.json()["error"], "invalid_grant");
    assert!(
        w.env
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'token.code_reuse'")
            >= 1
    );
}

per_backend!(a_reused_code_fails_and_revokes_what_it_issued);

fn a_code_is_bound_to_its_client(backend: Backend) {
    let w = world(backend, &[]);
    let (code, p) = code_for(&w, "rp");
    let res = redeem(&w, ("other", w.secret("other")), &code, &p.verifier);
    assert_eq!(res.json()["error"], "invalid_grant", "{backend:?}");
    // ...and still works for its own client afterwards.
    assert_eq!(
        redeem(&w, ("rp", w.secret("rp")), &code, &p.verifier).status,
        200
    );
}

per_backend!(a_code_is_bound_to_its_client);

#[test]
fn expired_codes_are_refused() {
    let w = world(
        common::Backend::Sqlite,
        &[("WARD_TOKENS_AUTHORIZATION_CODE_SECONDS", "5")],
    );
    let (code, p) = code_for(&w, "rp");
    thread::sleep(std::time::Duration::from_millis(5200));
    let res = redeem(&w, ("rp", w.secret("rp")), &code, &p.verifier);
    assert_eq!(res.json()["error"], "invalid_grant");
}

fn client_authentication_failures(backend: Backend) {
    let w = world(backend, &[]);
    let cc = [("grant_type", "client_credentials")];
    let res = post_form(&w.server, "/token", Some(&basic("rp", "wrong")), &cc);
    assert_eq!(res.status, 401, "{backend:?}");
    assert_eq!(res.json()["error"], "invalid_client");
    assert!(
        res.headers["www-authenticate"].starts_with("Basic"),
        "RFC 6749 §5.2"
    );
    let unknown = post_form(&w.server, "/token", Some(&basic("nobody", "wrong")), &cc);
    assert_eq!(
        (unknown.status, unknown.body.clone()),
        (401, res.body.clone()),
        "unknown and wrong look the same"
    );
    let res = post_form(
        &w.server,
        "/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "rp"),
            ("client_secret", "wrong"),
        ],
    );
    assert_eq!(
        (res.status, res.json()["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let res = post_form(
        &w.server,
        "/token",
        None,
        &[("grant_type", "client_credentials"), ("client_id", "rp")],
    );
    assert_eq!(res.status, 401, "a confidential client must authenticate");
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic("rp", w.secret("rp"))),
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", w.secret("rp")),
        ],
    );
    assert_eq!(
        res.json()["error"],
        "invalid_request",
        "two methods at once"
    );
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic("rp", w.secret("rp"))),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", common::PASSWORD),
        ],
    );
    assert_eq!(res.json()["error"], "unsupported_grant_type");
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic("other", w.secret("other"))),
        &cc,
    );
    assert_eq!(
        res.json()["error"],
        "unauthorized_client",
        "grant not registered for this client"
    );
    let ok = post_form(&w.server, "/token", Some(&basic("rp", w.secret("rp"))), &cc);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.headers["cache-control"], "no-store");
    assert!(ok.json().get("refresh_token").is_none());
}

per_backend!(client_authentication_failures);

fn refresh_tokens_rotate_and_reuse_revokes_the_family(backend: Backend) {
    let w = world(backend, &[]);
    let t = w.sign_in("rp", "alice", &[]).1;
    let rt1 = t["refresh_token"].as_str().unwrap().to_string();
    let refresh = |client: (&str, &str), rt: &str, extra: &[(&str, &str)]| {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", rt)];
        form.extend_from_slice(extra);
        post_form(&w.server, "/token", Some(&basic(client.0, client.1)), &form)
    };
    // Cross-client refresh is refused and changes nothing.
    assert_eq!(
        refresh(("other", w.secret("other")), &rt1, &[]).json()["error"],
        "invalid_grant"
    );
    // Never broadened.
    assert_eq!(
        refresh(("rp", w.secret("rp")), &rt1, &[("scope", "openid admin")]).json()["error"],
        "invalid_scope"
    );
    let r2 = refresh(("rp", w.secret("rp")), &rt1, &[("scope", "openid")]);
    assert_eq!(r2.status, 200, "{}", r2.body);
    let r2 = r2.json();
    assert_eq!(r2["scope"], "openid");
    let rt2 = r2["refresh_token"].as_str().unwrap().to_string();
    // Presenting the rotated-out token revokes the whole family, rt2 included.
    assert_eq!(
        refresh(("rp", w.secret("rp")), &rt1, &[]).json()["error"],
        "invalid_grant"
    );
    assert_eq!(
        refresh(("rp", w.secret("rp")), &rt2, &[]).json()["error"],
        "invalid_grant",
        "{backend:?}"
    );
    let intro = post_form(
        &w.server,
        "/introspect",
        Some(&basic("rp", w.secret("rp"))),
        &[("token", r2["access_token"].as_str().unwrap())],
    );
    assert_eq!(intro.json()["active"], false);
}

per_backend!(refresh_tokens_rotate_and_reuse_revokes_the_family);

fn ten_concurrent_redemptions_exactly_one_wins(backend: Backend) {
    let w = world(backend, &[]);
    let (code, p) = code_for(&w, "rp");
    let statuses: Vec<u16> = thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|_| s.spawn(|| redeem(&w, ("rp", w.secret("rp")), &code, &p.verifier).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{backend:?}: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );

    let t = w.sign_in("rp", "alice", &[]).1;
    let rt = t["refresh_token"].as_str().unwrap();
    let statuses: Vec<u16> = thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                s.spawn(|| {
                    post_form(
                        &w.server,
                        "/token",
                        Some(&basic("rp", w.secret("rp"))),
                        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{backend:?}: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}

per_backend!(ten_concurrent_redemptions_exactly_one_wins);

fn malformed_requests_get_4xx_never_5xx(backend: Backend) {
    let w = world(backend, &[]);
    let auth = basic("rp", w.secret("rp"));
    let res = post_form(
        &w.server,
        "/token",
        Some(&auth),
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
        ],
    );
    assert_eq!(
        res.json()["error"],
        "invalid_request",
        "{backend:?}: repeated parameter"
    );
    let huge = "x".repeat(100_000);
    let res = post_form(
        &w.server,
        "/token",
        Some(&auth),
        &[("grant_type", "client_credentials"), ("scope", &huge)],
    );
    assert!(
        (400..500).contains(&res.status),
        "oversized body: {}",
        res.status
    );
    let res = Browser::new(&w.server).get(&format!(
        "/authorize?client_id=rp&state={}",
        "y".repeat(20_000)
    ));
    assert!(
        (400..500).contains(&res.status),
        "oversized query: {}",
        res.status
    );
    for path in ["/token", "/introspect", "/revoke", "/par"] {
        let res = Browser::new(&w.server).get(path);
        assert_eq!(res.status, 405, "{path}");
        assert_eq!(res.headers["allow"], "POST");
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .post(&format!("{}/token", w.server.base))
        .header("content-type", "application/json")
        .send(r#"{"grant_type":"client_credentials"}"#)
        .unwrap();
    assert_eq!(res.status().as_u16(), 400, "JSON body refused");
    let res = post_form(
        &w.server,
        "/token",
        Some("Basic %%%"),
        &[("grant_type", "client_credentials")],
    );
    assert_eq!(res.status, 401);
    // Userinfo without, and with a garbage, token.
    let res = Browser::new(&w.server).get("/userinfo");
    assert_eq!(res.status, 401);
    assert_eq!(res.headers["www-authenticate"], "Bearer realm=\"ward\"");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let res = agent
        .get(&format!("{}/userinfo", w.server.base))
        .header("authorization", "Bearer not.a.token")
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert!(
        res.headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

per_backend!(malformed_requests_get_4xx_never_5xx);

fn introspection_and_revocation_are_per_client(backend: Backend) {
    let w = world(backend, &[]);
    let t = w.sign_in("rp", "alice", &[]).1;
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    let other = basic("other", w.secret("other"));
    assert_eq!(
        post_form(&w.server, "/introspect", Some(&other), &[("token", at)]).json()["active"],
        false,
        "{backend:?}"
    );
    assert_eq!(
        post_form(&w.server, "/introspect", Some(&other), &[("token", rt)]).json()["active"],
        false
    );
    // Another client's revocation does nothing (and says 200 anyway).
    assert_eq!(
        post_form(&w.server, "/revoke", Some(&other), &[("token", rt)]).status,
        200
    );
    let mine = basic("rp", w.secret("rp"));
    let intro = post_form(&w.server, "/introspect", Some(&mine), &[("token", rt)]).json();
    assert_eq!(intro["active"], true);
    assert_eq!(intro["client_id"], "rp");
    assert!(
        intro.get("token_type").is_none(),
        "refresh tokens have no RFC 6749 §7.1 token type"
    );
    // Unknown tokens: 200.
    assert_eq!(
        post_form(&w.server, "/revoke", Some(&mine), &[("token", "nonsense")]).status,
        200
    );
    // Revoking the refresh token revokes the grant, access token included.
    assert_eq!(
        post_form(&w.server, "/revoke", Some(&mine), &[("token", rt)]).status,
        200
    );
    assert_eq!(
        post_form(&w.server, "/introspect", Some(&mine), &[("token", at)]).json()["active"],
        false
    );
    assert_eq!(
        post_form(&w.server, "/introspect", Some(&mine), &[("token", rt)]).json()["active"],
        false
    );
}

per_backend!(introspection_and_revocation_are_per_client);

fn pushed_authorization_requests(backend: Backend) {
    let w = world(backend, &[]);
    let p = pkce();
    let push = |client: &str, secret: &str| {
        post_form(
            &w.server,
            "/par",
            Some(&basic(client, secret)),
            &[
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "par-state"),
                ("code_challenge", &p.challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    };
    let res = push("rp", w.secret("rp"));
    assert_eq!(res.status, 201, "{backend:?}: {}", res.body);
    let request_uri = res.json()["request_uri"].as_str().unwrap().to_string();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    // Bound to its client.
    let res = Browser::new(&w.server).get(&format!(
        "/authorize?client_id=other&request_uri={}",
        urlencode(&request_uri)
    ));
    assert_eq!(res.status, 400);
    assert!(!res.headers.contains_key("location"));
    let mut b = Browser::new(&w.server);
    let res = b.authorize(
        &format!(
            "{}/authorize?client_id=rp&request_uri={}",
            w.server.base,
            urlencode(&request_uri)
        ),
        "alice",
    );
    assert_eq!(param(res.location(), "state").as_deref(), Some("par-state"));
    let code = param(res.location(), "code").unwrap();
    assert_eq!(
        redeem(&w, ("rp", w.secret("rp")), &code, &p.verifier).status,
        200
    );
    // Single use.
    let res = Browser::new(&w.server).get(&format!(
        "/authorize?client_id=rp&request_uri={}",
        urlencode(&request_uri)
    ));
    assert_eq!(res.status, 400);
    // A client that must use PAR is refused without it.
    let res = Browser::new(&w.server).get(&authorize_url(&w.server, "paronly", &p, &[]));
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("invalid_request")
    );
    // Bad pushed requests are answered with JSON errors.
    let res = post_form(
        &w.server,
        "/par",
        Some(&basic("rp", w.secret("rp"))),
        &[
            ("response_type", "code"),
            ("client_id", "rp"),
            ("redirect_uri", "https://evil.example/cb"),
        ],
    );
    assert_eq!(
        (res.status, res.json()["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

per_backend!(pushed_authorization_requests);

fn form_post_first_party_and_consent_denial(backend: Backend) {
    let w = world(backend, &[]);
    let p = pkce();
    // First-party client: no consent page; the consent its policy implies is recorded.
    let mut b = Browser::new(&w.server);
    let res = b.authorize(
        &authorize_url(&w.server, "fp", &p, &[("scope", "openid")]),
        "alice",
    );
    assert!(param(res.location(), "code").is_some(), "{backend:?}");
    assert_eq!(
        w.env.count(
            "SELECT COUNT(*) AS n FROM consent_records \
             WHERE client_id = 'fp' AND given_by = 'first_party'"
        ),
        1
    );

    // form_post: an auto-submitting form to the redirect URI, allowed by this page's CSP only.
    let res = b.get(&authorize_url(
        &w.server,
        "fp",
        &p,
        &[("scope", "openid"), ("response_mode", "form_post")],
    ));
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(
        res.body
            .contains("action=\"http:&#x2f;&#x2f;127.0.0.1:9999&#x2f;cb\"")
            || res.body.contains("action=\"http://127.0.0.1:9999/cb\""),
        "{}",
        res.body
    );
    assert!(res.body.contains("name=\"code\"") && res.body.contains("name=\"iss\""));
    assert!(res.headers["content-security-policy"].contains("form-action http://127.0.0.1:9999"));
    assert!(!res.headers["content-security-policy"].contains("unsafe-inline"));

    // Consent denied: access_denied to the client.
    let (mut b, interaction, csrf) = oidc::on_login_page(&w.server, "other", &p, &[]);
    let res = b.sign_in(&interaction, &csrf, "alice", common::PASSWORD);
    let res = b.get(res.location());
    let consent = b.get(res.location());
    assert!(
        consent.body.contains("See your email address"),
        "plain-language consent"
    );
    let res = b.post(
        "/consent",
        &[
            ("interaction", &oidc::hidden(&consent.body, "interaction")),
            ("csrf", &oidc::hidden(&consent.body, "csrf")),
            ("decision", "deny"),
        ],
    );
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("access_denied")
    );
}

per_backend!(form_post_first_party_and_consent_denial);

fn login_page_is_csrf_protected_and_does_not_reveal_accounts(backend: Backend) {
    let w = world(backend, &[]);
    let p = pkce();
    let (mut b, interaction, csrf) = oidc::on_login_page(&w.server, "rp", &p, &[]);
    // Wrong password and unknown user: the same answer.
    let wrong = b.post(
        "/login",
        &[
            ("interaction", &interaction),
            ("csrf", &csrf),
            ("username", "alice"),
            ("password", "not-the-password"),
        ],
    );
    let unknown = b.post(
        "/login",
        &[
            ("interaction", &interaction),
            ("csrf", &csrf),
            ("username", "nobody"),
            ("password", "not-the-password"),
        ],
    );
    assert_eq!((wrong.status, unknown.status), (401, 401), "{backend:?}");
    let msg = |body: &str| {
        body.split("role=\"alert\"")
            .nth(1)
            .map(|s| s.split('<').next().unwrap().to_string())
    };
    assert_eq!(msg(&wrong.body), msg(&unknown.body));
    // A forged form (no CSRF token, or another browser's cookie) is refused.
    let res = b.post(
        "/login",
        &[
            ("interaction", &interaction),
            ("csrf", "00"),
            ("username", "alice"),
            ("password", common::PASSWORD),
        ],
    );
    assert_eq!(res.status, 403);
    let mut stranger = Browser::new(&w.server);
    let res = stranger.post(
        "/login",
        &[
            ("interaction", &interaction),
            ("csrf", &csrf),
            ("username", "alice"),
            ("password", common::PASSWORD),
        ],
    );
    assert_eq!(res.status, 403);
    assert!(
        !stranger.cookies.keys().any(|k| k.contains("session")),
        "no session for a forged login"
    );
    assert!(w.env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'login.password' AND outcome = 'failure' AND reason = 'unknown_user'") >= 1);
}

per_backend!(login_page_is_csrf_protected_and_does_not_reveal_accounts);

/// RFC 7523 client assertions: accepted once, refused when replayed, expired,
/// mis-addressed, or signed by a key the client did not register.
fn private_key_jwt_client_authentication(backend: Backend) {
    use serde_json::json;
    use ward::crypto::signing::{Algorithm, generate};
    use ward::oidc::jwt;
    let env = TestEnv::new(backend);
    let key = generate(Algorithm::Es256).unwrap();
    let stranger = generate(Algorithm::Es256).unwrap();
    let jwks = env.dir.path().join("jwks.json");
    std::fs::write(&jwks, json!({ "keys": [key.public_jwk] }).to_string()).unwrap();
    let secret = oidc::service_client(&env, "svc", &["--jwks-file", jwks.to_str().unwrap()]);
    assert!(
        secret.is_none(),
        "a key-authenticated client gets no secret"
    );
    let server = oidc::serve_with_issuer(&env, &[]);
    let token_url = format!("{}/token", server.base);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let assertion = |signer: &ward::crypto::signing::SigningKeyMaterial,
                     aud: &str,
                     exp: i64,
                     jti: &str| {
        let header = json!({ "alg": "ES256", "kid": signer.kid });
        let claims =
            json!({ "iss": "svc", "sub": "svc", "aud": aud, "exp": exp, "iat": now, "jti": jti });
        jwt::encode(&header, &claims, &signer.signer().unwrap()).unwrap()
    };
    let call = |a: &str| {
        post_form(
            &server,
            "/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", a),
            ],
        )
    };
    let good = assertion(&key, &token_url, now + 60, "jti-1");
    let res = call(&good);
    assert_eq!(res.status, 200, "{backend:?}: {}", res.body);
    let replay = call(&good);
    assert_eq!(
        (replay.status, replay.json()["error"].as_str()),
        (401, Some("invalid_client")),
        "replay"
    );
    assert_eq!(
        call(&assertion(
            &key,
            "https://elsewhere.example/token",
            now + 60,
            "jti-2"
        ))
        .status,
        401,
        "mis-addressed"
    );
    assert_eq!(
        call(&assertion(&key, &token_url, now - 10, "jti-3")).status,
        401,
        "expired"
    );
    assert_eq!(
        call(&assertion(&key, &token_url, now + 3600, "jti-4")).status,
        401,
        "too long-lived"
    );
    assert_eq!(
        call(&assertion(&stranger, &token_url, now + 60, "jti-5")).status,
        401,
        "unregistered key"
    );
    assert_eq!(
        call(&assertion(&key, &server.base, now + 60, "jti-6")).status,
        200,
        "the issuer is an accepted audience"
    );
}

per_backend!(private_key_jwt_client_authentication);

fn remembered_consent_can_be_revoked(backend: Backend) {
    let w = world(backend, &[]);
    let p = pkce();
    let mut b = Browser::new(&w.server);
    let res = b.authorize(&authorize_url(&w.server, "rp", &p, &[]), "alice");
    assert!(param(res.location(), "code").is_some());
    // Remembered: the next request goes straight back to the client.
    let res = b.get(&authorize_url(&w.server, "rp", &p, &[]));
    assert!(res.location().starts_with(REDIRECT), "{backend:?}");
    let list: serde_json::Value =
        serde_json::from_str(&w.env.ok(&["user", "consents", "alice", "--json"], None)).unwrap();
    assert_eq!(list[0]["client_id"], "rp");
    w.env.ok(&["user", "revoke-consent", "alice", "rp"], None);
    // Revoked: asked again (after at most the client cache's lifetime, which does not apply to consents).
    let res = b.get(&authorize_url(&w.server, "rp", &p, &[]));
    assert!(res.location().starts_with("/consent"), "{}", res.location());
    assert!(
        w.env
            .fails(&["user", "revoke-consent", "alice", "rp"], None)
            .contains("already withdrawn")
    );
}

per_backend!(remembered_consent_can_be_revoked);

fn prompt_login_max_age_and_id_token_hint_force_a_new_sign_in(backend: Backend) {
    let w = world(backend, &[]);
    oidc::user(&w.env, "bob");
    let p = pkce();
    let mut b = Browser::new(&w.server);
    let res = b.authorize(
        &authorize_url(&w.server, "fp", &p, &[("scope", "openid")]),
        "alice",
    );
    let code = param(res.location(), "code").unwrap();
    // A session exists: a plain request is answered at once...
    assert!(
        b.get(&authorize_url(&w.server, "fp", &p, &[("scope", "openid")]))
            .location()
            .starts_with(REDIRECT)
    );
    // ...but prompt=login and max_age=0 ask again, and signing in again satisfies them.
    for extra in [
        ("prompt", "login"),
        ("max_age", "0"),
        ("prompt", "select_account"),
    ] {
        let res = b.get(&authorize_url(
            &w.server,
            "fp",
            &p,
            &[("scope", "openid"), extra],
        ));
        assert!(
            res.location().starts_with("/login"),
            "{backend:?} {extra:?}: {}",
            res.location()
        );
        let res = b.authorize(
            &authorize_url(&w.server, "fp", &p, &[("scope", "openid"), extra]),
            "alice",
        );
        assert!(param(res.location(), "code").is_some(), "{extra:?}");
    }
    // An id_token_hint naming someone else needs that person to sign in.
    let fp_secret = {
        // fp's secret is not kept by world(); register a twin to get an ID token for alice.
        oidc::client(
            &w.env,
            "fp2",
            &[
                "--type",
                "confidential",
                "--redirect-uri",
                REDIRECT,
                "--first-party",
            ],
        )
        .unwrap()
    };
    let _ = code;
    let t = {
        let p2 = pkce();
        let res = b.authorize(
            &authorize_url(&w.server, "fp2", &p2, &[("scope", "openid")]),
            "alice",
        );
        let code = param(res.location(), "code").unwrap();
        post_form(
            &w.server,
            "/token",
            Some(&basic("fp2", &fp_secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &p2.verifier),
            ],
        )
        .json()
    };
    let alice_hint = t["id_token"].as_str().unwrap().to_string();
    assert!(
        b.get(&authorize_url(
            &w.server,
            "fp",
            &p,
            &[("scope", "openid"), ("id_token_hint", &alice_hint)]
        ))
        .location()
        .starts_with(REDIRECT)
    );
    let mut other = Browser::new(&w.server);
    other.authorize(
        &authorize_url(&w.server, "fp", &p, &[("scope", "openid")]),
        "bob",
    );
    let res = other.get(&authorize_url(
        &w.server,
        "fp",
        &p,
        &[("scope", "openid"), ("id_token_hint", &alice_hint)],
    ));
    assert!(
        res.location().starts_with("/login"),
        "bob's session does not answer for alice"
    );
    let res = other.get(&authorize_url(
        &w.server,
        "fp",
        &p,
        &[
            ("scope", "openid"),
            ("id_token_hint", &alice_hint),
            ("prompt", "none"),
        ],
    ));
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("login_required")
    );
}

per_backend!(prompt_login_max_age_and_id_token_hint_force_a_new_sign_in);

fn review_findings_stay_fixed(backend: Backend) {
    let w = world(backend, &[]);
    let p = pkce();
    let mut b = Browser::new(&w.server);
    b.authorize(&authorize_url(&w.server, "rp", &p, &[]), "alice");

    // prompt=consent asks again, even after consent, and even for a first-party client.
    for client in ["rp", "fp"] {
        let scope = if client == "fp" {
            "openid"
        } else {
            "openid profile email offline_access"
        };
        let res = b.get(&authorize_url(
            &w.server,
            client,
            &p,
            &[("scope", scope), ("prompt", "consent")],
        ));
        assert!(
            res.location().starts_with("/consent"),
            "{backend:?} {client}: {}",
            res.location()
        );
        let res = b.authorize(
            &authorize_url(
                &w.server,
                client,
                &p,
                &[("scope", scope), ("prompt", "consent")],
            ),
            "alice",
        );
        assert!(param(res.location(), "code").is_some());
    }

    // The login and consent pages may post to Ward and redirect on to the client.
    let mut fresh = Browser::new(&w.server);
    let res = fresh.get(&authorize_url(&w.server, "rp", &p, &[]));
    let page = fresh.get(res.location());
    let csp = &page.headers["content-security-policy"];
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9999"),
        "{csp}"
    );

    // A second sign-in in the same browser ends the first session.
    let before = w
        .env
        .count("SELECT COUNT(*) AS n FROM sessions WHERE ended_at IS NULL");
    b.authorize(
        &authorize_url(
            &w.server,
            "fp",
            &p,
            &[("scope", "openid"), ("prompt", "login")],
        ),
        "alice",
    );
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM sessions WHERE ended_at IS NULL"),
        before,
        "{backend:?}"
    );

    // Without offline_access an OpenID request gets no refresh token.
    let p2 = pkce();
    let res = b.authorize(
        &authorize_url(&w.server, "rp", &p2, &[("scope", "openid profile")]),
        "alice",
    );
    let code = param(res.location(), "code").unwrap();
    let t = redeem(&w, ("rp", w.secret("rp")), &code, &p2.verifier).json();
    assert!(t.get("refresh_token").is_none(), "{t}");

    // client_secret_post works, userinfo takes a token in a POST body, and a
    // public client may not introspect.
    let t = w.sign_in("rp", "alice", &[]).1;
    let at = t["access_token"].as_str().unwrap();
    let res = post_form(
        &w.server,
        "/introspect",
        None,
        &[
            ("token", at),
            ("client_id", "rp"),
            ("client_secret", w.secret("rp")),
        ],
    );
    assert_eq!(res.json()["active"], true);
    let res = post_form(&w.server, "/userinfo", None, &[("access_token", at)]);
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.json()["sub"].is_string());
    let res = post_form(
        &w.server,
        "/introspect",
        None,
        &[("token", at), ("client_id", "mobile")],
    );
    assert_eq!(res.status, 401);

    // Discovery under both names; JWKS without private members.
    let a = Browser::new(&w.server)
        .get("/.well-known/oauth-authorization-server")
        .json();
    let o = Browser::new(&w.server)
        .get("/.well-known/openid-configuration")
        .json();
    assert_eq!(a, o);
    assert_eq!(o["issuer"], w.server.base.as_str());
    let jwks = Browser::new(&w.server).get("/jwks").json();
    for k in jwks["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "{k}");
        }
        assert!(k["kid"].is_string() && k["alg"].is_string() && k["use"] == "sig");
    }

    // Withdrawing consent revokes the client's tokens for that user.
    let rt = t["refresh_token"].as_str().unwrap();
    w.env.ok(&["user", "revoke-consent", "alice", "rp"], None);
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic("rp", w.secret("rp"))),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    );
    assert_eq!(res.json()["error"], "invalid_grant");

    // A disabled user's tokens stop working everywhere.
    let t = w.sign_in("rp", "alice", &[]).1;
    let at = t["access_token"].as_str().unwrap();
    let rt = t["refresh_token"].as_str().unwrap();
    w.env.ok(&["user", "disable", "alice"], None);
    assert_eq!(
        post_form(
            &w.server,
            "/introspect",
            Some(&basic("rp", w.secret("rp"))),
            &[("token", at)]
        )
        .json()["active"],
        false
    );
    assert_eq!(
        post_form(
            &w.server,
            "/introspect",
            Some(&basic("rp", w.secret("rp"))),
            &[("token", rt)]
        )
        .json()["active"],
        false
    );
    assert_eq!(
        post_form(&w.server, "/userinfo", None, &[("access_token", at)]).status,
        401
    );
    let res = post_form(
        &w.server,
        "/token",
        Some(&basic("rp", w.secret("rp"))),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    );
    assert_eq!(res.json()["error"], "invalid_grant");
}

per_backend!(review_findings_stay_fixed);

/// Brute force: growing delays per account name (known or not, alike) and per
/// address; a delay refuses even the right password; enabling the account lifts it.
fn sign_in_attempts_are_throttled_alike_for_unknown_accounts(backend: Backend) {
    let w = world(backend, &[]);
    let p = pkce();
    let attempt = |username: &str, password: &str| {
        let (mut b, interaction, csrf) =
            oidc::on_login_page(&w.server, "fp", &p, &[("scope", "openid")]);
        b.sign_in(&interaction, &csrf, username, password)
    };
    let alert = |body: &str| {
        body.split("role=\"alert\"").nth(1).map(|s| {
            s.split('<')
                .next()
                .unwrap()
                .trim_start_matches(['>', ' ', '"'])
                .to_string()
        })
    };
    for username in ["alice", "nobody"] {
        for _ in 0..5 {
            assert_eq!(
                attempt(username, "wrong-password-x").status,
                401,
                "{backend:?} {username}"
            );
        }
        // The 6th comes within the 1 s delay: refused without checking the password.
        let res = attempt(username, common::PASSWORD);
        assert_eq!(res.status, 429, "{backend:?} {username}: {}", res.body);
        assert!(res.headers.contains_key("retry-after"));
        assert!(
            alert(&res.body)
                .unwrap()
                .contains("Too many failed attempts"),
            "{username}"
        );
    }
    assert!(
        w.env
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'login.throttled'")
            >= 2
    );
    // The administrator lifts alice's delay; her password works again.
    w.env.ok(&["user", "enable", "alice"], None);
    assert_eq!(
        attempt("alice", common::PASSWORD).status,
        303,
        "{backend:?}"
    );
}

per_backend!(sign_in_attempts_are_throttled_alike_for_unknown_accounts);
