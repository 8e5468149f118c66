//! `aud`, the launch's binding and the context a code carries, against the
//! in-memory store (the HTTP side: tests/smart_launch.rs, tests/smart_standalone.rs).

use super::*;
use crate::audit::Outcome;
use crate::oidc::authorize::{self, AuthorizeError};
use crate::oidc::testing::{self, CHALLENGE, NOW, REDIRECT};
use crate::store::memory::MemoryStore;
use crate::store::{FhirAdminStore, SmartStore};

const FHIR: &str = "https://fhir.example/r4";

/// The store with the app allowed SMART scopes, one FHIR server (tenant
/// `st-mary`) and a user; the user's id.
fn world() -> (MemoryStore, String) {
    let (store, user) = testing::store();
    let mut app = testing::public_client();
    app.scopes = [
        "openid",
        "launch",
        "launch/patient",
        "fhirUser",
        "patient/*.rs",
        "user/*.rs",
    ]
    .map(String::from)
    .to_vec();
    store.add_client(app);
    let server = FhirServer {
        id: "f1".into(),
        base_url: FHIR.into(),
        tenant: "st-mary".into(),
        created_at: 0,
    };
    let audit = AuditEvent::new(0, "test", "fhir_server.add", Outcome::Success);
    assert!(store.add_fhir_server(&server, &audit).unwrap());
    (store, user)
}

fn launch(store: &MemoryStore, hash_of: &str, client: &str, user: Option<&str>) {
    let row = LaunchRow {
        launch_hash: secrets::hash(hash_of),
        tenant: "st-mary".into(),
        client_id: testing::client_id(client),
        ehr_client_id: testing::client_id("ehr"),
        user_id: user.map(str::to_string),
        context: LaunchContext {
            patient: Some("123".into()),
            ..LaunchContext::default()
        },
        created_at: NOW,
        expires_at: NOW + 300_000,
        used_at: None,
    };
    let audit = AuditEvent::new(NOW, "test", "smart.launch_minted", Outcome::Success);
    store.create_launch(&row, &audit).unwrap();
}

fn authorize(
    store: &MemoryStore,
    extra: &[(&str, &str)],
) -> Result<AuthorizationRequest, OAuthError> {
    let mut pairs = vec![
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    pairs.extend_from_slice(extra);
    match authorize::parse(&testing::provider(store), &testing::params(&pairs)) {
        Ok(r) => Ok(r),
        Err(AuthorizeError::Redirect(r)) => {
            let get = |k: &str| {
                r.params
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
            };
            Err(OAuthError {
                code: match get("error").as_deref() {
                    Some("invalid_request") => "invalid_request",
                    Some("invalid_scope") => "invalid_scope",
                    other => panic!("unexpected {other:?}"),
                },
                description: get("error_description").unwrap_or_default(),
                ..OAuthError::invalid_request("")
            })
        }
        Err(AuthorizeError::Page(e)) => panic!("shown, not redirected: {e:?}"),
    }
}

#[test]
fn smart_scopes_need_a_registered_aud_which_fixes_the_tenant() {
    let (store, _) = world();
    let scope = ("scope", "openid user/Observation.rs");
    let e = authorize(&store, &[scope]).unwrap_err();
    assert!(e.description.contains("aud is required"), "{e:?}");
    let e = authorize(&store, &[scope, ("aud", "https://fhir.example/r4/")]).unwrap_err();
    assert!(e.description.contains("not the base URL"), "{e:?}");
    let e = authorize(&store, &[scope, ("aud", FHIR), ("tenant", "riverside")]).unwrap_err();
    assert!(e.description.contains("another organisation"), "{e:?}");
    let r = authorize(&store, &[scope, ("aud", FHIR)]).unwrap();
    assert_eq!(r.tenant.as_deref(), Some("st-mary"));
    assert_eq!(r.smart.as_ref().unwrap().aud, FHIR);
    // Without SMART scopes, no aud is needed and none is bound.
    assert_eq!(
        authorize(&store, &[("scope", "openid")]).unwrap().smart,
        None
    );
    assert!(is_smart_scope("fhirUser") && is_smart_scope("patient/*.rs"));
    assert!(!is_smart_scope("online_access") && !is_smart_scope("system/*.rs"));
}

#[test]
fn a_launch_is_used_once_by_its_own_app_only() {
    let (store, _) = world();
    launch(&store, "L1", "app", None);
    let with = [("scope", "openid launch"), ("aud", FHIR), ("launch", "L1")];
    // Bound to another app: refused, and not used up.
    launch(&store, "L2", "svc", None);
    let e = authorize(&store, &[with[0], with[1], ("launch", "L2")]).unwrap_err();
    assert_eq!(e.description, LaunchRefusal::OtherClient.description());
    assert!(
        store
            .launch(&secrets::hash("L2"))
            .unwrap()
            .unwrap()
            .used_at
            .is_none()
    );
    let r = authorize(&store, &with).unwrap();
    assert_eq!(
        r.smart.unwrap().launch.unwrap().patient.as_deref(),
        Some("123")
    );
    let e = authorize(&store, &with).unwrap_err();
    assert_eq!(e.description, LaunchRefusal::Used.description());
    let e = authorize(&store, &[with[0], with[1], ("launch", "nope")]).unwrap_err();
    assert_eq!(e.description, LaunchRefusal::Unknown.description());
    // Used once, refused three times: all on the record.
    let types = store.audit_types();
    assert_eq!(
        types.iter().filter(|t| *t == "smart.launch_used").count(),
        4
    );
}

#[test]
fn the_context_is_decided_for_the_signed_in_user() {
    let (store, user) = world();
    let p = testing::provider(&store);
    launch(&store, "L1", "app", Some("someone-else"));
    let r = authorize(
        &store,
        &[("scope", "openid launch"), ("aud", FHIR), ("launch", "L1")],
    )
    .unwrap();
    let e = grant_context(&p, &r, &user).unwrap_err();
    assert_eq!(e.code, "access_denied");
    // Standalone: the user's own Patient, when they have one.
    let r = authorize(
        &store,
        &[("scope", "openid launch/patient fhirUser"), ("aud", FHIR)],
    )
    .unwrap();
    let e = grant_context(&p, &r, &user).unwrap_err();
    assert!(e.description.contains("no patient in context"), "{e:?}");
    let audit = AuditEvent::new(NOW, "test", "user.fhir_user_set", Outcome::Success);
    assert!(
        store
            .set_fhir_user(&user, Some("Patient/77"), &audit)
            .unwrap()
    );
    let g = grant_context(&p, &r, &user).unwrap().unwrap();
    assert_eq!(g.context.patient.as_deref(), Some("77"));
    assert_eq!(g.fhir_user_url().unwrap(), format!("{FHIR}/Patient/77"));
    let claims = access_token_claims(Some(&g), &r.scope, None).unwrap();
    assert_eq!(claims["aud"], FHIR);
    assert_eq!(claims["patient"], "77");
    assert_eq!(claims["fhirUser"], format!("{FHIR}/Patient/77"));
    assert!(claims.get("encounter").is_none());
}
