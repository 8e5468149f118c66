//! The accounting of disclosures (docs/privacy.md; HIPAA 45 CFR 164.528):
//! what one answer about a person discloses, as a `Disclosure` row.
//! Userinfo and introspection, which write nothing else, hand theirs to
//! `DisclosureStore::disclose` (group-committed, durable before the
//! answer). A token response carries its own in the `token.issued` audit
//! record written with the grant's state change (`TokenDisclosure`), and
//! the audit sealer turns it into the row when it chains that record: one
//! more INSERT in every grant's transaction had cost code exchange 12 % of
//! its throughput (docs/benchmarks.md).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Provider, jwt};
use crate::domain::disclosure::{Disclosure, DisclosureKind};
use crate::domain::{ClientId, UserId};

/// Claims about the token or the protocol exchange rather than the person,
/// left out of a disclosure's claim names. Everything else an answer
/// carries (`sub`, profile claims, `acr`/`amr`/`auth_time`, `sid`, roles,
/// SMART's launch context) is about the person and is named.
const MECHANICS: &[&str] = &[
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "nonce",
    "at_hash",
    "c_hash",
    "client_id",
    "scope",
    "azp",
    "active",
    "token_type",
];

/// The names of the claims about the person in `answers` (JSON objects),
/// sorted and once each.
pub fn claim_names<'a>(answers: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    let names: BTreeSet<&str> = answers
        .into_iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().map(String::as_str))
        .filter(|k| !MECHANICS.contains(k))
        .collect();
    names.into_iter().map(str::to_string).collect()
}

/// The claims of a JWT Ward just signed (its payload, not verified again).
pub fn token_claims(token: &str) -> Value {
    jwt::decode(token).map(|d| d.claims).unwrap_or(Value::Null)
}

/// What is disclosed, to whom.
pub struct Answer<'a> {
    pub kind: DisclosureKind,
    /// The person.
    pub user_id: &'a UserId,
    /// Who received it.
    pub to: &'a ClientId,
    /// The `sub` the receiver saw.
    pub sub: &'a str,
    pub claims: Vec<String>,
    pub scopes: Vec<String>,
    pub tenant: Option<&'a str>,
    /// The client whose consent covers it, when not the receiver.
    pub consent_client: Option<&'a ClientId>,
}

/// The row recording `answer`, now.
pub fn record(p: &Provider, answer: Answer) -> Disclosure {
    Disclosure {
        // Hex (a page's cursor is `disclosed_at.id`), time-ordered.
        id: Disclosure::new_id(p.now),
        disclosed_at: p.now,
        user_id: answer.user_id.clone(),
        client_id: answer.to.clone(),
        sub: answer.sub.to_string(),
        kind: answer.kind,
        claims: answer.claims,
        scopes: answer.scopes,
        consent_id: None,
        tenant: answer.tenant.map(str::to_string),
        consent_client: answer.consent_client.filter(|c| *c != answer.to).cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_claims_about_the_person_only() {
        let id = json!({"iss": "x", "sub": "s", "aud": "c", "email": "a@b", "nonce": "n", "amr": ["pwd"]});
        let at = json!({"sub": "s", "scope": "openid", "roles": [], "jti": "j"});
        assert_eq!(claim_names([&id, &at]), ["amr", "email", "roles", "sub"]);
        assert!(claim_names([&Value::Null]).is_empty());
    }
}
