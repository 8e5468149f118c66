//! The standalone launch's pickers, pure (SMART App Launch 2.2.0 §"Standalone
//! Launch": a staff member's app asks for `launch/patient` or
//! `launch/encounter` and the authorization server lets the user choose).
//! What a person may type into the patient search, the FHIR search URL it
//! becomes, and the candidates read out of the FHIR server's search Bundle.
//! The HTTP call, the token Ward mints for it and the audit records are in
//! `oidc::smart_picker`; docs/smart.md, "Standalone launch".

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::launch::is_fhir_id;

/// The longest name a person may search for, in characters.
pub const MAX_SEARCH_CHARS: usize = 100;
/// The most candidates shown: a longer list is cut, and the page asks for a
/// more precise name.
pub const MAX_CANDIDATES: usize = 50;
/// The longest text taken from one field of a resource (a name, a type).
const MAX_FIELD_CHARS: usize = 200;

/// What the picker chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pick {
    Patient,
    Encounter,
}

impl Pick {
    /// The FHIR resource type searched.
    pub fn resource_type(self) -> &'static str {
        match self {
            Pick::Patient => "Patient",
            Pick::Encounter => "Encounter",
        }
    }

    /// The `system/` scope of the token Ward mints for its search.
    pub fn scope(self) -> &'static str {
        match self {
            Pick::Patient => "system/Patient.rs",
            Pick::Encounter => "system/Encounter.rs",
        }
    }

    /// The URL path segment of the picker's pages (`/picker/patient`).
    pub fn as_str(self) -> &'static str {
        match self {
            Pick::Patient => "patient",
            Pick::Encounter => "encounter",
        }
    }

    pub fn parse(text: &str) -> Option<Pick> {
        match text {
            "patient" => Some(Pick::Patient),
            "encounter" => Some(Pick::Encounter),
            _ => None,
        }
    }
}

/// The name typed into the patient search, checked: 2 to
/// [`MAX_SEARCH_CHARS`] characters of letters (any script), spaces, hyphens,
/// apostrophes and full stops, the characters of people's names. Anything
/// else (`&`, `#`, `?`, quotes, `<`, control characters such as CR and LF)
/// is refused with a message for the person rather than quietly dropped, so
/// the search is never for something other than what they see. What passes
/// is still percent-encoded into the URL ([`search_url`]).
pub fn check_search(text: &str) -> Result<&str, &'static str> {
    let text = text.trim();
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err("Use at most 100 characters.");
    }
    if text.chars().count() < 2 {
        return Err("Type at least 2 letters of the patient's name.");
    }
    let allowed = |c: char| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '\u{2019}' | '.');
    if !text.chars().all(allowed) {
        return Err("Use only letters, spaces, hyphens, apostrophes and full stops.");
    }
    Ok(text)
}

/// `GET [base]/{type}?name=value…`: each value percent-encoded (a space as
/// `%20`), so that nothing typed can add a parameter or end the query.
pub fn search_url(base: &str, resource_type: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    format!("{base}/{resource_type}?{}", query.join("&"))
}

fn encode(text: &str) -> String {
    // form_urlencoded writes a space as `+` and a `+` as `%2B`: every `+`
    // left is a space, which `%20` says in any query syntax.
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// One resource the person may choose: its FHIR id, what the page shows as
/// its name, and the details that tell two alike apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub id: String,
    pub title: String,
    pub details: String,
}

/// The candidates of a FHIR search Bundle, and whether the list was cut.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidates {
    pub items: Vec<Candidate>,
    pub more: bool,
}

/// Why a search answer was not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the answer is not a FHIR searchset Bundle")]
pub struct NotABundle;

/// The candidates in `bundle` (a FHIR searchset Bundle) of the picked type.
/// Entries of another type (`_include`d resources, OperationOutcomes) and
/// resources without a valid FHIR id are left out: an id Ward cannot check
/// is never offered.
pub fn candidates(pick: Pick, bundle: &Value) -> Result<Candidates, NotABundle> {
    if bundle["resourceType"] != "Bundle" {
        return Err(NotABundle);
    }
    let entries = match &bundle["entry"] {
        Value::Null => &[][..],
        Value::Array(list) => list.as_slice(),
        _ => return Err(NotABundle),
    };
    let mut items: Vec<Candidate> = entries
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == pick.resource_type())
        .filter_map(|r| candidate(pick, r))
        .collect();
    items.dedup_by(|a, b| a.id == b.id);
    let more = items.len() > MAX_CANDIDATES;
    items.truncate(MAX_CANDIDATES);
    Ok(Candidates { items, more })
}

fn candidate(pick: Pick, resource: &Value) -> Option<Candidate> {
    let id = resource["id"].as_str().filter(|id| is_fhir_id(id))?;
    let (title, details) = match pick {
        Pick::Patient => (patient_name(resource), patient_details(resource)),
        Pick::Encounter => (encounter_title(resource), encounter_details(resource)),
    };
    Some(Candidate {
        id: id.to_string(),
        title: title.unwrap_or_else(|| format!("{} {id}", pick.resource_type())),
        details,
    })
}

fn field(value: &Value) -> Option<String> {
    let text = value.as_str()?.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_FIELD_CHARS).collect())
}

/// The first HumanName: its text, else given names and family name.
fn patient_name(resource: &Value) -> Option<String> {
    let name = resource["name"].as_array()?.first()?;
    if let Some(text) = field(&name["text"]) {
        return Some(text);
    }
    let given = name["given"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(field);
    let parts: Vec<String> = given.chain(field(&name["family"])).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn patient_details(resource: &Value) -> String {
    let mut out = Vec::new();
    if let Some(born) = field(&resource["birthDate"]) {
        out.push(format!("born {born}"));
    }
    if let Some(gender) = field(&resource["gender"]) {
        out.push(gender);
    }
    out.push(format!(
        "id {}",
        resource["id"].as_str().unwrap_or_default()
    ));
    out.join(", ")
}

/// An Encounter's type (its text, else its first coding's display), else its class.
fn encounter_title(resource: &Value) -> Option<String> {
    let kind = resource["type"].as_array().and_then(|t| t.first());
    kind.and_then(|k| field(&k["text"]).or_else(|| field(&k["coding"][0]["display"])))
        .or_else(|| field(&resource["class"]["display"]))
        .or_else(|| field(&resource["class"]["code"]))
}

fn encounter_details(resource: &Value) -> String {
    let mut out = Vec::new();
    match (
        field(&resource["period"]["start"]),
        field(&resource["period"]["end"]),
    ) {
        (Some(start), Some(end)) => out.push(format!("from {start} to {end}")),
        (Some(start), None) => out.push(format!("since {start}")),
        _ => {}
    }
    if let Some(status) = field(&resource["status"]) {
        out.push(status);
    }
    out.push(format!(
        "id {}",
        resource["id"].as_str().unwrap_or_default()
    ));
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_pass_and_injection_characters_do_not() {
        assert_eq!(check_search("  Okafor "), Ok("Okafor"));
        assert_eq!(check_search("O'Brien-Smith Jr."), Ok("O'Brien-Smith Jr."));
        assert_eq!(check_search("Lindqvist Åsa"), Ok("Lindqvist Åsa"));
        for bad in [
            "ada&_id=ben",
            "ada#x",
            "ada?x",
            "\"ada\"",
            "<script>alert(1)</script>",
            "ada\r\nX-Injected: 1",
            "ada%26",
            "a",
            "",
        ] {
            assert!(check_search(bad).is_err(), "{bad:?} passed");
        }
        assert!(check_search(&"a".repeat(101)).is_err());
        assert!(check_search(&"a".repeat(100)).is_ok());
    }

    #[test]
    fn search_values_are_percent_encoded() {
        assert_eq!(
            search_url("http://f/r4", "Patient", &[("name", "O'Brien Smith")]),
            "http://f/r4/Patient?name=O%27Brien%20Smith"
        );
        assert_eq!(
            search_url("http://f/r4", "Patient", &[("name", "a&b=c#d+e")]),
            "http://f/r4/Patient?name=a%26b%3Dc%23d%2Be"
        );
        assert_eq!(
            search_url("http://f", "Encounter", &[("patient", "ada")]),
            "http://f/Encounter?patient=ada"
        );
    }

    #[test]
    fn a_bundle_becomes_candidates_with_valid_ids_only() {
        let bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {"resourceType": "Patient", "id": "ada",
                "name": [{"family": "Okafor", "given": ["Ada"]}],
                "birthDate": "1984-03-12", "gender": "female"}},
            {"resource": {"resourceType": "Patient", "id": "bad id/../x", "name": [{"text": "X"}]}},
            {"resource": {"resourceType": "Observation", "id": "obs-1"}},
            {"resource": {"resourceType": "Patient", "id": "nameless"}},
        ]});
        let found = candidates(Pick::Patient, &bundle).unwrap();
        assert!(!found.more);
        assert_eq!(
            found.items,
            [
                Candidate {
                    id: "ada".into(),
                    title: "Ada Okafor".into(),
                    details: "born 1984-03-12, female, id ada".into(),
                },
                Candidate {
                    id: "nameless".into(),
                    title: "Patient nameless".into(),
                    details: "id nameless".into(),
                },
            ]
        );
        assert_eq!(
            candidates(Pick::Patient, &json!({"resourceType": "Bundle"})),
            Ok(Candidates {
                items: vec![],
                more: false
            })
        );
        assert_eq!(
            candidates(Pick::Patient, &json!({"resourceType": "OperationOutcome"})),
            Err(NotABundle)
        );
        assert_eq!(
            candidates(
                Pick::Patient,
                &json!({"resourceType": "Bundle", "entry": 3})
            ),
            Err(NotABundle)
        );
    }

    #[test]
    fn encounters_show_type_period_and_status_and_long_lists_are_cut() {
        let e = json!({"resourceType": "Encounter", "id": "enc-1", "status": "finished",
            "class": {"code": "AMB", "display": "ambulatory"},
            "type": [{"text": "Outpatient visit"}],
            "period": {"start": "2026-11-02T09:00:00Z", "end": "2026-11-02T09:30:00Z"}});
        let one = candidates(
            Pick::Encounter,
            &json!({"resourceType": "Bundle", "entry": [{"resource": e}]}),
        )
        .unwrap();
        assert_eq!(one.items[0].title, "Outpatient visit");
        assert_eq!(
            one.items[0].details,
            "from 2026-11-02T09:00:00Z to 2026-11-02T09:30:00Z, finished, id enc-1"
        );
        let many: Vec<Value> = (0..60)
            .map(|i| json!({"resource": {"resourceType": "Patient", "id": format!("p{i}")}}))
            .collect();
        let cut = candidates(
            Pick::Patient,
            &json!({"resourceType": "Bundle", "entry": many}),
        )
        .unwrap();
        assert_eq!((cut.items.len(), cut.more), (MAX_CANDIDATES, true));
    }
}
