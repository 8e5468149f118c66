//! The admin console (`/admin`, docs/admin-console.md) over real HTTP, on
//! every backend: who gets in (no session: sign-in; a password-only or old
//! sign-in: step-up; no permission: 403 and nothing changed; no CSRF token:
//! 403 and nothing changed), and each change made on its pages is the same
//! audited operation, with the same event type, as the CLI's and the admin
//! API's.

mod common;

use common::app::TestApp;
use common::oidc::{Browser, Res, hidden};
use common::totp::{mid_step, totp};
use common::{Backend, PASSWORD};

fn world(backend: Backend) -> TestApp {
    let admin = ["--role", "ward-admin", "--tenant", "ward"];
    TestApp::new(backend)
        .clock()
        .user_with("root", &admin)
        .user_with("carol", &admin)
        .user_with("audrey", &["--role", "auditor", "--tenant", "ward"])
        .user("bob")
        .ward(&[
            "policy",
            "grant",
            "root",
            "physician",
            "--tenant",
            "st-mary",
        ])
        .start()
}

/// A password session with an authenticator app (aal1), then the console's
/// step-up: only the second factor is asked for. Returns the browser and
/// the TOTP secret.
fn console_sign_in(w: &TestApp, user: &str) -> (Browser, String) {
    let mut b = Browser::new(&w.server);
    let secret = b.password_session_with_totp(user);
    let res = b.get("/admin");
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), "/login?interaction=admin");
    let res = b.get(res.location());
    assert!(
        res.location()
            .starts_with("/login/verify?interaction=admin"),
        "straight to the second factor: {} {}",
        res.status,
        res.body
    );
    let page = b.get(res.location());
    let res = b.second_factor(&page, "totp", &totp(&secret, mid_step() + 30));
    assert_eq!(res.location(), "/admin", "{}", res.body);
    (b, secret)
}

fn audit_count(w: &TestApp, actor_user: &str, event: &str, outcome: &str) -> i64 {
    let actor = format!("user:{}", w.user_id(actor_user));
    w.env.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE actor = '{actor}' AND event_type = '{event}' AND outcome = '{outcome}'"
    ))
}

fn users(w: &TestApp) -> i64 {
    w.env.count("SELECT COUNT(*) AS n FROM users")
}

/// GET `path` (200 expected) and POST `form` plus its CSRF token to `action`.
fn submit(b: &mut Browser, path: &str, action: &str, form: &[(&str, &str)]) -> Res {
    let page = b.get(path);
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(form);
    b.post(action, &all)
}

fn without_a_session_the_console_sends_to_sign_in(backend: Backend) {
    let w = world(backend);
    let mut b = Browser::new(&w.server);
    for path in [
        "/admin",
        "/admin/users",
        "/admin/audit",
        "/admin/clients/new",
    ] {
        let res = b.get(path);
        assert_eq!(res.status, 303, "{path}: {}", res.body);
        assert_eq!(res.location(), "/login?interaction=admin", "{path}");
    }
    // The sign-in page is the ordinary one, for the console.
    let page = b.get("/login?interaction=admin");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("current-password"), "{}", page.body);
    // A form without a session (nor a token) changes nothing.
    let before = users(&w);
    let res = b.post("/admin/users", &[("username", "mallory")]);
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(
        res.body.contains("<html"),
        "an HTML error page: {}",
        res.body
    );
    assert_eq!(users(&w), before);
}

fn a_weak_or_old_sign_in_is_asked_to_sign_in_again(backend: Backend) {
    let w = world(backend);
    // aal1: refused (step-up), recorded as the admin API records it.
    let mut b = Browser::new(&w.server);
    let secret = b.password_session_with_totp("root");
    let res = b.get("/admin/users");
    assert_eq!(res.location(), "/login?interaction=admin");
    assert_eq!(audit_count(&w, "root", "admin.denied", "failure"), 1);
    // The step-up asks for the second factor only, then the page opens.
    let res = b.get(res.location());
    let page = b.get(res.location());
    assert!(!page.body.contains("current-password"), "{}", page.body);
    let res = b.second_factor(&page, "totp", &totp(&secret, mid_step() + 30));
    assert_eq!(res.location(), "/admin");
    let page = b.get("/admin/users");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("root"), "{}", page.body);

    // Sixteen minutes later (admin_max_auth_age_seconds is 900): sign in again.
    w.advance(16 * 60 * 1000);
    let res = b.get("/admin/users");
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/login?interaction=admin");
    let page = b.get(res.location());
    assert!(
        page.body.contains("current-password"),
        "a full sign-in: {}",
        page.body
    );
    let res = b.post(
        "/login",
        &[
            ("interaction", &hidden(&page.body, "interaction")),
            ("csrf", &hidden(&page.body, "csrf")),
            ("username", "root"),
            ("password", PASSWORD),
        ],
    );
    let later = mid_step() + 16 * 60 + 30;
    let res = b.then_second_factor(&res, "totp", &totp(&secret, later));
    assert_eq!(res.location(), "/admin", "{}", res.body);
    assert_eq!(b.get("/admin/users").status, 200);
}

fn without_the_permission_the_answer_is_403_and_nothing_changes(backend: Backend) {
    let w = world(backend);
    // bob holds no permission: every page is a 403 page, even at aal2.
    let (mut bob, _) = console_sign_in(&w, "bob");
    let home = bob.get("/admin");
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(
        !home.body.contains("href=\"/admin/users\""),
        "{}",
        home.body
    );
    for path in [
        "/admin/users",
        "/admin/audit",
        "/admin/clients",
        "/admin/approvals",
    ] {
        let res = bob.get(path);
        assert_eq!(res.status, 403, "{path}: {}", res.body);
        assert!(res.body.contains("in the `ward` tenant"), "{}", res.body);
    }
    assert!(audit_count(&w, "bob", "admin.denied", "failure") >= 4);

    // audrey (auditor) reads the audit trail but creates no user, even with
    // a valid CSRF token from a page she may open.
    let (mut audrey, _) = console_sign_in(&w, "audrey");
    let before = users(&w);
    let res = submit(
        &mut audrey,
        "/admin/audit",
        "/admin/users",
        &[("username", "mallory")],
    );
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("users:write"), "{}", res.body);
    let res = submit(
        &mut audrey,
        "/admin/audit",
        &format!("/admin/users/{}/status", w.user_id("bob")),
        &[("status", "disabled")],
    );
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(users(&w), before);
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM users WHERE status <> 'active'"),
        0
    );
}

fn a_form_without_its_csrf_token_is_refused(backend: Backend) {
    let w = world(backend);
    let (mut b, _) = console_sign_in(&w, "root");
    let before = users(&w);
    let res = b.post("/admin/users", &[("username", "mallory")]);
    assert_eq!(res.status, 403, "{}", res.body);
    let res = b.post(
        "/admin/users",
        &[("csrf", "00ff00ff"), ("username", "mallory")],
    );
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(users(&w), before);
    // A CSRF token of another browser is no better.
    let (mut carol, _) = console_sign_in(&w, "carol");
    let page = carol.get("/admin/users");
    let theirs = hidden(&page.body, "csrf");
    let res = b.post(
        "/admin/users",
        &[("csrf", &theirs), ("username", "mallory")],
    );
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(users(&w), before);
    assert_eq!(audit_count(&w, "root", "user.create", "success"), 0);
}

/// Create a user on the page: its id.
fn create_user(b: &mut Browser, name: &str) -> String {
    let res = submit(
        b,
        "/admin/users",
        "/admin/users",
        &[("username", name), ("email", "dave@example.org")],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    let loc = res.location().to_string();
    let id = loc
        .trim_start_matches("/admin/users/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = b.get(&loc);
    assert!(page.body.contains("User created."), "{}", page.body);
    id
}

fn user_changes_are_the_same_audited_operations(backend: Backend) {
    let w = world(backend);
    let (mut b, _) = console_sign_in(&w, "root");
    let dave = create_user(&mut b, "dave");
    assert_eq!(audit_count(&w, "root", "user.create", "success"), 1);
    // A refused value is shown next to its field; nothing is created.
    let res = submit(
        &mut b,
        "/admin/users",
        "/admin/users",
        &[("username", "no spaces")],
    );
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("id=\"username-error\""), "{}", res.body);
    let res = submit(
        &mut b,
        "/admin/users",
        "/admin/users",
        &[("username", "dave")],
    );
    assert_eq!(res.status, 409, "{}", res.body);

    let user = format!("/admin/users/{dave}");
    // Search by prefix.
    let page = b.get("/admin/users?q=da");
    assert!(page.body.contains("dave@example.org"), "{}", page.body);
    assert!(!page.body.contains(">bob<"), "{}", page.body);
    // Destructive actions ask first; the confirmation page posts the change.
    let confirm = b.get(&format!("{user}/confirm?action=disable"));
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let res = b.post(
        &format!("{user}/status"),
        &[
            ("csrf", &hidden(&confirm.body, "csrf")),
            ("status", &hidden(&confirm.body, "status")),
        ],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(audit_count(&w, "root", "user.disable", "success"), 1);
    let res = submit(
        &mut b,
        &format!("{user}/confirm?action=enable"),
        &format!("{user}/status"),
        &[("status", "active")],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(audit_count(&w, "root", "user.enable", "success"), 1);
    let res = submit(
        &mut b,
        &format!("{user}/confirm?action=reset_mfa"),
        &format!("{user}/reset-mfa"),
        &[],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(audit_count(&w, "root", "user.reset_mfa", "success"), 1);

    // Roles: a plain grant at once, a refused one next to its field, revoke.
    let res = submit(
        &mut b,
        &user,
        &format!("{user}/roles"),
        &[("role", "nurse"), ("tenant", "st-mary")],
    );
    assert_eq!(res.location(), format!("{user}?done=granted"));
    assert_eq!(audit_count(&w, "root", "policy.grant", "success"), 1);
    let roles = b.get("/admin/roles");
    assert_eq!(roles.status, 200, "{}", roles.body);
    assert!(
        roles.body.contains("id=\"policy-version\""),
        "{}",
        roles.body
    );
    assert!(
        roles.body.contains(">dave</a>"),
        "who holds nurse: {}",
        roles.body
    );
    let res = submit(
        &mut b,
        "/admin/roles",
        "/admin/roles/grant",
        &[("user", "nobody"), ("role", "nurse"), ("tenant", "st-mary")],
    );
    assert_eq!(res.status, 404, "{}", res.body);
    assert!(res.body.contains("id=\"g-user-error\""), "{}", res.body);
    let page = b.get(&user);
    assert!(
        page.body.contains("ehr:read"),
        "what the role permits: {}",
        page.body
    );
    let res = submit(
        &mut b,
        &user,
        &format!("{user}/roles"),
        &[("role", "no-such-role"), ("tenant", "st-mary")],
    );
    assert_eq!(res.status, 404, "{}", res.body);
    assert!(res.body.contains("id=\"role-error\""), "{}", res.body);
    let res = submit(
        &mut b,
        &format!("{user}/confirm?action=revoke&role=nurse&tenant=st-mary"),
        &format!("{user}/roles/revoke"),
        &[("role", "nurse"), ("tenant", "st-mary")],
    );
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(audit_count(&w, "root", "policy.revoke", "success"), 1);

    // ward-admin waits for a second administrator; the requester cannot approve.
    let res = submit(
        &mut b,
        &user,
        &format!("{user}/roles"),
        &[("role", "ward-admin"), ("tenant", "ward")],
    );
    assert_eq!(res.location(), format!("{user}?done=pending"));
    let page = b.get(res.location());
    assert!(
        page.body.contains("awaits a second administrator"),
        "{}",
        page.body
    );
    assert_eq!(audit_count(&w, "root", "approval.requested", "success"), 1);
    let page = b.get("/admin/approvals");
    let id = page
        .body
        .split("id=\"approval-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let res = b.post(
        &format!("/admin/approvals/{id}/approve"),
        &[("csrf", &hidden(&page.body, "csrf"))],
    );
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(
        res.body.contains("A second administrator must approve"),
        "{}",
        res.body
    );
    assert_eq!(audit_count(&w, "root", "approval.approved", "failure"), 1);
    let (mut carol, _) = console_sign_in(&w, "carol");
    let res = submit(
        &mut carol,
        "/admin/approvals",
        &format!("/admin/approvals/{id}/approve"),
        &[],
    );
    assert_eq!(res.location(), "/admin/approvals?done=approved");
    assert_eq!(audit_count(&w, "carol", "approval.approved", "success"), 1);
    assert_eq!(audit_count(&w, "carol", "policy.grant", "success"), 1);
}

fn sessions_are_ended_from_the_user_page(backend: Backend) {
    let w = world(backend);
    let (mut b, _) = console_sign_in(&w, "root");
    let mut bob = Browser::new(&w.server);
    assert_eq!(bob.account_sign_in("bob").location(), "/account");
    let counts = b.get("/admin/sessions");
    assert_eq!(counts.status, 200, "{}", counts.body);
    // root's console session (aal2, tenants ward and st-mary) and bob's (aal1, no role).
    assert!(
        counts.body.contains("<strong id=\"open-total\">2</strong>"),
        "{}",
        counts.body
    );
    assert!(counts.body.contains("(no role)"), "{}", counts.body);
    let user = format!("/admin/users/{}", w.user_id("bob"));
    let page = b.get(&user);
    assert!(page.body.contains("End this session"), "{}", page.body);
    let res = submit(
        &mut b,
        &format!("{user}/confirm?action=end_all"),
        &format!("{user}/sessions/end"),
        &[],
    );
    assert_eq!(res.location(), format!("{user}?done=ended_all"));
    assert_eq!(audit_count(&w, "root", "session.ended", "success"), 1);
    // bob's browser is signed out.
    assert_eq!(bob.get("/account").status, 303);
}

fn clients_are_registered_and_removed(backend: Backend) {
    let w = world(backend);
    let (mut b, _) = console_sign_in(&w, "root");
    // A refused redirect URI is shown next to its field; nothing registered.
    let res = submit(
        &mut b,
        "/admin/clients/new",
        "/admin/clients",
        &[
            ("client_id", "lab"),
            ("type", "confidential"),
            ("redirect_uris", "not-a-uri"),
        ],
    );
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.body.contains("id=\"redirect_uris-error\""),
        "{}",
        res.body
    );
    assert!(
        res.body.contains("value=\"lab\""),
        "what was typed stays: {}",
        res.body
    );
    assert_eq!(audit_count(&w, "root", "client.create", "failure"), 1);
    let res = submit(
        &mut b,
        "/admin/clients/new",
        "/admin/clients",
        &[
            ("client_id", "lab"),
            ("type", "confidential"),
            ("redirect_uris", "https://lab.example.org/cb"),
            ("first_party", "1"),
            ("purpose", "Lab results."),
        ],
    );
    assert_eq!(res.status, 201, "{}", res.body);
    assert!(res.body.contains("id=\"client-secret\""), "{}", res.body);
    assert_eq!(audit_count(&w, "root", "client.create", "success"), 1);
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM clients WHERE id = 'lab' AND first_party"),
        1
    );
    let page = b.get("/admin/clients");
    assert!(page.body.contains("<code>lab</code>"), "{}", page.body);
    // A new secret, shown once; the old one stops working.
    let old_secret = res
        .body
        .split("<code id=\"client-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let introspect = |secret: &str| {
        common::oidc::post_form(
            &w.server,
            "/introspect",
            Some(&common::oidc::basic("lab", secret)),
            &[("token", "x")],
        )
        .status
    };
    assert_eq!(introspect(&old_secret), 200);
    let res = submit(
        &mut b,
        "/admin/clients/lab/rotate-secret",
        "/admin/clients/lab/rotate-secret",
        &[],
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let new_secret = res
        .body
        .split("<code id=\"client-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(new_secret, old_secret);
    assert_eq!(
        audit_count(&w, "root", "client.rotate_secret", "success"),
        1
    );
    std::thread::sleep(std::time::Duration::from_millis(2_200)); // the client cache
    assert_eq!(introspect(&new_secret), 200);
    assert_eq!(introspect(&old_secret), 401);
    // No such client: refused (recorded as a failure), nothing written.
    let res = submit(
        &mut b,
        "/admin/clients/lab/rotate-secret",
        "/admin/clients/nobody/rotate-secret",
        &[],
    );
    assert_eq!(res.status, 404, "{}", res.body);
    let res = submit(
        &mut b,
        "/admin/clients/lab/remove",
        "/admin/clients/lab/remove",
        &[],
    );
    assert_eq!(res.location(), "/admin/clients?done=removed");
    assert_eq!(audit_count(&w, "root", "client.remove", "success"), 1);
}

fn the_audit_page_filters_and_verifies(backend: Backend) {
    let w = world(backend);
    let (mut b, _) = console_sign_in(&w, "root");
    create_user(&mut b, "dave");
    let page = b.get("/admin/audit?event_type=user.create&outcome=success");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("&quot;dave&quot;"), "{}", page.body);
    assert!(
        !page.body.contains("<td>login.success</td>"),
        "{}",
        page.body
    );
    let page = b.get("/admin/audit?user=dave");
    assert!(
        page.body.contains("<td>user.create</td>"),
        "by username: {}",
        page.body
    );
    let page = b.get("/admin/audit?from=2000-01-01T00:00&to=2000-01-02T00:00");
    assert!(page.body.contains("No record matches."), "{}", page.body);
    let page = b.get("/admin/audit?from=yesterday");
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("aria-invalid=\"true\""), "{}", page.body);
    // Paging: one record per page is not offered, but 50 are; follow "next".
    for i in 0..55 {
        let _ = b.get(&format!("/admin/users?q=x{i}"));
    }
    let page = b.get("/admin/audit?event_type=user.list");
    assert!(page.body.contains("id=\"next-page\""), "{}", page.body);

    // Verify now: a background job whose result the page shows.
    let res = submit(&mut b, "/admin/audit", "/admin/audit/verify", &[]);
    assert_eq!(res.status, 303, "{}", res.body);
    let mut shown = String::new();
    for _ in 0..50 {
        shown = b.get("/admin/audit").body;
        if shown.contains("The chain is intact") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(shown.contains("The chain is intact"), "{shown}");
    assert_eq!(audit_count(&w, "root", "audit.verify", "success"), 1);
}

fn break_glass_is_signed_off_by_someone_else(backend: Backend) {
    let w = world(backend);
    // root, a physician at St Mary's, uses emergency access after a fresh
    // multi-factor sign-in (the console's).
    let (mut b, _) = console_sign_in(&w, "root");
    let page = b.get("/account");
    let res = b.post(
        "/account",
        &[
            ("csrf", &hidden(&page.body, "csrf")),
            ("action", "break_glass"),
            ("tenant", "st-mary"),
            ("reason", "Unconscious patient in the emergency room"),
        ],
    );
    assert!(res.status < 400, "{} {}", res.status, res.body);
    let page = b.get("/admin/break-glass");
    assert!(page.body.contains("Unconscious patient"), "{}", page.body);
    let id = page
        .body
        .split("id=\"elevation-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let res = b.post(
        &format!("/admin/break-glass/{id}/review"),
        &[("csrf", &hidden(&page.body, "csrf")), ("note", "fine")],
    );
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(
        res.body.contains(&format!("note-{id}-error")),
        "{}",
        res.body
    );
    assert_eq!(
        audit_count(&w, "root", "break_glass.reviewed", "failure"),
        1
    );
    let (mut carol, _) = console_sign_in(&w, "carol");
    let res = submit(
        &mut carol,
        "/admin/break-glass",
        &format!("/admin/break-glass/{id}/review"),
        &[("note", "Checked with the ward.")],
    );
    assert_eq!(res.location(), "/admin/break-glass?done=reviewed");
    assert_eq!(
        audit_count(&w, "carol", "break_glass.reviewed", "success"),
        1
    );
}

fn signing_keys_are_listed_and_rotated(backend: Backend) {
    let w = world(backend);
    let (mut b, _) = console_sign_in(&w, "root");
    let page = b.get("/admin/keys");
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body.matches("<td>active</td>").count(),
        2,
        "{}",
        page.body
    );
    let confirm = b.get("/admin/keys/rotate?alg=ES256");
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let res = b.post(
        "/admin/keys/rotate",
        &[
            ("csrf", &hidden(&confirm.body, "csrf")),
            ("alg", &hidden(&confirm.body, "alg")),
        ],
    );
    assert_eq!(res.location(), "/admin/keys?done=rotated", "{}", res.body);
    assert_eq!(audit_count(&w, "root", "signing_key.rotate", "success"), 1);
    let page = b.get("/admin/keys");
    assert_eq!(
        page.body.matches("<td>retired</td>").count(),
        1,
        "{}",
        page.body
    );
    // The new key is published at once by this node.
    let kid = page
        .body
        .split("<td><code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let (_, _, jwks) = common::get(&w.server.url("/jwks"));
    assert!(jwks.contains(&kid) || page.body.contains(&kid), "{jwks}");
    let bad = b.get("/admin/keys/rotate?alg=HS256");
    assert_eq!(bad.status, 400, "{}", bad.body);
    // An auditor may not see them.
    let (mut audrey, _) = console_sign_in(&w, "audrey");
    assert_eq!(audrey.get("/admin/keys").status, 403);
}

per_backend!(
    signing_keys_are_listed_and_rotated,
    without_a_session_the_console_sends_to_sign_in,
    a_weak_or_old_sign_in_is_asked_to_sign_in_again,
    without_the_permission_the_answer_is_403_and_nothing_changes,
    a_form_without_its_csrf_token_is_refused,
    user_changes_are_the_same_audited_operations,
    sessions_are_ended_from_the_user_page,
    clients_are_registered_and_removed,
    the_audit_page_filters_and_verifies,
    break_glass_is_signed_off_by_someone_else,
);
