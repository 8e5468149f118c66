//! What a SMART request is granted: the intersection of what the client may
//! request (its registered scopes, which may use wildcards), what the subject
//! may do under the policy, and, at the consent page, what the person approved.
//!
//! SMART App Launch 2.2.0 §"Scopes and Launch Context": the server may grant a
//! subset of what was asked, and the token response's `scope` says exactly
//! what was granted. Ward never grants more than any one of the three allows.

use super::scope::{ClinicalScope, Permissions, Resource, Scope, is_resource_type};

/// What the policy lets a subject (a user in a tenant, or a backend client)
/// do to FHIR resources: the Casbin objects `fhir:<Type>` with the actions
/// `c r u d s`.
pub trait FhirPolicy {
    /// The actions of `cruds` allowed on `fhir:<resource>`.
    fn permissions_on(&self, resource: &str) -> Permissions;
    /// Every resource type the policy names for this subject.
    fn resource_types(&self) -> Vec<String>;
}

/// A policy given as `(resource, letters)` pairs, e.g. from the Casbin
/// permissions `fhir:Observation:r`.
#[derive(Debug, Default, Clone)]
pub struct Listed(pub Vec<(String, Permissions)>);

impl Listed {
    /// Reads the `object:action` permission strings the claims use, keeping the
    /// `fhir:` ones whose action is a single `cruds` letter.
    pub fn from_permissions<'a>(permissions: impl IntoIterator<Item = &'a str>) -> Listed {
        let mut out: Vec<(String, Permissions)> = Vec::new();
        for p in permissions {
            let Some(rest) = p.strip_prefix("fhir:") else {
                continue;
            };
            let Some((resource, action)) = rest.rsplit_once(':') else {
                continue;
            };
            if !is_resource_type(resource) {
                continue;
            }
            let Some(letter) = single_letter(action) else {
                continue;
            };
            let bits = Permissions::from_letters([letter]);
            match out.iter_mut().find(|(r, _)| r == resource) {
                Some((_, have)) => {
                    *have = Permissions::from_letters(have.letters().chain([letter]))
                }
                None => out.push((resource.to_owned(), bits)),
            }
        }
        Listed(out)
    }
}

fn single_letter(action: &str) -> Option<char> {
    let mut chars = action.chars();
    let c = chars.next()?;
    (chars.next().is_none() && Permissions::LETTERS.contains(&c)).then_some(c)
}

impl FhirPolicy for Listed {
    fn permissions_on(&self, resource: &str) -> Permissions {
        self.0
            .iter()
            .find(|(r, _)| r == resource)
            .map_or(Permissions::NONE, |(_, p)| *p)
    }

    fn resource_types(&self) -> Vec<String> {
        self.0.iter().map(|(r, _)| r.clone()).collect()
    }
}

/// The part of one requested clinical scope the client's registration allows:
/// the registered scope that leaves the most permissions.
pub fn client_allows(requested: &ClinicalScope, registered: &[Scope]) -> Option<ClinicalScope> {
    registered
        .iter()
        .filter_map(|r| match r {
            Scope::Clinical(allowed) => requested.within(allowed),
            _ => None,
        })
        .max_by_key(|c| c.permissions.letters().count())
}

/// The part of a clinical scope the policy allows. Ward's policy has no
/// wildcards (policies/model.conf), so a `*` scope becomes one scope per
/// resource type the policy names, each with the actions it allows: a
/// wildcard is never granted on the strength of a few types.
pub fn policy_allows(scope: &ClinicalScope, policy: &dyn FhirPolicy) -> Vec<ClinicalScope> {
    let types = match &scope.resource {
        Resource::Type(t) => vec![t.clone()],
        Resource::Any => policy.resource_types(),
    };
    let mut out: Vec<ClinicalScope> = Vec::new();
    for t in types {
        let p = scope.permissions.intersect(policy.permissions_on(&t));
        if p.is_empty() {
            continue;
        }
        let mut one = scope.with_permissions(p);
        one.resource = Resource::Type(t);
        if !out.contains(&one) {
            out.push(one);
        }
    }
    out
}

/// The clinical scopes granted for a request: each requested one, narrowed by
/// the client's registration and then by the policy. Non-clinical scopes are
/// not decided here and are dropped from the result.
pub fn clinical_grant(
    requested: &[Scope],
    registered: &[Scope],
    policy: &dyn FhirPolicy,
) -> Vec<ClinicalScope> {
    let mut out: Vec<ClinicalScope> = Vec::new();
    for scope in requested {
        let Scope::Clinical(c) = scope else { continue };
        let Some(by_client) = client_allows(c, registered) else {
            continue;
        };
        for granted in policy_allows(&by_client, policy) {
            if !out.contains(&granted) {
                out.push(granted);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smart::scope::{parse, parse_all};

    fn nurse() -> Listed {
        Listed::from_permissions([
            "fhir:Observation:r",
            "fhir:Observation:s",
            "fhir:Observation:c",
            "fhir:Patient:r",
            "ehr:read",
            "fhir:Patient:rs",
        ])
    }

    fn granted(requested: &str, registered: &str, policy: &dyn FhirPolicy) -> String {
        let g = clinical_grant(
            &parse_all(requested).unwrap(),
            &parse_all(registered).unwrap(),
            policy,
        );
        g.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn fhir_permissions_are_read_from_the_claims_strings() {
        let p = nurse();
        assert_eq!(p.permissions_on("Observation").to_string(), "crs");
        // `rs` is not a single action: ignored, as is a non-FHIR permission.
        assert_eq!(p.permissions_on("Patient").to_string(), "r");
        assert_eq!(p.permissions_on("Appointment"), Permissions::NONE);
        assert_eq!(p.resource_types(), vec!["Observation", "Patient"]);
    }

    #[test]
    fn the_grant_is_the_intersection_of_client_policy_and_request() {
        let p = nurse();
        // The client may read and search anything; the nurse may also create
        // Observations, but the client did not register that.
        assert_eq!(
            granted("user/Observation.cruds", "user/*.rs", &p),
            "user/Observation.rs"
        );
        // The client registered writes, the policy allows only create.
        assert_eq!(
            granted("user/Observation.cud", "user/*.cruds", &p),
            "user/Observation.c"
        );
        // A wildcard request becomes the types the policy names.
        assert_eq!(
            granted("user/*.rs", "user/*.cruds", &p),
            "user/Observation.rs user/Patient.r"
        );
        // Nothing the policy allows: nothing granted.
        assert_eq!(granted("user/Appointment.rs", "user/*.rs", &p), "");
        // Outside the registration's compartment: nothing.
        assert_eq!(granted("patient/Observation.rs", "user/*.rs", &p), "");
        // Non-clinical scopes are not decided here.
        assert_eq!(granted("openid launch", "user/*.rs", &p), "");
    }

    #[test]
    fn a_wildcard_is_never_granted_whole() {
        // Even a policy naming every type a client asks for yields named types.
        let p = Listed::from_permissions(["fhir:Patient:r", "fhir:Patient:s"]);
        assert_eq!(
            granted("system/*.rs", "system/*.rs", &p),
            "system/Patient.rs"
        );
        // `fhir:*` is no wildcard to the policy: a resource type must be a name.
        let star = Listed::from_permissions(["fhir:*:r"]);
        assert_eq!(granted("system/*.rs", "system/*.rs", &star), "");
    }

    #[test]
    fn v1_requests_keep_their_spelling_when_granted_whole() {
        let p = Listed::from_permissions(["fhir:Observation:r", "fhir:Observation:s"]);
        assert_eq!(
            granted("patient/*.read", "patient/*.read", &p),
            "patient/Observation.read"
        );
        assert_eq!(
            granted("patient/Observation.read", "patient/*.rs", &p),
            "patient/Observation.read"
        );
        let only_read = Listed::from_permissions(["fhir:Observation:r"]);
        assert_eq!(
            granted("patient/Observation.read", "patient/*.rs", &only_read),
            "patient/Observation.r"
        );
    }

    #[test]
    fn client_allows_picks_the_widest_registration() {
        let registered = parse_all("user/Observation.r user/*.rs").unwrap();
        let Scope::Clinical(c) = parse("user/Observation.rs").unwrap() else {
            unreachable!()
        };
        assert_eq!(
            client_allows(&c, &registered).unwrap().to_string(),
            "user/Observation.rs"
        );
    }
}
