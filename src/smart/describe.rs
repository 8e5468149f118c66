//! SMART scopes in plain language, for the consent page. SMART App Launch
//! 2.2.0 §"Scopes and Launch Context" leaves the wording to the
//! authorization server but says the user "may grant a subset" of what the
//! app asks for: [`deselectable`] says which scopes the page offers to drop.

use super::scope::{ClinicalScope, Compartment, Permissions, Resource, Scope};

/// The sentence the consent page shows for `scope`, or None when the scope is
/// not one of SMART's (the caller describes OpenID and API scopes).
pub fn describe(scope: &Scope) -> Option<String> {
    Some(match scope {
        Scope::Clinical(c) => describe_clinical(c),
        Scope::Launch => {
            "Open with the patient and visit your health record system has selected".into()
        }
        Scope::LaunchPatient => "Know which patient record you are working with".into(),
        Scope::LaunchEncounter => "Know which visit (encounter) you are working with".into(),
        Scope::FhirUser => "Know who you are in the health record (your FHIR user link)".into(),
        Scope::OnlineAccess => "Stay connected while you are signed in".into(),
        Scope::OpenId | Scope::Profile | Scope::OfflineAccess | Scope::Other(_) => return None,
    })
}

/// Whether the person may approve the request without this scope. Only the
/// clinical data scopes are offered: leaving out `openid` or the launch
/// context would leave the app unable to work at all, which "Do not allow"
/// already expresses.
pub fn deselectable(scope: &Scope) -> bool {
    matches!(scope, Scope::Clinical(_))
}

fn describe_clinical(c: &ClinicalScope) -> String {
    let whose = match c.compartment {
        Compartment::Patient => "the selected patient's",
        Compartment::User => "the",
        Compartment::System => "all",
    };
    let what = match &c.resource {
        Resource::Any => "health records of every kind".to_owned(),
        Resource::Type(t) => plural_words(t),
    };
    let tail = match c.compartment {
        Compartment::User => " that you are allowed to see",
        _ => "",
    };
    let mut text = format!("{} {whose} {what}{tail}", verbs(c.permissions));
    if !c.query.is_empty() {
        let only: Vec<String> = c.query.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        text.push_str(&format!(" (only where {})", only.join(" and ")));
    }
    text
}

/// "Read and search", "Create, read and update"…
fn verbs(p: Permissions) -> String {
    let words: Vec<&str> = p
        .letters()
        .map(|l| match l {
            'c' => "create",
            'r' => "read",
            'u' => "update",
            'd' => "delete",
            _ => "search",
        })
        .collect();
    let mut text = match words.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    text
}

/// A FHIR resource type as words: `MedicationRequest` → "medication requests".
fn plural_words(resource_type: &str) -> String {
    let mut words = String::new();
    for (i, ch) in resource_type.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(ch.to_ascii_lowercase());
    }
    if words.ends_with('s') || words.ends_with('y') {
        // "family member history", not "historys": the singular reads well enough.
        words
    } else {
        words + "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smart::scope::parse;

    fn text(s: &str) -> String {
        describe(&parse(s).unwrap()).unwrap()
    }

    #[test]
    fn clinical_scopes_read_as_sentences() {
        assert_eq!(
            text("patient/Observation.rs"),
            "Read and search the selected patient's observations"
        );
        assert_eq!(
            text("user/MedicationRequest.cru"),
            "Create, read and update the medication requests that you are allowed to see"
        );
        assert_eq!(
            text("patient/*.read"),
            "Read and search the selected patient's health records of every kind"
        );
        assert_eq!(
            text("patient/Observation.rs?category=laboratory"),
            "Read and search the selected patient's observations (only where category = laboratory)"
        );
    }

    #[test]
    fn only_clinical_scopes_may_be_left_out() {
        assert!(deselectable(&parse("user/Patient.r").unwrap()));
        for s in [
            "openid",
            "launch",
            "launch/patient",
            "fhirUser",
            "offline_access",
            "api",
        ] {
            assert!(!deselectable(&parse(s).unwrap()), "{s}");
        }
        assert!(describe(&parse("openid").unwrap()).is_none());
        assert!(describe(&parse("api:read").unwrap()).is_none());
    }
}
