//! The SMART launch context, free of HTTP and storage: what an EHR launch
//! carries (SMART App Launch 2.2.0 §"Launch context arrives with your
//! access_token"), its checks, what a grant keeps of it, and the rules
//! binding a `launch` value to the request that presents it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::ClientId;

/// Most `fhirContext` items one launch may carry.
pub const MAX_FHIR_CONTEXT: usize = 20;
/// Longest `fhirContext`, as JSON text.
const MAX_FHIR_CONTEXT_BYTES: usize = 8 * 1024;
/// Longest `intent`, `role` or URL Ward keeps.
const MAX_TEXT: usize = 256;
const MAX_URL: usize = 2048;

/// The context an EHR launch (or a standalone launch) hands the app, each
/// field present only when it applies (§"Launch context arrives with your
/// access_token": "when they apply, and never otherwise").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchContext {
    /// The FHIR id of the patient in context (`123`, not `Patient/123`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// The FHIR id of the encounter in context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encounter: Option<String>,
    /// §"fhirContext": objects with `reference`, `canonical` or `identifier`,
    /// and optionally `type` and `role`.
    #[serde(default, rename = "fhirContext", skip_serializing_if = "Vec::is_empty")]
    pub fhir_context: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_patient_banner: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smart_style_url: Option<String>,
}

/// What a code and its grant keep of a SMART request: the FHIR server the
/// tokens are for (`aud`), the launch context, and the user's FHIR resource
/// when the `fhirUser` scope was granted. Stored as JSON; survives refresh.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SmartGrant {
    pub aud: String,
    #[serde(flatten)]
    pub context: LaunchContext,
    /// A relative reference (`Patient/123`), see [`check_fhir_user`].
    #[serde(default, rename = "fhirUser", skip_serializing_if = "Option::is_none")]
    pub fhir_user: Option<String>,
}

impl SmartGrant {
    /// The launch context parameters of the token response, those that apply.
    pub fn token_response_fields(&self) -> Map<String, Value> {
        match serde_json::to_value(&self.context) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// The absolute URL of the user's FHIR resource (the `fhirUser` claim,
    /// SMART 2.2.0 §"Scopes for requesting identity data"): the base URL the
    /// tokens are for, then the relative reference.
    pub fn fhir_user_url(&self) -> Option<String> {
        self.fhir_user
            .as_ref()
            .map(|r| format!("{}/{r}", self.aud.trim_end_matches('/')))
    }
}

/// A FHIR `id` (FHIR R4 §2.24.0.1 "id"): 1 to 64 of `A-Z a-z 0-9 - .`.
pub fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// A relative reference `Type/id` to a resource of one of `types`.
fn is_reference_to(text: &str, types: Option<&[&str]>) -> bool {
    let Some((t, id)) = text.split_once('/') else {
        return false;
    };
    let type_ok = match types {
        Some(types) => types.contains(&t),
        None => super::scope::is_resource_type(t),
    };
    type_ok && is_fhir_id(id)
}

/// The resource types `fhirUser` may name (SMART 2.2.0 §"Scopes for
/// requesting identity data").
pub const FHIR_USER_TYPES: [&str; 5] = [
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "RelatedPerson",
    "Person",
];

/// A user's FHIR resource as Ward stores it: a relative reference such as
/// `Patient/123` to one of [`FHIR_USER_TYPES`]. Returns why not.
pub fn check_fhir_user(text: &str) -> Result<(), String> {
    if is_reference_to(text, Some(&FHIR_USER_TYPES)) {
        Ok(())
    } else {
        Err(format!(
            "a FHIR user is a relative reference `Type/id` with Type one of {} and a FHIR id \
             (1 to 64 of A-Z a-z 0-9 - .), e.g. `Patient/123`",
            FHIR_USER_TYPES.join(", ")
        ))
    }
}

/// The patient id of a user whose FHIR resource is a Patient.
pub fn patient_of(fhir_user: &str) -> Option<&str> {
    fhir_user
        .strip_prefix("Patient/")
        .filter(|id| is_fhir_id(id))
}

fn short_text(name: &str, v: &str) -> Result<(), String> {
    if v.is_empty() || v.len() > MAX_TEXT || v.chars().any(char::is_control) {
        return Err(format!(
            "{name} must be 1 to {MAX_TEXT} characters, no control characters"
        ));
    }
    Ok(())
}

/// An absolute https URL (http only for a loopback host), no fragment, at
/// most 2,048 characters. Returns why not.
pub fn check_url(name: &str, text: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{name} {why}"));
    if text.len() > MAX_URL {
        return bad("is longer than 2048 characters");
    }
    let Ok(url) = url::Url::parse(text) else {
        return bad("is not an absolute URL");
    };
    let Some(host) = url.host_str() else {
        return bad("has no host");
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        _ => return bad("must use https (http only for a loopback host)"),
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return bad("must have no fragment and no user name or password");
    }
    Ok(())
}

/// `localhost` or a loopback IP address.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A string member of a `fhirContext` item, if present.
fn str_member<'a>(obj: &'a Map<String, Value>, k: &str) -> Result<Option<&'a str>, String> {
    match obj.get(k) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("fhirContext: {k} must be a string")),
    }
}

/// One `fhirContext` item (SMART 2.2.0 §"fhirContext"): an object with a
/// `reference` (relative, `Type/id`), a `canonical` or an `identifier`, and
/// optionally a `type` (a resource type) and a `role`; nothing else.
fn check_context_item(item: &Value) -> Result<(), String> {
    let bad = |why: &str| Err(format!("fhirContext: {why}"));
    let Some(obj) = item.as_object() else {
        return bad("each item must be a JSON object");
    };
    let known = ["reference", "canonical", "identifier", "type", "role"];
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!(
            "fhirContext: unknown member `{k}`; allowed: {}",
            known.join(", ")
        ));
    }
    if !["reference", "canonical", "identifier"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        return bad("each item needs a reference, canonical or identifier");
    }
    if let Some(r) = str_member(obj, "reference")?
        && !is_reference_to(r, None)
    {
        return bad("a reference must be relative, `Type/id`");
    }
    if let Some(c) = str_member(obj, "canonical")? {
        check_url(
            "fhirContext canonical",
            c.split('|').next().unwrap_or_default(),
        )?;
    }
    if obj.get("identifier").is_some_and(|i| !i.is_object()) {
        return bad("an identifier must be an object");
    }
    if let Some(t) = str_member(obj, "type")?
        && !super::scope::is_resource_type(t)
    {
        return bad("type must be a FHIR resource type");
    }
    if let Some(r) = str_member(obj, "role")? {
        short_text("fhirContext role", r)?;
    }
    Ok(())
}

/// The `fhirContext` parameter of a launch: a JSON array of items.
pub fn parse_fhir_context(text: &str) -> Result<Vec<Value>, String> {
    if text.len() > MAX_FHIR_CONTEXT_BYTES {
        return Err("fhirContext is longer than 8 KiB".into());
    }
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Err("fhirContext must be a JSON array of objects".into());
    };
    if items.len() > MAX_FHIR_CONTEXT {
        return Err(format!(
            "fhirContext holds at most {MAX_FHIR_CONTEXT} items"
        ));
    }
    items.iter().try_for_each(check_context_item)?;
    Ok(items)
}

impl LaunchContext {
    /// Every field checked: FHIR ids, the `fhirContext` items, the intent, the
    /// style URL. Returns why not.
    pub fn check(&self) -> Result<(), String> {
        for (name, id) in [("patient", &self.patient), ("encounter", &self.encounter)] {
            if id.as_deref().is_some_and(|i| !is_fhir_id(i)) {
                return Err(format!(
                    "{name} must be a FHIR id (1 to 64 of A-Z a-z 0-9 - .), not a reference"
                ));
            }
        }
        self.fhir_context.iter().try_for_each(check_context_item)?;
        if let Some(i) = &self.intent {
            short_text("intent", i)?;
        }
        if let Some(u) = &self.smart_style_url {
            check_url("smart_style_url", u)?;
        }
        Ok(())
    }
}

/// Why a presented `launch` value is refused (always `invalid_request`,
/// SMART 2.2.0 §"Authorization request" with RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchRefusal {
    Unknown,
    Expired,
    Used,
    OtherClient,
    OtherTenant,
}

impl LaunchRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "launch_unknown",
            Self::Expired => "launch_expired",
            Self::Used => "launch_used",
            Self::OtherClient => "launch_other_client",
            Self::OtherTenant => "launch_other_tenant",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Unknown => "the launch is unknown",
            Self::Expired => "the launch has expired; launch the app from the EHR again",
            Self::Used => "the launch was already used; launch the app from the EHR again",
            Self::OtherClient => "the launch was made for another app",
            Self::OtherTenant => "the launch was made for another organisation than the aud's",
        }
    }
}

/// What a stored launch is bound to.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchBinding<'a> {
    pub tenant: &'a str,
    pub client_id: &'a ClientId,
    pub expires_at: i64,
    pub used: bool,
}

/// Whether the launch may be used by `client_id` for a FHIR server of
/// `tenant` at `now` (Unix ms): bound to that app and tenant, unused,
/// unexpired. The binding is checked before use, so that a launch presented
/// by the wrong app is not burnt for the right one.
pub fn check_binding(
    b: &LaunchBinding<'_>,
    client_id: &ClientId,
    tenant: &str,
    now: i64,
) -> Result<(), LaunchRefusal> {
    if b.client_id != client_id {
        Err(LaunchRefusal::OtherClient)
    } else if b.tenant != tenant {
        Err(LaunchRefusal::OtherTenant)
    } else if b.used {
        Err(LaunchRefusal::Used)
    } else if b.expires_at <= now {
        Err(LaunchRefusal::Expired)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fhir_users_are_relative_references_to_people() {
        assert!(check_fhir_user("Patient/123").is_ok());
        assert!(check_fhir_user("Practitioner/a-b.c").is_ok());
        for bad in [
            "Patient/",
            "Patient",
            "Observation/1",
            "patient/1",
            "https://fhir.example/Patient/1",
            "Patient/1/_history/2",
            "Patient/a b",
            &format!("Patient/{}", "x".repeat(65)),
        ] {
            assert!(check_fhir_user(bad).is_err(), "{bad}");
        }
        assert_eq!(patient_of("Patient/123"), Some("123"));
        assert_eq!(patient_of("Practitioner/9"), None);
    }

    #[test]
    fn fhir_context_items_follow_the_guide() {
        let ok = r#"[{"reference":"Appointment/123"},{"canonical":"https://x.example/Q|1","type":"Questionnaire"},{"identifier":{"value":"a"},"role":"https://example.org/role"}]"#;
        assert_eq!(parse_fhir_context(ok).unwrap().len(), 3);
        for bad in [
            "{}",
            "not json",
            "[1]",
            r#"[{"type":"Patient"}]"#,
            r#"[{"reference":"https://fhir.example/Patient/1"}]"#,
            r#"[{"reference":"Patient/1","extra":1}]"#,
            r#"[{"reference":"Patient/1","type":"patient"}]"#,
            r#"[{"identifier":"x"}]"#,
        ] {
            assert!(parse_fhir_context(bad).is_err(), "{bad}");
        }
        let many = serde_json::to_string(&vec![json!({"reference":"Patient/1"}); 21]).unwrap();
        assert!(parse_fhir_context(&many).is_err());
    }

    #[test]
    fn the_context_checks_ids_intent_and_style() {
        let mut c = LaunchContext {
            patient: Some("123".into()),
            encounter: Some("e-1".into()),
            intent: Some("reconcile-medications".into()),
            smart_style_url: Some("https://ehr.example/style.json".into()),
            need_patient_banner: Some(false),
            ..LaunchContext::default()
        };
        assert!(c.check().is_ok());
        c.patient = Some("Patient/123".into());
        assert!(c.check().unwrap_err().contains("FHIR id"));
        c.patient = Some("123".into());
        c.smart_style_url = Some("http://ehr.example/style.json".into());
        assert!(c.check().unwrap_err().contains("https"));
        c.smart_style_url = None;
        c.intent = Some("a\nb".into());
        assert!(c.check().is_err());
    }

    #[test]
    fn the_token_response_carries_only_what_applies() {
        let g = SmartGrant {
            aud: "https://fhir.example/r4".into(),
            context: LaunchContext {
                patient: Some("123".into()),
                need_patient_banner: Some(true),
                ..LaunchContext::default()
            },
            fhir_user: Some("Practitioner/9".into()),
        };
        let fields = g.token_response_fields();
        assert_eq!(
            Value::Object(fields),
            json!({"patient": "123", "need_patient_banner": true})
        );
        assert_eq!(
            g.fhir_user_url().unwrap(),
            "https://fhir.example/r4/Practitioner/9"
        );
        // Stored and read back unchanged.
        let text = serde_json::to_string(&g).unwrap();
        assert_eq!(serde_json::from_str::<SmartGrant>(&text).unwrap(), g);
    }

    #[test]
    fn a_launch_is_bound_to_app_tenant_time_and_one_use() {
        let app = ClientId::parse("app").unwrap();
        let other = ClientId::parse("other").unwrap();
        let b = LaunchBinding {
            tenant: "st-mary",
            client_id: &app,
            expires_at: 1_000,
            used: false,
        };
        assert_eq!(check_binding(&b, &app, "st-mary", 999), Ok(()));
        assert_eq!(
            check_binding(&b, &other, "st-mary", 999),
            Err(LaunchRefusal::OtherClient)
        );
        assert_eq!(
            check_binding(&b, &app, "elsewhere", 999),
            Err(LaunchRefusal::OtherTenant)
        );
        assert_eq!(
            check_binding(&b, &app, "st-mary", 1_000),
            Err(LaunchRefusal::Expired)
        );
        let used = LaunchBinding { used: true, ..b };
        assert_eq!(
            check_binding(&used, &app, "st-mary", 1),
            Err(LaunchRefusal::Used)
        );
    }
}
