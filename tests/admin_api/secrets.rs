//! Rotating a confidential client's secret: the same audited operation
//! (`manage::client_secret::rotate_secret`) from the admin API, the CLI and
//! the console. The new secret is shown once; the old one stops working.

use std::time::Duration;

use crate::common::Backend;
use crate::common::app::TestApp;
use crate::common::oidc::{REDIRECT, basic, post_form};
use crate::support::{CLIENT, call, ok, problem, tokens};

fn world(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .user_with("admin", &["--role", "ward-admin", "--tenant", "ward"])
        .confidential(
            CLIENT,
            REDIRECT,
            &["--first-party", "--scope", "openid profile ward:admin"],
        )
        .client(
            "svc",
            &[
                "--type",
                "confidential",
                "--grant-type",
                "client_credentials",
                "--scope",
                "api",
            ],
        )
        .client("spa", &["--type", "public", "--redirect-uri", REDIRECT])
        .start()
}

fn token_status(w: &TestApp, secret: &str) -> u16 {
    let form = [("grant_type", "client_credentials"), ("scope", "api")];
    post_form(&w.server, "/token", Some(&basic("svc", secret)), &form).status
}

/// The client cache keeps a client for up to 2 s on each node.
fn after_the_cache() {
    std::thread::sleep(Duration::from_millis(2_500));
}

fn a_secret_is_rotated_from_the_api_and_the_cli(backend: Backend) {
    let w = world(backend);
    let (_, admin) = tokens(&w, "admin");
    let first = w.secret("svc").to_string();
    assert_eq!(token_status(&w, &first), 200);

    let out = ok(
        call(&w, "POST", "/clients/svc/secret", Some(&admin), None),
        200,
    );
    assert_eq!(out["client_id"], "svc");
    let second = out["client_secret"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    after_the_cache();
    assert_eq!(
        token_status(&w, &first),
        401,
        "the old secret stops working"
    );
    assert_eq!(token_status(&w, &second), 200);

    let printed = w
        .env
        .ok(&["client", "rotate-secret", "svc", "--json"], None);
    let third = serde_json::from_str::<serde_json::Value>(&printed).unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    after_the_cache();
    assert_eq!(token_status(&w, &second), 401);
    assert_eq!(token_status(&w, &third), 200);
    assert_eq!(
        w.env.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'client.rotate_secret' AND outcome = 'success'"
        ),
        2
    );

    // No secret to rotate: an unknown client, a public one. Nothing changes.
    for id in ["nobody", "spa"] {
        let res = call(
            &w,
            "POST",
            &format!("/clients/{id}/secret"),
            Some(&admin),
            None,
        );
        problem(&res, 404, Some("not-found"));
    }
    assert!(
        !w.env
            .fails(&["client", "rotate-secret", "spa"], None)
            .is_empty()
    );
    assert_eq!(token_status(&w, &third), 200);
}

crate::per_backend!(a_secret_is_rotated_from_the_api_and_the_cli);
