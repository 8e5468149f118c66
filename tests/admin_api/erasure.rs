//! Erasure through the admin API (docs/admin-api.md "Erasure"): a request
//! that a second administrator approves (the requester cannot), the erasure
//! running with the approval in one transaction; legal holds, placed and
//! released through the API, refuse it, even one placed after the request.

use crate::common::Backend;
use crate::common::app::TestApp;
use crate::common::oidc::REDIRECT;
use crate::support::{CLIENT, call, ok, problem, tokens};
use serde_json::{Value, json};

fn world(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .user_with("admin", &["--role", "ward-admin", "--tenant", "ward"])
        .user_with("second", &["--role", "ward-admin", "--tenant", "ward"])
        .user("alice")
        .user("bob")
        .confidential(
            CLIENT,
            REDIRECT,
            &["--first-party", "--scope", "openid profile ward:admin"],
        )
        .serve_env("WARD_TOKENS_ACCESS_TOKEN_SECONDS", "900")
        .start()
}

fn ask(w: &TestApp, token: &str, user: &str, reason: &str) -> crate::common::oidc::Res {
    let body = json!({ "reason": reason }).to_string();
    call(
        w,
        "POST",
        &format!("/users/{user}/erase"),
        Some(token),
        Some(&body),
    )
}

fn approve(w: &TestApp, token: &str, id: &str) -> crate::common::oidc::Res {
    call(
        w,
        "POST",
        &format!("/approvals/{id}/approve"),
        Some(token),
        None,
    )
}

fn user_status(w: &TestApp, token: &str, user: &str) -> u16 {
    call(w, "GET", &format!("/users/{user}"), Some(token), None).status
}

fn an_erasure_waits_for_a_second_administrator(backend: Backend) {
    let w = world(backend);
    let (_, first) = tokens(&w, "admin");
    let (_, second) = tokens(&w, "second");
    let alice = w.user_id("alice").to_string();

    let asked = ok(ask(&w, &first, &alice, "Art. 17 request 7"), 202);
    assert_eq!(asked["kind"], "user.erase");
    assert_eq!(asked["status"], "pending");
    assert_eq!(asked["subject"], alice.as_str());
    assert_eq!(asked["details"], json!({"reason": "Art. 17 request 7"}));
    let id = asked["id"].as_str().unwrap().to_string();
    assert_eq!(user_status(&w, &first, &alice), 200, "not before approval");
    // A second request about her, still open when she is erased: closed then.
    let twice = ok(ask(&w, &second, &alice, "duplicate"), 202);

    let own = problem(&approve(&w, &first, &id), 403, Some("refused"));
    assert!(own.to_string().contains("second administrator"), "{own}");
    assert_eq!(user_status(&w, &first, &alice), 200);
    let done = ok(approve(&w, &second, &id), 200);
    assert_eq!(done["user_id"], alice.as_str());
    assert_eq!(user_status(&w, &first, &alice), 404);
    problem(&approve(&w, &second, &id), 409, Some("conflict"));
    let closed = problem(
        &approve(&w, &first, twice["id"].as_str().unwrap()),
        409,
        Some("conflict"),
    );
    assert!(closed.to_string().contains("already decided"), "{closed}");

    // The erasure's record names who asked and who approved, not the person.
    let out = w.env.ok(&["audit", "tail", "-n", "200", "--json"], None);
    let records: Vec<Value> = serde_json::from_str(&out).unwrap();
    let erased = records
        .iter()
        .find(|r| r["event_type"] == "user.erased" && r["outcome"] == "success")
        .expect("user.erased");
    assert_eq!(erased["actor"], format!("user:{}", w.user_id("second")));
    let details = erased["details"].as_str().unwrap();
    assert!(
        details.contains(&alice) && details.contains(&id),
        "{details}"
    );
    assert!(!details.contains("alice@"), "{details}");

    // Bad input: a clear problem each, nothing changed.
    problem(&ask(&w, &first, &alice, "again"), 404, Some("not-found"));
    problem(&ask(&w, &first, "bob", " "), 422, Some("invalid-value"));
    // Two administrators ask to erase each other: the first approval goes
    // through, the second would erase the last `ward-admin` and is refused.
    let (admin, other) = (w.user_id("admin"), w.user_id("second"));
    let of_admin = ok(ask(&w, &second, admin, "leaving"), 202);
    let of_second = ok(ask(&w, &first, other, "leaving"), 202);
    ok(approve(&w, &second, of_second["id"].as_str().unwrap()), 200);
    let last = problem(
        &approve(&w, &first, of_admin["id"].as_str().unwrap()),
        409,
        Some("conflict"),
    );
    assert!(last.to_string().contains("last holder"), "{last}");
    assert_eq!(user_status(&w, &first, admin), 200);
}

fn a_legal_hold_refuses_an_erasure_even_after_the_request(backend: Backend) {
    let w = world(backend);
    let (_, first) = tokens(&w, "admin");
    let (_, second) = tokens(&w, "second");
    let bob = w.user_id("bob").to_string();
    let hold = |t: &str| {
        let body = json!({ "reason": "litigation 44-C" }).to_string();
        call(
            &w,
            "PUT",
            &format!("/users/{bob}/legal-hold"),
            Some(t),
            Some(&body),
        )
    };
    let release = |t: &str| {
        call(
            &w,
            "DELETE",
            &format!("/users/{bob}/legal-hold"),
            Some(t),
            None,
        )
    };

    let placed = ok(hold(&first), 201);
    assert_eq!(placed["user_id"], bob.as_str());
    assert_eq!(placed["reason"], "litigation 44-C");
    problem(&hold(&first), 409, Some("conflict"));
    let refused = problem(&ask(&w, &first, &bob, "asked"), 409, Some("conflict"));
    assert!(refused.to_string().contains("legal hold"), "{refused}");
    ok(release(&second), 204);
    problem(&release(&second), 409, Some("conflict"));

    // Asked while free, held before the approval: the approval is refused
    // and changes nothing (the request stays open).
    let asked = ok(ask(&w, &first, &bob, "asked"), 202);
    let id = asked["id"].as_str().unwrap();
    ok(hold(&second), 201);
    let refused = problem(&approve(&w, &second, id), 409, Some("conflict"));
    assert!(refused.to_string().contains("legal hold"), "{refused}");
    assert_eq!(user_status(&w, &first, &bob), 200);
    ok(release(&first), 204);
    ok(approve(&w, &second, id), 200);
    assert_eq!(user_status(&w, &first, &bob), 404);
    problem(&hold(&first), 404, Some("not-found"));
}

crate::per_backend!(
    an_erasure_waits_for_a_second_administrator,
    a_legal_hold_refuses_an_erasure_even_after_the_request,
);
