//! Claims about the user: which standard claims Ward supports, which scope
//! each belongs to (OIDC Core §5.4), and their values for a user (§5.1).

use serde_json::{Map, Value, json};

use crate::storage::users::User;

/// The claims each scope requests (OIDC Core §5.4), limited to those Ward
/// keeps. `nickname`, `profile`, `picture`, `website` and `gender` are not kept.
pub const SCOPE_CLAIMS: [(&str, &[&str]); 4] = [
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "preferred_username",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("phone", &["phone_number", "phone_number_verified"]),
    ("address", &["address"]),
];

/// The scope whose consent covers a user claim, if Ward supports the claim.
pub fn scope_of(claim: &str) -> Option<&'static str> {
    SCOPE_CLAIMS
        .iter()
        .find(|(_, claims)| claims.contains(&claim))
        .map(|(scope, _)| *scope)
}

/// Every user claim Ward supports, in the order of [`SCOPE_CLAIMS`].
pub fn user_claim_names() -> impl Iterator<Item = &'static str> {
    SCOPE_CLAIMS.iter().flat_map(|(_, c)| c.iter().copied())
}

/// The user's value of a supported claim; `None` when the user has none (a
/// claim without a value is left out, never sent as null, §5.3.2).
pub fn value(user: &User, claim: &str) -> Option<Value> {
    let p = &user.profile;
    let text = |v: &Option<String>| v.as_ref().map(|v| json!(v));
    match claim {
        "name" => text(&user.display_name),
        "given_name" => text(&p.given_name),
        "family_name" => text(&p.family_name),
        "middle_name" => text(&p.middle_name),
        "preferred_username" => Some(json!(user.username)),
        "birthdate" => text(&p.birthdate),
        "zoneinfo" => text(&p.zoneinfo),
        "locale" => text(&p.locale),
        // §5.1: seconds since the epoch.
        "updated_at" => Some(json!(user.updated_at / 1000)),
        "email" => text(&user.email),
        "email_verified" => user.email.as_ref().map(|_| json!(user.email_verified)),
        "phone_number" => text(&p.phone_number),
        "phone_number_verified" => p
            .phone_number
            .as_ref()
            .map(|_| json!(p.phone_number_verified)),
        "address" => p.address.as_ref().map(|a| json!(a)),
        _ => None,
    }
}

/// The claims the granted scopes ask for (§5.4), with the user's values.
pub fn for_scopes(user: &User, scopes: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for (scope, claims) in SCOPE_CLAIMS {
        if scopes.contains(&scope) {
            for claim in claims {
                if let Some(v) = value(user, claim) {
                    out.insert((*claim).to_string(), v);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_claim_has_one_scope() {
        assert_eq!(scope_of("phone_number_verified"), Some("phone"));
        assert_eq!(scope_of("birthdate"), Some("profile"));
        assert_eq!(scope_of("address"), Some("address"));
        assert_eq!(scope_of("picture"), None);
        assert_eq!(scope_of("acr"), None);
    }
}
