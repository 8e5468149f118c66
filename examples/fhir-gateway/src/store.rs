//! The gateway's resources: a fixed set of synthetic FHIR resources read from
//! a JSON file (an array of resources), with the few searches the example
//! needs. A real deployment puts its FHIR server here instead.

use std::sync::RwLock;

use serde_json::Value;

/// Why a search was refused (FHIR: 400 with an OperationOutcome).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("search parameter {0:?} is not supported by this server")]
    Unsupported(String),
}

pub struct Store {
    resources: RwLock<Vec<Value>>,
}

impl Store {
    pub fn new(resources: Vec<Value>) -> Store {
        Store {
            resources: RwLock::new(resources),
        }
    }

    pub fn read(&self, resource_type: &str, id: &str) -> Option<Value> {
        self.all()
            .into_iter()
            .find(|r| r["resourceType"] == resource_type && r["id"] == id)
    }

    /// The resources of `resource_type` matching every parameter. Supported:
    /// `_id`, `patient` and `subject` (`123` or `Patient/123`), `name` (Patient;
    /// a case-insensitive part of a name), `category` and `code` (`code` or
    /// `system|code`). Anything else is refused rather than ignored, so that a
    /// client never takes an unfiltered answer for a filtered one.
    pub fn search(
        &self,
        resource_type: &str,
        params: &[(String, String)],
    ) -> Result<Vec<Value>, SearchError> {
        for (name, _) in params {
            if !["_id", "patient", "subject", "name", "category", "code"].contains(&name.as_str()) {
                return Err(SearchError::Unsupported(name.clone()));
            }
        }
        Ok(self
            .all()
            .into_iter()
            .filter(|r| r["resourceType"] == resource_type)
            .filter(|r| params.iter().all(|(k, v)| matches(r, k, v)))
            .collect())
    }

    /// Store a new resource under a fresh id; returns it as stored.
    pub fn create(&self, mut resource: Value) -> Value {
        let mut all = self.resources.write().unwrap_or_else(|e| e.into_inner());
        resource["id"] = Value::String(format!("new-{}", all.len() + 1));
        all.push(resource.clone());
        resource
    }

    fn all(&self) -> Vec<Value> {
        self.resources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The patient whose compartment `resource` belongs to: a Patient's own id,
/// or the patient its `subject`, `patient` or (Appointment) participant
/// `actor` reference names. A simplification of FHIR's compartment
/// definitions, enough for the example's resource types.
pub fn patient_of(resource: &Value) -> Option<String> {
    if resource["resourceType"] == "Patient" {
        return resource["id"].as_str().map(str::to_owned);
    }
    let actors = resource["participant"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| &p["actor"]);
    [&resource["subject"], &resource["patient"]]
        .into_iter()
        .chain(actors)
        .filter_map(|r| r["reference"].as_str())
        .find_map(|r| r.strip_prefix("Patient/"))
        .map(str::to_owned)
}

fn matches(resource: &Value, name: &str, value: &str) -> bool {
    match name {
        "_id" => resource["id"] == value,
        "patient" | "subject" => {
            let wanted = value.strip_prefix("Patient/").unwrap_or(value);
            patient_of(resource).as_deref() == Some(wanted)
        }
        "name" => names(resource).any(|n| n.to_lowercase().contains(&value.to_lowercase())),
        _ => codes(&resource[name]).any(|(system, code)| match value.split_once('|') {
            Some((s, c)) => s == system && c == code,
            None => value == code,
        }),
    }
}

fn names(resource: &Value) -> impl Iterator<Item = &str> {
    resource["name"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|n| {
            let given = n["given"].as_array().into_iter().flatten();
            given
                .chain(std::iter::once(&n["family"]))
                .chain(std::iter::once(&n["text"]))
                .filter_map(Value::as_str)
        })
}

/// The (system, code) pairs of a CodeableConcept or a list of them.
fn codes(field: &Value) -> impl Iterator<Item = (&str, &str)> {
    let concepts: Vec<&Value> = match field {
        Value::Array(list) => list.iter().collect(),
        other => vec![other],
    };
    concepts.into_iter().flat_map(|c| {
        c["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|coding| {
                Some((
                    coding["system"].as_str().unwrap_or_default(),
                    coding["code"].as_str()?,
                ))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> Store {
        Store::new(vec![
            json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "Okafor", "given": ["Ada"]}]}),
            json!({"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient/p1"},
                   "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}]}),
            json!({"resourceType": "Observation", "id": "o2", "subject": {"reference": "Patient/p2"}}),
        ])
    }

    fn p(k: &str, v: &str) -> Vec<(String, String)> {
        vec![(k.to_owned(), v.to_owned())]
    }

    #[test]
    fn searches_filter_by_patient_name_and_category() {
        let s = store();
        assert_eq!(
            s.search("Observation", &p("patient", "Patient/p1"))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(s.search("Patient", &p("name", "oKa")).unwrap().len(), 1);
        assert_eq!(
            s.search("Observation", &p("category", "laboratory"))
                .unwrap()
                .len(),
            1
        );
        let lab = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
        assert_eq!(
            s.search("Observation", &p("category", lab)).unwrap().len(),
            1
        );
        assert_eq!(
            s.search("Patient", &p("name' OR 1=1 --", "x")),
            Err(SearchError::Unsupported("name' OR 1=1 --".into()))
        );
        assert!(
            s.search("Patient", &p("name", "' OR 1=1 --"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn the_compartment_is_the_patient_or_the_subject() {
        let s = store();
        assert_eq!(
            patient_of(&s.read("Patient", "p1").unwrap()).as_deref(),
            Some("p1")
        );
        assert_eq!(
            patient_of(&s.read("Observation", "o2").unwrap()).as_deref(),
            Some("p2")
        );
    }

    /// The shipped data serves what Ward's pickers ask for: patients by part
    /// of a name, any case, and a patient's encounters.
    #[test]
    fn the_shipped_data_serves_the_pickers_searches() {
        let text = include_str!("../data/resources.json");
        let s = Store::new(serde_json::from_str(text).unwrap());
        let ids = |t: &str, k: &str, v: &str| -> Vec<String> {
            s.search(t, &p(k, v))
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(ids("Patient", "name", "OKAF"), ["ada"]);
        assert_eq!(ids("Patient", "name", "ben"), ["ben"]);
        assert_eq!(ids("Encounter", "patient", "ada"), ["enc-1", "enc-2"]);
        assert_eq!(ids("Encounter", "patient", "Patient/ben"), ["enc-3"]);
        assert!(ids("Encounter", "patient", "chen").is_empty());
    }
}
