//! Bad JSON, bad parameters, unknown ids and conflicts: RFC 9457 problems with
//! the right status, never a server error.

use crate::common::Backend;
use crate::support::{call, call_as, ok, problem, tokens, world};

enum Body {
    None,
    Json(&'static str),
    Text(&'static str),
    Large,
}

use Body::{Json, Large, Text};

/// Method, path (`{alice}` is her id), body, status, problem type (empty: `about:blank`).
const CASES: &[(&str, &str, Body, u16, &str)] = &[
    ("POST", "/users", Json("{not json"), 400, "invalid-request"),
    ("POST", "/users", Text("{}"), 415, ""),
    (
        "POST",
        "/users",
        Json(r#"{"username":"bob","admin":true}"#),
        400,
        "invalid-request",
    ),
    ("POST", "/users", Json("{}"), 400, "invalid-request"),
    ("POST", "/users", Large, 413, ""),
    (
        "POST",
        "/users",
        Json(r#"{"username":"alice"}"#),
        409,
        "conflict",
    ),
    (
        "POST",
        "/users",
        Json(r#"{"username":"no spaces"}"#),
        422,
        "invalid-value",
    ),
    (
        "POST",
        "/users",
        Json(r#"{"username":"carol","password":"password"}"#),
        422,
        "invalid-value",
    ),
    (
        "GET",
        "/users/00000000-0000-4000-8000-000000000000",
        Body::None,
        404,
        "not-found",
    ),
    ("GET", "/users/nobody", Body::None, 404, "not-found"),
    (
        "PATCH",
        "/users/{alice}",
        Json(r#"{"status":"gone"}"#),
        400,
        "invalid-request",
    ),
    (
        "PATCH",
        "/users/nobody",
        Json(r#"{"status":"active"}"#),
        404,
        "not-found",
    ),
    (
        "PATCH",
        "/users/{alice}/profile",
        Json(r#"{"nickname":"Al"}"#),
        400,
        "invalid-request",
    ),
    (
        "PATCH",
        "/users/{alice}/profile",
        Json(r#"{"phone_number":"call me"}"#),
        422,
        "invalid-value",
    ),
    (
        "PATCH",
        "/users/{alice}/profile",
        Json("{}"),
        422,
        "invalid-value",
    ),
    (
        "PATCH",
        "/users/nobody/profile",
        Json(r#"{"locale":"en"}"#),
        404,
        "not-found",
    ),
    (
        "POST",
        "/users/nobody/reset-mfa",
        Body::None,
        404,
        "not-found",
    ),
    ("GET", "/users?limit=0", Body::None, 422, "invalid-value"),
    (
        "GET",
        "/users?limit=many",
        Body::None,
        400,
        "invalid-request",
    ),
    ("POST", "/clients", Json(DUPLICATE_CLIENT), 409, "conflict"),
    (
        "POST",
        "/clients",
        Json(r#"{"client_id":"x1","type":"weird"}"#),
        422,
        "invalid-value",
    ),
    (
        "POST",
        "/clients",
        Json(PLAIN_HTTP_REDIRECT),
        422,
        "invalid-value",
    ),
    (
        "POST",
        "/clients",
        Json(PUBLIC_WITHOUT_PKCE),
        422,
        "invalid-value",
    ),
    ("POST", "/clients", Json(UNKNOWN_PKCE), 422, "invalid-value"),
    (
        "POST",
        "/clients",
        Json(UNSUPPORTED_SCOPE),
        422,
        "invalid-value",
    ),
    ("GET", "/clients/nope", Body::None, 404, "not-found"),
    ("DELETE", "/clients/nope", Body::None, 404, "not-found"),
    (
        "POST",
        "/users/{alice}/roles",
        Json(r#"{"role":"emergency","tenant":"riverside"}"#),
        404,
        "not-found",
    ),
    (
        "POST",
        "/users/{alice}/roles",
        Json(r#"{"role":"*","tenant":"st-mary"}"#),
        422,
        "invalid-value",
    ),
    (
        "POST",
        "/users/{alice}/roles",
        Json(r#"{"role":"nurse"}"#),
        400,
        "invalid-request",
    ),
    (
        "DELETE",
        "/users/{alice}/roles/st-mary/nurse",
        Body::None,
        404,
        "not-found",
    ),
    ("GET", "/users/nobody/roles", Body::None, 404, "not-found"),
    (
        "GET",
        "/users/nobody/sessions",
        Body::None,
        404,
        "not-found",
    ),
    (
        "GET",
        "/users/{alice}/sessions?after=garbage",
        Body::None,
        422,
        "invalid-value",
    ),
    (
        "DELETE",
        "/users/{alice}/sessions/not-a-sid",
        Body::None,
        404,
        "not-found",
    ),
    (
        "GET",
        "/audit?event_type=no%20such%20thing",
        Body::None,
        422,
        "invalid-value",
    ),
    (
        "GET",
        "/audit?after_id=yesterday",
        Body::None,
        400,
        "invalid-request",
    ),
    ("PUT", "/users", Json("{}"), 405, ""),
    ("GET", "/nothing-here", Body::None, 404, ""),
];

const DUPLICATE_CLIENT: &str =
    r#"{"client_id":"ward-console","type":"public","redirect_uris":["http://127.0.0.1:9999/cb"]}"#;
const UNSUPPORTED_SCOPE: &str = r#"{"client_id":"x5","type":"public","redirect_uris":["http://127.0.0.1:9999/cb"],"scopes":["openid","user/Observation.rw"]}"#;
const PLAIN_HTTP_REDIRECT: &str =
    r#"{"client_id":"x2","type":"public","redirect_uris":["http://evil.example/cb"]}"#;
/// A public client must use PKCE (the same rule as `ward client add`).
const PUBLIC_WITHOUT_PKCE: &str = r#"{"client_id":"x3","type":"public","redirect_uris":["https://app.example.org/cb"],"pkce":"optional"}"#;
const UNKNOWN_PKCE: &str = r#"{"client_id":"x4","type":"confidential","redirect_uris":["https://app.example.org/cb"],"pkce":"sometimes"}"#;

fn bad_input_unknown_ids_and_conflicts_are_problems_never_server_errors(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = Some(t.as_str());
    let alice = w.user_id("alice");
    for (i, (method, path, body, status, kind)) in CASES.iter().enumerate() {
        let path = path.replace("{alice}", alice);
        let res = match body {
            Body::None => call(&w, method, &path, t, None),
            Body::Json(text) => call(&w, method, &path, t, Some(text)),
            Body::Text(text) => call_as(&w, method, &path, t, Some(("text/plain", text))),
            Body::Large => call(&w, method, &path, t, Some(&"x".repeat(70_000))),
        };
        let kind = (!kind.is_empty()).then_some(*kind);
        let p = problem(&res, *status, kind);
        assert!(
            p["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "case {i}: {p}"
        );
        if *status == 405 {
            assert_eq!(res.headers["allow"], "GET, POST");
        }
    }
    // Granting twice: the second is a conflict.
    let grant = r#"{"role":"nurse","tenant":"st-mary"}"#;
    ok(
        call(&w, "POST", &format!("/users/{alice}/roles"), t, Some(grant)),
        201,
    );
    problem(
        &call(&w, "POST", &format!("/users/{alice}/roles"), t, Some(grant)),
        409,
        Some("conflict"),
    );
}

crate::per_backend!(bad_input_unknown_ids_and_conflicts_are_problems_never_server_errors);
