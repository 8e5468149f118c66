//! The login and consent pages in a real browser: Debian's Chromium, headless,
//! driven through chromedriver's WebDriver API. This is where a Content Security
//! Policy that blocks the redirect back to the client would show (`form-action`
//! applies to the redirects after a form submission in Chromium; a plain HTTP
//! client does not enforce CSP at all).
//!
//! `.ci/run` installs chromium and chromium-driver and sets WARD_REQUIRE_BROWSER=1,
//! so in CI a missing browser fails the test; elsewhere it is skipped with a note.

mod common;

use common::Backend;
use common::app::TestApp;
use common::browser::BrowserWorld;
use common::oidc::{param, pkce};

fn sign_in_and_consent_in_chromium_reach_the_client(backend: Backend) {
    // `localhost`, as in development: the page and the client are then on different origins.
    let Some(w) = BrowserWorld::start(TestApp::new(backend).user("alice")) else {
        return;
    };
    let (browser, callback) = (&w.browser, &w.callback);
    let p = pkce();
    let url = w.authorize_url(&p, &[("scope", "openid profile")]);

    browser.goto(&url);
    browser.wait_url("the login page", |u| u.contains("/login?"));
    assert_eq!(
        browser.js("return document.querySelector('label[for=username]').textContent"),
        "Username"
    );
    // A wrong password first: the page says so, in an alert region.
    browser.js("document.getElementById('username').value = 'alice'; document.getElementById('password').value = 'wrong-password-1'; document.querySelector('button[type=submit]').click();");
    // (`#login-error`: the page always holds a hidden alert for passkey errors.)
    browser.wait_js(
        "the error",
        "document.querySelector('#login-error[role=alert]') && \
         document.getElementById('login-error').textContent.includes('not correct')",
    );
    browser.js(&format!(
        "document.getElementById('password').value = '{}'; document.querySelector('button[type=submit]').click();",
        common::PASSWORD
    ));
    browser.wait_url("the consent page", |u| u.contains("/consent?"));
    assert!(
        browser
            .js("return document.body.innerText")
            .as_str()
            .unwrap()
            .contains("Clinic Portal")
    );
    browser.js("document.querySelector('button[value=approve]').click();");
    // The client's redirect URI is reached (nothing listens there; the URL is what matters).
    let back = browser.wait_url("the redirect to the client", |u| {
        u.starts_with(&callback.url)
    });
    assert!(param(&back, "code").is_some(), "{backend:?}: {back}");
    assert_eq!(param(&back, "state").as_deref(), Some("st4te"));
    assert!(
        callback.received("GET /cb?code="),
        "the client's endpoint received the code"
    );

    // A second authorization in the same browser: single sign-on, straight back.
    browser.goto(&url);
    let back = browser.wait_url("single sign-on", |u| u.starts_with(&callback.url));
    assert!(param(&back, "code").is_some());
}

per_backend!(sign_in_and_consent_in_chromium_reach_the_client);
