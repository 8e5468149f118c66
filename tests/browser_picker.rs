//! The standalone launch's patient and encounter pickers in Chromium: a
//! nurse signs in, searches, chooses a patient and an encounter, consents,
//! and the app's token carries both and reads that patient's records at the
//! example gateway; every state of the picker pages passes axe-core's WCAG
//! 2.1 AA checks (no serious or critical violations) at desktop and phone
//! width. Over plain HTTP: tests/smart_picker.rs.

mod common;

use common::Backend;
use common::axe::serious_violations;
use common::browser::{BrowserWorld, Driver};
use common::gateway::{self, SCOPES, builder};
use common::oidc::{free_port, param, pkce};

fn accessible(browser: &Driver, page: &str) {
    for (width, height) in [(1280, 900), (390, 844)] {
        browser.window(width, height);
        let found = serious_violations(browser);
        assert!(found.is_empty(), "{page} at {width}px: {found:#?}");
    }
}

fn submit(browser: &Driver, form: &str) {
    browser.click(&format!("{form} button[type=submit]"));
}

fn a_nurse_launches_standalone_through_the_pickers_in_chromium(backend: Backend) {
    let port = free_port();
    let fhir = gateway::base_url(port);
    let Some(w) = BrowserWorld::start_with(builder(backend, &fhir), &["--scope", SCOPES]) else {
        return;
    };
    let _gateway = gateway::spawn(&w.app, port);
    let browser = &w.browser;
    let p = pkce();
    let scope = "openid launch/patient launch/encounter patient/Observation.rs";
    browser.goto(&w.authorize_url(&p, &[("scope", scope), ("aud", &fhir)]));
    browser.wait_url("the login page", |u| u.contains("/login?"));
    browser.js(&format!(
        "document.getElementById('username').value = 'dana'; \
         document.getElementById('password').value = '{}'; \
         document.querySelector('button[type=submit]').click();",
        common::PASSWORD
    ));
    browser.wait_url("the patient picker", |u| u.contains("/picker/patient?"));
    accessible(browser, "patient picker");
    // A name that cannot be searched for: the message is next to the field.
    browser.type_into("#name", "<b>");
    submit(browser, "form[role=search]");
    browser.wait_js(
        "the field's error",
        "document.getElementById('name-error') !== null",
    );
    accessible(browser, "patient picker with an error");
    browser.js("document.getElementById('name').value = '';");
    browser.type_into("#name", "okafor");
    submit(browser, "form[role=search]");
    browser.wait_js(
        "the results",
        "document.querySelector('input[name=choice]') !== null",
    );
    accessible(browser, "patient picker with results");
    let text = browser.text();
    assert!(text.contains("Ada Okafor"), "{text}");
    browser.click("label[for=choice-1]");
    submit(browser, "form[action='/picker/patient/choose']");
    browser.wait_url("the encounter picker", |u| u.contains("/picker/encounter?"));
    accessible(browser, "encounter picker");
    let text = browser.text();
    assert!(
        text.contains("Diabetes clinic visit") && text.contains("Admission to ward 4B"),
        "{text}"
    );
    browser.click("label[for=choice-2]");
    submit(browser, "form[action='/picker/encounter/choose']");
    browser.wait_url("the consent page", |u| u.contains("/consent?"));
    browser.click("button[value=approve]");
    let back = browser.wait_url("the redirect to the client", |u| {
        u.starts_with(&w.callback.url)
    });
    let t = w.redeem(&param(&back, "code").expect("a code"), &p);
    assert_eq!(t["patient"], "ada", "{t}");
    assert_eq!(t["encounter"], "enc-2", "{t}");
    let (status, bundle) = gateway::get(&fhir, "/Observation", t["access_token"].as_str().unwrap());
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(gateway::ids(&bundle), ["obs-1", "obs-2"]);
}

per_backend!(a_nurse_launches_standalone_through_the_pickers_in_chromium);
