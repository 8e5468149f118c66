//! Consent and Connected apps in Chromium (docs/privacy.md): a person reads
//! why an app asks and what it will receive, allows it, finds it on
//! Connected apps and withdraws its access; the consent page, Connected apps
//! and the confirmation page pass axe-core's WCAG 2.1 AA checks (no serious
//! or critical violations) at desktop and phone width.

mod common;

use common::Backend;
use common::app::TestApp;
use common::axe::serious_violations;
use common::browser::{BrowserWorld, Driver};
use common::oidc::{param, pkce};

const PURPOSE: &str = "Book and move your clinic appointments.";

fn accessible(browser: &Driver, page: &str) {
    for (width, height) in [(1280, 900), (390, 844)] {
        browser.window(width, height);
        let found = serious_violations(browser);
        assert!(found.is_empty(), "{page} at {width}px: {found:#?}");
    }
}

fn a_person_sees_and_withdraws_a_connected_app_in_chromium(backend: Backend) {
    let builder = TestApp::new(backend).user("erin");
    let Some(w) = BrowserWorld::start_with(builder, &["--purpose", PURPOSE]) else {
        return;
    };
    let browser = &w.browser;
    let p = pkce();
    browser.goto(&w.authorize_url(&p, &[("scope", "openid email")]));
    browser.wait_url("the login page", |u| u.contains("/login?"));
    browser.type_into("#username", "erin");
    browser.type_into("#password", common::PASSWORD);
    browser.click("button[type=submit]");
    browser.wait_url("the consent page", |u| u.contains("/consent?"));
    accessible(browser, "consent");
    let text = browser.text();
    assert!(
        text.contains(PURPOSE) && text.contains("Your email address"),
        "{text}"
    );
    browser.click("button[value=approve]");
    let back = browser.wait_url("the client", |u| u.starts_with(&w.callback.url));
    w.redeem(&param(&back, "code").expect("a code"), &p);

    browser.goto(&w.page("/account"));
    browser.wait_url("the account page", |u| u.ends_with("/account"));
    browser.click("a[href='/account/apps']");
    browser.wait_url("Connected apps", |u| u.ends_with("/account/apps"));
    accessible(browser, "connected apps");
    let text = browser.text();
    assert!(
        text.contains("Clinic Portal") && text.contains(PURPOSE),
        "{text}"
    );
    browser.click("form[action='/account/apps/withdraw'] button");
    browser.wait_url("the confirmation", |u| {
        u.contains("/account/apps/withdraw?client=rp")
    });
    accessible(browser, "withdraw confirmation");
    browser.click("form[action='/account/apps/withdraw'][method=post] button");
    browser.wait_js(
        "the notice",
        "document.getElementById('apps-notice') !== null",
    );
    accessible(browser, "connected apps after withdrawing");
    let text = browser.text();
    assert!(text.contains("Access withdrawn"), "{text}");
    assert!(
        text.contains("No app has access to your details."),
        "{text}"
    );
    // The next authorization asks again.
    browser.goto(&w.authorize_url(&pkce(), &[("scope", "openid email")]));
    browser.wait_url("the consent page again", |u| u.contains("/consent?"));
}

per_backend!(a_person_sees_and_withdraws_a_connected_app_in_chromium);
