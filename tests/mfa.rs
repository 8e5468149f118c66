//! Second factors over real HTTP, on every backend: TOTP enrolment and sign-in
//! (codes computed here from the enrolled secret, ±1 step, no replay),
//! recovery codes, emailed codes delivered to a real SMTP listener, throttling
//! and the account pages' rules.

mod common;

use std::time::Duration;

use common::Backend;
use common::app::{TestApp, amr, id_claims};
use common::oidc::{self, Browser, Res, hidden, pkce};
use common::totp::{mid_step, totp};
use serde_json::Value;

const CLIENT: &str = "app";

fn world(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let builder =
        TestApp::new(backend)
            .smtp()
            .user("alice")
            .first_party(CLIENT, "openid profile email", &[]);
    extra
        .iter()
        .fold(builder, |b, (k, v)| b.serve_env(k, v))
        .start()
}

/// Sign in to the account pages with the password; returns the account page.
fn account_sign_in(b: &mut Browser, username: &str) -> String {
    let res = b.get("/account");
    assert_eq!(res.location(), "/login?interaction=account");
    let page = b.get(res.location());
    assert_eq!(page.status, 200, "{}", page.body);
    let res = b.sign_in(
        &hidden(&page.body, "interaction"),
        &hidden(&page.body, "csrf"),
        username,
        common::PASSWORD,
    );
    assert_eq!(res.status, 303, "{}", res.body);
    if res.location() == "/account" {
        let page = b.get("/account");
        assert_eq!(page.status, 200);
        return page.body;
    }
    res.body
}

fn account_post(b: &mut Browser, form: &[(&str, &str)]) -> Res {
    let page = b.get("/account");
    let csrf = hidden(&page.body, "csrf");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(form);
    b.post("/account", &all)
}

/// The text between `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let s = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {text}"))
        + start.len();
    let e = text[s..].find(end).unwrap() + s;
    &text[s..e]
}

/// The codes mailed to `to` so far, oldest first (notifications carry none).
fn codes_mailed(w: &TestApp, to: &str) -> Vec<String> {
    mails_to(w, to)
        .iter()
        .filter_map(|m| {
            let text = m.text_body()?;
            text.split(|c: char| !c.is_ascii_digit())
                .find(|t| t.len() == 8)
                .map(str::to_string)
        })
        .collect()
}

/// Wait for the code mailed after the first `already` codes.
fn mailed_code(w: &TestApp, to: &str, already: usize) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(code) = codes_mailed(w, to).get(already) {
            return code.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no code mailed to {to}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn mails_to(w: &TestApp, to: &str) -> Vec<common::smtp::Received> {
    w.smtp()
        .messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains(to)))
        .collect()
}

/// Verify alice's address through the account page, with the code mailed to it.
fn verify_email(w: &TestApp, b: &mut Browser) {
    let before = codes_mailed(w, "alice@example.org").len();
    let res = account_post(
        b,
        &[
            ("action", "send_email_code"),
            ("email", "alice@example.org"),
        ],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let code = mailed_code(w, "alice@example.org", before);
    let res = account_post(b, &[("action", "verify_email"), ("code", &code)]);
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("Email address verified."), "{}", res.body);
}

/// Start a code flow and sign in with the password: the browser, the PKCE
/// verifier and the response to the password.
fn password_step(w: &TestApp, username: &str) -> (Browser, oidc::Pkce, Res) {
    let p = pkce();
    let (mut b, interaction, csrf) =
        oidc::on_login_page(&w.server, CLIENT, &p, &[("scope", "openid")]);
    let res = b.sign_in(&interaction, &csrf, username, common::PASSWORD);
    (b, p, res)
}

/// Submit a code on the verify page.
fn verify(b: &mut Browser, location: &str, method: &str, code: &str) -> Res {
    let page = b.get(location);
    assert_eq!(page.status, 200, "{}", page.body);
    b.second_factor(&page, method, code)
}

/// Follow redirects to the client and redeem the code: the ID token's claims.
fn finish(w: &TestApp, b: &mut Browser, res: Res, p: &oidc::Pkce) -> Value {
    id_claims(&w.finish(b, res, CLIENT, p))
}

fn totp_enrolment_sign_in_window_replay_and_recovery_codes(backend: Backend) {
    let w = world(backend, &[]);
    let mut b = Browser::new(&w.server);
    account_sign_in(&mut b, "alice");
    verify_email(&w, &mut b);

    // Enrolment shows a QR code (SVG, no external service) and the secret in text.
    let page = b.get("/account/totp");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("src=\"data:image") && page.body.contains("svg+xml;base64,"),
        "{}",
        page.body
    );
    let secret = between(&page.body, "<code id=\"totp-secret\">", "</code>").to_string();
    let csrf = hidden(&page.body, "csrf");
    // Only a valid code confirms it.
    let t = mid_step();
    let wrong = b.post(
        "/account/totp",
        &[("csrf", &csrf), ("code", &totp(&secret, t + 120))],
    );
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains("That code is not correct."));
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM totp_credentials WHERE confirmed_at IS NOT NULL"),
        0
    );
    let ok = b.post(
        "/account/totp",
        &[("csrf", &csrf), ("code", &totp(&secret, t))],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    // The first second factor brings ten recovery codes, shown once.
    let codes: Vec<String> = ok
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s[..s.find("</code>").unwrap()].to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{}", ok.body);
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM recovery_codes WHERE used_at IS NULL"),
        10
    );
    // The secret is sealed at rest.
    assert_eq!(
        w.env.count(&format!(
            "SELECT COUNT(*) AS n FROM totp_credentials WHERE secret_sealed LIKE '%{secret}%'"
        )),
        0
    );

    // Password alone no longer signs in: a second factor is asked for.
    let (mut b2, p, res) = password_step(&w, "alice");
    assert!(
        res.location().starts_with("/login/verify?interaction="),
        "{}",
        res.location()
    );
    let at = res.location().to_string();
    // The enrolment's code (its step, or an earlier one) is a replay.
    let replay = verify(&mut b2, &at, "totp", &totp(&secret, t));
    assert_eq!(replay.status, 401, "{}", replay.body);
    // ±2 steps are refused; +1 is accepted.
    let t = mid_step();
    assert_eq!(
        verify(&mut b2, &at, "totp", &totp(&secret, t - 60)).status,
        401
    );
    assert_eq!(
        verify(&mut b2, &at, "totp", &totp(&secret, t + 60)).status,
        401
    );
    let res = verify(&mut b2, &at, "totp", &totp(&secret, t + 30));
    assert_eq!(res.status, 303, "{}", res.body);
    let c = finish(&w, &mut b2, res, &p);
    assert_eq!(c["acr"], "aal2");
    assert_eq!(amr(&c), ["pwd", "otp", "mfa"]);

    // The same code (step) again in a new sign-in: refused.
    let (mut b3, _, res) = password_step(&w, "alice");
    let at = res.location().to_string();
    assert_eq!(
        verify(&mut b3, &at, "totp", &totp(&secret, t + 30)).status,
        401
    );
    // A recovery code works, once.
    let res = verify(&mut b3, &at, "recovery", &codes[3].to_lowercase());
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM recovery_codes WHERE used_at IS NOT NULL"),
        1
    );
    let (mut b4, _, res) = password_step(&w, "alice");
    let at = res.location().to_string();
    assert_eq!(verify(&mut b4, &at, "recovery", &codes[3]).status, 401);
    let told = w
        .smtp()
        .wait_for("alice@example.org", Duration::from_secs(5))
        .is_some()
        && (0..50).any(|_| {
            let found = mails_to(&w, "alice@example.org").iter().any(|m| {
                m.text_body()
                    .unwrap_or_default()
                    .contains("A recovery code was used")
            });
            if !found {
                std::thread::sleep(Duration::from_millis(100));
            }
            found
        });
    assert!(told, "a mail tells of the recovery code's use");
    // An administrator can reset a lost device: the password alone signs in again.
    let out = w.env.ok(&["user", "reset-mfa", "alice"], None);
    assert!(out.contains("authenticator app: true"), "{out}");
    let (mut b5, p5, res) = password_step(&w, "alice");
    assert!(
        res.location().starts_with("/authorize/resume"),
        "{}",
        res.location()
    );
    let c = finish(&w, &mut b5, res, &p5);
    assert_eq!(
        (c["acr"].as_str(), amr(&c)),
        (Some("aal1"), vec!["pwd".to_string()])
    );
    for kind in ["totp.enabled", "recovery_code.used", "user.reset_mfa"] {
        assert_eq!(
            w.env.count(&format!(
                "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = '{kind}'"
            )),
            1,
            "{kind}"
        );
    }
    assert!(w.env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'login.totp' AND outcome = 'failure'") >= 4);
}

per_backend!(totp_enrolment_sign_in_window_replay_and_recovery_codes);

fn emailed_codes_sign_in_once_expire_and_do_not_reveal_accounts(backend: Backend) {
    let w = world(backend, &[("WARD_EMAIL_CODE_SECONDS", "2")]);
    let mut b = Browser::new(&w.server);
    account_sign_in(&mut b, "alice");
    verify_email(&w, &mut b);

    let recover = |name: &str| {
        let p = pkce();
        let mut b = Browser::new(&w.server);
        let res = b.get(&w.authorize_url(CLIENT, &p, &[("scope", "openid")]));
        let interaction = res
            .location()
            .split("interaction=")
            .nth(1)
            .unwrap()
            .to_string();
        let page = b.get(&format!("/login/recover?interaction={interaction}"));
        assert_eq!(page.status, 200);
        let res = b.post(
            "/login/recover",
            &[
                ("interaction", &interaction),
                ("csrf", &hidden(&page.body, "csrf")),
                ("username", name),
                ("method", "send_email"),
            ],
        );
        assert_eq!(res.status, 303, "{}", res.body);
        let at = res.location().to_string();
        let page = b.get(&at);
        (b, p, at, page)
    };
    // An unknown account gets the same answer and the same page.
    let sent = codes_mailed(&w, "alice@example.org").len();
    let (mut known, p, at, known_page) = recover("alice");
    let (mut unknown, _, unknown_at, unknown_page) = recover("nobody");
    let strip = |page: &Res, at: &str| {
        page.body
            .replace(&hidden(&page.body, "csrf"), "")
            .replace(
                at.split("interaction=")
                    .nth(1)
                    .unwrap()
                    .split('&')
                    .next()
                    .unwrap(),
                "",
            )
            .replace("alice", "")
            .replace("nobody", "")
    };
    assert_eq!(
        (known_page.status, strip(&known_page, &at)),
        (unknown_page.status, strip(&unknown_page, &unknown_at))
    );
    let code = mailed_code(&w, "alice@example.org", sent);
    let miss = verify(&mut unknown, &unknown_at, "email", &code);
    assert_eq!(miss.status, 401);

    // The code proves the mailbox; the account's password is still needed.
    let res = verify(&mut known, &at, "email", &code);
    assert!(
        res.location().starts_with("/login/verify?"),
        "back to the verify page for the password"
    );
    let page = known.get(res.location());
    assert!(
        page.body.contains("autocomplete=\"current-password\""),
        "{}",
        page.body
    );
    let res = known.post(
        "/login",
        &[
            ("interaction", &hidden(&page.body, "interaction")),
            ("csrf", &hidden(&page.body, "csrf")),
            ("username", "alice"),
            ("password", common::PASSWORD),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let c = finish(&w, &mut known, res, &p);
    // Email is not an AAL2 factor (NIST SP 800-63B §5.1.3.1).
    assert_eq!(c["acr"], "aal1");
    assert_eq!(amr(&c), ["email", "pwd"]);

    // Single use.
    let (mut again, _, at2, _) = recover("alice");
    let fresh = mailed_code(&w, "alice@example.org", sent + 1);
    assert_eq!(
        verify(&mut again, &at2, "email", &code).status,
        401,
        "a used code"
    );
    // Expiry: the fresh code is dead after its 2 s.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        verify(&mut again, &at2, "email", &fresh).status,
        401,
        "an expired code"
    );
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'email_code.sent'"),
        3
    );
}

per_backend!(emailed_codes_sign_in_once_expire_and_do_not_reveal_accounts);

fn wrong_second_factors_are_throttled_and_audited(backend: Backend) {
    let w = world(backend, &[]);
    let mut b = Browser::new(&w.server);
    account_sign_in(&mut b, "alice");
    let page = b.get("/account/totp");
    let secret = between(&page.body, "<code id=\"totp-secret\">", "</code>").to_string();
    let t = mid_step();
    let ok = b.post(
        "/account/totp",
        &[
            ("csrf", &hidden(&page.body, "csrf")),
            ("code", &totp(&secret, t)),
        ],
    );
    assert_eq!(ok.status, 200);

    let (mut b2, _, res) = password_step(&w, "alice");
    let at = res.location().to_string();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(verify(&mut b2, &at, "totp", "000000").status);
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    let last = verify(&mut b2, &at, "totp", "000000");
    assert_eq!(last.status, 429);
    assert!(last.headers.contains_key("retry-after"));
    assert!(last.body.contains("Too many failed attempts"));
    // Even the right code waits out the delay.
    assert_eq!(
        verify(&mut b2, &at, "totp", &totp(&secret, mid_step() + 30)).status,
        429
    );
    assert!(
        w.env
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'login.throttled'")
            >= 2
    );
}

per_backend!(wrong_second_factors_are_throttled_and_audited);

fn account_pages_need_a_session_csrf_and_a_recent_sign_in(backend: Backend) {
    let w = world(backend, &[("WARD_REAUTH_SECONDS", "2")]);
    let mut b = Browser::new(&w.server);
    assert_eq!(b.get("/account").location(), "/login?interaction=account");
    assert_eq!(
        b.get("/account/totp").location(),
        "/login?interaction=account"
    );
    account_sign_in(&mut b, "alice");
    let forged = b.post("/account", &[("csrf", "00"), ("action", "remove_totp")]);
    assert_eq!(forged.status, 403);

    // Password changes: the current password, then the policy.
    let res = account_post(
        &mut b,
        &[
            ("action", "change_password"),
            ("current_password", "wrong-password"),
            ("new_password", "a fresh passphrase 42"),
        ],
    );
    assert_eq!(res.status, 400);
    assert!(
        res.body.contains("The current password is not correct."),
        "{}",
        res.body
    );
    let res = account_post(
        &mut b,
        &[
            ("action", "change_password"),
            ("current_password", common::PASSWORD),
            ("new_password", "password"),
        ],
    );
    assert_eq!(res.status, 400);
    assert!(res.body.contains("not accepted"), "{}", res.body);
    let res = account_post(
        &mut b,
        &[
            ("action", "change_password"),
            ("current_password", common::PASSWORD),
            ("new_password", "a fresh passphrase 42"),
        ],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'password.changed'"),
        1
    );

    // Recovery codes can be regenerated; the old set stops working.
    let res = account_post(&mut b, &[("action", "regenerate_recovery_codes")]);
    assert_eq!(res.status, 200);
    assert_eq!(res.body.matches("<li><code>").count(), 10);

    // After the re-authentication window, changes send the user to sign in again.
    std::thread::sleep(Duration::from_millis(2500));
    let res = account_post(&mut b, &[("action", "regenerate_recovery_codes")]);
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/login?interaction=account");
    assert_eq!(
        b.get("/account/totp").location(),
        "/login?interaction=account"
    );
    // Signing out ends the session.
    let res = account_post(&mut b, &[("action", "sign_out")]);
    assert_eq!(res.status, 303);
    assert_eq!(b.get("/account").location(), "/login?interaction=account");
}

per_backend!(account_pages_need_a_session_csrf_and_a_recent_sign_in);
