//! Roles and permissions in tokens, from the Casbin policy, over real HTTP on
//! every backend: per tenant, filtered to what the client may see, in the ID
//! token and userinfo only with the `roles` scope, and re-evaluated on refresh.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::oidc::{self, Browser, REDIRECT, authorize_url, basic, param, pkce, post_form};
use common::{Server, TestEnv, backends};
use serde_json::{Value, json};

fn claims(jwt: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap()
}

struct World {
    env: TestEnv,
    server: Server,
    secret: String,
}

fn world(backend: common::Backend) -> World {
    let env = TestEnv::new(backend);
    oidc::user(&env, "dana");
    env.ok(
        &[
            "policy",
            "grant",
            "dana",
            "physician",
            "--tenant",
            "st-mary",
        ],
        None,
    );
    env.ok(
        &[
            "policy",
            "grant",
            "dana",
            "receptionist",
            "--tenant",
            "riverside",
        ],
        None,
    );
    let secret = oidc::client(
        &env,
        "ehr",
        &[
            "--type",
            "confidential",
            "--redirect-uri",
            REDIRECT,
            "--first-party",
            "--scope",
            "openid profile roles offline_access",
            "--authz-resource",
            "ehr",
            "--authz-resource",
            "schedule",
        ],
    )
    .unwrap();
    let server = oidc::serve_with_issuer(&env, &[]);
    World {
        env,
        server,
        secret,
    }
}

/// Run the code flow as dana with `extra` authorization parameters: the token response.
fn tokens(w: &World, extra: &[(&str, &str)]) -> Result<Value, String> {
    let p = pkce();
    let mut all = vec![("scope", "openid profile roles offline_access")];
    all.extend_from_slice(extra);
    let mut b = Browser::new(&w.server);
    let res = b.authorize(&authorize_url(&w.server, "ehr", &p, &all), "dana");
    let Some(code) = param(res.location(), "code") else {
        return Err(param(res.location(), "error").unwrap_or_default());
    };
    let t = post_form(
        &w.server,
        "/token",
        Some(&basic("ehr", &w.secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &p.verifier),
        ],
    );
    assert_eq!(t.status, 200, "{}", t.body);
    Ok(t.json())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn each_tenant_gets_exactly_its_roles_and_the_clients_permissions() {
    for backend in backends() {
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
        let url = authorize_url(&w.server, "ehr", &p, &[("scope", "openid roles")]);
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
        while res.status == 303 && res.location().starts_with('/') {
            res = b.get(res.location());
        }
        let code = param(res.location(), "code").unwrap();
        let t = post_form(
            &w.server,
            "/token",
            Some(&basic("ehr", &w.secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &p.verifier),
            ],
        );
        let at = claims(t.json()["access_token"].as_str().unwrap());
        assert_eq!(
            (at["tenant"].as_str(), strings(&at["roles"])),
            (Some("riverside"), vec!["receptionist".to_string()])
        );
        // With prompt=none there is no page to show: interaction_required.
        let res = b.get(&authorize_url(
            &w.server,
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
}

#[test]
fn a_role_change_shows_after_refresh() {
    for backend in backends() {
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
            let r = post_form(
                &w.server,
                "/token",
                Some(&basic("ehr", &w.secret)),
                &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            );
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
            let r = post_form(
                &w.server,
                "/token",
                Some(&basic("ehr", &w.secret)),
                &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            );
            let body = r.json();
            refresh = body["refresh_token"].as_str().unwrap().to_string();
            if strings(&claims(body["access_token"].as_str().unwrap())["roles"]) == ["nurse"] {
                break;
            }
            assert!(Instant::now() < deadline, "the revocation never showed");
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}
