//! Profile claims (OIDC Core §5.1) set with `ward user set` and on /account,
//! released per scope (§5.4), and the `claims` request parameter (§5.5) at
//! /authorize and PAR: claims for the ID token or userinfo alone, without
//! their scope, only what the client may receive, consent covering them, a
//! `sub` value honoured; malformed JSON is `invalid_request`. Over real HTTP,
//! on SQLite and on PostgreSQL. (The admin API's profile route: admin_api.rs.)

mod common;

use common::app::{TestApp, TestAppBuilder, id_claims};
use common::oidc::{self, Browser, REDIRECT, authorize_url, param, pkce};
use common::{Backend, Server, get};
use serde_json::{Value, json};

const PROFILE: &str = r#"{"street_address":"1 Harbour Road\nFlat 4","locality":"Riverside","postal_code":"RS1 2AB","country":"GB"}"#;

/// Alice with a full profile (set with the CLI), and a client allowed every
/// standard scope.
fn with_alice_and_rp(builder: TestAppBuilder) -> TestAppBuilder {
    builder
        .user("alice")
        .with(|env| {
            let shown = env.ok(
                &[
                    "user",
                    "set",
                    "alice",
                    "--given-name",
                    "Alice",
                    "--family-name",
                    "Liddell",
                    "--middle-name",
                    "Pleasance",
                    "--birthdate",
                    "1852-05-04",
                    "--locale",
                    "en-GB",
                    "--zoneinfo",
                    "Europe/London",
                    "--phone-number",
                    "+44 1632 960961",
                    "--phone-number-verified",
                    "true",
                    "--address-json",
                    PROFILE,
                    "--json",
                ],
                None,
            );
            let shown: Value = serde_json::from_str(&shown).unwrap();
            assert_eq!(shown["profile"]["given_name"], "Alice");
            assert_eq!(shown["profile"]["address"]["locality"], "Riverside");
        })
        .first_party(
            "rp",
            "openid profile email phone address offline_access",
            &[],
        )
}

fn userinfo(server: &Server, access_token: &str) -> Value {
    let (status, _, body) = common::get_with(
        &server.url("/userinfo"),
        &[("authorization", &format!("Bearer {access_token}"))],
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn profile_claims_set_with_the_cli_are_released_per_scope(backend: Backend) {
    let w = with_alice_and_rp(TestApp::new(backend)).start();
    let (server, alice) = (&w.server, w.user_id("alice"));

    // profile: the names, birthdate, locale and zone; nothing of phone or address.
    let t = w.sign_in("rp", "alice", &[("scope", "openid profile")]).1;
    let info = userinfo(server, t["access_token"].as_str().unwrap());
    assert_eq!(info["sub"], alice, "{backend:?}");
    assert_eq!(info["given_name"], "Alice");
    assert_eq!(info["family_name"], "Liddell");
    assert_eq!(info["middle_name"], "Pleasance");
    assert_eq!(info["birthdate"], "1852-05-04");
    assert_eq!(info["locale"], "en-GB");
    assert_eq!(info["zoneinfo"], "Europe/London");
    assert_eq!(info["name"], "Test Person");
    assert!(info["updated_at"].is_i64());
    for absent in ["phone_number", "address", "email"] {
        assert!(info.get(absent).is_none(), "{absent}: {info}");
    }
    // Scope claims come from userinfo, not the ID token (§5.4).
    assert!(id_claims(&t).get("given_name").is_none());

    // phone and address: those claims only.
    let t = w
        .sign_in("rp", "alice", &[("scope", "openid phone address")])
        .1;
    let info = userinfo(server, t["access_token"].as_str().unwrap());
    assert_eq!(info["phone_number"], "+44 1632 960961");
    assert_eq!(info["phone_number_verified"], true);
    assert_eq!(
        info["address"],
        json!({"street_address": "1 Harbour Road\nFlat 4", "locality": "Riverside",
               "postal_code": "RS1 2AB", "country": "GB"})
    );
    assert!(info.get("given_name").is_none(), "{info}");
}

fn profile_changes_with_the_cli_are_checked_released_and_audited(backend: Backend) {
    let w = with_alice_and_rp(TestApp::new(backend)).start();
    let (env, server) = (&w.env, &w.server);

    // A new phone number is unverified; an empty value clears a field.
    env.ok(
        &[
            "user",
            "set",
            "alice",
            "--phone-number",
            "+1 (604) 555-1234;ext=5678",
            "--middle-name",
            "",
        ],
        None,
    );
    let t = w
        .sign_in("rp", "alice", &[("scope", "openid profile phone")])
        .1;
    let info = userinfo(server, t["access_token"].as_str().unwrap());
    assert_eq!(info["phone_number"], "+1 (604) 555-1234;ext=5678");
    assert_eq!(info["phone_number_verified"], false);
    assert!(info.get("middle_name").is_none(), "{info}");

    // Junk is refused, naming the field; nothing changes.
    for (args, expected) in [
        (["--birthdate", "1852-02-30"], "birthdate"),
        (["--birthdate", "last spring"], "birthdate"),
        (["--phone-number", "call me maybe"], "phone_number"),
        (["--locale", "English please"], "locale"),
        (["--zoneinfo", "../../etc"], "zoneinfo"),
        (["--address-json", r#"{"city":"x"}"#], "address"),
    ] {
        let mut all = vec!["user", "set", "alice"];
        all.extend_from_slice(&args);
        let err = env.fails(&all, None);
        assert!(err.contains(expected), "{backend:?} {args:?}: {err}");
    }
    assert!(
        env.fails(&["user", "set", "alice"], None)
            .contains("nothing to change")
    );
    // Each change, and each refusal, is audited.
    assert!(
        env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'user.profile_update' AND outcome = 'success'")
            >= 2
    );
    assert!(
        env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'user.profile_update' AND outcome = 'failure'")
            >= 1
    );
}

per_backend!(
    profile_claims_set_with_the_cli_are_released_per_scope,
    profile_changes_with_the_cli_are_checked_released_and_audited,
);

/// A pushed authorization request (RFC 9126) of `rp` for scope openid with
/// PKCE `p` and the claims request `claims`: the answer.
fn push(w: &TestApp, p: &oidc::Pkce, claims: &str) -> oidc::Res {
    w.post_as(
        "rp",
        "/par",
        &[
            ("response_type", "code"),
            ("client_id", "rp"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", &p.challenge),
            ("code_challenge_method", "S256"),
            ("claims", claims),
        ],
    )
}

fn discovery_advertises_the_claims_parameter_claims_and_scopes(backend: Backend) {
    let w = with_alice_and_rp(TestApp::new(backend)).start();
    let server = &w.server;

    // Discovery advertises the parameter, the claims and the scopes.
    let (status, _, body) = get(&server.url("/.well-known/openid-configuration"));
    assert_eq!(status, 200);
    let meta: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(meta["claims_parameter_supported"], true);
    for claim in [
        "given_name",
        "family_name",
        "middle_name",
        "birthdate",
        "locale",
        "zoneinfo",
        "phone_number",
        "phone_number_verified",
        "address",
        "acr",
    ] {
        assert!(
            meta["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(claim)),
            "{claim}"
        );
    }
    for scope in ["phone", "address"] {
        assert!(
            meta["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(scope))
        );
    }
}

fn an_id_token_claims_request_is_honoured_there_only_and_on_refresh(backend: Backend) {
    let w = with_alice_and_rp(TestApp::new(backend)).start();
    let server = &w.server;

    // phone_number for the ID token, without the phone scope: in the ID
    // token only; a value is only a request for the claim (§5.5.1);
    // unknown claims are ignored.
    let claims =
        r#"{"id_token":{"phone_number":{"essential":true,"value":"+1 000"},"nickname":null}}"#;
    let t = w
        .sign_in(
            "rp",
            "alice",
            &[("scope", "openid offline_access"), ("claims", claims)],
        )
        .1;
    let id = id_claims(&t);
    assert_eq!(id["phone_number"], "+44 1632 960961", "{backend:?}: {id}");
    assert!(id.get("nickname").is_none() && id.get("phone_number_verified").is_none());
    let info = userinfo(server, t["access_token"].as_str().unwrap());
    assert!(info.get("phone_number").is_none(), "{info}");
    assert_eq!(id["acr"], "aal1");
    // The grant keeps the request: a refreshed ID token honours it too.
    let refreshed = w.refresh("rp", t["refresh_token"].as_str().unwrap());
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(
        id_claims(&refreshed.json())["phone_number"],
        "+44 1632 960961"
    );
}

fn a_userinfo_claims_request_is_honoured_there_only(backend: Backend) {
    let w = with_alice_and_rp(TestApp::new(backend)).start();
    let server = &w.server;

    // A userinfo-only request: there and not in the ID token.
    let claims = r#"{"userinfo":{"birthdate":null,"address":{"essential":true}}}"#;
    let t = w
        .sign_in("rp", "alice", &[("scope", "openid"), ("claims", claims)])
        .1;
    let info = userinfo(server, t["access_token"].as_str().unwrap());
    assert_eq!(info["birthdate"], "1852-05-04", "{backend:?}: {info}");
    assert_eq!(info["address"]["locality"], "Riverside");
    assert!(
        info.get("given_name").is_none(),
        "only what was asked: {info}"
    );
    let id = id_claims(&t);
    assert!(id.get("birthdate").is_none() && id.get("address").is_none());
}

fn a_pushed_claims_request_is_honoured(backend: Backend) {
    let w = with_alice_and_rp(TestApp::new(backend)).start();
    let server = &w.server;

    // Pushed (RFC 9126) with a claims request: the same.
    let p = pkce();
    let pushed = push(&w, &p, r#"{"id_token":{"given_name":null}}"#);
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    let uri = pushed.json()["request_uri"].as_str().unwrap().to_string();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs([("client_id", "rp"), ("request_uri", uri.as_str())]);
    let res = Browser::new(server).authorize(
        &format!("{}/authorize?{}", server.base, q.finish()),
        "alice",
    );
    let code = param(res.location(), "code").expect("code");
    let t = w.tokens("rp", &code, &p);
    assert_eq!(id_claims(&t)["given_name"], "Alice");
}

fn malformed_claims_json_is_an_invalid_request(backend: Backend) {
    let w = with_alice_and_rp(TestApp::new(backend)).start();
    let server = &w.server;

    // Malformed claims JSON: invalid_request, at /authorize and at /par.
    for bad in ["{not json", "[]", r#"{"id_token":{"given_name":true}}"#] {
        let p = pkce();
        let res = Browser::new(server).get(&authorize_url(
            server,
            "rp",
            &p,
            &[("scope", "openid"), ("claims", bad)],
        ));
        assert_eq!(res.status, 303, "{bad}: {}", res.body);
        assert_eq!(
            param(res.location(), "error").as_deref(),
            Some("invalid_request"),
            "{bad}: {}",
            res.location()
        );
        assert!(
            param(res.location(), "error_description")
                .unwrap()
                .starts_with("claims:")
        );
    }
    let res = push(&w, &pkce(), "{not json");
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(res.json()["error"], "invalid_request");
}

per_backend!(
    discovery_advertises_the_claims_parameter_claims_and_scopes,
    an_id_token_claims_request_is_honoured_there_only_and_on_refresh,
    a_userinfo_claims_request_is_honoured_there_only,
    a_pushed_claims_request_is_honoured,
    malformed_claims_json_is_an_invalid_request,
);

fn a_claims_request_gives_only_what_the_client_may_receive(backend: Backend) {
    // This client is not registered for phone or address.
    let w = with_alice_and_rp(TestApp::new(backend))
        .first_party("narrow", "openid profile", &[])
        .start();
    let server = &w.server;
    let p = pkce();
    let mut b = Browser::new(server);
    let claims =
        r#"{"id_token":{"phone_number":null,"given_name":null},"userinfo":{"address":null}}"#;
    let res = b.authorize(
        &authorize_url(
            server,
            "narrow",
            &p,
            &[("scope", "openid"), ("claims", claims)],
        ),
        "alice",
    );
    let code = param(res.location(), "code").expect("code");
    let res = w.exchange("narrow", &code, &p.verifier);
    assert_eq!(res.status, 200, "{}", res.body);
    let t = res.json();
    let id = id_claims(&t);
    assert_eq!(id["given_name"], "Alice", "{backend:?}: {id}");
    assert!(id.get("phone_number").is_none(), "{id}");
    let info = userinfo(server, t["access_token"].as_str().unwrap());
    assert!(info.get("address").is_none(), "{info}");
}

per_backend!(a_claims_request_gives_only_what_the_client_may_receive);

fn consent_covers_the_scopes_of_requested_claims(backend: Backend) {
    let w = TestApp::new(backend)
        .user("alice")
        .client(
            "third",
            &[
                "--type",
                "public",
                "--redirect-uri",
                REDIRECT,
                "--scope",
                "openid profile phone",
            ],
        )
        .start();
    let server = &w.server;
    let p = pkce();
    let mut b = Browser::new(server);
    let claims = r#"{"id_token":{"phone_number":null}}"#;
    let url = authorize_url(
        server,
        "third",
        &p,
        &[("scope", "openid"), ("claims", claims)],
    );
    // Sign in, then the consent page names the phone number.
    let res = b.get(&url);
    let login = b.get(res.location());
    let res = b.sign_in(
        &oidc::hidden(&login.body, "interaction"),
        &oidc::hidden(&login.body, "csrf"),
        "alice",
        common::PASSWORD,
    );
    let res = oidc::follow(&mut b, res);
    assert!(
        res.body.contains("See your phone number"),
        "{backend:?}: {}",
        res.body
    );
}

per_backend!(consent_covers_the_scopes_of_requested_claims);

fn people_keep_their_own_details_on_the_account_page(backend: Backend) {
    let w = TestApp::new(backend).user("alice").start();
    let (env, server, alice) = (&w.env, &w.server, w.user_id("alice"));
    let mut b = Browser::new(server);
    let res = b.get("/account");
    let login = b.get(res.location());
    let res = b.sign_in(
        &oidc::hidden(&login.body, "interaction"),
        &oidc::hidden(&login.body, "csrf"),
        "alice",
        common::PASSWORD,
    );
    assert_eq!(res.location(), "/account");
    let page = b.get("/account");
    assert!(page.body.contains("Your details"), "{}", page.body);
    assert!(
        !page.body.contains("value=\"none\"") && !page.body.contains(">none</textarea>"),
        "empty fields are empty"
    );
    let csrf = oidc::hidden(&page.body, "csrf");
    let form = |birthdate: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("action", "update_profile".to_string()),
            ("display_name", "Alice L.".to_string()),
            ("given_name", "Alice".to_string()),
            ("middle_name", String::new()),
            ("family_name", "Liddell".to_string()),
            ("birthdate", birthdate.to_string()),
            ("locale", "en-GB".to_string()),
            ("zoneinfo", "Europe/London".to_string()),
            ("phone_number", "+44 1632 960961".to_string()),
            ("street_address", "1 Harbour Road".to_string()),
            ("locality", "Riverside".to_string()),
            ("region", String::new()),
            ("postal_code", String::new()),
            ("country", "GB".to_string()),
        ]
    };
    let post = |b: &mut Browser, f: Vec<(&str, String)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post("/account", &pairs)
    };
    // Junk is refused and nothing is saved.
    let res = post(&mut b, form("31/02/1990"));
    assert_eq!(res.status, 400, "{backend:?}: {}", res.body);
    assert!(res.body.contains("birthdate"), "{}", res.body);
    let res = post(&mut b, form("1990-02-28"));
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(
        res.body.contains("Your details were saved."),
        "{}",
        res.body
    );
    assert!(res.body.contains("value=\"Liddell\""));
    let shown: Value =
        serde_json::from_str(&env.ok(&["user", "show", "alice", "--json"], None)).unwrap();
    assert_eq!(shown["display_name"], "Alice L.");
    assert_eq!(shown["profile"]["birthdate"], "1990-02-28");
    assert_eq!(
        shown["profile"]["phone_number_verified"], false,
        "not by the user"
    );
    assert_eq!(
        shown["profile"]["address"],
        json!({"street_address": "1 Harbour Road", "locality": "Riverside", "country": "GB"})
    );
    // Audited as the user's own change, from their browser.
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'user.profile_update' \
             AND outcome = 'success' AND actor = 'user:{alice}'"
        )),
        1
    );
}

per_backend!(people_keep_their_own_details_on_the_account_page);

fn a_sub_with_a_value_is_answered_only_for_that_user(backend: Backend) {
    let w = with_alice_and_rp(TestApp::new(backend)).start();
    let (server, alice) = (&w.server, w.user_id("alice"));
    let mut b = Browser::new(server);
    let p = pkce();
    let res = b.authorize(
        &authorize_url(server, "rp", &p, &[("scope", "openid")]),
        "alice",
    );
    assert!(param(res.location(), "code").is_some());
    // §5.5.1: someone else's sub with prompt=none: the session is not theirs.
    let someone = r#"{"id_token":{"sub":{"value":"0b5f2a3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"}}}"#;
    let res = b.get(&authorize_url(
        server,
        "rp",
        &p,
        &[("scope", "openid"), ("prompt", "none"), ("claims", someone)],
    ));
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("login_required"),
        "{backend:?}: {}",
        res.location()
    );
    let mine = format!(r#"{{"id_token":{{"sub":{{"value":"{alice}"}}}}}}"#);
    let res = b.get(&authorize_url(
        server,
        "rp",
        &p,
        &[("scope", "openid"), ("prompt", "none"), ("claims", &mine)],
    ));
    assert!(
        param(res.location(), "code").is_some(),
        "{}",
        res.location()
    );
}

per_backend!(a_sub_with_a_value_is_answered_only_for_that_user);
