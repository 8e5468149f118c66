//! The accounting of disclosures and the export (docs/privacy.md) over real
//! HTTP, on every backend. A patient's app (pairwise, first-party) makes a
//! known number of code exchanges, refreshes, userinfo calls and
//! introspections: the admin API lists exactly that many disclosure rows of
//! each kind, to that app, under the pairwise `sub` it saw and the consent in
//! force, page by page and as CSV with the same rows. client_credentials and
//! inactive introspection answers record nothing. The retention purge
//! deletes old rows. The export (CLI, admin API, and the person's own
//! download after a fresh sign-in) contains the consents, the disclosures and
//! the sign-in records, and no secret.

mod common;
#[allow(dead_code)]
#[path = "admin_api/support.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use common::app::{TestApp, id_claims};
use common::oidc::{REDIRECT, hidden};
use common::{Backend, PASSWORD, TestEnv};
use serde_json::Value;
use support::{CLIENT, call, ok, problem, tokens};

/// The admin, alice, the console client, `rp` (alice's app: pairwise,
/// first-party, refresh tokens) and `svc` (client_credentials only).
fn world(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .user_with("admin", &["--role", "ward-admin", "--tenant", "ward"])
        .user("alice")
        .confidential(
            CLIENT,
            REDIRECT,
            &[
                "--first-party",
                "--scope",
                "openid profile email api ward:admin",
            ],
        )
        .first_party(
            "rp",
            "openid email offline_access",
            &[
                "--subject-type",
                "pairwise",
                "--grant-type",
                "authorization_code",
                "--grant-type",
                "refresh_token",
            ],
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
        .serve_env("WARD_TOKENS_ACCESS_TOKEN_SECONDS", "900")
        .clock()
        .start()
}

/// Every disclosure of `user` through the admin API, following `next`, `limit` a page.
fn all_disclosures(w: &TestApp, t: &str, user: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let path = match &before {
            Some(b) => format!("/users/{user}/disclosures?limit={limit}&before={b}"),
            None => format!("/users/{user}/disclosures?limit={limit}"),
        };
        let page = ok(call(w, "GET", &path, Some(t), None), 200);
        let rows = page["disclosures"].as_array().unwrap();
        assert!(rows.len() <= limit, "{page}");
        out.extend(rows.iter().cloned());
        match page["next"].as_str() {
            Some(n) => before = Some(n.to_string()),
            None => return out,
        }
    }
}

fn count_by_kind(rows: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r["kind"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    m
}

fn disclosures_are_counted_per_kind_for_the_right_client_and_sub(backend: Backend) {
    let w = world(backend);
    let (_, t) = tokens(&w, "admin");
    let t = t.as_str();
    let alice = w.user_id("alice");
    // Three code exchanges with ID tokens, in one browser (single sign-on).
    let mut b = w.browser();
    let scope = [("scope", "openid email offline_access")];
    let mut last = Value::Null;
    for _ in 0..3 {
        last = w.sign_in_with(&mut b, "rp", "alice", &scope);
    }
    let sub = id_claims(&last)["sub"].as_str().unwrap().to_string();
    assert_ne!(sub, alice, "rp is pairwise");
    // Two refreshes, each with a new ID token.
    let mut refresh = last["refresh_token"].as_str().unwrap().to_string();
    let mut access = String::new();
    for _ in 0..2 {
        let r = w.refresh("rp", &refresh);
        assert_eq!(r.status, 200, "{}", r.body);
        let j = r.json();
        assert!(j["id_token"].is_string(), "{j}");
        refresh = j["refresh_token"].as_str().unwrap().to_string();
        access = j["access_token"].as_str().unwrap().to_string();
    }
    // Four userinfo answers.
    for _ in 0..4 {
        let (status, _, body) = common::get_with(
            &w.server.url("/userinfo"),
            &[("authorization", &format!("Bearer {access}"))],
        );
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("alice@example.org"), "{body}");
    }
    // Five active introspections by rp (access and refresh tokens).
    for token in [&access, &refresh, &access, &refresh, &access] {
        assert!(w.active("rp", token));
    }
    // Recorded nothing: svc's inactive answer about alice's token, svc's
    // own client_credentials tokens and their introspection.
    assert!(!w.active("svc", &access));
    for _ in 0..3 {
        let r = w.post_as("svc", "/token", &[("grant_type", "client_credentials")]);
        assert_eq!(r.status, 200, "{}", r.body);
        let own = r.json()["access_token"].as_str().unwrap().to_string();
        assert!(w.active("svc", &own));
    }

    let consents = ok(
        call(
            &w,
            "GET",
            &format!("/users/{alice}/consents"),
            Some(t),
            None,
        ),
        200,
    );
    let consent = consents["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "rp")
        .expect("rp's first-party consent")["id"]
        .clone();
    let rows = all_disclosures(&w, t, alice, 4);
    let expected: BTreeMap<String, usize> =
        [("id_token", 5), ("introspection", 5), ("userinfo", 4)]
            .into_iter()
            .map(|(k, n)| (k.to_string(), n))
            .collect();
    assert_eq!(count_by_kind(&rows), expected, "{rows:#?}");
    let ids: BTreeSet<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), rows.len(), "pages overlap");
    for r in &rows {
        assert_eq!(r["client_id"], "rp", "{r}");
        assert_eq!(r["sub"], sub.as_str(), "{r}");
        assert_eq!(r["consent_id"], consent, "{r}");
        let claims: Vec<&str> = r["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(claims.contains(&"sub"), "{r}");
        assert!(
            !r.to_string().contains("alice@example.org"),
            "no values: {r}"
        );
    }
    let userinfo = rows.iter().find(|r| r["kind"] == "userinfo").unwrap();
    assert!(
        userinfo["claims"]
            .as_array()
            .unwrap()
            .contains(&"email".into())
    );
    // Newest first.
    let times: Vec<i64> = rows
        .iter()
        .map(|r| r["disclosed_at"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|p| p[0] >= p[1]), "{times:?}");
    assert_eq!(
        w.env
            .count("SELECT COUNT(*) AS n FROM disclosures WHERE client_id = 'svc'"),
        0
    );

    csv_has_the_same_rows(&w, t, alice, &ids);
    bad_requests_are_problems(&w, t, alice);
    cli_lists_the_same(&w, alice, rows.len());
}

fn csv_has_the_same_rows(w: &TestApp, t: &str, alice: &str, ids: &BTreeSet<&str>) {
    let path = format!("/admin/api/users/{alice}/disclosures?limit=1000");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for (query, accept) in [("&format=csv", "application/json"), ("", "text/csv")] {
        let mut res = agent
            .get(format!("{}{path}{query}", w.server.base))
            .header("authorization", format!("Bearer {t}"))
            .header("accept", accept)
            .call()
            .unwrap();
        assert_eq!(res.status(), 200);
        let ct = res
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(ct.starts_with("text/csv"), "{ct}");
        let text = res.body_mut().read_to_string().unwrap();
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines[0],
            "disclosed_at,kind,client_id,sub,claims,scopes,consent_id,tenant,id,disclosed_at_ms"
        );
        let csv_ids: BTreeSet<&str> = lines[1..]
            .iter()
            .map(|l| l.split(',').nth(8).unwrap())
            .collect();
        assert_eq!(&csv_ids, ids, "{text}");
        assert!(lines[1..].iter().all(|l| l.split(',').nth(2) == Some("rp")));
    }
}

fn bad_requests_are_problems(w: &TestApp, t: &str, alice: &str) {
    let nobody = "/users/00000000-0000-4000-8000-000000000000/disclosures";
    problem(
        &call(w, "GET", nobody, Some(t), None),
        404,
        Some("not-found"),
    );
    for q in ["limit=0", "limit=1001", "before=yesterday", "format=xml"] {
        let path = format!("/users/{alice}/disclosures?{q}");
        let p = problem(
            &call(w, "GET", &path, Some(t), None),
            422,
            Some("invalid-value"),
        );
        assert!(p["field"].is_string(), "{q}: {p}");
    }
    // Reading the accounting is itself on the record.
    let reads = support::audit(w, t, &format!("event_type=disclosure.list&subject={alice}"));
    assert!(!reads.is_empty());
}

fn cli_lists_the_same(w: &TestApp, alice: &str, n: usize) {
    let out = w.env.ok(
        &["user", "disclosures", "alice", "--json", "--limit", "1000"],
        None,
    );
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["user_id"], alice);
    assert_eq!(j["disclosures"].as_array().unwrap().len(), n, "{j}");
    let csv = w.env.ok(
        &["user", "disclosures", "alice", "--csv", "--limit", "1000"],
        None,
    );
    assert_eq!(csv.split("\r\n").filter(|l| !l.is_empty()).count(), n + 1);
    let err = w.env.fails(&["user", "disclosures", "nobody"], None);
    assert!(err.contains("nobody"), "{err}");
}

per_backend!(disclosures_are_counted_per_kind_for_the_right_client_and_sub);

/// A token response's row is written by the audit sealer from the response's
/// audit record, committed with the tokens: a server killed right after
/// answering loses nothing, and the next read of the accounting (here the
/// CLI, with no server running) has the row.
fn a_token_answered_just_before_a_crash_is_in_the_accounting(backend: Backend) {
    let mut w = world(backend);
    let mut b = w.browser();
    let t = w.sign_in_with(&mut b, "rp", "alice", &[("scope", "openid email")]);
    w.server.kill();
    let out: Value =
        serde_json::from_str(&w.env.ok(&["user", "disclosures", "alice", "--json"], None)).unwrap();
    let rows = out["disclosures"].as_array().expect("the rows");
    assert_eq!(rows.len(), 1, "{out:#}");
    assert_eq!(rows[0]["kind"], "id_token");
    assert_eq!(rows[0]["client_id"], "rp");
    assert_eq!(rows[0]["sub"], id_claims(&t)["sub"]);
    assert_eq!(
        rows[0]["claims"],
        // The ID token's claims about her (her email goes to userinfo,
        // OIDC Core §5.4, as an access token was issued).
        serde_json::json!(["acr", "amr", "auth_time", "sid", "sub"])
    );
    // Read twice, written once.
    w.env.ok(&["user", "disclosures", "alice", "--json"], None);
    assert_eq!(w.env.count("SELECT COUNT(*) AS n FROM disclosures"), 1);
}

per_backend!(a_token_answered_just_before_a_crash_is_in_the_accounting);

/// Rows older than `[privacy] disclosure_retention_days` go with the
/// periodic purge; younger ones stay.
fn the_retention_purge_deletes_old_rows(backend: Backend) {
    use ward::app::{AppContext, OpenOptions};
    use ward::domain::disclosure::{Disclosure, DisclosureKind};
    use ward::store::{DisclosureAdminStore, DisclosureStore};
    let env = TestEnv::new(backend);
    let ctx = AppContext::open(env.config(), OpenOptions { migrate: true }).unwrap();
    let now = ctx.clock.now_ms();
    let day = 86_400_000;
    let user = "6f1c2b9e-1d2a-4c1e-9f3a-2b4c6d8e0f12";
    let row = |at: i64| Disclosure {
        id: Disclosure::new_id(at),
        disclosed_at: at,
        user_id: ward::domain::UserId::parse(user).unwrap(),
        client_id: ward::domain::ClientId::exact("rp").unwrap(),
        sub: "s".into(),
        kind: DisclosureKind::Userinfo,
        claims: vec!["sub".into()],
        scopes: vec!["openid".into()],
        consent_id: None,
        tenant: None,
        consent_client: None,
    };
    let (old, young) = (row(now - 8 * day), row(now - 6 * day));
    ctx.db.disclose(old).unwrap();
    ctx.db.disclose(young.clone()).unwrap();
    let purged = ward::storage::purge::expired(&ctx.db, now, 5, 7).unwrap();
    assert!(purged >= 1);
    let left: Vec<String> = ctx
        .db
        .user_disclosures(user, None, 10, None)
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left, [young.id]);
}

per_backend!(the_retention_purge_deletes_old_rows);

/// Alice enrols an authenticator app on the account page: its secret and
/// the recovery codes shown once.
fn enrol_totp(b: &mut common::oidc::Browser) -> (String, Vec<String>) {
    let page = b.get("/account/totp");
    assert_eq!(page.status, 200, "{}", page.body);
    let secret = page
        .body
        .split("<code id=\"totp-secret\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .unwrap()
        .to_string();
    let code = common::totp::totp(&secret, common::totp::mid_step());
    let confirm = b.post(
        "/account/totp",
        &[("csrf", &hidden(&page.body, "csrf")), ("code", &code)],
    );
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let codes = confirm
        .body
        .split("<li><code>")
        .skip(1)
        .filter_map(|c| c.split("</code>").next())
        .map(str::to_string)
        .collect();
    (secret, codes)
}

/// What every export must and must not contain.
fn check_export(doc: &Value, alice: &str, secrets: &[&str]) {
    assert_eq!(doc["profile"]["id"], alice, "{doc}");
    assert_eq!(doc["profile"]["email"], "alice@example.org");
    let consents = doc["consents"].as_array().unwrap();
    assert!(consents.iter().any(|c| c["client_id"] == "rp"), "{doc}");
    let disclosures = doc["disclosures"].as_array().unwrap();
    assert!(
        disclosures
            .iter()
            .any(|d| d["kind"] == "id_token" && d["client_id"] == "rp")
    );
    let audit = doc["audit_records"].as_array().unwrap();
    assert!(
        audit.iter().any(|r| r["event_type"] == "login.success"),
        "{doc}"
    );
    assert!(!doc["sessions"].as_array().unwrap().is_empty());
    let kinds: BTreeSet<&str> = doc["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["password", "recovery_codes", "totp"]),
        "{doc}"
    );
    assert!(doc["roles"].is_array());
    let text = doc.to_string();
    for s in secrets {
        assert!(!text.contains(s), "the export leaks {s}");
    }
    for word in [
        "argon2",
        "secret_sealed",
        "password_hash",
        "code_hash",
        "id_hash",
        "BEGIN",
    ] {
        assert!(!text.contains(word), "the export mentions {word}");
    }
}

fn exports_hold_what_was_done_and_no_secret(backend: Backend) {
    let w = world(backend);
    let alice = w.user_id("alice");
    let (_, t) = tokens(&w, "admin");
    // Alice signs in to her account, enrols TOTP (recovery codes shown), and uses rp.
    let mut b = w.browser();
    assert_eq!(b.account_sign_in("alice").location(), "/account");
    let (seed, codes) = enrol_totp(&mut b);
    assert!(!codes.is_empty());
    let tokens = w.sign_in_with(
        &mut b,
        "rp",
        "alice",
        &[("scope", "openid email offline_access")],
    );
    let mut secrets = vec![PASSWORD, seed.as_str()];
    secrets.extend(codes.iter().map(String::as_str));
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    secrets.push(&refresh);
    let master = std::fs::read_to_string(w.env.data_dir().join("master.key")).unwrap_or_default();
    if !master.trim().is_empty() {
        secrets.push(master.trim());
    }

    // The CLI: JSON on stdout; an unknown user is a clear error.
    let doc: Value = serde_json::from_str(&w.env.ok(&["user", "export", "alice"], None)).unwrap();
    check_export(&doc, alice, &secrets);
    let err = w.env.fails(&["user", "export", "nobody"], None);
    assert!(err.contains("no user `nobody`"), "{err}");
    // The admin API: the same document; an unknown user is a 404 problem.
    let res = call(&w, "GET", &format!("/users/{alice}/export"), Some(&t), None);
    assert!(
        res.headers
            .get("content-disposition")
            .is_some_and(|d| d.contains("attachment"))
    );
    check_export(&ok(res, 200), alice, &secrets);
    problem(
        &call(&w, "GET", "/users/nobody/export", Some(&t), None),
        404,
        Some("not-found"),
    );
    self_service_needs_a_fresh_sign_in(&w, &mut b, alice, &secrets);
    // Every export is on the record, with who asked and how.
    let records = support::audit(&w, &t, &format!("event_type=user.exported&subject={alice}"));
    let self_service: Vec<bool> = records
        .iter()
        .map(|r| r["details"]["self_service"].as_bool().unwrap())
        .collect();
    assert_eq!(
        self_service.iter().filter(|s| **s).count(),
        1,
        "{records:?}"
    );
    assert_eq!(
        self_service.iter().filter(|s| !**s).count(),
        2,
        "{records:?}"
    );
}

fn self_service_needs_a_fresh_sign_in(
    w: &TestApp,
    b: &mut common::oidc::Browser,
    alice: &str,
    secrets: &[&str],
) {
    let page = b.get("/account");
    assert!(page.body.contains("Download my data"), "{}", page.body);
    assert!(page.body.contains("/account/activity"));
    let csrf = hidden(&page.body, "csrf");
    // Without the form's token: refused.
    assert_eq!(b.post("/account/export", &[("csrf", "forged")]).status, 403);
    // Six minutes after the sign-in: sign in again first.
    w.advance(360_000);
    let stale = b.post("/account/export", &[("csrf", &csrf)]);
    assert_eq!(stale.status, 303);
    assert_eq!(stale.location(), "/login?interaction=account");
    let page = b.get(stale.location());
    let again = b.sign_in(
        &hidden(&page.body, "interaction"),
        &hidden(&page.body, "csrf"),
        "alice",
        PASSWORD,
    );
    // The account has TOTP now: the second factor, when asked for.
    let again = if again.location().starts_with("/login/verify") {
        let code = common::totp::totp(secrets[1], common::totp::mid_step() + 360);
        b.then_second_factor(&again, "totp", &code)
    } else {
        again
    };
    assert_eq!(again.location(), "/account", "{}", again.body);
    let fresh = b.post("/account/export", &[("csrf", &csrf)]);
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert!(
        fresh
            .headers
            .get("content-disposition")
            .is_some_and(|d| d.contains("attachment"))
    );
    check_export(&fresh.json(), alice, secrets);
}

per_backend!(exports_hold_what_was_done_and_no_secret);
