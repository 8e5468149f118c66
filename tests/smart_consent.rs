//! The consent page for SMART apps (SMART App Launch 2.2.0 §"Scopes and
//! Launch Context": the user "may grant a subset"): each scope in plain
//! language; a clinical scope left unticked is not in the code, the tokens or
//! the remembered consent, and asking for it again shows the page again.

mod common;

use common::Backend;
use common::app::{TestApp, claims};
use common::oidc::{Browser, Pkce, REDIRECT, Res, checked, follow, hidden, param, pkce};
use common::smart::FHIR;

const REGISTERED: &str = "openid user/*.rs";
const ASKED: &str = "openid user/Observation.rs user/Patient.rs";

/// A nurse (Observation and Patient read and search in st-mary) and a
/// third-party app, which must ask for consent.
fn world(backend: Backend) -> TestApp {
    TestApp::new(backend)
        .user("dana")
        .ward(&["policy", "grant", "dana", "nurse", "--tenant", "st-mary"])
        .ward(&["fhir", "add", FHIR, "--tenant", "st-mary"])
        .confidential("viewer", REDIRECT, &["--scope", REGISTERED])
        .start()
}

/// Sign in as dana for `scope` and stop at the consent page.
fn consent_page(w: &TestApp, b: &mut Browser, p: &Pkce, scope: &str) -> Res {
    let res = b.get(&w.authorize_url("viewer", p, &[("scope", scope), ("aud", FHIR)]));
    let login = b.get(res.location());
    assert_eq!(login.status, 200, "{}", login.body);
    let (interaction, csrf) = (
        hidden(&login.body, "interaction"),
        hidden(&login.body, "csrf"),
    );
    let mut res = b.post(
        "/login",
        &[
            ("interaction", &interaction),
            ("csrf", &csrf),
            ("username", "dana"),
            ("password", common::PASSWORD),
        ],
    );
    while res.status == 303 && !res.location().starts_with("/consent") {
        res = b.get(res.location());
    }
    assert!(res.location().starts_with("/consent"), "{}", res.location());
    let page = b.get(res.location());
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

fn approve(b: &mut Browser, page: &Res, keep: &[&str]) -> Res {
    let (interaction, csrf) = (
        hidden(&page.body, "interaction"),
        hidden(&page.body, "csrf"),
    );
    let mut form = vec![
        ("interaction", interaction.as_str()),
        ("csrf", csrf.as_str()),
        ("decision", "approve"),
    ];
    form.extend(keep.iter().map(|k| ("keep", *k)));
    b.post("/consent", &form)
}

fn the_person_can_leave_out_clinical_scopes(backend: Backend) {
    let w = world(backend);
    let mut b = w.browser();
    let p = pkce();
    let page = consent_page(&w, &mut b, &p, ASKED);
    // Each clinical scope in plain language, ticked; openid is not optional.
    assert!(
        page.body
            .contains("Read and search the observations that you are allowed to see"),
        "{}",
        page.body
    );
    assert_eq!(
        checked(&page.body, "keep"),
        ["user/Observation.rs", "user/Patient.rs"]
    );
    assert!(page.body.contains("Confirm who you are"));

    // Untick Observation: the code and tokens carry Patient only.
    let approved = approve(&mut b, &page, &["user/Patient.rs"]);
    let res = follow(&mut b, approved);
    let code = param(res.location(), "code").expect("a code");
    let t = w.tokens("viewer", &code, &p);
    assert_eq!(t["scope"], "openid user/Patient.rs", "{t}");
    assert_eq!(
        claims(t["access_token"].as_str().unwrap())["scope"],
        "openid user/Patient.rs"
    );

    // The consent remembered is what was approved: asking for Observation
    // again shows the page again; asking for Patient goes straight through.
    let again = w.authorize_url("viewer", &pkce(), &[("scope", ASKED), ("aud", FHIR)]);
    let res = b.get(&again);
    assert!(res.location().starts_with("/consent"), "{}", res.location());
    let p = pkce();
    let res = b.get(&w.authorize_url(
        "viewer",
        &p,
        &[("scope", "openid user/Patient.rs"), ("aud", FHIR)],
    ));
    let code = param(res.location(), "code").expect("no consent page for what was approved");
    let t = w.tokens("viewer", &code, &p);
    assert_eq!(t["scope"], "openid user/Patient.rs", "{t}");
}

per_backend!(the_person_can_leave_out_clinical_scopes);

fn a_forged_consent_form_is_refused(backend: Backend) {
    let w = world(backend);
    let mut b = w.browser();
    let page = consent_page(&w, &mut b, &pkce(), ASKED);
    // Keeping a scope the app did not ask for, or "keeping" openid: a 400
    // page, no code, and the page still works afterwards.
    for forged in [&["user/Appointment.rs"][..], &["openid"]] {
        let res = approve(&mut b, &page, forged);
        assert_eq!(res.status, 400, "{forged:?}: {}", res.body);
        assert!(res.body.contains("did not ask for"), "{}", res.body);
    }
    let approved = approve(&mut b, &page, &["user/Observation.rs", "user/Patient.rs"]);
    let res = follow(&mut b, approved);
    assert!(
        param(res.location(), "code").is_some(),
        "{}",
        res.location()
    );
}

per_backend!(a_forged_consent_form_is_refused);
