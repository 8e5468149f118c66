//! The example FHIR server (examples/fhir-gateway) in front of synthetic
//! records, protected by Ward's SMART tokens, on every backend: what an app
//! developer sees when a patient's app and a nurse's app call a FHIR API
//! that enforces the scopes and the patient compartment (docs/smart.md, "How
//! to protect your FHIR API with Ward").

mod common;

use common::Backend;
use common::app::TestApp;
use common::oidc::free_port;
use serde_json::Value;

const APP_SCOPES: &str = "openid fhirUser launch/patient patient/*.rs user/*.rs user/Observation.c";

struct World {
    ward: TestApp,
    fhir: String,
    _gateway: fhir_gateway::Running,
}

fn world(backend: Backend) -> World {
    let port = free_port();
    let fhir = format!("http://127.0.0.1:{port}/fhir");
    let ward = TestApp::new(backend)
        .user("pat")
        .user("dana")
        .ward(&["policy", "grant", "pat", "patient", "--tenant", "st-mary"])
        .ward(&["policy", "grant", "dana", "nurse", "--tenant", "st-mary"])
        .ward(&["user", "set", "pat", "--fhir-user", "Patient/ada"])
        .ward(&["fhir", "add", &fhir, "--tenant", "st-mary"])
        .first_party("app", APP_SCOPES, &[])
        // The gateway's own client, for introspection.
        .confidential("fhir-gw", common::oidc::REDIRECT, &[]);
    // A role for FHIR servers' clients: they may introspect SMART tokens
    // meant for the tenant's FHIR servers (docs/smart.md).
    let policy = ward.run(&["policy", "export"]);
    let mut text = String::from_utf8(policy.stdout).unwrap();
    text.push_str("\np, fhir-resource-server, st-mary, smart, introspect\n");
    let path = ward.dir().join("policy-with-gateway.csv");
    std::fs::write(&path, text).unwrap();
    let ward = ward
        .ward(&["policy", "import", path.to_str().unwrap()])
        .start();
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/fhir-gateway/data/resources.json"
    );
    let resources = serde_json::from_str(&std::fs::read_to_string(data).unwrap()).unwrap();
    let gateway = fhir_gateway::spawn(fhir_gateway::Config {
        base_url: fhir.clone(),
        issuer: ward.issuer.clone(),
        jwks_uri: Some(format!("{}/jwks", ward.server.base)),
        resources,
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
    })
    .expect("the gateway starts");
    World {
        ward,
        fhir,
        _gateway: gateway,
    }
}

impl World {
    fn token(&self, user: &str, scope: &str) -> String {
        let (_b, t) = self
            .ward
            .sign_in("app", user, &[("scope", scope), ("aud", &self.fhir)]);
        t["access_token"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    /// A request to the gateway: status, body, WWW-Authenticate.
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", self.fhir);
        let auth = token.map(|t| format!("Bearer {t}")).unwrap_or_default();
        let res = match (method, body) {
            ("POST", Some(b)) => agent.post(&url).header("authorization", &auth).send_json(b),
            _ => agent.get(&url).header("authorization", &auth).call(),
        };
        let mut res = res.expect("the gateway answers");
        let challenge = res
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let status = res.status().as_u16();
        (
            status,
            res.body_mut().read_json().unwrap_or(Value::Null),
            challenge,
        )
    }

    fn ids(&self, path: &str, token: &str) -> Vec<String> {
        let (status, bundle, _) = self.call("GET", path, Some(token), None);
        assert_eq!(status, 200, "{path}: {bundle}");
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
            .collect()
    }
}

fn a_patients_app_sees_only_that_patients_records(backend: Backend) {
    let w = world(backend);
    let t = w.token(
        "pat",
        "openid launch/patient patient/Observation.rs patient/Patient.rs",
    );
    // Searches are confined to the patient in context.
    assert_eq!(w.ids("/Observation", &t), ["obs-1", "obs-2"]);
    assert_eq!(
        w.ids("/Observation?patient=ada&category=laboratory", &t),
        ["obs-2"]
    );
    let (status, _, _) = w.call("GET", "/Observation?patient=ben", Some(&t), None);
    assert_eq!(status, 403, "another patient's search is refused");
    // Reads: their own record, never another patient's (404, not 403: no probing).
    assert_eq!(w.call("GET", "/Patient/ada", Some(&t), None).0, 200);
    assert_eq!(w.call("GET", "/Observation/obs-3", Some(&t), None).0, 404);
    assert_eq!(w.call("GET", "/Patient/ben", Some(&t), None).0, 404);
    // No create permission, and no Appointment scope granted at all.
    let obs =
        serde_json::json!({"resourceType": "Observation", "subject": {"reference": "Patient/ada"}});
    let (status, _, challenge) = w.call("POST", "/Observation", Some(&t), Some(&obs));
    assert_eq!(status, 403);
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    assert_eq!(w.call("GET", "/Appointment", Some(&t), None).0, 403);
}

per_backend!(a_patients_app_sees_only_that_patients_records);

fn a_nurses_app_works_within_the_nurses_role(backend: Backend) {
    let w = world(backend);
    // The nurse's role: Observation c r s and Patient r s; no Appointment.
    let t = w.token(
        "dana",
        "openid user/Observation.rs user/Observation.c user/Patient.rs user/Appointment.rs",
    );
    assert_eq!(w.ids("/Observation", &t).len(), 5);
    assert_eq!(w.ids("/Patient?name=oka", &t), ["ada"]);
    let obs = serde_json::json!({"resourceType": "Observation", "status": "final",
        "subject": {"reference": "Patient/ben"}});
    let (status, created, _) = w.call("POST", "/Observation", Some(&t), Some(&obs));
    assert_eq!(status, 201, "{created}");
    assert_eq!(w.call("GET", "/Appointment", Some(&t), None).0, 403);
    // Injection characters in a search are data, not syntax.
    assert!(w.ids("/Patient?name=%27%20OR%201%3D1%20--", &t).is_empty());
}

per_backend!(a_nurses_app_works_within_the_nurses_role);

fn tokens_not_meant_for_this_server_are_refused(backend: Backend) {
    let w = world(backend);
    // No token; a malformed one; an OpenID token without aud = this server.
    let (status, _, challenge) = w.call("GET", "/Patient/ada", None, None);
    assert_eq!(status, 401);
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert_eq!(
        w.call("GET", "/Patient/ada", Some("not-a-jwt"), None).0,
        401
    );
    let (_b, plain) = w.ward.sign_in("app", "pat", &[("scope", "openid")]);
    let at = plain["access_token"].as_str().unwrap();
    let (status, _, challenge) = w.call("GET", "/Patient/ada", Some(at), None);
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    // An ID token is not an access token (typ), even for this audience.
    let t = w
        .ward
        .sign_in(
            "app",
            "pat",
            &[
                ("scope", "openid launch/patient patient/Patient.rs"),
                ("aud", &w.fhir),
            ],
        )
        .1;
    let id_token = t["id_token"].as_str().unwrap();
    assert_eq!(w.call("GET", "/Patient/ada", Some(id_token), None).0, 401);
}

per_backend!(tokens_not_meant_for_this_server_are_refused);

fn the_fhir_servers_client_introspects_tokens_meant_for_it(backend: Backend) {
    let w = world(backend);
    let t = w.token(
        "pat",
        "openid fhirUser launch/patient patient/Observation.rs",
    );
    let introspect = |token: &str| {
        let r = w
            .ward
            .post_as("fhir-gw", "/introspect", &[("token", token)]);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    // Not yet allowed: the token was issued to another client.
    assert_eq!(introspect(&t)["active"], false);
    w.ward.env.ok(
        &[
            "policy",
            "grant",
            "--client",
            "fhir-gw",
            "fhir-resource-server",
            "--tenant",
            "st-mary",
        ],
        None,
    );
    // The running server picks the policy change up within seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answer = loop {
        let answer = introspect(&t);
        if answer["active"] == true || std::time::Instant::now() > deadline {
            break answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["aud"], w.fhir.as_str());
    assert_eq!(answer["patient"], "ada");
    assert_eq!(answer["client_id"], "app");
    assert_eq!(
        answer["scope"],
        "openid fhirUser launch/patient patient/Observation.rs"
    );
    assert_eq!(answer["fhirUser"], format!("{}/Patient/ada", w.fhir));
    // A token that is not for a FHIR server stays private to its client.
    let (_b, plain) = w.ward.sign_in("app", "pat", &[("scope", "openid")]);
    assert_eq!(
        introspect(plain["access_token"].as_str().unwrap())["active"],
        false
    );
}

per_backend!(the_fhir_servers_client_introspects_tokens_meant_for_it);
