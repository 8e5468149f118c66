//! Roles and permissions in tokens, from the Casbin policy, over real HTTP on
//! every backend: per tenant, filtered to what the client may see, in the ID
//! token and userinfo only with the `roles` scope, and re-evaluated on refresh.

mod common;

use std::time::{Duration, Instant};

use common::Backend;
use common::app::{TestApp, claims};
use common::oidc::{self, Browser, follow, param, pkce};
use serde_json::{Value, json};

fn world(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .user("dana")
        .ward(&[
            "policy",
            "grant",
            "dana",
            "physician",
            "--tenant",
            "st-mary",
        ])
        .ward(&[
            "policy",
            "grant",
            "dana",
            "receptionist",
            "--tenant",
            "riverside",
        ])
        .first_party(
            "ehr",
            "openid profile roles offline_access",
            &["--authz-resource", "ehr", "--authz-resource", "schedule"],
        )
        .start()
}

fn tokens(w: &TestApp, extra: &[(&str, &str)]) -> Result<Value, String> {
    let p = pkce();
    let mut all = vec![("scope", "openid profile roles offline_access")];
    all.extend_from_slice(extra);
    let mut b = Browser::new(&w.server);
    let res = b.authorize(&w.authorize_url("ehr", &p, &all), "dana");
    let Some(code) = param(res.location(), "code") else {
        return Err(param(res.location(), "error").unwrap_or_default());
    };
    Ok(w.tokens("ehr", &code, &p))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn each_tenant_gets_exactly_its_roles_and_the_clients_permissions(backend: Backend) {
    let w = world(backend);
    let t = tokens(&w, &[("tenant", "st-mary")]).unwrap();
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["tenant"], "st-mary");
    assert_eq!(strings(&at["roles"]), ["physician"]);
    // prescription:write and emergency:elevate exist for physicians, but this client sees ehr and schedule only.
    assert_eq!(
        strings(&at["permissions"]),
        ["ehr:read", "ehr:write", "schedule:read"]
    );
    assert!(at["policy_version"].as_i64().unwrap() > 0);
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(
        (id["tenant"].clone(), strings(&id["roles"])),
        (json!("st-mary"), vec!["physician".to_string()])
    );
    // Userinfo with the roles scope says the same.
    let ui = common::http()
        .get(&w.server.url("/userinfo"))
        .header(
            "authorization",
            &format!("Bearer {}", t["access_token"].as_str().unwrap()),
        )
        .call()
        .unwrap()
        .body_mut()
        .read_json::<Value>()
        .unwrap();
    assert_eq!(strings(&ui["roles"]), ["physician"]);
    assert_eq!(
        strings(&ui["permissions"]),
        ["ehr:read", "ehr:write", "schedule:read"]
    );

    let t = tokens(&w, &[("tenant", "riverside")]).unwrap();
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(
        (at["tenant"].as_str(), strings(&at["roles"])),
        (Some("riverside"), vec!["receptionist".to_string()])
    );
    assert_eq!(
        strings(&at["permissions"]),
        ["schedule:read", "schedule:write"]
    );

    // Two organisations and none asked for: the user chooses at sign-in.
    let p = pkce();
    let mut b = Browser::new(&w.server);
    let url = w.authorize_url("ehr", &p, &[("scope", "openid roles")]);
    let res = b.authorize(&url, "dana");
    assert_eq!(res.status, 200, "the chooser page: {}", res.body);
    assert!(
        res.body.contains("Choose an organisation")
            && res.body.contains("riverside")
            && res.body.contains("st-mary")
    );
    assert!(
        !res.body.contains("value=\"ward\""),
        "the reserved domain is not offered"
    );
    let (interaction, csrf) = (
        oidc::hidden(&res.body, "interaction"),
        oidc::hidden(&res.body, "csrf"),
    );
    // Only one of the user's own organisations is accepted.
    let bad = b.post(
        "/tenant",
        &[
            ("interaction", &interaction),
            ("csrf", &csrf),
            ("tenant", "elsewhere"),
        ],
    );
    assert_eq!(bad.status, 400);
    let mut res = b.post(
        "/tenant",
        &[
            ("interaction", &interaction),
            ("csrf", &csrf),
            ("tenant", "riverside"),
        ],
    );
    res = follow(&mut b, res);
    let code = param(res.location(), "code").unwrap();
    let t = w.exchange("ehr", &code, &p.verifier);
    let at = claims(t.json()["access_token"].as_str().unwrap());
    assert_eq!(
        (at["tenant"].as_str(), strings(&at["roles"])),
        (Some("riverside"), vec!["receptionist".to_string()])
    );
    // With prompt=none there is no page to show: interaction_required.
    let res = b.get(&w.authorize_url(
        "ehr",
        &pkce(),
        &[("scope", "openid roles"), ("prompt", "none")],
    ));
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("interaction_required")
    );
    // A tenant where the user has no role is refused.
    assert_eq!(
        tokens(&w, &[("tenant", "elsewhere")]).unwrap_err(),
        "access_denied"
    );
    assert_eq!(
        tokens(&w, &[("tenant", "Bad Name")]).unwrap_err(),
        "invalid_request"
    );
    // Without the roles scope the ID token has no roles; the access token still does.
    let t = tokens(
        &w,
        &[("tenant", "st-mary"), ("scope", "openid offline_access")],
    )
    .unwrap();
    assert!(
        claims(t["id_token"].as_str().unwrap())
            .get("roles")
            .is_none()
    );
    assert_eq!(
        strings(&claims(t["access_token"].as_str().unwrap())["roles"]),
        ["physician"]
    );
}

per_backend!(each_tenant_gets_exactly_its_roles_and_the_clients_permissions);

fn a_role_change_shows_after_refresh(backend: Backend) {
    let w = world(backend);
    let t = tokens(&w, &[("tenant", "st-mary")]).unwrap();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    // Granted by another process (the CLI); the server notices within seconds.
    w.env.ok(
        &["policy", "grant", "dana", "nurse", "--tenant", "st-mary"],
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut refresh = refresh;
    loop {
        let r = w.refresh("ehr", &refresh);
        assert_eq!(r.status, 200, "{}", r.body);
        let body = r.json();
        refresh = body["refresh_token"].as_str().unwrap().to_string();
        let roles = strings(&claims(body["access_token"].as_str().unwrap())["roles"]);
        if roles == ["nurse", "physician"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new role never showed: {roles:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // And a revocation likewise.
    w.env.ok(
        &[
            "policy",
            "revoke",
            "dana",
            "physician",
            "--tenant",
            "st-mary",
        ],
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = w.refresh("ehr", &refresh);
        let body = r.json();
        refresh = body["refresh_token"].as_str().unwrap().to_string();
        if strings(&claims(body["access_token"].as_str().unwrap())["roles"]) == ["nurse"] {
            break;
        }
        assert!(Instant::now() < deadline, "the revocation never showed");
        std::thread::sleep(Duration::from_millis(300));
    }
}

per_backend!(a_role_change_shows_after_refresh);
