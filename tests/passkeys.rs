//! Passkeys over real HTTP: a patient signs up with nothing but a passkey and
//! signs in again usernameless from another browser; every WebAuthn check that
//! matters (origin, RP id, challenge, user verification, replay, expiry) refuses
//! with a JSON error, writes nothing and leaves an audit record; and the JSON
//! endpoints refuse bad input with JSON, never a 500. On SQLite and PostgreSQL.
//!
//! WebAuthn refuses IP-address RP ids, so these servers run with the issuer
//! `http://localhost:<port>` (RP id `localhost`) while the client talks to
//! `127.0.0.1:<port>`; the soft authenticator signs for origin `http://localhost:<port>`.

mod common;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::app::{TestApp, TestAppBuilder, amr, id_claims};
use common::oidc::{self, Browser, Pkce, REDIRECT, hidden, param, pkce};
use common::webauthn::{SoftAuthenticator, Tweaks, inspect_registration};
use common::{Backend, Server, TestEnv};

const CLIENT: &str = "app";
const SESSION_COOKIE: &str = "ward_session";

/// A Ward with the confidential client `app` for the code flow; its issuer
/// is `http://localhost:<port>` with `.on_localhost()`, and the origin a
/// browser on the issuer's pages would report is that issuer.
fn ward(backend: Backend) -> TestAppBuilder {
    TestApp::new(backend).confidential(
        CLIENT,
        REDIRECT,
        &[
            "--scope",
            "openid profile email offline_access",
            "--name",
            "Patient Portal",
        ],
    )
}

/// The same, on localhost, with sign-up on.
fn ward_with_signup(backend: Backend) -> TestApp {
    ward(backend)
        .on_localhost()
        .serve_env("WARD_SIGNUP_ENABLED", "true")
        .start()
}

/// The port of the issuer (and of the server).
fn port(w: &TestApp) -> u16 {
    w.issuer.rsplit(':').next().unwrap().parse().unwrap()
}

/// A response of a JSON endpoint, with every Set-Cookie kept.
struct Reply {
    status: u16,
    content_type: String,
    body: String,
    set_cookies: Vec<String>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}, content-type {:?}: {}",
                self.status, self.content_type, self.body
            )
        })
    }

    fn sets_cookie(&self, name: &str) -> bool {
        self.set_cookies.iter().any(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .split_once('=')
                .map(|(n, _)| n)
                == Some(name)
        })
    }

    /// A refusal: exactly `status`, a JSON `{error, message}` body with `error`
    /// = `code`, and no session cookie. Returns the message.
    fn refused(&self, status: u16, code: &str, what: &str) -> String {
        assert_eq!(self.status, status, "{what}: {}", self.body);
        assert!(
            self.content_type.starts_with("application/json"),
            "{what}: content-type {:?}: {}",
            self.content_type,
            self.body
        );
        let body = self.json();
        assert_eq!(body["error"], code, "{what}: {}", self.body);
        let message = body["message"].as_str().unwrap_or_default().to_string();
        assert!(!message.is_empty(), "{what}: no message: {}", self.body);
        assert!(
            !self.sets_cookie(SESSION_COOKIE),
            "{what}: a refusal set a session cookie: {:?}",
            self.set_cookies
        );
        message
    }
}

/// POST `body` with `content_type` (None: no Content-Type header) and the browser's cookies.
fn send(
    b: &mut Browser,
    server: &Server,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let cookie = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut req = agent.post(&server.url(path));
    if !cookie.is_empty() {
        req = req.header("cookie", &cookie);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let mut res = req
        .send(body)
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let mut set_cookies = Vec::new();
    for v in res.headers().get_all("set-cookie") {
        let v = v.to_str().unwrap_or_default().to_string();
        let pair = v.split(';').next().unwrap_or_default();
        if let Some((n, val)) = pair.split_once('=') {
            if val.is_empty() {
                b.cookies.remove(n);
            } else {
                b.cookies.insert(n.to_string(), val.to_string());
            }
        }
        set_cookies.push(v);
    }
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = res.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status: res.status().as_u16(),
        content_type,
        body,
        set_cookies,
    }
}

fn post_json(b: &mut Browser, server: &Server, path: &str, body: &Value) -> Reply {
    send(
        b,
        server,
        path,
        Some("application/json"),
        body.to_string().as_bytes(),
    )
}

/// The value of a `data-<name>` attribute.
fn data_attr(html: &str, name: &str) -> String {
    let marker = format!("data-{name}=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no data-{name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A new browser at the login page of a new authorization request:
/// (browser, PKCE, interaction, csrf).
fn login_page(w: &TestApp) -> (Browser, Pkce, String, String) {
    let p = pkce();
    let (mut b, interaction, csrf) = oidc::on_login_page(&w.server, CLIENT, &p, &[]);
    // The passkey button's script reads the same values from data attributes.
    let page = b.get(&format!("/login?interaction={interaction}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(data_attr(&page.body, "interaction"), interaction);
    assert_eq!(data_attr(&page.body, "csrf"), csrf);
    (b, p, interaction, csrf)
}

/// The sign-up page of the interaction: its CSRF token.
fn signup_page(b: &mut Browser, interaction: &str) -> String {
    let page = b.get(&format!("/signup?interaction={interaction}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(data_attr(&page.body, "interaction"), interaction);
    data_attr(&page.body, "csrf")
}

/// `POST /signup/start` that must succeed: (ceremony, options).
fn signup_start(
    w: &TestApp,
    b: &mut Browser,
    interaction: &str,
    csrf: &str,
    username: &str,
) -> (String, Value) {
    let res = post_json(
        b,
        &w.server,
        "/signup/start",
        &json!({
            "interaction": interaction,
            "csrf": csrf,
            "username": username,
            "display_name": "Pat Patient",
            "email": format!("{username}@example.org"),
        }),
    );
    assert_eq!(res.status, 200, "signup start: {}", res.body);
    let body = res.json();
    let pk = &body["options"]["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost", "{body}");
    assert_eq!(
        pk["authenticatorSelection"]["residentKey"], "required",
        "{body}"
    );
    assert_eq!(
        pk["authenticatorSelection"]["userVerification"], "required",
        "{body}"
    );
    (
        body["ceremony"].as_str().expect("ceremony").to_string(),
        body["options"].clone(),
    )
}

/// `POST /login/passkey/start` that must succeed: (ceremony, options).
fn signin_start(w: &TestApp, b: &mut Browser, interaction: &str, csrf: &str) -> (String, Value) {
    let res = post_json(
        b,
        &w.server,
        "/login/passkey/start",
        &json!({ "interaction": interaction, "csrf": csrf }),
    );
    assert_eq!(res.status, 200, "passkey start: {}", res.body);
    let body = res.json();
    let pk = &body["options"]["publicKey"];
    assert_eq!(pk["rpId"], "localhost", "{body}");
    assert!(
        pk["allowCredentials"].as_array().is_none_or(Vec::is_empty),
        "usernameless sign-in names no credentials: {body}"
    );
    (
        body["ceremony"].as_str().expect("ceremony").to_string(),
        body["options"].clone(),
    )
}

fn finish(
    w: &TestApp,
    b: &mut Browser,
    path: &str,
    (interaction, csrf): (&str, &str),
    ceremony: &str,
    credential: &Value,
) -> Reply {
    post_json(
        b,
        &w.server,
        path,
        &json!({
            "interaction": interaction,
            "csrf": csrf,
            "ceremony": ceremony,
            "credential": credential,
        }),
    )
}

/// `POST /login/passkey/finish`.
fn finish_sign_in(
    w: &TestApp,
    b: &mut Browser,
    ids: (&str, &str),
    ceremony: &str,
    credential: &Value,
) -> Reply {
    finish(w, b, "/login/passkey/finish", ids, ceremony, credential)
}

/// `POST /signup/finish`.
fn finish_sign_up(
    w: &TestApp,
    b: &mut Browser,
    ids: (&str, &str),
    ceremony: &str,
    credential: &Value,
) -> Reply {
    finish(w, b, "/signup/finish", ids, ceremony, credential)
}

/// A finish that must succeed: the session cookie is set; returns the redirect.
fn accepted(res: &Reply, what: &str) -> String {
    assert_eq!(res.status, 200, "{what}: {}", res.body);
    assert!(
        res.sets_cookie(SESSION_COOKIE),
        "{what}: no session cookie: {:?}",
        res.set_cookies
    );
    let redirect = res.json()["redirect"]
        .as_str()
        .expect("redirect")
        .to_string();
    assert!(
        redirect.starts_with("/authorize/resume?interaction="),
        "{what}: {redirect}"
    );
    redirect
}

/// Follow the redirect of a finished sign-in (resume, consent) to the code, and
/// redeem it: the ID token's claims.
fn redeem(w: &TestApp, b: &mut Browser, redirect: &str, p: &Pkce) -> Value {
    let res = b.authorize(redirect, "nobody-with-a-password");
    assert_eq!(res.status, 303, "{}", res.body);
    let location = res.location().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("st4te"));
    let code = param(&location, "code").expect("code");
    id_claims(&w.tokens(CLIENT, &code, p))
}

/// Sign up `username` with `authn` through a new authorization: the ID token's claims.
fn sign_up(w: &TestApp, username: &str, authn: &mut SoftAuthenticator) -> Value {
    let (mut b, p, interaction, login_csrf) = login_page(w);
    let login = b.get(&format!("/login?interaction={interaction}"));
    assert!(
        login
            .body
            .contains(&format!("/signup?interaction={interaction}")),
        "the login page offers sign-up: {}",
        login.body
    );
    let csrf = signup_page(&mut b, &interaction);
    assert_eq!(
        csrf, login_csrf,
        "one CSRF token per interaction and browser"
    );
    let (ceremony, options) = signup_start(w, &mut b, &interaction, &csrf, username);
    let credential = authn.register(&options, &w.issuer);
    let res = finish(
        w,
        &mut b,
        "/signup/finish",
        (&interaction, &csrf),
        &ceremony,
        &credential,
    );
    let redirect = accepted(&res, "signup finish");
    let claims = redeem(w, &mut b, &redirect, &p);
    assert_eq!(claims["nonce"], "n0nce", "{claims}");
    claims
}

/// Sign in usernameless with `authn` from a new browser: the ID token's claims.
fn sign_in(w: &TestApp, authn: &mut SoftAuthenticator) -> Value {
    let (mut b, p, interaction, csrf) = login_page(w);
    let (ceremony, options) = signin_start(w, &mut b, &interaction, &csrf);
    let assertion = authn.authenticate(&options, &w.issuer);
    let res = finish(
        w,
        &mut b,
        "/login/passkey/finish",
        (&interaction, &csrf),
        &ceremony,
        &assertion,
    );
    let redirect = accepted(&res, "passkey finish");
    redeem(w, &mut b, &redirect, &p)
}

/// The audit trail, read as an operator would: `ward audit export --format jsonl`.
fn audit(env: &TestEnv) -> Vec<Value> {
    env.ok(&["audit", "export", "--format", "jsonl"], None)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON audit record"))
        .collect()
}

fn failures(env: &TestEnv, event_type: &str) -> Vec<Value> {
    audit(env)
        .into_iter()
        .filter(|r| r["event_type"] == event_type && r["outcome"] == "failure")
        .collect()
}

/// Wait (briefly) until exactly `n` failures of `event_type` are on record; returns them.
fn await_failures(env: &TestEnv, event_type: &str, n: usize, what: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = failures(env, event_type);
        if found.len() >= n {
            assert_eq!(
                found.len(),
                n,
                "{what}: one {event_type} failure per refusal: {found:#?}"
            );
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {n} {event_type} failures expected, {} on record: {found:#?}",
            found.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last two failures on record: a replay (the ceremony was spent), then
/// a stale answer to a fresh ceremony (WebAuthn refused it).
fn a_replay_then_a_stale_answer(records: &[Value]) {
    let n = records.len();
    assert_eq!(
        reason(&records[n - 2]),
        "unknown_or_expired_ceremony",
        "{:#?}",
        &records[n - 2..]
    );
    assert!(
        reason(&records[n - 1]).contains("webauthn:"),
        "{:#?}",
        &records[n - 1]
    );
}

fn reason(record: &Value) -> String {
    record["reason"].as_str().unwrap_or_default().to_string()
}

fn count(env: &TestEnv, table: &str) -> i64 {
    env.count(&format!("SELECT COUNT(*) AS n FROM {table}"))
}

/// The account of `sub`, signed up with `phone` as "Pat.Patient": a patient
/// under the normalised name, with no password, and the passkey as registered.
fn a_passwordless_patient(w: &TestApp, backend: Backend, sub: &str, phone: &SoftAuthenticator) {
    // The account exists, as a patient, under the normalised name, with no password.
    let shown: Value =
        serde_json::from_str(&w.env.ok(&["user", "show", "pat.patient", "--json"], None)).unwrap();
    assert_eq!(shown["id"], sub, "{shown}");
    assert_eq!(shown["username"], "pat.patient", "{shown}");
    assert_eq!(shown["account_type"], "patient", "{shown}");
    assert_eq!(shown["email"], "Pat.Patient@example.org", "{shown}");
    assert_eq!(shown["email_verified"], false, "{shown}");
    assert_eq!(
        w.env.count(&format!(
            "SELECT COUNT(*) AS n FROM password_credentials WHERE user_id = '{sub}'"
        )),
        0,
        "{backend:?}: a passkey-only account has no password"
    );
    let cred = phone
        .credential_for("localhost")
        .expect("credential")
        .clone();
    assert_eq!(
        w.env.count(&format!(
            "SELECT COUNT(*) AS n FROM passkeys WHERE user_id = '{sub}' AND credential_id = '{}' \
             AND aaguid = '{}' AND backup_eligible = FALSE AND backup_state = FALSE",
            cred.id_b64(),
            phone.aaguid_string()
        )),
        1,
        "{backend:?}: the passkey is stored as registered"
    );
    let signup = audit(&w.env)
        .into_iter()
        .find(|r| r["event_type"] == "user.signup" && r["outcome"] == "success")
        .expect("a user.signup record");
    assert_eq!(signup["subject_user"], sub, "{signup}");
}

fn a_patient_signs_up_with_only_a_device_bound_passkey_and_signs_in_usernameless(backend: Backend) {
    let w = ward_with_signup(backend);

    // Sign-up: a device-bound passkey (BE=0) and nothing else.
    let mut phone = SoftAuthenticator::new();
    let claims = sign_up(&w, "Pat.Patient", &mut phone);
    assert_eq!(claims["acr"], "phrh", "{backend:?}: {claims}");
    assert_eq!(
        amr(&claims),
        ["hwk", "user", "mfa"],
        "{backend:?}: {claims}"
    );
    let sub = claims["sub"].as_str().expect("sub").to_string();

    a_passwordless_patient(&w, backend, &sub, &phone);
    // No password sign-in for this account: it has no password.
    let (mut b, _, interaction, csrf) = login_page(&w);
    let res = b.sign_in(&interaction, &csrf, "pat.patient", "");
    assert_ne!(res.status, 303, "{backend:?}: signed in without a password");

    // A new browser, usernameless: the same person.
    let again = sign_in(&w, &mut phone);
    assert_eq!(again["sub"], sub.as_str(), "{backend:?}: {again}");
    assert_eq!(again["acr"], "phrh", "{backend:?}: {again}");
    assert_eq!(amr(&again), ["hwk", "user", "mfa"], "{backend:?}: {again}");
    assert!(
        w.env.count(&format!(
            "SELECT COUNT(*) AS n FROM passkeys WHERE user_id = '{sub}' AND last_used_at IS NOT NULL"
        )) == 1,
        "{backend:?}: the sign-in is recorded on the passkey"
    );
}

fn a_synced_passkey_signs_up_another_person_without_hardware_binding(backend: Backend) {
    let w = ward_with_signup(backend);
    let mut phone = SoftAuthenticator::new();
    let sub = sign_up(&w, "Pat.Patient", &mut phone)["sub"]
        .as_str()
        .expect("sub")
        .to_string();

    // A synced passkey (backup eligible and backed up): phishing-resistant, not hardware-bound.
    let mut synced = SoftAuthenticator::new();
    synced.backup_eligible = true;
    synced.backup_state = true;
    let claims = sign_up(&w, "sam", &mut synced);
    assert_eq!(claims["acr"], "phr", "{backend:?}: {claims}");
    assert!(
        amr(&claims).contains(&"swk".to_string()),
        "{backend:?}: {claims}"
    );
    assert!(
        !amr(&claims).contains(&"hwk".to_string()),
        "{backend:?}: {claims}"
    );
    let sam = claims["sub"].as_str().unwrap().to_string();
    assert_ne!(sam, sub);
    assert_eq!(
        w.env.count(&format!(
            "SELECT COUNT(*) AS n FROM passkeys WHERE user_id = '{sam}' \
             AND backup_eligible = TRUE AND backup_state = TRUE"
        )),
        1,
        "{backend:?}"
    );
    let again = sign_in(&w, &mut synced);
    assert_eq!(again["sub"], sam.as_str(), "{backend:?}: {again}");
    assert_eq!(again["acr"], "phr", "{backend:?}: {again}");
    assert_eq!(amr(&again), ["swk", "user", "mfa"], "{backend:?}: {again}");

    // And the first person's passkey still signs in as the first person.
    let third = sign_in(&w, &mut phone);
    assert_eq!(third["sub"], sub.as_str(), "{backend:?}: {third}");
    assert_eq!(count(&w.env, "users"), 2, "{backend:?}");
}

per_backend!(
    a_patient_signs_up_with_only_a_device_bound_passkey_and_signs_in_usernameless,
    a_synced_passkey_signs_up_another_person_without_hardware_binding,
);

/// The ways a ceremony's answer can be wrong, as soft-authenticator tweaks.
fn bad_ceremonies(w: &TestApp) -> Vec<(&'static str, Tweaks)> {
    vec![
        (
            "a look-alike origin",
            Tweaks {
                origin: Some(format!("http://evil.localhost:{}", port(w))),
                ..Tweaks::default()
            },
        ),
        (
            "the issuer's host on another port",
            Tweaks {
                origin: Some(format!(
                    "http://localhost:{}",
                    port(w).wrapping_add(1).max(1)
                )),
                ..Tweaks::default()
            },
        ),
        (
            "another RP id",
            Tweaks {
                rp_id: Some("example.org".into()),
                ..Tweaks::default()
            },
        ),
        (
            "a foreign challenge",
            Tweaks {
                challenge: Some(vec![7u8; 32]),
                ..Tweaks::default()
            },
        ),
        (
            "no user verification",
            Tweaks {
                user_verified: Some(false),
                ..Tweaks::default()
            },
        ),
    ]
}

/// The trail is intact after all of it.
fn the_trail_is_intact(w: &TestApp) {
    let out = w.env.ok(&["audit", "verify"], None);
    assert!(out.contains("audit chain intact"), "{out}");
}

fn bad_sign_up_ceremonies_are_refused_spent_and_audited(backend: Backend) {
    let w = ward_with_signup(backend);
    let mut signup_failures = 0;

    // ---- Sign-up ----
    let (mut b, _, interaction, csrf) = login_page(&w);
    let csrf_signup = signup_page(&mut b, &interaction);
    assert_eq!(csrf_signup, csrf);
    let mut authn = SoftAuthenticator::new();
    for (what, tweaks) in bad_ceremonies(&w) {
        let (ceremony, options) = signup_start(&w, &mut b, &interaction, &csrf, "mallory");
        let credential = authn.register_with(&options, &w.issuer, tweaks);
        let res = finish_sign_up(&w, &mut b, (&interaction, &csrf), &ceremony, &credential);
        let message = res.refused(
            400,
            "passkey_refused",
            &format!("{backend:?} sign-up, {what}"),
        );
        eprintln!("{backend:?} sign-up, {what}: {} {message}", res.status);
        assert_eq!(
            count(&w.env, "users"),
            0,
            "{backend:?} sign-up, {what}: no user"
        );
        assert_eq!(
            count(&w.env, "passkeys"),
            0,
            "{backend:?} sign-up, {what}: no passkey"
        );
        assert_eq!(
            count(&w.env, "sessions"),
            0,
            "{backend:?} sign-up, {what}: no session"
        );
        signup_failures += 1;
        let records = await_failures(&w.env, "user.signup", signup_failures, what);
        let last = records.last().unwrap();
        assert!(reason(last).contains("webauthn:"), "{what}: {last}");
        assert_eq!(last["ip"], "127.0.0.1", "{what}: {last}");
        eprintln!("  audit reason: {}", reason(last));
        // The refused ceremony is spent: an honest answer to it now fails too.
        let honest = authn.clone().register(&options, &w.issuer);
        let res = finish_sign_up(&w, &mut b, (&interaction, &csrf), &ceremony, &honest);
        res.refused(
            400,
            "expired",
            &format!("{backend:?} sign-up, {what}, retried"),
        );
        assert_eq!(count(&w.env, "users"), 0, "{backend:?}");
        signup_failures += 1;
        await_failures(&w.env, "user.signup", signup_failures, what);
    }
    assert!(
        authn.credentials.is_empty(),
        "refused credentials are not kept"
    );

    the_trail_is_intact(&w);
}

fn a_replayed_or_stale_sign_up_answer_is_refused(backend: Backend) {
    let w = ward_with_signup(backend);
    let mut signup_failures = 0;
    let (mut b, _, interaction, csrf) = login_page(&w);
    signup_page(&mut b, &interaction);
    let mut authn = SoftAuthenticator::new();

    // An honest sign-up, then the same answer again: refused, nothing added.
    let (ceremony, options) = signup_start(&w, &mut b, &interaction, &csrf, "pat");
    let credential = authn.register(&options, &w.issuer);
    let info = inspect_registration(&credential);
    assert!(info.user_verified() && !info.backup_eligible());
    let res = finish_sign_up(&w, &mut b, (&interaction, &csrf), &ceremony, &credential);
    accepted(&res, "honest sign-up");
    assert_eq!(count(&w.env, "users"), 1, "{backend:?}");
    let sessions = count(&w.env, "sessions");
    let res = finish_sign_up(&w, &mut b, (&interaction, &csrf), &ceremony, &credential);
    let message = res.refused(400, "expired", &format!("{backend:?} sign-up replayed"));
    eprintln!("{backend:?} sign-up replayed: {} {message}", res.status);
    // A fresh ceremony answered with the copied registration (its challenge is the old one).
    let (ceremony2, _) = signup_start(&w, &mut b, &interaction, &csrf, "pat2");
    let res = finish_sign_up(&w, &mut b, (&interaction, &csrf), &ceremony2, &credential);
    let message = res.refused(
        400,
        "passkey_refused",
        &format!("{backend:?} sign-up, stale answer"),
    );
    eprintln!(
        "{backend:?} sign-up, stale answer: {} {message}",
        res.status
    );
    assert_eq!(count(&w.env, "users"), 1, "{backend:?}");
    assert_eq!(count(&w.env, "passkeys"), 1, "{backend:?}");
    assert_eq!(count(&w.env, "sessions"), sessions, "{backend:?}");
    signup_failures += 2;
    let records = await_failures(&w.env, "user.signup", signup_failures, "sign-up replays");
    a_replay_then_a_stale_answer(&records);

    the_trail_is_intact(&w);
}

fn bad_sign_in_assertions_are_refused_spent_and_audited(backend: Backend) {
    let w = ward_with_signup(backend);
    let mut authn = SoftAuthenticator::new();
    sign_up(&w, "pat", &mut authn);
    let mut signin_failures = 0;

    // ---- Sign-in, with the passkey of "pat" ----
    let sessions = count(&w.env, "sessions");
    let (mut b, _, interaction, csrf) = login_page(&w);
    let ids = (interaction.as_str(), csrf.as_str());
    let mut bad = bad_ceremonies(&w);
    let cred = authn.credential_for("localhost").unwrap().clone();
    bad.push((
        "a cloned authenticator (signature counter not increased)",
        Tweaks {
            sign_count: Some(cred.sign_count),
            ..Tweaks::default()
        },
    ));
    // First an honest sign-in moves the counter off zero (webauthn-rs ignores
    // counters while both sides report 0).
    let (ceremony, options) = signin_start(&w, &mut b, &interaction, &csrf);
    let first = authn.authenticate(&options, &w.issuer);
    let res = finish_sign_in(&w, &mut b, ids, &ceremony, &first);
    accepted(&res, "honest sign-in");
    let sessions_after_first = count(&w.env, "sessions");
    assert_eq!(sessions_after_first, sessions + 1, "{backend:?}");
    // The counter tweak is relative to the counter now.
    let counter = authn.credential_for("localhost").unwrap().sign_count;
    bad.last_mut().unwrap().1.sign_count = Some(counter);

    let (mut b, _, interaction, csrf) = login_page(&w);
    let ids = (interaction.as_str(), csrf.as_str());
    for (what, tweaks) in bad {
        // Failures of an identified passkey count against its account (5 free, then
        // delays): an administrator's `user enable` resets the run between cases.
        w.env.ok(&["user", "enable", "pat"], None);
        let (ceremony, options) = signin_start(&w, &mut b, &interaction, &csrf);
        let assertion = authn.authenticate_with(&options, &w.issuer, tweaks);
        let res = finish_sign_in(&w, &mut b, ids, &ceremony, &assertion);
        let message = res.refused(
            401,
            "passkey_refused",
            &format!("{backend:?} sign-in, {what}"),
        );
        eprintln!("{backend:?} sign-in, {what}: {} {message}", res.status);
        assert_eq!(
            count(&w.env, "sessions"),
            sessions_after_first,
            "{backend:?} {what}: no session"
        );
        signin_failures += 1;
        let records = await_failures(&w.env, "login.passkey", signin_failures, what);
        let last = records.last().unwrap();
        eprintln!("  audit reason: {}", reason(last));
        assert!(reason(last).contains("webauthn:"), "{what}: {last}");
        assert_eq!(last["ip"], "127.0.0.1", "{what}: {last}");
        // The refused ceremony is spent: an honest answer to it now fails too.
        let honest = authn.authenticate(&options, &w.issuer);
        let res = finish_sign_in(&w, &mut b, ids, &ceremony, &honest);
        res.refused(
            401,
            "passkey_refused",
            &format!("{backend:?} sign-in, {what}, retried"),
        );
        signin_failures += 1;
        let records = await_failures(&w.env, "login.passkey", signin_failures, what);
        assert_eq!(
            reason(records.last().unwrap()),
            "unknown_or_expired_ceremony"
        );
    }
    assert_eq!(
        count(&w.env, "sessions"),
        sessions_after_first,
        "{backend:?}"
    );

    the_trail_is_intact(&w);
}

fn a_replayed_or_stale_sign_in_assertion_is_refused(backend: Backend) {
    let w = ward_with_signup(backend);
    let mut authn = SoftAuthenticator::new();
    sign_up(&w, "pat", &mut authn);
    let mut signin_failures = 0;
    let (mut b, p2, interaction, csrf) = login_page(&w);
    let ids = (interaction.as_str(), csrf.as_str());

    // Replays: the same ceremony finished twice, and a fresh ceremony answered
    // with a copied assertion.
    let (ceremony, options) = signin_start(&w, &mut b, &interaction, &csrf);
    let assertion = authn.authenticate(&options, &w.issuer);
    let res = finish_sign_in(&w, &mut b, ids, &ceremony, &assertion);
    let redirect = accepted(&res, "honest sign-in after refusals");
    let sessions_now = count(&w.env, "sessions");
    let res = finish_sign_in(&w, &mut b, ids, &ceremony, &assertion);
    let message = res.refused(
        401,
        "passkey_refused",
        &format!("{backend:?} sign-in replayed"),
    );
    eprintln!("{backend:?} sign-in replayed: {} {message}", res.status);
    let (ceremony2, _) = signin_start(&w, &mut b, &interaction, &csrf);
    let res = finish_sign_in(&w, &mut b, ids, &ceremony2, &assertion);
    let message = res.refused(
        401,
        "passkey_refused",
        &format!("{backend:?} sign-in, stale assertion"),
    );
    eprintln!(
        "{backend:?} sign-in, stale assertion: {} {message}",
        res.status
    );
    assert_eq!(count(&w.env, "sessions"), sessions_now, "{backend:?}");
    signin_failures += 2;
    let records = await_failures(&w.env, "login.passkey", signin_failures, "sign-in replays");
    a_replay_then_a_stale_answer(&records);

    // After all that, the honest sign-in of this browser still completes.
    let claims = redeem(&w, &mut b, &redirect, &p2);
    assert_eq!(claims["acr"], "phrh", "{claims}");

    the_trail_is_intact(&w);
}

per_backend!(
    bad_sign_up_ceremonies_are_refused_spent_and_audited,
    a_replayed_or_stale_sign_up_answer_is_refused,
    bad_sign_in_assertions_are_refused_spent_and_audited,
    a_replayed_or_stale_sign_in_assertion_is_refused,
);

/// Expired ceremonies (a server with one-second ceremonies), with the passkey
/// of "pat", signed up on an ordinary server first.
fn expired_passkey_ceremonies_are_refused_and_audited(backend: Backend) {
    let mut authn = SoftAuthenticator::new();
    let mut w = ward_with_signup(backend);
    sign_up(&w, "pat", &mut authn);
    let mut signup_failures = 0;
    let mut signin_failures = 0;

    w.set_serve_env("WARD_PASSKEYS_CEREMONY_SECONDS", "1");
    w.restart_with(|| {});
    let (mut b, _, interaction, csrf) = login_page(&w);
    let ids = (interaction.as_str(), csrf.as_str());
    let sessions = count(&w.env, "sessions");
    let (ceremony, options) = signin_start(&w, &mut b, &interaction, &csrf);
    std::thread::sleep(Duration::from_millis(1600));
    let assertion = authn.authenticate(&options, &w.issuer);
    let res = finish_sign_in(&w, &mut b, ids, &ceremony, &assertion);
    let message = res.refused(
        401,
        "passkey_refused",
        &format!("{backend:?} sign-in, expired"),
    );
    eprintln!(
        "{backend:?} sign-in, expired ceremony: {} {message}",
        res.status
    );
    assert_eq!(count(&w.env, "sessions"), sessions, "{backend:?}");
    signin_failures += 1;
    let records = await_failures(&w.env, "login.passkey", signin_failures, "expired sign-in");
    assert_eq!(
        reason(records.last().unwrap()),
        "unknown_or_expired_ceremony"
    );

    let csrf_signup = signup_page(&mut b, &interaction);
    let users = count(&w.env, "users");
    let (ceremony, options) = signup_start(&w, &mut b, &interaction, &csrf_signup, "late");
    std::thread::sleep(Duration::from_millis(1600));
    let credential = SoftAuthenticator::new().register(&options, &w.issuer);
    let res = finish_sign_up(&w, &mut b, ids, &ceremony, &credential);
    let message = res.refused(400, "expired", &format!("{backend:?} sign-up, expired"));
    eprintln!(
        "{backend:?} sign-up, expired ceremony: {} {message}",
        res.status
    );
    assert_eq!(count(&w.env, "users"), users, "{backend:?}");
    signup_failures += 1;
    let records = await_failures(&w.env, "user.signup", signup_failures, "expired sign-up");
    assert_eq!(
        reason(records.last().unwrap()),
        "unknown_or_expired_ceremony"
    );

    // A quick honest ceremony still works under the short lifetime.
    let (ceremony, options) = signin_start(&w, &mut b, &interaction, &csrf);
    let assertion = authn.authenticate(&options, &w.issuer);
    let res = finish_sign_in(&w, &mut b, ids, &ceremony, &assertion);
    accepted(&res, "honest sign-in, short lifetime");

    // The trail is intact after all of it.
    let out = w.env.ok(&["audit", "verify"], None);
    assert!(out.contains("audit chain intact"), "{out}");
}

per_backend!(expired_passkey_ceremonies_are_refused_and_audited);

/// Ward with sign-up on and the user `alice`, and a browser at the login
/// page of a new authorization: (Ward, browser, interaction, csrf).
fn at_the_login_page(backend: Backend) -> (TestApp, Browser, String, String) {
    let w = ward(backend)
        .user("alice")
        .on_localhost()
        .serve_env("WARD_SIGNUP_ENABLED", "true")
        .start();
    let (b, _, interaction, csrf) = login_page(&w);
    (w, b, interaction, csrf)
}

fn passkey_endpoints_refuse_a_missing_or_wrong_csrf_token(backend: Backend) {
    let (w, mut b, interaction, csrf) = at_the_login_page(backend);
    let server = &w.server;

    // CSRF: empty, wrong, another interaction's, missing browser cookie, missing field.
    let other = oidc::on_login_page(server, CLIENT, &pkce(), &[]);
    for path in ["/login/passkey/start", "/signup/start"] {
        for (what, token) in [
            ("an empty token", String::new()),
            ("a wrong token", "00".repeat(32)),
            ("not hex", "not-a-token".to_string()),
            ("another interaction's token", other.2.clone()),
        ] {
            let res = post_json(
                &mut b,
                server,
                path,
                &json!({ "interaction": interaction, "csrf": token, "username": "eve" }),
            );
            res.refused(403, "csrf", &format!("{backend:?} {path}, {what}"));
        }
        // The right token from a browser without the cookie it is bound to.
        let mut stranger = Browser::new(server);
        let res = post_json(
            &mut stranger,
            server,
            path,
            &json!({ "interaction": interaction, "csrf": csrf, "username": "eve" }),
        );
        res.refused(
            403,
            "csrf",
            &format!("{backend:?} {path}, no browser cookie"),
        );
        // No csrf member at all: the body is not what the endpoint expects.
        let res = post_json(&mut b, server, path, &json!({ "interaction": interaction }));
        let code = if res.status == 403 {
            "csrf"
        } else {
            "invalid_request"
        };
        assert!(
            matches!(res.status, 400 | 403),
            "{backend:?} {path}: {}",
            res.body
        );
        res.refused(
            res.status,
            code,
            &format!("{backend:?} {path}, no csrf member"),
        );
        eprintln!(
            "{backend:?} {path} without a csrf member: {} {}",
            res.status, res.body
        );
    }
    for path in ["/login/passkey/finish", "/signup/finish"] {
        let res = post_json(
            &mut b,
            server,
            path,
            &json!({ "interaction": interaction, "csrf": "00", "ceremony": "x", "credential": {} }),
        );
        res.refused(403, "csrf", &format!("{backend:?} {path}, wrong token"));
    }
}

fn passkey_endpoints_refuse_anything_but_a_json_body(backend: Backend) {
    let (w, mut b, interaction, csrf) = at_the_login_page(backend);
    let server = &w.server;

    // Not JSON, or not declared as JSON: 400 with a JSON body, never 500 or text.
    let good = json!({ "interaction": interaction, "csrf": csrf }).to_string();
    for path in [
        "/login/passkey/start",
        "/login/passkey/finish",
        "/signup/start",
        "/signup/finish",
    ] {
        let cases: Vec<(&str, Option<&str>, Vec<u8>)> =
            vec![
            ("malformed JSON", Some("application/json"), b"{\"interaction\": ".to_vec()),
            ("not JSON at all", Some("application/json"), b"interaction=x&csrf=y".to_vec()),
            ("a JSON array", Some("application/json"), b"[1, 2]".to_vec()),
            ("an empty body", Some("application/json"), Vec::new()),
            ("JSON as text/plain", Some("text/plain"), good.clone().into_bytes()),
            (
                "a form",
                Some("application/x-www-form-urlencoded"),
                format!("interaction={interaction}&csrf={csrf}").into_bytes(),
            ),
            ("no content type", None, good.clone().into_bytes()),
            (
                "a body over the limit",
                Some("application/json"),
                json!({ "interaction": interaction, "csrf": csrf, "username": "x".repeat(70_000) })
                    .to_string()
                    .into_bytes(),
            ),
        ];
        for (what, content_type, body) in cases {
            let res = send(&mut b, server, path, content_type, &body);
            let message = res.refused(
                400,
                "invalid_request",
                &format!("{backend:?} {path}, {what}"),
            );
            assert!(message.contains("JSON"), "{message}");
        }
    }
}

fn an_unknown_or_overlong_interaction_is_refused(backend: Backend) {
    let (w, mut b, _, _) = at_the_login_page(backend);
    let server = &w.server;

    // An interaction that does not exist (with a token that is valid for it).
    // The cookie is `<browser id>.<signature>`; CSRF tokens are keyed by the id.
    let cookie = b.cookies.get("ward_browser").expect("browser cookie");
    let token = cookie
        .rsplit_once('.')
        .expect("a signed cookie")
        .0
        .to_string();
    let ghost = "no-such-interaction";
    let ghost_csrf = ward::oidc::interaction::csrf_token(&token, ghost);
    for path in ["/login/passkey/start", "/signup/start"] {
        let res = post_json(
            &mut b,
            server,
            path,
            &json!({ "interaction": ghost, "csrf": ghost_csrf, "username": "eve" }),
        );
        let message = res.refused(
            400,
            "expired",
            &format!("{backend:?} {path}, unknown interaction"),
        );
        eprintln!(
            "{backend:?} {path}, unknown interaction: {} {message}",
            res.status
        );
    }
    // An overlong interaction id is refused before any lookup.
    let long = "i".repeat(65);
    let long_csrf = ward::oidc::interaction::csrf_token(&token, &long);
    let res = post_json(
        &mut b,
        server,
        "/login/passkey/start",
        &json!({ "interaction": long, "csrf": long_csrf }),
    );
    res.refused(403, "csrf", &format!("{backend:?} overlong interaction"));
}

fn unknown_ceremonies_and_malformed_answers_are_refused_and_audited(backend: Backend) {
    let (w, mut b, interaction, csrf) = at_the_login_page(backend);

    // Unknown ceremonies and credentials that are not WebAuthn answers.
    let ids = (interaction.as_str(), csrf.as_str());
    let res = finish_sign_in(&w, &mut b, ids, "no-such-ceremony", &json!({}));
    res.refused(
        401,
        "passkey_refused",
        &format!("{backend:?} unknown sign-in ceremony"),
    );
    let (ceremony, _) = signin_start(&w, &mut b, &interaction, &csrf);
    let res = finish_sign_in(&w, &mut b, ids, &ceremony, &json!({ "id": 1 }));
    res.refused(
        401,
        "passkey_refused",
        &format!("{backend:?} malformed assertion"),
    );
    let res = finish_sign_up(&w, &mut b, ids, "no-such-ceremony", &json!({}));
    res.refused(
        400,
        "expired",
        &format!("{backend:?} unknown sign-up ceremony"),
    );
    // A sign-in ceremony is not a sign-up ceremony.
    let (ceremony, _) = signin_start(&w, &mut b, &interaction, &csrf);
    let res = finish_sign_up(&w, &mut b, ids, &ceremony, &json!({}));
    res.refused(
        400,
        "expired",
        &format!("{backend:?} sign-in ceremony at sign-up"),
    );
    let (ceremony, _) = signup_start(&w, &mut b, &interaction, &csrf, "zoe");
    let res = finish_sign_up(&w, &mut b, ids, &ceremony, &json!({ "id": 1 }));
    res.refused(
        400,
        "passkey_refused",
        &format!("{backend:?} malformed registration"),
    );

    // Each refused finish is on record.
    let records = await_failures(&w.env, "login.passkey", 2, "bad sign-in finishes");
    assert_eq!(
        reason(&records[0]),
        "unknown_or_expired_ceremony",
        "{records:#?}"
    );
    assert_eq!(reason(&records[1]), "malformed_credential", "{records:#?}");
    let records = await_failures(&w.env, "user.signup", 3, "bad sign-up finishes");
    assert!(
        reason(&records[2]).contains("malformed credential"),
        "{records:#?}"
    );
}

fn bad_or_taken_usernames_are_refused_at_sign_up(backend: Backend) {
    let (w, mut b, interaction, csrf) = at_the_login_page(backend);
    let server = &w.server;

    let ids = (interaction.as_str(), csrf.as_str());
    // Sign-up input.
    for (what, username, email) in [
        ("an empty username", "", ""),
        ("a username with spaces", "bad name", ""),
        ("an invalid email", "valid", "not-an-email"),
    ] {
        let res = post_json(
            &mut b,
            server,
            "/signup/start",
            &json!({ "interaction": interaction, "csrf": csrf, "username": username, "email": email }),
        );
        let message = res.refused(
            400,
            "invalid_request",
            &format!("{backend:?} sign-up, {what}"),
        );
        eprintln!("{backend:?} sign-up, {what}: {message}");
    }

    // A username that is taken (in any letter case): 409, a clear message, nothing written.
    let users = count(&w.env, "users");
    let passkeys = count(&w.env, "passkeys");
    for name in ["alice", "ALICE"] {
        let res = post_json(
            &mut b,
            server,
            "/signup/start",
            &json!({ "interaction": interaction, "csrf": csrf, "username": name }),
        );
        eprintln!(
            "{backend:?} sign-up start, taken username {name}: {}",
            res.status
        );
        let res = if res.status == 409 {
            res
        } else {
            // Not checked until the account is created.
            assert_eq!(res.status, 200, "{}", res.body);
            let body = res.json();
            let credential = SoftAuthenticator::new().register(&body["options"], &w.issuer);
            finish_sign_up(
                &w,
                &mut b,
                ids,
                body["ceremony"].as_str().unwrap(),
                &credential,
            )
        };
        let message = res.refused(
            409,
            "username_unavailable",
            &format!("{backend:?} taken username {name}"),
        );
        assert!(message.to_lowercase().contains("username"), "{message}");
        eprintln!(
            "{backend:?} taken username {name}: {} {message}",
            res.status
        );
    }
    assert_eq!(count(&w.env, "users"), users, "{backend:?}");
    assert_eq!(count(&w.env, "passkeys"), passkeys, "{backend:?}");
}

per_backend!(
    passkey_endpoints_refuse_a_missing_or_wrong_csrf_token,
    passkey_endpoints_refuse_anything_but_a_json_body,
    an_unknown_or_overlong_interaction_is_refused,
    unknown_ceremonies_and_malformed_answers_are_refused_and_audited,
    bad_or_taken_usernames_are_refused_at_sign_up,
);

fn without_sign_up_there_is_no_page_and_no_endpoint(backend: Backend) {
    // Sign-up disabled: no page, no endpoints, no link.
    let w = ward(backend).user("alice").on_localhost().start();
    let (mut b, _, interaction, csrf) = login_page(&w);
    let page = b.get(&format!("/login?interaction={interaction}"));
    assert!(
        !page.body.contains("/signup?"),
        "{backend:?}: sign-up link while disabled"
    );
    let page = b.get(&format!("/signup?interaction={interaction}"));
    assert_eq!(page.status, 404, "{backend:?}: {}", page.body);
    let res = post_json(
        &mut b,
        &w.server,
        "/signup/start",
        &json!({ "interaction": interaction, "csrf": csrf, "username": "newbie" }),
    );
    res.refused(
        404,
        "not_found",
        &format!("{backend:?} sign-up start, disabled"),
    );
    let res = finish_sign_up(&w, &mut b, (&interaction, &csrf), "x", &json!({}));
    res.refused(
        404,
        "not_found",
        &format!("{backend:?} sign-up finish, disabled"),
    );
    // Passkey sign-in does not depend on sign-up.
    signin_start(&w, &mut b, &interaction, &csrf);
}

per_backend!(without_sign_up_there_is_no_page_and_no_endpoint);

fn an_ip_address_issuer_refuses_passkeys_but_not_passwords(backend: Backend) {
    // An IP-address issuer cannot be a WebAuthn relying party: a clear JSON refusal.
    let w = ward(backend)
        .user("alice")
        .serve_env("WARD_SIGNUP_ENABLED", "true")
        .start();
    let server = &w.server;
    let p = pkce();
    let (mut b, interaction, csrf) = oidc::on_login_page(server, CLIENT, &p, &[]);
    for path in ["/login/passkey/start", "/signup/start"] {
        let res = post_json(
            &mut b,
            server,
            path,
            &json!({ "interaction": interaction, "csrf": csrf, "username": "ipuser" }),
        );
        assert!(
            (400..500).contains(&res.status) || res.status == 503,
            "{backend:?} {path} with an IP issuer: {} {}",
            res.status,
            res.body
        );
        let message = res.refused(
            res.status,
            res.json()["error"].as_str().unwrap_or("?"),
            path,
        );
        eprintln!(
            "{backend:?} {path} with an IP issuer: {} {}",
            res.status, res.body
        );
        assert!(!message.is_empty());
    }
    // Passwords still work there.
    let page = b.get(&format!("/login?interaction={interaction}"));
    assert_eq!(hidden(&page.body, "interaction"), interaction);
    let res = b.sign_in(&interaction, &csrf, "alice", common::PASSWORD);
    assert_eq!(res.status, 303, "{backend:?}: {}", res.body);
}

per_backend!(an_ip_address_issuer_refuses_passkeys_but_not_passwords);

/// A passkey sign-in that fails before the assertion names its user (an unknown
/// or expired ceremony, a malformed answer, a credential the server does not
/// know) must not slow down everybody else's passkey sign-in.
///
/// Regression: `passkey_flow::finish_sign_in` runs its `Check` with an empty
/// username; `Check::keys` once turned that into the throttle key `user:`,
/// shared by every passkey sign-in and never reset, so five such failures
/// anywhere made every passkey sign-in answer 429 (and 100 locked it for good).
fn anonymous_passkey_failures_do_not_throttle_everyone(backend: Backend) {
    let w = ward_with_signup(backend);
    let mut phone = SoftAuthenticator::new();
    sign_up(&w, "pat", &mut phone);

    // Someone (anyone) finishes five ceremonies that do not exist.
    let (mut b, _, interaction, csrf) = login_page(&w);
    for _ in 0..5 {
        let res = finish_sign_in(
            &w,
            &mut b,
            (&interaction, &csrf),
            "no-such-ceremony",
            &json!({}),
        );
        res.refused(401, "passkey_refused", "an unknown ceremony");
    }
    // Pat, in another browser, with a valid passkey and ceremony.
    let (mut b, _, interaction, csrf) = login_page(&w);
    let (ceremony, options) = signin_start(&w, &mut b, &interaction, &csrf);
    let assertion = phone.authenticate(&options, &w.issuer);
    let res = finish_sign_in(&w, &mut b, (&interaction, &csrf), &ceremony, &assertion);
    accepted(
        &res,
        &format!("{backend:?}: pat's sign-in after strangers' failures"),
    );
}

per_backend!(anonymous_passkey_failures_do_not_throttle_everyone);

/// A risk step-up a passkey does not meet (here: a device-bound key required,
/// a synced one used) ends the request with `unmet_authentication_requirements`
/// for the client, as on the password path, and is audited (docs/risk.md).
fn a_risk_step_up_a_passkey_cannot_meet_is_unmet_for_the_client(backend: Backend) {
    let builder = ward(backend);
    let config = builder.dir().join("ward.toml");
    std::fs::write(
        &config,
        "[risk]\nsensitive_clients = [\"app\"]\n\n[[risk.rules]]\nmin_score = 40\naction = \"step_up\"\nacr = \"phrh\"\n",
    )
    .unwrap();
    let w = builder
        .env("WARD_CONFIG", config.to_str().unwrap())
        .on_localhost()
        .serve_env("WARD_SIGNUP_ENABLED", "true")
        .start();

    let mut synced = SoftAuthenticator::new();
    synced.backup_eligible = true;
    let (mut b, _p, interaction, csrf) = login_page(&w);
    signup_page(&mut b, &interaction);
    let (ceremony, options) = signup_start(&w, &mut b, &interaction, &csrf, "sam");
    let credential = synced.register(&options, &w.issuer);
    let res = finish_sign_up(&w, &mut b, (&interaction, &csrf), &ceremony, &credential);
    assert_eq!(res.status, 200, "{backend:?}: {}", res.body);
    assert!(!res.sets_cookie(SESSION_COOKIE), "{backend:?}: no session");
    let to = res.json()["redirect"]
        .as_str()
        .expect("redirect")
        .to_string();
    assert!(to.starts_with(REDIRECT), "{backend:?}: {to}");
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("unmet_authentication_requirements"),
        "{backend:?}: {to}"
    );
    assert_eq!(
        w.env.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'risk.step_up' AND reason = 'sensitive_request'"
        ),
        1,
        "{backend:?}"
    );
}

per_backend!(a_risk_step_up_a_passkey_cannot_meet_is_unmet_for_the_client);
