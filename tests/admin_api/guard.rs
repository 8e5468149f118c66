//! Every route of the OpenAPI document refuses no token, a token without the
//! permission and a password-only sign-in.

use serde_json::json;

use crate::common::app::TestApp;
use crate::common::oidc::{basic, post_form};
use crate::common::{Backend, PASSWORD};
use crate::support::{CLIENT, audit, call, ok, parse, problem, tokens, world};

/// Paths and methods of the OpenAPI document: (method, path, needs a token).
fn documented_routes(w: &TestApp) -> Vec<(String, String, bool)> {
    let res = call(w, "GET", "/openapi.json", None, None);
    let doc = ok(res, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let public = op["security"] == json!([{}]);
            if !public {
                assert!(op["x-ward-permission"].is_string(), "{method} {path}");
            }
            out.push((method.to_uppercase(), path.clone(), !public));
        }
    }
    out
}

/// A route's URL with placeholder path parameters.
fn placeholder(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        out.push_str("placeholder");
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The tokens the routes are tried with.
struct Tokens {
    admin_weak: String,
    admin_strong: String,
    alice_weak: String,
    alice_strong: String,
    audrey_strong: String,
    /// A client's (client_credentials), not a person's.
    service: String,
}

fn every_documented_route_refuses_no_token_no_permission_and_a_password_only_sign_in(
    backend: Backend,
) {
    let w = world(backend);
    let (audrey, tokens) = sign_in_everyone(&w);
    let routes = documented_routes(&w);
    // The document and the guard's list agree (also unit-tested in src/web/admin).
    let n = ward::web::admin::ROUTES.len();
    assert_eq!(routes.iter().filter(|r| r.2).count(), n, "{routes:?}");
    for (method, path, guarded) in &routes {
        check_route(&w, &tokens, method, path, *guarded);
    }
    refusals_are_audited(&w, &tokens, &audrey, n);
}

crate::per_backend!(
    every_documented_route_refuses_no_token_no_permission_and_a_password_only_sign_in
);

/// An auditor `audrey` added, everyone's tokens: audrey's id and the tokens.
fn sign_in_everyone(w: &TestApp) -> (String, Tokens) {
    // An auditor of Ward: the audit trail and nothing else.
    let out = w.env.ok(
        &[
            "user", "add", "audrey", "--role", "auditor", "--tenant", "ward", "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    let audrey = parse(&out)["id"].as_str().unwrap().to_string();
    let (admin_weak, admin_strong) = tokens(w, "admin");
    let (alice_weak, alice_strong) = tokens(w, "alice");
    let (_, audrey_strong) = tokens(w, "audrey");
    // Her role was granted by the CLI after the server started: it polls
    // the policy version every 2 seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while call(w, "GET", "/audit?limit=1", Some(&audrey_strong), None).status != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never saw the grant"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let service = post_form(
        &w.server,
        "/token",
        Some(&basic(CLIENT, w.secret(CLIENT))),
        &[("grant_type", "client_credentials"), ("scope", "api")],
    );
    let service = service.json()["access_token"].as_str().unwrap().to_string();

    let tokens = Tokens {
        admin_weak,
        admin_strong,
        alice_weak,
        alice_strong,
        audrey_strong,
        service,
    };
    (audrey, tokens)
}

/// One route: refused without a token, with a bad token or a client's, with
/// no permission and with a password-only sign-in; let through otherwise.
fn check_route(w: &TestApp, t: &Tokens, method: &str, path: &str, guarded: bool) {
    let url = placeholder(path);
    let body = matches!(method, "POST" | "PATCH" | "PUT").then_some("{}");
    if !guarded {
        assert_eq!(
            call(w, method, &url, None, body).status,
            200,
            "{method} {path}"
        );
        return;
    }
    // No token: a bare RFC 6750 challenge.
    let res = call(w, method, &url, None, body);
    problem(&res, 401, Some("unauthorized"));
    assert_eq!(
        res.headers["www-authenticate"], "Bearer realm=\"ward\"",
        "{method} {path}"
    );
    // A token that is not Ward's, and one of a client rather than a person.
    for bad in ["not-a-token", t.service.as_str()] {
        let res = call(w, method, &url, Some(bad), body);
        problem(&res, 401, Some("unauthorized"));
        assert!(
            res.headers["www-authenticate"].contains("error=\"invalid_token\""),
            "{method} {path}"
        );
    }
    // Alice holds no permission in `ward`: 403, with or without a second factor.
    for token in [&t.alice_strong, &t.alice_weak] {
        let p = problem(
            &call(w, method, &url, Some(token), body),
            403,
            Some("forbidden"),
        );
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("in the `ward` tenant"),
            "{p}"
        );
    }
    // The auditor may read the trail and review break-glass use, nothing else.
    let res = call(w, method, &url, Some(&t.audrey_strong), body);
    if path == "/admin/api/audit" || path == "/admin/api/break-glass" {
        assert_eq!(res.status, 200, "{}", res.body);
    } else if path.starts_with("/admin/api/break-glass/") {
        // Allowed through the guard; the placeholder elevation does not exist.
        assert_ne!(res.status, 403, "{}", res.body);
    } else {
        problem(&res, 403, Some("forbidden"));
    }
    // The administrator with a password only: a step-up challenge (RFC 9470).
    let res = call(w, method, &url, Some(&t.admin_weak), body);
    problem(&res, 401, Some("insufficient-user-authentication"));
    let challenge = &res.headers["www-authenticate"];
    for part in [
        "Bearer realm=\"ward\"",
        "error=\"insufficient_user_authentication\"",
        "acr_values=\"aal2 phr phrh\"",
        "max_age=\"900\"",
    ] {
        assert!(challenge.contains(part), "{method} {path}: {challenge}");
    }
    // With the second factor, the guard lets the request through (to a 404 or a 4xx).
    let res = call(w, method, &url, Some(&t.admin_strong), body);
    assert!(
        ![401, 403].contains(&res.status) && res.status < 500,
        "{method} {path}: {} {}",
        res.status,
        res.body
    );
}

/// Refusals of valid tokens are audited with the user as the actor.
fn refusals_are_audited(w: &TestApp, t: &Tokens, audrey: &str, n: usize) {
    let denied = audit(
        w,
        &t.admin_strong,
        &format!("event_type=admin.denied&subject={}", w.user_id("alice")),
    );
    assert_eq!(denied.len(), 2 * n, "both of alice's tokens on every route");
    assert_eq!(denied[0]["actor"], format!("user:{}", w.user_id("alice")));
    assert_eq!(denied[0]["reason"], "forbidden");
    let denied = audit(
        w,
        &t.admin_strong,
        &format!("event_type=admin.denied&subject={}", w.user_id("admin")),
    );
    assert!(denied.iter().all(|r| r["reason"] == "step_up") && denied.len() == n);
    assert!(
        !audit(
            w,
            &t.admin_strong,
            &format!("event_type=admin.denied&subject={audrey}")
        )
        .is_empty()
    );
}
