//! SMART on FHIR clinical scopes (`user/Observation.rs`) at the protocol's
//! three checkpoints: client registration, the authorization request, and
//! every token issued for a user. The grammar and the intersections live in
//! `crate::smart`; this module applies them to clients and the policy.
//!
//! What Ward grants today (docs/smart.md): `user/` and `patient/` scopes, as
//! far as the client's registration and the user's roles in the chosen
//! tenant allow; and `system/` scopes to backend clients at
//! client_credentials (SMART Backend Services), as far as the registration
//! and the client's own roles in its registered tenant allow. `patient/`
//! scopes need a patient launch context, which the guide makes a SHALL
//! ("When granting patient-level scopes ... the server SHALL provide a
//! `patient` launch context parameter"): without a patient they are never
//! granted (`oidc::smart_launch` refuses such a request).

use crate::smart::grant::{self, Listed};
use crate::smart::{ClinicalScope, Compartment, Scope, scope};

use super::Provider;
use crate::domain::records::Client;

/// Why a client may not be registered for `token`: a malformed FHIR scope,
/// or a compartment Ward does not grant yet. `None` when it may.
pub fn registration_refusal(token: &str) -> Option<String> {
    match scope::parse(token) {
        Err(e) => Some(e.to_string()),
        Ok(_) => None,
    }
}

/// Whether `token` is a well-formed `system/` scope (SMART Backend Services).
pub fn is_system(token: &str) -> bool {
    matches!(scope::parse(token), Ok(Scope::Clinical(c)) if c.compartment == Compartment::System)
}

/// Whether `token` is a clinical scope (`patient/`, `user/` or `system/`).
pub fn is_clinical(token: &str) -> bool {
    matches!(scope::parse(token), Ok(Scope::Clinical(_)) | Err(_))
}

/// The clinical scopes a client is registered for, parsed.
fn registered(scopes: &[String]) -> Vec<Scope> {
    scopes
        .iter()
        .filter_map(|s| match scope::parse(s) {
            Ok(c @ Scope::Clinical(_)) => Some(c),
            _ => None,
        })
        .collect()
}

/// RFC 6749 §3.3 for a requested clinical scope: it must parse (else
/// `invalid_scope`) and fall within one of the client's registered scopes,
/// which may use wildcards; it is narrowed to what that registration allows
/// (the token response's `scope` shows the narrowing).
pub fn within_registration(token: &str, client_scopes: &[String]) -> Result<String, String> {
    let requested = match scope::parse(token).map_err(|e| e.to_string())? {
        Scope::Clinical(c) => c,
        other => return Ok(other.to_string()),
    };
    grant::client_allows(&requested, &registered(client_scopes))
        .map(|c| c.to_string())
        .ok_or_else(|| format!("scope `{token}` is not allowed for this client"))
}

/// The scopes a user's token carries: the granted scope with each clinical
/// scope narrowed by the user's roles in `tenant` as the policy is now, so a
/// refresh re-evaluates (as the roles claims do). Without a tenant there are
/// no roles, so no clinical scope survives; `patient/` scopes survive only
/// with a patient in context (`patient`), and `system/` never does in a
/// user's token.
pub fn for_user(
    p: &Provider,
    user_id: &str,
    tenant: Option<&str>,
    scope: &[String],
    patient: bool,
) -> Vec<String> {
    let allowed: &[Compartment] = if patient {
        &[Compartment::User, Compartment::Patient]
    } else {
        &[Compartment::User]
    };
    narrowed(p, user_id, tenant, scope, allowed)
}

/// The scopes a backend client's token carries (SMART Backend Services):
/// each `system/` scope narrowed by the client's own roles (`g,
/// client:<client_id>, role, tenant`) in its registered tenant, as the policy
/// is now. Without a tenant no `system/` scope survives; `patient/` and
/// `user/` never do (there is no user).
pub fn for_client(p: &Provider, client: &Client, scope: &[String]) -> Vec<String> {
    let subject = crate::authz::client_subject(&client.id);
    narrowed(
        p,
        &subject,
        client.tenant.as_deref(),
        scope,
        &[Compartment::System],
    )
}

/// `scope` with each clinical scope of an `allowed` compartment narrowed by
/// what the policy lets `subject` do in `tenant`; clinical scopes of other
/// compartments are dropped, other scopes kept.
fn narrowed(
    p: &Provider,
    subject: &str,
    tenant: Option<&str>,
    scope: &[String],
    allowed: &[Compartment],
) -> Vec<String> {
    if !scope.iter().any(|s| is_clinical(s)) {
        return scope.to_vec();
    }
    let permissions = tenant
        .map(|t| p.policy.permissions(subject, t))
        .unwrap_or_default();
    let policy = Listed::from_permissions(permissions.iter().map(String::as_str));
    let mut out: Vec<String> = Vec::new();
    for token in scope {
        let granted: Vec<String> = match scope::parse(token) {
            Ok(Scope::Clinical(c)) if allowed.contains(&c.compartment) => {
                grant::policy_allows(&c, &policy)
                    .iter()
                    .map(ClinicalScope::to_string)
                    .collect()
            }
            Ok(Scope::Clinical(_)) | Err(_) => Vec::new(),
            Ok(_) => vec![token.clone()],
        };
        for g in granted {
            if !out.contains(&g) {
                out.push(g);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_takes_user_scopes_and_refuses_the_rest_with_a_reason() {
        assert_eq!(registration_refusal("user/*.rs"), None);
        assert_eq!(registration_refusal("ehr:read"), None);
        assert_eq!(registration_refusal("openid"), None);
        let bad = registration_refusal("user/Observation.sr").unwrap();
        assert!(bad.contains("cruds"), "{bad}");
        assert_eq!(registration_refusal("patient/*.rs"), None);
        // Backend Services: the client's kind is checked by manage::clients.
        assert_eq!(registration_refusal("system/*.rs"), None);
    }

    #[test]
    fn a_request_is_narrowed_to_the_registration_or_refused() {
        let client = vec!["openid".to_string(), "user/*.rs".to_string()];
        assert_eq!(
            within_registration("user/Observation.cruds", &client).unwrap(),
            "user/Observation.rs"
        );
        assert_eq!(within_registration("openid", &client).unwrap(), "openid");
        assert!(within_registration("user/Observation.c", &client).is_err());
        assert!(within_registration("patient/Observation.r", &client).is_err());
        let patient_app = vec!["patient/*.rs".to_string()];
        assert_eq!(
            within_registration("patient/Observation.cruds", &patient_app).unwrap(),
            "patient/Observation.rs"
        );
        assert!(
            within_registration("user/Observation.rr", &client)
                .unwrap_err()
                .contains("cruds")
        );
    }
}
