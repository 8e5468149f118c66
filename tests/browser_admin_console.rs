//! The admin console in Chromium (docs/admin-console.md): an administrator
//! signs in with a password and an authenticator app, creates a user,
//! grants a role, registers a client (and first sees a field error), runs
//! "verify now" and reviews a break-glass item (refused: it is their own);
//! every page passes axe-core's WCAG 2.1 AA checks (no serious or critical
//! violations) at desktop and phone width.

mod common;

use common::Backend;
use common::app::TestApp;
use common::axe::serious_violations;
use common::browser::{BrowserWorld, Driver};
use common::oidc::Browser;
use common::totp::{mid_step, totp};

fn accessible(browser: &Driver, page: &str) {
    for (width, height) in [(1280, 900), (390, 844)] {
        browser.window(width, height);
        let found = serious_violations(browser);
        assert!(found.is_empty(), "{page} at {width}px: {found:#?}");
    }
    browser.window(1280, 900);
}

fn an_administrator_walks_the_console_in_chromium(backend: Backend) {
    let builder = TestApp::new(backend)
        .user_with("root", &["--role", "ward-admin", "--tenant", "ward"])
        .ward(&[
            "policy",
            "grant",
            "root",
            "physician",
            "--tenant",
            "st-mary",
        ]);
    let Some(w) = BrowserWorld::start(builder) else {
        return;
    };
    // The authenticator app is enrolled over HTTP.
    let mut http = Browser::new(&w.app.server);
    let secret = http.password_session_with_totp("root");

    let browser = &w.browser;
    browser.goto(&w.page("/admin"));
    browser.wait_url("the sign-in", |u| u.contains("/login?interaction=admin"));
    accessible(browser, "sign-in");
    browser.type_into("#username", "root");
    browser.type_into("#password", common::PASSWORD);
    browser.click("button[type=submit]");
    browser.wait_url("the second factor", |u| u.contains("/login/verify"));
    browser.type_into("#totp", &totp(&secret, mid_step() + 30));
    browser.click("form[action='/login/verify'] button[type=submit]");
    browser.wait_url("the console", |u| u.ends_with("/admin"));
    accessible(browser, "start");

    // root, a physician at St Mary's, uses break-glass access (its review comes last).
    browser.goto(&w.page("/account"));
    browser.wait_url("the account page", |u| u.ends_with("/account"));
    browser.type_into(
        "#emergency-reason",
        "Unconscious patient in the emergency room",
    );
    browser.js("document.getElementById('emergency-reason').form.submit(); return true;");
    browser.wait_js("the elevation", "location.pathname === '/account' && document.readyState === 'complete' && !(document.getElementById('emergency-reason') || { value: '' }).value");
    browser.goto(&w.page("/admin"));
    browser.wait_url("the console", |u| u.ends_with("/admin"));

    // Create a user.
    browser.click("nav a[href='/admin/users']");
    browser.wait_url("users", |u| u.ends_with("/admin/users"));
    accessible(browser, "users");
    browser.type_into("#username", "dave");
    browser.type_into("#email", "dave@example.org");
    browser.click("#create");
    browser.wait_js("the new user", "document.getElementById('notice') !== null");
    accessible(browser, "a user");
    assert!(
        browser.text().contains("User created."),
        "{}",
        browser.text()
    );

    // Grant a role.
    browser.type_into("#role", "nurse");
    browser.type_into("#tenant", "st-mary");
    browser.click("#grant");
    browser.wait_js("the grant", "location.search.includes('done=granted')");
    assert!(browser.text().contains("ehr:read"), "{}", browser.text());
    browser.click("nav a[href='/admin/roles']");
    browser.wait_url("roles", |u| u.ends_with("/admin/roles"));
    accessible(browser, "roles and policy");
    assert!(browser.text().contains("dave"), "{}", browser.text());
    browser.js("history.back(); return true;");
    browser.wait_url("the user again", |u| u.contains("done=granted"));
    // Disabling asks first.
    browser.click("#toggle-status");
    browser.wait_url("the confirmation", |u| {
        u.contains("/confirm?action=disable")
    });
    accessible(browser, "confirmation");
    browser.click("#confirm");
    browser.wait_js("disabled", "location.search.includes('done=disabled')");

    // Register a client: a field error first, then the secret once.
    browser.goto(&w.page("/admin/clients/new"));
    browser.wait_url("the form", |u| u.ends_with("/admin/clients/new"));
    accessible(browser, "client registration");
    browser.type_into("#client_id", "lab");
    browser.type_into("#redirect_uris", "not-a-uri");
    browser.click("#register");
    browser.wait_js(
        "the field error",
        "document.getElementById('redirect_uris-error') !== null",
    );
    accessible(browser, "client registration with an error");
    browser.type_into("#redirect_uris", "https://lab.example.org/cb");
    browser.click("#register");
    browser.wait_js(
        "the secret",
        "document.getElementById('client-secret') !== null",
    );
    accessible(browser, "client registered");
    browser.goto(&w.page("/admin/clients"));
    browser.wait_url("clients", |u| u.ends_with("/admin/clients"));
    accessible(browser, "clients");

    // Verify now: the page reloads itself until the job is done.
    browser.goto(&w.page("/admin/audit"));
    browser.wait_url("audit", |u| u.ends_with("/admin/audit"));
    accessible(browser, "audit");
    browser.click("#verify-now");
    browser.wait_js(
        "the verification's result",
        "document.body.innerText.includes('The chain is intact')",
    );
    accessible(browser, "audit after verifying");
    browser.goto(&w.page("/admin/audit?event_type=user.create"));
    browser.wait_js("the records", "document.getElementById('records') !== null");
    accessible(browser, "audit records");

    // Break-glass review: root used it, so root's sign-off is refused.
    browser.goto(&w.page("/admin/break-glass"));
    browser.wait_url("break-glass", |u| u.ends_with("/admin/break-glass"));
    accessible(browser, "break-glass review");
    assert!(
        browser.text().contains("Unconscious patient"),
        "{}",
        browser.text()
    );
    browser.click("form[action$='/review'] button");
    browser.wait_js(
        "the refusal next to the note",
        "document.querySelector('[id$=\"-error\"]') !== null",
    );
    assert!(
        browser.text().contains("someone else"),
        "{}",
        browser.text()
    );
    accessible(browser, "break-glass refusal");

    browser.goto(&w.page("/admin/sessions"));
    browser.wait_url("sessions", |u| u.ends_with("/admin/sessions"));
    accessible(browser, "sessions");

    browser.goto(&w.page("/admin/keys"));
    browser.wait_url("keys", |u| u.ends_with("/admin/keys"));
    accessible(browser, "signing keys");
    browser.click("#rotate-RS256");
    browser.wait_url("the confirmation", |u| u.contains("/admin/keys/rotate"));
    browser.click("#confirm");
    browser.wait_js("rotated", "location.search.includes('done=rotated')");
    accessible(browser, "signing keys after a rotation");

    // Approvals: nothing waits.
    browser.goto(&w.page("/admin/approvals"));
    browser.wait_url("approvals", |u| u.ends_with("/admin/approvals"));
    accessible(browser, "approvals");
}

per_backend!(an_administrator_walks_the_console_in_chromium);
