//! SMART App Launch 2.2.0's standalone launch, `aud` and the FHIR server
//! registry over real HTTP on every backend (docs/smart.md): a patient's app
//! launches with `launch/patient` and gets the patient's own record in
//! context; a request without a registered `aud`, or needing a patient there
//! is none of, is refused with the spec's error.

mod common;

use common::Backend;
use common::app::{claims, id_claims};
use common::oidc::pkce;
use common::smart::{FHIR, authorize_error, sign_in, world};
use serde_json::Value;

fn a_patient_launches_standalone_with_their_own_record_in_context(backend: Backend) {
    let w = world(backend);
    let scope =
        "openid fhirUser launch/patient online_access patient/Observation.rs patient/Patient.rs";
    let t = sign_in(&w, "app", "pat", &[("scope", scope), ("aud", FHIR)]).unwrap();
    assert_eq!(t["patient"], "123", "{t}");
    // Only what applies: no EHR context, no banner or style.
    for absent in [
        "encounter",
        "fhirContext",
        "need_patient_banner",
        "smart_style_url",
        "intent",
    ] {
        assert!(t.get(absent).is_none(), "{absent}: {t}");
    }
    // The patient role reads and searches Observations and reads (only
    // reads) their Patient resource.
    assert_eq!(
        t["scope"],
        "openid fhirUser launch/patient online_access patient/Observation.rs patient/Patient.r",
        "{t}"
    );
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], FHIR);
    assert_eq!(at["patient"], "123");
    assert_eq!(id_claims(&t)["fhirUser"], format!("{FHIR}/Patient/123"));
    // online_access: a refresh token, which works while the session lives.
    let refresh = t["refresh_token"].as_str().expect("online_access refresh");
    let r = w.refresh("app", refresh);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["patient"], "123");
    // The context chosen is on the record, with the patient and the app.
    let n = w
        .env
        .audit_records()
        .iter()
        .filter(|r| {
            let details = r["details"].as_str().unwrap();
            r["event_type"] == "authorization.code_issued"
                && r["client_id"] == "app"
                && r["subject_user"] == w.user_id("pat")
                && details.contains(r#""patient":"123""#)
                && details.contains(r#""launch":"standalone""#)
        })
        .count();
    assert_eq!(n, 1);
}

per_backend!(a_patient_launches_standalone_with_their_own_record_in_context);

fn online_access_ends_with_the_session(backend: Backend) {
    let w = world(backend);
    let refresh_of = |scope: &str| {
        let (_b, t) = w.sign_in("app", "pat", &[("scope", scope), ("aud", FHIR)]);
        let r = w.refresh("app", t["refresh_token"].as_str().expect("a refresh token"));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["refresh_token"].as_str().unwrap().to_string()
    };
    let online = refresh_of("openid online_access user/Observation.rs");
    let offline = refresh_of("openid offline_access user/Observation.rs");
    // The administrator ends pat's sessions: the online grant ends with
    // them, the offline_access one outlives them.
    w.env.ok(&["session", "revoke", "pat", "--all"], None);
    let r = w.refresh("app", &online);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_eq!(w.refresh("app", &offline).status, 200);
}

per_backend!(online_access_ends_with_the_session);

fn aud_must_be_a_registered_fhir_server_and_scopes_well_formed(backend: Backend) {
    let w = world(backend);
    let smart = ("scope", "openid patient/Observation.rs");
    for (extra, why) in [
        (vec![smart], "aud is required"),
        (
            vec![smart, ("aud", "https://evil.example/r4")],
            "not the base URL",
        ),
        (
            vec![smart, ("aud", &format!("{FHIR}/"))],
            "not the base URL",
        ),
        (vec![("scope", "openid fhirUser")], "aud is required"),
        (vec![("scope", "openid launch/patient")], "aud is required"),
        (
            vec![smart, ("aud", FHIR), ("tenant", "riverside")],
            "another organisation",
        ),
    ] {
        let e = authorize_error(&w, "app", &extra).unwrap();
        assert_eq!(e.0, "invalid_request", "{extra:?}");
        assert!(e.1.contains(why), "{extra:?}: {e:?}");
    }
    // A typo in the permissions is invalid_scope (SMART's letters are c r u d s).
    let e = authorize_error(
        &w,
        "app",
        &[("scope", "openid patient/Observation.rw"), ("aud", FHIR)],
    )
    .unwrap();
    assert_eq!(e.0, "invalid_scope", "{e:?}");
    // A registered aud goes on to the sign-in; a request without SMART
    // scopes needs none.
    assert_eq!(authorize_error(&w, "app", &[smart, ("aud", FHIR)]), None);
    assert_eq!(authorize_error(&w, "app", &[("scope", "openid")]), None);
}

per_backend!(aud_must_be_a_registered_fhir_server_and_scopes_well_formed);

fn a_patient_context_is_needed_for_patient_scopes(backend: Backend) {
    let w = world(backend);
    // A nurse standalone (no EHR launch, her FHIR user is a Practitioner)
    // and a receptionist without any FHIR user: no patient in context, but
    // their roles may search patients, so Ward's picker asks which one
    // (tests/smart_picker.rs goes on from there).
    for (user, scope) in [
        ("dana", "openid launch/patient"),
        ("dana", "openid patient/Observation.rs"),
        ("rita", "openid launch/patient patient/Patient.rs"),
    ] {
        let url = w.authorize_url("app", &pkce(), &[("scope", scope), ("aud", FHIR)]);
        let res = w.browser().authorize(&url, user);
        assert_eq!(res.status, 200, "{user} {scope}: {}", res.body);
        assert!(res.body.contains("Choose a patient"), "{}", res.body);
    }
    // launch/encounter outside an EHR launch, by a patient whose role may not
    // search encounters.
    let e = sign_in(
        &w,
        "app",
        "pat",
        &[("scope", "openid launch/encounter"), ("aud", FHIR)],
    )
    .unwrap_err();
    assert_eq!(e.0, "access_denied");
    assert!(e.1.contains("no encounter"), "{e:?}");
    // The nurse's user/ scopes need no patient: granted as her roles allow,
    // the aud is St Mary's and the tenant is fixed to it.
    let t = sign_in(
        &w,
        "app",
        "dana",
        &[("scope", "openid user/Observation.rs"), ("aud", FHIR)],
    )
    .unwrap();
    assert_eq!(t["scope"], "openid user/Observation.rs");
    assert!(t.get("patient").is_none(), "{t}");
    assert_eq!(claims(t["access_token"].as_str().unwrap())["aud"], FHIR);
    // A user without a role in the FHIR server's tenant may not sign in for it.
    let w2 = common::smart::builder(backend).user("outsider").start();
    let e = sign_in(
        &w2,
        "app",
        "outsider",
        &[("scope", "openid user/Observation.rs"), ("aud", FHIR)],
    )
    .unwrap_err();
    assert_eq!(e.0, "access_denied", "{e:?}");
}

per_backend!(a_patient_context_is_needed_for_patient_scopes);

fn the_registry_is_managed_with_the_cli(backend: Backend) {
    let w = world(backend);
    let list: Value = serde_json::from_str(&w.env.ok(&["fhir", "list", "--json"], None)).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    for bad in [
        "http://fhir.example.org/r4",
        "https://fhir.example.org/r4/",
        "https://fhir.example.org/r4#x",
        "not a url",
    ] {
        let e = w
            .env
            .fails(&["fhir", "add", bad, "--tenant", "st-mary"], None);
        assert!(e.contains("FHIR base URL"), "{bad}: {e}");
    }
    let taken = w
        .env
        .fails(&["fhir", "add", FHIR, "--tenant", "st-mary"], None);
    assert!(taken.contains("already registered"), "{taken}");
    w.env.ok(&["fhir", "remove", FHIR], None);
    // Removed: its aud is no longer accepted.
    let e = authorize_error(
        &w,
        "app",
        &[("scope", "openid user/Observation.rs"), ("aud", FHIR)],
    )
    .unwrap();
    assert_eq!(e.0, "invalid_request");
    assert!(
        w.env
            .fails(&["fhir", "remove", FHIR], None)
            .contains("no FHIR server")
    );
    // A FHIR user must be a relative reference to a person.
    let e = w.env.fails(
        &["user", "set", "dana", "--fhir-user", "Observation/1"],
        None,
    );
    assert!(e.contains("relative reference"), "{e}");
    assert_eq!(
        w.env.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'fhir_server.remove' \
             AND outcome = 'success'"
        ),
        1
    );
}

per_backend!(the_registry_is_managed_with_the_cli);
