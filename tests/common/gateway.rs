//! The example FHIR server (examples/fhir-gateway) in-process, in front of
//! its shipped synthetic records, trusting a running Ward's keys: the FHIR
//! server of the SMART tests that need one that answers (the patient picker).

use super::Backend;
use super::app::{TestApp, TestAppBuilder};

/// What the picker tests' apps are registered for.
pub const SCOPES: &str = "openid fhirUser launch/patient launch/encounter patient/*.rs user/*.rs";

/// Nurses may also search encounters here (the seed policy leaves
/// Encounter out; docs/smart.md says how to add it).
const ENCOUNTERS: &str =
    "\np, nurse, st-mary, fhir:Encounter, r\np, nurse, st-mary, fhir:Encounter, s\n";

/// Ward with the gateway's base URL `fhir` registered for st-mary, a nurse
/// (`dana`), a patient without a FHIR user (`pia`: her role may not search
/// patients) and the first-party app `app`; not yet started.
pub fn builder(backend: Backend, fhir: &str) -> TestAppBuilder {
    let b = TestApp::new(backend)
        .user("dana")
        .user("pia")
        .ward(&["policy", "grant", "dana", "nurse", "--tenant", "st-mary"])
        .ward(&["policy", "grant", "pia", "patient", "--tenant", "st-mary"])
        .ward(&["user", "set", "dana", "--fhir-user", "Practitioner/9"])
        .ward(&["fhir", "add", fhir, "--tenant", "st-mary"])
        .first_party("app", SCOPES, &[]);
    let policy = b.run(&["policy", "export"]);
    let mut text = String::from_utf8(policy.stdout).unwrap();
    text.push_str(ENCOUNTERS);
    let path = b.dir().join("policy-with-encounters.csv");
    std::fs::write(&path, text).unwrap();
    b.ward(&["policy", "import", path.to_str().unwrap()])
}

/// Serve the gateway at `http://127.0.0.1:{port}/fhir` (the base URL `fhir`,
/// registered in `ward` before it started) for Ward's issuer.
pub fn spawn(ward: &TestApp, port: u16) -> fhir_gateway::Running {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/fhir-gateway/data/resources.json"
    );
    let resources = serde_json::from_str(&std::fs::read_to_string(data).unwrap()).unwrap();
    fhir_gateway::spawn(fhir_gateway::Config {
        base_url: base_url(port),
        issuer: ward.issuer.clone(),
        jwks_uri: Some(format!("{}/jwks", ward.server.base)),
        resources,
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
    })
    .expect("the gateway starts")
}

/// The gateway's FHIR base URL on `port`.
pub fn base_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/fhir")
}

/// `GET {fhir}{path}` with a bearer token: the status and the JSON body.
pub fn get(fhir: &str, path: &str, token: &str) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut res = agent
        .get(&format!("{fhir}{path}"))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .expect("the gateway answers");
    let status = res.status().as_u16();
    (
        status,
        res.body_mut()
            .read_json()
            .unwrap_or(serde_json::Value::Null),
    )
}

/// The ids of a search Bundle's resources.
pub fn ids(bundle: &serde_json::Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["resource"]["id"].as_str().unwrap_or_default().to_string())
        .collect()
}
