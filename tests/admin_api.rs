//! The admin REST API over real HTTP, on every backend: an administrator with
//! a recent multi-factor sign-in manages users, clients, roles and sessions and
//! reads the audit trail (here); every route enumerated from the OpenAPI
//! document refuses a token without the permission (403), no token (401) and
//! a password-only sign-in (401 step-up) (guard.rs); bad input is a problem,
//! never a 500 (bad_input.rs).

#[path = "admin_api/bad_input.rs"]
mod bad_input;
mod common;
#[path = "admin_api/erasure.rs"]
mod erasure;
#[path = "admin_api/guard.rs"]
mod guard;
#[path = "admin_api/secrets.rs"]
mod secrets;
#[path = "admin_api/support.rs"]
mod support;
#[path = "admin_api/trust.rs"]
mod trust;

use common::app::TestApp;
use common::{Backend, PASSWORD};
use serde_json::{Value, json};
use support::{CLIENT, audit, call, claims, ok, parse, problem, sign_in, tokens, world};

/// Every change of `changes` (event type, subject) left its record, with
/// the administrator as the actor.
fn audited_as_the_administrator(w: &TestApp, t: &str, changes: &[(&str, Option<&str>)]) {
    let actor = format!("user:{}", w.user_id("admin"));
    for &(kind, subject) in changes {
        let q = match subject {
            Some(s) => format!("event_type={kind}&subject={s}"),
            None => format!("event_type={kind}"),
        };
        let records = audit(w, t, &q);
        let mine: Vec<&Value> = records
            .iter()
            .filter(|r| r["actor"] == actor.as_str())
            .collect();
        assert!(!mine.is_empty(), "{kind} {subject:?}: {records:?}");
        assert_eq!(mine[0]["outcome"], "success");
        if kind == "session.ended" {
            assert_eq!(mine[0]["reason"], "admin");
        }
    }
}

fn an_administrator_pages_creates_shows_disables_and_resets_users(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    // Users: list and page, create, show, disable, reset MFA.
    let page = ok(call(&w, "GET", "/users?limit=1", Some(t), None), 200);
    assert_eq!(page["users"][0]["username"], "admin");
    let next = page["next"].as_str().unwrap();
    let page = ok(
        call(
            &w,
            "GET",
            &format!("/users?limit=1&after={next}"),
            Some(t),
            None,
        ),
        200,
    );
    assert_eq!(page["users"][0]["username"], "alice");
    let body = json!({
        "username": "bob", "email": "bob@example.org",
        "display_name": "Bob", "password": PASSWORD,
    });
    let res = call(&w, "POST", "/users", Some(t), Some(&body.to_string()));
    let location = res.headers.get("location").cloned().unwrap_or_default();
    let bob = ok(res, 201);
    let bob_id = bob["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/admin/api/users/{bob_id}"));
    assert_eq!(
        (bob["username"].as_str(), bob["status"].as_str()),
        (Some("bob"), Some("active"))
    );
    let shown = ok(
        call(&w, "GET", &format!("/users/{bob_id}"), Some(t), None),
        200,
    );
    assert_eq!(shown["email"], "bob@example.org");
    let changed = ok(
        call(
            &w,
            "PATCH",
            &format!("/users/{bob_id}"),
            Some(t),
            Some(r#"{"status":"disabled"}"#),
        ),
        200,
    );
    assert_eq!(changed["status"], "disabled");
    let cli = parse(&w.env.ok(&["user", "show", "bob", "--json"], None));
    assert_eq!(cli["status"], "disabled", "the CLI sees the API's change");
    let reset = ok(
        call(
            &w,
            "POST",
            &format!("/users/{}/reset-mfa", w.user_id("alice")),
            Some(t),
            None,
        ),
        200,
    );
    assert_eq!(
        (reset["totp"].as_bool(), reset["passkeys"].as_u64()),
        (Some(false), Some(0))
    );

    let alice = w.user_id("alice");
    audited_as_the_administrator(
        &w,
        t,
        &[
            ("user.create", Some(bob_id.as_str())),
            ("user.disable", Some(bob_id.as_str())),
            ("user.reset_mfa", Some(alice)),
        ],
    );
    // Reads are recorded too.
    assert!(!audit(&w, t, "event_type=user.list").is_empty());
}

fn an_administrator_registers_shows_and_removes_clients(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    // Clients: register (the secret once), list, show, remove.
    let body = json!({"client_id": "lab-portal", "type": "confidential",
        "redirect_uris": ["https://lab.example.org/cb"], "scopes": ["openid", "profile"],
        "pkce": "optional"});
    let created = ok(
        call(&w, "POST", "/clients", Some(t), Some(&body.to_string())),
        201,
    );
    assert!(
        created["client_secret"]
            .as_str()
            .is_some_and(|s| s.len() >= 32),
        "{created}"
    );
    assert_eq!(
        created["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    let list = ok(call(&w, "GET", "/clients", Some(t), None), 200);
    let ids: Vec<&str> = list["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"lab-portal") && ids.contains(&CLIENT),
        "{list}"
    );
    let shown = ok(call(&w, "GET", "/clients/lab-portal", Some(t), None), 200);
    assert!(shown.get("client_secret").is_none(), "never shown again");
    assert_eq!(shown["pkce"], "optional");
    assert!(
        w.env
            .ok(&["client", "show", "lab-portal"], None)
            .contains("lab-portal")
    );
    assert_eq!(
        call(&w, "DELETE", "/clients/lab-portal", Some(t), None).status,
        204
    );
    problem(
        &call(&w, "GET", "/clients/lab-portal", Some(t), None),
        404,
        Some("not-found"),
    );

    audited_as_the_administrator(&w, t, &[("client.create", None), ("client.remove", None)]);
    let records = audit(&w, t, "event_type=client.remove");
    assert_eq!(records[0]["client_id"], "lab-portal");
    assert!(records[0]["details"].is_object());
}

fn roles_granted_and_revoked_by_an_administrator_are_seen_by_the_cli(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    // Roles: grant, seen by `ward policy show`, revoke.
    let alice = w.user_id("alice");
    let granted = ok(
        call(
            &w,
            "POST",
            &format!("/users/{alice}/roles"),
            Some(t),
            Some(r#"{"role":"nurse","tenant":"st-mary"}"#),
        ),
        201,
    );
    assert_eq!(
        (granted["role"].as_str(), granted["tenant"].as_str()),
        (Some("nurse"), Some("st-mary"))
    );
    let cli = parse(&w.env.ok(&["policy", "show", "alice", "--json"], None));
    assert_eq!(cli["tenants"][0]["roles"], json!(["nurse"]), "{cli}");
    let roles = ok(
        call(&w, "GET", &format!("/users/{alice}/roles"), Some(t), None),
        200,
    );
    assert_eq!(
        roles["tenants"][0]["permissions"],
        json!([
            "ehr:read",
            "ehr:write",
            "fhir:Observation:c",
            "fhir:Observation:r",
            "fhir:Observation:s",
            "fhir:Patient:r",
            "fhir:Patient:s",
            "schedule:read"
        ])
    );
    assert_eq!(roles["policy_version"], granted["policy_version"]);
    ok(
        call(
            &w,
            "DELETE",
            &format!("/users/{alice}/roles/st-mary/nurse"),
            Some(t),
            None,
        ),
        200,
    );
    let cli = parse(&w.env.ok(&["policy", "show", "alice", "--json"], None));
    assert_eq!(cli["tenants"], json!([]));

    audited_as_the_administrator(
        &w,
        t,
        &[
            ("policy.grant", Some(alice)),
            ("policy.revoke", Some(alice)),
        ],
    );
}

/// `g, client:<client_id>, role, tenant` through the API: only for a
/// registered client, once, seen in the policy export, and revoked.
fn an_administrator_grants_and_revokes_a_clients_role(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    let body = r#"{"role":"nurse","tenant":"st-mary"}"#;
    let path = format!("/clients/{CLIENT}/roles");
    let granted = ok(call(&w, "POST", &path, Some(t), Some(body)), 201);
    assert_eq!(granted["subject"], format!("client:{CLIENT}"));
    assert_eq!(granted["client_id"], CLIENT);
    let export = w.env.ok(&["policy", "export"], None);
    assert!(
        export.contains(&format!("g, client:{CLIENT}, nurse, st-mary")),
        "{export}"
    );
    problem(
        &call(&w, "POST", &path, Some(t), Some(body)),
        409,
        Some("conflict"),
    );
    problem(
        &call(
            &w,
            "POST",
            "/clients/no-such-app/roles",
            Some(t),
            Some(body),
        ),
        404,
        Some("not-found"),
    );
    let bad = r#"{"role":"Nurse!","tenant":"st-mary"}"#;
    problem(
        &call(&w, "POST", &path, Some(t), Some(bad)),
        422,
        Some("invalid-value"),
    );
    let one = format!("/clients/{CLIENT}/roles/st-mary/nurse");
    ok(call(&w, "DELETE", &one, Some(t), None), 200);
    problem(
        &call(&w, "DELETE", &one, Some(t), None),
        404,
        Some("not-found"),
    );
    let records = audit(&w, t, "event_type=policy.grant");
    assert!(
        records
            .iter()
            .any(|r| r["client_id"] == CLIENT && r["outcome"] == "success"),
        "{records:?}"
    );
}

fn an_administrator_pages_and_ends_sessions_named_by_their_sid(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    // Sessions: the admin's two sign-ins, named by the sid of their ID tokens.
    let sessions = ok(
        call(
            &w,
            "GET",
            &format!("/users/{}/sessions", w.user_id("admin")),
            Some(t),
            None,
        ),
        200,
    );
    let list = sessions["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{sessions}");
    assert!(list.iter().all(|s| s["live"] == true));
    assert_eq!(
        (list[0]["acr"].as_str(), list[1]["acr"].as_str()),
        (Some("aal2"), Some("aal1")),
        "newest first"
    );
    let first = ok(
        call(
            &w,
            "GET",
            &format!("/users/{}/sessions?limit=1", w.user_id("admin")),
            Some(t),
            None,
        ),
        200,
    );
    let after = first["next"].as_str().unwrap();
    let second = ok(
        call(
            &w,
            "GET",
            &format!(
                "/users/{}/sessions?limit=1&after={after}",
                w.user_id("admin")
            ),
            Some(t),
            None,
        ),
        200,
    );
    assert_eq!(second["sessions"][0]["sid"], list[1]["sid"]);
    let after = second["next"].as_str().unwrap();
    let third = ok(
        call(
            &w,
            "GET",
            &format!(
                "/users/{}/sessions?limit=1&after={after}",
                w.user_id("admin")
            ),
            Some(t),
            None,
        ),
        200,
    );
    assert_eq!(third["sessions"], json!([]));
    assert!(third.get("next").is_none());
    let weak_sid = list[1]["sid"].as_str().unwrap();
    let path = format!("/users/{}/sessions/{weak_sid}", w.user_id("admin"));
    assert_eq!(call(&w, "DELETE", &path, Some(t), None).status, 204);
    problem(
        &call(&w, "DELETE", &path, Some(t), None),
        409,
        Some("conflict"),
    );
    audited_as_the_administrator(&w, t, &[("session.ended", Some(w.user_id("admin")))]);
}

fn ending_all_of_a_users_sessions_ends_the_one_of_her_id_token(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    // Alice has a browser session too.
    let (_, alice_tokens) = sign_in(&w, "alice", None);
    let alice = w.user_id("alice");
    // End all of alice's: her ID token's session among them.
    let alice_sid = claims(alice_tokens["id_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let ended = ok(
        call(
            &w,
            "DELETE",
            &format!("/users/{alice}/sessions"),
            Some(t),
            None,
        ),
        200,
    );
    assert_eq!(ended["ended"], json!([alice_sid]));
    let after = ok(
        call(
            &w,
            "GET",
            &format!("/users/{alice}/sessions"),
            Some(t),
            None,
        ),
        200,
    );
    assert_eq!(after["sessions"][0]["live"], false);
    assert!(after["sessions"][0]["ended_at"].is_i64());

    audited_as_the_administrator(&w, t, &[("session.ended", Some(alice))]);
}

fn the_trail_records_reads_and_is_read_forward_or_newest_first(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    // Reads are recorded too (the trail's own reads included), and refusals.
    audit(&w, t, "limit=1");
    assert!(!audit(&w, t, "event_type=audit.read").is_empty());
    // Following the trail: after an id, oldest first.
    let forward = audit(&w, t, "after_id=0&limit=5");
    let ids: Vec<i64> = forward.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "{ids:?}");
    let newest = audit(&w, t, "limit=3");
    assert!(
        newest[0]["id"].as_i64() > newest[2]["id"].as_i64(),
        "newest first"
    );
}

fn consents_are_listed_and_withdrawn_once_and_clients_state_their_purpose(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    // Alice signs in to the first-party console: a consent implied by policy.
    let (_, alice) = sign_in(&w, "alice", None);
    let path = format!("/users/{}/consents", w.user_id("alice"));
    let list = ok(call(&w, "GET", &path, Some(t), None), 200);
    let c = &list["consents"][0];
    assert_eq!(list["consents"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(
        (
            c["client_id"].as_str(),
            c["given_by"].as_str(),
            c["version"].as_i64()
        ),
        (Some(CLIENT), Some("first_party"), Some(1)),
        "{list}"
    );
    assert_eq!(
        c["claims"],
        json!([
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "preferred_username",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at"
        ])
    );
    // Withdrawn once: her grant is revoked, her access token dies with it.
    let one = format!("{path}/{CLIENT}");
    let done = ok(call(&w, "DELETE", &one, Some(t), None), 200);
    assert_eq!(done["consent"]["withdrawn_by"], "admin_api", "{done}");
    assert_eq!(done["grants_revoked"], 1, "{done}");
    audited_as_the_administrator(&w, t, &[("consent.withdraw", Some(w.user_id("alice")))]);
    let at = alice["access_token"].as_str().unwrap();
    let (status, _, _) = common::get_with(
        &w.server.url("/userinfo"),
        &[("authorization", &format!("Bearer {at}"))],
    );
    assert_eq!(status, 401);
    // Twice: a conflict. An unknown client or user: not found.
    let p = problem(
        &call(&w, "DELETE", &one, Some(t), None),
        409,
        Some("conflict"),
    );
    assert!(
        p["detail"].as_str().unwrap().contains("already withdrawn"),
        "{p}"
    );
    problem(
        &call(&w, "DELETE", &format!("{path}/nobody"), Some(t), None),
        404,
        Some("not-found"),
    );
    problem(
        &call(&w, "GET", "/users/nobody/consents", Some(t), None),
        404,
        Some("not-found"),
    );
    let history = ok(
        call(&w, "GET", &format!("{path}?history=true"), Some(t), None),
        200,
    );
    assert!(history["consents"][0]["withdrawn_at"].is_i64(), "{history}");
    // A client's purpose and claims allow-list: set, shown, checked, cleared.
    let patch = json!({"purpose": "Run Ward.", "claims": ["preferred_username"]});
    let changed = ok(
        call(
            &w,
            "PATCH",
            &format!("/clients/{CLIENT}"),
            Some(t),
            Some(&patch.to_string()),
        ),
        200,
    );
    assert_eq!(
        (&changed["purpose"], &changed["claims"]),
        (&json!("Run Ward."), &json!(["preferred_username"]))
    );
    let bad = json!({"claims": ["phone_number"]});
    let p = problem(
        &call(
            &w,
            "PATCH",
            &format!("/clients/{CLIENT}"),
            Some(t),
            Some(&bad.to_string()),
        ),
        422,
        Some("invalid-value"),
    );
    assert_eq!(p["field"], "claims", "{p}");
    let cleared = json!({"purpose": null, "claims": null});
    let shown = ok(
        call(
            &w,
            "PATCH",
            &format!("/clients/{CLIENT}"),
            Some(t),
            Some(&cleared.to_string()),
        ),
        200,
    );
    assert!(
        shown["purpose"].is_null() && shown["claims"].is_null(),
        "{shown}"
    );
    audited_as_the_administrator(&w, t, &[("client.update", None)]);
    problem(
        &call(&w, "PATCH", "/clients/nobody", Some(t), Some("{}")),
        404,
        Some("not-found"),
    );
    let created = json!({"client_id": "bad", "type": "public", "redirect_uris": ["https://a.example/cb"],
        "claims": ["shoe_size"]});
    let p = problem(
        &call(&w, "POST", "/clients", Some(t), Some(&created.to_string())),
        422,
        Some("invalid-value"),
    );
    assert_eq!(p["field"], "claims", "{p}");
}

per_backend!(
    an_administrator_pages_creates_shows_disables_and_resets_users,
    an_administrator_registers_shows_and_removes_clients,
    roles_granted_and_revoked_by_an_administrator_are_seen_by_the_cli,
    an_administrator_grants_and_revokes_a_clients_role,
    an_administrator_pages_and_ends_sessions_named_by_their_sid,
    ending_all_of_a_users_sessions_ends_the_one_of_her_id_token,
    the_trail_records_reads_and_is_read_forward_or_newest_first,
    consents_are_listed_and_withdrawn_once_and_clients_state_their_purpose,
);

fn an_auditor_signs_off_break_glass_elevations(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    // An elevation as `/account` records it (its own flow is tests/break_glass.rs).
    w.env
        .sql(&format!(
            "INSERT INTO break_glass (id, user_id, tenant, reason, started_at, expires_at) \
             VALUES ('e1', '{}', 'st-mary', 'Unconscious patient in A&E', 1, 2)",
            w.user_id("alice")
        ))
        .unwrap();
    let pending = ok(
        call(&w, "GET", "/admin/api/break-glass", Some(t), None),
        200,
    );
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0]["reason"], "Unconscious patient in A&E");
    assert!(pending[0]["reviewed_at"].is_null());
    let body = json!({ "note": "Checked with the A&E lead: justified." }).to_string();
    let done = ok(
        call(
            &w,
            "POST",
            "/admin/api/break-glass/e1/review",
            Some(t),
            Some(&body),
        ),
        200,
    );
    assert_eq!(
        done["reviewed_by"],
        Value::String(w.user_id("admin").to_string())
    );
    // Once only; off the review list; unknown ids are 404.
    problem(
        &call(
            &w,
            "POST",
            "/admin/api/break-glass/e1/review",
            Some(t),
            Some(&body),
        ),
        409,
        Some("conflict"),
    );
    problem(
        &call(
            &w,
            "POST",
            "/admin/api/break-glass/nope/review",
            Some(t),
            Some(&body),
        ),
        404,
        Some("not-found"),
    );
    let pending = ok(
        call(&w, "GET", "/admin/api/break-glass", Some(t), None),
        200,
    );
    assert!(pending.as_array().unwrap().is_empty());
    let all = ok(
        call(
            &w,
            "GET",
            "/admin/api/break-glass?pending=false",
            Some(t),
            None,
        ),
        200,
    );
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(
        w.env.count("SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'break_glass.reviewed' AND outcome = 'success'"),
        1
    );
}

per_backend!(an_auditor_signs_off_break_glass_elevations);

fn an_administrator_sets_profile_claims_that_userinfo_releases_per_scope(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    let path = format!("/users/{}/profile", w.user_id("alice"));
    let body = json!({
        "given_name": "Alice", "family_name": "Liddell", "birthdate": "1852",
        "locale": "en-GB", "zoneinfo": "Europe/London",
        "phone_number": "+44 1632 960961", "phone_number_verified": true,
        "address": {"locality": "Riverside", "country": "GB"},
    });
    let user = ok(
        call(&w, "PATCH", &path, Some(t), Some(&body.to_string())),
        200,
    );
    assert_eq!(user["profile"]["given_name"], "Alice", "{backend:?}");
    assert_eq!(user["profile"]["phone_number_verified"], true);
    assert_eq!(user["profile"]["address"]["locality"], "Riverside");
    // Absent members stay; null clears.
    let user = ok(
        call(&w, "PATCH", &path, Some(t), Some(r#"{"locale":null}"#)),
        200,
    );
    assert!(user["profile"].get("locale").is_none(), "{user}");
    assert_eq!(user["profile"]["family_name"], "Liddell");
    // Junk is refused with the field named.
    let res = call(
        &w,
        "PATCH",
        &path,
        Some(t),
        Some(r#"{"birthdate":"1852-02-30"}"#),
    );
    assert_eq!(
        problem(&res, 422, Some("invalid-value"))["field"],
        "birthdate"
    );
    // Audited, with the names of the fields changed (never their values).
    let records = audit(
        &w,
        t,
        &format!(
            "event_type=user.profile_update&subject={}",
            w.user_id("alice")
        ),
    );
    let fields: Vec<&Value> = records.iter().map(|r| &r["details"]["fields"]).collect();
    assert!(fields.contains(&&json!(["locale"])), "{records:?}");
    assert!(
        records
            .iter()
            .all(|r| !r["details"].to_string().contains("Liddell"))
    );

    // The profile scope releases the names and birthdate; the client is
    // not registered for phone or address, so those stay back.
    let (_, alice_tokens) = sign_in(&w, "alice", None);
    let res = crate::common::get_with(
        &w.server.url("/userinfo"),
        &[(
            "authorization",
            &format!("Bearer {}", alice_tokens["access_token"].as_str().unwrap()),
        )],
    );
    let info = parse(&res.2);
    assert_eq!(info["given_name"], "Alice", "{info}");
    assert_eq!(info["birthdate"], "1852");
    assert!(info.get("locale").is_none() && info.get("phone_number").is_none());
}

per_backend!(an_administrator_sets_profile_claims_that_userinfo_releases_per_scope);

/// `/admin/api/fhir-servers` and a user's FHIR resource, with the CLI's
/// rules: registered, listed, refused when malformed or taken, removed,
/// audited (docs/smart.md).
fn fhir_servers_and_fhir_users_are_managed_through_the_api(backend: Backend) {
    let w = world(backend);
    let (_, strong) = tokens(&w, "admin");
    let t = strong.as_str();
    let base = "https://fhir.example.org/r4";
    let body = json!({ "base_url": base, "tenant": "st-mary" }).to_string();
    let created = ok(call(&w, "POST", "/fhir-servers", Some(t), Some(&body)), 201);
    assert_eq!(created["base_url"], base);
    assert_eq!(created["tenant"], "st-mary");
    let id = created["id"].as_str().unwrap().to_string();
    problem(
        &call(&w, "POST", "/fhir-servers", Some(t), Some(&body)),
        409,
        Some("conflict"),
    );
    for bad in [
        json!({ "base_url": "http://fhir.example.org/r4", "tenant": "st-mary" }),
        json!({ "base_url": "https://fhir.example.org/r4/", "tenant": "st-mary" }),
        json!({ "base_url": "https://fhir.example.org/r4?x=1", "tenant": "st-mary" }),
        json!({ "base_url": "https://other.example.org/r4", "tenant": "Not A Tenant" }),
        json!({ "base_url": "https://other.example.org/r4", "tenant": "ward" }),
    ] {
        let res = call(&w, "POST", "/fhir-servers", Some(t), Some(&bad.to_string()));
        problem(&res, 422, Some("invalid-value"));
    }
    let list = ok(call(&w, "GET", "/fhir-servers", Some(t), None), 200);
    assert_eq!(list["fhir_servers"].as_array().unwrap().len(), 1, "{list}");
    // The CLI sees it too.
    assert!(w.env.ok(&["fhir", "list"], None).contains(base));
    assert_eq!(
        call(&w, "DELETE", &format!("/fhir-servers/{id}"), Some(t), None).status,
        204
    );
    problem(
        &call(&w, "DELETE", &format!("/fhir-servers/{id}"), Some(t), None),
        404,
        Some("not-found"),
    );
    // A user's FHIR resource.
    let alice = w.user_id("alice").to_string();
    let path = format!("/users/{alice}/fhir-user");
    let set = json!({ "fhir_user": "Patient/123" }).to_string();
    assert_eq!(call(&w, "PUT", &path, Some(t), Some(&set)).status, 204);
    let bad = json!({ "fhir_user": "Observation/1" }).to_string();
    problem(
        &call(&w, "PUT", &path, Some(t), Some(&bad)),
        422,
        Some("invalid-value"),
    );
    let nobody = call(&w, "PUT", "/users/nobody/fhir-user", Some(t), Some(&set));
    problem(&nobody, 404, Some("not-found"));
    // Each change and each refusal is on the record, as the administrator's.
    let actor = format!("user:{}", w.user_id("admin"));
    for kind in [
        "fhir_server.add",
        "fhir_server.remove",
        "user.fhir_user_set",
    ] {
        let records = audit(&w, t, &format!("event_type={kind}"));
        for outcome in ["success", "failure"] {
            assert!(
                records
                    .iter()
                    .any(|r| r["actor"] == actor.as_str() && r["outcome"] == outcome),
                "{kind} {outcome}: {records:?}"
            );
        }
    }
}

per_backend!(fhir_servers_and_fhir_users_are_managed_through_the_api);
