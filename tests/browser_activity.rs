//! "Your activity" in Chromium (docs/privacy.md): after signing in to an app
//! that then fetched her details and checked her tokens, a person finds her
//! sign-in (device in plain words, the factor used) and what the app received
//! (in plain words), pages to older deliveries and back; the page passes
//! axe-core's WCAG 2.1 AA checks (no serious or critical violations) at
//! desktop and phone width, on every page of it.

mod common;

use common::Backend;
use common::app::TestApp;
use common::axe::serious_violations;
use common::browser::{BrowserWorld, Driver};
use common::oidc::{param, pkce};

fn accessible(browser: &Driver, page: &str) {
    for (width, height) in [(1280, 900), (390, 844)] {
        browser.window(width, height);
        let found = serious_violations(browser);
        assert!(found.is_empty(), "{page} at {width}px: {found:#?}");
    }
}

fn a_person_reads_her_activity_in_chromium(backend: Backend) {
    let builder = TestApp::new(backend).user("erin");
    let more = ["--first-party", "--scope", "openid email"];
    let Some(w) = BrowserWorld::start_with(builder, &more) else {
        return;
    };
    let browser = &w.browser;
    let p = pkce();
    browser.goto(&w.authorize_url(&p, &[("scope", "openid email")]));
    browser.wait_url("the login page", |u| u.contains("/login?"));
    browser.type_into("#username", "erin");
    browser.type_into("#password", common::PASSWORD);
    browser.click("button[type=submit]");
    let back = browser.wait_url("the client", |u| u.starts_with(&w.callback.url));
    let tokens = w.redeem(&param(&back, "code").expect("a code"), &p);
    let access = tokens["access_token"].as_str().unwrap();
    // The app fetches her details once, and checks its token twelve times:
    // fourteen disclosures, two pages.
    let (status, _, body) = common::get_with(
        &w.app.server.url("/userinfo"),
        &[("authorization", &format!("Bearer {access}"))],
    );
    assert_eq!(status, 200, "{body}");
    for _ in 0..12 {
        assert!(w.app.active("rp", access));
    }

    browser.goto(&w.page("/account"));
    browser.wait_url("the account page", |u| u.ends_with("/account"));
    browser.click("a[href='/account/activity']");
    browser.wait_url("Your activity", |u| u.ends_with("/account/activity"));
    accessible(browser, "activity");
    let text = browser.text();
    for expected in [
        "Your sign-ins",
        "You used: password",
        "Clinic Portal",
        "It checked an access token about you",
        "An identifier for you",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert!(!text.contains("Newer"), "{text}");
    browser.click("a[href='/account/activity?sign_ins=0&apps=1']");
    browser.wait_url("older deliveries", |u| u.ends_with("apps=1"));
    accessible(browser, "activity, older");
    let text = browser.text();
    // The oldest: the sign-in's ID token, then her details for the app.
    assert!(text.contains("You signed in to it"), "{text}");
    assert!(text.contains("It asked Ward for your details"), "{text}");
    assert!(text.contains("Your email address"), "{text}");
    browser.click("a[href='/account/activity?sign_ins=0&apps=0']");
    browser.wait_url("newer deliveries", |u| u.ends_with("apps=0"));
}

per_backend!(a_person_reads_her_activity_in_chromium);
