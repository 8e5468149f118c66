//! Passkeys in a real browser (issue #4): headless Chromium with a virtual
//! authenticator (WebDriver WebAuthn extension: CTAP2, internal transport,
//! discoverable credentials, user verification that succeeds), on the real
//! pages and the real /static/webauthn.js, with the relying party's code flow
//! around them and the ID token as the proof of what happened.
//!
//! Ward's issuer is `http://localhost:<port>` here: a WebAuthn relying party id
//! must be a domain name (WebAuthn §5.1.3), and `localhost` is a secure context.
//!
//! How Chromium's virtual authenticator treats conditional mediation (autofill),
//! as found with Chromium 156: with no UI in a virtual environment, a conditional
//! request is answered at once, without any user gesture: it resolves when the
//! authenticator holds a credential for the RP, and rejects (NotAllowedError)
//! when it holds none; it does not wait for one to appear, and focusing the
//! username field does not restart it. So the login page signs in on load as
//! soon as the browser holds the passkey. Tests that mean another path (the
//! button, or a password) take the credentials out of the authenticator while
//! the login page loads, which is what a person does by not choosing the
//! passkey offered in autofill, and put them back afterwards.
//!
//! `WARD_SCREENSHOTS=<dir>` saves the pages as PNGs for the documentation.

mod common;

use common::Backend;
use common::app::{TestApp, amr, id_claims};
use common::browser::{Authenticator, BrowserWorld};
use common::oidc::{self, Pkce, param, pkce};
use serde_json::{Value, json};

/// One backend's world: Ward with sign-up on, the relying party `rp`, and a
/// browser (1200x900) that records its WebAuthn calls; None without a browser.
fn world(backend: Backend) -> Option<BrowserWorld> {
    let w = BrowserWorld::start(TestApp::new(backend).serve_env("WARD_SIGNUP_ENABLED", "true"))?;
    w.browser.window(1200, 900);
    w.browser.record_webauthn_calls();
    Some(w)
}

/// The relying party's side of these tests, in the browser.
trait RelyingParty {
    fn authorize(&self) -> Pkce;
    fn back_at_the_client(&self, p: &Pkce, shot: bool) -> Value;
    fn sign_up(&self, username: &str, shots: bool) -> Value;
    fn sign_out(&self);
    fn assert_no_csp_violation(&self);
}

impl RelyingParty for BrowserWorld {
    /// The relying party sends the browser to Ward: code flow, PKCE, scope
    /// `openid`, a nonce. Returns the PKCE pair, for the token request.
    fn authorize(&self) -> Pkce {
        let p = pkce();
        self.browser
            .goto(&self.authorize_url(&p, &[("scope", "openid")]));
        p
    }

    /// From a finished sign-in to the relying party: approve the consent page
    /// if Ward shows one (taking its picture when `shot`), wait for the
    /// redirect to the callback, redeem the code. Returns the ID token's claims.
    fn back_at_the_client(&self, p: &Pkce, shot: bool) -> Value {
        let b = &self.browser;
        let at = b.wait_url("the consent page or the client", |u| {
            u.contains("/consent?") || u.starts_with(&self.callback.url)
        });
        if at.contains("/consent?") {
            b.wait_js(
                "the consent page",
                "document.querySelector('button[value=approve]')",
            );
            assert!(b.text().contains("Clinic Portal"), "{}", b.text());
            if shot {
                b.screenshot("consent");
            }
            b.click("button[value=approve]");
        }
        let back = b.wait_url("the redirect to the client", |u| {
            u.starts_with(&self.callback.url)
        });
        assert_eq!(param(&back, "state").as_deref(), Some("st4te"), "{back}");
        let code = param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
        assert!(
            self.callback.received(&format!("GET /cb?code={code}")),
            "the client's endpoint received the code"
        );
        let claims = id_claims(&self.redeem(&code, p));
        assert_eq!(claims["iss"], json!(self.app.issuer));
        assert_eq!(claims["aud"], json!("rp"));
        assert_eq!(claims["nonce"], json!("n0nce"));
        claims
    }

    /// Sign-up of a patient on the sign-up page, from the login page of a new
    /// authorization; the virtual authenticator creates the passkey. Returns
    /// the ID token's claims (the client got them after consent).
    fn sign_up(&self, username: &str, shots: bool) -> Value {
        let b = &self.browser;
        let p = self.authorize();
        b.wait_url("the login page", |u| u.contains("/login?"));
        b.wait_js(
            "the login page's script",
            "!document.getElementById('passkey-signin').hidden",
        );
        if shots {
            b.window(420, 900);
            b.screenshot("login-phone");
            b.window(1200, 900);
            b.screenshot("login");
        }
        b.click("a[href^='/signup?interaction=']");
        b.wait_url("the sign-up page", |u| u.contains("/signup?interaction="));
        b.type_into("#username", username);
        b.type_into("#display_name", "Pat Patient");
        if shots {
            b.screenshot("signup");
        }
        b.click("#signup-form button[type=submit]");
        let claims = self.back_at_the_client(&p, shots);
        b.goto(&self.page("/"));
        let calls = b.webauthn_calls();
        assert!(
            calls.iter().any(|c| c["call"] == "create"
                && c["page"] == "/signup"
                && c["outcome"] == "resolved"),
            "{calls:?}"
        );
        claims
    }

    /// Sign out on the account page (its "Sign out" button); the record of
    /// WebAuthn calls starts afresh.
    fn sign_out(&self) {
        let b = &self.browser;
        b.goto(&self.page("/account"));
        b.wait_url("the account page", |u| u.ends_with("/account"));
        b.click("form[action='/account'] input[name=action][value=sign_out] ~ button");
        b.wait_url("the page after signing out", |u| !u.contains("/account"));
        assert!(b.text().contains("Ward is running"), "{}", b.text());
        b.clear_webauthn_calls();
    }

    /// Nothing on Ward's pages broke its Content Security Policy.
    fn assert_no_csp_violation(&self) {
        let console = self.browser.console();
        assert!(
            !console
                .iter()
                .any(|l| l.contains("Content Security Policy")),
            "{console:#?}"
        );
    }
}

/// What Ward documents for a passkey (src/authn/factors.rs): a device-bound
/// credential (backup eligibility 0) is `phrh` with `hwk`; a synced one is `phr` with `swk`.
fn expected_for(authenticator: &Authenticator<'_>) -> (&'static str, &'static str) {
    let creds = authenticator.credentials();
    assert_eq!(creds.len(), 1, "{creds:?}");
    if creds[0]["backupEligibility"] == json!(true) {
        ("phr", "swk")
    } else {
        ("phrh", "hwk")
    }
}

fn sign_count(authenticator: &Authenticator<'_>) -> i64 {
    authenticator.credentials()[0]["signCount"]
        .as_i64()
        .unwrap()
}

fn a_patient_signs_up_with_a_passkey_signs_out_and_signs_in_usernameless(backend: Backend) {
    let Some(w) = world(backend) else {
        return;
    };
    let b = &w.browser;
    let authenticator = b.add_virtual_authenticator(false);

    let first = w.sign_up("pat", true);
    let creds = authenticator.credentials();
    assert_eq!(creds.len(), 1, "{backend:?}: {creds:?}");
    assert_eq!(creds[0]["rpId"], "localhost");
    assert_eq!(creds[0]["isResidentCredential"], true);
    assert_eq!(creds[0]["userName"], "pat");
    let (acr, key) = expected_for(&authenticator);
    assert_eq!((acr, key), ("phrh", "hwk"), "a device-bound passkey");
    assert_eq!(first["acr"], acr, "{backend:?}: {first}");
    let first_amr = amr(&first);
    for v in ["user", "mfa", key] {
        assert!(first_amr.iter().any(|a| a == v), "{backend:?}: {first}");
    }
    assert!(!first_amr.iter().any(|a| a == "pwd"), "{first}");
    assert_eq!(
        w.app.env.count("SELECT COUNT(*) AS n FROM passkeys"),
        1,
        "{backend:?}"
    );

    w.sign_out();

    // A new authorization: the login page, then "Sign in with a passkey".
    // The passkey is held back while the page loads, else the page's
    // autofill request would sign in at once (see the module comment).
    let held = authenticator.take_credentials();
    let p = w.authorize();
    b.wait_url("the login page", |u| u.contains("/login?"));
    b.wait_js(
        "the autofill request to end without a passkey",
        "(JSON.parse(sessionStorage.getItem('ward-test-webauthn') || '[]')).some(function (c) { \
           return c.page === '/login' && c.mediation === 'conditional' && c.outcome !== 'pending'; })",
    );
    assert_eq!(
        b.js("return document.getElementById('passkey-error').hidden"),
        true
    );
    authenticator.restore(&held);
    let used = sign_count(&authenticator);
    b.click("#passkey-signin");
    let second = w.back_at_the_client(&p, false);
    assert!(sign_count(&authenticator) > used, "the passkey signed");
    assert_eq!(second["sub"], first["sub"], "{backend:?}");
    assert_eq!(second["acr"], acr, "{backend:?}: {second}");
    let second_amr = amr(&second);
    for v in ["user", "mfa", key] {
        assert!(second_amr.iter().any(|a| a == v), "{backend:?}: {second}");
    }
    assert_ne!(
        second["sid"], first["sid"],
        "a new session after signing out"
    );

    // The button made a modal request (no mediation), and it signed in.
    b.goto(&w.page("/"));
    let calls = b.webauthn_calls();
    let login: Vec<_> = calls.iter().filter(|c| c["page"] == "/login").collect();
    assert_eq!(login.len(), 2, "{calls:?}");
    assert_eq!(login[0]["mediation"], "conditional", "{calls:?}");
    assert_eq!(
        login[0]["outcome"], "rejected: NotAllowedError",
        "{calls:?}"
    );
    assert_eq!(login[1]["mediation"], Value::Null, "{calls:?}");
    assert_eq!(login[1]["outcome"], "resolved", "{calls:?}");
    w.assert_no_csp_violation();
}

per_backend!(a_patient_signs_up_with_a_passkey_signs_out_and_signs_in_usernameless);

fn passkey_autofill_signs_in(backend: Backend) {
    let Some(w) = world(backend) else {
        return;
    };
    let b = &w.browser;
    // A synced passkey this time (backup eligible): `phr`, `swk`.
    let authenticator = b.add_virtual_authenticator(true);
    let first = w.sign_up("robin", false);
    w.sign_out();
    let used = sign_count(&authenticator);

    // A new authorization, and no click at all: the login page's
    // conditional request is answered by the authenticator and signs in.
    let p = w.authorize();
    let second = w.back_at_the_client(&p, false);
    assert!(sign_count(&authenticator) > used, "the passkey signed");
    assert_eq!(second["sub"], first["sub"], "{backend:?}");
    assert_ne!(
        second["sid"], first["sid"],
        "a new session after signing out"
    );
    let (acr, key) = expected_for(&authenticator);
    assert_eq!((acr, key), ("phr", "swk"), "a synced passkey");
    assert_eq!(first["acr"], acr, "{backend:?}: {first}");
    assert_eq!(second["acr"], acr, "{backend:?}: {second}");
    assert!(amr(&second).iter().any(|a| a == key), "{second}");

    // It was the autofill request: the login page made exactly one
    // WebAuthn call, a `get` with mediation "conditional", and it resolved.
    b.goto(&w.page("/"));
    let calls = b.webauthn_calls();
    let login: Vec<_> = calls.iter().filter(|c| c["page"] == "/login").collect();
    assert_eq!(login.len(), 1, "{calls:?}");
    assert_eq!(login[0]["call"], "get", "{calls:?}");
    assert_eq!(login[0]["mediation"], "conditional", "{calls:?}");
    assert_eq!(login[0]["outcome"], "resolved", "{calls:?}");
    w.assert_no_csp_violation();
}

per_backend!(passkey_autofill_signs_in);

/// The account page lists the passkey "Work laptop" of the kind `key` says
/// and ten unused recovery codes; the database holds it.
fn the_account_page_lists_the_passkey(
    w: &BrowserWorld,
    backend: Backend,
    user_id: &str,
    key: &str,
) {
    let b = &w.browser;
    b.goto(&w.page("/account"));
    b.wait_url("the account page", |u| u.ends_with("/account"));
    let text = b.text();
    assert!(text.contains("Work laptop"), "{backend:?}: {text}");
    let kind = if key == "hwk" {
        "device-bound passkey"
    } else {
        "synced passkey"
    };
    assert!(text.contains(kind), "{backend:?}: {text}");
    assert!(text.contains("10 unused."), "{backend:?}: {text}");
    b.screenshot("account");
    assert_eq!(
        w.app.env.count(&format!(
            "SELECT COUNT(*) AS n FROM passkeys WHERE user_id = '{user_id}' AND name = 'Work laptop'"
        )),
        1
    );
}

fn a_staff_member_adds_a_passkey_on_the_account_page(backend: Backend) {
    let Some(w) = world(backend) else {
        return;
    };
    let b = &w.browser;
    let user_id = oidc::user(&w.app.env, "sam");
    let authenticator = b.add_virtual_authenticator(false);

    // Sign in with the password on the login page of the account pages.
    b.goto(&w.page("/account"));
    b.wait_url("the login page", |u| {
        u.contains("/login?interaction=account")
    });
    b.type_into("#username", "sam");
    b.type_into("#password", common::PASSWORD);
    b.click("#login-form button[type=submit]");
    b.wait_url("the account page", |u| u.ends_with("/account"));
    assert!(b.text().contains("No passkeys yet."), "{}", b.text());

    // Add a passkey: the first second factor, so recovery codes come with it.
    b.wait_js(
        "the add-passkey form",
        "!document.getElementById('add-passkey').hidden",
    );
    b.type_into("#passkey-name", "Work laptop");
    b.click("#add-passkey button[type=submit]");
    b.wait_js(
        "the recovery codes",
        "!document.getElementById('new-recovery-section').hidden",
    );
    assert_eq!(
        b.js("return document.querySelectorAll('#new-recovery-codes li').length"),
        10
    );
    b.screenshot("recovery-codes");
    assert_eq!(authenticator.credentials().len(), 1);
    let (acr, key) = expected_for(&authenticator);
    assert_eq!((acr, key), ("phrh", "hwk"), "a device-bound passkey");

    the_account_page_lists_the_passkey(&w, backend, &user_id, key);

    w.sign_out();

    // A relying party's sign-in: username and password (the passkey held
    // back while the login page loads: this person types the password),
    // then Ward asks for the second factor, and the passkey gives it.
    let held = authenticator.take_credentials();
    let p = w.authorize();
    b.wait_url("the login page", |u| u.contains("/login?"));
    b.type_into("#username", "sam");
    b.type_into("#password", common::PASSWORD);
    b.click("#login-form button[type=submit]");
    b.wait_url("the second-factor page", |u| u.contains("/login/verify?"));
    b.wait_js(
        "the passkey button",
        "!document.getElementById('passkey-signin').hidden",
    );
    assert!(b.text().contains("Verify it's you"), "{}", b.text());
    b.screenshot("verify");
    authenticator.restore(&held);
    let used = sign_count(&authenticator);
    b.click("#passkey-signin");
    let claims = w.back_at_the_client(&p, false);
    assert!(sign_count(&authenticator) > used, "the passkey signed");
    assert_eq!(claims["sub"], json!(user_id), "{backend:?}");
    assert_eq!(claims["acr"], acr, "{backend:?}: {claims}");
    let got = amr(&claims);
    for v in ["pwd", "user", "mfa", key] {
        assert!(got.iter().any(|a| a == v), "{backend:?}: {claims}");
    }
    w.assert_no_csp_violation();
}

per_backend!(a_staff_member_adds_a_passkey_on_the_account_page);
