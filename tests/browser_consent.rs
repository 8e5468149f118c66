//! The SMART consent page in Chromium: a person unticks a clinical scope and
//! the app gets the rest; the login and consent pages pass axe-core's WCAG 2.1
//! AA checks (no serious or critical violations) at desktop and phone width.

mod common;

use common::Backend;
use common::app::{TestApp, claims};
use common::axe::serious_violations;
use common::browser::{BrowserWorld, Driver};
use common::oidc::{param, pkce};
use common::smart::FHIR;

fn accessible(browser: &Driver, page: &str) {
    for (width, height) in [(1280, 900), (390, 844)] {
        browser.window(width, height);
        let found = serious_violations(browser);
        assert!(found.is_empty(), "{page} at {width}px: {found:#?}");
    }
}

fn a_person_grants_a_subset_in_chromium(backend: Backend) {
    let builder = TestApp::new(backend)
        .user("dana")
        .ward(&["policy", "grant", "dana", "nurse", "--tenant", "st-mary"])
        .ward(&["fhir", "add", FHIR, "--tenant", "st-mary"]);
    let Some(w) = BrowserWorld::start_with(builder, &["--scope", "openid user/*.rs"]) else {
        return;
    };
    let browser = &w.browser;
    let p = pkce();
    let scope = "openid user/Observation.rs user/Patient.rs";
    browser.goto(&w.authorize_url(&p, &[("scope", scope), ("aud", FHIR)]));
    browser.wait_url("the login page", |u| u.contains("/login?"));
    accessible(browser, "login");
    browser.js(&format!(
        "document.getElementById('username').value = 'dana'; \
         document.getElementById('password').value = '{}'; \
         document.querySelector('button[type=submit]').click();",
        common::PASSWORD
    ));
    browser.wait_url("the consent page", |u| u.contains("/consent?"));
    accessible(browser, "consent");
    let text = browser.text();
    assert!(
        text.contains("Read and search the patients that you are allowed to see"),
        "{text}"
    );
    // Untick Observation by its label, as a person would.
    browser.click("label[for=keep-1]");
    assert_eq!(
        browser.js("return document.querySelector('input[value=\"user/Observation.rs\"]').checked"),
        false
    );
    browser.click("button[value=approve]");
    let back = browser.wait_url("the redirect to the client", |u| {
        u.starts_with(&w.callback.url)
    });
    let t = w.redeem(&param(&back, "code").expect("a code"), &p);
    assert_eq!(t["scope"], "openid user/Patient.rs", "{t}");
    assert_eq!(
        claims(t["access_token"].as_str().unwrap())["scope"],
        "openid user/Patient.rs"
    );
}

per_backend!(a_person_grants_a_subset_in_chromium);
