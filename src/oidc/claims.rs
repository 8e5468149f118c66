//! Claims about the user: which standard claims Ward supports, which scope
//! each belongs to (OIDC Core §5.4), their values for a user (§5.1), and the
//! `claims` request parameter (§5.5).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::error::OAuthError;
use crate::domain::InvalidValue;
pub use crate::domain::claims::{ClaimRequest, ClaimsRequest};
use crate::domain::records::{Client, User};

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

/// Whether the client's allow-list (`--claims`, data minimisation: GDPR
/// Art. 5(1)(c)) lets it receive `claim`; without a list, every claim of its
/// scopes may go to it.
pub fn allowed(client: &Client, claim: &str) -> bool {
    client
        .allowed_claims
        .as_ref()
        .is_none_or(|list| list.iter().any(|c| c == claim))
}

/// Whether `client` may ever receive the user claim `claim`: Ward supports
/// it, the client is registered for its scope, and its allow-list has it.
pub fn releasable_to(client: &Client, claim: &str) -> bool {
    scope_of(claim).is_some_and(|s| client.scopes.iter().any(|c| c == s)) && allowed(client, claim)
}

/// Check a claims allow-list for a client registered for `scopes`: each a
/// user claim Ward supports, of a scope the client has; in Ward's order of
/// claims, each once.
pub fn check_allow_list(names: &[String], scopes: &[String]) -> Result<Vec<String>, InvalidValue> {
    for name in names {
        let Some(scope) = scope_of(name) else {
            let known: Vec<&str> = user_claim_names().collect();
            return Err(InvalidValue::new(
                "claims",
                format!("`{name}` is not a claim Ward knows ({})", known.join(", ")),
            ));
        };
        if !scopes.iter().any(|s| s == scope) {
            return Err(InvalidValue::new(
                "claims",
                format!(
                    "`{name}` needs the `{scope}` scope, which the client is not registered for"
                ),
            ));
        }
    }
    Ok(user_claim_names()
        .filter(|c| names.iter().any(|n| n == c))
        .map(str::to_string)
        .collect())
}

/// The user claims a request would share with `client`: those of its
/// `scopes` (§5.4) and those its `claims` parameter names (§5.5), as far as
/// the client may receive them, in Ward's order of claims. This is what the
/// consent page lists and what a consent record keeps.
pub fn shared(client: &Client, scopes: &[String], request: Option<&ClaimsRequest>) -> Vec<String> {
    let asked = |claim: &str| {
        scope_of(claim).is_some_and(|s| scopes.iter().any(|g| g == s))
            || request
                .is_some_and(|r| r.id_token.contains_key(claim) || r.userinfo.contains_key(claim))
    };
    user_claim_names()
        .filter(|c| asked(c) && releasable_to(client, c))
        .map(str::to_string)
        .collect()
}

/// The user claims a consent record covers: those it kept, or for a
/// consent remembered before records kept claims, those of its scopes.
pub fn consented(record: &crate::domain::consent::ConsentRecord) -> Vec<String> {
    match &record.claims {
        Some(list) => list.clone(),
        None => user_claim_names()
            .filter(|c| scope_of(c).is_some_and(|s| record.scopes.iter().any(|g| g == s)))
            .map(str::to_string)
            .collect(),
    }
}

/// A user claim in plain language, for the consent and Connected apps pages.
pub fn describe(claim: &str) -> &'static str {
    match claim {
        "name" => "Your full name",
        "family_name" => "Your family name",
        "given_name" => "Your given name",
        "middle_name" => "Your middle name",
        "preferred_username" => "Your username",
        "birthdate" => "Your date of birth",
        "zoneinfo" => "Your time zone",
        "locale" => "Your language",
        "updated_at" => "When your details last changed",
        "email" => "Your email address",
        "email_verified" => "Whether your email address is verified",
        "phone_number" => "Your phone number",
        "phone_number_verified" => "Whether your phone number is verified",
        "address" => "Your postal address",
        _ => "Another detail about you",
    }
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

/// The claims the granted scopes ask for (§5.4) that the client's
/// allow-list lets it have, with the user's values.
pub fn for_scopes(user: &User, scopes: &[&str], client: &Client) -> Map<String, Value> {
    let mut out = Map::new();
    for (scope, claims) in SCOPE_CLAIMS {
        if scopes.contains(&scope) {
            for claim in claims.iter().filter(|c| allowed(client, c)) {
                if let Some(v) = value(user, claim) {
                    out.insert((*claim).to_string(), v);
                }
            }
        }
    }
    out
}

impl ClaimRequest {
    /// `value` and `values` together, as strings (non-strings are skipped).
    pub fn string_values(&self) -> Vec<String> {
        self.values
            .iter()
            .chain(self.value.iter())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }
}

impl ClaimsRequest {
    /// Parse the parameter's JSON. It must be an object; `userinfo` and
    /// `id_token`, when present, objects whose members are `null` or objects;
    /// `essential` a boolean and `values` an array. Other top-level members
    /// and members of a claim's object are ignored (§5.5, §5.5.1).
    pub fn parse(text: &str) -> Result<Self, OAuthError> {
        let bad = |why: &str| OAuthError::invalid_request(format!("claims: {why}"));
        let parsed: Value = serde_json::from_str(text).map_err(|_| bad("not a JSON object"))?;
        let Value::Object(top) = parsed else {
            return Err(bad("not a JSON object"));
        };
        let mut out = Self::default();
        for (member, target) in [
            ("userinfo", &mut out.userinfo),
            ("id_token", &mut out.id_token),
        ] {
            let requests = match top.get(member) {
                None | Some(Value::Null) => continue,
                Some(Value::Object(o)) => o,
                Some(_) => return Err(bad(&format!("`{member}` must be a JSON object"))),
            };
            for (name, request) in requests {
                let parsed = match request {
                    Value::Null => ClaimRequest::default(),
                    Value::Object(o) => ClaimRequest {
                        essential: match o.get("essential") {
                            None | Some(Value::Null) => false,
                            Some(Value::Bool(b)) => *b,
                            Some(_) => {
                                return Err(bad(&format!(
                                    "`essential` of `{name}` must be true or false"
                                )));
                            }
                        },
                        value: o.get("value").filter(|v| !v.is_null()).cloned(),
                        values: match o.get("values") {
                            None | Some(Value::Null) => Vec::new(),
                            Some(Value::Array(a)) => a.clone(),
                            Some(_) => {
                                return Err(bad(&format!("`values` of `{name}` must be an array")));
                            }
                        },
                    },
                    _ => {
                        return Err(bad(&format!(
                            "the request for `{name}` must be null or a JSON object"
                        )));
                    }
                };
                target.insert(name.clone(), parsed);
            }
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.userinfo.is_empty() && self.id_token.is_empty()
    }

    /// Every claim name asked for, in either place, sorted, without repeats.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .id_token
            .keys()
            .chain(self.userinfo.keys())
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Only the claims Ward can release to this client: supported user
    /// claims whose scope the client is registered for and that its
    /// allow-list has (unknown claims are ignored, §5.5), plus a `sub` with a
    /// value, which names the only user the request may be answered for
    /// (§5.5.1).
    pub fn releasable(mut self, client: &Client) -> Self {
        let keep = |name: &String, r: &ClaimRequest| {
            (name == "sub" && r.value.is_some()) || releasable_to(client, name)
        };
        self.userinfo.retain(|n, r| keep(n, r));
        self.id_token.retain(|n, r| keep(n, r));
        self
    }

    /// The scopes whose claims this request asks for: the user consents to
    /// them as if they had been requested in `scope`.
    pub fn scopes(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for name in self.id_token.keys().chain(self.userinfo.keys()) {
            if let Some(s) = scope_of(name)
                && !out.contains(&s)
            {
                out.push(s);
            }
        }
        out
    }

    /// The user the request must be answered for, from `sub` with a value in
    /// the ID token request (§5.5.1: only a positive answer for that user).
    pub fn required_sub(&self) -> Option<&str> {
        self.id_token.get("sub")?.value.as_ref()?.as_str()
    }
}

/// The claims of one member of a claims request (`id_token` or `userinfo`)
/// that Ward supports and the client may receive (its registration allows the
/// claim's scope, its allow-list the claim), with the user's values. Claims
/// the user has no value for are left out.
pub fn requested(
    user: &User,
    requests: &BTreeMap<String, ClaimRequest>,
    client: &Client,
) -> Map<String, Value> {
    let mut out = Map::new();
    for name in requests.keys() {
        if releasable_to(client, name)
            && let Some(v) = value(user, name)
        {
            out.insert(name.clone(), v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claims_request_is_parsed_into_both_members() {
        let r = ClaimsRequest::parse(
            r#"{"id_token":{"acr":{"essential":true,"values":["phr","aal2"]},"phone_number":null},
                "userinfo":{"given_name":{"essential":true},"email":{"value":"a@b.org"},"nickname":null},
                "other":{"ignored":true}}"#,
        )
        .unwrap();
        assert!(r.id_token["acr"].essential);
        assert_eq!(r.id_token["acr"].string_values(), ["phr", "aal2"]);
        assert_eq!(r.id_token["phone_number"], ClaimRequest::default());
        assert!(r.userinfo["given_name"].essential);
        assert_eq!(r.userinfo["email"].string_values(), ["a@b.org"]);
        assert_eq!(
            r.names(),
            ["acr", "email", "given_name", "nickname", "phone_number"]
        );
    }

    #[test]
    fn malformed_claims_requests_are_refused() {
        for bad in [
            "",
            "not json",
            "[]",
            "\"id_token\"",
            r#"{"id_token":[]}"#,
            r#"{"userinfo":"email"}"#,
            r#"{"userinfo":{"email":true}}"#,
            r#"{"userinfo":{"email":"yes"}}"#,
            r#"{"id_token":{"acr":{"essential":"yes"}}}"#,
            r#"{"id_token":{"acr":{"values":"phr"}}}"#,
        ] {
            let e = ClaimsRequest::parse(bad).unwrap_err();
            assert_eq!(e.code, "invalid_request", "{bad}");
            assert!(
                e.description.starts_with("claims: "),
                "{bad}: {}",
                e.description
            );
        }
        assert!(ClaimsRequest::parse("{}").unwrap().is_empty());
        assert!(
            ClaimsRequest::parse(r#"{"userinfo":null}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn only_supported_claims_the_client_may_receive_are_kept() {
        let r = ClaimsRequest::parse(
            r#"{"id_token":{"phone_number":null,"address":null,"nickname":null,"acr":null,
                            "sub":{"value":"u1"}},
                "userinfo":{"birthdate":null,"email":{"essential":true}}}"#,
        )
        .unwrap();
        let mut client = crate::oidc::testing::public_client();
        client.scopes = ["openid", "profile", "phone"].map(String::from).to_vec();
        let kept = r.clone().releasable(&client);
        assert_eq!(
            kept.id_token.keys().collect::<Vec<_>>(),
            ["phone_number", "sub"]
        );
        assert_eq!(kept.userinfo.keys().collect::<Vec<_>>(), ["birthdate"]);
        assert_eq!(kept.scopes(), ["phone", "profile"]);
        assert_eq!(kept.required_sub(), Some("u1"));
        // An allow-list narrows it further.
        client.allowed_claims = Some(vec!["phone_number".into()]);
        let kept = r.releasable(&client);
        assert_eq!(
            kept.id_token.keys().collect::<Vec<_>>(),
            ["phone_number", "sub"]
        );
        assert!(kept.userinfo.is_empty());
    }

    #[test]
    fn what_is_shared_follows_scopes_the_claims_parameter_and_the_allow_list() {
        let mut client = crate::oidc::testing::public_client();
        let scopes: Vec<String> = ["openid", "email"].map(String::from).to_vec();
        assert_eq!(shared(&client, &scopes, None), ["email", "email_verified"]);
        let r = ClaimsRequest::parse(r#"{"userinfo":{"name":null,"phone_number":null}}"#).unwrap();
        // `phone` is not registered: the phone number is never shared.
        assert_eq!(
            shared(&client, &scopes, Some(&r)),
            ["name", "email", "email_verified"]
        );
        client.allowed_claims = Some(vec!["email".into()]);
        assert_eq!(shared(&client, &scopes, Some(&r)), ["email"]);
    }

    #[test]
    fn allow_lists_name_known_claims_of_registered_scopes() {
        let scopes: Vec<String> = ["openid", "profile", "email"].map(String::from).to_vec();
        let list = |s: &[&str]| s.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_allow_list(&list(&["email", "name", "email"]), &scopes).unwrap(),
            ["name", "email"]
        );
        let e = check_allow_list(&list(&["shoe_size"]), &scopes).unwrap_err();
        assert!(e.message.contains("not a claim Ward knows"), "{e}");
        let e = check_allow_list(&list(&["phone_number"]), &scopes).unwrap_err();
        assert!(e.message.contains("`phone` scope"), "{e}");
        assert!(check_allow_list(&[], &scopes).unwrap().is_empty());
    }

    #[test]
    fn every_supported_claim_has_one_scope() {
        assert_eq!(scope_of("phone_number_verified"), Some("phone"));
        assert_eq!(scope_of("birthdate"), Some("profile"));
        assert_eq!(scope_of("address"), Some("address"));
        assert_eq!(scope_of("picture"), None);
        assert_eq!(scope_of("acr"), None);
    }
}
