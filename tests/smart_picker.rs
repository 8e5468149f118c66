//! The standalone launch's patient and encounter pickers over real HTTP, on
//! every backend, with the example gateway as the tenant's FHIR server
//! (docs/smart.md, "Standalone launch"): a nurse searches, chooses a patient
//! and an encounter, and the app's token carries them and reads that
//! patient's records; bad searches, forged choices, users who may not search
//! and a FHIR server that is down get clear answers, never a 500. The pages
//! in Chromium: tests/browser_picker.rs.

mod common;

use common::Backend;
use common::app::{TestApp, claims};
use common::gateway::{self, builder};
use common::oidc::{Browser, Res, follow, free_port, hidden, param, pkce};

struct World {
    ward: TestApp,
    fhir: String,
    gateway: Option<fhir_gateway::Running>,
}

fn world(backend: Backend) -> World {
    let port = free_port();
    let fhir = gateway::base_url(port);
    let ward = builder(backend, &fhir).start();
    let running = gateway::spawn(&ward, port);
    World {
        ward,
        fhir,
        gateway: Some(running),
    }
}

/// A browser at the picker page for `user` and `scope`, with its PKCE.
fn at_picker(w: &World, user: &str, scope: &str) -> (Browser, Res, common::oidc::Pkce) {
    let mut b = w.ward.browser();
    let p = pkce();
    let url = w
        .ward
        .authorize_url("app", &p, &[("scope", scope), ("aud", &w.fhir)]);
    let res = b.authorize(&url, user);
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("Choose a patient"), "{}", res.body);
    (b, res, p)
}

/// Post `form` (plus the page's interaction and CSRF token) to `path`.
fn post(b: &mut Browser, page: &Res, path: &str, form: &[(&str, &str)]) -> Res {
    let (interaction, csrf) = (
        hidden(&page.body, "interaction"),
        hidden(&page.body, "csrf"),
    );
    let mut all = vec![
        ("interaction", interaction.as_str()),
        ("csrf", csrf.as_str()),
    ];
    all.extend_from_slice(form);
    b.post(path, &all)
}

/// The radio buttons' values on a picker page.
fn offered(html: &str) -> Vec<String> {
    html.split("name=\"choice\" value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

fn audit_count(w: &World, event: &str, outcome: &str) -> i64 {
    w.ward.env.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = '{event}' \
         AND outcome = '{outcome}'"
    ))
}

fn a_nurse_chooses_a_patient_and_an_encounter(backend: Backend) {
    let w = world(backend);
    let scope = "openid launch/patient launch/encounter patient/Observation.rs";
    let (mut b, page, p) = at_picker(&w, "dana", scope);
    let found = post(&mut b, &page, "/picker/patient", &[("name", "oKaF")]);
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(offered(&found.body), ["ada"]);
    assert!(found.body.contains("Ada Okafor"), "{}", found.body);
    assert!(found.body.contains("born 1984-03-12"), "{}", found.body);
    let chosen = post(
        &mut b,
        &found,
        "/picker/patient/choose",
        &[("choice", "ada")],
    );
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    // Then the patient's encounters, listed at once.
    let encounters = follow(&mut b, chosen);
    assert_eq!(encounters.status, 200, "{}", encounters.body);
    assert!(encounters.body.contains("Choose an encounter"));
    assert_eq!(offered(&encounters.body), ["enc-1", "enc-2"]);
    let chosen = post(
        &mut b,
        &encounters,
        "/picker/encounter/choose",
        &[("choice", "enc-2")],
    );
    let back = follow(&mut b, chosen);
    let code = param(back.location(), "code").unwrap_or_else(|| panic!("{}", back.location()));
    let t = w.ward.tokens("app", &code, &p);
    assert_eq!(t["patient"], "ada", "{t}");
    assert_eq!(t["encounter"], "enc-2", "{t}");
    assert_eq!(
        t["scope"],
        "openid launch/patient launch/encounter patient/Observation.rs"
    );
    let token = t["access_token"].as_str().unwrap();
    assert_eq!(claims(token)["patient"], "ada");
    // The token reads the chosen patient's Observations at the gateway, and
    // only theirs.
    let (status, bundle) = gateway::get(&w.fhir, "/Observation", token);
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(gateway::ids(&bundle), ["obs-1", "obs-2"]);
    assert_eq!(
        gateway::get(&w.fhir, "/Observation?patient=ben", token).0,
        403
    );
    // Who looked for whom, for which app: two searches, two choices, the code.
    assert_eq!(audit_count(&w, "smart.picker.search", "success"), 2);
    assert_eq!(audit_count(&w, "smart.context.chosen", "success"), 2);
    let records = w.ward.env.audit_records();
    let details_of = |kind: &str| -> Vec<String> {
        records
            .iter()
            .filter(|r| r["event_type"] == kind)
            .map(|r| r["details"].as_str().unwrap().to_string())
            .collect()
    };
    let issued = details_of("authorization.code_issued");
    assert!(issued[0].contains("\"patient\":\"ada\""), "{issued:?}");
    assert!(issued[0].contains("\"encounter\":\"enc-2\""), "{issued:?}");
    // The typed name is not in the audit trail (it says whom was looked up).
    let searches = details_of("smart.picker.search");
    assert!(
        !searches.iter().any(|d| d.to_lowercase().contains("okaf")),
        "{searches:?}"
    );
}

per_backend!(a_nurse_chooses_a_patient_and_an_encounter);

fn searches_with_injection_characters_are_refused_next_to_the_field(backend: Backend) {
    let w = world(backend);
    let (mut b, page, _) = at_picker(&w, "dana", "openid launch/patient");
    let long = "a".repeat(101);
    for bad in [
        "ada&_id=ben",
        "ada#x",
        "ada?_id=ben",
        "\"ada\"",
        "<script>alert(1)</script>",
        "ada\r\nX-Injected: 1",
        long.as_str(),
        "a",
    ] {
        let res = post(&mut b, &page, "/picker/patient", &[("name", bad)]);
        assert_eq!(res.status, 400, "{bad:?}: {}", res.body);
        assert!(
            res.body.contains("id=\"name-error\""),
            "{bad:?}: {}",
            res.body
        );
        assert!(res.body.contains("aria-invalid=\"true\""), "{bad:?}");
        assert!(
            !res.body.contains("<script>alert"),
            "reflected raw: {}",
            res.body
        );
        assert!(offered(&res.body).is_empty());
    }
    let res = post(
        &mut b,
        &page,
        "/picker/patient",
        &[("name", "<script>alert(1)</script>")],
    );
    assert!(res.body.contains("&lt;script&gt;alert(1)"), "{}", res.body);
    // Nothing reached the FHIR server: no search was made, none audited.
    assert_eq!(audit_count(&w, "smart.picker.search", "success"), 0);
    assert_eq!(audit_count(&w, "smart.picker.search", "failure"), 0);
    // A name with an apostrophe is a name: searched (percent-encoded), no match.
    let res = post(&mut b, &page, "/picker/patient", &[("name", "O'Okafor")]);
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(
        res.body.contains("No patient's name contains"),
        "{}",
        res.body
    );
}

per_backend!(searches_with_injection_characters_are_refused_next_to_the_field);

fn only_an_offered_patient_may_be_chosen(backend: Backend) {
    let w = world(backend);
    let (mut b, page, p) = at_picker(&w, "dana", "openid launch/patient patient/Observation.rs");
    // Before any search, nothing was offered.
    let res = post(
        &mut b,
        &page,
        "/picker/patient/choose",
        &[("choice", "ada")],
    );
    assert_eq!(res.status, 400, "{}", res.body);
    let found = post(&mut b, &page, "/picker/patient", &[("name", "Okafor")]);
    assert_eq!(offered(&found.body), ["ada"]);
    // Another existing patient, an invalid id, nothing: refused, audited.
    for forged in ["ben", "../Patient/ben", ""] {
        let res = post(
            &mut b,
            &found,
            "/picker/patient/choose",
            &[("choice", forged)],
        );
        assert_eq!(res.status, 400, "{forged:?}: {}", res.body);
        assert!(
            res.body.contains("Choose one of the results"),
            "{}",
            res.body
        );
    }
    assert_eq!(audit_count(&w, "smart.context.chosen", "failure"), 4);
    assert_eq!(audit_count(&w, "smart.context.chosen", "success"), 0);
    // Without the page's CSRF token: refused before anything is looked at.
    let interaction = hidden(&found.body, "interaction");
    let res = b.post(
        "/picker/patient/choose",
        &[("interaction", interaction.as_str()), ("choice", "ada")],
    );
    assert_eq!(res.status, 403, "{}", res.body);
    // The flow still waits for a patient; the offered one goes through.
    let chosen = post(
        &mut b,
        &found,
        "/picker/patient/choose",
        &[("choice", "ada")],
    );
    let back = follow(&mut b, chosen);
    let code = param(back.location(), "code").unwrap_or_else(|| panic!("{}", back.location()));
    assert_eq!(w.ward.tokens("app", &code, &p)["patient"], "ada");
}

per_backend!(only_an_offered_patient_may_be_chosen);

fn who_may_not_pick_gets_access_denied_and_no_picker(backend: Backend) {
    let w = world(backend);
    let run = |user: &str, scope: &str, aud: &str| {
        let url = w
            .ward
            .authorize_url("app", &pkce(), &[("scope", scope), ("aud", aud)]);
        let res = w.ward.browser().authorize(&url, user);
        assert_eq!(
            res.status, 303,
            "{user} {scope}: the picker was shown: {}",
            res.body
        );
        let loc = res.location().to_string();
        (
            param(&loc, "error").unwrap_or_else(|| panic!("{loc}")),
            param(&loc, "error_description").unwrap_or_default(),
        )
    };
    // A patient user without a FHIR Patient: her role may not search patients.
    let (error, why) = run("pia", "openid launch/patient", &w.fhir);
    assert_eq!(error, "access_denied");
    assert!(why.contains("permission to search patients"), "{why}");
    assert_eq!(audit_count(&w, "smart.context.refused", "failure"), 1);
    // launch/encounter without a patient to list encounters for.
    let (error, why) = run("dana", "openid launch/encounter", &w.fhir);
    assert_eq!(error, "access_denied");
    assert!(why.contains("ask for launch/patient"), "{why}");
    // A FHIR server Ward does not know (no FHIR server for that tenant):
    // refused at /authorize, before any sign-in or picker.
    let e = common::smart::authorize_error(
        &w.ward,
        "app",
        &[
            ("scope", "openid launch/patient"),
            ("aud", "https://fhir.nowhere.example/r4"),
        ],
    )
    .expect("refused before the sign-in");
    assert_eq!(e.0, "invalid_request");
    assert!(e.1.contains("aud"), "{e:?}");
    // prompt=none cannot show the picker.
    let url = w.ward.authorize_url(
        "app",
        &pkce(),
        &[("scope", "openid launch/patient"), ("aud", &w.fhir)],
    );
    let mut b = w.ward.browser();
    b.authorize(&url, "dana");
    let res = b.get(&format!("{url}&prompt=none"));
    assert_eq!(
        param(res.location(), "error").as_deref(),
        Some("interaction_required")
    );
}

per_backend!(who_may_not_pick_gets_access_denied_and_no_picker);

fn a_fhir_server_that_is_down_gets_a_clear_page_and_a_retry(backend: Backend) {
    let mut w = world(backend);
    let (mut b, page, _) = at_picker(&w, "dana", "openid launch/patient");
    drop(w.gateway.take());
    let res = post(&mut b, &page, "/picker/patient", &[("name", "Okafor")]);
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(
        res.body.contains("could not reach the FHIR server"),
        "{}",
        res.body
    );
    assert!(res.body.contains("Try the search again"), "{}", res.body);
    // The retry keeps the name typed.
    assert!(
        res.body
            .contains("type=\"hidden\" name=\"name\" value=\"Okafor\"")
    );
    assert_eq!(audit_count(&w, "smart.picker.search", "failure"), 1);
    // Back up: the retry finds the patient.
    let port: u16 = w
        .fhir
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    w.gateway = Some(gateway::spawn(&w.ward, port));
    let res = post(&mut b, &page, "/picker/patient", &[("name", "Okafor")]);
    assert_eq!(offered(&res.body), ["ada"], "{}", res.body);
}

per_backend!(a_fhir_server_that_is_down_gets_a_clear_page_and_a_retry);
