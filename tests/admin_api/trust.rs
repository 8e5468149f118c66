//! Which tokens the admin API trusts (issue #15): only those of Ward's admin
//! console client with the `ward:admin` scope; and dual control: granting
//! `ward-admin` waits for a second administrator.

use crate::common::Backend;
use crate::common::app::TestApp;
use crate::common::oidc::{REDIRECT, pkce};
use crate::support::{CLIENT, audit, call, claims, ok, problem, sign_in, tokens};
use serde_json::json;

/// The admin world plus a second administrator and another first-party app.
fn world_with_two_admins(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .user_with("admin", &["--role", "ward-admin", "--tenant", "ward"])
        .user_with("second", &["--role", "ward-admin", "--tenant", "ward"])
        .user("alice")
        .confidential(
            CLIENT,
            REDIRECT,
            &["--first-party", "--scope", "openid profile ward:admin"],
        )
        .confidential(
            "other-app",
            REDIRECT,
            &["--first-party", "--scope", "openid profile"],
        )
        .serve_env("WARD_TOKENS_ACCESS_TOKEN_SECONDS", "900")
        .start()
}

/// A token of `client` for `scope`, from the browser's (multi-factor) session.
fn token_in_session(
    w: &TestApp,
    b: &mut crate::common::oidc::Browser,
    client: &str,
    scope: &str,
) -> String {
    let p = pkce();
    let res = b.get(&w.authorize_url(client, &p, &[("scope", scope)]));
    let t = w.finish(b, res, client, &p);
    t["access_token"].as_str().unwrap().to_string()
}

fn only_the_console_clients_admin_scoped_tokens_open_the_api(backend: Backend) {
    let w = world_with_two_admins(backend);
    let (_, strong) = tokens(&w, "admin");
    assert_eq!(
        ok(call(&w, "GET", "/users", Some(&strong), None), 200)["users"][0]["username"],
        "admin"
    );

    // The same administrator's aal2 session, through another first-party app:
    // a relying party holding it must not reach the admin API.
    // A multi-factor sign-in of the second administrator, then SSO to the other app.
    let (mut enrolling, _) = sign_in(&w, "second", None);
    let secret = enrolling.enrol_totp();
    let (mut b, _) = sign_in(&w, "second", Some(&secret));
    let other = token_in_session(&w, &mut b, "other-app", "openid profile");
    assert_eq!(claims(&other)["acr"], "aal2");
    let p = problem(
        &call(&w, "GET", "/users", Some(&other), None),
        401,
        Some("unauthorized"),
    );
    assert!(p.to_string().contains("console"), "{p}");

    // The console's own token without `ward:admin`: refused too.
    let plain = token_in_session(&w, &mut b, CLIENT, "openid profile");
    assert_eq!(claims(&plain)["acr"], "aal2");
    problem(
        &call(&w, "GET", "/users", Some(&plain), None),
        401,
        Some("unauthorized"),
    );
    // With it: let through.
    let admin = token_in_session(&w, &mut b, CLIENT, "openid profile ward:admin");
    ok(call(&w, "GET", "/users", Some(&admin), None), 200);

    // No other client may be registered with the scope, by the API or the CLI.
    let body = r#"{"client_id":"sneaky","type":"confidential","redirect_uris":["http://127.0.0.1:9999/cb"],"scopes":["openid","ward:admin"]}"#;
    let p = problem(
        &call(&w, "POST", "/clients", Some(&strong), Some(body)),
        422,
        Some("invalid-value"),
    );
    assert!(p.to_string().contains("reserved"), "{p}");
    let out = w.env.run(
        &[
            "client",
            "add",
            "sneaky",
            "--type",
            "confidential",
            "--redirect-uri",
            "http://127.0.0.1:9999/cb",
            "--scope",
            "openid ward:admin",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("reserved"));
}

fn granting_ward_admin_waits_for_a_second_administrator(backend: Backend) {
    let w = world_with_two_admins(backend);
    let (_, first) = tokens(&w, "admin");
    let (_, second) = tokens(&w, "second");
    let alice = w.user_id("alice").to_string();
    let roles = |t: &str| {
        ok(
            call(&w, "GET", &format!("/users/{alice}/roles"), Some(t), None),
            200,
        )
    };

    // Any other role is granted at once.
    let grant = |t: &str, role: &str, tenant: &str| {
        let body = json!({ "role": role, "tenant": tenant }).to_string();
        call(
            &w,
            "POST",
            &format!("/users/{alice}/roles"),
            Some(t),
            Some(&body),
        )
    };
    ok(grant(&first, "auditor", "ward"), 201);
    // ward-admin: a request, not a grant.
    let asked = ok(grant(&first, "ward-admin", "ward"), 202);
    assert_eq!(asked["status"], "pending");
    assert_eq!(asked["kind"], "role.grant");
    assert_eq!(asked["subject"], alice.as_str());
    assert_eq!(
        asked["details"],
        json!({"role": "ward-admin", "tenant": "ward"})
    );
    let id = asked["id"].as_str().unwrap().to_string();
    assert!(!roles(&first).to_string().contains("ward-admin"));
    let open = ok(call(&w, "GET", "/approvals", Some(&second), None), 200);
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str()),
        "{open}"
    );

    // Not by the one who asked.
    let own = problem(
        &call(
            &w,
            "POST",
            &format!("/approvals/{id}/approve"),
            Some(&first),
            None,
        ),
        403,
        Some("refused"),
    );
    assert!(own.to_string().contains("second administrator"), "{own}");
    assert!(!roles(&first).to_string().contains("ward-admin"));
    // By another: granted now, once.
    let done = ok(
        call(
            &w,
            "POST",
            &format!("/approvals/{id}/approve"),
            Some(&second),
            None,
        ),
        200,
    );
    assert_eq!(done["role"], "ward-admin");
    assert!(roles(&second).to_string().contains("ward-admin"));
    problem(
        &call(
            &w,
            "POST",
            &format!("/approvals/{id}/approve"),
            Some(&second),
            None,
        ),
        409,
        Some("conflict"),
    );
    problem(
        &call(
            &w,
            "POST",
            "/approvals/no-such-id/approve",
            Some(&second),
            None,
        ),
        404,
        Some("not-found"),
    );
    let open = ok(call(&w, "GET", "/approvals", Some(&second), None), 200);
    assert!(open.as_array().unwrap().is_empty(), "{open}");
    let all = ok(
        call(&w, "GET", "/approvals?pending=false", Some(&second), None),
        200,
    );
    assert_eq!(all[0]["status"], "approved");
    assert_eq!(
        all[0]["decided_by"],
        format!("user:{}", w.user_id("second"))
    );

    // The trail: who asked, who approved, and the grant under the approver's name.
    let approved = audit(
        &w,
        &second,
        &format!("event_type=approval.approved&subject={alice}"),
    );
    assert_eq!(
        approved[0]["actor"],
        format!("user:{}", w.user_id("second"))
    );
    assert_eq!(
        approved[0]["details"]["requested_by"],
        format!("user:{}", w.user_id("admin"))
    );
    let granted = audit(
        &w,
        &second,
        &format!("event_type=policy.grant&subject={alice}"),
    );
    assert!(
        granted
            .iter()
            .any(|r| r["details"]["approval"] == id.as_str()),
        "{granted:?}"
    );
    let refused = audit(&w, &second, "event_type=approval.approved");
    assert!(
        refused
            .iter()
            .any(|r| r["outcome"] == "failure"
                && r["actor"] == format!("user:{}", w.user_id("admin"))),
        "{refused:?}"
    );

    // A request can be rejected (here withdrawn by its requester); then it is closed.
    ok(
        call(
            &w,
            "DELETE",
            &format!("/users/{alice}/roles/ward/ward-admin"),
            Some(&first),
            None,
        ),
        200,
    );
    let again = ok(grant(&first, "ward-admin", "ward"), 202);
    let id2 = again["id"].as_str().unwrap();
    let rejected = ok(
        call(
            &w,
            "POST",
            &format!("/approvals/{id2}/reject"),
            Some(&first),
            None,
        ),
        200,
    );
    assert_eq!(rejected["status"], "rejected");
    problem(
        &call(
            &w,
            "POST",
            &format!("/approvals/{id2}/approve"),
            Some(&second),
            None,
        ),
        409,
        Some("conflict"),
    );
    assert!(!roles(&first).to_string().contains("ward-admin"));
}

crate::per_backend!(
    only_the_console_clients_admin_scoped_tokens_open_the_api,
    granting_ward_admin_waits_for_a_second_administrator,
);
