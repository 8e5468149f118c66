//! SMART App Launch 2.2.0's EHR launch over real HTTP on every backend
//! (docs/smart.md), written as an EHR and an app following the guide: the
//! EHR mints a launch at `POST /smart/launch`, the app authorizes with
//! `launch` and `aud`, the token response carries the context, refresh keeps
//! it, introspection shows it; and every wrong launch is refused.

mod common;

use common::Backend;
use common::app::{claims, id_claims};
use common::oidc::{Browser, pkce};
use common::smart::{FHIR, RIVERSIDE_FHIR, authorize_error, mint, mint_as, sign_in, world};
use serde_json::{Value, json};

const CONTEXT: &str =
    r#"[{"reference":"Appointment/a1","role":"https://example.org/role/scheduled"}]"#;

fn ehr_launch_carries_the_context_through_token_refresh_and_introspection(backend: Backend) {
    let w = world(backend);
    let launch = mint(
        &w,
        "app",
        &[
            ("encounter", "enc-9"),
            ("fhirContext", CONTEXT),
            ("intent", "reconcile-medications"),
            ("need_patient_banner", "false"),
            ("smart_style_url", "https://ehr.example/style.json"),
            ("user", "dana"),
        ],
    );
    // The launch value itself is never stored, only its hash.
    assert_eq!(
        w.env.count(&format!(
            "SELECT COUNT(*) AS n FROM smart_launches WHERE launch_hash = '{launch}'"
        )),
        0
    );
    let scope =
        "openid fhirUser launch offline_access patient/Observation.rs patient/Appointment.rs";
    let t = sign_in(
        &w,
        "app",
        "dana",
        &[("scope", scope), ("aud", FHIR), ("launch", &launch)],
    )
    .unwrap();
    // A nurse reads and searches Observations; the policy gives her no
    // Appointment, so that scope is dropped (and audited).
    assert_eq!(
        t["scope"],
        "openid fhirUser launch offline_access patient/Observation.rs"
    );
    let context = |v: &Value| {
        json!({
            "patient": v["patient"], "encounter": v["encounter"],
            "fhirContext": v["fhirContext"], "intent": v["intent"],
            "need_patient_banner": v["need_patient_banner"],
            "smart_style_url": v["smart_style_url"],
        })
    };
    let expected = json!({
        "patient": "123", "encounter": "enc-9",
        "fhirContext": serde_json::from_str::<Value>(CONTEXT).unwrap(),
        "intent": "reconcile-medications", "need_patient_banner": false,
        "smart_style_url": "https://ehr.example/style.json",
    });
    assert_eq!(context(&t), expected, "{t}");
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], FHIR, "{at}");
    assert_eq!(at["patient"], "123");
    assert_eq!(at["encounter"], "enc-9");
    // The tenant is fixed to the FHIR server's.
    assert_eq!(at["tenant"], "st-mary", "{at}");
    let fhir_user = format!("{FHIR}/Practitioner/9");
    assert_eq!(id_claims(&t)["fhirUser"], fhir_user);

    // The context survives refresh.
    let r = w.refresh("app", t["refresh_token"].as_str().unwrap());
    assert_eq!(r.status, 200, "{}", r.body);
    let refreshed = r.json();
    assert_eq!(context(&refreshed), expected, "{refreshed}");
    assert_eq!(refreshed["scope"], t["scope"]);

    // Introspection, as a FHIR server would ask (SMART §"Token Introspection").
    let token = refreshed["access_token"].as_str().unwrap();
    let i = w.post_as("app", "/introspect", &[("token", token)]).json();
    assert_eq!(i["active"], true, "{i}");
    for (k, v) in [
        ("aud", json!(FHIR)),
        ("patient", json!("123")),
        ("encounter", json!("enc-9")),
        ("fhirContext", expected["fhirContext"].clone()),
        ("fhirUser", json!(fhir_user)),
        ("client_id", json!("app")),
        ("sub", json!(w.user_id("dana"))),
        ("scope", t["scope"].clone()),
    ] {
        assert_eq!(i[k], v, "{k}: {i}");
    }
    assert!(i["exp"].as_i64().is_some(), "{i}");
    // userinfo names the FHIR user too.
    let ui = common::get_with(
        &w.server.url("/userinfo"),
        &[("authorization", &format!("Bearer {token}"))],
    );
    assert_eq!(ui.0, 200, "{}", ui.2);
    let ui: Value = serde_json::from_str(&ui.2).unwrap();
    assert_eq!(ui["fhirUser"], fhir_user);
    // Mint and use are on the record: who, which patient, which app.
    let records = w.env.audit_records();
    for kind in ["smart.launch_minted", "smart.launch_used"] {
        let n = records
            .iter()
            .filter(|r| {
                r["event_type"] == kind
                    && r["outcome"] == "success"
                    && r["client_id"] == "app"
                    && r["subject_user"] == w.user_id("dana")
                    && r["details"]
                        .as_str()
                        .unwrap()
                        .contains(r#""patient":"123""#)
            })
            .count();
        assert_eq!(n, 1, "{kind}");
    }
}

per_backend!(ehr_launch_carries_the_context_through_token_refresh_and_introspection);

fn a_launch_is_single_use_bound_to_its_app_and_tenant_and_expires(backend: Backend) {
    let w = world(backend);
    let scope = ("scope", "openid launch patient/Observation.rs");
    let launch = mint(&w, "app", &[]);
    fn with(l: &str) -> [(&'static str, &str); 3] {
        [
            ("scope", "openid launch patient/Observation.rs"),
            ("aud", FHIR),
            ("launch", l),
        ]
    }
    // Another app, or the right app with another tenant's FHIR server: refused,
    // and the launch is not used up by the refusal.
    let e = authorize_error(&w, "other-app", &with(&launch)).unwrap();
    assert_eq!(e.0, "invalid_request");
    assert!(e.1.contains("another app"), "{e:?}");
    let e = authorize_error(
        &w,
        "app",
        &[scope, ("aud", RIVERSIDE_FHIR), ("launch", &launch)],
    )
    .unwrap();
    assert_eq!(e.0, "invalid_request");
    assert!(e.1.contains("another organisation"), "{e:?}");
    // The right app goes on to sign in, once.
    assert_eq!(authorize_error(&w, "app", &with(&launch)), None);
    let e = authorize_error(&w, "app", &with(&launch)).unwrap();
    assert_eq!(e.0, "invalid_request");
    assert!(e.1.contains("already used"), "{e:?}");
    // Unknown.
    let e = authorize_error(&w, "app", &with("no-such-launch")).unwrap();
    assert_eq!(
        e,
        ("invalid_request".into(), "the launch is unknown".into())
    );
    // Expired: five minutes by default.
    let late = mint(&w, "app", &[]);
    w.advance(301_000);
    let e = authorize_error(&w, "app", &with(&late)).unwrap();
    assert_eq!(e.0, "invalid_request");
    assert!(e.1.contains("expired"), "{e:?}");
    // Two concurrent uses of one launch: exactly one goes on to the sign-in.
    let twice = mint(&w, "app", &[]);
    let urls: Vec<String> = (0..2)
        .map(|_| w.authorize_url("app", &pkce(), &with(&twice)))
        .collect();
    let server = &w.server;
    let to_login: Vec<bool> = std::thread::scope(|s| {
        let runs: Vec<_> = urls
            .iter()
            .map(|u| {
                s.spawn(move || {
                    let res = Browser::new(server).get(u);
                    res.location().starts_with("/login")
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(to_login.iter().filter(|x| **x).count(), 1, "{to_login:?}");
}

per_backend!(a_launch_is_single_use_bound_to_its_app_and_tenant_and_expires);

fn launch_parameters_must_come_together_and_the_named_user_sign_in(backend: Backend) {
    let w = world(backend);
    let launch = mint(&w, "app", &[("user", "dana")]);
    // `launch` without the launch scope, the scope without `launch`.
    let e = authorize_error(
        &w,
        "app",
        &[
            ("scope", "openid patient/Observation.rs"),
            ("aud", FHIR),
            ("launch", &launch),
        ],
    )
    .unwrap();
    assert_eq!(e.0, "invalid_request", "{e:?}");
    let e = authorize_error(&w, "app", &[("scope", "openid launch"), ("aud", FHIR)]).unwrap();
    assert_eq!(e.0, "invalid_request", "{e:?}");
    // The EHR launched the app for dana: pat may not use it.
    let e = sign_in(
        &w,
        "app",
        "pat",
        &[
            ("scope", "openid launch"),
            ("aud", FHIR),
            ("launch", &launch),
        ],
    )
    .unwrap_err();
    assert_eq!(e.0, "access_denied");
    assert!(e.1.contains("another user"), "{e:?}");
}

per_backend!(launch_parameters_must_come_together_and_the_named_user_sign_in);

fn only_a_permitted_ehr_mints_launches_and_bad_input_is_refused(backend: Backend) {
    let w = world(backend);
    let ok = [("tenant", "st-mary"), ("app_client_id", "app")];
    // ehr2 holds no smart/launch role; ehr holds it in st-mary only.
    let r = mint_as(&w, "ehr2", &ok);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "unauthorized_client");
    let r = mint_as(
        &w,
        "ehr",
        &[("tenant", "riverside"), ("app_client_id", "app")],
    );
    assert_eq!(r.json()["error"], "unauthorized_client", "{}", r.body);
    // No client authentication at all.
    let r = common::oidc::post_form(&w.server, "/smart/launch", None, &ok);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_client");
    for (name, value) in [
        ("app_client_id", "nobody"),
        ("patient", "Patient/123"),
        ("encounter", "a b"),
        ("fhirContext", "{\"reference\":\"Patient/1\"}"),
        (
            "fhirContext",
            "[{\"reference\":\"https://evil.example/Patient/1\"}]",
        ),
        ("need_patient_banner", "yes"),
        ("smart_style_url", "http://ehr.example/style.json"),
        ("user", "no-such-user"),
        ("tenant", "Bad Tenant"),
    ] {
        let mut form: Vec<(&str, &str)> = ok.iter().copied().filter(|(k, _)| *k != name).collect();
        form.push((name, value));
        let r = mint_as(&w, "ehr", &form);
        assert_eq!(r.status, 400, "{name}={value}: {}", r.body);
        assert_eq!(
            r.json()["error"],
            "invalid_request",
            "{name}={value}: {}",
            r.body
        );
    }
    // A repeated parameter, a GET.
    let r = mint_as(
        &w,
        "ehr",
        &[
            ("tenant", "st-mary"),
            ("tenant", "st-mary"),
            ("app_client_id", "app"),
        ],
    );
    assert_eq!(r.json()["error"], "invalid_request", "{}", r.body);
    let (status, _, _) = common::get(&w.server.url("/smart/launch"));
    assert_eq!(status, 405);
    // Nothing was minted by any of these.
    assert_eq!(w.env.count("SELECT COUNT(*) AS n FROM smart_launches"), 0);
    assert!(
        w.env.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'smart.launch_minted' \
             AND outcome = 'failure' AND client_id = 'ehr2'"
        ) >= 1
    );
}

per_backend!(only_a_permitted_ehr_mints_launches_and_bad_input_is_refused);
