//! The pickers against the in-memory store and a fake FHIR server (the HTTP
//! side, with the example gateway: tests/smart_picker.rs).

use std::sync::{Arc, Mutex};

use serde_json::json;

use super::*;
use crate::authz::PolicyEngine;
use crate::authz::rules::Rule;
use crate::oidc::authorize::{self, AuthorizationRequest};
use crate::oidc::smart_launch::grant_context;
use crate::oidc::testing::{self, CHALLENGE, NOW, REDIRECT};
use crate::store::memory::MemoryStore;
use crate::store::{AuthRequestRow, AuthRequestStore, FhirAdminStore, FhirServer, UserStore};

const FHIR: &str = "https://fhir.example/r4";

/// A FHIR server that answers every search with `answer`, and remembers the
/// URLs and tokens it was asked with.
struct Fake {
    answer: Result<Value, FetchError>,
    asked: Mutex<Vec<(String, String)>>,
}

impl FhirGet for Fake {
    fn get(&self, url: &str, bearer: &str) -> Result<Value, FetchError> {
        self.asked
            .lock()
            .unwrap()
            .push((url.to_string(), bearer.to_string()));
        self.answer.clone()
    }
}

fn fake(answer: Result<Value, FetchError>) -> Fake {
    Fake {
        answer,
        asked: Mutex::new(Vec::new()),
    }
}

fn bundle(resources: Value) -> Value {
    let entries: Vec<Value> = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!({ "resource": r }))
        .collect();
    json!({"resourceType": "Bundle", "type": "searchset", "entry": entries})
}

fn world() -> (MemoryStore, String) {
    let (store, user) = testing::store();
    let mut app = testing::public_client();
    app.scopes = [
        "openid",
        "launch/patient",
        "launch/encounter",
        "patient/*.rs",
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

/// The policy: `user` is a nurse in st-mary, who may search patients and,
/// with `encounters`, encounters.
fn policy(user: &str, encounters: bool) -> Arc<PolicyEngine> {
    let mut rules = vec![
        Rule::permission("nurse", "st-mary", "fhir:Patient", "s"),
        Rule::assignment(user, "nurse", "st-mary"),
    ];
    if encounters {
        rules.push(Rule::permission("nurse", "st-mary", "fhir:Encounter", "s"));
    }
    Arc::new(PolicyEngine::build(1, &rules).unwrap())
}

/// A stored interaction for `scope`.
fn interaction(store: &MemoryStore, scope: &str) -> Interaction {
    let pairs = [
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("scope", scope),
        ("aud", FHIR),
    ];
    let request = authorize::parse(&testing::provider(store), &testing::params(&pairs))
        .unwrap_or_else(|e| panic!("{e:?}"));
    store
        .save_auth_request(&AuthRequestRow {
            // One pending request per scope: a test may start several.
            id_hash: format!("i {scope}"),
            client_id: crate::domain::ClientId::parse("app").unwrap(),
            params: serde_json::to_string(&request).unwrap(),
            pushed: false,
            browser_hash: None,
            created_at: NOW,
            expires_at: NOW + 60_000,
        })
        .unwrap();
    reload(store, &format!("i {scope}"))
}

fn reload(store: &MemoryStore, id_hash: &str) -> Interaction {
    let row = store.auth_request(id_hash, NOW).unwrap().unwrap();
    let request: AuthorizationRequest = serde_json::from_str(&row.params).unwrap();
    Interaction {
        id_hash: row.id_hash,
        request,
        created_at: NOW,
    }
}

fn user_of(store: &MemoryStore, id: &str) -> User {
    store.user(id).unwrap().unwrap()
}

#[test]
fn a_nurse_searches_chooses_a_patient_then_an_encounter() {
    let (store, user_id) = world();
    let mut p = testing::provider(&store);
    p.policy = policy(&user_id, true);
    let user = user_of(&store, &user_id);
    let found = interaction(
        &store,
        "openid launch/patient launch/encounter patient/*.rs",
    );
    let id = found.id_hash.clone();
    assert_eq!(
        needed(&p, &found.request, &user_id),
        Ok(Some(Pick::Patient))
    );

    let gateway = fake(Ok(bundle(json!([
        {"resourceType": "Patient", "id": "ada", "name": [{"family": "Okafor", "given": ["Ada"]}]},
    ]))));
    let searched = search(&p, &gateway, &found, &user, Pick::Patient, "O'ka for").unwrap();
    let list = match searched {
        Searched::Found(list) => list,
        other => panic!("{other:?}"),
    };
    assert_eq!(list.items[0].id, "ada");
    let (url, token) = gateway.asked.lock().unwrap()[0].clone();
    assert_eq!(url, format!("{FHIR}/Patient?name=O%27ka%20for"));
    let claims = crate::oidc::jwt::decode(&token).unwrap().claims;
    assert_eq!(claims["aud"], FHIR);
    assert_eq!(claims["scope"], "system/Patient.rs");
    assert_eq!(claims["sub"], testing::ISSUER);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        60
    );

    // Only an offered id may be chosen; a refusal changes nothing.
    let found = reload(&store, &id);
    let e = choose(&p, &found, &user, Pick::Patient, "ben").unwrap_err();
    assert_eq!(e.code, "invalid_request");
    let e = choose(&p, &found, &user, Pick::Encounter, "ada").unwrap_err();
    assert_eq!(e.description, NOTHING_TO_CHOOSE);
    choose(&p, &found, &user, Pick::Patient, "ada").unwrap();

    let found = reload(&store, &id);
    assert_eq!(
        needed(&p, &found.request, &user_id),
        Ok(Some(Pick::Encounter))
    );
    let gateway = fake(Ok(bundle(json!([
        {"resourceType": "Encounter", "id": "enc-1", "status": "finished"},
    ]))));
    let searched = search(&p, &gateway, &found, &user, Pick::Encounter, "").unwrap();
    assert!(matches!(searched, Searched::Found(_)), "{searched:?}");
    assert_eq!(
        gateway.asked.lock().unwrap()[0].0,
        format!("{FHIR}/Encounter?patient=ada")
    );
    choose(&p, &reload(&store, &id), &user, Pick::Encounter, "enc-1").unwrap();

    let found = reload(&store, &id);
    assert_eq!(needed(&p, &found.request, &user_id), Ok(None));
    let g = grant_context(&p, &found.request, &user_id)
        .unwrap()
        .unwrap();
    assert_eq!(g.context.patient.as_deref(), Some("ada"));
    assert_eq!(g.context.encounter.as_deref(), Some("enc-1"));
    let types = store.audit_types();
    let count = |t: &str| types.iter().filter(|x| *x == t).count();
    assert_eq!(count("smart.picker.search"), 2);
    assert_eq!(count("smart.context.chosen"), 3, "{types:?}");
    // Another user signing in on the same interaction inherits nothing.
    let other = crate::domain::UserId::generate().to_string();
    assert_eq!(
        grant_context(&p, &found.request, &other).unwrap_err().code,
        "access_denied"
    );
}

#[test]
fn refusals_bad_input_and_an_unavailable_server() {
    let (store, user_id) = world();
    let mut p = testing::provider(&store);
    let user = user_of(&store, &user_id);
    let found = interaction(&store, "openid launch/patient");
    // No role that may search patients: access_denied, audited.
    let e = needed(&p, &found.request, &user_id).unwrap_err();
    assert_eq!(e.code, "access_denied");
    assert!(
        store
            .audit_types()
            .contains(&"smart.context.refused".to_string())
    );

    p.policy = policy(&user_id, false);
    let gateway = fake(Err(FetchError::Timeout));
    let bad = search(&p, &gateway, &found, &user, Pick::Patient, "ada&_id=ben").unwrap();
    assert!(matches!(bad, Searched::BadInput(_)), "{bad:?}");
    assert!(gateway.asked.lock().unwrap().is_empty(), "nothing was sent");
    let down = search(&p, &gateway, &found, &user, Pick::Patient, "Okafor").unwrap();
    assert!(matches!(down, Searched::Unavailable(m) if m.contains("in time")));
    let not_fhir = fake(Ok(json!({"resourceType": "OperationOutcome"})));
    let bad = search(&p, &not_fhir, &found, &user, Pick::Patient, "Okafor").unwrap();
    assert!(matches!(bad, Searched::Unavailable(_)), "{bad:?}");

    // launch/encounter with no patient to list encounters for.
    let found = interaction(&store, "openid launch/encounter");
    p.policy = policy(&user_id, true);
    let e = needed(&p, &found.request, &user_id).unwrap_err();
    assert!(e.description.contains("ask for launch/patient"), "{e:?}");
}
